"""Rich renderers for the terminal. They take result objects and return rich
renderables; they never compute a count themselves."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cheapgrad.analysis.costmodels import select
from cheapgrad.analysis.run import PHASES, RunResult
from cheapgrad.analysis.theory import predicted_by_phase
from cheapgrad.analysis.timing import ClockRow, Timing
from cheapgrad.core.ops import OP_NAMES
from cheapgrad.render.costmodel_tables import cost_model_table, published_table
from cheapgrad.render.run import cost_models_of, layer_rows, verdict


def keep_whole(table: Table) -> Table:
    """Make every column at least as wide as its widest entry and never wrap it, so that
    no number is cut or folded on a narrow terminal (print with ``crop=False``: the table
    is then wider than the screen instead)."""
    natural = len(table.columns) + 1  # the vertical rules
    for col in table.columns:
        texts = [c.plain if isinstance(c, Text) else str(c) for c in col.cells]
        col.min_width = max([len(t) for t in texts] + [len(str(col.header))])
        col.no_wrap = True
        natural += col.min_width + 2  # one space of padding either side
    table.width = natural
    return table


def _ok(flag: bool, yes: str = "yes", no: str = "NO") -> Text:
    return Text(yes, style="bold green") if flag else Text(no, style="bold red")


def run_tables(result: RunResult, cost_model: str = "unit", *, timing: Timing | None = None,
               clock_rows: Sequence[ClockRow] | None = None) -> Group:
    """Summary, counts by phase × op kind (with the closed form), counts by layer; the
    cost model(s) ``cost_model`` (none for ``unit`` unless timed; ``all`` adds the
    published constants) and the clock's measurements when given."""
    spec = result.spec
    counts = result.counts
    predicted = predicted_by_phase(result.prediction)
    kinds = [k for k in OP_NAMES if any(counts[p].counts[k] for p in PHASES)]

    phase_table = Table(title="Ops counted, by phase (measured) and the closed form",
                        title_justify="left")
    phase_table.add_column("phase")
    for k in kinds:
        phase_table.add_column(k, justify="right")
    phase_table.add_column("total", justify="right", style="bold")
    phase_table.add_column("closed form", justify="right")
    phase_table.add_column("agree", justify="center")
    for p in PHASES:
        pred = predicted.get(p, {})
        pred_total = sum(pred.values())
        same = all(counts[p].counts[k] == pred.get(k, 0) for k in OP_NAMES)
        phase_table.add_row(p, *(f"{counts[p].counts[k]:,}" for k in kinds),
                            f"{counts[p].total:,}", f"{pred_total:,}", _ok(same))

    layer_table = Table(title="By layer", title_justify="left")
    for col, just in (("phase", "left"), ("layer", "right"), ("ops", "left"),
                      ("cost", "right"), ("closed form", "right")):
        layer_table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in layer_rows(result):
        ops = ", ".join(f"{k} {n:,}" for k, n in r["counts"].items())
        layer_table.add_row(r["phase"], "" if r["layer"] is None else str(r["layer"]), ops,
                            f"{r['measured']:,}", f"{r['predicted']:,}")

    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("spec", f"{spec.name}" + (f" ({spec.source})" if spec.source else ""))
    summary.add_row("widths", " → ".join(str(w) for w in spec.widths)
                    + f"   activations: {', '.join(spec.activations) or 'none'}"
                    + f"   bias: {str(spec.bias).lower()}   batch: {spec.batch}")
    summary.add_row("size", f"{spec.parameters:,} parameters, {spec.nodes:,} nodes")
    summary.add_row("engine", f"{result.engine_label} ({result.seconds:.3f} s)")
    summary.add_row("cost(f)", f"{result.cost_f:,}  (forward + loss)")
    summary.add_row("cost(f, ∇f)", f"{result.cost_f_and_grad:,}  (+ backward)")
    summary.add_row("ratio", Text(f"{result.ratio:.4f}  (bound {result.bound:g})",
                                  style="bold green" if result.holds else "bold red"))
    g = result.gradient_check
    summary.add_row("gradient", Text(g.summary, style="green" if g.passed else "bold red"))
    summary.add_row("closed form", _ok(result.counts_match, "every measured count agrees",
                                       "measured counts DIFFER"))
    summary.add_row("verdict", Text(verdict(result), style="bold green" if result.passed
                                    else "bold red"))
    style = "green" if result.passed else "red"
    panel = Panel(summary, title="cheapgrad run", border_style=style)
    models = cost_models_of(result)
    which = cost_model
    parts: list[RenderableType] = [panel, keep_whole(phase_table), keep_whole(layer_table)]
    if which != "unit" or timing is not None:
        parts.append(keep_whole(cost_model_table(select(models, which), timing)))
    if which == "all":
        parts.append(published_table(models))
    if clock_rows:
        parts.append(keep_whole(clock_table(list(clock_rows))))
    return Group(*parts)


def clock_table(rows: Sequence[ClockRow]) -> Table:
    """Op, MOVES and flop ratios beside the clock's, one row per batch size."""
    table = Table(title="Counts versus the clock (plain numpy, median of repeats)",
                  title_justify="left")
    for col in ("batch", "engine", "op ratio", "MOVES ratio", "flop ratio", "time f",
                "time f, ∇f", "time ratio"):
        table.add_column(col, justify="left" if col == "engine" else "right")

    def fmt(x: float | None) -> str:
        return "–" if x is None else f"{x:.3f}"

    for r in rows:
        table.add_row(str(r.batch), r.engine, fmt(r.op_ratio), fmt(r.memory_ratio),
                      fmt(r.flop_ratio), f"{r.timing.forward_s * 1e6:,.1f} µs",
                      f"{r.timing.forward_backward_s * 1e6:,.1f} µs",
                      Text(f"{r.timing.ratio:.3f}", style="bold"))
    return table
