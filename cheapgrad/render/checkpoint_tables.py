"""The rich table of a checkpointing trade-off (cells from :mod:`cheapgrad.render.checkpoint`),
within 80 columns."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from cheapgrad.analysis.checkpoint import CheckpointResult
from cheapgrad.render.checkpoint import cells, summary_lines


def checkpoint_tables(result: CheckpointResult) -> Group:
    """The summary panel and one row per strategy (taped and all evaluations, in every
    other format, are left out here: every strategy tapes each step once)."""
    summary = Table.grid(padding=(0, 2))
    for label, text in summary_lines(result):
        summary.add_row(label, text)
    table = Table(title="Ops against memory, by strategy (measured)", title_justify="left",
                  caption="t(l,S): binomial least untaped evaluations with S snapshots; "
                          "peak: values stored at once", caption_justify="left")
    for name in ("strategy", "S", "untaped", "t(l,S)", "peak", "cost(f,∇f)", "ratio", "∇="):
        table.add_column(name, justify="left" if name == "strategy" else "right")
    for row in result.rows:
        c = cells(row)
        table.add_row(c[0], c[1], c[3], c[4], c[6], c[7], c[8], c[9])
    return Group(Panel(summary, title="cheapgrad checkpoint"), table)
