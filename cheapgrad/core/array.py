"""The counted array: a float64 ndarray that counts what the scalar engine would count.

A :class:`CArray` wraps a float64 array ``v`` with two per-element masks: ``dep``,
which elements depend on the independent variables, and ``live``, which elements exist
as counted values (every element in f; in the reverse sweep only those an adjoint
reaches). A mask is ``True``/``False`` when uniform (the fast path) or a bool array.
Users write plain numpy: the class implements numpy's dispatch protocols
(``__array_ufunc__``, NEP 13, and ``__array_function__``, NEP 18) and the operators, and
every op counts into the active tally (:func:`cheapgrad.core.number.count`) exactly
what the same program run element by element on counted scalars counts
(:mod:`cheapgrad.core.numarray`): each live element of an elementwise op is one op of
its kind, nonscalar per element; ``(m×k) @ (k×n)`` is m·n·k ``mul`` and m·n·(k−1)
``add``; a sum of k values k−1 ``add``; ``max``/``min`` of k values k−1 ``cmp``;
selection and data movement are free. Inside :func:`tracing` each result records how
it was made (``node``) for reverse mode (:mod:`cheapgrad.core.array_rules`).

Anything else raises :class:`UnsupportedOperation`, never an uncounted result.

Example::

    >>> import numpy as np
    >>> from cheapgrad.core.counter import Counter
    >>> c = Counter()
    >>> x = CArray(np.ones((2, 3)), dep=True)
    >>> with c.scope("forward"):
    ...     y = np.tanh(x @ np.ones((3, 4))).sum()
    >>> c.totals().nonzero()
    {'add': 23, 'mul': 24, 'tanh': 8}
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from cheapgrad.core import array_masks as _m
from cheapgrad.core import ops as _ops
from cheapgrad.core.array_front import Front, UnsupportedOperation
from cheapgrad.core.array_masks import Mask, both, charge, either, full, norm, shaped, tally
from cheapgrad.core.ops import Op

__all__ = ["CArray", "UnsupportedOperation"]


# --- the array -----------------------------------------------------------------------------


class CArray(Front):
    """A counted float64 array (see the module docstring).

    >>> x = CArray([1.0, 2.0], dep=True)
    >>> x.shape, x.dep, x.live
    ((2,), True, True)
    """

    __slots__ = ("v", "dep", "live", "node")

    def __init__(self, v: Any, dep: Mask = False, live: Mask = True,
                 node: tuple[Any, ...] | None = None) -> None:
        self.v = np.asarray(v, dtype=np.float64)
        self.dep = shaped(norm(dep), self.v.shape)
        self.live = shaped(norm(live), self.v.shape)
        self.node = node

    @classmethod
    def made(cls, v: np.ndarray, dep: Mask, live: Mask, node: tuple[Any, ...] | None = None
             ) -> CArray:
        """A result of the engine itself: ``v`` a float64 array, the masks normalized
        (:func:`~cheapgrad.core.array_masks.norm`) and broadcastable to ``v``."""
        r = object.__new__(cls)
        r.v, r.node = v, node
        r.dep = dep if not isinstance(dep, np.ndarray) or dep.shape == v.shape \
            else np.broadcast_to(dep, v.shape)
        r.live = live if not isinstance(live, np.ndarray) or live.shape == v.shape \
            else np.broadcast_to(live, v.shape)
        return r

    def __repr__(self) -> str:
        return f"CArray({self.v!r})"

    # The backend of Front: every op of the protocol lands in one of these.
    @classmethod
    def lift(cls, x: Any) -> CArray:
        """A counted array as is; anything else a constant (no op)."""
        if isinstance(x, CArray):
            return x
        if isinstance(x, Front):
            raise UnsupportedOperation("cannot mix the scalar and array engines")
        try:
            v = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError):
            raise UnsupportedOperation(
                f"cannot use {type(x).__name__} in counted arithmetic") from None
        return CArray.made(v, False, True)

    def apply(self, op: Op, *others: Any) -> CArray:
        """``op`` on this array (how the op table's rules call elementary functions)."""
        return elementwise(op, self, *others)

    @classmethod
    def b_elementwise(cls, op: Op, *args: Any) -> CArray:
        return elementwise(op, *args)

    @classmethod
    def b_compare(cls, fn: Callable[..., Any], a: Any, b: Any) -> np.ndarray:
        x, y = cls.lift(a), cls.lift(b)
        r = fn(x.v, y.v)
        charge("cmp", tally(both(x.live, y.live), r.shape))
        return np.asarray(r)

    @classmethod
    def b_move(cls, fn: Callable[..., Any], args: list[Any], data: list[int],
               kwargs: dict[str, Any]) -> Any:
        if fn is np.where and len(args) == 3 and not kwargs:
            return where(args[0], args[1], args[2])
        return move(fn, args, data, kwargs)

    @classmethod
    def b_matmul(cls, a: Any, b: Any) -> CArray:
        return matmul(cls.lift(a), cls.lift(b))

    @classmethod
    def b_reduce(cls, kind: str, a: Any, axis: Any, keepdims: bool) -> CArray:
        return reduce(kind, cls.lift(a), axis, keepdims)

    @classmethod
    def b_select(cls, kind: str, a: Any, b: Any) -> CArray:
        return select(kind, cls.lift(a), cls.lift(b))

    @classmethod
    def b_abs(cls, a: Any) -> CArray:
        return absolute(cls.lift(a))


def elementwise(op: Op, *operands: Any) -> CArray:
    """One counted elementwise op (``pow`` takes its integer exponent as a plain int)."""
    name = op.name
    k = None
    if name == "pow":
        args = [operands[0] if type(operands[0]) is CArray else CArray.lift(operands[0])]
        k = int(operands[1])
        vals: list[Any] = [args[0].v, k]
    else:
        args = [x if type(x) is CArray else CArray.lift(x) for x in operands]
        vals = [x.v for x in args]
    # numpy's floating-point flags say whether any element left float64's range
    v, flagged = _m.compute(_m.NUMPY[name], vals)
    if type(v) is not np.ndarray:
        v = np.asarray(v, dtype=np.float64)
    shape = v.shape
    a = args[0]
    if len(args) == 1:
        live, dep = a.live, a.dep
    else:
        b = args[1]
        live = a.live if b.live is True else both(a.live, b.live)
        dep = either(a.dep, b.dep)
    if flagged:  # which elements, and are they live (the reverse sweep's partial arrays)
        _m.check_domain(op, live, v, args)
    n = v.size if live is True else tally(live, shape)
    ns = 0
    policy = op.nonscalar
    if policy is not _ops.never and n:
        if policy is _ops.if_both_depend:
            ns = tally(both(live, both(a.dep, args[1].dep)), shape)
        elif policy is _ops.if_divisor_depends:
            ns = tally(both(live, args[1].dep), shape)
        elif policy is _ops.by_repeated_squaring:
            ns = _ops.power_chain(k) * tally(both(live, a.dep), shape)  # type: ignore[arg-type]
    at = _m._user_line() if _m._LINES is not None else None
    charge(name, n, ns, at=at)
    r = object.__new__(CArray)
    r.v = v
    r.dep = dep if type(dep) is bool or dep.shape == shape else np.broadcast_to(dep, shape)
    r.live = live if type(live) is bool or live.shape == shape else np.broadcast_to(live, shape)
    r.node = ("elementwise", tuple(args), (op, k), at, next(_m.SEQ)) \
        if _m._TRACING and dep is not False else None
    return r


def _node(kind: str, parents: tuple[CArray, ...], extra: Any, dep: Mask) -> Any:
    return (kind, parents, extra, _m.line(), next(_m.SEQ)) \
        if _m._TRACING and dep is not False else None


def _fully_live(*xs: CArray) -> None:
    if any(x.live is not True for x in xs):  # only the reverse sweep has partial arrays
        raise UnsupportedOperation("internal: a matrix product or reduction of a partial array")


def matmul(a: CArray, b: CArray) -> CArray:
    """``a @ b``, batched: each result element is a dot product of k terms, k ``mul``
    (nonscalar where both factors depend) and k − 1 ``add``."""
    if a.ndim == 0 or b.ndim == 0:
        raise UnsupportedOperation("np.matmul of a 0-d array")
    if a.ndim == 1 or b.ndim == 1:
        r = matmul(a if a.ndim > 1 else a.reshape(1, -1), b if b.ndim > 1 else b.reshape(-1, 1))
        return r[..., 0, 0] if a.ndim == 1 and b.ndim == 1 else (
            r[..., 0, :] if a.ndim == 1 else r[..., :, 0])
    _fully_live(a, b)
    v = np.matmul(a.v, b.v)
    k = a.v.shape[-1]
    if k == 0:
        raise UnsupportedOperation("np.matmul with an empty inner dimension")
    da, db = a.dep, b.dep
    if da is False or db is False:
        ns = 0
    elif da is True and db is True:
        ns = v.size * k
    else:
        ns = int(np.matmul(full(da, a.shape).astype(np.float64),
                           full(db, b.shape).astype(np.float64)).sum())
    rows = da if not isinstance(da, np.ndarray) else np.asarray(da.any(-1))[..., None]
    cols = db if not isinstance(db, np.ndarray) else np.asarray(db.any(-2))[..., None, :]
    dep = either(rows, cols)
    if isinstance(dep, np.ndarray):
        dep = norm(np.broadcast_to(dep, v.shape))
    charge("mul", v.size * k, ns, matvec=True)
    charge("add", v.size * (k - 1), matvec=True)
    return CArray(v, dep, True, _node("matmul", (a, b), None, dep))


def _axes(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    t = axis if isinstance(axis, tuple) else (axis,)
    try:
        return tuple(sorted({int(x) % ndim if ndim else int(x) for x in t}))
    except TypeError:
        raise UnsupportedOperation(f"axis={axis!r}") from None


def reduce(kind: str, a: CArray, axis: Any, keepdims: bool) -> CArray:
    """``sum`` (k − 1 ``add`` per result), ``max``/``min`` (k − 1 ``cmp``, then selection)."""
    _fully_live(a)
    axes = _axes(axis, a.ndim)
    k = math.prod(a.shape[i] for i in axes)
    if k == 0:
        raise UnsupportedOperation(f"np.{kind} of an empty array")
    if kind == "sum":
        v = a.v.sum(axis=axes, keepdims=keepdims)
        charge("add", v.size * (k - 1))
        dep = a.dep if not isinstance(a.dep, np.ndarray) else norm(
            a.dep.any(axis=axes, keepdims=keepdims))
        return CArray(v, dep, True, _node("sum", (a,), (axes, keepdims), dep))
    rest = [i for i in range(a.ndim) if i not in axes]
    flat = np.moveaxis(a.v, axes, range(len(rest), a.ndim)).reshape(
        tuple(a.shape[i] for i in rest) + (k,))
    pick = (np.argmax if kind == "max" else np.argmin)(flat, axis=-1)[..., None]
    charge("cmp", pick.size * (k - 1))

    def choose(x: np.ndarray) -> np.ndarray:
        y = np.moveaxis(x, axes, range(len(rest), x.ndim)).reshape(flat.shape)
        y = np.take_along_axis(y, pick, -1)[..., 0]
        if keepdims:
            y = np.expand_dims(y, axes)
        return y

    if axes == tuple(range(len(rest), a.ndim)):  # trailing axes: where the picks sit
        src = np.arange(0, a.size, k).reshape(pick.shape) + pick
        idx = src[..., 0] if not keepdims else src.reshape(
            tuple(a.shape[i] if i in rest else 1 for i in range(a.ndim)))
        v = np.take_along_axis(flat, pick, -1)[..., 0]
        return _gathered(v.reshape(idx.shape), idx + 1, [(a, 0)], True, False)
    out = move(choose, [a], [0], {})
    assert isinstance(out, CArray)
    return out


def select(kind: str, a: CArray, b: CArray) -> CArray:
    """``np.maximum``/``np.minimum``: one ``cmp`` per element, then selection (``a`` on
    ties)."""
    cond = a.v >= b.v if kind == "max" else a.v <= b.v
    charge("cmp", tally(both(a.live, b.live), cond.shape))
    return where(cond, a, b)


def absolute(a: CArray) -> CArray:
    """``|x|`` is ``-x if x < 0 else x``: one ``cmp`` per element, one ``neg`` per
    negative element."""
    neg = a.v < 0
    charge("cmp", tally(a.live, a.shape))
    negated = elementwise(_ops.NEG, move(lambda x: x, [a], [0], {}, live=norm(neg)))
    return where(neg, negated, a)


def move(fn: Callable[..., Any], args: list[Any], data: list[int], kwargs: dict[str, Any],
         live: Mask = True) -> Any:
    """Free data movement: ``fn`` applied to the values and to a map of where each
    element comes from (its source array and flat index, or a constant)."""
    x = args[data[0]]
    if fn in _BIJECTIVE and len(data) == 1 and isinstance(x, CArray) \
            and not isinstance(x.dep, np.ndarray) and not isinstance(x.live, np.ndarray):
        # uniform masks, one array: the values move, the masks stay; where each element
        # came from is worked out only if the reverse sweep needs it
        vargs = list(args)
        vargs[data[0]] = x.v

        def where_from() -> np.ndarray:
            iargs = list(args)
            iargs[data[0]] = np.arange(x.size).reshape(x.shape)
            return np.asarray(fn(*iargs, **kwargs))

        def back(g: np.ndarray) -> np.ndarray | None:
            """``g`` moved back: written through the same move of an empty array, when
            that move is a view of it (transpose, reshape, ...); else None."""
            out = np.empty(x.shape)
            bargs = list(args)
            bargs[data[0]] = out
            view = fn(*bargs, **kwargs)
            if not isinstance(view, np.ndarray) or view.base is not out \
                    or view.shape != g.shape:
                return None
            view[...] = g
            return out

        return CArray.made(np.asarray(fn(*vargs, **kwargs), dtype=np.float64), x.dep,
                           both(x.live, live),
                           _node("move", (x,), (where_from, True, back), x.dep))
    if fn is operator.getitem and isinstance(x, CArray) and x.live is True \
            and not isinstance(x.dep, np.ndarray) and _m.basic_index(args[1]):
        # a view: the masks stay; the adjoint is written back through the same index
        return CArray.made(np.asarray(x.v[args[1]], dtype=np.float64), x.dep, live, _node(
            "move", (x,), _m.index_maps(x.v.shape, args[1]), x.dep))
    sources: list[tuple[CArray, int]] = []
    vargs, iargs = list(args), list(args)

    def convert(x: Any) -> tuple[Any, Any]:
        if isinstance(x, CArray):
            off = sum(s.size for s, _ in sources)
            sources.append((x, off))
            return x.v, np.arange(off + 1, off + 1 + x.size).reshape(x.shape)
        if isinstance(x, Front):
            raise UnsupportedOperation("cannot mix the scalar and array engines")
        arr = np.asarray(x, dtype=np.float64)
        return arr, np.zeros(arr.shape, np.int64)

    for pos in data:
        x = args[pos]
        if isinstance(x, (list, tuple)):
            pairs = [convert(e) for e in x]
            vargs[pos], iargs[pos] = [p[0] for p in pairs], [p[1] for p in pairs]
        else:
            vargs[pos], iargs[pos] = convert(x)
    vout, iout = fn(*vargs, **kwargs), fn(*iargs, **kwargs)
    perm = fn in _BIJECTIVE and len(sources) == 1 and len(data) == 1
    if isinstance(vout, list):
        return [_gathered(v, i, sources, live, perm) for v, i in zip(vout, iout, strict=True)]
    return _gathered(vout, iout, sources, live, perm)


#: Data movement that puts every element of its one array operand in exactly one place
#: (its reverse is a scatter, not a sum).
_BIJECTIVE = frozenset({np.reshape, np.transpose, np.swapaxes, np.moveaxis, np.ravel,
                        np.squeeze, np.expand_dims})


def _gathered(v: Any, idx: Any, sources: list[tuple[CArray, int]], live: Mask,
              perm: bool) -> CArray:
    src = np.asarray(idx, dtype=np.int64) - 1
    uniform = not any(isinstance(s.dep, np.ndarray) or isinstance(s.live, np.ndarray)
                      for s, _ in sources)
    kinds = {(s.dep, s.live) for s, _ in sources} if uniform else set()
    if len(kinds) == 1:
        (d, lv), = kinds  # uniform masks: only the constants (-1) differ, if any
        if d is False and lv is True:
            dep, lvm = False, True
        else:
            const = src < 0
            some = bool(const.any())
            dep = norm(~const) if d and some else d
            lvm = True if lv or not some else norm(const)
    else:
        masks = []
        for attr, default in (("dep", False), ("live", True)):
            flat = np.concatenate([np.ravel(full(getattr(s, attr), s.shape))
                                   for s, _ in sources] + [np.array([default])])
            masks.append(norm(flat[src]))  # a constant (-1) reads the default at the end
        dep, lvm = masks
    return CArray(v, dep, both(lvm, live),
                  _node("move", tuple(s for s, _ in sources), (src, perm, None), dep))


def _pick(cond: np.ndarray, ma: Mask, mb: Mask, shape: tuple[int, ...]) -> Mask:
    if not isinstance(ma, np.ndarray) and not isinstance(mb, np.ndarray):
        return ma if ma == mb else norm(cond if ma else ~cond)
    return norm(np.where(cond, full(ma, shape), full(mb, shape)))


def where(cond: Any, x: Any, y: Any) -> CArray:
    """Selection ``np.where(cond, x, y)``: free; the adjoint goes to the selected side."""
    a, b = CArray.lift(x), CArray.lift(y)
    v = np.where(cond, a.v, b.v)
    c = np.broadcast_to(np.asarray(cond, dtype=bool), v.shape)
    dep = _pick(c, a.dep, b.dep, v.shape)
    return CArray(v, dep, _pick(c, a.live, b.live, v.shape), _node("select", (a, b), c, dep))
