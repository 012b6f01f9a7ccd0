"""The reverse sweep of the scalar engine of array programs, attributed as the array
engine attributes it.

:func:`cheapgrad.core.tape.backward` element by element (the same rules, the same
order, the same counts), with each node's rule charged to the source line of f and the
part (``matvec`` for a matrix product's Nums, else the op's name) recorded by
:func:`cheapgrad.core.numarray.grouped`. The contributions to an adjoint are summed in
program order of the array-level ops that made them (``rank``, :func:`tape.sweep`): the
earliest one assigned, every other one's ``add`` charged under layer ``accumulate`` to
the line and part of the op that made it, as :mod:`cheapgrad.core.array_sweep` does,
so the two engines file every op alike whatever order their walks take.

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
from cheapgrad.core.number import Num
from cheapgrad.core.ops import N_OPS, OPS, TALLY_SIZE
from cheapgrad.core.state import pop, push
from cheapgrad.core.tape import sweep

LineCounts = dict[str, dict[str, list[int]]]


class _Charge:
    """Counts one node's work into a fresh tally, then files it under ``key`` and, when
    the node has a source line, under that line too."""

    __slots__ = ("counter", "key", "line", "lines", "tally")

    def __init__(self, counter: Counter, key: tuple[str, str | None, str],
                 lines: LineCounts, line: str | None) -> None:
        self.counter, self.key, self.lines, self.line = counter, key, lines, line
        self.tally = [0] * TALLY_SIZE

    def __enter__(self) -> None:
        push(self.tally)

    def __exit__(self, *exc: object) -> None:
        pop()
        tally = self.tally
        if not any(tally):
            return
        bucket = self.counter.buckets.setdefault(self.key, [0] * TALLY_SIZE)
        for i, n in enumerate(tally):
            bucket[i] += n
        if self.line is None:
            return
        cells = self.lines.setdefault(self.line, {})
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

    def charge(node: Num, stage: str) -> _Charge:
        assert node.op is not None
        tag = tags.get(id(node))
        line, part = (tag[1], "matvec" if tag[2] else node.op.name) if tag else (
            None, node.op.name)
        layer = "accumulate" if stage == "accumulate" else None
        return _Charge(counter, (phase, layer, part), lines, line)

    def rank(node: Num) -> int:
        tag = tags.get(id(node))
        return tag[3] if tag else -1

    return sweep(output, inputs, charge, rank=rank)
