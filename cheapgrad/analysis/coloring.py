"""Sparsity patterns of recorded circuits and column coloring (Curtis, Powell & Reid).

The structural pattern of the Jacobian of several outputs is read off the recorded
circuit: output i may depend on input j when a path leads from j to i. It is a superset
of the true nonzeros (a product by a zero is still a path), which is what a compressed
evaluation needs. Two columns that share no row may be added together and recovered
from one tangent pass: a *coloring* of the columns in which no row holds two columns of
one color. :func:`greedy_coloring` colors column after column with the smallest color
free among the columns that share a row with it (a greedy distance-2 coloring of the
column intersection graph, Curtis, Powell & Reid 1974); the passes go from n to the
number of colors, at least the densest row's count of nonzeros.

Example::

    >>> pattern = [{0, 1}, {0, 1, 2}, {1, 2, 3}, {2, 3}]   # tridiagonal, 4 × 4
    >>> greedy_coloring(pattern, 4)
    [0, 1, 2, 0]
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cheapgrad.core.forward import dep_order
from cheapgrad.core.number import Num


def pattern(outputs: Sequence[Num], inputs: Sequence[Num]) -> list[set[int]]:
    """For each output, the inputs it structurally depends on (bitsets walked in one
    pass over the recorded circuit, iteratively).

    >>> from cheapgrad.core.number import tracing, var
    >>> x, y, z = var(1.0), var(2.0), var(3.0)
    >>> with tracing():
    ...     outs = [x * y, y + 1.0, z - z]
    >>> pattern(outs, [x, y, z])
    [{0, 1}, {1}, {2}]
    """
    bits: dict[Num, int] = {x: 1 << i for i, x in enumerate(inputs)}
    for node in dep_order(outputs):
        if node.op is None:
            continue
        b = 0
        for p in node.parents:
            b |= bits.get(p, 0)
        bits[node] = b
    rows = []
    for out in outputs:
        b = bits.get(out, 0)
        rows.append({j for j in range(len(inputs)) if b >> j & 1})
    return rows


def greedy_coloring(rows: Sequence[set[int]], n: int) -> list[int]:
    """A color per column such that no row holds two columns of one color (greedy, in
    column order)."""
    by_col: list[list[int]] = [[] for _ in range(n)]
    for i, row in enumerate(rows):
        for j in row:
            by_col[j].append(i)
    colors = [-1] * n
    for j in range(n):
        taken = {colors[k] for i in by_col[j] for k in rows[i] if k != j and colors[k] >= 0}
        c = 0
        while c in taken:
            c += 1
        colors[j] = c
    return colors


def seeds(colors: Sequence[int]) -> list[np.ndarray]:
    """One seed vector per color: the sum of the unit vectors of its columns.

    >>> [s.tolist() for s in seeds([0, 1, 0])]
    [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    k = max(colors, default=-1) + 1
    out = [np.zeros(len(colors)) for _ in range(k)]
    for j, c in enumerate(colors):
        out[c][j] = 1.0
    return out


def recover(compressed: np.ndarray, rows: Sequence[set[int]], colors: Sequence[int],
            n: int) -> np.ndarray:
    """The m × n matrix from its m × colors compression: entry (i, j) of the pattern is
    column ``colors[j]`` of row i (no other column of that color touches row i).

    >>> recover(np.array([[5.0, 2.0]]), [{0, 1}], [0, 1], 2).tolist()
    [[5.0, 2.0]]
    """
    out = np.zeros((len(rows), n))
    for i, row in enumerate(rows):
        for j in row:
            out[i, j] = compressed[i, colors[j]]
    return out
