"""Renderers of an audit (:mod:`cheapgrad.analysis.audit`): its findings as sentences, and
Markdown. The rich tables are in :mod:`cheapgrad.render.costmodel_tables`.

Example::

    >>> from cheapgrad.analysis.audit import run_audit
    >>> r = run_audit(5.0, depths=(1, 2), widths=(1,), costs=(1,))
    >>> describe(r)[-1].startswith("Worst case found")
    True
"""

from __future__ import annotations

from cheapgrad.analysis.audit import CHAIN_FORM, CLOSED_FORM, AuditResult
from cheapgrad.models.activations import custom_name
from cheapgrad.render import numbers


def describe(result: AuditResult) -> list[str]:
    """The audit's findings as plain sentences (for every renderer)."""
    c_factor, stated = result.derivative_factor, result.stated_bound
    w = result.worst
    lines = [
        f"Hypothesis: cost(h') <= {c_factor:g}·cost(h). Stated: cost(f, ∇f) <= "
        f"{stated:g}·cost(f)"
        + (" (one example)." if result.batch == 1
           else f" (loss summed over a batch of {result.batch})."),
        f"Closed form: {CLOSED_FORM}.",
        f"Width-1 chain: {CHAIN_FORM}; it rises with L to (4 + c + c')/(1 + c).",
    ]
    if result.batch > 1:
        b = result.batch
        lines.append(
            f"At batch B = {b} the loss sums {b} examples and each weight gradient "
            f"accumulates them (B − 1 adds per weight): cost(f) = B·(2N + Σ_l d_l(c_l − 1) "
            f"+ 2K), cost(f, ∇f) = cost(f) + B·K + N(2B − 1) + B·(2(N − d0·d1) − n "
            f"+ Σ_l d_l(c'_l + s_l)); a width-1 chain tends to (5 − 1/B + c + c')/(1 + c).")
    lines += [
        f"Supremum over all architectures and declared costs: {result.sup.formula}, "
        f"approached by {result.sup.approached_by}, never attained.",
    ]
    if result.holds:
        lines.append(f"Verdict: the stated factor {stated:g} HOLDS "
                     f"(every ratio is below {result.sup.value:g}).")
    else:
        lines.append(f"Verdict: the stated factor {stated:g} does NOT hold; the true bound "
                     f"is {result.sup.value:g} (ratio < {result.sup.value:g} always, "
                     f"and arbitrarily close to it).")
    lines.append(
        f"Worst case found ({len(result.candidates)} candidates, "
        f"{result.violations} above {stated:g}): depth {w.candidate.depth}, width "
        f"{w.candidate.width}, {custom_name(w.candidate.cost, w.candidate.derivative_cost)}: "
        f"measured {w.cost_f_and_grad:,}/{w.cost_f:,} = {numbers.ratio(float(w.ratio))} on the "
        f"{w.engine} engine, closed form {numbers.ratio(float(w.candidate.ratio))} "
        f"({'equal' if w.agrees else 'DIFFERENT'})."
    )
    s = result.smallest_violation
    if s is not None:
        lines.append(
            f"Smallest counterexample found: depth {s.candidate.depth}, width "
            f"{s.candidate.width}, "
            f"{custom_name(s.candidate.cost, s.candidate.derivative_cost)}: measured "
            f"{s.cost_f_and_grad:,}/{s.cost_f:,} = {numbers.ratio(float(s.ratio))} "
            f"({'equal to' if s.agrees else 'DIFFERENT from'} the closed form)."
        )
    return lines


def to_markdown(result: AuditResult) -> str:
    """A Markdown report of the audit."""
    out = ["# cheapgrad audit", ""]
    out += [f"- {line}" for line in describe(result)]
    out += ["", "## Width-1 chains with c' = ⌊C·c⌋", "",
            "| c | c' | R(1) | R(64) | limit L → ∞ |", "|---:|---:|---:|---:|---:|"]
    for e in result.chain_examples:
        out.append(f"| {e['cost']} | {e['derivative_cost']} | {numbers.ratio(e['depth_1'])} | "
                   f"{numbers.ratio(e['depth_64'])} | {numbers.ratio(e['limit'])} |")
    out += ["", "## Largest ratios of the search (closed form)", "",
            "| depth | width | c | c' | ratio | ops of f and ∇f |",
            "|---:|---:|---:|---:|---:|---:|"]
    for k in result.candidates[:10]:
        out.append(f"| {k.depth} | {k.width} | {k.cost} | {k.derivative_cost} | "
                   f"{numbers.ratio(float(k.ratio))} | {k.ops:,} |")
    return "\n".join(out) + "\n"
