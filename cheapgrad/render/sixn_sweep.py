"""A transformer sweep (:mod:`cheapgrad.analysis.sweep.transformer`) as JSON, CSV and
Markdown; its rich table is :func:`cheapgrad.render.sixn_tables.sixn_sweep_table`.

Example::

    >>> from cheapgrad.analysis.costmodels import ModelCost
    >>> from cheapgrad.analysis.flop_formulas import FORMULAS, Arch, parameter_count
    >>> from cheapgrad.analysis.sweep.transformer import TransformerGrid, transformer_sweep
    >>> def measure(a):
    ...     fl = FORMULAS["megatron"].per_token(a) * a.n_ctx
    ...     return {"flop": ModelCost("flop", fl // 3, fl, 3.0, "x")}, parameter_count(a)
    >>> base = Arch(vocab=50257, n_ctx=1024, d_model=768, n_head=12, n_layer=12)
    >>> r = transformer_sweep(base, TransformerGrid(n_ctx=(256, 4096)), measure)
    >>> print(to_csv(r).splitlines()[1])
    12,768,256,0.333333,flop,kaplan-6n,-0.337745
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from cheapgrad.analysis.sixn import COMPARED
from cheapgrad.analysis.sweep.transformer import TransformerSweep
from cheapgrad.render import numbers


def to_dict(result: TransformerSweep) -> dict[str, Any]:
    """Plain data for JSON: the grid and, per cell, its architecture and 6N table."""
    return result.to_dict()


def to_json(result: TransformerSweep) -> str:
    """The JSON document."""
    return json.dumps(to_dict(result), indent=2) + "\n"


def to_csv(result: TransformerSweep) -> str:
    """CSV, one row per (cell, measured model, formula): the relative error."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["n_layer", "d_model", "n_ctx", "n_ctx_per_d_model", "measured", "formula",
                "relative_error"])
    for c in result.cells:
        for m in COMPARED:
            if m not in c.table.measured:
                continue
            for r in c.table.rows:
                e = r.error.get(m)
                w.writerow([c.n_layer, c.d_model, c.n_ctx, f"{c.context_per_width:.6f}", m,
                            r.key, "" if e is None else f"{e:.6f}"])
    return buf.getvalue()


def to_markdown(result: TransformerSweep) -> str:
    """Per measured model, one table: a row per cell, a column per formula."""
    if not result.cells:
        return "\n".join([f"# cheapgrad sweep: {result.base_name}", "", "no cells", ""]
                         + _failed_markdown(result))
    rows = result.cells[0].table.rows
    lines = [f"# cheapgrad sweep: {result.base_name} (transformer)", "",
             "Relative error of each published formula, formula / measured − 1, per token "
             "of forward + backward.", ""]
    for m in COMPARED:
        if m not in result.cells[0].table.measured:
            continue
        lines += [f"## Against the measured {m} model", "",
                  "| n_layer | d_model | n_ctx | n_ctx/d_model | measured per token | "
                  "per parameter | " + " | ".join(r.label for r in rows) + " |",
                  "|" + "---:|" * (6 + len(rows))]
        for c in result.cells:
            got = c.table.measured[m]
            errs = " | ".join(numbers.relative(r.error.get(m)) for r in c.table.rows)
            lines.append(f"| {c.n_layer} | {c.d_model} | {c.n_ctx} | "
                         f"{c.context_per_width:.3f} | {numbers.count(round(got.per_token))} | "
                         f"{got.per_param_token:.4f} | {errs} |")
        lines.append("")
    lines += _failed_markdown(result)
    return "\n".join(lines)


def _failed_markdown(result: TransformerSweep) -> list[str]:
    if not result.failed:
        return []
    return ["## Cells that failed to run", ""] + [
        f"- {name}: {why}" for name, why in result.failed] + [""]
