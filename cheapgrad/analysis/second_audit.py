"""The published constants of second order (tangents, gradients, Hessian–vector
products), each beside the ratios measured on the scalar built-ins.

Every constant is quoted from its source (``verified``) or marked unverified when the
statement could not be read; a bound gets a verdict (the largest measured ratio against
it), an estimate ("about k×") gets the measured range. Measured per built-in:

* ``tangent``: cost(f and one tangent pass along a random v) / cost(f);
* ``gradient``: cost(f, ∇f) / cost(f);
* ``soad``: cost(f, ∇f, H·v by forward over reverse) / cost(f) (a second-order adjoint
  computes f, ∇f, ∇f·v and H·v);
* ``hvp-grad``: cost(H·v) / cost(f, ∇f), per mode.

Example::

    >>> a = run_second_audit(n=4, names=("product",))
    >>> [m["circuit"] for m in a.measured], a.rows[0]["source"].split(",")[0]
    (['product-4'], 'Pearlmutter 1994')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cheapgrad.analysis.derivatives import price
from cheapgrad.analysis.second_order import MODES, hvp, record, scalar_output
from cheapgrad.core.counter import Counter, OpCounts
from cheapgrad.core.forward import directional
from cheapgrad.core.number import tracing
from cheapgrad.models.circuits import builtin


@dataclass(frozen=True)
class SecondPublished:
    """A published statement on the cost of a derivative: the measured ``quantity`` it is
    about, ``kind`` (``bound``: an upper bound ``high``, with ``low`` the lower end of a
    stated range; ``estimate``: "about ``high``×"; ``ranking``: an order of the HVP
    modes), the cost model it is stated in, and whether its text was read."""

    statement: str
    source: str
    url: str
    quantity: str
    kind: str
    model: str
    high: float | None = None
    low: float | None = None
    verified: bool = True


PUBLISHED_SECOND: tuple[SecondPublished, ...] = (
    SecondPublished(
        "Hv by the R-operator \"takes about as much computation, and is about as local, as "
        "a gradient evaluation\"",
        "Pearlmutter 1994, Neural Computation 6(1):147–160 (abstract)",
        "https://direct.mit.edu/neco/article/6/1/147/5766", "hvp-grad", "estimate", "unit",
        1.0),
    SecondPublished(
        "a JVP's \"FLOP cost ... is about 3x the cost of just evaluating the function\"",
        "JAX Autodiff Cookbook (jax-ml/jax docs/notebooks/autodiff_cookbook.md)",
        "https://docs.jax.dev/en/latest/notebooks/autodiff_cookbook.html", "tangent",
        "estimate", "flop", 3.0),
    SecondPublished(
        "a VJP's cost \"is only about three times the cost of evaluating f\"",
        "JAX Autodiff Cookbook", "https://docs.jax.dev/en/latest/notebooks/autodiff_cookbook.html",
        "gradient", "estimate", "flop", 3.0),
    SecondPublished(
        "HVP: forward over reverse recommended; reverse over forward \"not quite as good\"; "
        "reverse over reverse \"efficient, but we can do even better and save some memory\"",
        "JAX Autodiff Cookbook", "https://docs.jax.dev/en/latest/notebooks/autodiff_cookbook.html",
        "hvp-grad", "ranking", "time and memory"),
    SecondPublished(
        "tangent: ω_tang ∈ [2, 5/2] in the TIME model (weighted MOVES/ADDS/MULTS/NLOPS)",
        "Griewank & Walther, Evaluating Derivatives, 2nd ed. 2008 (recalled, not read)", "",
        "tangent", "bound", "weighted", 2.5, 2.0, verified=False),
    SecondPublished(
        "gradient: ω_grad ∈ [3, 4] in the TIME model",
        "Griewank & Walther 2008 (recalled, not read)", "", "gradient", "bound", "weighted",
        4.0, 3.0, verified=False),
    SecondPublished(
        "second-order adjoint: ω_soad ∈ [7, 10] in the TIME model",
        "Griewank & Walther 2008 (recalled, not read)", "", "soad", "bound", "weighted",
        10.0, 7.0, verified=False),
)

#: The scalar built-ins the audit measures, and their size.
AUDIT_BUILTINS = ("product", "horner", "softmax-ce", "rosen", "mlp2", "det")


def _tangent_counts(fn: Any, x: np.ndarray, v: np.ndarray) -> OpCounts:
    counter = Counter()
    with tracing():
        xs, outs = record(fn, x, counter)
    directional([scalar_output(outs)], xs, v, counter)
    return counter.totals()


def measure(name: str, n: int, seed: int = 0) -> dict[str, Any]:
    """The measured ratios of one built-in (unit and weighted)."""
    c = builtin(name, n if name != "det" else min(n, 6))
    x = np.array(c.values)
    v = np.random.default_rng(seed).standard_normal(len(x))
    results = {m: hvp(c.fn, x, v, m) for m in MODES}
    base = results["fwd-rev"]
    f, fg = base.f_counts, base.f_and_grad_counts
    tangent = _tangent_counts(c.fn, x, v)
    out: dict[str, Any] = {"circuit": c.name, "inputs": len(x)}
    for model in ("unit", "weighted"):
        pf = price(f, model)
        out[model] = {
            "tangent": price(tangent, model) / pf,
            "gradient": price(fg, model) / pf,
            "soad": price(base.counter.totals(), model) / pf,
            "hvp-grad": {m: price(r.counter.totals(), model) / price(fg, model)
                         for m, r in results.items()},
        }
    return out


@dataclass
class SecondAudit:
    """The published rows with their measured ranges and verdicts."""

    measured: list[dict[str, Any]]
    rows: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"measured": self.measured, "published": self.rows}


def _values(measured: Sequence[dict[str, Any]], quantity: str, model: str,
            mode: str = "fwd-rev") -> list[float]:
    key = model if model in ("unit", "weighted") else "unit"
    vals = [m[key][quantity] for m in measured]
    return [v[mode] if isinstance(v, dict) else v for v in vals]


def _row(p: SecondPublished, measured: Sequence[dict[str, Any]]) -> dict[str, Any]:
    row: dict[str, Any] = {"statement": p.statement, "source": p.source, "url": p.url,
                           "quantity": p.quantity, "kind": p.kind, "model": p.model,
                           "low": p.low, "high": p.high, "verified": p.verified}
    if p.kind == "ranking":
        order = {m["circuit"]: sorted(MODES, key=lambda mode: m["unit"]["hvp-grad"][mode])
                 for m in measured}
        cheapest = {o[0] for o in order.values()}
        row["measured"] = "cheapest in unit ops: " + ", ".join(sorted(cheapest))
        row["verdict"] = ("not a count: the cookbook ranks time and memory; in counted ops "
                          + ("forward over reverse is cheapest" if cheapest == {"fwd-rev"}
                             else "reverse over forward is cheapest on " + str(sum(
                                 o[0] == "rev-fwd" for o in order.values())) + " of "
                             + str(len(order))))
        return row
    vals = _values(measured, p.quantity, p.model)
    row["measured_min"], row["measured_max"] = min(vals), max(vals)
    row["measured_model"] = p.model if p.model in ("unit", "weighted") else "unit"
    if p.kind == "bound":
        assert p.high is not None
        holds = max(vals) <= p.high
        row["holds"] = holds
        row["verdict"] = ("within" if holds else "exceeds") + (
            "" if p.verified else " in cheapgrad's weighted model, not their TIME model "
            "(the constant is unverified)")
    else:
        row["verdict"] = (f"measured {min(vals):.2f}–{max(vals):.2f}× against about "
                          f"{p.high:g}×")
    return row


def run_second_audit(n: int = 10, names: Sequence[str] = AUDIT_BUILTINS,
                     seed: int = 0) -> SecondAudit:
    """Measure every built-in of ``names`` at size n and set each published constant
    beside its measured range."""
    measured = [measure(name, n, seed) for name in names]
    return SecondAudit(measured, [_row(p, measured) for p in PUBLISHED_SECOND])
