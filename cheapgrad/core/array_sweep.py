"""The reverse sweep of counted arrays: the rules of :mod:`cheapgrad.core.array_rules`
walked from the output to the inputs, and the adds that sum contributions into adjoints.

It mirrors :func:`cheapgrad.core.tape.sweep` element by element: an adjoint element
that one contribution reaches is assigned, every further contribution costs one
``add``. **Which** contribution is the free one does not depend on the order of the
walk: the contributions to an adjoint wait until the walk reaches its node, then the
one made by the earliest op of the program (nodes are numbered in program order) is
assigned and every other one's ``add`` is charged to the op that made it, its source
line and its part (``matvec`` for a matrix product, ``add`` for a sum, else the op's
name), under layer ``accumulate``. Data movement, selection and a sum of one term make
no contribution of their own: they pass each one on with its owner, the op that made
it. The scalar engine
of array programs (:mod:`cheapgrad.core.numarray_sweep`) ranks its contributions the
same way, so both engines file every op under the same line and part.

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

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from cheapgrad.core.array import CArray
from cheapgrad.core.array_masks import Mask, both, charge, either, norm, tally, untraced
from cheapgrad.core.array_rules import RULES, TRANSPARENT, split_by_owner
from cheapgrad.core.counter import Counter
from cheapgrad.core.tape import DifferentiationError

#: Where the adds of an owner's contributions go: owner number -> (line, part).
Owners = dict[int, tuple[Any, str]]


def _toposort(end: CArray) -> list[CArray]:
    uses: dict[int, int] = {}
    stack = [end]
    while stack:
        n = stack.pop()
        i = id(n)
        if i in uses:
            uses[i] += 1
            continue
        uses[i] = 1
        if n.node is not None:
            for p in n.node[1]:
                if p.dep is not False:
                    stack.append(p)
    order, ready = [], [end]
    while ready:
        n = ready.pop()
        order.append(n)
        if n.node is not None:
            for p in n.node[1]:
                if p.dep is False:
                    continue
                i = id(p)
                left = uses[i] - 1
                uses[i] = left
                if left == 0:
                    ready.append(p)
    return order


def _not(m: Mask) -> Mask:
    return (not m) if not isinstance(m, np.ndarray) else norm(~m)


def _adds(counter: Counter, phase: str, owner: tuple[Any, str], n: int) -> None:
    """``n`` adds of accumulation charged to ``owner`` (line, part), under layer
    ``accumulate``: straight into the bucket, as a scope there would."""
    line, part = owner
    key = (phase, "accumulate", part)
    bucket = counter.buckets.get(key)
    if bucket is None or line is None:
        with counter.scope(*key), untraced(line):  # the bucket made as scopes make it
            charge("add", n)
        return
    charge("add", n, at=line, into=bucket)


def _settle(shape: tuple[int, ...], pieces: list[tuple[int, Any]], counter: Counter,
            phase: str, owners: Owners) -> tuple[Mask, Any]:
    """Charge the adds of an adjoint's contributions ``(owner, counts)``, earliest owner
    first; return which elements were reached and each one's first owner."""
    size = math.prod(shape)
    if len(pieces) == 1 and isinstance(pieces[0][1], int):  # one owner, every element
        who, c = pieces[0]
        if c > 1:
            _adds(counter, phase, owners[who], (c - 1) * size)
        return c > 0, who
    covered: Mask = False
    first: list[tuple[int, Mask]] = []  # disjoint: the elements each owner reached first
    for who, c in sorted(pieces, key=lambda p: p[0]) if len(pieces) > 1 else pieces:
        if isinstance(c, int):
            total, reached = c * size, c > 0
        else:
            total = int(np.count_nonzero(c)) if c.dtype == bool else int(c.sum())
            r = c if c.dtype == bool else c > 0
            reached = norm(r if r.shape == shape else np.broadcast_to(r, shape))
        fresh = reached if covered is False else both(reached, _not(covered))
        adds = total - tally(fresh, shape)
        if adds:
            _adds(counter, phase, owners[who], adds)
        if fresh is not False:
            first.append((who, fresh))
        covered = either(covered, reached)
    return covered, (first[0][0] if len(first) == 1 and first[0][1] is True else first)


def backward(output: Any, inputs: Sequence[CArray], counter: Counter,
             phase: str = "backward", seed: np.ndarray | None = None,
             reached: list[Mask] | None = None) -> list[np.ndarray]:
    """∂output/∂input for each input array (zeros where the output does not depend on
    it), every op of the sweep counted in ``counter`` under ``(phase, None, part)`` and
    the adds of accumulation under ``(phase, "accumulate", part)``. With ``seed``
    (constant weights of an array output's shape, zeros included) the sweep starts from
    those adjoints on every element: ∂(Σ seed·output)/∂input. With ``reached`` (a list)
    the sweep appends, for each input, which of its elements a contribution reached (a
    mask: what adds summing this gradient with another one's must count)."""
    if seed is None and (not isinstance(output, CArray) or output.shape != ()):
        raise DifferentiationError("the function must return a counted scalar (a 0-d "
                                   f"counted array), got {type(output).__name__}")
    # each adjoint: its values, its dep mask and its contributions (owner, counts)
    adj: dict[int, list[Any]] = {}
    if output.dep is not False:
        adj[id(output)] = [np.ones(()) if seed is None else np.asarray(
            seed, dtype=np.float64).reshape(output.shape), False, [(-1, 1)]]
    owners: Owners = {} if seed is None else {-1: (None, "seed")}  # an output seeded twice
    found: dict[int, np.ndarray] = {}
    seen: dict[int, Mask] = {}
    input_ids = {id(x) for x in inputs}
    scopes: dict[str, Any] = {}
    for node in _toposort(output) if output.dep is not False else []:
        entry = adj.pop(id(node), None)
        if entry is None:
            continue
        vals, dep, pieces = entry
        present, first = _settle(node.shape, pieces, counter, phase, owners)
        if node.node is None:
            if id(node) not in input_ids:
                raise DifferentiationError("the output depends on a counted array that is "
                                           "not an input or was made outside tracing()")
            found[id(node)] = vals
            if reached is not None:
                seen[id(node)] = present
            continue
        kind, line, number = node.node[0], node.node[3], node.node[4]
        # a matrix product's sweep is counted under part "matvec" (the flop model's), an
        # elementwise op's under its op's name (the scalar engine attributes them alike)
        part = "matvec" if kind == "matmul" else (
            node.node[2][0].name if kind == "elementwise" else kind)
        scope = scopes.get(part)
        if scope is None:
            scope = scopes[part] = counter.scope(phase, None, part)
        with scope, untraced(line):
            if kind in TRANSPARENT:
                contributions = TRANSPARENT[kind](node, vals, present, dep, first)
            elif kind == "sum" and node.size == node.node[1][0].size:
                # a sum of one term adds nothing (the scalar engine makes no op): it
                # passes each contribution on with its owner, as data movement does
                contributions = [(*c, who) for who, m in split_by_owner(first, present,
                                                                         node.shape)
                                 for c in RULES[kind](node, vals, m, dep)]
            else:
                owners[number] = (line, "add" if kind == "sum" else part)
                contributions = [(*c, number) for c in RULES[kind](node, vals, present, dep)]
        for s, v, c, d, who in contributions:
            old = adj.get(id(s))
            if old is None:
                adj[id(s)] = [v, d, [(who, c)]]
            else:
                old[0] = np.asarray(old[0] + v)
                old[1] = either(old[1], d)
                old[2].append((who, c))
    if reached is not None:
        reached.extend(seen.get(id(x), False) for x in inputs)
    return [found[id(x)] if id(x) in found else np.zeros(x.shape) for x in inputs]
