"""Rich renderers for the terminal. They take result objects and return rich
renderables; they never compute a count themselves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cheapgrad.analysis.checkpoint import CheckpointResult
from cheapgrad.analysis.costmodels import select
from cheapgrad.analysis.run import PHASES, RunResult
from cheapgrad.analysis.theory import predicted_by_phase
from cheapgrad.analysis.timing import ClockRow, Timing
from cheapgrad.core.ops import OP_NAMES
from cheapgrad.render import numbers
from cheapgrad.render.checkpoint_tables import checkpoint_tables
from cheapgrad.render.costmodel_tables import cost_model_table, published_table
from cheapgrad.render.run import (
    cost_models_of,
    layer_rows,
    memory_text,
    runs_text,
    verdict,
    widths_text,
)

#: Every table fits this many columns (a classic terminal).
MAX_WIDTH = 80
#: A layer table longer than this shows its first and last :data:`FOLD_SHOWN` rows only.
FOLD_ROWS = 40
FOLD_SHOWN = 10


def natural_width(table: Table) -> int:
    """The width of ``table`` with every column as wide as its widest entry."""
    natural = len(table.columns) + 1  # the vertical rules
    for col in table.columns:
        texts = [c.plain if isinstance(c, Text) else str(c) for c in col.cells]
        natural += max([len(t) for t in texts] + [len(str(col.header))]) + 2
    return natural


def keep_whole(table: Table, wrap: tuple[str, ...] = ()) -> Table:
    """Make every column at least as wide as its widest entry and never wrap it, so that
    no number is cut or folded on a narrow terminal; the columns named in ``wrap`` (words,
    not numbers) may wrap, so that the table fits :data:`MAX_WIDTH` columns."""
    natural = natural_width(table)
    for col in table.columns:
        if col.header in wrap:
            continue
        texts = [c.plain if isinstance(c, Text) else str(c) for c in col.cells]
        col.min_width = max([len(t) for t in texts] + [len(str(col.header))])
        col.no_wrap = True
    table.width = min(natural, MAX_WIDTH) if wrap else natural
    return table


def _ok(flag: bool, yes: str = "yes", no: str = "NO") -> Text:
    return Text(yes, style="bold green") if flag else Text(no, style="bold red")


def run_tables(result: RunResult, cost_model: str = "unit", *, timing: Timing | None = None,
               clock_rows: Sequence[ClockRow] | None = None, all_rows: bool = False,
               checkpoint: CheckpointResult | None = None) -> Group:
    """Summary, counts by phase × op kind (with the closed form; op kinds as rows when
    the kinds as columns would not fit 80 columns), counts by layer (the first and last
    :data:`FOLD_SHOWN` rows of one over :data:`FOLD_ROWS` unless ``all_rows``); the cost model(s)
    ``cost_model`` (none for ``unit`` unless timed; ``all`` adds the published constants)
    and the clock's measurements when given. Every table fits 80 columns."""
    spec = result.spec
    counts = result.counts
    predicted = predicted_by_phase(result.prediction)
    kinds = [k for k in OP_NAMES if any(counts[p].counts[k] for p in PHASES)]

    phase_table = _phase_table(result, kinds, predicted)
    if natural_width(phase_table) > MAX_WIDTH:
        phase_table = _phase_table_stacked(result, kinds, predicted)

    layer_table = Table(title="By layer", title_justify="left")
    for col, just in (("phase", "left"), ("layer", "right"), ("ops", "left"),
                      ("cost", "right"), ("closed form", "right")):
        layer_table.add_column(col, justify=just)  # type: ignore[arg-type]
    rows = layer_rows(result)
    shown: list[dict[str, Any] | None] = list(rows)
    if not all_rows and len(rows) > FOLD_ROWS:
        shown = [*rows[:FOLD_SHOWN], None, *rows[-FOLD_SHOWN:]]
    for r in shown:
        if r is None:
            hidden = len(rows) - 2 * FOLD_SHOWN
            layer_table.add_row("…", "", Text(f"{hidden:,} rows more (--all-rows or --format "
                                              "json/csv shows every row)", style="dim"), "", "")
            continue
        ops = ", ".join(f"{k} {n:,}" for k, n in r["counts"].items())
        layer_table.add_row(r["phase"], "" if r["layer"] is None else str(r["layer"]), ops,
                            f"{r['measured']:,}", f"{r['predicted']:,}")

    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("spec", f"{spec.name}" + (f" ({spec.source})" if spec.source else ""))
    summary.add_row("widths", widths_text(spec.widths)
                    + f"   activations: {runs_text(spec.activations, ', ') or 'none'}")
    summary.add_row("size", f"{spec.parameters:,} parameters, {spec.nodes:,} nodes"
                    + f"   bias: {str(spec.bias).lower()}   batch: {spec.batch}")
    summary.add_row("engine", f"{result.engine_label} ({numbers.seconds(result.seconds)})")
    summary.add_row("cost(f)", f"{result.cost_f:,}  (forward + loss)")
    summary.add_row("cost(f, ∇f)", f"{result.cost_f_and_grad:,}  (+ backward)")
    summary.add_row("ratio", Text(f"{numbers.ratio(result.ratio)}  (bound {result.bound:g})",
                                  style="bold green" if result.holds else "bold red"))
    g = result.gradient_check
    summary.add_row("gradient", Text(g.summary, style="green" if g.passed else "bold red"))
    summary.add_row("closed form", _ok(result.counts_match, "every measured count agrees",
                                       "measured counts DIFFER"))
    summary.add_row("memory", memory_text(result.output.memory))
    summary.add_row("verdict", Text(verdict(result), style="bold green" if result.passed
                                    else "bold red"))
    style = "green" if result.passed else "red"
    panel = Panel(summary, title="cheapgrad run", border_style=style)
    models = cost_models_of(result)
    which = cost_model
    parts: list[RenderableType] = [panel, keep_whole(phase_table),
                                   keep_whole(layer_table, wrap=("ops",))]
    if which != "unit" or timing is not None:
        parts.append(keep_whole(cost_model_table(select(models, which), timing),
                                wrap=("source",)))
    if which == "all":
        parts.append(published_table(models))
    if clock_rows:
        parts.append(keep_whole(clock_table(list(clock_rows))))
    if checkpoint is not None:
        parts.append(checkpoint_tables(checkpoint))
    return Group(*parts)


def clock_table(rows: Sequence[ClockRow]) -> Table:
    """Op, MOVES and flop ratios beside the clock's, one row per batch size."""
    table = Table(title="Counts versus the clock: the ratio cost(f, ∇f) / cost(f) counted "
                        "in ops, MOVES and flops, and timed (plain numpy, median of repeats)",
                  title_justify="left")
    for col in ("batch", "engine", "ops", "MOVES", "flops", "time f", "time f,∇f", "time"):
        table.add_column(col, justify="left" if col == "engine" else "right")

    for r in rows:
        table.add_row(str(r.batch), r.engine, numbers.ratio(r.op_ratio),
                      numbers.ratio(r.memory_ratio), numbers.ratio(r.flop_ratio),
                      numbers.seconds(r.timing.forward_s),
                      numbers.seconds(r.timing.forward_backward_s),
                      Text(numbers.ratio(r.timing.ratio), style="bold"))
    return table


def _phase_table(result: RunResult, kinds: list[str],
                 predicted: dict[str, dict[str, int]]) -> Table:
    """Counts by phase (rows) and op kind (columns), with the closed form."""
    counts = result.counts
    table = Table(title="Ops counted, by phase (measured) and the closed form",
                  title_justify="left")
    table.add_column("phase")
    for k in kinds:
        table.add_column(k, justify="right")
    table.add_column("total", justify="right", style="bold")
    table.add_column("closed form", justify="right")
    table.add_column("agree", justify="center")
    for p in PHASES:
        pred = predicted.get(p, {})
        same = all(counts[p].counts[k] == pred.get(k, 0) for k in OP_NAMES)
        table.add_row(p, *(f"{counts[p].counts[k]:,}" for k in kinds),
                      f"{counts[p].total:,}", f"{sum(pred.values()):,}", _ok(same))
    return table


def _phase_table_stacked(result: RunResult, kinds: list[str],
                         predicted: dict[str, dict[str, int]]) -> Table:
    """The same counts with op kinds as rows and phases as columns (for many kinds)."""
    counts = result.counts
    table = Table(title="Ops counted, by op kind and phase (measured) and the closed form",
                  title_justify="left")
    table.add_column("op")
    for p in PHASES:
        table.add_column(p, justify="right")
    for k in kinds:
        table.add_row(k, *(f"{counts[p].counts[k]:,}" for p in PHASES))
    table.add_section()
    table.add_row(Text("total", style="bold"),
                  *(Text(f"{counts[p].total:,}", style="bold") for p in PHASES))
    table.add_row("closed form", *(f"{sum(predicted.get(p, {}).values()):,}" for p in PHASES))
    table.add_row("agree", *(_ok(all(counts[p].counts[k] == predicted.get(p, {}).get(k, 0)
                                     for k in OP_NAMES)) for p in PHASES))
    return table
