"""Rich renderers of a :class:`~cheapgrad.analysis.circuit.CircuitResult`. They take the result and
return rich renderables; every number comes from the result or the pure rows of
:mod:`cheapgrad.render.circuit`."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cheapgrad.analysis.circuit import CircuitResult
from cheapgrad.analysis.costmodels import select
from cheapgrad.render import numbers
from cheapgrad.render.circuit import (
    SHOWN_ENTRIES,
    cost_models_of,
    gradient_rows,
    memory_text,
    method_rows,
    per_op_rows,
    verdict,
    why_backprop,
)
from cheapgrad.render.costmodel_tables import cost_model_table, published_table


def _table(title: str, columns: list[tuple[str, str]]) -> Table:
    t = Table(title=title, title_justify="left")
    for name, justify in columns:
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    return t


def circuit_tables(result: CircuitResult, cost_model: str = "unit",
                   subject: str | None = None) -> Group:
    """Summary, the method table, the per-op view, the backprop comparison (mlp), the
    cost models ``cost_model`` (none for ``unit``; ``all`` adds the published constants,
    about ``subject``, default the circuit's name) and the first entries of the
    gradient."""
    c = result.circuit
    summary = Table.grid(padding=(0, 2))
    summary.add_column(style="bold")
    summary.add_column()
    summary.add_row("circuit", c.name + (f" ({c.source})" if c.source else ""))
    if c.description:
        summary.add_row("", c.description)
    summary.add_row("inputs", f"{len(c.inputs):,}")
    summary.add_row("f", f"{result.value:.10g}")
    summary.add_row("cost(f)", f"{result.cost_f:,}  (forward, traced)")
    summary.add_row("cost(f, ∇f)", f"{result.cost_f_and_grad:,}  (+ reverse sweep, "
                                   f"{numbers.seconds(result.seconds)})")
    summary.add_row("ratio", Text(f"{numbers.ratio(result.ratio)}  (bound {result.bound:g})",
                                  style="bold green" if result.holds else "bold red"))
    g = result.gradient_check
    summary.add_row("gradient", Text(g.summary, style="green" if g.passed else "bold red"))
    summary.add_row("memory", memory_text(result))
    summary.add_row("verdict", Text(verdict(result),
                                    style="bold green" if result.passed else "bold red"))
    panel = Panel(summary, title="cheapgrad circuit",
                  border_style="green" if result.passed else "red")

    methods = _table(
        f"Why reverse mode: cost of the gradient by method (errors against the "
        f"{result.reference_name or 'reference'})",
        [("method", "left"), ("evaluations", "left"), ("cost", "right"),
         ("ratio to f", "right"), ("max rel. error", "right"), ("note", "left")])
    for row in method_rows(result):
        methods.add_row(*row)

    per_op = _table("Per op: forward count and the reverse-sweep ops it caused",
                    [("op", "left"), ("forward", "right"), ("backward ops caused", "left"),
                     ("backward total", "right"), ("per op", "right")])
    for row in per_op_rows(result):
        per_op.add_row(*row)

    parts: list[object] = [panel, methods, per_op]
    bp = result.backprop
    if bp is not None:
        cmp_table = _table("Generic reverse mode against the hand-written backprop",
                           [("", "left"), ("cost(f)", "right"), ("cost(f, ∇f)", "right"),
                            ("ratio", "right"), ("backward ops", "left")])
        cmp_table.add_row("generic reverse mode", f"{result.cost_f:,}",
                          f"{result.cost_f_and_grad:,}", numbers.ratio(result.ratio),
                          ", ".join(f"{k} {v:,}" for k, v in bp.generic_backward.items()))
        cmp_table.add_row("hand-written backprop", f"{bp.cost_f:,}",
                          f"{bp.cost_f_and_grad:,}", numbers.ratio(bp.ratio),
                          ", ".join(f"{k} {v:,}" for k, v in bp.backward.items()))
        parts.append(cmp_table)
        parts.append(Text("\n".join(f"• {w}" for w in why_backprop(bp))))

    which = cost_model
    if which != "unit":
        models = cost_models_of(result)
        parts.append(cost_model_table(select(models, which)))
        if which == "all":
            parts.append(published_table(models, subject or c.name))

    grad = _table("Gradient", [("input", "left"), ("value", "right"), ("∂f/∂input", "right")])
    for row in gradient_rows(result):
        grad.add_row(*row)
    if len(c.inputs) > SHOWN_ENTRIES:
        grad.add_row(f"… {len(c.inputs) - SHOWN_ENTRIES:,} more", "", "")
    parts.append(grad)
    return Group(*parts)  # type: ignore[arg-type]
