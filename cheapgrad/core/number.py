"""The counted number: a float64 scalar that records every op it executes.

Each arithmetic operator, comparison and elementary function on a :class:`Num` adds one
to the active tally, the slot of that op in the op table (:mod:`cheapgrad.core.ops`). Which
tally is active is set by :meth:`Counter.scope`, a context manager labelled with a phase
(``forward``, ``loss``, ``backward``, ...), an optional layer and an optional part, so
counts are scoped and two runs in one process never mix. Ops executed outside any scope
are not counted.

A number also knows whether it depends on the independent variables (``dep``), exactly:
a leaf made with :func:`var` does, a constant (:func:`const`, or a plain Python number in
mixed arithmetic) does not, and an op's result does when any operand does. A mul whose
operands both depend, and a div whose divisor depends, is *nonscalar* in Baur and
Strassen's sense and is tallied a second time in the nonscalar slots.

Inside :func:`tracing`, every result also records its op and its operands (``parents``,
a tuple), which is the circuit that reverse mode walks backward.

Example::

    >>> from cheapgrad.core.number import Counter, var
    >>> c = Counter()
    >>> x = var(3.0)
    >>> with c.scope("forward"):
    ...     y = 2 * x * x - 1.0
    >>> y.v, c.totals().counts["mul"], c.totals().counts["sub"]
    (17.0, 2, 1)
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cheapgrad.core import ops as _ops
from cheapgrad.core.ops import N_OPS, OP_NAMES, Op
from cheapgrad.errors import DomainError

_ADD = _ops.ADD.index
_SUB = _ops.SUB.index
_MUL = _ops.MUL.index
_DIV = _ops.DIV.index
_NEG = _ops.NEG.index
_POW = _ops.POW.index
_CMP = _ops.CMP.index
#: The op kinds with a nonscalar tally: a mul of two operands that depend on the
#: variables, a div whose divisor does, and x**n of a dependent x (see power_chain).
NONSCALAR_KINDS = ("mul", "div", "pow")
_NS_MUL = N_OPS + _MUL
_NS_DIV = N_OPS + _DIV
_INDEX = {name: i for i, name in enumerate(OP_NAMES)}

Key = tuple[str, Any, Any]


_ZERO_TALLY: list[int] = [0] * (2 * N_OPS)


def _new_tally() -> list[int]:
    return _ZERO_TALLY.copy()


# The active tally. Rebound only by Counter.scope (and restored on exit); the default
# one collects ops executed outside any scope and is never read.
_tally: list[int] = _new_tally()
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

    # The arithmetic methods are written out (not generated) because they are the hot
    # path: each one counts, computes the float, and records the node when tracing.

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
        # Baur and Strassen: a quotient is nonscalar when its divisor is not a constant
        # (1/x is), a product when neither factor is.
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
    """A counted constant: it does not depend on the independent variables."""
    r = _new(Num)
    r.v = float(v)
    r.dep = False
    r.op = None
    r.parents = ()
    return r


def var(v: float) -> Num:
    """An independent variable: a leaf that the gradient is taken with respect to."""
    r = _new(Num)
    r.v = float(v)
    r.dep = True
    r.op = None
    r.parents = ()
    return r


def apply(op: Op, *args: Any) -> Num:
    """Apply any registered op to counted numbers (the generic, slower path).

    Used for the elementary functions and integer powers. Raises
    :class:`~cheapgrad.errors.DomainError` when the float function fails (log of a
    negative number, overflow, ...).
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
    if op is _ops.POW and nums[0].dep:
        t[N_OPS + _POW] += power_chain(int(nums[1].v))
    if _tracing:
        r.op = op
        r.parents = nums
    else:
        r.op = None
        r.parents = ()
    return r


def power_chain(n: int) -> int:
    """Nonscalar operations of x**n in Baur and Strassen's model: the multiplications of
    repeated squaring, ⌊log2 |n|⌋ + popcount(|n|) − 1, and for n < 0 one division."""
    m = abs(n)
    if m <= 1:
        return 1 if n < 0 else 0
    return m.bit_length() - 1 + bin(m).count("1") - 1 + (1 if n < 0 else 0)


def exp(x: Any) -> Num:
    """Counted e**x (one ``exp``)."""
    return apply(_ops.EXP, x)


def log(x: Any) -> Num:
    """Counted natural logarithm (one ``log``)."""
    return apply(_ops.LOG, x)


def tanh(x: Any) -> Num:
    """Counted hyperbolic tangent (one ``tanh``)."""
    return apply(_ops.TANH, x)


def sin(x: Any) -> Num:
    """Counted sine (one ``sin``)."""
    return apply(_ops.SIN, x)


def cos(x: Any) -> Num:
    """Counted cosine (one ``cos``)."""
    return apply(_ops.COS, x)


def sqrt(x: Any) -> Num:
    """Counted square root (one ``sqrt``)."""
    return apply(_ops.SQRT, x)


def count(kind: str, n: int, nonscalar: int = 0) -> None:
    """Add ``n`` ops of ``kind`` to the active tally in one step.

    For engines that execute many ops at once (a vectorized engine counts a whole
    mat-vec by its shape); ``nonscalar`` of them are also tallied as nonscalar.
    """
    k = _INDEX[kind]
    t = _tally
    t[k] += n
    if nonscalar:
        t[N_OPS + k] += nonscalar


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a block of counted work.

    Millions of small objects make the collector run constantly; counted numbers form no
    cycles, so pausing it changes no result and saves most of the time.
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
    """Record op and parents on every result made inside this block."""
    global _tracing
    previous = _tracing
    _tracing = True
    try:
        yield
    finally:
        _tracing = previous


def is_tracing() -> bool:
    """Whether results currently record their op and parents."""
    return _tracing


@dataclass(frozen=True)
class OpCounts:
    """Op counts by kind (all registered kinds, zeros included) and, for mul, div and
    pow, the nonscalar operations among them (:data:`NONSCALAR_KINDS`)."""

    counts: dict[str, int]
    nonscalar: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_tally(cls, tally: list[int]) -> OpCounts:
        counts = {name: tally[i] for i, name in enumerate(OP_NAMES)}
        nonscalar = {
            name: tally[N_OPS + i] for i, name in enumerate(OP_NAMES) if name in NONSCALAR_KINDS
        }
        return cls(counts, nonscalar)

    @classmethod
    def zero(cls) -> OpCounts:
        return cls.from_tally(_new_tally())

    @property
    def total(self) -> int:
        """Unit cost: every op counts one."""
        return sum(self.counts.values())

    def __add__(self, other: OpCounts) -> OpCounts:
        return OpCounts(
            {k: v + other.counts.get(k, 0) for k, v in self.counts.items()},
            {k: v + other.nonscalar.get(k, 0) for k, v in self.nonscalar.items()},
        )

    def nonzero(self) -> dict[str, int]:
        """The kinds with a non-zero count, in op-table order."""
        return {k: v for k, v in self.counts.items() if v}


class _Scope:
    """The context manager of :meth:`Counter.scope`: a class, made once per bucket and
    reused, because engines that count whole arrays open thousands of scopes and a
    generator-based one costs several times more to enter."""

    __slots__ = ("counter", "key", "stack")

    def __init__(self, counter: Counter, key: Key) -> None:
        self.counter = counter
        self.key = key
        self.stack: list[list[int]] = []

    def __enter__(self) -> None:
        global _tally
        buckets = self.counter.buckets
        bucket = buckets.get(self.key)
        if bucket is None:
            bucket = buckets[self.key] = _ZERO_TALLY.copy()
        self.stack.append(_tally)
        _tally = bucket

    def __exit__(self, *exc: object) -> None:
        global _tally
        _tally = self.stack.pop()


class Counter:
    """Collects op counts in buckets keyed by ``(phase, layer, part)``.

    Example::

        counter = Counter()
        with counter.scope("forward", layer=1, part="matvec"):
            ...
        counter.totals(phase="forward").total
    """

    def __init__(self) -> None:
        self.buckets: dict[Key, list[int]] = {}
        self._scopes: dict[Key, _Scope] = {}

    def scope(self, phase: str, layer: Any = None, part: Any = None) -> _Scope:
        """Count every op executed inside the block into bucket (phase, layer, part)."""
        key = (phase, layer, part)
        scope = self._scopes.get(key)
        if scope is None:
            scope = self._scopes[key] = _Scope(self, key)
        return scope

    #: Alias: ``with counter.phase("forward"):``.
    phase = scope

    def totals(self, phase: str | None = None, layer: Any = None, part: Any = None) -> OpCounts:
        """Sum the buckets that match every label given (``None`` matches any)."""
        acc = _new_tally()
        for (p, lay, prt), tally in self.buckets.items():
            if phase is not None and p != phase:
                continue
            if layer is not None and lay != layer:
                continue
            if part is not None and prt != part:
                continue
            for i, n in enumerate(tally):
                acc[i] += n
        return OpCounts.from_tally(acc)

    def keys(self) -> list[Key]:
        """The bucket keys in the order they were first used."""
        return list(self.buckets)


def value(x: Any) -> float:
    """The float value of a counted number or a plain number."""
    return x.v if isinstance(x, Num) else float(x)


def isfinite(x: Num) -> bool:
    """Whether a counted number holds a finite value (not counted: a check, not an op)."""
    return math.isfinite(x.v)
