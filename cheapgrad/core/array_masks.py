"""Masks and counting of the counted array (:mod:`cheapgrad.core.array`).

A mask is ``True``/``False`` when uniform (the fast path) or a bool array broadcastable
to its array's shape. :func:`charge` counts ops into the active tally and, inside
``tracing(lines)``, by the user's source line.

Example::

    >>> import numpy as np
    >>> both(True, np.array([True, False])), tally(np.array([True, False]), (3, 2))
    (array([ True, False]), 3)
"""

from __future__ import annotations

import itertools
import math
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from cheapgrad.core.counter import count
from cheapgrad.core.ops import N_OPS, OPS, Op
from cheapgrad.errors import DomainError, NumericalError

Mask = Any  # bool or a bool ndarray broadcastable to the array's shape


# Reverse mode records nodes only inside tracing(); per-line counts only when _LINES is
# a dict (line -> {kind: [count, nonscalar]}), with _LINE the line charged when set.
_TRACING = False
_LINES: dict[str, dict[str, list[int]]] | None = None
_LINE: str | None = None
_MATVEC: list[int] | None = None
# The label of :func:`component`: when set, ops and nodes are attributed to it instead of
# the source line (so counts "by line" are counts by component, in both engines).
_LABEL: str | None = None
_SKIP = (os.path.dirname(__file__), os.path.dirname(np.__file__))
#: Numbers the recorded nodes in program order (who is "first" into an adjoint).
SEQ = itertools.count()



def _user_line() -> str:
    if _LINE is not None:
        return _LINE
    if _LABEL is not None:
        return _LABEL
    f = sys._getframe(2)
    while f.f_back is not None and f.f_code.co_filename.startswith(_SKIP):
        f = f.f_back
    return f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno}"


def charge(kind: str, n: int, nonscalar: int = 0, matvec: bool = False,
           at: str | None = None) -> None:
    """Count ``n`` ops of ``kind`` (``nonscalar`` of them nonscalar), and by source line
    when lines are being recorded; the ops of a matrix product (``matvec``) go to the
    tally of :func:`matvec_bucket` when one is set (what the flop model reads); ``at``:
    the line, when the caller has it already."""
    if n:
        if matvec and _MATVEC is not None:
            i = OPS[kind].index
            _MATVEC[i] += n
            _MATVEC[N_OPS + i] += nonscalar
        else:
            count(kind, n, nonscalar)
        if _LINES is not None:
            cell = _LINES.setdefault(at or _user_line(), {}).setdefault(kind, [0, 0])
            cell[0] += n
            cell[1] += nonscalar


@contextmanager
def matvec_bucket(tally: list[int] | None) -> Iterator[None]:
    """Count the forward ops of matrix products into ``tally`` inside this block."""
    global _MATVEC
    previous = _MATVEC
    _MATVEC = tally
    try:
        yield
    finally:
        _MATVEC = previous


class _Switch:
    """Sets the module's recording state for a block and restores it after (a class:
    the reverse sweep enters one per node)."""

    __slots__ = ("state", "saved")

    def __init__(self, state: tuple[Any, ...]) -> None:
        self.state = state
        self.saved: tuple[Any, ...] = ()

    def __enter__(self) -> None:
        global _TRACING, _LINES, _LINE
        self.saved = _TRACING, _LINES, _LINE
        _TRACING, _LINES, _LINE = self.state

    def __exit__(self, *exc: object) -> None:
        global _TRACING, _LINES, _LINE
        _TRACING, _LINES, _LINE = self.saved


def tracing(lines: dict[str, dict[str, list[int]]] | None = None) -> _Switch:
    """Record each result's node for reverse mode (and counts by line into ``lines``)."""
    return _Switch((True, lines, _LINE))


@contextmanager
def component(name: str) -> Iterator[None]:
    """Attribute the ops made inside this block, and the reverse-sweep work of the nodes
    made inside it, to ``name`` instead of a source line (both engines: the scalar one
    tags its counted scalars through :func:`line`). Blocks nest; the innermost wins.

    >>> from cheapgrad.core.array import CArray
    >>> from cheapgrad.core.counter import Counter
    >>> lines: dict[str, dict[str, list[int]]] = {}
    >>> x = CArray(np.ones(3), dep=True)
    >>> with tracing(lines), Counter().scope("forward"), component("double"):
    ...     y = x + x
    >>> lines
    {'double': {'add': [3, 0]}}
    """
    global _LABEL
    previous = _LABEL
    _LABEL = name
    try:
        yield
    finally:
        _LABEL = previous


def untraced(line: str | None) -> _Switch:
    """Run without recording nodes, charging every count to ``line`` (reverse sweep)."""
    return _Switch((False, _LINES, line))


# --- masks ---------------------------------------------------------------------------------


def norm(m: Any) -> Mask:
    """A mask as ``True``/``False`` when uniform, else the bool array."""
    if isinstance(m, np.ndarray):
        if m.size and m.all():
            return True
        if not m.any():
            return False
        return m
    return bool(m)


def both(a: Mask, b: Mask) -> Mask:
    if a is True:
        return b
    if b is True or a is False:
        return a
    if b is False:
        return False
    return norm(np.logical_and(a, b))


def either(a: Mask, b: Mask) -> Mask:
    if a is False:
        return b
    if b is False or a is True:
        return a
    if b is True:
        return True
    return norm(np.logical_or(a, b))


def full(m: Mask, shape: tuple[int, ...]) -> np.ndarray:
    """The mask as a bool array of ``shape``."""
    if isinstance(m, np.ndarray):
        return np.broadcast_to(m, shape)
    return np.full(shape, bool(m))


def tally(m: Mask, shape: tuple[int, ...]) -> int:
    """How many elements of ``shape`` the mask selects."""
    if m is True:
        return math.prod(shape)
    if m is False:
        return 0
    return int(np.count_nonzero(np.broadcast_to(m, shape)))


def shaped(m: Mask, shape: tuple[int, ...]) -> Mask:
    return m if not isinstance(m, np.ndarray) else np.broadcast_to(m, shape)




def line() -> str | None:
    """The source line to record on a node (when lines are being recorded)."""
    return _user_line() if _LINES is not None else None


def power(v: np.ndarray, k: int) -> np.ndarray:
    """``v ** k`` for an integer ``k`` as |v| ** k with v's sign when k is odd: numpy's
    fast path for a positive base (its libm path for a negative one is ~20× slower, e.g.
    GELU's x³), equal to ``np.power`` up to the last bit's rounding.

    >>> power(np.array([-2.0, 3.0]), 3).tolist(), power(np.array([-2.0]), 2).tolist()
    ([-8.0, 27.0], [4.0])
    """
    r = np.power(np.abs(v), k)
    return np.copysign(r, v) if k % 2 else r


#: The numpy function of each elementwise op of the op table.
NUMPY: dict[str, Callable[..., Any]] = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    "neg": np.negative, "exp": np.exp, "log": np.log, "tanh": np.tanh, "sin": np.sin,
    "cos": np.cos, "sqrt": np.sqrt, "pow": power,
}


def check_domain(op: Op, live: Mask, out: np.ndarray, args: list[Any]) -> None:
    """Refuse a live element of ``out`` (the result of ``op`` on the counted arrays
    ``args``) outside the op's domain, as the counted scalar does."""
    bad = ~np.isfinite(out)
    if live is not True:
        bad &= full(live, out.shape)
    if not bad.any():
        return
    at = np.unravel_index(int(np.argmax(bad)), out.shape)
    vals = tuple(float(np.broadcast_to(a.v, out.shape)[at]) for a in args)
    if op.name == "div" and vals[1] == 0.0:
        raise DomainError("div", vals, "division by zero")
    if op.name in ("log", "sqrt", "pow") or not all(np.isfinite(vals)):
        raise DomainError(op.name, vals, "math domain error")
    raise NumericalError(f"{op.name} left float64's range at element {tuple(map(int, at))}")
