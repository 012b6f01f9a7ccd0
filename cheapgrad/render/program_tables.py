"""Rich tables of a counted numpy program (rows from :mod:`cheapgrad.render.program`)."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from cheapgrad.analysis.costmodels import select
from cheapgrad.analysis.program import ProgramResult
from cheapgrad.render.costmodel_tables import cost_model_table
from cheapgrad.render.program import cost_models_of, count_rows, line_rows, summary_rows

SHOWN_LINES = 40


def program_tables(result: ProgramResult, cost_model: str = "unit") -> Group:
    """Summary, counts by op kind and phase, counts by source line, cost models."""
    summary = Table.grid(padding=(0, 2))
    for label, text in summary_rows(result):
        summary.add_row(label, text)
    parts: list[Any] = [Panel(summary, title="cheapgrad circuit")]
    counts = Table(title="Ops by kind", title_justify="left")
    for name, justify in (("op", "left"), ("forward", "right"), ("backward", "right")):
        counts.add_column(name, justify=justify)  # type: ignore[arg-type]
    for k, f, b in count_rows(result):
        counts.add_row(k, f"{f:,}", f"{b:,}")
    parts.append(counts)
    rows = line_rows(result)
    if rows:
        lines = Table(title="Ops by source line of f (forward, and the reverse sweep it "
                      "caused)", title_justify="left")
        for name, justify in (("line", "left"), ("forward", "right"),
                              ("backward", "right"), ("ops", "left")):
            lines.add_column(name, justify=justify)  # type: ignore[arg-type]
        for line, f, b, kinds in rows[:SHOWN_LINES]:
            lines.add_row(line, f"{f:,}", f"{b:,}", kinds)
        parts.append(lines)
    if cost_model != "unit":
        parts.append(cost_model_table(select(cost_models_of(result), cost_model)))
    return Group(*parts)
