"""Where the counted numbers count, per thread, and the exits from the counted world.

**The active tally is per thread.** Every counted op adds one to the tally of its own
thread's innermost :meth:`cheapgrad.core.counter.Counter.scope`, read from
:data:`TALLY`, a :class:`contextvars.ContextVar` (each thread, and each asyncio task,
has its own); a thread outside any scope counts into :data:`OUTSIDE`, which nothing
reads. Two threads counting at once therefore never mix
their counts (one counter per thread: two threads adding to one bucket at the same time
may lose increments, as any shared Python list would).

Why a ``ContextVar`` and not the module global it replaced: a global rebound by the
scopes is shared by every thread, so a second thread's scope redirected the first
thread's ops, and any fast path keyed on "only one thread is counting" still miscounts
the ops of a thread that computes outside a scope while another counts. Of the exact
designs, ``ContextVar.get`` (cached per thread, measured at about 10 ns per op over a
global read) is several times cheaper than a ``threading.local`` attribute (about 40
ns); the scopes pay for it on entry and exit instead (BENCHMARKS.md has the figures).

**Inside a counting scope** means: this thread is inside a counter's scope or inside
:func:`cheapgrad.core.number.tracing`. There every way out of the counted world that
would compute with a number's value uncounted raises :class:`UncountedOperation`:
``float()`` (and so ``math.tanh``, ``math.exp``, ``numpy.float64``… which call it),
``int()``, ``round()``, ``math.trunc/floor/ceil``, truth tests (``if x:``), formatting
with a format spec (``f"{x:.3f}"``) and numpy functions cheapgrad does not count.
Outside a scope they read the value (``float(x) == x.v``), so engines and reports keep
working; code of the package reads ``.v``, the one explicit, uncounted read.

Example::

    >>> from cheapgrad.core.counter import Counter
    >>> from cheapgrad.core.number import var
    >>> import math
    >>> x, c = var(0.5), Counter()
    >>> try:
    ...     with c.scope("forward"):
    ...         math.tanh(x)
    ... except UncountedOperation as exc:
    ...     print(str(exc)[:72])
    float() of a counted number inside a counting scope would leave the coun
    >>> round(math.tanh(x), 4), counting()
    (0.4621, False)
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from cheapgrad.core.ops import TALLY_SIZE
from cheapgrad.errors import CheapgradError

#: The tally of a thread outside any scope: written by its ops, never read.
OUTSIDE: list[int] = [0] * TALLY_SIZE


class UncountedOperation(CheapgradError, TypeError):
    """A counted number was about to leave the counted world inside a counting scope
    (its value used by code that cheapgrad cannot count)."""


Stack = tuple[list[int], "Stack"] | None

#: The active tally of this thread (of this context: an asyncio task counts apart too).
TALLY: ContextVar[list[int]] = ContextVar("cheapgrad_tally", default=OUTSIDE)
# The tallies of the enclosing scopes, as an immutable linked list (a context copied
# into a task must not share a mutable stack with its parent).
_STACK: ContextVar[Stack] = ContextVar("cheapgrad_scopes", default=None)
# How deep this thread is in tracing().
TRACING: ContextVar[int] = ContextVar("cheapgrad_tracing", default=0)


def push(tally: list[int]) -> None:
    """Make ``tally`` this thread's active tally (a scope's entry)."""
    _STACK.set((TALLY.get(), _STACK.get()))
    TALLY.set(tally)


def pop() -> None:
    """Restore the active tally before the last :func:`push` (a scope's exit)."""
    stack = _STACK.get()
    assert stack is not None, "pop() without push()"
    TALLY.set(stack[0])
    _STACK.set(stack[1])


def counting() -> bool:
    """Whether this thread is inside a counting scope: a counter's scope or tracing.

    >>> counting()
    False
    """
    return TALLY.get() is not OUTSIDE or TRACING.get() > 0


def refuse(what: str, instead: str) -> None:
    """Raise :class:`UncountedOperation` when counting: ``what`` would leave the counted
    world, ``instead`` says what to use."""
    if counting():
        raise UncountedOperation(
            f"{what} of a counted number inside a counting scope would leave the counted "
            f"world{instead}")


_USE = ": use cheapgrad's counted functions (cheapgrad.tanh, exp, log, sin, cos, sqrt)"
_FLOAT = (" (math.tanh, math.exp... and numpy call it)" + _USE
          + ", or read x.v outside the scope")
_CMP = ": compare explicitly (x > 0 counts one cmp)"

#: numpy calls a method of each element for these functions on an object array of
#: counted numbers; none is an op of the table, so each refuses, in or out of a scope.
NUMPY_UNCOUNTED = (
    "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctanh", "tan", "cosh", "sinh",
    "exp2", "expm1", "log2", "log10", "log1p", "cbrt", "rint", "deg2rad", "rad2deg",
    "radians", "degrees", "arctan2", "hypot", "fmod",
)


def _numpy_refusal(name: str) -> Any:
    def method(self: Any, *args: Any) -> Any:
        raise UncountedOperation(f"numpy's {name} on a counted number is not an op cheapgrad "
                                 f"counts{_USE}, written with + - * / and **")

    method.__name__ = name
    return method


class Exits:
    """The exits from the counted world, as methods of the counted number
    (:class:`cheapgrad.core.number.Num` derives from this class): each refuses inside
    a counting scope and reads the value outside one."""

    __slots__ = ()
    v: float

    def __float__(self) -> float:
        refuse("float()", _FLOAT)
        return self.v

    def __int__(self) -> int:
        refuse("int()", _FLOAT)
        return int(self.v)

    def __trunc__(self) -> int:
        refuse("math.trunc()", _FLOAT)
        return int(self.v)

    def __round__(self, ndigits: int | None = None) -> float | int:
        refuse("round()", _FLOAT)
        return round(self.v, ndigits)

    def __bool__(self) -> bool:
        refuse("a truth test (if x:, x and y)", _CMP)
        return self.v != 0.0

    def __format__(self, spec: str) -> str:
        if not spec:
            return repr(self)
        refuse(f"formatting ({spec!r})", ": format x.v, the explicit uncounted read")
        return format(self.v, spec)


for _name in NUMPY_UNCOUNTED:
    setattr(Exits, _name, _numpy_refusal(_name))
del _name
