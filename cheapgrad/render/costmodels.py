"""Markdown of the cost models and of the published constants
(:mod:`cheapgrad.analysis.costmodels`, :mod:`cheapgrad.analysis.published`); the rich
tables are in :mod:`cheapgrad.render.costmodel_tables`.

Example::

    >>> fmt_number(12345), fmt_number(2.5), fmt_number(None)
    ('12,345', '2.5000', '–')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from cheapgrad.analysis.costmodels import ModelCost
from cheapgrad.analysis.published import published_rows
from cheapgrad.render import numbers


def fmt_number(x: float | None, digits: int = 4) -> str:
    """A count with thousands separators, a ratio with ``digits`` decimals, ``–`` for None."""
    if x is None:
        return "–"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:.{digits}f}"


def _verdict(holds: bool | None, applies: bool = True) -> str:
    if holds is None:
        return "n/a"
    text = "holds" if holds else "VIOLATED"
    return text if applies else f"{text} (outside hypothesis)"


def to_markdown(models: Mapping[str, ModelCost], timing: Any = None) -> str:
    """A Markdown table: one row per model (and the clock, when ``timing`` is given:
    any object with ``forward_s``, ``forward_backward_s`` and ``ratio``)."""
    lines = [
        "| model | cost(f) | cost(f, ∇f) | ratio | bound | verdict | source |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for name, m in models.items():
        lines.append(
            f"| {name} | {fmt_number(m.cost_f)} | {fmt_number(m.cost_f_and_grad)} | "
            f"{fmt_number(m.ratio)} | {fmt_number(m.bound)} | {_verdict(m.holds, m.applies)} "
            f"| {m.source} |"
        )
    if timing is not None:
        lines.append(
            f"| clock (numpy) | {numbers.seconds(timing.forward_s)} | "
            f"{numbers.seconds(timing.forward_backward_s)} | {numbers.ratio(timing.ratio)} | – | "
            "measured | median of repeats |"
        )
    return "\n".join(lines) + "\n"


def published_markdown(models: Mapping[str, ModelCost], subject: str = "mlp") -> str:
    """A Markdown table of the published constants beside the measured ratios."""
    lines = [
        "| statement | source | model | bound | measured | verdict |",
        "|---|---|---|---:|---:|---|",
    ]
    for r in published_rows(models, subject):
        lines.append(
            f"| {r['statement']} | {r['source']} | {r['model']} | {fmt_number(r['bound'])} | "
            f"{fmt_number(r['measured_ratio'])} | "
            f"{_verdict(r['holds'], r['applies'] is not False)} |"
        )
    return "\n".join(lines) + "\n"
