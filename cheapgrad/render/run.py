"""Pure renderers of a :class:`~cheapgrad.analysis.run.RunResult`: plain data (for JSON),
Markdown and CSV. No I/O, no terminal code; the rich tables live in
:mod:`cheapgrad.render.run_tables`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from typing import Any

from cheapgrad.analysis import costmodels
from cheapgrad.analysis.checkpoint import CheckpointResult
from cheapgrad.analysis.gradcheck import GradCheck
from cheapgrad.analysis.run import PHASES, RunResult
from cheapgrad.analysis.theory import predicted_by_phase
from cheapgrad.analysis.timing import ClockRow, Timing
from cheapgrad.core.counter import OpCounts
from cheapgrad.core.ops import OP_NAMES
from cheapgrad.render import costmodels as render_costmodels
from cheapgrad.render import numbers
from cheapgrad.render.checkpoint import to_dict as checkpoint_dict
from cheapgrad.render.checkpoint import to_markdown as checkpoint_markdown
from cheapgrad.render.numbers import json_number
from cheapgrad.render.timing import clock_markdown

#: Version of the JSON layout; bumped when a field changes meaning or disappears.
SCHEMA_VERSION = 1


def runs_text(items: Sequence[Any], sep: str) -> str:
    """Items joined by ``sep``, a run of three or more equal items summarised as
    ``item×count``, so that a 5,000-layer net reads ``2 → 2×5000 → 1``.

    Example::

        >>> runs_text([2] * 5000 + [1], " → "), runs_text([4, 8, 8, 1], " → ")
        ('2×5000 → 1', '4 → 8 → 8 → 1')
    """
    out: list[str] = []
    i = 0
    while i < len(items):
        j = i
        while j < len(items) and items[j] == items[i]:
            j += 1
        n = j - i
        out += [f"{items[i]}×{n}"] if n >= 3 else [str(items[i])] * n
        i = j
    return sep.join(out)


def widths_text(widths: Sequence[int]) -> str:
    """The widths d0 → hidden → K, runs of equal hidden widths summarised.

    Example::

        >>> widths_text((2,) + (2,) * 5000 + (1,))
        '2 → 2×5000 → 1'
    """
    if len(widths) <= 2:
        return " → ".join(map(str, widths))
    return f"{widths[0]} → {runs_text(widths[1:-1], ' → ')} → {widths[-1]}"


def layer_rows(result: RunResult) -> list[dict[str, Any]]:
    """One row per (phase, layer): measured and predicted unit cost and the kinds."""
    rows: dict[tuple[str, Any], dict[str, Any]] = {}
    for (phase, layer, _part), tally in result.counter.buckets.items():
        counts = OpCounts.from_tally(tally)
        row = rows.setdefault((phase, layer), {
            "phase": phase, "layer": layer, "counts": {}, "measured": 0, "predicted": 0,
        })
        for kind, n in counts.nonzero().items():
            row["counts"][kind] = row["counts"].get(kind, 0) + n
        row["measured"] += counts.total
    for (phase, layer, _), kinds in result.prediction.items():
        row = rows.setdefault((phase, layer), {
            "phase": phase, "layer": layer, "counts": {}, "measured": 0, "predicted": 0,
        })
        row["predicted"] += sum(kinds.values())
    for row in rows.values():
        row["counts"] = {k: row["counts"][k] for k in OP_NAMES if k in row["counts"]}
    order = {p: i for i, p in enumerate(PHASES)}
    return sorted(
        rows.values(),
        key=lambda r: (order.get(r["phase"], 99),
                       (-1 if r["layer"] is None else r["layer"])
                       * (-1 if r["phase"] == "backward" else 1)),
    )


def cost_models_of(result: RunResult) -> dict[str, costmodels.ModelCost]:
    """Every cost model of a run (the spec's cost_weights price the weighted model)."""
    return costmodels.cost_models(result.counter, result.spec.cost_weights)


def to_dict(result: RunResult, *, timing: Timing | None = None,
            clock_rows: Sequence[ClockRow] | None = None,
            checkpoint: CheckpointResult | None = None) -> dict[str, Any]:
    """The JSON document of a run (schema in the README), with the clock's measurements
    when they were taken (``--time``: ``timing``; ``--time-batches``: ``clock_rows``) and
    a checkpointing strategy's row (``--checkpoint``: ``checkpoint``)."""
    predicted = predicted_by_phase(result.prediction)
    counts = result.counts
    gc = result.gradient_check
    return {
        "schema": SCHEMA_VERSION,
        "name": result.spec.name,
        "engine": result.engine,
        "engine_requested": result.requested_engine,
        "spec": result.spec.to_dict(),
        "parameters": result.spec.parameters,
        "nodes": result.spec.nodes,
        "counts": {p: counts[p].counts for p in PHASES},
        "nonscalar": {p: counts[p].nonscalar for p in PHASES},
        "predicted": {p: {k: predicted.get(p, {}).get(k, 0) for k in OP_NAMES} for p in PHASES},
        "counts_match_prediction": result.counts_match,
        "layers": [
            {"phase": r["phase"], "layer": r["layer"], "counts": r["counts"],
             "cost": r["measured"], "predicted": r["predicted"]}
            for r in layer_rows(result)
        ],
        "cost_f": result.cost_f,
        "cost_f_and_grad": result.cost_f_and_grad,
        "ratio": result.ratio,
        "bound": result.bound,
        "holds": result.holds,
        "loss": json_number(result.loss),
        "reference_loss": json_number(result.reference_loss),
        "gradient_check": gc.to_json(),
        "cost_models": costmodels.to_json(cost_models_of(result)),
        "memory": result.output.memory,
        **({"checkpoint": checkpoint_dict(checkpoint)} if checkpoint is not None else {}),
        **({"timing": timing.to_dict()} if timing is not None else {}),
        **({"timing_by_batch": [r.to_dict() for r in clock_rows]}
           if clock_rows else {}),
        "passed": result.passed,
    }


def verdict_parts(ratio: float, bound: float, holds: bool, g: GradCheck) -> list[str]:
    """The first clauses of every verdict: the bound, then the gradient check."""
    if math.isnan(ratio):
        first = (f"ratio undefined: f and ∇f cost nothing (0 <= {bound:g} × 0, the bound "
                 "holds trivially)")
    elif holds:
        first = f"ratio {numbers.ratio(ratio)} <= {bound:g}: the bound holds"
    else:
        first = f"ratio {numbers.ratio(ratio)} > {bound:g}: the bound is VIOLATED"
    return [first, f"gradient {'correct' if g.passed else 'WRONG'} "
                   f"({g.label}, max rel. error {g.max_rel_error:.1e})"]


def verdict(result: RunResult) -> str:
    """One sentence: does the theorem hold here, and is the gradient right?"""
    parts = verdict_parts(result.ratio, result.bound, result.holds, result.gradient_check)
    parts.append("counts equal the closed form" if result.counts_match
                 else "counts DIFFER from the closed form")
    if not result.loss_matches:
        parts.append("loss DIFFERS from the numpy reference")
    return "; ".join(parts)


def memory_text(memory: dict[str, int]) -> str:
    """The memory line of a run: what reverse mode stores against the forward pass alone.

    >>> memory_text({"tape": 38, "forward_peak": 16})[:46]
    'reverse mode stores 38 values (every layer’s c'
    """
    if not memory:
        return numbers.MISSING
    return (f"reverse mode stores {memory['tape']:,} values (every layer’s cache, ŷ and "
            f"the loss); the forward pass alone holds at most {memory['forward_peak']:,} "
            "at once (one layer’s input and output)")


def to_markdown(result: RunResult, cost_model: str = "all", *, timing: Timing | None = None,
                clock_rows: Sequence[ClockRow] | None = None,
                checkpoint: CheckpointResult | None = None) -> str:
    """A Markdown report: summary, counts by phase, counts by layer, the cost model(s)
    ``cost_model`` (Markdown shows all of them unless told otherwise), the published
    constants, and the clock's measurements when given."""
    predicted = predicted_by_phase(result.prediction)
    counts = result.counts
    kinds = [k for k in OP_NAMES if any(counts[p].counts[k] for p in PHASES)]
    lines = [
        f"# cheapgrad run: {result.spec.name}",
        "",
        f"- widths: {widths_text(result.spec.widths)}; "
        f"activations: {runs_text(result.spec.activations, ', ') or 'none'}; "
        f"bias: {str(result.spec.bias).lower()}; batch: {result.spec.batch}",
        f"- parameters: {result.spec.parameters:,}; nodes: {result.spec.nodes:,}; "
        f"engine: {result.engine_label}",
        f"- cost(f) = {result.cost_f:,}; cost(f, ∇f) = {result.cost_f_and_grad:,}; "
        f"ratio = {result.ratio:.4f}; bound = {result.bound:g}",
        f"- memory: {memory_text(result.output.memory)}",
        f"- verdict: {verdict(result)}",
        "",
        "## Counts by phase (measured; closed form in the last column)",
        "",
        "| phase | " + " | ".join(kinds) + " | total | predicted |",
        "|---|" + "---:|" * (len(kinds) + 2),
    ]
    for p in PHASES:
        pred_total = sum(predicted.get(p, {}).values())
        cells = [str(counts[p].counts[k]) for k in kinds]
        lines.append(f"| {p} | " + " | ".join(cells) + f" | {counts[p].total} | {pred_total} |")
    lines += ["", "## Counts by layer", "", "| phase | layer | ops | cost | predicted |",
              "|---|---:|---|---:|---:|"]
    for r in layer_rows(result):
        ops = ", ".join(f"{k} {n}" for k, n in r["counts"].items())
        layer = "" if r["layer"] is None else str(r["layer"])
        lines.append(f"| {r['phase']} | {layer} | {ops} | {r['measured']} | {r['predicted']} |")
    models = cost_models_of(result)
    shown = costmodels.select(models, cost_model)
    lines += ["", "## Cost models", "",
              render_costmodels.to_markdown(shown, timing).rstrip("\n"),
              "", "## Published constants", "",
              render_costmodels.published_markdown(models).rstrip("\n")]
    if clock_rows:
        lines += ["", "## Counts versus the clock, by batch size", "",
                  clock_markdown(list(clock_rows)).rstrip("\n")]
    if checkpoint is not None:
        lines += ["", checkpoint_markdown(checkpoint).rstrip("\n").replace(
            "# Checkpointing", "## Checkpointing", 1)]
    return "\n".join(lines) + "\n"


def to_csv(result: RunResult) -> str:
    """CSV, one row per (phase, layer, part, op kind) bucket with measured and predicted."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["name", "engine", "phase", "layer", "part", "op", "measured", "predicted"])
    keys = list(result.counter.buckets)
    keys += [k for k in result.prediction if k not in result.counter.buckets]
    for key in keys:
        phase, layer, part = key
        tally = result.counter.buckets.get(key)
        measured = OpCounts.from_tally(tally).counts if tally is not None else {}
        pred = result.prediction.get(key, {})
        for kind in OP_NAMES:
            m, p = measured.get(kind, 0), pred.get(kind, 0)
            if m or p:
                writer.writerow([result.spec.name, result.engine, phase,
                                 "" if layer is None else layer, part, kind, m, p])
    return buf.getvalue()
