"""The reverse sweep of the scalar engine of array programs, attributed as the array
engine attributes it.

:func:`cheapgrad.core.tape.backward` element by element (the same rules, the same
order, the same counts), with each node's rule charged to the source line of f and the
part (``matvec`` for a matrix product's Nums, else the op's name) recorded by
:func:`cheapgrad.core.numarray.grouped`, and the ``add`` that sums a later contribution
into an adjoint charged under layer ``accumulate`` of the contributing node's part, as
:func:`cheapgrad.core.array_rules.backward` does.

Example::

    >>> from cheapgrad.core.counter import Counter
    >>> from cheapgrad.core.number import tracing, var
    >>> x = var(2.0)
    >>> c = Counter()
    >>> with tracing(), c.scope("forward"):
    ...     y = x * x
    >>> [g.v for g in backward(y, [x], c, {})], c.totals("backward").nonzero()
    ([4.0], {'add': 1, 'mul': 2})
"""

from __future__ import annotations

from collections.abc import Sequence

from cheapgrad.core import numarray
from cheapgrad.core.counter import Counter
from cheapgrad.core.number import Num, const
from cheapgrad.core.ops import N_OPS, OPS, TALLY_SIZE
from cheapgrad.core.state import pop, push
from cheapgrad.core.tape import DifferentiationError, rule_for, toposort

LineCounts = dict[str, dict[str, list[int]]]


def _merge(tally: list[int], counter: Counter, key: tuple[str, str | None, str],
           lines: LineCounts, line: str | None) -> None:
    if not any(tally):
        return
    bucket = counter.buckets.setdefault(key, [0] * TALLY_SIZE)
    for i, n in enumerate(tally):
        bucket[i] += n
    if line is None:
        return
    cells = lines.setdefault(line, {})
    for name, op in OPS.items():
        if tally[op.index]:
            cell = cells.setdefault(name, [0, 0])
            cell[0] += tally[op.index]
            cell[1] += tally[N_OPS + op.index]


def backward(output: Num, inputs: Sequence[Num], counter: Counter, lines: LineCounts,
             phase: str = "backward") -> list[Num]:
    """∂output/∂input (see the module docstring); ``lines`` receives the counts by
    source line (line -> kind -> [count, nonscalar])."""
    tags = numarray.TAGS or {}
    input_set = set(inputs)
    adjoint: dict[Num, Num] = {}
    if output.dep:
        adjoint[output] = const(1.0)
    leaves: dict[Num, Num] = {}
    for node in toposort(output) if output.dep else ():
        g = adjoint.pop(node, None)
        if g is None:
            continue
        op = node.op
        if op is None:
            if node not in input_set:
                raise DifferentiationError("the output depends on a value whose circuit "
                                           "was not recorded")
            leaves[node] = g
            continue
        parents = node.parents
        rule = op.vjp if len(parents) != 2 else rule_for(op, (parents[0].dep,
                                                              parents[1].dep))
        if rule is None:
            raise DifferentiationError(f"op '{op.name}' has no derivative rule")
        tag = tags.get(id(node))
        line, part = (tag[1], "matvec" if tag[2] else op.name) if tag else (None, op.name)
        tally = [0] * TALLY_SIZE
        push(tally)
        try:
            contributions = rule(g, node, *parents)
        finally:
            pop()
        _merge(tally, counter, (phase, None, part), lines, line)
        tally = [0] * TALLY_SIZE
        push(tally)
        try:
            for parent, c in zip(parents, contributions, strict=True):
                if c is None or not parent.dep:
                    continue
                previous = adjoint.get(parent)
                adjoint[parent] = c if previous is None else previous + c
        finally:
            pop()
        _merge(tally, counter, (phase, "accumulate", part), lines, line)
    return [leaves.get(x, const(0.0)) for x in inputs]
