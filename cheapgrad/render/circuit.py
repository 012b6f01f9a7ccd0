"""Pure renderers of a :class:`~cheapgrad.analysis.circuit.CircuitResult`: plain data (for JSON),
Markdown and CSV. No I/O, no terminal code; the rich tables are in
:mod:`cheapgrad.render.circuit_tables`.

The JSON document carries the fields of ``cheapgrad run`` (``counts`` by phase,
``cost_f``, ``cost_f_and_grad``, ``ratio``, ``bound``, ``holds``) plus ``inputs``,
``value``, ``gradient``, ``methods``, ``per_op``, ``memory`` and ``cost_models`` (every
cost model of :mod:`cheapgrad.analysis.costmodels`, whichever the tables show).

Two arguments steer the Markdown and the tables: ``cost_model`` (the model(s) shown,
default ``unit``; ``all`` adds the published constants) and ``subject`` (what the
published constants are measured on, e.g. ``product`` for Speelpenning's product;
default: the circuit's name).
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from cheapgrad.analysis import costmodels
from cheapgrad.analysis.backprop import BackpropComparison
from cheapgrad.analysis.circuit import PHASES, CircuitResult, MethodResult
from cheapgrad.render import costmodels as render_costmodels
from cheapgrad.render import numbers
from cheapgrad.render.run import json_number, verdict_parts

#: Version of the JSON layout; bumped when a field changes meaning or disappears.
SCHEMA_VERSION = 1
#: JSON keys of the methods, in table order.
METHOD_KEYS = {"reverse mode": "reverse", "forward mode": "forward",
               "central differences": "central"}
#: Gradient entries shown in Markdown and tables before eliding the rest.
SHOWN_ENTRIES = 12


def method_dict(m: MethodResult) -> dict[str, Any]:
    """One method as plain data."""
    return {"cost": m.cost, "ratio": json_number(m.ratio),
            "max_rel_error": json_number(m.max_rel_error), "evaluations": m.evaluations,
            "measured": m.cost is not None, "note": m.note}


def cost_models_of(result: CircuitResult) -> dict[str, costmodels.ModelCost]:
    """Every cost model of a circuit's counts (phases ``forward`` and ``backward``; a
    circuit has no matrix products, so ``flop`` costs nothing and has no ratio)."""
    return costmodels.cost_models(result.counter, result.cost_weights)


def why_backprop(bp: BackpropComparison) -> list[str]:
    """Why generic reverse mode and the hand-written backprop count what they count."""
    thrown, first_layer = bp.discarded_mul, bp.first_layer_muls
    return [
        "Both differentiate the same forward pass "
        + ("(identical forward counts)." if bp.forward_counts_equal
           else "(forward counts DIFFER)."),
        "Each weight costs the same in both: its mul w·z gives the weight's gradient g·z "
        "(δ_j·z_i) and g·w, a term of Σ_k w_kj·δ_k; a z used by several units gets one "
        "add per extra use.",
        f"No adjoint is computed for a constant operand ({thrown:,} contributions thrown "
        f"away): the {first_layer:,} muls w·x of layer 1 make only g·x (the input x is a "
        "constant; backprop has no δ for it either).",
        "Backprop starts from δ = ŷ − y (one sub per output); the generic sweep "
        "differentiates the loss itself: 0.5·s (one mul), each r·r "
        "(two muls and an add) and each r = y − ŷ (a neg).",
        "An activation costs what its rules cost: tanh's g·(1 − z·z) is three ops, as "
        "backprop's h' and product; sigmoid, built from neg, exp, add and div, goes "
        "through four rules where backprop uses z·(1 − z).",
    ]


def backprop_dict(bp: BackpropComparison) -> dict[str, Any]:
    """The comparison with the hand-written backprop as plain data, with its reasons."""
    return {
        "cost_f": bp.cost_f,
        "cost_f_and_grad": bp.cost_f_and_grad,
        "ratio": json_number(bp.ratio),
        "holds": bp.holds,
        "forward": bp.forward,
        "backward": bp.backward,
        "generic_backward": bp.generic_backward,
        "backward_difference": bp.backward_difference,
        "forward_counts_equal": bp.forward_counts_equal,
        "gradient_max_rel_difference": bp.gradient_max_rel_difference,
        "gradients_agree": bp.gradients_agree,
        "why": why_backprop(bp),
    }


def to_dict(result: CircuitResult) -> dict[str, Any]:
    """The JSON document of a circuit (schema in docs/circuits.md)."""
    counts = result.counts
    gc = result.gradient_check
    c = result.circuit
    doc: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "kind": "circuit",
        "name": c.name,
        "description": c.description,
        "source": c.source,
        "inputs": result.inputs,
        "value": json_number(result.value),
        "gradient": {k: json_number(v) for k, v in result.gradient_dict.items()},
        "counts": {p: counts[p].counts for p in PHASES},
        "nonscalar": {p: counts[p].nonscalar for p in PHASES},
        "per_op": result.per_op(),
        "discarded": result.discarded,
        "cost_f": result.cost_f,
        "cost_f_and_grad": result.cost_f_and_grad,
        "ratio": json_number(result.ratio),
        "bound": result.bound,
        "holds": result.holds,
        "methods": {METHOD_KEYS.get(m.name, m.name): method_dict(m) for m in result.methods},
        "reference": result.reference_name or None,
        "memory": result.memory,
        "gradient_check": gc.to_json(),
        "cost_models": costmodels.to_json(cost_models_of(result)),
        "passed": result.passed,
    }
    if result.backprop is not None:
        doc["backprop"] = backprop_dict(result.backprop)
    return doc


def _err(x: float | None) -> str:
    return "—" if x is None else f"{x:.1e}"


def verdict(result: CircuitResult) -> str:
    """One sentence: does the bound hold, and is the gradient right?"""
    parts = verdict_parts(result.ratio, result.bound, result.holds, result.gradient_check)
    if result.circuit.reference is not None:
        parts.append(f"{'matches' if result.reference_agrees else 'DIFFERS from'} the "
                     f"{result.reference_name} ({_err(result.reference_error)})")
    bp = result.backprop
    if bp is not None:
        parts.append("equal to backprop's gradient" if bp.gradients_agree
                     else "DIFFERENT from backprop's gradient")
    return "; ".join(parts)


def method_rows(result: CircuitResult) -> list[list[str]]:
    """Rows of the method table: method, evaluations, cost, ratio, error, note."""
    rows = []
    for m in result.methods:
        rows.append([
            m.name, m.evaluations, "—" if m.cost is None else f"{m.cost:,}",
            "—" if m.ratio is None or math.isnan(m.ratio) else f"{m.ratio:.2f}",
            _err(m.max_rel_error), m.note,
        ])
    return rows


def per_op_rows(result: CircuitResult) -> list[list[str]]:
    """Rows of the per-op view: op, forward count, backward ops caused, ops per op."""
    rows = []
    for r in result.per_op():
        caused = ", ".join(f"{k} {n:,}" for k, n in r["backward"].items()) or "none"
        per = r["backward_total"] / r["forward"] if r["forward"] else 0.0
        rows.append([r["op"], f"{r['forward']:,}", caused, f"{r['backward_total']:,}",
                     f"{per:.2f}"])
    return rows


def memory_text(result: CircuitResult) -> str:
    """The memory line: tape length against the forward pass's peak of live values."""
    m = result.memory
    return (f"reverse mode keeps {m['tape']:,} values (the tape: {m['ops']:,} op results, "
            f"the inputs and constants); the forward pass alone needs at most "
            f"{m['forward_peak']:,} at once (inputs held, every other value dropped after "
            f"its last use, topological order)")


def gradient_rows(result: CircuitResult, limit: int = SHOWN_ENTRIES) -> list[list[str]]:
    """The first ``limit`` inputs: name, value, ∂f/∂name."""
    items = list(zip(result.inputs.items(), result.gradient.tolist(), strict=True))
    return [[name, f"{v:.6g}", f"{g:.6g}"] for (name, v), g in items[:limit]]


def to_markdown(result: CircuitResult, cost_model: str = "unit",
                subject: str | None = None) -> str:
    """A Markdown report: summary, methods, per-op view, memory, gradient; the cost
    model(s) ``cost_model`` (``all`` adds the published constants, about ``subject``,
    default the circuit's name)."""
    c = result.circuit
    d = len(c.inputs)
    lines = [
        f"# cheapgrad circuit: {c.name}",
        "",
        *([f"{c.description}", ""] if c.description else []),
        f"- inputs: {d:,}; f = {result.value:.10g}",
        f"- cost(f) = {result.cost_f:,}; cost(f, ∇f) = {result.cost_f_and_grad:,} "
        f"(reverse mode); ratio = {numbers.ratio(result.ratio)}; bound = {result.bound:g}",
        f"- verdict: {verdict(result)}",
        f"- memory: {memory_text(result)}",
        "",
        "## Why reverse mode: the methods",
        "",
        f"Errors are measured against the {result.reference_name or 'reference'}.",
        "",
        "| method | evaluations | cost | ratio to f | max rel. error | note |",
        "|---|---|---:|---:|---:|---|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in method_rows(result)]
    lines += ["", "## Per op: forward count and the reverse-sweep ops it caused", "",
              "| op | forward | backward ops caused | backward total | per op |",
              "|---|---:|---|---:|---:|"]
    lines += ["| " + " | ".join(row) + " |" for row in per_op_rows(result)]
    bp = result.backprop
    if bp is not None:
        lines += ["", "## Generic reverse mode against the hand-written backprop", "",
                  "| | cost(f) | cost(f, ∇f) | ratio |", "|---|---:|---:|---:|",
                  f"| generic reverse mode | {result.cost_f:,} | {result.cost_f_and_grad:,} "
                  f"| {numbers.ratio(result.ratio)} |",
                  f"| hand-written backprop | {bp.cost_f:,} | {bp.cost_f_and_grad:,} "
                  f"| {numbers.ratio(bp.ratio)} |", "",
                  f"Backward ops, generic minus backprop: {bp.backward_difference}; "
                  f"gradients differ by at most {bp.gradient_max_rel_difference:.1e} "
                  "(relative).", ""]
        lines += [f"- {why}" for why in why_backprop(bp)]
    models = cost_models_of(result)
    which = cost_model
    lines += ["", "## Cost models", "",
              render_costmodels.to_markdown(costmodels.select(models, which)).rstrip("\n")]
    if which == "all":
        lines += ["", "## Published constants", "",
                  render_costmodels.published_markdown(models, subject or c.name).rstrip("\n")]
    lines += ["", "## Gradient", "", "| input | value | ∂f/∂input |", "|---|---:|---:|"]
    lines += ["| " + " | ".join(row) + " |" for row in gradient_rows(result)]
    if d > SHOWN_ENTRIES:
        lines.append(f"| … {d - SHOWN_ENTRIES:,} more | | |")
    return "\n".join(lines) + "\n"


def to_csv(result: CircuitResult) -> str:
    """CSV with columns name, phase, caused_by, op, count: the forward counts by kind,
    the backward counts by causing op and kind, and one ``method`` row per method
    (op ``total``, empty count when not run)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", "phase", "caused_by", "op", "count"])
    name = result.circuit.name
    for kind, n in result.counter.totals("forward").nonzero().items():
        w.writerow([name, "forward", "", kind, n])
    for row in result.per_op():
        for kind, n in row["backward"].items():
            w.writerow([name, "backward", row["op"], kind, n])
    for m in result.methods:
        w.writerow([name, "method", m.name, "total", "" if m.cost is None else m.cost])
    return buf.getvalue()
