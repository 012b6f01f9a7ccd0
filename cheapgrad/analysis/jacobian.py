"""Jacobians of vector functions F: ℝⁿ → ℝᵐ, counted: n tangent passes or m adjoint
passes over one recorded circuit, or fewer by column coloring.

There is no cheap-Jacobian theorem: ``forward`` costs the recording of F plus one
tangent pass (:func:`cheapgrad.core.forward.directional`) per input, ``reverse`` the
recording plus one reverse sweep (:func:`cheapgrad.core.tape.backward`) per output, so
the cheaper mode is about min(n, m) passes and the crossover is where n = m (each pass
costs a small multiple of F, see the tables). ``colored`` runs one tangent pass per color
of a greedy column coloring of the structural pattern (Curtis, Powell & Reid 1974): for
a banded F the number of colors, and so the cost per output, does not grow with n.
Phases: ``forward`` (recording F), ``tangent`` or ``backward``.

Example::

    >>> F = lambda xs: [xs[0] * xs[1], xs[0] + xs[1], xs[1] * xs[1]]
    >>> fwd, rev = jacobian(F, [2.0, 3.0], "forward"), jacobian(F, [2.0, 3.0], "reverse")
    >>> fwd.matrix.tolist() == rev.matrix.tolist() == [[3.0, 2.0], [1.0, 1.0], [0.0, 6.0]]
    True
    >>> fwd.passes, rev.passes, fwd.cost_f
    (2, 3, 3)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from cheapgrad.analysis import coloring
from cheapgrad.analysis.second_order import Fn, Vector, phase_counts, record, vector
from cheapgrad.core.counter import Counter, OpCounts, gc_paused
from cheapgrad.core.forward import directional
from cheapgrad.core.number import const, tracing
from cheapgrad.core.tape import backward, backward_many, dep_order
from cheapgrad.errors import CheapgradError

#: The Jacobian modes.
JACOBIAN_MODES = ("forward", "reverse", "colored")


@dataclass
class JacobianResult:
    """An m × n Jacobian, how it was computed and what it cost."""

    mode: str
    dense: bool
    value: np.ndarray
    matrix: np.ndarray
    counter: Counter
    passes: int
    colors: list[int] = field(default_factory=list)

    @property
    def cost_f(self) -> int:
        """cost(F): the recording pass."""
        return self.counter.totals("forward").total

    @property
    def cost(self) -> int:
        """Every op counted, the recording included."""
        return self.counter.totals().total

    @property
    def derivative_cost(self) -> int:
        """The passes alone (cost − cost(F))."""
        return self.cost - self.cost_f

    @property
    def ratio_f(self) -> float:
        return self.cost / self.cost_f if self.cost_f else float("inf")

    @property
    def phases(self) -> dict[str, OpCounts]:
        return phase_counts(self.counter)


def jacobian(fn: Fn, x: Vector, mode: str = "forward", *,
             dense: bool = True) -> JacobianResult:
    """The Jacobian of ``fn`` at ``x`` by ``mode`` (one of :data:`JACOBIAN_MODES`).

    ``dense`` (the default) counts each pass as a pass with a dense seed vector does:
    every node of the circuit gets a tangent (an adjoint), zeros included, so each pass
    costs a full tangent (reverse) sweep. With ``dense=False`` a zero tangent or adjoint
    costs nothing: a pass seeded at one input touches only what that input reaches (the
    op count of a scalar tape that skips zeros; coloring then saves passes, not ops).
    """
    if mode not in JACOBIAN_MODES:
        raise CheapgradError(f"unknown Jacobian mode {mode!r}: choose "
                             f"{', '.join(JACOBIAN_MODES)}")
    x = vector(x, len(x), "x")
    n = len(x)
    counter = Counter()
    colors: list[int] = []
    with gc_paused():
        with tracing():
            xs, outs = record(fn, x, counter)
        m = len(outs)
        value = np.array([o.v for o in outs])
        if mode == "reverse":
            if dense:
                rows = [[g.v for g in backward_many(
                    [(o, const(1.0 if k == i else 0.0)) for k, o in enumerate(outs)],
                    xs, counter)] for i in range(m)]
            else:
                rows = [[g.v for g in backward(o, xs, counter)] for o in outs]
            matrix = np.array(rows).reshape(m, n)
            passes = m
        else:
            order = dep_order(outs)
            if mode == "colored":
                pattern = coloring.pattern(outs, xs)
                colors = coloring.greedy_coloring(pattern, n)
            else:
                colors = list(range(n))
            cols = [[t.v for t in directional(outs, xs, seed, counter, order=order,
                                              dense=dense)]
                    for seed in coloring.seeds(colors)]
            compressed = np.array(cols).T.reshape(m, len(cols))
            matrix = (coloring.recover(compressed, pattern, colors, n) if mode == "colored"
                      else compressed)
            passes = len(cols)
    return JacobianResult(mode, dense, value, matrix, counter, passes, colors)
