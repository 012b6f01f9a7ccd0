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

from cheapgrad.core.ops import N_OPS, OPS, Op
from cheapgrad.core.state import TALLY
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



#: The source line of each (code object, line number) that ops were made from, and
#: whether a code object is the package's or numpy's own (skipped to find the user's).
_AT: dict[tuple[Any, int], str] = {}
_SKIPPED: dict[Any, bool] = {}


def _user_line() -> str:
    if _LINE is not None:
        return _LINE
    if _LABEL is not None:
        return _LABEL
    f = sys._getframe(2)
    while f.f_back is not None:
        code = f.f_code
        skip = _SKIPPED.get(code)
        if skip is None:
            skip = _SKIPPED[code] = code.co_filename.startswith(_SKIP)
        if not skip:
            break
        f = f.f_back
    key = (f.f_code, f.f_lineno)
    at = _AT.get(key)
    if at is None:
        at = _AT[key] = f"{os.path.basename(f.f_code.co_filename)}:{f.f_lineno}"
    return at


_INDEX = {name: op.index for name, op in OPS.items()}


def charge(kind: str, n: int, nonscalar: int = 0, matvec: bool = False,
           at: str | None = None, into: list[int] | None = None) -> None:
    """Count ``n`` ops of ``kind`` (``nonscalar`` of them nonscalar), and by source line
    when lines are being recorded; the ops of a matrix product (``matvec``) go to the
    tally of :func:`matvec_bucket` when one is set (what the flop model reads); ``at``:
    the line, when the caller has it already; ``into``: a tally instead of the active
    one."""
    if n:
        i = _INDEX[kind]
        t = into if into is not None else (
            _MATVEC if matvec and _MATVEC is not None else TALLY.get())
        t[i] += n
        if nonscalar:
            t[N_OPS + i] += nonscalar
        if _LINES is not None:
            line = at or _user_line()
            kinds = _LINES.get(line)
            if kinds is None:
                kinds = _LINES[line] = {}
            cell = kinds.get(kind)
            if cell is None:
                cell = kinds[kind] = [0, 0]
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
        return m if m.shape == shape else np.broadcast_to(m, shape)
    return np.full(shape, bool(m))


def tally(m: Mask, shape: tuple[int, ...]) -> int:
    """How many elements of ``shape`` the mask selects."""
    if m is True:
        return math.prod(shape)
    if m is False:
        return 0
    return int(np.count_nonzero(m if m.shape == shape else np.broadcast_to(m, shape)))


def shaped(m: Mask, shape: tuple[int, ...]) -> Mask:
    return m if not isinstance(m, np.ndarray) or m.shape == shape \
        else np.broadcast_to(m, shape)




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


# numpy 2: the floating-point error state is a context variable, set here directly
# (~0.1 µs) instead of through np.errstate (~2.5 µs, once per counted op)
_config = getattr(np, "_core", None)
_config = getattr(_config, "_ufunc_config", None)
_ERRSTATE: Any = getattr(_config, "_extobj_contextvar", None)
_MAKE: Any = getattr(_config, "_make_extobj", None)
if _MAKE is None:  # pragma: no cover - numpy 1.x: np.errstate below
    _ERRSTATE = None
else:
    _RAISE, _QUIET = _MAKE(all="raise", under="ignore"), _MAKE(all="ignore")


def compute(fn: Callable[..., Any], vals: list[Any]) -> tuple[Any, bool]:
    """``fn(*vals)`` and whether numpy's floating-point flags said an element left
    float64's range (overflow, invalid or division by zero; underflow is fine).

    >>> compute(np.exp, [np.array([0.0, 1e3])])
    (array([ 1., inf]), True)
    """
    if _ERRSTATE is None:  # pragma: no cover - numpy 1.x
        try:
            with np.errstate(all="raise", under="ignore"):
                return fn(*vals), False
        except FloatingPointError:
            with np.errstate(all="ignore"):
                return fn(*vals), True
    token = _ERRSTATE.set(_RAISE)
    try:
        return fn(*vals), False
    except FloatingPointError:
        _ERRSTATE.set(_QUIET)
        return fn(*vals), True
    finally:
        _ERRSTATE.reset(token)


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


def basic_index(key: Any) -> bool:
    """Whether ``key`` is numpy basic indexing (ints, slices, None, Ellipsis): a view
    that takes each element at most once.

    >>> basic_index((slice(1, None), 0)), basic_index([0, 0])
    (True, False)
    """
    for k in key if isinstance(key, tuple) else (key,):
        if not (k is None or k is Ellipsis or type(k) is slice or type(k) is int
                or isinstance(k, np.integer)):
            return False
    return True


def index_maps(shape: tuple[int, ...], key: Any) -> tuple[Any, bool, Any]:
    """The record of ``x[key]`` (basic indexing, ``x`` of ``shape``) on a move node:
    where each element came from (computed only if asked), not a permutation, and the
    adjoint written back through the same index (its values and which elements got
    one).

    >>> where_from, _, back = index_maps((2, 3), (slice(None), 1))
    >>> where_from().tolist(), [a.tolist() for a in back(np.array([5.0, 7.0]))]
    ([1, 4], [[[0.0, 5.0, 0.0], [0.0, 7.0, 0.0]], [[False, True, False], [False, True, False]]])
    """
    def where_from() -> np.ndarray:
        return np.asarray(np.arange(math.prod(shape)).reshape(shape)[key])

    def back(g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vals, hit = np.zeros(shape), np.zeros(shape, bool)
        vals[key] = g
        hit[key] = True
        return vals, hit

    return where_from, False, back
