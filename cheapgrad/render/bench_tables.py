"""The benchmark table for the terminal (rich)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cheapgrad.analysis.bench import BenchResult
from cheapgrad.render.bench import HEADERS, cells
from cheapgrad.render.run_tables import keep_whole


def bench_tables(result: BenchResult) -> Group:
    """The benchmark rows, then the machine and the notes, one line each."""
    table = Table(title="cheapgrad bench")
    for h in HEADERS:
        table.add_column(h)
    for row in result.rows:
        table.add_row(*cells(row))
    lines = [f"{k}: {v}" for k, v in result.machine.items()]
    lines += [f"- {n}" for n in
              [f"{r.name}: {r.note}" for r in result.rows if r.note] + result.notes]
    return Group(keep_whole(table), *(Text(line) for line in lines))
