"""The benchmark tables for the terminal (rich): the timings, then the baselines and the
targets, each within 80 columns."""

from __future__ import annotations

from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from cheapgrad.analysis.bench import BenchResult
from cheapgrad.render.bench import HEADERS, cells


def bench_tables(result: BenchResult) -> Group:
    """The timings (benchmark, net and batch stacked in one cell; ``÷ base``: time over
    the baseline's), the baselines and targets,
    then the machine and the notes, one line each."""
    col = {h: i for i, h in enumerate(HEADERS)}
    rows = [cells(r) for r in result.rows]
    timings = Table(title="cheapgrad bench", title_justify="left", box=box.SIMPLE_HEAD,
                    pad_edge=False)
    for h, just in (("benchmark", "left"), ("counted", "right"),
                    ("time", "right"), ("rate", "right"), ("÷ base", "right"),
                    ("met", "left")):
        timings.add_column(h, justify=just, no_wrap=True)  # type: ignore[arg-type]
    targets = Table(title="baselines and targets", title_justify="left", box=box.SIMPLE_HEAD,
                    pad_edge=False)
    for h in ("benchmark, net", "baseline", "baseline time", "target"):
        targets.add_column(h, justify="right" if h == "baseline time" else "left")
    for c in rows:
        where = f"{c[col['benchmark']]}\n{c[col['net']]}\nbatch {c[col['batch']]}"
        timings.add_row(where, c[col["counted ops"]], c[col["time"]], c[col["ops/s"]],
                        c[col["time / baseline"]], c[col["met"]])
        targets.add_row(f"{c[col['benchmark']]}\n{c[col['net']]}", c[col["baseline"]],
                        c[col["baseline time"]], c[col["target"]])
    lines = [f"{k}: {v}" for k, v in result.machine.items()]
    lines += [f"- {n}" for n in
              [f"{r.name}: {r.note}" for r in result.rows if r.note] + result.notes]
    return Group(timings, targets, *(Text(line) for line in lines))
