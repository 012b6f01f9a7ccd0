"""Every way a counted numpy program (:class:`~cheapgrad.analysis.program.ProgramResult`)
is shown: its JSON document, Markdown, CSV and the rich tables.

The JSON document has the fields of a circuit's (``counts``, ``nonscalar``, ``cost_f``,
``cost_f_and_grad``, ``ratio``, ``bound``, ``holds``, ``gradient_check``,
``cost_models``, ``memory``, ``passed``) with ``gradient`` mapping each parameter to a
nested list of its input's shape, plus ``engine``, ``shapes`` and ``lines`` (counts by
source line of f: line -> phase -> op kind -> count; array engine only).

Example::

    >>> import numpy as np
    >>> from cheapgrad.analysis.program import run_program
    >>> r = run_program(lambda x: (x * x).sum(), [np.array([1.0, 2.0])])
    >>> doc = to_dict(r)
    >>> doc["gradient"], doc["cost_f"], doc["cost_f_and_grad"]
    ({'x': [2.0, 4.0]}, 3, 9)
"""

from __future__ import annotations

import csv
import io
from typing import Any

from cheapgrad.analysis import costmodels
from cheapgrad.analysis.program import ProgramResult
from cheapgrad.render import costmodels as render_costmodels
from cheapgrad.render import numbers
from cheapgrad.render.run import json_number

SCHEMA_VERSION = 1
PHASES = ("forward", "backward")


def _nested(x: Any) -> Any:
    return json_number(x) if not isinstance(x, list) else [_nested(e) for e in x]


def cost_models_of(result: ProgramResult) -> dict[str, costmodels.ModelCost]:
    """Every cost model of the program's counts."""
    return costmodels.cost_models(result.counter, result.cost_weights)


def to_dict(result: ProgramResult) -> dict[str, Any]:
    """The JSON document (see the module docstring)."""
    return {
        "schema": SCHEMA_VERSION,
        "kind": "program",
        "name": result.name,
        "engine": result.engine,
        "shapes": {k: list(v.shape) for k, v in result.inputs.items()},
        "inputs": {k: _nested(v.tolist()) for k, v in result.inputs.items()},
        "value": json_number(result.value),
        "gradient": {k: _nested(g.tolist()) for k, g in result.gradients.items()},
        "counts": {p: result.counts(p).counts for p in PHASES},
        "nonscalar": {p: result.counts(p).nonscalar for p in PHASES},
        "per_op": result.per_op(),
        "lines": result.lines,
        "cost_f": result.cost_f,
        "cost_f_and_grad": result.cost_f_and_grad,
        "ratio": json_number(result.ratio),
        "bound": result.bound,
        "holds": result.holds,
        "methods": {m["name"]: {k: (json_number(v) if isinstance(v, float) else v)
                                for k, v in m.items() if k != "name"}
                    for m in result.methods},
        "memory": result.memory,
        "gradient_check": result.check.to_json(),
        "cost_models": costmodels.to_json(cost_models_of(result)),
        "seconds": result.seconds,
        "passed": result.passed,
    }


def summary_rows(result: ProgramResult) -> list[tuple[str, str]]:
    """The summary as (label, text) rows."""
    gc = result.check
    shapes = ", ".join(f"{k} {tuple(v.shape)}" for k, v in result.inputs.items())
    return [
        ("program", f"{result.name} ({result.engine} engine)"),
        ("inputs", shapes),
        ("f", f"{result.value:.10g}"),
        ("cost(f)", f"{result.cost_f:,}"),
        ("cost(f, ∇f)", f"{result.cost_f_and_grad:,}"),
        ("ratio", f"{numbers.ratio(result.ratio)}  (bound {result.bound:g})"),
        ("gradient", f"{gc.method}, {gc.comparisons} comparisons, max rel. error "
                     f"{gc.max_rel_error:.2e} (tolerance {gc.tolerance:g})"),
        ("memory", ", ".join(f"{k} {v:,}" for k, v in result.memory.items())),
        ("verdict", ("the bound holds" if result.holds else "the bound FAILS") + "; "
         + ("gradient correct" if gc.passed else "gradient WRONG")),
    ]


def count_rows(result: ProgramResult) -> list[tuple[str, int, int]]:
    """(op kind, forward, backward) for every kind counted."""
    f, b = result.counts("forward").counts, result.counts("backward").counts
    return [(k, f[k], b[k]) for k in f if f[k] or b[k]]


def line_rows(result: ProgramResult) -> list[tuple[str, int, int, str]]:
    """(source line, forward ops, backward ops, kinds) per line of f, in line order."""
    def key(line: str) -> tuple[str, int]:
        name, _, no = line.rpartition(":")
        return name, int(no) if no.isdigit() else 0

    rows = []
    for line in sorted(result.lines, key=key):
        phases = result.lines[line]
        kinds: dict[str, int] = {}
        for counts in phases.values():
            for k, n in counts.items():
                kinds[k] = kinds.get(k, 0) + n
        rows.append((line, sum(phases.get("forward", {}).values()),
                     sum(phases.get("backward", {}).values()),
                     " ".join(f"{k} {n:,}" for k, n in kinds.items())))
    return rows


def to_markdown(result: ProgramResult, cost_model: str = "unit") -> str:
    """The report as Markdown."""
    out = [f"# cheapgrad circuit: {result.name}", ""]
    out += [f"- **{k}**: {v}" for k, v in summary_rows(result)]
    out += ["", "| op | forward | backward |", "|---|---:|---:|"]
    out += [f"| {k} | {f:,} | {b:,} |" for k, f, b in count_rows(result)]
    if result.lines:
        out += ["", "| line | forward | backward | ops |", "|---|---:|---:|---|"]
        out += [f"| {ln} | {f:,} | {b:,} | {k} |" for ln, f, b, k in line_rows(result)]
    if cost_model != "unit":
        models = costmodels.select(cost_models_of(result), cost_model)
        out += ["", render_costmodels.to_markdown(models).rstrip("\n")]
    return "\n".join(out) + "\n"


def to_csv(result: ProgramResult) -> str:
    """One row per (phase, op kind) count, then one per (line, phase, op kind)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["section", "line", "phase", "op", "count"])
    for k, f, b in count_rows(result):
        w.writerow(["counts", "", "forward", k, f])
        w.writerow(["counts", "", "backward", k, b])
    for line, phases in result.lines.items():
        for phase, counts in phases.items():
            for k, n in counts.items():
                w.writerow(["line", line, phase, k, n])
    return buf.getvalue()
