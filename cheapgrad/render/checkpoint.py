"""Every way a checkpointing trade-off (:class:`~cheapgrad.analysis.checkpoint.
CheckpointResult`) is shown: its JSON document, CSV and Markdown; the rich table is in
:mod:`cheapgrad.render.checkpoint_tables`, the figure in :mod:`cheapgrad.render.checkpoint_plot`.

One row per strategy (:data:`FIELDS`): the snapshots it held (x₀ included), its taped
and untaped step evaluations, the binomial bound t(l, S) for those snapshots, the peak of
stored values, cost(f, ∇f) by counted ops and its ratio to cost(f), and whether its
gradient equals store-all's bit for bit.

Example::

    >>> from cheapgrad.analysis.checkpoint import checkpoint
    >>> from cheapgrad.models.spec import spec_from_dict
    >>> spec = spec_from_dict({"input_dim": 2, "hidden": [3, 3], "activation": "tanh"})
    >>> doc = to_dict(checkpoint(spec, ["store-all", "revolve:1"]))
    >>> doc["steps"], [(r["strategy"], r["untaped"], r["identical"]) for r in doc["rows"]]
    (3, [('store-all', 0, True), ('revolve:1', 3, True)])
"""

from __future__ import annotations

import csv
import io
from typing import Any

from cheapgrad.analysis.checkpoint import CheckpointResult, Row
from cheapgrad.render import numbers
from cheapgrad.render.numbers import json_number

SCHEMA_VERSION = 1

#: The columns of a row, in the order of CSV and Markdown.
FIELDS = ("strategy", "snapshots", "taped", "untaped", "binomial_bound", "evaluations",
          "peak_values", "cost_f_and_grad", "ratio", "identical")


def row_dict(row: Row) -> dict[str, Any]:
    """One strategy's row as plain data (see :data:`FIELDS`)."""
    run = row.run
    return {
        "strategy": run.strategy, "snapshots": run.snapshots, "taped": run.taped,
        "untaped": run.untaped, "binomial_bound": row.bound, "evaluations": run.evaluations,
        "peak_values": run.peak_values, "cost_f_and_grad": run.cost,
        "ratio": json_number(row.ratio), "identical": row.identical,
        "counts": {c: counts.nonzero() for c, counts in run.counts.items()},
    }


def to_dict(result: CheckpointResult) -> dict[str, Any]:
    """The JSON document: the spec, the chain's facts, and one object per strategy."""
    return {
        "schema": SCHEMA_VERSION,
        "kind": "checkpoint",
        "name": result.spec.name,
        "steps": result.steps,
        "cost_f": result.cost_f,
        "forward_peak_values": result.forward_peak,
        "store_all_peak_values": result.store_all_peak,
        "state_values": result.state_values,
        "tape_values": result.tape_values,
        "rows": [row_dict(r) for r in result.rows],
        "run_identical": result.run_identical,
        "all_identical": result.all_identical,
    }


def to_csv(result: CheckpointResult) -> str:
    """One line per strategy, the columns of :data:`FIELDS`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for row in result.rows:
        d = row_dict(row)
        writer.writerow(["" if d[f] is None else d[f] for f in FIELDS])
    return out.getvalue()


def summary_lines(result: CheckpointResult) -> list[tuple[str, str]]:
    """The facts above the table: the chain, cost(f), the forward pass's own peak."""
    largest_tape = max(result.tape_values)
    return [
        ("spec", f"{result.spec.name}: a chain of {result.steps} steps (every strategy "
                 "tapes each step once)"),
        ("cost(f)", f"{numbers.count(result.cost_f)} ops"),
        ("memory", f"store-all {numbers.count(result.store_all_peak)} values, the forward "
                   f"pass alone {numbers.count(result.forward_peak)}; a state "
                   f"up to {numbers.count(max(result.state_values))}, a step's tape (with its "
                   f"output) up to {numbers.count(largest_tape)}"),
        ("gradients", "every strategy's equals store-all's bit for bit"
         if all(r.identical for r in result.rows) else "NOT all equal to store-all's: "
         + ", ".join(r.strategy for r in result.rows if not r.identical)),
    ] + ([] if result.run_identical is None else [
        ("run", "store-all's gradient, loss and ops equal the ordinary run's (the whole "
                "program differentiated at once) bit for bit" if result.run_identical
         else "store-all's gradient, loss or ops DIFFER from the ordinary run's")])


def cells(row: Row) -> list[str]:
    """A row's cells as text for the table and Markdown (see :data:`FIELDS`)."""
    run = row.run
    return [run.strategy, str(run.snapshots), numbers.count(run.taped),
            numbers.count(run.untaped), numbers.count(row.bound),
            numbers.count(run.evaluations), numbers.count(run.peak_values),
            numbers.count(run.cost), numbers.ratio(row.ratio),
            "yes" if row.identical else "NO"]


def to_markdown(result: CheckpointResult) -> str:
    """The summary as a list and the rows as a Markdown table."""
    lines = [f"# Checkpointing: {result.spec.name}", ""]
    lines += [f"- **{label}**: {text}" for label, text in summary_lines(result)]
    header = ["strategy", "snapshots", "taped", "untaped", "t(l, S)", "evaluations",
              "peak values", "cost(f, ∇f)", "ratio", "∇ = store-all"]
    lines += ["", "| " + " | ".join(header) + " |",
              "|" + "|".join(["---"] + ["---:"] * (len(header) - 2) + [":---:"]) + "|"]
    lines += ["| " + " | ".join(cells(row)) + " |" for row in result.rows]
    lines += ["", "t(l, S): the fewest untaped evaluations binomial checkpointing needs with "
              "the snapshots the strategy held (Griewank & Walther 2000); segments hold "
              "several tapes at once and may go below it.", ""]
    return "\n".join(lines)
