"""Rich tables of a counted transformer (rows from :mod:`cheapgrad.render.transformer`),
every one within 80 columns."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from cheapgrad.analysis.costmodels import select
from cheapgrad.analysis.sixn import transformer_sixn
from cheapgrad.analysis.transformer import TransformerResult
from cheapgrad.render import numbers
from cheapgrad.render.costmodel_tables import cost_model_table
from cheapgrad.render.sixn_tables import sixn_tables
from cheapgrad.render.transformer import summary_rows


def _table(title: str, columns: tuple[tuple[str, str], ...]) -> Table:
    t = Table(title=title, title_justify="left")
    for name, justify in columns:
        t.add_column(name, justify=justify)  # type: ignore[arg-type]
    return t


def transformer_tables(result: TransformerResult, cost_model: str = "unit") -> Group:
    """Summary, ops by component (backward/forward), op kinds, FlopCounterMode's flops,
    cost models, the 6N table (:mod:`cheapgrad.render.sixn_tables`)."""
    summary = Table.grid(padding=(0, 2))
    for label, text in summary_rows(result):
        summary.add_row(label, text)
    parts: list[Any] = [Panel(summary, title="cheapgrad run (transformer)")]
    comps = _table("Ops by component", (("component", "left"), ("forward", "right"),
                                        ("backward", "right"), ("bwd/fwd", "right")))
    for r in result.rows():
        comps.add_row(r["component"], numbers.count(r["forward"]),
                      numbers.count(r["backward"]), numbers.ratio(r["ratio"]))
    back = result.phases["backward"].total
    comps.add_row("total", numbers.count(result.cost_f), numbers.count(back),
                  numbers.ratio(back / result.cost_f if result.cost_f else None),
                  style="bold")
    parts.append(comps)
    kinds = _table("Ops by kind", (("op", "left"), ("forward", "right"),
                                   ("backward", "right"), ("bwd/fwd", "right")))
    fwd, bwd = result.phases["forward"].counts, result.phases["backward"].counts
    for k in fwd:
        if fwd[k] or bwd[k]:
            kinds.add_row(k, numbers.count(fwd[k]), numbers.count(bwd[k]),
                          numbers.ratio(bwd[k] / fwd[k] if fwd[k] else None))
    parts.append(kinds)
    swept, label = _swept(result)
    flops = _table("Matrix products at 2·m·n·k (PyTorch FlopCounterMode; backward: "
                   "dense, predicted from shapes) and 2 × the muls the reverse sweep's "
                   f"products ran ({label})",
                   (("component", "left"), ("forward", "right"), ("backward", "right"),
                    ("swept", "right")))
    for comp, n in result.products["forward"].items():
        flops.add_row(comp, numbers.count(2 * n),
                      numbers.count(2 * result.products["backward"][comp]),
                      numbers.count(2 * swept[comp]))
    flops.add_row("total", numbers.count(2 * sum(result.products["forward"].values())),
                  numbers.count(2 * sum(result.products["backward"].values())),
                  numbers.count(2 * sum(swept.values())), style="bold")
    parts.append(flops)
    if cost_model != "unit":
        parts.append(cost_model_table(select(result.cost_models(), cost_model)))
    parts.append(sixn_tables(transformer_sixn(result)))
    return Group(*parts)


def _swept(result: TransformerResult) -> tuple[dict[str, int], str]:
    """The reverse sweep's product muls and what they are: measured (executed, checked
    equal to the shapes' prediction for gelu) or predicted (shapes)."""
    if "measured" in result.swept:
        return result.swept["measured"], "measured"
    return result.swept["predicted"], "predicted from shapes"
