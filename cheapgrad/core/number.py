"""The counted number: a float64 scalar that records every op it executes.

Each operator, comparison and elementary function on a :class:`Num` adds one to its
thread's active tally (:mod:`cheapgrad.core.state`), in its op's slot of the op table
(:mod:`cheapgrad.core.ops`). A number knows whether it depends on the independent
variables (``dep``): a :func:`var` does, a :func:`const` or a plain Python number does
not, an op's result does when an operand does; each op's ``nonscalar`` policy says when
an execution is nonscalar in Baur and Strassen's sense, tallied again in the nonscalar
slots. Inside :func:`tracing` every
result records its op and operands (``parents``), the circuit reverse mode walks.

The operators of :class:`Num` (``**`` included) and the elementary functions
(:mod:`cheapgrad.core.functions`), the hot path, are written out with their slot, op and
nonscalar policy from the table (checked on import); other ops go through :func:`apply`.
Inside a counting scope a number refuses to leave the counted world (``float()``,
``math.*``…: :class:`cheapgrad.core.state.Exits`).

Example::

    >>> from cheapgrad.core.counter import Counter
    >>> c = Counter()
    >>> x = var(3.0)
    >>> with c.scope("forward"):
    ...     y = 2 * x * x - 1.0
    >>> y.v, c.totals().counts["mul"], c.totals().counts["sub"]
    (17.0, 2, 1)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from cheapgrad.core import ops as _ops
from cheapgrad.core.ops import N_OPS, Op
from cheapgrad.core.state import TALLY, TRACING, Exits
from cheapgrad.errors import DomainError

_ADD = _ops.ADD.index
_SUB = _ops.SUB.index
_MUL = _ops.MUL.index
_DIV = _ops.DIV.index
_NEG = _ops.NEG.index
_CMP = _ops.CMP.index
_NS_MUL = N_OPS + _MUL
_NS_DIV = N_OPS + _DIV
_POW = _ops.POW.index
_NS_POW = N_OPS + _POW

# Every op adds to its thread's active tally, ``_tally()`` (see cheapgrad.core.state).
_tally = TALLY.get
# Whether results record their op and parents: true while any thread is in tracing()
# (a result of another thread then records its parents too, which changes no count).
_tracing: bool = False
_tracing_threads = 0
_tracing_lock = threading.Lock()

_new = object.__new__


class Num(Exits):
    """A counted float64 scalar.

    Attributes: ``v`` the float value, ``dep`` whether it depends on the independent
    variables, ``op`` the op that made it and ``parents`` its operands (both recorded
    only while tracing; a leaf has ``op = None`` and ``parents = ()``).
    """

    __slots__ = ("v", "dep", "op", "parents")

    v: float
    dep: bool
    op: Op | None
    parents: tuple[Num, ...]

    def __init__(self, v: float, dep: bool = False) -> None:
        self.v = float(v)
        self.dep = dep
        self.op = None
        self.parents = ()

    def __repr__(self) -> str:
        kind = "var" if self.dep else "const"
        return f"Num({self.v!r}, {kind})"

    def apply(self, op: Op, *others: Any) -> Num:
        """``apply(op, self, *others)``: how the op table's derivative rules apply an
        elementary function to their operands without importing this module.

        >>> from cheapgrad.core.ops import OPS
        >>> var(0.0).apply(OPS["cos"])
        Num(1.0, var)
        """
        return apply(op, self, *others)

    # Written out, not generated: the hot path. Each counts, computes the float, records
    # the node when tracing, and inlines its op's nonscalar policy (_INLINED_POLICIES).
    def __add__(self, other: Any) -> Num:
        if type(other) is not Num:
            other = _coerce(other)
        _tally()[_ADD] += 1
        r = _new(Num)
        r.v = self.v + other.v
        r.dep = self.dep or other.dep
        if _tracing:
            r.op = _ops.ADD
            r.parents = (self, other)
        else:
            r.op = None
            r.parents = ()
        return r

    def __radd__(self, other: Any) -> Num:
        return _coerce(other).__add__(self)

    def __sub__(self, other: Any) -> Num:
        if type(other) is not Num:
            other = _coerce(other)
        _tally()[_SUB] += 1
        r = _new(Num)
        r.v = self.v - other.v
        r.dep = self.dep or other.dep
        if _tracing:
            r.op = _ops.SUB
            r.parents = (self, other)
        else:
            r.op = None
            r.parents = ()
        return r

    def __rsub__(self, other: Any) -> Num:
        return _coerce(other).__sub__(self)

    def __mul__(self, other: Any) -> Num:
        if type(other) is not Num:
            other = _coerce(other)
        t = _tally()
        t[_MUL] += 1
        r = _new(Num)
        r.v = self.v * other.v
        if self.dep:
            if other.dep:
                t[_NS_MUL] += 1
            r.dep = True
        else:
            r.dep = other.dep
        if _tracing:
            r.op = _ops.MUL
            r.parents = (self, other)
        else:
            r.op = None
            r.parents = ()
        return r

    def __rmul__(self, other: Any) -> Num:
        return _coerce(other).__mul__(self)

    def __truediv__(self, other: Any) -> Num:
        if type(other) is not Num:
            other = _coerce(other)
        if other.v == 0.0:
            raise DomainError("div", (self.v, other.v), "division by zero")
        t = _tally()
        t[_DIV] += 1
        r = _new(Num)
        r.v = self.v / other.v
        if other.dep:
            t[_NS_DIV] += 1
            r.dep = True
        else:
            r.dep = self.dep
        if _tracing:
            r.op = _ops.DIV
            r.parents = (self, other)
        else:
            r.op = None
            r.parents = ()
        return r

    def __rtruediv__(self, other: Any) -> Num:
        return _coerce(other).__truediv__(self)

    def __neg__(self) -> Num:
        _tally()[_NEG] += 1
        r = _new(Num)
        r.v = -self.v
        r.dep = self.dep
        if _tracing:
            r.op = _ops.NEG
            r.parents = (self,)
        else:
            r.op = None
            r.parents = ()
        return r

    def __pos__(self) -> Num:  # no op
        return self

    def __pow__(self, other: Any) -> Num:
        """``x ** n``, n a constant integer: one ``pow``, nonscalar by repeated squaring."""
        if type(other) is not int:
            other = _exponent(other)
        try:
            v = self.v ** float(other)
        except (OverflowError, ZeroDivisionError) as exc:
            raise DomainError("pow", (self.v, float(other)), str(exc)) from None
        t = _tally()
        t[_POW] += 1
        r = _new(Num)
        r.v = v
        if self.dep:
            chain = _CHAINS.get(other)
            if chain is None:
                chain = _CHAINS[other] = _ops.power_chain(other)
            t[_NS_POW] += chain
            r.dep = True
        else:
            r.dep = False
        if _tracing:
            r.op = _ops.POW
            r.parents = (self, const(other))
        else:
            r.op = None
            r.parents = ()
        return r

    def __rpow__(self, other: Any) -> Num:
        """``c ** x`` for a constant ``c > 0``: ``exp(x * log(c))``, three counted ops."""
        c = _coerce(other)
        if not c.v > 0.0:
            raise DomainError("pow", (c.v, self.v), "c ** x needs a constant c > 0 (it is "
                              "counted as exp(x * log(c)))")
        return apply(_ops.EXP, self * apply(_ops.LOG, c))

    def __abs__(self) -> Num:
        """``abs(x)``: a counted selection, one ``cmp`` and a ``neg`` when x < 0."""
        return -self if self < 0.0 else self

    def _other(self, other: Any) -> float:
        if type(other) is not Num:
            other = _coerce(other)
        _tally()[_CMP] += 1
        return other.v

    # Comparisons count one ``cmp`` each and return a plain bool (no derivative).
    def __gt__(self, other: Any) -> bool:
        return self.v > self._other(other)

    def __lt__(self, other: Any) -> bool:
        return self.v < self._other(other)

    def __ge__(self, other: Any) -> bool:
        return self.v >= self._other(other)

    def __le__(self, other: Any) -> bool:
        return self.v <= self._other(other)

    __hash__ = object.__hash__


_CHAINS: dict[int, int] = {}


def _exponent(n: Any) -> int:
    """The integer of a constant exponent, or a TypeError saying what ** accepts."""
    if type(n) is Num:
        if n.dep:
            raise TypeError("the exponent of ** must be a constant integer (for x ** y "
                            "write exp(y * log(x)))")
        n = n.v
    if isinstance(n, bool) or not isinstance(n, (int, float)) or not float(n).is_integer():
        raise TypeError(f"the exponent of ** must be an integer, got {n!r} (sqrt(x) is "
                        "counted; x ** y is exp(y * log(x)))")
    return int(n)


# Each written-out method's inlined policy must be its op's (tests/test_ops_table.py).
_INLINED_POLICIES = ((_ops.ADD, _ops.never), (_ops.SUB, _ops.never), (_ops.NEG, _ops.never),
                     (_ops.MUL, _ops.if_both_depend), (_ops.DIV, _ops.if_divisor_depends),
                     (_ops.CMP, _ops.never), (_ops.POW, _ops.by_repeated_squaring))
for _op, _policy in _INLINED_POLICIES:
    if _op.nonscalar is not _policy:
        raise ImportError(f"op {_op.name!r}: the table's nonscalar policy is not the "
                          f"{_policy.__name__} that Num's method inlines; change both")
del _op, _policy


def _coerce(x: Any) -> Num:
    """A plain Python number in mixed arithmetic is a constant."""
    if type(x) is float:
        r = _new(Num)
        r.v, r.dep, r.op, r.parents = x, False, None, ()
        return r
    if isinstance(x, Num):
        return x
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"cannot use {type(x).__name__} in counted arithmetic")
    return const(x)


def const(v: float) -> Num:
    """A counted constant: it does not depend on the independent variables.

    >>> const(2.0), (const(2.0) * 3.0).dep
    (Num(2.0, const), False)
    """
    r = _new(Num)
    r.v = float(v)
    r.dep = False
    r.op = None
    r.parents = ()
    return r


def var(v: float) -> Num:
    """An independent variable: a leaf that the gradient is taken with respect to.

    >>> var(2.0), (var(2.0) * 3.0).dep
    (Num(2.0, var), True)
    """
    r = _new(Num)
    r.v = float(v)
    r.dep = True
    r.op = None
    r.parents = ()
    return r


def apply(op: Op, *args: Any) -> Num:
    """Apply any registered op to counted numbers (the generic, slower path), reading
    everything, the nonscalar policy included, from the op's registration. Raises
    :class:`~cheapgrad.errors.DomainError` when the float function fails.

    >>> from cheapgrad.core.ops import OPS
    >>> y = apply(OPS["pow"], var(3.0), 2)
    >>> y.v, y.dep
    (9.0, True)
    """
    nums = tuple(a if type(a) is Num else _coerce(a) for a in args)
    try:
        value = op.forward(*(a.v for a in nums))
    except (ValueError, OverflowError, ZeroDivisionError) as exc:
        raise DomainError(op.name, tuple(a.v for a in nums), str(exc)) from None
    if isinstance(value, complex):
        raise DomainError(op.name, tuple(a.v for a in nums), "complex result")
    t = _tally()
    t[op.index] += 1
    r = _new(Num)
    r.v = float(value)
    r.dep = any(a.dep for a in nums)
    if op.nonscalar is not _ops.never:
        t[N_OPS + op.index] += op.nonscalar(nums)
    if _tracing:
        r.op = op
        r.parents = nums
    else:
        r.op = None
        r.parents = ()
    return r


def _method(op: Op) -> Callable[[Num], Num]:
    def method(self: Num) -> Num:
        return apply(op, self)

    method.__name__ = op.name
    return method


# numpy's functions on object arrays call a method of each element (x.tanh()).
for _op in _ops.FUNCTIONS.values():
    setattr(Num, _op.name, _method(_op))
del _op


@contextmanager
def tracing() -> Iterator[None]:
    """Record op and parents on every result made inside this block.

    >>> x = var(2.0)
    >>> with tracing():
    ...     y = x * x
    >>> y.op.name, y.parents == (x, x), (x * x).op
    ('mul', True, None)
    """
    global _tracing, _tracing_threads
    with _tracing_lock:
        token = TRACING.set(TRACING.get() + 1)
        _tracing_threads += TRACING.get() == 1
        _tracing = True
    try:
        yield
    finally:
        with _tracing_lock:
            _tracing_threads -= TRACING.get() == 1
            TRACING.reset(token)
            _tracing = _tracing_threads > 0
