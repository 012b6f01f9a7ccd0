"""JSON documents, Markdown and CSV of HVP, Hessian and Jacobian reports
(:mod:`cheapgrad.analysis.derivatives`), and the pure rows the rich tables share.

Every cost is priced in the cost models of :data:`~cheapgrad.analysis.derivatives.PRICES`
(JSON carries them all; the tables and Markdown the ones asked for).

Example::

    >>> from cheapgrad.analysis.derivatives import hvp_report
    >>> r = hvp_report("sq", lambda xs: xs[0] * xs[0] * xs[1], [1.0, 2.0], [1.0, 0.0])
    >>> [row["mode"] for row in mode_rows(r)], mode_rows(r)[0]["cost"]["unit"]
    (['fwd-rev', 'rev-fwd', 'rev-rev'], 14)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cheapgrad.analysis.derivatives import (
    PRICES,
    HessianReport,
    HvpReport,
    JacobianReport,
    price,
    priced_ratio,
)
from cheapgrad.analysis.second_order import MODE_NAMES, Costs
from cheapgrad.core.counter import OpCounts
from cheapgrad.render import numbers

Report = HvpReport | HessianReport | JacobianReport
Weights = Mapping[str, float] | None
#: Entries of a vector (rows of a matrix) shown in tables and Markdown.
SHOWN = 8


def _prices(counts: OpCounts, weights: Weights) -> dict[str, float]:
    return {m: price(counts, m, weights) for m in PRICES}


def _ratios(a: OpCounts, b: OpCounts, weights: Weights) -> dict[str, float | None]:
    return {m: priced_ratio(a, b, m, weights) for m in PRICES}


def kind(report: Report) -> str:
    """``hvp``, ``hessian`` or ``jacobian``."""
    if isinstance(report, HvpReport):
        return "hvp"
    return "hessian" if isinstance(report, HessianReport) else "jacobian"


def mode_rows(report: Report, weights: Weights = None) -> list[dict[str, Any]]:
    """One row per way of computing the derivative: its passes, phases, costs and
    ratios (to cost(f) and cost(f, ∇f) for a scalar f, to cost(F) for a Jacobian)."""
    rows: list[dict[str, Any]] = []
    if isinstance(report, JacobianReport):
        for j in report.results:
            total, f = j.counter.totals(), j.counter.totals("forward")
            rows.append({
                "mode": j.mode if j.dense else f"{j.mode} (sparse)", "dense": j.dense,
                "passes": j.passes, "phases": {p: c.total for p, c in j.phases.items()},
                "cost": _prices(total, weights), "cost_F": _prices(f, weights),
                "ratio_F": _ratios(total, f, weights)})
        return rows
    results: list[tuple[str, int, Costs]] = (
        [(r.mode, 1, r) for r in report.results] if isinstance(report, HvpReport)
        else [("colored", report.colored.passes, report.colored),
              ("dense", report.dense.passes, report.dense)])
    for mode, passes, r in results:
        total = r.counter.totals()
        rows.append({
            "mode": mode, "name": MODE_NAMES.get(mode, mode), "passes": passes,
            "phases": {p: c.total for p, c in r.phases.items()},
            "cost": _prices(total, weights), "cost_f": _prices(r.f_counts, weights),
            "cost_f_and_grad": _prices(r.f_and_grad_counts, weights),
            "ratio_f": _ratios(total, r.f_counts, weights),
            "ratio_grad": _ratios(total, r.f_and_grad_counts, weights)})
    return rows


def check_rows(report: Report) -> list[dict[str, Any]]:
    """The checks: name, relative error, tolerance, passed."""
    return [{"check": c.name, "error": c.error, "tolerance": c.tolerance,
             "passed": c.passed} for c in report.checks]


def _matrix(report: Report) -> np.ndarray:
    return report.hvp if isinstance(report, HvpReport) else report.matrix


def to_dict(report: Report, weights: Weights = None) -> dict[str, Any]:
    """The JSON document."""
    doc: dict[str, Any] = {"derivative": kind(report), "circuit": report.name,
                           "inputs": list(report.inputs), "x": report.x.tolist()}
    if isinstance(report, HvpReport):
        doc["v"] = report.v.tolist()
        doc["hvp"] = report.hvp.tolist()
    else:
        doc["matrix"] = report.matrix.tolist()
    if isinstance(report, HessianReport):
        doc["colors"] = report.colored.colors
    if isinstance(report, JacobianReport):
        doc["outputs"] = report.outputs
        doc["colors"] = report.result("colored").colors
    doc["modes"] = mode_rows(report, weights)
    doc["checks"] = check_rows(report)
    doc["route"] = report.route
    doc["passed"] = report.passed
    return doc


def _fmt(x: float | None) -> str:
    if x is None:
        return numbers.MISSING
    return numbers.count(int(x)) if float(x).is_integer() else f"{x:,.1f}"


def cost_columns(report: Report, models: Sequence[str]) -> list[str]:
    """The column heads of the cost table for ``models``."""
    if isinstance(report, JacobianReport):
        per = ["cost", "÷ cost(F)"]
    else:
        per = ["cost", "÷ f", "÷ (f,∇f)"]
    heads = ["mode", "passes"]
    for m in models:
        heads += [h if m == "unit" else f"{h} ({m})" for h in per]
    return heads


def cost_cells(report: Report, models: Sequence[str],
               weights: Weights = None) -> list[list[str]]:
    """The cells of the cost table, one row per mode."""
    out = []
    for row in mode_rows(report, weights):
        cells = [row["mode"], numbers.count(row["passes"])]
        for m in models:
            cells.append(_fmt(row["cost"][m]))
            if isinstance(report, JacobianReport):
                cells.append(numbers.ratio(row["ratio_F"][m]))
            else:
                cells += [numbers.ratio(row["ratio_f"][m]), numbers.ratio(row["ratio_grad"][m])]
        out.append(cells)
    return out


def entries(report: Report) -> list[str]:
    """The first entries of H·v, or the first rows of the matrix, as text."""
    m = _matrix(report)
    if m.ndim == 1:
        shown = ", ".join(f"{e:.6g}" for e in m[:SHOWN])
        return [f"[{shown}{', …' if m.size > SHOWN else ''}]"]
    lines = []
    for row in m[:SHOWN]:
        shown = ", ".join(f"{e:.4g}" for e in row[:SHOWN])
        lines.append(f"[{shown}{', …' if row.size > SHOWN else ''}]")
    if m.shape[0] > SHOWN:
        lines.append("…")
    return lines


def title(report: Report) -> str:
    """One line: what was computed of what."""
    n = len(report.inputs)
    if isinstance(report, HvpReport):
        return f"H·v of {report.name} ({n} inputs)"
    if isinstance(report, HessianReport):
        return f"Hessian of {report.name} ({n}×{n})"
    return f"Jacobian of {report.name} ({report.outputs}×{n})"


def to_markdown(report: Report, models: Sequence[str] = ("unit",),
                weights: Weights = None) -> str:
    """A Markdown report: the cost table, the checks, the first entries."""
    heads = cost_columns(report, models)
    lines = [f"# {title(report)}", "",
             "| " + " | ".join(heads) + " |", "|" + "---|" * len(heads)]
    lines += ["| " + " | ".join(cells) + " |" for cells in cost_cells(report, models, weights)]
    lines += ["", f"Independent route: {report.route}.", "",
              "| check | relative error | tolerance | passed |", "|---|---|---|---|"]
    lines += [f"| {c['check']} | {c['error']:.2e} | {c['tolerance']:.0e} | "
              f"{'yes' if c['passed'] else 'NO'} |" for c in check_rows(report)]
    lines += ["", "```", *entries(report), "```", ""]
    return "\n".join(lines)


def to_csv(report: Report, weights: Weights = None) -> str:
    """One CSV row per mode, every cost model."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    ratio_keys = ["ratio_F"] if isinstance(report, JacobianReport) else ["ratio_f",
                                                                          "ratio_grad"]
    w.writerow(["derivative", "circuit", "mode", "passes"]
               + [f"cost_{m}" for m in PRICES]
               + [f"{k}_{m}" for k in ratio_keys for m in PRICES])
    for row in mode_rows(report, weights):
        w.writerow([kind(report), report.name, row["mode"], row["passes"]]
                   + [row["cost"][m] for m in PRICES]
                   + ["" if row[k][m] is None else f"{row[k][m]:.6f}"
                      for k in ratio_keys for m in PRICES])
    return buf.getvalue()
