"""The scalar engine of array programs: numpy object arrays of counted scalars.

:class:`NumArray` runs the same user program as :class:`cheapgrad.core.array.CArray`
(both speak numpy through :class:`cheapgrad.core.array_front.Front`) but element by
element on :class:`cheapgrad.core.number.Num`, in plain Python loops: a matrix product
is a dot product from the left per result element, a sum a fold from the left, a max a
running maximum (``if x > m: m = x``), ``np.maximum(a, b)`` is ``a if a >= b else b``,
``|x|`` is ``-x if x < 0 else x``; data movement moves the scalars themselves, and a
plain number entering the array becomes a constant ``Num``. Traced, its output is a
``Num`` whose circuit :func:`cheapgrad.core.tape.backward` differentiates: this is the
reference whose counts the array engine must reproduce.

Example::

    >>> import numpy as np
    >>> from cheapgrad.core.counter import Counter
    >>> c = Counter()
    >>> x = NumArray.variables(np.ones((2, 3)))
    >>> with c.scope("forward"):
    ...     y = np.tanh(x @ np.ones((3, 4))).sum()
    >>> c.totals().nonzero()
    {'add': 23, 'mul': 24, 'tanh': 8}
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from cheapgrad.core import array_masks as _m
from cheapgrad.core import ops as _ops
from cheapgrad.core.array_front import Front, UnsupportedOperation
from cheapgrad.core.counter import count
from cheapgrad.core.number import Num, apply, const, var
from cheapgrad.core.ops import N_OPS, OPS, TALLY_SIZE
from cheapgrad.core.state import pop, push

__all__ = ["NumArray", "grouped"]

# While a scalar program is traced (:func:`grouped`): each Num an array op made -> (the
# Num, the source line of f, whether a matrix product made it); the reverse sweep of
# :mod:`cheapgrad.core.numarray_sweep` charges its rule to that line and part.
TAGS: dict[int, tuple[Num, str | None, bool, int]] | None = None
_DEPTH = [0]
_SEQ = [0]  # the array-level ops in program order (who is "first" into an adjoint)


def grouped(matvec: bool = False) -> Callable[..., Any]:
    """Count one array-level op as the array engine does: by source line of f, a matrix
    product's ops into the flop model's bucket; and tag the Nums it made."""
    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def run(cls: Any, *args: Any, **kw: Any) -> Any:
            if _DEPTH[0]:
                return fn(cls, *args, **kw)
            line = _m.line()
            tally = [0] * TALLY_SIZE
            push(tally)
            _DEPTH[0] += 1
            try:
                out = fn(cls, *args, **kw)
            finally:
                _DEPTH[0] -= 1
                pop()
            for name, op in OPS.items():
                if tally[op.index]:
                    _m.charge(name, tally[op.index], tally[N_OPS + op.index], matvec)
            if TAGS is not None:
                _SEQ[0] += 1
                _tag(out, line, matvec, _SEQ[0])
            return out
        return run
    return deco


def _tag(out: Any, line: str | None, matvec: bool, seq: int) -> None:
    assert TAGS is not None
    outs = out if isinstance(out, list) else [out]
    stack = [e for o in outs if isinstance(o, NumArray) for e in o.v.flat
             if isinstance(e, Num)]
    while stack:
        n = stack.pop()
        if n.op is None or id(n) in TAGS:
            continue
        TAGS[id(n)] = (n, line, matvec, seq)
        stack.extend(n.parents)


def _each(fn: Callable[..., Any], *arrays: np.ndarray) -> np.ndarray:
    """``fn`` on every element (broadcast), as an object array (0-d included)."""
    out = np.frompyfunc(fn, len(arrays), 1)(*arrays)
    if not isinstance(out, np.ndarray):
        box = np.empty((), dtype=object)
        box[()] = out
        return box
    return out


def _constants(x: Any) -> np.ndarray:
    return _each(lambda e: e if isinstance(e, Num) else const(float(e)),
                 np.asarray(x, dtype=object))


class NumArray(Front):
    """An object array of counted scalars (see the module docstring).

    >>> NumArray.variables(np.array([1.0, 2.0])).v[1]
    Num(2.0, var)
    """

    __slots__ = ("v",)

    def __init__(self, v: np.ndarray) -> None:
        self.v = v

    def __repr__(self) -> str:
        return f"NumArray({self.v!r})"

    @classmethod
    def variables(cls, values: Any) -> NumArray:
        """Independent variables with these values."""
        return cls(_each(lambda e: var(float(e)), np.asarray(values, dtype=np.float64)))

    @classmethod
    def lift(cls, x: Any) -> NumArray:
        if isinstance(x, NumArray):
            return x
        if isinstance(x, Front):
            raise UnsupportedOperation("cannot mix the scalar and array engines")
        try:
            return cls(_constants(np.asarray(x, dtype=np.float64)))
        except (TypeError, ValueError):
            raise UnsupportedOperation(
                f"cannot use {type(x).__name__} in counted arithmetic") from None

    @classmethod
    @grouped()
    def b_elementwise(cls, op: _ops.Op, *args: Any) -> NumArray:
        if op.name == "pow":
            k = int(args[1])
            return cls(_each(lambda e: apply(op, e, k), cls.lift(args[0]).v))
        arrays = [cls.lift(a).v for a in args]
        return cls(_each(lambda *e: apply(op, *e), *arrays))

    @classmethod
    @grouped()
    def b_compare(cls, fn: Callable[..., Any], a: Any, b: Any) -> np.ndarray:
        def one(x: Num, y: Num) -> bool:
            count("cmp", 1)
            return bool(fn(x.v, y.v))
        return np.asarray(_each(one, cls.lift(a).v, cls.lift(b).v), dtype=bool)

    @classmethod
    @grouped(matvec=True)
    def b_matmul(cls, a: Any, b: Any) -> NumArray:
        x, y = cls.lift(a).v, cls.lift(b).v
        if x.ndim == 0 or y.ndim == 0:
            raise UnsupportedOperation("np.matmul of a 0-d array")
        x2 = x if x.ndim > 1 else x.reshape(1, -1)
        y2 = y if y.ndim > 1 else y.reshape(-1, 1)
        batch = np.broadcast_shapes(x2.shape[:-2], y2.shape[:-2])
        x2 = np.broadcast_to(x2, batch + x2.shape[-2:])
        y2 = np.broadcast_to(y2, batch + y2.shape[-2:])
        m, k = x2.shape[-2:]
        if k == 0 or y2.shape[-2] != k:
            raise UnsupportedOperation(f"np.matmul of shapes {x.shape} and {y.shape}")
        n = y2.shape[-1]
        out = np.empty(batch + (m, n), dtype=object)
        for bi in np.ndindex(*batch):
            xa, ya = x2[bi], y2[bi]
            for i in range(m):
                for j in range(n):
                    s = xa[i, 0] * ya[0, j]
                    for t in range(1, k):
                        s = s + xa[i, t] * ya[t, j]
                    out[bi + (i, j)] = s
        if x.ndim == 1:
            out = out[..., 0, :]
        if y.ndim == 1:
            out = out[..., 0]
        return cls(np.asarray(out, dtype=object))

    @classmethod
    @grouped()
    def b_reduce(cls, kind: str, a: Any, axis: Any, keepdims: bool) -> NumArray:
        x = cls.lift(a).v
        axes = tuple(range(x.ndim)) if axis is None else tuple(
            sorted({int(i) % x.ndim for i in (axis if isinstance(axis, tuple) else (axis,))}))
        rest = [i for i in range(x.ndim) if i not in axes]
        k = int(np.prod([x.shape[i] for i in axes], dtype=np.int64))
        if k == 0:
            raise UnsupportedOperation(f"np.{kind} of an empty array")
        rows = np.moveaxis(x, axes, range(len(rest), x.ndim)).reshape(-1, k)
        out = np.empty(len(rows), dtype=object)
        for r, row in enumerate(rows):
            acc = row[0]
            for e in row[1:]:
                if kind == "sum":
                    acc = acc + e
                elif (e > acc) if kind == "max" else (e < acc):
                    acc = e
            out[r] = acc
        res = out.reshape(tuple(x.shape[i] for i in rest))
        if keepdims:
            res = np.expand_dims(res, axes)
        return cls(np.asarray(res, dtype=object))

    @classmethod
    @grouped()
    def b_select(cls, kind: str, a: Any, b: Any) -> NumArray:
        if kind == "max":
            return cls(_each(lambda x, y: x if x >= y else y, cls.lift(a).v, cls.lift(b).v))
        return cls(_each(lambda x, y: x if x <= y else y, cls.lift(a).v, cls.lift(b).v))

    @classmethod
    @grouped()
    def b_abs(cls, a: Any) -> NumArray:
        return cls(_each(lambda x: -x if x < 0 else x, cls.lift(a).v))

    @classmethod
    def b_move(cls, fn: Callable[..., Any], args: list[Any], data: list[int],
               kwargs: dict[str, Any]) -> Any:
        def plain(x: Any) -> Any:
            if isinstance(x, NumArray):
                return x.v
            if isinstance(x, Front):
                raise UnsupportedOperation("cannot mix the scalar and array engines")
            return np.asarray(x, dtype=np.float64)

        vargs = list(args)
        for pos in data:
            x = args[pos]
            vargs[pos] = [plain(e) for e in x] if isinstance(x, (list, tuple)) else plain(x)
        out = fn(*vargs, **kwargs)
        if isinstance(out, list):
            return [cls(_constants(o)) for o in out]
        return cls(_constants(out))
