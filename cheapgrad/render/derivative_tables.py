"""Rich tables of HVP, Hessian and Jacobian reports, within 80 columns: the cost by
mode (in the cost models asked for), the counts by phase, the checks, the first entries.
Every number comes from the pure rows of :mod:`cheapgrad.render.derivative`."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cheapgrad.render import numbers
from cheapgrad.render.derivative import (
    Report,
    Weights,
    check_rows,
    cost_cells,
    cost_columns,
    entries,
    mode_rows,
    title,
)


def derivative_tables(report: Report, models: Sequence[str] = ("unit",),
                      weights: Weights = None) -> Group:
    """The report as rich tables: one cost table per cost model (80 columns)."""
    costs = []
    for model in models:
        cost = Table(title=title(report) + ("" if model == "unit" else f", {model} cost"),
                     title_justify="left")
        for i, head in enumerate(cost_columns(report, ["unit"])):
            cost.add_column(head, justify="left" if i == 0 else "right")
        for cells in cost_cells(report, [model], weights):
            cost.add_row(*cells)
        costs.append(cost)
    rows = mode_rows(report, weights)
    phases: list[str] = []
    for row in rows:
        phases += [p for p in row["phases"] if p not in phases]
    by_phase = Table(title="Unit counts by phase", title_justify="left")
    by_phase.add_column("phase")
    for row in rows:
        by_phase.add_column(row["mode"], justify="right")
    for p in phases:
        by_phase.add_row(p, *[numbers.count(row["phases"].get(p, 0)) for row in rows])
    checks = Table(title="Checks (relative error, max norm)", title_justify="left")
    for head, justify in (("check", "left"), ("error", "right"), ("tolerance", "right"),
                          ("", "left")):
        checks.add_column(head, justify=justify)  # type: ignore[arg-type]
    for c in check_rows(report):
        checks.add_row(c["check"], f"{c['error']:.1e}", f"{c['tolerance']:.0e}",
                       "ok" if c["passed"] else "FAILED")
    verdict = Text(("every check passed" if report.passed else "a check FAILED")
                   + f" (independent route: {report.route})",
                   style="green" if report.passed else "bold red")
    return Group(*costs, by_phase, checks, Text("\n".join(entries(report))), verdict)
