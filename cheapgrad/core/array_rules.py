"""Reverse mode of counted arrays: one reverse rule per node kind, measured.

The sweep mirrors :func:`cheapgrad.core.tape.backward` element by element. An adjoint
is a float array, its *presence* (how many contributions each element received: only
elements an adjoint reaches cost anything) and its ``dep`` mask. The rules:

* ``elementwise``: the op table's own ``vjp`` (:mod:`cheapgrad.core.ops`), or the
  one-sided rule of :data:`cheapgrad.core.tape.ONE_SIDED` where one operand element is
  constant, run on counted arrays restricted (``live``) to the present elements: the
  backward pass is counted by the same ops as the forward one;
* ``matmul``: per present result element and term, ``g·b`` for a dependent ``a`` and
  ``g·a`` for a dependent ``b`` (one ``mul`` each), counted from the masks;
* ``sum`` and ``move`` (data movement and selection): route the adjoint, no op.

The first contribution to an element's adjoint is assigned, each later one costs one
``add`` (a broadcast operand used by n results receives n contributions).

Example::

    >>> import numpy as np
    >>> from cheapgrad.core.array import CArray
    >>> from cheapgrad.core.array_masks import tracing
    >>> from cheapgrad.core.counter import Counter
    >>> c = Counter()
    >>> x = CArray(np.array([1.0, 2.0]), dep=True)
    >>> with tracing(), c.scope("forward"):
    ...     y = (x * x).sum()
    >>> [g.tolist() for g in backward(y, [x], c)], c.totals("backward").nonzero()
    ([[2.0, 4.0]], {'add': 2, 'mul': 4})
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from cheapgrad.core.array import CArray
from cheapgrad.core.array_masks import Mask, both, charge, either, full, norm, untraced
from cheapgrad.core.counter import Counter
from cheapgrad.core.tape import DifferentiationError, rule_for

# A contribution to one operand: (operand, values, counts per element (an int when
# uniform), dep mask).
Contribution = tuple[CArray, np.ndarray, Any, Mask]
Rule = Callable[[CArray, np.ndarray, Mask, Mask], list[Contribution]]


def _unbroadcast(x: np.ndarray, shape: tuple[int, ...], how: str) -> np.ndarray:
    """Sum (or any) ``x`` over the axes broadcasting added to an array of ``shape``."""
    if x.shape == shape:
        return x
    lead = x.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and x.shape[lead + i] != 1)
    r = x.any(axis=axes, keepdims=True) if how == "any" else x.sum(axis=axes, keepdims=True)
    return r.reshape(shape)


def _contribution(a: CArray, vals: np.ndarray, mask: Mask, dep: Mask, shape: tuple[int, ...]
                  ) -> Contribution:
    if mask is True:
        cnt = int(np.prod(shape, dtype=np.int64)) // max(1, a.size)  # uniform reuse
        d = dep if not isinstance(dep, np.ndarray) else norm(_unbroadcast(dep, a.shape, "any"))
        return a, _unbroadcast(np.broadcast_to(vals, shape), a.shape, "sum"), cnt, d
    v = np.where(mask, vals, 0.0)
    return (a, _unbroadcast(v, a.shape, "sum"),
            _unbroadcast(mask.astype(np.int64), a.shape, "sum"),
            norm(_unbroadcast(full(dep, shape) & mask, a.shape, "any")))


def _elementwise(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask
                 ) -> list[Contribution]:
    _, args, (op, k), _ = node.node  # type: ignore[misc]
    shape = node.shape
    needs = [both(present, a.dep if not isinstance(a.dep, np.ndarray)
                  else np.broadcast_to(a.dep, shape)) for a in args]
    rest = [] if k is None else [k]
    acc: dict[int, list[Any]] = {}
    groups: list[tuple[Mask, tuple[bool, ...]]] = []
    if len(args) == 1:
        groups.append((needs[0], (True,)))
    else:
        na, nb = needs
        groups += [(both(na, nb), (True, True)),
                   (both(na, _not(nb)), (True, False)), (both(nb, _not(na)), (False, True))]
    for mask, which in groups:
        if mask is False:
            continue
        rule = rule_for(op, which) if len(args) == 2 else op.vjp
        if rule is None:
            raise DifferentiationError(f"op '{op.name}' has no derivative rule")
        g = CArray(gv, gdep, mask)
        out = CArray(node.v, node.dep, mask)
        ops = [CArray(np.broadcast_to(a.v, shape), full(a.dep, shape), mask) for a in args]
        with np.errstate(all="ignore"):
            cs = rule(g, out, *ops, *rest)
        for i, c in enumerate(cs[:len(args)]):
            if c is None or not which[i]:
                continue
            if mask is True:  # the whole array: one group
                acc[i] = [c.v, True, c.dep]
                continue
            cv = np.broadcast_to(c.v, shape)
            cd = full(c.dep, shape) & mask
            if i in acc:
                acc[i][0] = np.where(mask, cv, acc[i][0])
                acc[i][1] = acc[i][1] | mask
                acc[i][2] = acc[i][2] | cd
            else:
                acc[i] = [np.where(mask, cv, 0.0), full(mask, shape).copy(), cd]
    return [_contribution(args[i], v, mm, d, shape) for i, (v, mm, d) in acc.items()]


def _not(m: Mask) -> Mask:
    return (not m) if not isinstance(m, np.ndarray) else norm(~m)


def _swap(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, -1, -2)


def _matmul(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask
            ) -> list[Contribution]:
    a, b = node.node[1]  # type: ignore[index]
    shape = node.shape
    if not isinstance(a.dep, np.ndarray) and not isinstance(b.dep, np.ndarray):
        return _uniform_matmul(node, gv, present, gdep)
    present = full(present, shape)
    p = present.astype(np.float64)
    g0 = np.where(present, gv, 0.0)
    pg = p * full(gdep, shape)
    out: list[Contribution] = []
    da = full(a.dep, a.shape).astype(np.float64)
    db = full(b.dep, b.shape).astype(np.float64)
    if a.dep is not False:
        rows = p.sum(-1)[..., None]
        cnt = da * rows  # batch-broadcast shape
        ns = float((da * np.matmul(pg, _swap(db))).sum())
        dep = (da > 0) & ((pg.sum(-1)[..., None] > 0) | (np.matmul(p, _swap(db)) > 0))
        charge("mul", int(cnt.sum()), int(ns))
        vals = np.matmul(g0, _swap(b.v)) * da
        out.append((a, _unbroadcast(vals, a.shape, "sum"),
                    _unbroadcast(cnt, a.shape, "sum").astype(np.int64),
                    norm(_unbroadcast(dep, a.shape, "any"))))
    if b.dep is not False:
        cols = p.sum(-2)[..., None, :]
        cnt = db * cols
        ns = float((db * np.matmul(_swap(da), pg)).sum())
        dep = (db > 0) & ((pg.sum(-2)[..., None, :] > 0) | (np.matmul(_swap(da), p) > 0))
        charge("mul", int(cnt.sum()), int(ns))
        vals = np.matmul(_swap(a.v), g0) * db
        out.append((b, _unbroadcast(vals, b.shape, "sum"),
                    _unbroadcast(cnt, b.shape, "sum").astype(np.int64),
                    norm(_unbroadcast(dep, b.shape, "any"))))
    return out


def _uniform_matmul(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask
                    ) -> list[Contribution]:
    """Uniform dependence masks: the counts from the present elements per row and column
    (the shapes alone when every element is present)."""
    a, b = node.node[1]  # type: ignore[index]
    shape = node.shape
    g0 = gv if present is True else np.where(present, gv, 0.0)
    p: Any = None if present is True else full(present, shape)
    out: list[Contribution] = []
    for x, other, vals, per, side in (
            (a, b, lambda: np.matmul(g0, _swap(b.v)), lambda: p.sum(-1)[..., None], -1),
            (b, a, lambda: np.matmul(_swap(a.v), g0), lambda: p.sum(-2)[..., None, :], -2)):
        if x.dep is False:
            continue
        full_shape = shape[:-2] + x.shape[-2:]
        if present is True:  # every element of x feeds the same number of results
            each = shape[side] * (node.size // (shape[-1] * shape[-2]))
            each //= max(1, x.size // (x.shape[-1] * x.shape[-2]))
            cnt: Any = each  # uniform: every element of x feeds `each` results
            muls = each * x.size
        else:
            reached = per()  # per element of x (batch-broadcast): present results it feeds
            cnt = np.broadcast_to(reached, full_shape).astype(np.int64)
            muls = int(cnt.sum())
        if other.dep is False or gdep is False:
            ns = 0
        elif gdep is True:
            ns = muls
        else:  # k products per present result whose adjoint depends on the inputs
            ns = a.shape[-1] * int(np.count_nonzero(full(present, shape) & gdep))
        charge("mul", muls, ns)
        dep = either(gdep, other.dep)
        if isinstance(dep, np.ndarray):  # some adjoints depend: which elements they reach
            pg = (full(present, shape) & gdep).astype(np.float64)
            hit = pg.sum(side)[..., None] if side == -1 else pg.sum(-2)[..., None, :]
            dep = norm(_unbroadcast(np.broadcast_to(hit > 0, full_shape), x.shape, "any"))
            out.append((x, _unbroadcast(vals(), x.shape, "sum"),
                        cnt if isinstance(cnt, int) or cnt.shape == x.shape
                        else _unbroadcast(cnt, x.shape, "sum"), dep))
            continue
        out.append((x, _unbroadcast(vals(), x.shape, "sum"),
                    cnt if isinstance(cnt, int) or cnt.shape == x.shape
                    else _unbroadcast(cnt, x.shape, "sum"),
                    dep if present is True or dep is False
                    else norm(_unbroadcast(cnt > 0, x.shape, "any"))))
    return out


def _sum(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask
         ) -> list[Contribution]:
    present = full(present, node.shape)
    (a,), (axes, keepdims), _ = node.node[1:]  # type: ignore[index]

    def spread(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x if keepdims else np.expand_dims(x, axes), a.shape)

    mask = spread(present) & full(a.dep, a.shape)
    return [(a, np.where(mask, spread(gv), 0.0), mask.astype(np.int64),
             norm(spread(full(gdep, node.shape)) & mask))]


def _move(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask
          ) -> list[Contribution]:
    sources, src, _ = node.node[1:]  # type: ignore[index]
    sel = full(present, node.shape) & full(node.dep, node.shape)
    out: list[Contribution] = []
    off = 0
    gd = full(gdep, node.shape)
    for s in sources:
        m = sel & (src >= off) & (src < off + s.size)
        if m.any():
            idx = src[m] - off
            vals = np.bincount(idx, weights=gv[m], minlength=s.size).reshape(s.shape)
            cnt = np.bincount(idx, minlength=s.size).reshape(s.shape)
            dep = np.bincount(idx, weights=gd[m], minlength=s.size).reshape(s.shape) > 0
            out.append((s, vals, cnt, norm(dep)))
        off += s.size
    return out


def _select(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask
            ) -> list[Contribution]:
    a, b = node.node[1]  # type: ignore[index]
    cond = node.node[2]  # type: ignore[index]
    shape = node.shape
    out: list[Contribution] = []
    for x, side in ((a, cond), (b, ~cond)):
        if x.dep is False:
            continue
        mask = full(present, shape) & side & full(x.dep, shape)
        if mask.any():
            out.append(_contribution(x, gv, mask, gdep, shape))
    return out


#: The reverse rule of each node kind (the elementwise ones use the op table's rules).
RULES: dict[str, Rule] = {"elementwise": _elementwise, "matmul": _matmul, "sum": _sum,
                          "move": _move, "select": _select}


def _toposort(end: CArray) -> list[CArray]:
    uses: dict[int, int] = {}
    stack = [end]
    while stack:
        n = stack.pop()
        if id(n) in uses:
            uses[id(n)] += 1
            continue
        uses[id(n)] = 1
        if n.node is not None:
            stack.extend(p for p in n.node[1] if p.dep is not False)
    order, ready = [], [end]
    while ready:
        n = ready.pop()
        order.append(n)
        if n.node is not None:
            for p in n.node[1]:
                if p.dep is False:
                    continue
                uses[id(p)] -= 1
                if uses[id(p)] == 0:
                    ready.append(p)
    return order


def backward(output: Any, inputs: Sequence[CArray], counter: Counter,
             phase: str = "backward", seed: np.ndarray | None = None) -> list[np.ndarray]:
    """∂output/∂input for each input array (zeros where the output does not depend on
    it), every op of the sweep counted in ``counter`` under ``(phase, None, kind)``.
    With ``seed`` (constant weights of the output's shape, zeros included) the sweep
    starts from those adjoints on every element of an array output: ∂(Σ seed·output)."""
    if seed is None and (not isinstance(output, CArray) or output.shape != ()):
        raise DifferentiationError("the function must return a counted scalar (a 0-d "
                                   f"counted array), got {type(output).__name__}")
    adj: dict[int, list[Any]] = {}
    if output.dep is not False:
        adj[id(output)] = [np.ones(()), np.ones((), np.int64), False] if seed is None else [
            np.asarray(seed, dtype=np.float64).reshape(output.shape),
            np.ones(output.shape, np.int64), False]
    found: dict[int, np.ndarray] = {}
    input_ids = {id(x) for x in inputs}
    for node in _toposort(output) if output.dep is not False else []:
        entry = adj.pop(id(node), None)
        if entry is None:
            continue
        vals, cnt, dep = entry
        present = (cnt > 0) if isinstance(cnt, int) else norm(cnt > 0)
        if node.node is None:
            if id(node) not in input_ids:
                raise DifferentiationError("the output depends on a counted array that is "
                                           "not an input or was made outside tracing()")
            found[id(node)] = vals
            continue
        kind, line = node.node[0], node.node[3]
        # a matrix product's sweep is counted under part "matvec" (the flop model's), an
        # elementwise op's under its op's name; the adds that sum contributions into
        # adjoints under layer "accumulate" (the scalar engine attributes them alike)
        part = "matvec" if kind == "matmul" else (
            node.node[2][0].name if kind == "elementwise" else kind)
        with counter.scope(phase, None, part), untraced(line):
            contributions = RULES[kind](node, vals, present, dep)
        with counter.scope(phase, "accumulate", part), untraced(line):
            for s, v, c, d in contributions:
                old = adj.get(id(s))
                total = c * s.size if isinstance(c, int) else int(c.sum())
                if old is None:
                    reached = (s.size if c > 0 else 0) if isinstance(c, int) \
                        else int(np.count_nonzero(c))
                    charge("add", total - reached)
                    adj[id(s)] = [v, c, d]
                else:
                    fresh = (c > 0) & (old[1] == 0)
                    charge("add", total - int(np.count_nonzero(np.broadcast_to(fresh, s.shape))))
                    old[0] = old[0] + v
                    old[1] = old[1] + c
                    old[2] = either(old[2], d)
    return [found[id(x)] if id(x) in found else np.zeros(x.shape) for x in inputs]
