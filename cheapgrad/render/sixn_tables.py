"""The 6N table in rich, within 80 columns: the measured facts, the formulas with their
per-token values and relative errors, and what each formula leaves out."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cheapgrad.analysis.sixn import COMPARED, SixN
from cheapgrad.render import numbers
from cheapgrad.render.run_tables import keep_whole
from cheapgrad.render.sixn import TITLE, UNITS, common_omissions, summary_pairs


def _error(x: float | None) -> Text:
    text = numbers.relative(x)
    if x is None:
        return Text(text, style="dim")
    style = "green" if abs(x) < 0.01 else ("yellow" if abs(x) < 0.1 else "red")
    return Text(text, style=style)


def sixn_tables(t: SixN) -> Group:
    """The measured facts in words, the formula table (formula, per token, relative error
    against each measured model) and the list of what each formula leaves out."""
    shown = [m for m in COMPARED if m in t.measured]
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    for k, v in summary_pairs(t):
        facts.add_row(k, v)
    table = Table(title=f"{TITLE}\n({UNITS})", title_justify="left")
    table.add_column("formula")
    table.add_column("per token", justify="right")
    for m in shown:
        table.add_column(f"vs {m}", justify="right")
    for m in shown:
        table.add_row(Text(f"measured: {m} model", style="bold"),
                      numbers.count(round(t.measured[m].per_token)),
                      *(Text("exact", style="bold") if m == other else "" for other in shown))
    for r in t.rows:
        table.add_row(r.label, numbers.count(r.per_token), *(_error(r.error.get(m)) for m in shown))
    common = common_omissions(t)
    left_out = Table(title="What each formula leaves out, and its source", title_justify="left",
                     caption=f"and every formula: {', '.join(common)}" if common else None,
                     caption_justify="left")
    left_out.add_column("formula")
    left_out.add_column("leaves out", ratio=3)
    left_out.add_column("source", ratio=2)
    for r in t.rows:
        own = [x for x in r.leaves_out if x not in common]
        left_out.add_row(r.label, "; ".join(own), r.source)
    return Group(facts, keep_whole(table), keep_whole(left_out, wrap=("leaves out", "source")))
