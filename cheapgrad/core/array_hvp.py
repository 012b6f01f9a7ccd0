"""Forward over reverse on counted arrays: the tangent of the reverse sweep, counted.

The scalar engine gets H·v by recording the reverse sweep as a circuit and pushing one
tangent through it (:func:`cheapgrad.core.forward.directional` over f and ∇f). The array
engine's sweep (:mod:`cheapgrad.core.array_sweep`) is computed in numpy and counted from
masks, so :func:`tangent_of_sweep` walks it again and pushes the tangent through each
rule, counting per element what the scalar engine's tangent pass counts over the same
recorded sweep:

* ``elementwise``: the op table's ``vjp`` (or one-sided rule) is run again on counted
  arrays restricted to each group, traced, and the forward mode of counted arrays
  (:mod:`cheapgrad.core.array_forward`) pushes the tangents of the adjoint, the result
  and the operands through that little circuit;
* ``matmul``: per term ``g·b`` that the sweep made (adjoint present, operand dependent),
  one ``mul`` per factor carrying a tangent (nonscalar where it and the other factor
  depend) and one ``add`` where both do;
* ``sum``, ``move``, ``select``: the tangent is routed like the adjoint (no op);
* accumulation: an adjoint element reached by k contributions carrying a tangent costs
  k − 1 ``add`` (the tangent of a chain of adds, whatever the grouping).

The scalar pass visits only the forward nodes the gradient reads, so the forward
tangents are counted on the elements the sweep's rules read
(:func:`cheapgrad.core.array_forward.uses`). A :class:`Plan` walks the sweep once for
its values (the adjoints, which elements they reach, the traced rules, what they read);
each pass (:meth:`Plan.run`) then pushes one tangent, so a Hessian's passes share it.

Example::

    >>> from cheapgrad.core.array_masks import tracing
    >>> from cheapgrad.core.array_sweep import backward
    >>> c = Counter()
    >>> x = CArray(np.array([1.0, 2.0]), dep=True)
    >>> with tracing(), c.scope("forward"):
    ...     y = (x * x * x).sum()
    >>> g = backward(y, [x], c)
    >>> [v.tolist() for v, _ in tangent_of_sweep(y, [x], [np.array([1.0, 0.0])], c)]
    [[6.0, 0.0]]
    >>> c.totals("tangent").nonzero()
    {'add': 5, 'mul': 8}
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from cheapgrad.core.array import CArray
from cheapgrad.core.array_forward import dep_order, push, uses
from cheapgrad.core.array_masks import Mask, both, charge, either, full, norm, tracing, untraced
from cheapgrad.core.array_rules import (
    RULES,
    TRANSPARENT,
    _contribution,
    _unbroadcast,
    rule_groups,
)
from cheapgrad.core.counter import Counter
from cheapgrad.core.tape import DifferentiationError

__all__ = ["Plan", "tangent_of_sweep"]

#: A contribution: operand, values (or tangent values), counts per element, dep mask.
Part = tuple[CArray, Any, Any, Any]
Need = dict[int, np.ndarray]
Tangents = dict[int, CArray | None]


def _read(need: Need, node: CArray, m: np.ndarray) -> None:
    m = np.asarray(m, bool) & full(node.dep, node.shape)
    old = need.get(id(node))
    need[id(node)] = m if old is None else (old | m)


def _any_to(m: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    m = np.asarray(m, bool)
    if m.shape == shape:
        return m
    return np.asarray(_unbroadcast(m, shape, "any"), bool)


def _sw(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, -1, -2)


def _restrict(t: CArray | None, mask: Mask, shape: tuple[int, ...]) -> CArray | None:
    if t is None:
        return None
    live = norm(full(t.live, shape) & full(mask, shape))
    if live is False:
        return None
    return CArray.made(np.broadcast_to(t.v, shape), norm(full(t.dep, shape)), live)


def _parts(t: CArray | None, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray,
                                                               np.ndarray]:
    if t is None:
        z = np.zeros(shape)
        return z, z, z
    live = full(t.live, shape)
    return (np.where(live, np.broadcast_to(t.v, shape), 0.0), live.astype(np.float64),
            (live & full(t.dep, shape)).astype(np.float64))


def _merge(x: CArray, shape: tuple[int, ...], ps: list[tuple[Any, Mask, Mask]]) -> Part:
    """Disjoint groups' values (or tangents) into one contribution to ``x``."""
    v, mm, d = np.zeros(shape), np.zeros(shape, bool), np.zeros(shape, bool)
    for pv, pm, pd in ps:
        pmf = full(pm, shape)
        np.copyto(v, np.broadcast_to(pv, shape), where=pmf)
        mm |= pmf
        d |= full(pd, shape) & pmf
    return _contribution(x, v, norm(mm), norm(d), shape)


# --- the plan: the sweep's values, walked once -----------------------------------------------


def _plan_elementwise(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask,
                      need: Need) -> tuple[Any, list[Part]]:
    args, (op, k) = node.node[1:3]  # type: ignore[index]
    shape = node.shape
    rest = [] if k is None else [k]
    traced = []
    values: dict[int, list[tuple[Any, Mask, Mask]]] = {}
    for mask, which, rule, operands in rule_groups(node, op, args, gv, present, gdep, shape):
        g, out, *ops = operands
        with tracing(), np.errstate(all="ignore"):
            cs = rule(g, out, *ops, *rest)
        outs = [(i, c) for i, c in enumerate(cs[:len(args)]) if c is not None and which[i]]
        order = dep_order([c for _, c in outs])
        used = uses(order, [c for _, c in outs])
        if id(out) in used:
            _read(need, node, used[id(out)])
        for a, o in zip(args, ops, strict=True):
            if id(o) in used:
                _read(need, a, _any_to(used[id(o)], a.shape))
        for i, c in outs:
            values.setdefault(i, []).append((c.v, mask, c.dep))
        traced.append((mask, g, out, ops, outs, order, used))
    return traced, [_merge(args[i], shape, ps) for i, ps in values.items()]


def _plan_matmul(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask,
                 need: Need) -> tuple[Any, list[Part]]:
    a, b = node.node[1]  # type: ignore[index]
    p = full(present, node.shape).astype(np.float64)
    if a.dep is not False:
        _read(need, b, _any_to((_sw(full(a.dep, a.shape).astype(np.float64)) @ p) > 0,
                               b.shape))
    if b.dep is not False:
        _read(need, a, _any_to((p @ _sw(full(b.dep, b.shape).astype(np.float64))) > 0,
                               a.shape))
    data = (p, np.where(p > 0, gv, 0.0), p * full(gdep, node.shape))
    return data, list(RULES["matmul"](node, gv, present, gdep))


def _route(node: CArray, v: np.ndarray, m: Mask, d: Mask) -> list[Part]:
    kind = node.node[0]  # type: ignore[index]
    if kind in TRANSPARENT:
        return [c[:4] for c in TRANSPARENT[kind](node, v, m, d, 0)]
    return list(RULES[kind](node, v, m, d))


def _plan_routed(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask,
                 need: Need) -> tuple[Any, list[Part]]:
    return None, _route(node, gv, present, gdep)


_PLAN = {"elementwise": _plan_elementwise, "matmul": _plan_matmul, "sum": _plan_routed,
         "move": _plan_routed, "select": _plan_routed}


# --- one pass: the tangents -------------------------------------------------------------------


def _tan_elementwise(node: CArray, data: Any, gt: CArray | None, ft: Tangents
                     ) -> list[Part]:
    args = node.node[1]  # type: ignore[index]
    shape = node.shape
    parts: dict[int, list[tuple[Any, Mask, Mask]]] = {}
    for mask, g, out, ops, outs, order, used in data:
        tan: Tangents = {id(g): _restrict(gt, mask, shape),
                         id(out): _restrict(ft.get(id(node)), mask, shape)}
        for a, o in zip(args, ops, strict=True):
            tan[id(o)] = _restrict(ft.get(id(a)), mask, shape)
        push(order, tan, used)
        for i, c in outs:
            t = tan.get(id(c)) if c.dep is not False else None
            if t is not None:
                live = both(t.live, mask)
                parts.setdefault(i, []).append((t.v, live, both(t.dep, live)))
    return [_merge(args[i], shape, ps) for i, ps in parts.items()]


def _tan_matmul(node: CArray, data: Any, gt: CArray | None, ft: Tangents) -> list[Part]:
    a, b = node.node[1]  # type: ignore[index]
    p, g0, gd = data
    tg, lg, dg = _parts(gt, node.shape)
    plg, tg = p * lg, tg * p
    ta, la, dla = _parts(ft.get(id(a)), a.shape)
    tb, lb, dlb = _parts(ft.get(id(b)), b.shape)
    da = full(a.dep, a.shape).astype(np.float64)
    db = full(b.dep, b.shape).astype(np.float64)
    out: list[Part] = []
    if a.dep is not False:  # terms g[i,j]·b[k,j] into a[i,k]
        muls = da * (plg.sum(-1)[..., None] + p @ _sw(lb))
        two = da * (plg @ _sw(lb))
        ns = da * ((plg * dg) @ _sw(db) + gd @ _sw(dlb))
        dep = (da * ((plg * dg).sum(-1)[..., None] + plg @ _sw(db) + gd @ _sw(lb)
                     + p @ _sw(dlb))) > 0
        out.append(_terms(a, muls, two, ns, dep, da * (tg @ _sw(b.v) + g0 @ _sw(tb))))
    if b.dep is not False:  # terms a[i,k]·g[i,j] into b[k,j]
        muls = db * (_sw(la) @ p + plg.sum(-2)[..., None, :])
        two = db * (_sw(la) @ plg)
        ns = db * (_sw(dla) @ gd + _sw(da) @ (plg * dg))
        dep = (db * (_sw(dla) @ p + _sw(la) @ gd + (plg * dg).sum(-2)[..., None, :]
                     + _sw(da) @ plg)) > 0
        out.append(_terms(b, muls, two, ns, dep, db * (_sw(ta) @ g0 + _sw(a.v) @ tg)))
    return out


def _terms(x: CArray, muls: np.ndarray, two: np.ndarray, ns: np.ndarray, dep: np.ndarray,
           vals: np.ndarray) -> Part:
    """Charge the terms' tangent ops; the tangent contribution to ``x``."""
    charge("mul", int(round(muls.sum())), int(round(ns.sum())))
    charge("add", int(round(two.sum())))
    live = muls - two  # terms carrying a tangent
    cnt = np.rint(_unbroadcast(live, x.shape, "sum")).astype(np.int64)
    return (x, _unbroadcast(vals, x.shape, "sum"), cnt,
            norm(_unbroadcast(dep & (live > 0.5), x.shape, "any")))


def _tan_routed(node: CArray, data: Any, gt: CArray | None, ft: Tangents) -> list[Part]:
    if gt is None:
        return []
    return _route(node, np.where(full(gt.live, node.shape),
                                 np.broadcast_to(gt.v, node.shape), 0.0),
                  gt.live, both(gt.dep, gt.live))


_TANGENT = {"elementwise": _tan_elementwise, "matmul": _tan_matmul, "sum": _tan_routed,
            "move": _tan_routed, "select": _tan_routed}


def _fresh(shape: tuple[int, ...]) -> list[Any]:
    return [np.zeros(shape), np.zeros(shape, np.int64), np.zeros(shape, bool)]


def _add(entry: list[Any], v: Any, c: Any, d: Mask) -> None:
    entry[0] = entry[0] + v
    entry[1] = entry[1] + c
    entry[2] = entry[2] | full(d, entry[2].shape)


class Plan:
    """The reverse sweep of the recorded counted scalar ``output`` walked once for its
    values, uncounted (the sweep itself is counted by
    :func:`cheapgrad.core.array_sweep.backward`): per node its adjoint, which elements
    it reaches, the rules traced on them and the forward elements they read."""

    __slots__ = ("forward", "inputs", "steps", "used")

    def __init__(self, output: CArray, inputs: Sequence[CArray]) -> None:
        self.forward = dep_order([output])
        self.inputs = list(inputs)
        index = {id(x) for x in inputs}
        for node in self.forward:
            if node.node is None and id(node) not in index:
                raise DifferentiationError("the output depends on a counted array that is "
                                           "not an input or was made outside tracing()")
        need: Need = {}
        self.steps: list[tuple[CArray, Any]] = []
        adj: dict[int, list[Any]] = {}
        if output.dep is not False:
            adj[id(output)] = [np.ones(output.shape), np.ones(output.shape, np.int64),
                               np.zeros(output.shape, bool)]
        with Counter().scope("values"), untraced(None):
            for node in reversed(self.forward):
                entry = adj.pop(id(node), None)
                if entry is None:
                    continue
                gv, gc, gd = entry
                if node.node is None:
                    self.steps.append((node, None))
                    continue
                present, gdep = norm(gc > 0), norm(gd & (gc > 0))
                data, parts = _PLAN[node.node[0]](node, gv, present, gdep, need)
                self.steps.append((node, data))
                for x, v, c, d in parts:
                    _add(adj.setdefault(id(x), _fresh(x.shape)), v, c, d)
        self.used = uses(self.forward, [], start=need)

    def run(self, direction: Sequence[Any], counter: Counter, phase: str = "tangent",
            dense: bool = False) -> list[tuple[np.ndarray, np.ndarray]]:
        """One tangent pass along ``direction`` (one array per input): per input, the
        tangent of its gradient (H·direction) and where a tangent reached it, every op
        counted under ``(phase, None, "tangent")``. An input element with a zero
        direction gets no tangent unless ``dense``."""
        index = {id(x): i for i, x in enumerate(self.inputs)}
        ft: Tangents = {}
        for node in self.forward:
            if node.node is None:
                d = np.broadcast_to(np.asarray(direction[index[id(node)]], dtype=np.float64),
                                    node.shape)
                seeded = either(norm(d != 0.0), dense)
                ft[id(node)] = None if seeded is False else CArray(d, False, seeded)
        found: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        adj: dict[int, list[Any]] = {}
        with counter.scope(phase, None, "tangent"), untraced(None):
            push(self.forward, ft, self.used)
            for node, data in self.steps:
                entry = adj.pop(id(node), None)
                gt = None
                if entry is not None:
                    tv, tc, td = entry
                    charge("add", int(np.maximum(tc - 1, 0).sum()))
                    live = norm(tc > 0)
                    if node.node is None:
                        found[id(node)] = (np.where(tc > 0, tv, 0.0), tc > 0)
                        continue
                    if live is not False:
                        gt = CArray(tv, norm(td & (tc > 0)), live)
                if node.node is None:
                    continue
                for x, v, c, d in _TANGENT[node.node[0]](node, data, gt, ft):
                    _add(adj.setdefault(id(x), _fresh(x.shape)), v, c, d)
        return [found.get(id(x), (np.zeros(x.shape), np.zeros(x.shape, bool)))
                for x in self.inputs]


def tangent_of_sweep(output: CArray, inputs: Sequence[CArray], direction: Sequence[Any],
                     counter: Counter, phase: str = "tangent", dense: bool = False
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The tangent along ``direction`` of the gradient of the recorded counted scalar
    ``output`` (H·direction): one :class:`Plan` and one pass (:meth:`Plan.run`)."""
    return Plan(output, inputs).run(direction, counter, phase, dense)
