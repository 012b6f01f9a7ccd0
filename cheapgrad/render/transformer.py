"""Every way a counted transformer
(:class:`~cheapgrad.analysis.transformer.TransformerResult`) is shown: its JSON
document, Markdown and CSV (the rich tables are in
:mod:`cheapgrad.render.transformer_tables`).

The JSON document: ``kind: transformer``, the spec, ``engine`` and ``engine_reason``,
``parameters``, ``counts`` and ``nonscalar`` by phase, ``components`` (component ->
{forward, backward: op kind -> count, ratio, flop_forward, flop_backward, nonscalar:
{forward, backward: op kind -> nonscalar tally}, measured when executed}), ``products``
(m·n·k by phase and component: forward measured when executed, backward the dense
backward FlopCounterMode prices, predicted from shapes), ``swept_products``
(``predicted`` and, executed, ``measured``: component -> the muls of the reverse sweep's
matrix products), ``cost_f``, ``cost_f_and_grad``, ``ratio``, ``bound``,
``holds``, ``cost_models``, ``weights`` (the ``--load-weights`` file, else null: the
seed's), ``loss``, ``gradient_check``, ``closed_form`` and ``memory`` (executed engines;
null from shapes), ``passed``, and ``sixn``: the 6N table
(:meth:`cheapgrad.analysis.sixn.SixN.to_dict`: each published formula beside the measured
flop and unit counts per token, its relative error, what it leaves out; the ops per
parameter per token; each measured ratio against its bound).

Example::

    >>> from cheapgrad.analysis.transformer import run_transformer
    >>> from cheapgrad.models.bundled import load_any_config
    >>> doc = to_dict(run_transformer(load_any_config("gpt2-small")))
    >>> doc["cost_models"]["flop"]["cost_f"], doc["components"]["head"]["forward"]["mul"]
    (291648307200, 39523713024)
"""

from __future__ import annotations

import csv
import io
from typing import Any

from cheapgrad.analysis import costmodels
from cheapgrad.analysis.sixn import transformer_sixn
from cheapgrad.analysis.transformer import PHASES, TransformerResult
from cheapgrad.render import costmodels as render_costmodels
from cheapgrad.render import numbers
from cheapgrad.render.run import json_number
from cheapgrad.render.sixn import to_markdown as sixn_markdown

SCHEMA_VERSION = 1


def engine_text(result: TransformerResult) -> str:
    """The engine, and why when ``auto`` chose it."""
    return result.engine + (f" ({result.reason})" if result.reason else "")


def summary_rows(result: TransformerResult) -> list[tuple[str, str]]:
    """Label and text of each line of the summary."""
    s = result.spec
    rows = [("spec", f"{s.name}: {s.n_layer} layers, d_model {s.d_model}, {s.n_head} heads, "
                     f"d_ff {s.d_ff}, {s.activation}"),
            ("", f"vocab {s.vocab:,}, n_ctx {s.n_ctx:,}, batch {s.batch}, bias "
                 f"{str(s.bias).lower()}, tied {str(s.tied_embeddings).lower()}"),
            ("parameters", numbers.count(s.parameters)),
            ("engine", engine_text(result)),
            ("cost(f)", f"{numbers.count(result.cost_f)} ops"),
            ("cost(f, ∇f)", f"{numbers.count(result.cost_f_and_grad)} ops"),
            ("ratio", f"{numbers.ratio(result.ratio)} (bound {numbers.bound(result.bound)}: "
                      f"{'holds' if result.holds else 'VIOLATED'})")]
    if result.weights_source is not None:
        rows.append(("weights", result.weights_source))
    if result.loss is not None:
        rows.append(("loss", f"{result.loss:.6f}"))
    if result.check is not None:
        rows.append(("gradient check", result.check.summary))
    if result.closed_form is not None:
        rows.append(("closed form", "every count equals the shapes engine's"
                     if result.closed_form else "DIFFERS from the shapes engine's counts"))
    if result.memory is not None:
        m = result.memory
        rows.append(("memory", f"reverse mode keeps {m['tape']:,} values (every recorded "
                               f"array's elements); the forward pass alone holds at most "
                               f"{m['forward_peak']:,} at once"))
    rows.append(("time", numbers.seconds(result.seconds)))
    return rows


def to_dict(result: TransformerResult) -> dict[str, Any]:
    """The JSON document (see the module docstring)."""
    comps = {}
    for row in result.rows():
        comps[row["component"]] = {
            "forward": row["forward_kinds"], "backward": row["backward_kinds"],
            "forward_total": row["forward"], "backward_total": row["backward"],
            "ratio": json_number(row["ratio"]) if row["ratio"] is not None else None,
            "flop_forward": row["flop_forward"], "flop_backward": row["flop_backward"],
            "nonscalar": {"forward": row["forward_nonscalar"],
                          "backward": row["backward_nonscalar"]}}
    return {
        "schema": SCHEMA_VERSION,
        "kind": "transformer",
        "spec": result.spec.to_dict(),
        "parameters": result.spec.parameters,
        "engine": result.engine,
        "engine_reason": result.reason,
        "counts": {p: result.phases[p].nonzero() for p in PHASES},
        "nonscalar": {p: {k: n for k, n in result.phases[p].nonscalar.items() if n}
                      for p in PHASES},
        "components": comps,
        "products": result.products,
        "swept_products": result.swept,
        "cost_f": result.cost_f,
        "cost_f_and_grad": result.cost_f_and_grad,
        "ratio": json_number(result.ratio),
        "bound": result.bound,
        "holds": result.holds,
        "cost_models": costmodels.to_json(result.cost_models()),
        "weights": result.weights_source,
        "loss": None if result.loss is None else json_number(result.loss),
        "gradient_check": None if result.check is None else result.check.to_json(),
        "closed_form": result.closed_form,
        "memory": result.memory,
        "passed": result.passed,
        "sixn": transformer_sixn(result).to_dict(),
    }


def _kinds(kinds: dict[str, int]) -> str:
    return ", ".join(f"{k} {n:,}" for k, n in kinds.items()) or "–"


def to_markdown(result: TransformerResult, cost_model: str = "unit") -> str:
    """Summary, the component table (op kinds included), cost models."""
    out = [f"# cheapgrad: transformer {result.spec.name}", ""]
    out += [f"- **{label or '…'}**: {text}" for label, text in summary_rows(result)]
    out += ["", "## Ops by component", "",
            "| component | forward | backward | backward/forward | flop (f) | flop (∇f) |",
            "|---|---:|---:|---:|---:|---:|"]
    for r in result.rows():
        out.append(f"| {r['component']} | {r['forward']:,} | {r['backward']:,} | "
                   f"{numbers.ratio(r['ratio'])} | {r['flop_forward']:,} | "
                   f"{r['flop_backward']:,} |")
    out.append(f"| **total** | {result.cost_f:,} | {result.phases['backward'].total:,} | "
               f"{numbers.ratio(result.phases['backward'].total / result.cost_f)} | "
               f"{2 * sum(result.products['forward'].values()):,} | "
               f"{2 * sum(result.products['backward'].values()):,} |")
    out += ["", "## Op kinds by component", "", "| component | forward | backward |",
            "|---|---|---|"]
    for r in result.rows():
        out.append(f"| {r['component']} | {_kinds(r['forward_kinds'])} | "
                   f"{_kinds(r['backward_kinds'])} |")
    swept = result.swept.get("measured")
    out += ["", "## Matrix products (m·n·k)", "",
            "FlopCounterMode prices 2·m·n·k forward and, for a dense backward, twice the "
            "forward (predicted from shapes); the reverse sweep's product muls are "
            + ("measured (checked against the shapes)." if swept is not None
               else "predicted from shapes (nothing executed)."), "",
            "| component | forward | backward (dense, predicted) | sweep muls |",
            "|---|---:|---:|---:|"]
    for comp, n in result.products["forward"].items():
        out.append(f"| {comp} | {n:,} | {result.products['backward'][comp]:,} | "
                   f"{(swept or result.swept['predicted'])[comp]:,} |")
    models = costmodels.select(result.cost_models(), "all" if cost_model == "unit"
                               else cost_model)
    out += ["", "## Cost models", "", render_costmodels.to_markdown(models).rstrip("\n"), ""]
    out += [sixn_markdown(transformer_sixn(result))]
    return "\n".join(out)


def to_csv(result: TransformerResult) -> str:
    """One row per component, phase and op kind: ``component,phase,op,count``."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["component", "phase", "op", "count"])
    for r in result.rows():
        for phase in PHASES:
            for k, n in r[f"{phase}_kinds"].items():
                w.writerow([r["component"], phase, k, n])
    return buf.getvalue()
