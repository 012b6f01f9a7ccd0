"""Rich renderers for the cost models, the published constants and the audit.

They take result objects and return rich renderables; every number comes from
:mod:`cheapgrad.analysis.costmodels` or :mod:`cheapgrad.analysis.audit`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cheapgrad.analysis.audit import AuditResult
from cheapgrad.analysis.costmodels import ModelCost
from cheapgrad.analysis.published import published_rows
from cheapgrad.render.audit import describe
from cheapgrad.render.costmodels import fmt_number

#: Caption of the tables whose verdicts may carry the mark of an unmet hypothesis.
OUTSIDE = ("* outside the theorem's hypothesis: f uses elementary functions, comparisons or "
           "declared units (nonscalar), or has no matrix products (flop)")


def _verdict(holds: bool | None, applies: bool = True) -> Text:
    if holds is None:
        return Text("n/a", style="dim")
    text = "holds" if holds else "VIOLATED"
    if not applies:
        text += "*"
    style = "green" if holds else ("yellow" if not applies else "bold red")
    return Text(text, style=style)


def cost_model_table(models: Mapping[str, ModelCost], timing: Any = None) -> Table:
    """One row per cost model: cost of f, of f and ∇f, ratio, bound, verdict, source.

    ``timing`` (optional) adds the clock: any object with ``forward_s``,
    ``forward_backward_s`` and ``ratio`` (see :mod:`cheapgrad.analysis.timing`).
    """
    starred = any(m.holds is not None and not m.applies for m in models.values())
    table = Table(title="Cost models: the same counts, priced five ways", title_justify="left",
                  caption=OUTSIDE if starred else None, caption_justify="left")
    for col, just in (("model", "left"), ("cost(f)", "right"), ("cost(f, ∇f)", "right"),
                      ("ratio", "right"), ("bound", "right"), ("verdict", "left"),
                      ("source", "left")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for name, m in models.items():
        table.add_row(name, fmt_number(m.cost_f), fmt_number(m.cost_f_and_grad),
                      fmt_number(m.ratio), fmt_number(m.bound), _verdict(m.holds, m.applies),
                      m.source)
    if timing is not None:
        table.add_row("clock (numpy)", f"{timing.forward_s * 1e6:.1f} µs",
                      f"{timing.forward_backward_s * 1e6:.1f} µs", f"{timing.ratio:.4f}",
                      "–", Text("measured", style="cyan"), "median of repeats")
    return table


def published_table(models: Mapping[str, ModelCost], subject: str = "mlp",
                    after_model_table: bool = True) -> Table:
    """The published constants beside the ratio measured under each one's model. The
    footnote on the mark ``*`` is left to the cost-model table of the same ``models``
    shown just before (``after_model_table``), and left out when no row is marked."""
    rows = published_rows(models, subject)
    starred = any(r["holds"] is not None and r["applies"] is False for r in rows)
    shown_before = after_model_table and any(
        m.holds is not None and not m.applies for m in models.values())
    table = Table(title="Published constants and what was measured here",
                  title_justify="left", caption=OUTSIDE if starred and not shown_before else None,
                  caption_justify="left")
    table.add_column("statement", ratio=3)
    table.add_column("source", ratio=2)
    for col, just in (("model", "left"), ("bound", "right"), ("measured", "right"),
                      ("verdict", "left")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for r in rows:
        table.add_row(r["statement"], r["source"], r["model"], fmt_number(r["bound"]),
                      fmt_number(r["measured_ratio"]),
                      _verdict(r["holds"], r["applies"] is not False))
    return table


def audit_tables(result: AuditResult) -> Group:
    """The audit's findings, the width-1 chain table and the largest ratios found."""
    findings = Text("\n".join(describe(result)))
    style = "green" if result.holds and result.passed else "red"
    panel = Panel(findings, title="cheapgrad audit", border_style=style)

    chains = Table(title="Width-1 chains with c' = ⌊C·c⌋ (closed form)", title_justify="left")
    for col in ("c", "c'", "R(1)", "R(64)", "limit L → ∞"):
        chains.add_column(col, justify="right")
    for e in result.chain_examples:
        chains.add_row(str(e["cost"]), str(e["derivative_cost"]), f"{e['depth_1']:.4f}",
                       f"{e['depth_64']:.4f}", f"{e['limit']:.4f}")

    top = Table(title="Largest ratios of the search (closed form)", title_justify="left")
    for col in ("depth", "width", "c", "c'", "ratio", "ops of f and ∇f"):
        top.add_column(col, justify="right")
    bound = result.stated_bound
    for k in result.candidates[:10]:
        ratio = float(k.ratio)
        top.add_row(str(k.depth), str(k.width), str(k.cost), str(k.derivative_cost),
                    Text(f"{ratio:.4f}", style="red" if ratio > bound else "green"),
                    f"{k.ops:,}")
    return Group(panel, chains, top)
