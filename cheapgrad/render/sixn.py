"""The 6N table (:mod:`cheapgrad.analysis.sixn`) as JSON, Markdown and CSV; the rich
tables are in :mod:`cheapgrad.render.sixn_tables`.

Example::

    >>> from cheapgrad.analysis.costmodels import ModelCost
    >>> from cheapgrad.analysis.flop_formulas import Arch
    >>> from cheapgrad.analysis.sixn import sixn_table
    >>> gpt2 = Arch(vocab=50257, n_ctx=1024, d_model=768, n_head=12, n_layer=12)
    >>> flop = ModelCost("flop", 291648307200, 874944921600, 3.0, "FlopCounterMode")
    >>> t = sixn_table(gpt2, {"flop": flop}, tokens=1024, n_params=124439808)
    >>> print(to_csv({"gpt2-small": t}).splitlines()[3][:60])
    gpt2-small,formula,kaplan,Kaplan 3·C_fwd,566231040,-0.337306
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any

from cheapgrad.analysis.sixn import COMPARED, SixN
from cheapgrad.render import numbers

#: Title of the table in every format.
TITLE = "The 6N rule: published formulas beside the measured counts"
#: What the numbers are.
UNITS = "per token, forward + backward; a multiply-add = 2 FLOPs"


def to_dict(table: SixN) -> dict[str, Any]:
    """Plain data for JSON (see :meth:`cheapgrad.analysis.sixn.SixN.to_dict`)."""
    return table.to_dict()


def _places(x: float | None, places: int = 6) -> str:
    return "" if x is None else f"{x:.{places}f}"


def to_csv(tables: Mapping[str, SixN]) -> str:
    """CSV: per spec, one row per measured model (kind ``measured``: per token, per
    parameter per token, ratio and bound) and one per formula (kind ``formula``: per
    token and relative error against each measured model)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["name", "kind", "key", "label", "per_token", *(f"error_vs_{m}" for m in COMPARED),
                "per_param_token", "ratio", "bound", "leaves_out"])
    for name, t in tables.items():
        for m in t.measured.values():
            w.writerow([name, "measured", m.model, f"{m.model} model (measured)",
                        f"{m.per_token:.10g}", *("" for _ in COMPARED),
                        _places(m.per_param_token, 4), _places(m.ratio), numbers.bound(m.bound),
                        ""])
        for r in t.rows:
            w.writerow([name, "formula", r.key, r.label, r.per_token,
                        *(_places(r.error.get(m)) for m in COMPARED), "", "", "",
                        "; ".join(r.leaves_out)])
    return buf.getvalue()


def summary_pairs(t: SixN) -> list[tuple[str, str]]:
    """The table's measured facts as (label, value): tokens, parameters by both routes,
    and per measured model its cost per token, per parameter per token, and its ratio
    cost(f, ∇f) / cost(f) against its bound."""
    agree = "= nanoGPT's count" if t.params_agree else (
        f"nanoGPT's count is {t.n_params_formula:,}: they DIFFER")
    pairs = [("tokens", f"{t.tokens:,} (batch · n_ctx)"),
             ("parameters", f"N = {t.n_params:,} ({agree})")]
    flop_shares = [f"{name} {100 * x:.1f} %" for name, x in t.shares.items()
                   if name != "elementwise ops"]
    if flop_shares:
        pairs.append(("flop split", ", ".join(flop_shares)))
    if "elementwise ops" in t.shares:
        pairs.append(("elementwise", f"{100 * t.shares['elementwise ops']:.2f} % of the unit "
                      "ops (LN, GELU, softmax, adds, loss)"))
    for m in t.measured.values():
        verdict = {True: "holds", False: "VIOLATED", None: "n/a"}[m.holds]
        pairs.append((f"{m.model} model", f"{numbers.count(round(m.per_token))} per token = "
                      f"{m.per_param_token:.4f} per parameter"))
        pairs.append((f"{m.model} ratio", f"cost(f, ∇f)/cost(f) = {numbers.ratio(m.ratio)}, "
                      f"bound {numbers.bound(m.bound)}: {verdict}"))
    return pairs


def common_omissions(t: SixN) -> tuple[str, ...]:
    """What every formula of the table leaves out (the elementwise ops)."""
    if not t.rows:
        return ()
    return tuple(x for x in t.rows[0].leaves_out if all(x in r.leaves_out for r in t.rows))


def to_markdown(t: SixN, heading: str = "##", name: str | None = None) -> str:
    """A Markdown section (its title after ``heading``, naming ``name`` when given): the
    measured facts, the formulas with their errors, and what each formula leaves out."""
    shown = [m for m in COMPARED if m in t.measured]
    title = TITLE + (f" ({name})" if name else "")
    lines = [f"{heading} {title}", "", f"({UNITS})", ""]
    lines += [f"- {k}: {v}" for k, v in summary_pairs(t)]
    lines += ["", "| formula | per token | " + " | ".join(f"vs {m}" for m in shown)
              + " | leaves out | source |",
              "|---|---:|" + "---:|" * len(shown) + "---|---|"]
    for m in shown:
        cells = ["exact" if m == other else "" for other in shown]
        lines.append(f"| **measured, {m} model** | {numbers.count(round(t.measured[m].per_token))}"
                     f" | " + " | ".join(cells) + " | – | cheapgrad |")
    for r in t.rows:
        errs = " | ".join(numbers.relative(r.error.get(m)) for m in shown)
        lines.append(f"| {r.label}: {r.formula} | {r.per_token:,} | {errs} | "
                     f"{'; '.join(r.leaves_out)} | {r.source} |")
    return "\n".join(lines) + "\n"
