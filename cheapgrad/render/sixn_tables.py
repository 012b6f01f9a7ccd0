"""The 6N table in rich, within 80 columns: the measured facts, the formulas with their
per-token values and relative errors, and what each formula leaves out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cheapgrad.analysis.sixn import COMPARED, SixN
from cheapgrad.analysis.sweep.transformer import TransformerSweep
from cheapgrad.analysis.transformer import TransformerResult
from cheapgrad.render import numbers
from cheapgrad.render.run_tables import MAX_WIDTH, keep_whole, natural_width
from cheapgrad.render.sixn import TITLE, UNITS, common_omissions, summary_pairs


def _error(x: float | None, percent_sign: bool = True) -> Text:
    text = numbers.relative(x)
    if not percent_sign:
        text = text.removesuffix(" %")
    if x is None:
        return Text(text, style="dim")
    style = "green" if abs(x) < 0.01 else ("yellow" if abs(x) < 0.1 else "red")
    return Text(text, style=style)


def sixn_tables(t: SixN, leaves_out: bool = True) -> Group:
    """The measured facts in words, the formula table (formula, per token, relative error
    against each measured model) and (``leaves_out``) what each formula leaves out."""
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
    if not leaves_out:
        return Group(facts, keep_whole(table))
    return Group(facts, keep_whole(table), keep_whole(left_out, wrap=("leaves out", "source")))


#: Formulas the sweep's rich table shows (JSON, CSV and Markdown carry every one).
SWEEP_COLUMNS = (("kaplan-6n", "K6N"), ("kaplan", "K3C"), ("chinchilla", "Chin"),
                 ("nanogpt-6n", "6N-nG"), ("palm", "PaLM"))


def sixn_sweep_table(result: TransformerSweep, model: str = "flop") -> Table:
    """One row per cell: depth, width, context, n_ctx / d_model, the measured cost per
    parameter per token (``flop/N``) and the relative error of the main formulas against
    ``model``."""
    table = Table(title=f"Sweep of {result.base_name}: error (%) against measured {model}",
                  title_justify="left",
                  caption=f"{model}/N: measured per parameter per token. K6N: Kaplan 6N; "
                          "K3C: Kaplan 3·C_forward; Chin: Chinchilla App. F; 6N-nG: 6N with "
                          "nanoGPT's N; PaLM: 6N + 12·L·H·Q·T. JSON, CSV and Markdown carry "
                          "every formula and both models.",
                  caption_justify="left")
    for col in ("L", "d", "T", "T/d", f"{model}/N"):
        table.add_column(col, justify="right")
    for _key, short in SWEEP_COLUMNS:
        table.add_column(short, justify="right")
    for c in result.cells:
        got = c.table.measured.get(model)
        errors = {r.key: r.error.get(model) for r in c.table.rows}
        table.add_row(str(c.n_layer), str(c.d_model), str(c.n_ctx),
                      f"{c.context_per_width:.2f}",
                      "–" if got is None else f"{got.per_param_token:.2f}",
                      *(_error(errors.get(key), False) for key, _ in SWEEP_COLUMNS))
    return keep_whole(table)


def sixn_compare_table(tables: Mapping[str, SixN], model: str = "flop") -> Table:
    """One row per formula, one column per spec: its relative error against ``model``,
    and the measured cost per parameter per token in the first row."""
    table = Table(title=f"Error against the measured {model} model, by spec",
                  title_justify="left")
    table.add_column("formula")
    for name in tables:
        table.add_column(name, justify="right")
    table.add_row(Text(f"measured {model} / N", style="bold"), *(
        "–" if model not in t.measured else f"{t.measured[model].per_param_token:.4f}"
        for t in tables.values()))
    first = next(iter(tables.values()))
    for i, row in enumerate(first.rows):
        table.add_row(row.label, *(_error(t.rows[i].error.get(model)) for t in tables.values()))
    return keep_whole(table)


def sixn_runs_tables(runs: Sequence[tuple[TransformerResult, SixN]]) -> Group:
    """For each counted spec, a line saying how it was counted and its 6N table; what
    each formula leaves out, once; with several specs, the errors side by side (when
    they fit 80 columns)."""
    parts: list[RenderableType] = []
    for i, (r, t) in enumerate(runs):
        how = f"engine {r.engine}" + (f" ({r.reason})" if r.reason else "")
        parts.append(Text(f"\n{r.spec.name}: {how}, {numbers.seconds(r.seconds)}",
                          style="bold"))
        parts.append(sixn_tables(t, leaves_out=i == len(runs) - 1))
    if len(runs) > 1:
        tables = {r.spec.name: t for r, t in runs}
        for model in COMPARED:
            if all(model in t.measured for t in tables.values()):
                compare = sixn_compare_table(tables, model)
                if natural_width(compare) <= MAX_WIDTH:
                    parts.append(compare)
    return Group(*parts)
