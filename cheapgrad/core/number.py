"""The counted number: a float64 scalar that records every op it executes.

Each operator, comparison and elementary function on a :class:`Num` adds one to the
active tally (set by :meth:`cheapgrad.core.counter.Counter.scope`; ops outside any scope
are not counted), in its op's slot of the op table (:mod:`cheapgrad.core.ops`). A number
knows exactly whether it depends on the independent variables (``dep``): a :func:`var`
does, a :func:`const` or a plain Python number does not, an op's result does when an
operand does; each op's ``nonscalar`` policy says when an execution is nonscalar in Baur
and Strassen's sense, tallied again in the nonscalar slots. Inside :func:`tracing` every
result records its op and operands (``parents``), the circuit reverse mode walks.

The operator methods of :class:`Num`, the hot path, are written out with their slot, op
and nonscalar policy from the table (checked on import); every other op goes through the
generic :func:`apply`, and :func:`exp`, :func:`log`, :func:`tanh`, :func:`sin`,
:func:`cos` and :func:`sqrt` are generated from their registrations.

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

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from cheapgrad.core import ops as _ops
from cheapgrad.core.complexfns import on_complex
from cheapgrad.core.ops import N_OPS, TALLY_SIZE, Op
from cheapgrad.errors import DomainError

_ADD = _ops.ADD.index
_SUB = _ops.SUB.index
_MUL = _ops.MUL.index
_DIV = _ops.DIV.index
_NEG = _ops.NEG.index
_CMP = _ops.CMP.index
_NS_MUL = N_OPS + _MUL
_NS_DIV = N_OPS + _DIV

# The active tally, read by every op as a plain global. Rebound only by Counter.scope
# (which sets this module's attribute); the default one is never read.
_tally: list[int] = [0] * TALLY_SIZE
# Whether results record their op and parents (see tracing()).
_tracing: bool = False

_new = object.__new__


class Num:
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

    def __float__(self) -> float:
        return self.v

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
        _tally[_ADD] += 1
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
        _tally[_SUB] += 1
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
        t = _tally
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
        t = _tally
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
        _tally[_NEG] += 1
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

    def __pos__(self) -> Num:
        return self

    def __pow__(self, other: Any) -> Num:
        """``x ** n`` for an integer constant ``n``: one ``pow`` op."""
        n = other.v if type(other) is Num else other
        if type(other) is Num and other.dep:
            raise TypeError("the exponent of ** must be a constant integer")
        if not float(n).is_integer():
            raise TypeError(f"the exponent of ** must be an integer, got {n!r}")
        return apply(_ops.POW, self, int(n))

    def _other(self, other: Any) -> float:
        if type(other) is not Num:
            other = _coerce(other)
        _tally[_CMP] += 1
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


# Each written-out method's inlined policy must be its op's (tests/test_ops_table.py).
_INLINED_POLICIES = ((_ops.ADD, _ops.never), (_ops.SUB, _ops.never), (_ops.NEG, _ops.never),
                     (_ops.MUL, _ops.if_both_depend), (_ops.DIV, _ops.if_divisor_depends),
                     (_ops.CMP, _ops.never))
for _op, _policy in _INLINED_POLICIES:
    if _op.nonscalar is not _policy:
        raise ImportError(f"op {_op.name!r}: the table's nonscalar policy is not the "
                          f"{_policy.__name__} that Num's method inlines; change both")
del _op, _policy


def _coerce(x: Any) -> Num:
    """A plain Python number in mixed arithmetic is a constant."""
    if type(x) is float:
        r = _new(Num)
        r.v = x
        r.dep = False
        r.op = None
        r.parents = ()
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
    t = _tally
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


def _counted_function(name: str) -> Callable[[Any], Num]:
    """The counted function of unary op ``name``, its docstring made from the op's."""
    op = _ops.FUNCTIONS[name]

    def fn(x: Any) -> Any:  # a plain complex number (the complex-step check): uncounted
        return on_complex(name, x) if type(x) is complex else apply(op, x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"""Counted {op.summary} (one ``{name}``).

    >>> from cheapgrad.core.counter import Counter
    >>> from cheapgrad.core.number import {name}, var
    >>> c = Counter()
    >>> with c.scope("forward"):
    ...     y = {name}(var(2.0))
    >>> round(y.v, 6), c.totals().nonzero()
    ({round(op.forward(2.0), 6)!r}, {{'{name}': 1}})
    """
    return fn


exp = _counted_function("exp")
log = _counted_function("log")
tanh = _counted_function("tanh")
sin = _counted_function("sin")
cos = _counted_function("cos")
sqrt = _counted_function("sqrt")


def count(kind: str, n: int, nonscalar: int = 0) -> None:
    """Add ``n`` ops of ``kind`` to the active tally in one step, ``nonscalar`` of them
    nonscalar: for engines that count many ops at once (a mat-vec by its shape).

    >>> from cheapgrad.core.counter import Counter
    >>> c = Counter()
    >>> with c.scope("forward"):
    ...     count("mul", 12, nonscalar=4)
    >>> c.totals().counts["mul"], c.totals().nonscalar["mul"]
    (12, 4)
    """
    k = _ops.OPS[kind].index
    t = _tally
    t[k] += n
    if nonscalar:
        t[N_OPS + k] += nonscalar


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a block of counted work: counted
    numbers form no cycles, and millions of them make the collector run constantly.

    >>> import gc
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def tracing() -> Iterator[None]:
    """Record op and parents on every result made inside this block.

    >>> x = var(2.0)
    >>> with tracing():
    ...     y = x * x
    >>> y.op.name, y.parents == (x, x), (x * x).op
    ('mul', True, None)
    """
    global _tracing
    previous = _tracing
    _tracing = True
    try:
        yield
    finally:
        _tracing = previous
