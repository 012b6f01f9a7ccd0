"""The published constants of the cheap-gradient principle, each beside the ratio
measured under its own cost model.

Example::

    >>> from cheapgrad.analysis.costmodels import cost_models
    >>> from cheapgrad.core.counter import Counter
    >>> from cheapgrad.core.number import var
    >>> c = Counter()
    >>> with c.scope("forward"):
    ...     f = var(2.0) * var(3.0)
    >>> with c.scope("backward"):
    ...     g = 3.0 * 1.0, 2.0 * 1.0
    >>> rows = published_rows(cost_models(c), "x")
    >>> rows[2]["statement"], rows[2]["measured_ratio"], rows[2]["holds"]
    ('reverse mode: gradient at most 5× the ops of f', 1.0, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cheapgrad.analysis.costmodels import ModelCost
from cheapgrad.analysis.result import within


@dataclass(frozen=True)
class Published:
    """A published constant: what it states, where, under which model, its bound, and
    what it is about (``scope``: ``any`` computation, an ``mlp``, or one named circuit
    such as ``product``)."""

    statement: str
    source: str
    model: str
    bound: float
    scope: str = "any"


PUBLISHED: tuple[Published, ...] = (
    Published("L(f, ∇f) ≤ 3·L(f), L = nonscalar mul/div of any rational circuit",
              "Baur & Strassen 1983", "nonscalar", 3.0),
    Published("Speelpenning's x1⋯xn: n−1 for f, 3n−5 for f and ∇f (ratio → 3)",
              "Speelpenning 1980; Baur & Strassen 1983", "nonscalar", 3.0, "product"),
    Published("reverse mode: gradient at most 5× the ops of f",
              "Griewank 1989; Griewank & Walther 2008", "unit", 5.0),
    Published("Theorem 3.1: any arithmetic circuit, f and ∇f within 5× of f",
              "lecture notes (after [1], [2])", "unit", 5.0),
    Published("Theorem 2.1: an MLP with cost(h') ≤ 5·cost(h), within 5× of f",
              "lecture notes", "unit", 5.0, "mlp"),
    Published("a matrix product costs 2·m·n·k; backward = 2× forward",
              "PyTorch FlopCounterMode", "flop", 3.0, "mlp"),
    Published("training costs 6N per token: 2N forward, 4N backward",
              "Kaplan et al. 2020", "flop", 3.0, "mlp"),
)


def published_rows(models: Mapping[str, ModelCost], subject: str = "mlp") -> list[dict[str, Any]]:
    """The published constants, each beside the ratio measured under its model.

    ``subject`` is what was measured: ``mlp`` for a run, or the circuit's name; a
    constant about something else (e.g. Speelpenning's product, for an MLP) gets no
    measured ratio.
    """
    rows = []
    for p in PUBLISHED:
        m = models.get(p.model)
        if p.scope not in ("any", subject):
            m = None
        ratio = None if m is None else m.ratio
        rows.append({
            "statement": p.statement, "source": p.source, "model": p.model,
            "bound": p.bound, "measured_ratio": ratio,
            "holds": within(ratio, p.bound),
            "applies": None if m is None else m.applies,
        })
    return rows
