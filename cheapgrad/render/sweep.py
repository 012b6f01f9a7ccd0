"""Pure renderers of a :class:`~cheapgrad.analysis.sweep.SweepResult`: plain data (for JSON), CSV
and Markdown. No I/O, no terminal code, no timing (so ``--jobs 1`` and ``--jobs 2`` give
identical documents); the rich tables live in :mod:`cheapgrad.render.sweep_tables`.

Example::

    >>> import json
    >>> from cheapgrad.models.spec import spec_from_dict
    >>> from cheapgrad.analysis.sweep import Grid, plan_sweep, run_sweep
    >>> from cheapgrad.render.sweep import to_dict
    >>> base = spec_from_dict({"input_dim": 3, "hidden": [], "activation": "tanh"})
    >>> doc = to_dict(run_sweep(plan_sweep(base, Grid((1,), (2,), ("tanh",)), jobs=1)))
    >>> doc["all_hold"], doc["cells"][0]["ratio"] <= doc["bound"]
    (True, True)
"""

from __future__ import annotations

import csv
import io
from typing import Any

from cheapgrad.analysis.costmodels import MODELS
from cheapgrad.analysis.sweep import CellResult, FailedCell, Limit, ModelSummary, SweepResult
from cheapgrad.render import numbers

#: Version of the sweep JSON layout; bumped when a field changes meaning or disappears.
SCHEMA_VERSION = 1

#: CSV columns, one row per cell.
CSV_COLUMNS = (
    "depth", "width", "activation", "parameters", "nodes", "cost_f", "cost_f_and_grad",
    "predicted_cost_f", "predicted_cost_f_and_grad", "ratio", "bound", "holds",
    "counts_match", "gradient_method", "gradient_max_rel_error", "gradient_passed", "passed",
    *(f"ratio_{m}" for m in MODELS if m != "unit"), "error",
)


def failed_dict(cell: FailedCell) -> dict[str, Any]:
    """A cell whose run failed, as plain data: where, and why."""
    return {"depth": cell.depth, "width": cell.width, "activation": cell.activation,
            "parameters": cell.parameters, "error": cell.reason}


def cell_dict(cell: CellResult) -> dict[str, Any]:
    """One cell as plain data."""
    gc = cell.gradient_check
    return {
        "depth": cell.depth,
        "width": cell.width,
        "activation": cell.activation,
        "engine": cell.engine,
        "parameters": cell.parameters,
        "nodes": cell.nodes,
        "cost_f": cell.cost_f,
        "cost_f_and_grad": cell.cost_f_and_grad,
        "predicted_cost_f": cell.predicted_cost_f,
        "predicted_cost_f_and_grad": cell.predicted_cost_f_and_grad,
        "ratio": cell.ratio,
        "holds": cell.holds,
        "counts_match": cell.counts_match,
        "loss_matches": cell.loss_matches,
        "gradient_check": gc.to_json(),
        "passed": cell.passed,
        "cost_models": cell.cost_models,
    }


def _cell_ref(cell: CellResult | None, model: str = "unit") -> dict[str, Any] | None:
    if cell is None:
        return None
    return {"depth": cell.depth, "width": cell.width, "activation": cell.activation,
            "ratio": cell.model_ratio(model)}


def model_summary_dict(m: ModelSummary) -> dict[str, Any]:
    """One cost model over the sweep as plain data."""
    return {"bound": m.bound, "cells_with_ratio": m.with_ratio, "holding": m.holding,
            "largest": _cell_ref(m.largest, m.model),
            "smallest": _cell_ref(m.smallest, m.model)}


def limit_dict(limit: Limit) -> dict[str, Any]:
    """A (depth, activation) limit as plain data, with the measured trend."""
    widest = limit.widest
    return {
        "depth": limit.depth,
        "activation": limit.activation,
        "limit": float(limit.limit),
        "limit_exact": str(limit.limit),
        "trend": [{"width": w, "ratio": r} for w, r in limit.trend],
        "widest": None if widest is None else {"width": widest[0], "ratio": widest[1]},
    }


def to_dict(result: SweepResult) -> dict[str, Any]:
    """The JSON document of a sweep: ``cells``, ``bound``, ``all_hold`` and ``summary``."""
    s = result.summary
    plan = result.plan
    base = plan.base.to_dict()
    for key in ("hidden", "activation"):
        base.pop(key, None)
    return {
        "schema": SCHEMA_VERSION,
        "name": plan.base.name,
        "engine": plan.engine,
        "base": base,
        "grid": {
            "depths": list(plan.grid.depths),
            "widths": list(plan.grid.widths),
            "activations": list(plan.grid.activations),
        },
        "bound": result.bound,
        "all_hold": s.all_hold,
        "all_passed": s.all_passed,
        "interrupted": result.interrupted,
        "cells": [cell_dict(c) for c in result.cells],
        "failed_cells": [failed_dict(c) for c in result.failed],
        "summary": {
            "cells": s.cells,
            "failed": s.failed,
            "planned": s.planned,
            "holding": s.holding,
            "passing": s.passing,
            "largest": _cell_ref(s.largest),
            "smallest": _cell_ref(s.smallest),
            "limits": [limit_dict(lim) for lim in s.limits],
            "cost_models": {m.model: model_summary_dict(m) for m in s.models},
        },
    }


def to_csv(result: SweepResult) -> str:
    """CSV with a header and one row per cell (columns :data:`CSV_COLUMNS`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for c in result.cells:
        gc = c.gradient_check
        writer.writerow([
            c.depth, c.width, c.activation, c.parameters, c.nodes, c.cost_f,
            c.cost_f_and_grad, c.predicted_cost_f, c.predicted_cost_f_and_grad,
            repr(c.ratio), c.bound, str(c.holds).lower(), str(c.counts_match).lower(),
            gc.method, repr(gc.max_rel_error), str(gc.passed).lower(),
            str(c.passed).lower(),
            *(_csv_ratio(c.model_ratio(m)) for m in MODELS if m != "unit"), "",
        ])
    for f in result.failed:  # after the cells that ran; the error column says why
        row = [""] * len(CSV_COLUMNS)
        row[:4] = [str(f.depth), str(f.width), f.activation, str(f.parameters)]
        row[CSV_COLUMNS.index("passed")] = "false"
        row[-1] = f.reason
        writer.writerow(row)
    return buf.getvalue()


def _csv_ratio(x: float | None) -> str:
    return "" if x is None else repr(x)


def shown_model(cost_model: str) -> str:
    """The model whose ratio the grid shows: ``all`` shows the unit grid."""
    return "unit" if cost_model == "all" else cost_model


def _where(cell: CellResult) -> str:
    return f"depth {cell.depth}, width {cell.width}, {cell.activation}"


def failures_text(result: SweepResult) -> str:
    """How many cells failed to run, e.g. ``1 cell failed to run``; empty when none."""
    n = len(result.failed)
    return "" if n == 0 else f"{numbers.plural(n, 'cell')} failed to run"


def headline(result: SweepResult, cost_model: str = "unit") -> str:
    """One sentence: how many cells hold, and the extremes (of ``cost_model``'s ratio
    against its bound; the unit model by default)."""
    s = result.summary
    failed = failures_text(result)
    if not s.cells:
        return failed or "no cell finished"
    assert s.largest is not None and s.smallest is not None
    done = f"{s.cells} of {s.planned} cells run" if s.cells < s.planned else f"{s.cells} cells"
    if failed:
        done += f" ({failed})"
    model = shown_model(cost_model)
    m = s.model(model)
    if model != "unit" and m is not None:
        bound = "no bound" if m.bound is None else f"bound {m.bound:g}"
        if m.largest is None or m.smallest is None:
            return (f"{done}: the {model} model gives no ratio ({bound}); "
                    f"{s.passing} pass every check (unit bound {result.bound:g})")
        return (
            f"{done}: under the {model} model ({bound}) {m.holding} of {m.with_ratio} "
            f"hold; largest ratio {numbers.ratio(m.largest.model_ratio(model))} "
            f"({_where(m.largest)}), smallest {numbers.ratio(m.smallest.model_ratio(model))} "
            f"({_where(m.smallest)}); {s.passing} pass every check "
            f"(unit bound {result.bound:g})"
        )
    return (
        f"{done}: the bound {result.bound:g} holds in {s.holding}, "
        f"{s.passing} pass every check; largest ratio {s.largest.ratio:.4f} "
        f"(depth {s.largest.depth}, width {s.largest.width}, {s.largest.activation}), "
        f"smallest {s.smallest.ratio:.4f} (depth {s.smallest.depth}, width "
        f"{s.smallest.width}, {s.smallest.activation})"
    )


def limits_summary(result: SweepResult) -> str:
    """The closed-form limits as the width grows, grouped by depth, e.g.
    ``depth 1: tanh 1.9, relu 1.8; depths 2, 4, 8: 2.5``."""
    per_depth: dict[int, str] = {}
    for depth in result.plan.grid.depths:
        lims = [lim for lim in result.summary.limits if lim.depth == depth]
        values = {lim.limit for lim in lims}
        if len(values) == 1:
            per_depth[depth] = numbers.limit(lims[0].limit)
        else:
            per_depth[depth] = ", ".join(f"{lim.activation} {numbers.limit(lim.limit)}"
                                         for lim in lims)
    groups: dict[str, list[int]] = {}
    for depth, text in per_depth.items():
        groups.setdefault(text, []).append(depth)
    return "; ".join(
        f"depth{'s' if len(ds) > 1 else ''} {', '.join(map(str, ds))}: {text}"
        for text, ds in groups.items())


def engines_used(result: SweepResult) -> str:
    """The engine asked for and, when it differs, the ones that ran: ``auto (scalar for 80
    cells, array for 16)``."""
    ran: dict[str, int] = {}
    for c in result.cells:
        ran[c.engine] = ran.get(c.engine, 0) + 1
    asked = result.plan.engine
    if not ran or list(ran) == [asked]:
        return asked
    return f"{asked} (" + ", ".join(f"{e} for {n} cells" for e, n in ran.items()) + ")"


def overall_verdict(result: SweepResult, cost_model: str = "unit") -> str:
    """Whether every cell passed, and whether the sweep was interrupted; under another
    cost model than ``unit``, also how many cells are within that model's bound."""
    failed = failures_text(result)
    text = ("every bound holds and every check passes" if result.summary.all_passed
            else "NOT every cell passes" + (f" ({failed})" if failed else ""))
    if result.interrupted:
        text = f"interrupted after {result.finished} of {len(result.plan.cells)} cells; " \
            + ("no cell failed so far" if all(c.passed for c in result.cells)
               and not result.failed else "some cells FAILED")
    model = shown_model(cost_model)
    m = result.summary.model(model)
    if model != "unit" and m is not None:
        within = ("gives no ratio" if m.with_ratio == 0 else
                  f"{m.holding} of {m.with_ratio} within its bound {numbers.bound(m.bound)}")
        text += f"; under the {model} model {within}"
    return text


def verdict_mark(cell: CellResult) -> str:
    """``ok``, or what failed in one cell."""
    if cell.passed:
        return "ok"
    problems = []
    if not cell.holds:
        problems.append("bound VIOLATED")
    if not cell.gradient_check.passed:
        problems.append("gradient WRONG")
    if not cell.counts_match:
        problems.append("counts differ from closed form")
    if not cell.loss_matches:
        problems.append("loss differs")
    return "; ".join(problems)


def model_rows(result: SweepResult) -> list[list[str]]:
    """Per cost model: model, bound, cells holding / with a ratio, largest ratio and its
    cell, smallest ratio and its cell (the compact table of ``--cost-model all``)."""
    rows = []
    for m in result.summary.models:
        rows.append([
            m.model, numbers.bound(m.bound),
            f"{m.holding} / {m.with_ratio}",
            "–" if m.largest is None else numbers.ratio(m.largest.model_ratio(m.model)),
            "–" if m.largest is None else _where(m.largest),
            "–" if m.smallest is None else numbers.ratio(m.smallest.model_ratio(m.model)),
            "–" if m.smallest is None else _where(m.smallest),
        ])
    return rows


#: Headers of :func:`model_rows`.
MODEL_COLUMNS = ("model", "bound", "hold", "max ratio", "at", "min ratio", "at")


def grid_mark(cell: CellResult, model: str) -> str:
    """The marks after a grid entry: ``✗`` when the cell fails a check (the unit
    verdict), ``*`` when the ratio exceeds the model's own bound (other models)."""
    mark = "" if cell.passed else " ✗"
    if model != "unit" and cell.model_holds(model) is False:
        mark += " *"
    return mark


def to_markdown(result: SweepResult, cost_model: str = "unit") -> str:
    """A Markdown report: summary, one ratio grid per activation (of ``cost_model``'s
    ratio; ``all``: the unit grid and a table of every model), limits, every cell."""
    model = shown_model(cost_model)
    plan = result.plan
    base = plan.base
    lines = [
        f"# cheapgrad sweep: {base.name}",
        "",
        f"- base: input_dim {base.input_dim}, outputs {base.outputs}, "
        f"bias {str(base.bias).lower()}, batch {base.batch}, loss {base.loss}, "
        f"seed {base.seed}; engine {engines_used(result)}",
        f"- grid: depths {', '.join(map(str, plan.grid.depths))}; widths "
        f"{', '.join(map(str, plan.grid.widths))}; activations "
        f"{', '.join(plan.grid.activations)}",
        f"- {headline(result, model)}",
        f"- limit of the ratio as the width grows (closed form): {limits_summary(result)}",
        f"- verdict: {overall_verdict(result, model)}",
        "",
    ]
    by_key = {(c.depth, c.width, c.activation): c for c in result.cells}
    failed = {(c.depth, c.width, c.activation) for c in result.failed}
    bound = next((c.model_bound(model) for c in result.cells), None)
    bound_text = "no bound" if bound is None else f"bound {bound:g}"
    under = "" if model == "unit" else f" under the {model} model ({bound_text})"
    for act in plan.grid.activations:
        lines += [f"## Ratio cost(f, ∇f) / cost(f){under}, {act} (rows: depth, columns: "
                  "width)", "",
                  "| depth | " + " | ".join(str(w) for w in plan.grid.widths) + " |",
                  "|---:|" + "---:|" * len(plan.grid.widths)]
        for d in plan.grid.depths:
            row = []
            for w in plan.grid.widths:
                c = by_key.get((d, w, act))
                row.append(("failed ✗" if (d, w, act) in failed else "") if c is None else
                           numbers.ratio(c.model_ratio(model)) + grid_mark(c, model))
            lines.append(f"| {d} | " + " | ".join(row) + " |")
        lines.append("")
    if model != "unit":
        lines += [f"✗: the cell fails a check (unit bound, gradient, loss, counts); *: the "
                  f"ratio exceeds the {model} bound.", ""]
    if cost_model == "all":
        lines += ["## Every cost model over the grid", "",
                  "| " + " | ".join(MODEL_COLUMNS) + " |", "|---|---:|---:|---:|---|---:|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in model_rows(result)]
        lines.append("")
    lines += ["## Limit as the width grows (closed form) and the measured trend", "",
              "| depth | activation | measured, narrow → wide | limit |", "|---:|---|---|---:|"]
    for lim in result.summary.limits:
        trend = " → ".join(numbers.ratio(r) for _, r in lim.trend) or "not run"
        lines.append(f"| {lim.depth} | {lim.activation} | {trend} | "
                     f"{numbers.limit(lim.limit)} |")
    extra_head = "" if model == "unit" else f" ratio ({model}) |"
    extra_rule = "" if model == "unit" else "---:|"
    lines += ["", "## Every cell", "",
              "| depth | width | activation | parameters | nodes | cost(f) | cost(f, ∇f) "
              "| ratio |" + extra_head + " verdict | gradient error |",
              "|---:|---:|---|---:|---:|---:|---:|---:|" + extra_rule + "---|---:|"]
    for c in result.cells:
        extra = "" if model == "unit" else f" {numbers.ratio(c.model_ratio(model))} |"
        lines.append(
            f"| {c.depth} | {c.width} | {c.activation} | {numbers.count(c.parameters)} | "
            f"{numbers.count(c.nodes)} | {numbers.count(c.cost_f)} | "
            f"{numbers.count(c.cost_f_and_grad)} | {numbers.ratio(c.ratio)} |{extra} "
            f"{verdict_mark(c)} | "
            f"{c.gradient_check.max_rel_error:.1e} ({c.gradient_check.method}) |")
    if result.failed:
        lines += ["", "## Cells that failed to run", "",
                  "| depth | width | activation | parameters | error |", "|---:|---:|---|---:|---|"]
        lines += [f"| {f.depth} | {f.width} | {f.activation} | {numbers.count(f.parameters)} "
                  f"| {f.reason.replace('|', '/')} |" for f in result.failed]
    return "\n".join(lines) + "\n"
