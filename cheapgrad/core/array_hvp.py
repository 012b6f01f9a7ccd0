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
tangents are computed once uncounted (their values), then counted on the elements the
sweep's rules read (:func:`cheapgrad.core.array_forward.uses`).

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
    SEPARABLE,
    TRANSPARENT,
    _contribution,
    _not,
    _unbroadcast,
)
from cheapgrad.core.counter import Counter
from cheapgrad.core.tape import DifferentiationError, rule_for

__all__ = ["tangent_of_sweep"]

# One contribution with its tangent: operand, values, counts, dep, tangent values,
# tangent counts (contributions carrying a tangent per element), tangent dep.
Pair = tuple[CArray, Any, Any, Any, Any, Any, Any]


class _Sweep:
    """The state of one walk: forward tangents (values), what the rules read."""

    def __init__(self, ft: dict[int, CArray | None]) -> None:
        self.ft = ft
        self.need: dict[int, np.ndarray] = {}
        self.quiet = Counter()  # the values' ops: counted already by the real sweep

    def read(self, node: CArray, m: np.ndarray) -> None:
        m = np.asarray(m, bool) & full(node.dep, node.shape)
        old = self.need.get(id(node))
        self.need[id(node)] = m if old is None else (old | m)


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


def _elementwise(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask,
                 gt: CArray | None, s: _Sweep) -> list[Pair]:
    args, (op, k) = node.node[1:3]  # type: ignore[index]
    shape = node.shape
    needs = [both(present, a.dep if not isinstance(a.dep, np.ndarray)
                  else np.broadcast_to(a.dep, shape)) for a in args]
    groups: list[tuple[Mask, tuple[bool, ...]]] = []
    if len(args) == 1:
        groups.append((needs[0], (True,)))
    elif op.name in SEPARABLE:
        groups += [(needs[0], (True, False)), (needs[1], (False, True))]
    else:
        na, nb = needs
        groups += [(both(na, nb), (True, True)),
                   (both(na, _not(nb)), (True, False)), (both(nb, _not(na)), (False, True))]
    rest = [] if k is None else [k]
    parts: dict[int, list[tuple[Any, Mask, Mask, CArray | None]]] = {}
    for mask, which in groups:
        if mask is False:
            continue
        rule = rule_for(op, which) if len(args) == 2 else op.vjp
        if rule is None:
            raise DifferentiationError(f"op '{op.name}' has no derivative rule")
        g = CArray.made(gv, gdep, mask)
        out = CArray.made(node.v, node.dep, mask)
        ops = [CArray.made(a.v if a.shape == shape else np.broadcast_to(a.v, shape), a.dep,
                           mask) for a in args]
        with tracing(), s.quiet.scope("values"), np.errstate(all="ignore"):
            cs = rule(g, out, *ops, *rest)
        outs = [c for i, c in enumerate(cs[:len(args)]) if c is not None and which[i]]
        order = dep_order(outs)
        used = uses(order, outs)
        tan: dict[int, CArray | None] = {id(g): _restrict(gt, mask, shape),
                                         id(out): _restrict(s.ft.get(id(node)), mask, shape)}
        for a, o in zip(args, ops, strict=True):
            tan[id(o)] = _restrict(s.ft.get(id(a)), mask, shape)
        with untraced(None):
            push(order, tan, used)
        if id(out) in used:
            s.read(node, used[id(out)])
        for a, o in zip(args, ops, strict=True):
            if id(o) in used:
                s.read(a, _any_to(used[id(o)], a.shape))
        for i, c in enumerate(cs[:len(args)]):
            if c is not None and which[i]:
                t = tan.get(id(c)) if c.dep is not False else None
                parts.setdefault(i, []).append((c.v, mask, c.dep, t))
    result: list[Pair] = []
    for i, ps in parts.items():
        v, mm, d = np.zeros(shape), np.zeros(shape, bool), np.zeros(shape, bool)
        tv, tl, td = np.zeros(shape), np.zeros(shape, bool), np.zeros(shape, bool)
        for pv, pm, pd, pt in ps:
            pmf = full(pm, shape)
            np.copyto(v, np.broadcast_to(pv, shape), where=pmf)
            mm |= pmf
            d |= full(pd, shape) & pmf
            if pt is not None:
                lv = full(pt.live, shape) & pmf
                np.copyto(tv, np.broadcast_to(pt.v, shape), where=lv)
                tl |= lv
                td |= full(pt.dep, shape) & lv
        a, vals, cnt, dep = _contribution(args[i], v, norm(mm), norm(d), shape)
        _, tvals, tcnt, tdep = _contribution(args[i], tv, norm(tl), norm(td), shape)
        result.append((a, vals, cnt, dep, tvals, tcnt, tdep))
    return result


def _any_to(m: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    m = np.asarray(m, bool)
    if m.shape == shape:
        return m
    return np.asarray(_unbroadcast(m, shape, "any"), bool)


def _sw(x: np.ndarray) -> np.ndarray:
    return np.swapaxes(x, -1, -2)


def _matmul(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask,
            gt: CArray | None, s: _Sweep) -> list[Pair]:
    a, b = node.node[1]  # type: ignore[index]
    shape = node.shape
    with s.quiet.scope("values"):
        values = list(RULES["matmul"](node, gv, present, gdep))  # a's first, then b's
    p = full(present, shape).astype(np.float64)
    g0 = np.where(p > 0, gv, 0.0)
    gd = p * full(gdep, shape)
    tg, lg, dg = _parts(gt, shape)
    plg, tg = p * lg, tg * p
    ta, la, dla = _parts(s.ft.get(id(a)), a.shape)
    tb, lb, dlb = _parts(s.ft.get(id(b)), b.shape)
    da = full(a.dep, a.shape).astype(np.float64)
    db = full(b.dep, b.shape).astype(np.float64)
    out: list[Pair] = []
    if a.dep is not False:  # terms g[i,j]·b[k,j] into a[i,k]
        rows = plg.sum(-1)[..., None]
        muls = da * (rows + p @ _sw(lb))
        two = da * (plg @ _sw(lb))
        ns = da * ((plg * dg) @ _sw(db) + gd @ _sw(dlb))
        dep = (da * ((plg * dg).sum(-1)[..., None] + plg @ _sw(db) + gd @ _sw(lb)
                     + p @ _sw(dlb))) > 0
        vals = da * (tg @ _sw(b.v) + g0 @ _sw(tb))
        out.append(_pair(values[0], a, muls, two, ns, dep, vals))
        s.read(b, _any_to((_sw(da) @ p) > 0, b.shape))
    if b.dep is not False:  # terms a[i,k]·g[i,j] into b[k,j]
        cols = plg.sum(-2)[..., None, :]
        muls = db * (_sw(la) @ p + cols)
        two = db * (_sw(la) @ plg)
        ns = db * (_sw(dla) @ gd + _sw(da) @ (plg * dg))
        dep = (db * (_sw(dla) @ p + _sw(la) @ gd + (plg * dg).sum(-2)[..., None, :]
                     + _sw(da) @ plg)) > 0
        vals = db * (_sw(ta) @ g0 + _sw(a.v) @ tg)
        out.append(_pair(values[-1], b, muls, two, ns, dep, vals))
        s.read(a, _any_to((p @ _sw(db)) > 0, a.shape))
    return out


def _pair(value: Any, x: CArray, muls: np.ndarray, two: np.ndarray, ns: np.ndarray,
          dep: np.ndarray, vals: np.ndarray) -> Pair:
    charge("mul", int(round(muls.sum())), int(round(ns.sum())))
    charge("add", int(round(two.sum())))
    live = muls - two  # terms carrying a tangent
    cnt = np.rint(_unbroadcast(live, x.shape, "sum")).astype(np.int64)
    d = norm(_unbroadcast(dep & (live > 0.5), x.shape, "any"))
    _, v, c, vd = value
    return (x, v, c, vd, _unbroadcast(vals, x.shape, "sum"), cnt, d)


def _routed(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask,
            gt: CArray | None, s: _Sweep) -> list[Pair]:
    """Sum, move, select: the tangent goes where the adjoint goes, no op."""
    kind = node.node[0]  # type: ignore[index]

    def route(v: np.ndarray, m: Mask, d: Mask) -> list[tuple[Any, ...]]:
        if kind in TRANSPARENT:
            return [c[:4] for c in TRANSPARENT[kind](node, v, m, d, 0)]
        return list(RULES[kind](node, v, m, d))

    with s.quiet.scope("values"):
        vals = route(gv, present, gdep)
        tans = [] if gt is None else route(
            np.where(full(gt.live, node.shape), np.broadcast_to(gt.v, node.shape), 0.0),
            gt.live, both(gt.dep, gt.live))
    out: list[Pair] = [(x, v, c, d, 0.0, 0, False) for x, v, c, d in vals]
    out += [(x, 0.0, 0, False, v, c, d) for x, v, c, d in tans]
    return out


_TANGENT_RULES = {"elementwise": _elementwise, "matmul": _matmul, "sum": _routed,
                  "move": _routed, "select": _routed}


def _seeds(order: list[CArray], inputs: Sequence[CArray], direction: Sequence[Any],
           dense: bool) -> dict[int, CArray | None]:
    index = {id(x): i for i, x in enumerate(inputs)}
    tan: dict[int, CArray | None] = {}
    for node in order:
        if node.node is None:
            if id(node) not in index:
                raise DifferentiationError("the output depends on a counted array that is "
                                           "not an input or was made outside tracing()")
            d = np.broadcast_to(np.asarray(direction[index[id(node)]], dtype=np.float64),
                                node.shape)
            seeded = either(norm(d != 0.0), dense)
            tan[id(node)] = None if seeded is False else CArray(d, False, seeded)
    return tan


def _add(entry: list[Any], v: Any, c: Any, d: Mask, tv: Any, tc: Any, td: Mask) -> None:
    shape = entry[2].shape
    entry[0] = entry[0] + v
    entry[1] = entry[1] + c
    entry[2] = entry[2] | full(d, shape)
    entry[3] = entry[3] + tv
    entry[4] = entry[4] + tc
    entry[5] = entry[5] | full(td, shape)


def tangent_of_sweep(output: CArray, inputs: Sequence[CArray], direction: Sequence[Any],
                     counter: Counter, phase: str = "tangent", dense: bool = False
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
    """The tangent along ``direction`` of the gradient of the recorded counted scalar
    ``output`` (H·direction): per input, its values and where a tangent reached it,
    every tangent op counted under ``(phase, None, "tangent")``. An input element with a
    zero direction gets no tangent unless ``dense``."""
    forward = dep_order([output])
    seeds = _seeds(forward, inputs, direction, dense)
    ft = dict(seeds)
    with Counter().scope("uncounted"), untraced(None):
        push(forward, ft, {id(n): np.ones(n.shape, bool) for n in forward})
    s = _Sweep(ft)
    found: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    adj: dict[int, list[Any]] = {}
    if output.dep is not False:
        z = np.zeros(output.shape, bool)
        adj[id(output)] = [np.ones(output.shape), np.ones(output.shape, np.int64), z,
                           np.zeros(output.shape), np.zeros(output.shape, np.int64), z]
    with counter.scope(phase, None, "tangent"), untraced(None):
        for node in reversed(forward):
            entry = adj.pop(id(node), None)
            if entry is None:
                continue
            gv, gc, gd, tv, tc, td = entry
            charge("add", int(np.maximum(tc - 1, 0).sum()))
            live = tc > 0
            if node.node is None:
                found[id(node)] = (np.where(live, tv, 0.0), live)
                continue
            present = norm(gc > 0)
            gdep = norm(gd & (gc > 0))
            lv = norm(live)
            gt = None if lv is False else CArray(tv, norm(td & live), lv)
            for x, v, c, d, xtv, xtc, xtd in _TANGENT_RULES[node.node[0]](
                    node, gv, present, gdep, gt, s):
                e = adj.get(id(x))
                if e is None:
                    z = np.zeros(x.shape, bool)
                    e = adj[id(x)] = [np.zeros(x.shape), np.zeros(x.shape, np.int64), z,
                                      np.zeros(x.shape), np.zeros(x.shape, np.int64), z]
                _add(e, v, c, d, xtv, xtc, xtd)
        used = uses(forward, [], start=s.need)
        push(forward, dict(seeds), used)
    return [found.get(id(x), (np.zeros(x.shape), np.zeros(x.shape, bool))) for x in inputs]
