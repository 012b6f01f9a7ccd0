"""Where the counted numbers count, per thread, and the exits from the counted world.

**The active tally is per thread.** Every counted op adds one to the tally of its own
thread's innermost :meth:`cheapgrad.core.counter.Counter.scope`, read from
:data:`STATE`, a :class:`threading.local`; a thread outside any scope counts into
:data:`OUTSIDE`, which nothing reads. Two threads counting at once therefore never mix
their counts (one counter per thread: two threads adding to one bucket at the same time
may lose increments, as any shared Python list would).

Why a ``threading.local`` and not the module global it replaced: a global rebound by
the scopes is a few tens of nanoseconds cheaper per op (one attribute read fewer), but
it is shared by every thread, so a second thread's scope redirects the first thread's
ops; any fast path keyed on "only one thread is counting" still miscounts the ops of a
thread that computes outside a scope while another counts. The measured cost of the
exact design is in BENCHMARKS.md (a few percent of the scalar engine's time, paid back
by the fast elementary functions and powers of :mod:`cheapgrad.core.number`).

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

import threading
from typing import Any

from cheapgrad.core.ops import TALLY_SIZE
from cheapgrad.errors import CheapgradError

#: The tally of a thread outside any scope: written by its ops, never read.
OUTSIDE: list[int] = [0] * TALLY_SIZE


class UncountedOperation(CheapgradError, TypeError):
    """A counted number was about to leave the counted world inside a counting scope
    (its value used by code that cheapgrad cannot count)."""


class _ThreadState(threading.local):
    """One thread's counting state: ``tally`` (the active tally), ``stack`` (the
    tallies of the enclosing scopes) and ``tracing`` (how deep in ``tracing()``)."""

    tally: list[int]
    stack: list[list[int]]
    tracing: int

    def __init__(self) -> None:
        self.tally = OUTSIDE
        self.stack = []
        self.tracing = 0


#: This thread's counting state (see :class:`_ThreadState`).
STATE = _ThreadState()


def counting() -> bool:
    """Whether this thread is inside a counting scope: a counter's scope or tracing.

    >>> counting()
    False
    """
    st = STATE
    return st.tally is not OUTSIDE or st.tracing > 0


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
