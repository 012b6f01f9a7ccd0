"""Reverse mode of counted arrays: one reverse rule per node kind, measured.

The rules mirror :func:`cheapgrad.core.tape.backward` element by element; the sweep
that walks them is :mod:`cheapgrad.core.array_sweep`. A rule gets the node's adjoint
(a float array, zero wherever no contribution reached it), which elements are
*present* (reached: only those cost anything) and the adjoint's ``dep`` mask, and
returns its contributions to the node's operands:

* ``elementwise``: the op table's own ``vjp`` (:mod:`cheapgrad.core.ops`), or the
  one-sided rule of :data:`cheapgrad.core.tape.ONE_SIDED` where one operand element is
  constant, run on counted arrays restricted (``live``) to the present elements: the
  backward pass is counted by the same ops as the forward one;
* ``matmul``: per present result element and term, ``g·b`` for a dependent ``a`` and
  ``g·a`` for a dependent ``b`` (one ``mul`` each), counted from the masks;
* ``sum``: routes the adjoint, no op;
* ``move`` and ``select`` (data movement and selection, :data:`TRANSPARENT`): route the
  adjoint, no op, each contribution keeping its owner (the op that made it).

A contribution says how many times each element of the operand receives it (a
broadcast operand used by n results receives n); the sweep charges the adds.

Example::

    >>> import numpy as np
    >>> from cheapgrad.core.array import CArray
    >>> from cheapgrad.core.array_masks import tracing
    >>> x = CArray(np.array([1.0, 2.0]), dep=True)
    >>> with tracing():
    ...     y = x * 3.0
    >>> [(s is x, v.tolist(), n) for s, v, n, _ in RULES["elementwise"](
    ...     y, np.ones(2), True, False)]
    [(True, [3.0, 3.0], 1)]
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from cheapgrad.core.array import CArray
from cheapgrad.core.array_masks import Mask, both, charge, either, full, norm
from cheapgrad.core.tape import DifferentiationError, rule_for

# A contribution to one operand: (operand, values, counts per element (an int when
# uniform), dep mask).
Contribution = tuple[CArray, np.ndarray, Any, Mask]
Rule = Callable[[CArray, np.ndarray, Mask, Mask], list[Contribution]]
# ... and the owner of its elements (a node's number, see :mod:`array_sweep`).
Owned = tuple[CArray, np.ndarray, Any, Mask, int]


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
    """Values ``vals`` (garbage outside ``mask``) of shape ``shape`` summed into operand
    ``a``: the values, how many contributions each element of ``a`` received (an int
    when uniform; a bool array counts 0 or 1), and the dep mask."""
    cnt: Any
    if mask is True:
        cnt = math.prod(shape) // max(1, a.size)  # uniform reuse
        d = dep if not isinstance(dep, np.ndarray) else norm(_unbroadcast(dep, a.shape, "any"))
        if vals.shape != shape:
            vals = np.broadcast_to(vals, shape)
        return a, _unbroadcast(vals, a.shape, "sum"), cnt, d
    mask = np.broadcast_to(mask, shape)
    v = _masked(vals, mask, shape)
    cnt = mask if a.shape == shape else _unbroadcast(mask.astype(np.int64), a.shape, "sum")
    d = mask if dep is True else (dep if dep is False else full(dep, shape) & mask)
    return (a, _unbroadcast(v, a.shape, "sum"), cnt,
            norm(_unbroadcast(d, a.shape, "any")) if d is not False else False)


#: Binary ops whose table rule is the pair of their one-sided rules, sharing nothing: the
#: contribution to each operand is computed over the elements that operand needs alone.
SEPARABLE = frozenset({"add", "sub", "mul"})


def _elementwise(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask
                 ) -> list[Contribution]:
    args, (op, k) = node.node[1:3]  # type: ignore[index]
    shape = node.v.shape
    if present is True and node.live is True and all(
            type(a.dep) is bool and a.live is True for a in args):
        return _dense_elementwise(node, args, op, k, gv, gdep, shape)
    needs = [both(present, a.dep if not isinstance(a.dep, np.ndarray)
                  else np.broadcast_to(a.dep, shape)) for a in args]
    rest = [] if k is None else [k]
    parts: dict[int, list[tuple[Any, Mask, Mask]]] = {}
    groups: list[tuple[Mask, tuple[bool, ...]]] = []
    if len(args) == 1:
        groups.append((needs[0], (True,)))
    elif op.name in SEPARABLE:
        groups += [(needs[0], (True, False)), (needs[1], (False, True))]
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
        g = CArray.made(gv, gdep, mask)
        out = CArray.made(node.v, node.dep, mask)
        ops = [CArray.made(a.v if a.shape == shape else np.broadcast_to(a.v, shape), a.dep,
                           mask) for a in args]
        cs = rule(g, out, *ops, *rest)  # each op of a rule checks its own elements
        for i, c in enumerate(cs[:len(args)]):
            if c is not None and which[i]:
                parts.setdefault(i, []).append((c.v, mask, c.dep))
    out_: list[Contribution] = []
    for i, ps in parts.items():
        if len(ps) == 1:
            v, mm, d = ps[0]
        else:  # disjoint groups: merge them
            v, mm, d = np.zeros(shape), np.zeros(shape, bool), np.zeros(shape, bool)
            for pv, pm, pd in ps:
                np.copyto(v, np.broadcast_to(pv, shape), where=pm)
                mm = mm | pm
                d = d | (full(pd, shape) & pm)
            d = norm(d)
        out_.append(_contribution(args[i], v, mm, d, shape))
    return out_


def _dense_elementwise(node: CArray, args: tuple[CArray, ...], op: Any, k: Any,
                       gv: np.ndarray, gdep: Mask, shape: tuple[int, ...]
                       ) -> list[Contribution]:
    """:func:`_elementwise` where every element is present and the operands' masks are
    uniform: one run of the rule (the one-sided rule where one operand is constant) on
    the arrays themselves, every element live."""
    if len(args) == 1:
        which: tuple[bool, ...] = (True,)
        rule = op.vjp
    else:
        which = (args[0].dep, args[1].dep)
        rule = op.vjp if which[0] and which[1] else rule_for(op, which)
    if rule is None:
        raise DifferentiationError(f"op '{op.name}' has no derivative rule")
    g = CArray.made(gv, gdep, True)
    cs = rule(g, node, *args) if k is None else rule(g, node, *args, k)
    out: list[Contribution] = []
    for i, c in enumerate(cs[:len(args)]):
        if c is not None and which[i]:
            out.append(_contribution(args[i], c.v, True, c.dep, shape))
    return out


def _masked(vals: np.ndarray, mask: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """``vals`` where ``mask``, else 0 (``np.where`` at half the cost)."""
    v = np.zeros(shape)
    np.copyto(v, np.broadcast_to(vals, shape), where=mask)
    return v


def _view(m: Mask, shape: tuple[int, ...]) -> Mask:
    return m if not isinstance(m, np.ndarray) else np.broadcast_to(m, shape)


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
    g0 = gv  # an adjoint is zero wherever no contribution reached it
    p: Any = None if present is True else full(present, shape)
    pg: Any = None  # the present results whose adjoint depends on the inputs
    if isinstance(gdep, np.ndarray):
        pg = full(present, shape) & gdep
        pg = present if isinstance(present, np.ndarray) and np.array_equal(pg, present) \
            else norm(pg)
    out: list[Contribution] = []
    for x, other, vals, per, side in (
            (a, b, lambda: np.matmul(g0, _swap(b.v)),
             lambda: np.count_nonzero(p, axis=-1)[..., None], -1),
            (b, a, lambda: np.matmul(_swap(a.v), g0),
             lambda: np.count_nonzero(p, axis=-2)[..., None, :], -2)):
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
        elif gdep is True or pg is True or pg is present:
            ns = muls
        else:  # k products per present result whose adjoint depends on the inputs
            ns = a.shape[-1] * int(np.count_nonzero(pg))
        charge("mul", muls, ns)
        dep = either(gdep, other.dep)
        if isinstance(dep, np.ndarray) and pg is not True and pg is not present:
            # some adjoints depend: which elements of x they reach
            hit = np.count_nonzero(pg, axis=side)
            hit = hit[..., None] if side == -1 else hit[..., None, :]
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
    (a,), (axes, keepdims) = node.node[1:3]  # type: ignore[index]

    def spread(x: np.ndarray) -> np.ndarray:
        return np.broadcast_to(x if keepdims else np.expand_dims(x, axes), a.shape)

    if present is True and a.dep is True and not isinstance(gdep, np.ndarray):
        return [(a, spread(gv), 1, gdep)]  # dense: one contribution to every element
    present = full(present, node.shape)
    mask = spread(present) & full(a.dep, a.shape)
    return [(a, _masked(spread(gv), mask, a.shape), mask,
             norm(spread(full(gdep, node.shape)) & mask))]


def split_by_owner(owner: Any, mask: Mask, shape: tuple[int, ...]) -> list[tuple[int, Mask]]:
    """``mask`` split by the owner of each element: ``owner`` is one owner's number or
    (number, mask) pairs (see :mod:`cheapgrad.core.array_sweep`)."""
    if not isinstance(owner, list):
        return [(owner, mask)] if mask is not False else []
    pieces = [(who, both(mask, m)) for who, m in owner]
    return [(who, m) for who, m in pieces if m is not False]


def _move(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask, owner: Any
          ) -> list[Owned]:
    sources, (src, perm, back) = node.node[1:3]  # type: ignore[index]
    dense = perm and present is True and node.dep is True and \
        not isinstance(gdep, np.ndarray) and not isinstance(owner, list)
    if dense and back is not None:  # a view (transpose, reshape, ...): write through it
        vals = back(gv)
        if vals is not None:
            return [(sources[0], vals, 1, gdep, owner)]
    if not perm and back is not None and present is True and node.dep is True and \
            not isinstance(gdep, np.ndarray) and not isinstance(owner, list):
        if node.size == 0:  # basic indexing (a view): written back through the index
            return []
        vals, hit = back(gv)
        return [(sources[0], vals, hit, norm(hit) if gdep else False, owner)]
    if callable(src):  # a move of uniform masks: where each element came from
        src = src()
    if dense:
        s = sources[0]  # every element moved to exactly one place: scatter the adjoint back
        vals = np.empty(s.size)
        vals[src.ravel()] = gv.ravel()
        return [(s, vals.reshape(s.shape), 1, gdep, owner)]
    out: list[Owned] = []
    gd = full(gdep, node.shape)
    for who, mask in split_by_owner(owner, both(present, node.dep), node.shape):
        sel = full(mask, node.shape)
        off = 0
        for s in sources:
            m = sel & (src >= off) & (src < off + s.size)
            if m.any():
                idx = src[m] - off
                hit = np.zeros(s.size, bool)
                hit[idx] = True
                if np.count_nonzero(hit) == idx.size:  # each element moved at most once
                    vals = np.zeros(s.size)
                    vals[idx] = gv[m]
                    cnt: Any = hit.reshape(s.shape)
                    dep = np.zeros(s.size, bool)
                    dep[idx] = gd[m]
                else:
                    vals = np.bincount(idx, weights=gv[m], minlength=s.size)
                    cnt = np.bincount(idx, minlength=s.size).reshape(s.shape)
                    dep = np.bincount(idx, weights=gd[m], minlength=s.size) > 0
                out.append((s, vals.reshape(s.shape), cnt, norm(dep.reshape(s.shape)), who))
            off += s.size
    return out


def _select(node: CArray, gv: np.ndarray, present: Mask, gdep: Mask, owner: Any
            ) -> list[Owned]:
    a, b = node.node[1]  # type: ignore[index]
    cond = node.node[2]  # type: ignore[index]
    shape = node.shape
    out: list[Owned] = []
    for x, side in ((a, cond), (b, ~cond)):
        if x.dep is False:
            continue
        for who, mask in split_by_owner(owner, both(both(present, side), _view(x.dep, shape)),
                                 shape):
            out.append((*_contribution(x, gv, mask, gdep, shape), who))
    return out


#: The reverse rule of each node kind (the elementwise ones use the op table's rules).
RULES: dict[str, Rule] = {"elementwise": _elementwise, "matmul": _matmul, "sum": _sum}
#: The rules of data movement and selection: no op of their own, they pass each
#: contribution on with its owner (the node that made it).
TRANSPARENT: dict[str, Callable[..., list[Owned]]] = {"move": _move, "select": _select}
