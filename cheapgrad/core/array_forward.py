"""Forward mode of counted arrays: one tangent pass over a recorded array program.

The array counterpart of :func:`cheapgrad.core.forward.directional`: the values are the
ones the recorded nodes hold (:func:`cheapgrad.core.array_masks.tracing`), and a tangent
is pushed through every node in a topological order. A tangent is a counted array whose
``live`` mask says which elements carry one (the elements a non-zero seed reaches, or
every element depending on the inputs for a ``dense`` pass) and whose ``dep`` mask says
which tangent elements depend on the inputs (a seed is a constant), so each element
costs exactly what the scalar engine's tangent pass over the same program costs
(:class:`cheapgrad.core.numarray.NumArray` traced, then ``directional``):

* ``elementwise``: the op table's own ``jvp`` run on counted arrays restricted to the
  elements whose operands carry a tangent, grouped by which operands do (the rules give
  ``None`` for a missing tangent, as on scalars);
* ``matmul``: per result element a dot product from the left: per term one ``mul`` per
  operand carrying a tangent (nonscalar where that tangent and the other factor both
  depend), one ``add`` for a term where both do, and one ``add`` per reached term after
  the first;
* ``sum``: one ``add`` per reached element after the first of each result;
* ``move`` and ``select``: the tangent moves with its value (no op).

Example::

    >>> import numpy as np
    >>> from cheapgrad.core.array import CArray
    >>> from cheapgrad.core.array_masks import tracing
    >>> from cheapgrad.core.counter import Counter
    >>> x = CArray(np.array([1.0, 2.0]), dep=True)
    >>> with tracing():
    ...     y = (x * x).sum()
    >>> c = Counter()
    >>> [t.tolist() for t in directional([y], [x], [np.array([1.0, 0.0])], c)]
    [2.0]
    >>> c.totals().nonzero()
    {'add': 1, 'mul': 2}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cheapgrad.core.array import CArray
from cheapgrad.core.array_masks import Mask, charge, either, full, norm, untraced
from cheapgrad.core.counter import Counter
from cheapgrad.core.tape import DifferentiationError

__all__ = ["dep_order", "directional", "passes", "push", "uses"]


def dep_order(outputs: Sequence[Any]) -> list[CArray]:
    """The recorded arrays the ``outputs`` depend on through the inputs, operands
    before results (iterative).

    >>> x = CArray(np.ones(2), dep=True)
    >>> len(dep_order([x]))
    1
    """
    order: list[CArray] = []
    done: set[int] = set()
    for out in outputs:
        if not isinstance(out, CArray) or out.dep is False or id(out) in done:
            continue
        stack: list[tuple[CArray, bool]] = [(out, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in done:
                continue
            done.add(id(node))
            stack.append((node, True))
            if node.node is not None:
                stack.extend((p, False) for p in reversed(node.node[1])
                             if p.dep is not False and id(p) not in done)
    return order


def _f(m: Mask, shape: tuple[int, ...]) -> np.ndarray:
    return full(m, shape).astype(np.float64)


def _parts(t: CArray | None, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray]:
    """A tangent's values (zero where absent), where it is present, where it depends."""
    if t is None:
        z = np.zeros(shape, dtype=bool)
        return np.zeros(shape), z, z
    reach = full(t.live, shape)
    return (np.where(reach, np.broadcast_to(t.v, shape), 0.0), reach,
            reach & full(t.dep, shape))


def _tangent(v: np.ndarray, reach: np.ndarray, dep: np.ndarray) -> CArray | None:
    r = norm(reach)
    if r is False:
        return None
    return CArray(v, norm(dep), r)


def _elementwise(node: CArray, ts: list[CArray | None], used: np.ndarray) -> CArray | None:
    args, (op, k) = node.node[1], node.node[2]  # type: ignore[index]
    shape = node.shape
    reach = [full(t.live, shape) if t is not None else np.zeros(shape, bool) for t in ts]
    live = full(node.live, shape) & used
    groups: list[tuple[np.ndarray, tuple[bool, ...]]]
    if len(args) == 1:
        groups = [(reach[0] & live, (True,))]
    else:
        ra, rb = reach
        groups = [(ra & rb & live, (True, True)), (ra & ~rb & live, (True, False)),
                  (rb & ~ra & live, (False, True))]
    vals = np.zeros(shape)
    got = np.zeros(shape, bool)
    dep = np.zeros(shape, bool)
    for mask_array, which in groups:
        mask = norm(mask_array)
        if mask is False:
            continue
        if op.jvp is None:
            raise DifferentiationError(
                f"op '{op.name}' has no derivative rule: the function is not "
                "differentiable through it (comparisons and branches have no derivative)")
        out = CArray(node.v, node.dep, mask)
        ops = [CArray(np.broadcast_to(a.v, shape), full(a.dep, shape), mask) for a in args]
        tans = tuple(CArray(np.broadcast_to(t.v, shape), full(t.dep, shape), mask)
                     if w and t is not None else None for t, w in zip(ts, which, strict=True))
        operands = (ops[0], k) if k is not None else tuple(ops)
        with np.errstate(all="ignore"):
            c = op.jvp(out, operands, tans)
        if c is None:
            continue
        vals = np.where(mask_array, np.broadcast_to(c.v, shape), vals)
        got |= mask_array
        dep |= mask_array & full(c.dep, shape)
    return _tangent(vals, got, dep)


def _matmul(node: CArray, ts: list[CArray | None], used: np.ndarray) -> CArray | None:
    a, b = node.node[1]  # type: ignore[index]
    ta, ra, da = _parts(ts[0], a.shape)
    tb, rb, db = _parts(ts[1], b.shape)
    fa, fb = ra.astype(np.float64), rb.astype(np.float64)
    one_a, one_b = np.ones(a.shape), np.ones(b.shape)
    adep, bdep = _f(a.dep, a.shape), _f(b.dep, b.shape)
    muls = np.matmul(fa, one_b) + np.matmul(one_a, fb)
    nonscalar = np.matmul(da.astype(np.float64), bdep) + np.matmul(adep, db.astype(np.float64))
    both = np.matmul(fa, fb)
    k = a.shape[-1]
    terms = k - np.matmul(1.0 - fa, 1.0 - fb)  # terms with a tangent, per result
    u = used.astype(np.float64)
    charge("mul", int(round((muls * u).sum())), int(round((nonscalar * u).sum())))
    charge("add", int(round((both * u).sum()))
           + int(round((np.maximum(terms - 1.0, 0.0) * u).sum())))
    deps = (np.matmul(da.astype(np.float64), one_b) + np.matmul(fa, bdep)
            + np.matmul(one_a, db.astype(np.float64)) + np.matmul(adep, fb))
    vals = np.matmul(ta, b.v) + np.matmul(a.v, tb)
    return _tangent(vals, (terms > 0.5) & used, (deps > 0.5) & used)


def _sum(node: CArray, ts: list[CArray | None], used: np.ndarray) -> CArray | None:
    (a,), (axes, keepdims) = node.node[1], node.node[2]  # type: ignore[index]
    t, r, d = _parts(ts[0], a.shape)
    reached = r.sum(axis=axes, keepdims=keepdims) * used
    charge("add", int(np.maximum(reached - 1, 0).sum()))
    return _tangent(t.sum(axis=axes, keepdims=keepdims), reached > 0,
                    d.any(axis=axes, keepdims=keepdims) & used)


def _move(node: CArray, ts: list[CArray | None], used: np.ndarray) -> CArray | None:
    sources, src = node.node[1], _source_index(node)  # type: ignore[index]
    vals, reach, dep = [], [], []
    for s, t in zip(sources, ts, strict=True):
        tv, tr, td = _parts(t, s.shape)
        vals.append(tv.ravel())
        reach.append(tr.ravel())
        dep.append(td.ravel())
    # a constant element (index -1) reads the zero appended at the end
    v = np.concatenate([*vals, [0.0]])[src]
    r = np.concatenate([*reach, [False]])[src] & full(node.live, node.shape) & used
    d = np.concatenate([*dep, [False]])[src] & r
    return _tangent(v, r, d)


def _select(node: CArray, ts: list[CArray | None], used: np.ndarray) -> CArray | None:
    a, b = node.node[1]  # type: ignore[index]
    cond = node.node[2]  # type: ignore[index]
    shape = node.shape
    (va, ra, da), (vb, rb, db) = _parts(ts[0], shape), _parts(ts[1], shape)
    r = np.where(cond, ra, rb) & used
    return _tangent(np.where(cond, va, vb), r, np.where(cond, da, db) & r)


def uses(order: list[CArray], outputs: Sequence[Any],
          start: dict[int, np.ndarray] | None = None) -> dict[int, np.ndarray]:
    """Which elements of each recorded array an output needs (the scalar engine's tangent
    pass visits only the nodes an output depends on): results before operands. ``start``:
    elements needed already (by id), beside the outputs'."""
    used: dict[int, np.ndarray] = dict(start or {})
    for out in outputs:
        if isinstance(out, CArray) and out.dep is not False:
            used[id(out)] = np.ones(out.shape, bool)

    def give(p: CArray, m: np.ndarray) -> None:
        m = m & full(p.dep, p.shape)
        used[id(p)] = used[id(p)] | m if id(p) in used else m

    for node in reversed(order):
        u = used.get(id(node))
        if node.node is None or u is None:
            continue
        kind, parents, extra = node.node[0], node.node[1], node.node[2]
        u = u & full(node.dep, node.shape) & full(node.live, node.shape)
        if kind == "elementwise":
            for p in parents:
                give(p, _any_to(u, p.shape))
        elif kind == "matmul":
            a, b = parents
            fu = u.astype(np.float64)
            give(a, _any_to(np.matmul(fu, np.ones(_swap_shape(b.shape))) > 0, a.shape))
            give(b, _any_to(np.matmul(np.ones(_swap_shape(a.shape)), fu) > 0, b.shape))
        elif kind == "sum":
            axes, keepdims = extra
            s = u if keepdims else np.expand_dims(u, axes)
            give(parents[0], np.broadcast_to(s, parents[0].shape).copy())
        elif kind == "move":
            off = 0
            src = _source_index(node)
            for p in parents:
                sel = u & (src >= off) & (src < off + p.size)
                hit = np.bincount(src[sel] - off, minlength=p.size) > 0
                give(p, hit.reshape(p.shape))
                off += p.size
        else:  # select
            a, b = parents
            give(a, _any_to(u & extra, a.shape))
            give(b, _any_to(u & ~extra, b.shape))
    return used


def _source_index(node: CArray) -> np.ndarray:
    """Where each element of a move's result comes from: a flat index into its sources
    laid end to end, -1 for a constant (a bijective move records it as a function)."""
    src = node.node[2][0]  # type: ignore[index]
    return np.asarray(src() if callable(src) else src, dtype=np.int64).reshape(node.shape)


def _swap_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    return (*shape[:-2], shape[-1], shape[-2])


def _any_to(m: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``m`` reduced by ``any`` over the axes broadcasting added to ``shape``."""
    if m.shape == shape:
        return m
    lead = m.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and m.shape[lead + i] != 1)
    return np.asarray(m.any(axis=axes, keepdims=True)).reshape(shape)


_RULES = {"elementwise": _elementwise, "matmul": _matmul, "sum": _sum, "move": _move,
          "select": _select}


def push(order: list[CArray], tan: dict[int, CArray | None], used: dict[int, np.ndarray]
         ) -> None:
    """Push the tangents ``tan`` holds (by id: the seeded leaves) through the recorded
    nodes of ``order``, counting the elements ``used`` marks (see :func:`passes`)."""
    for node in order:
        if node.node is None:
            continue
        ts = [tan.get(id(p)) for p in node.node[1]]
        if all(t is None for t in ts):
            continue
        u = used.get(id(node))
        tan[id(node)] = _RULES[node.node[0]](
            node, ts, u if u is not None else np.zeros(node.shape, bool))


def passes(outputs: Sequence[Any], inputs: Sequence[CArray], direction: Sequence[Any],
           counter: Counter, phase: str = "tangent", dense: bool = False
           ) -> list[tuple[np.ndarray, np.ndarray]]:
    """One tangent pass (see :func:`directional`): each output's tangent values (zero
    where absent) and where a tangent reached it (the structural pattern of a seed)."""
    order = dep_order(outputs)
    used = uses(order, outputs)
    index = {id(x): i for i, x in enumerate(inputs)}
    tan: dict[int, CArray | None] = {}
    with counter.scope(phase, None, "tangent"), untraced(None):
        for node in order:
            if node.node is None:
                if id(node) not in index:
                    raise DifferentiationError(
                        "the output depends on a counted array that is not an input or "
                        "was made outside tracing()")
                d = np.broadcast_to(np.asarray(direction[index[id(node)]], dtype=np.float64),
                                    node.shape)
                seeded = either(norm(d != 0.0), dense)
                tan[id(node)] = None if seeded is False else CArray(d, False, seeded)
                continue
        push(order, tan, used)
    result = []
    for out in outputs:
        t = tan.get(id(out)) if isinstance(out, CArray) else None
        shape = out.shape if isinstance(out, CArray) else ()
        if t is None:
            result.append((np.zeros(shape), np.zeros(shape, bool)))
            continue
        reach = full(t.live, shape)
        result.append((np.where(reach, np.broadcast_to(t.v, shape), 0.0), reach.copy()))
    return result


def directional(outputs: Sequence[Any], inputs: Sequence[CArray], direction: Sequence[Any],
                counter: Counter, phase: str = "tangent", dense: bool = False
                ) -> list[np.ndarray]:
    """One tangent pass: the directional derivative of every output along
    ``direction`` (one array per input, of its shape), counted under
    ``(phase, None, "tangent")`` as :func:`cheapgrad.core.forward.directional` counts
    on the scalar engine. An element with a zero direction gets no tangent (no op),
    unless ``dense``: then every input element is seeded, zeros included."""
    return [v for v, _ in passes(outputs, inputs, direction, counter, phase, dense)]
