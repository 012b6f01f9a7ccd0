"""Markdown and rich tables of the second-order audit
(:mod:`cheapgrad.analysis.second_audit`): the measured ratios per built-in and the
published constants beside them.

Example::

    >>> from cheapgrad.analysis.second_audit import run_second_audit
    >>> to_markdown(run_second_audit(n=3, names=("product",))).splitlines()[0]
    '# Second order: published constants and measured ratios'
"""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table

from cheapgrad.analysis.second_audit import SecondAudit
from cheapgrad.analysis.second_order import MODES

MEASURED_HEADS = ["circuit", "tangent", "gradient", "soad", *MODES]


def measured_cells(audit: SecondAudit, model: str = "unit") -> list[list[str]]:
    """One row per built-in: its ratios to cost(f) and, per HVP mode, to cost(f, ∇f)."""
    rows = []
    for m in audit.measured:
        r = m[model]
        rows.append([m["circuit"], f"{r['tangent']:.2f}", f"{r['gradient']:.2f}",
                     f"{r['soad']:.2f}", *[f"{r['hvp-grad'][mode]:.2f}" for mode in MODES]])
    return rows


def _constant(row: dict[str, Any]) -> str:
    if row["kind"] == "ranking":
        return "ranking"
    if row["kind"] == "bound":
        low = "" if row["low"] is None else f"{row['low']:g}–"
        return f"≤ {row['high']:g} ([{low}{row['high']:g}])"
    return f"≈ {row['high']:g}"


def _measured(row: dict[str, Any]) -> str:
    if "measured_min" not in row:
        return str(row["measured"])
    return f"{row['measured_min']:.2f}–{row['measured_max']:.2f} ({row['measured_model']})"


def to_markdown(audit: SecondAudit) -> str:
    """The audit as Markdown."""
    lines = ["# Second order: published constants and measured ratios", "",
             "tangent, gradient, soad: ÷ cost(f); H·v by mode: ÷ cost(f, ∇f); unit ops.", "",
             "| " + " | ".join(MEASURED_HEADS) + " |", "|" + "---|" * len(MEASURED_HEADS)]
    lines += ["| " + " | ".join(c) + " |" for c in measured_cells(audit)]
    lines += ["", "| source | statement | quantity | model | constant | measured | verdict |",
              "|---|---|---|---|---|---|---|"]
    for r in audit.rows:
        source = f"[{r['source']}]({r['url']})" if r["url"] else r["source"]
        lines.append(f"| {source} | {r['statement']} | {r['quantity']} | {r['model']} | "
                     f"{_constant(r)} | {_measured(r)} | {r['verdict']} |")
    return "\n".join(lines) + "\n"


def second_audit_tables(audit: SecondAudit) -> Group:
    """The audit as rich tables (80 columns)."""
    measured = Table(title="Measured ratios (unit ops): tangent, gradient, soad ÷ cost(f); "
                     "H·v by mode ÷ cost(f, ∇f)", title_justify="left")
    for i, head in enumerate(MEASURED_HEADS):
        measured.add_column(head, justify="left" if i == 0 else "right")
    for cells in measured_cells(audit):
        measured.add_row(*cells)
    published = Table(title="Published constants", title_justify="left")
    for head in ("source", "quantity", "constant", "measured", "verdict"):
        published.add_column(head)
    for r in audit.rows:
        published.add_row(r["source"].split(" (")[0].split(",")[0]
                          + ("" if r["verified"] else " (unverified)"),
                          r["quantity"], _constant(r), _measured(r), r["verdict"])
    return Group(measured, published)
