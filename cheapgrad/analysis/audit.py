"""The theorem audit: the lecture's Theorem 2.1 probed under its own hypothesis.

Theorem 2.1 assumes h' costs at most C times h (C = 5) and claims that the loss and its
gradient cost at most 5 times the loss. With declared costs (the ``custom`` activation,
c = cost(h), c' = cost(h') in op units) the unit-cost ratio of an MLP is an exact closed
form of the architecture. With widths d0..d_{L+1} (K = d_{L+1} outputs), N the number of
weights, batch 1 and no bias, and for hidden layer l with d_l units, costs c_l, c'_l and
s_l = 1 when backprop multiplies by h' (every activation but identity)::

    cost(f)     = 2N + Σ_l d_l (c_l − 1) + 2K
    cost(f, ∇f) = 5N − 2·d0·d1 + Σ_l d_l (c_l + c'_l + s_l − 2) + 3K

(:func:`closed_form` adds batch and bias). For a chain of width 1 and depth L with one
custom activation::

    R(L) = ((4 + c + c') L + 6) / ((1 + c) L + 4)

which increases with L towards (4 + c + c') / (1 + c). With c' = C·c that limit is
(1 + C) + (3 − C)/(1 + c): for C > 3 it grows with c towards 1 + C, for C < 3 it is
largest at c = 1, (5 + C)/2. Splitting both costs into a part per weight beyond one per
unit (ratio 5/2), a part per unit with its one weight (ratio (4 + c + c')/(1 + c)) and a
part per output (below 2) shows no architecture does worse, so over all architectures
(depth, widths, inputs, outputs, bias) and declared costs with 1 <= c and c' <= C·c, for
the lecture's single example (batch 1)::

    supremum = max((5 + C)/2, 1 + C)

approached by deep width-1 chains (with c → ∞ when C > 3) and never attained. For the
lecture's C = 5 that is 6: the stated factor 5 does not hold. The reason is plain: when
h dominates the cost of f, f and ∇f cost h + h' = (1 + C)·h per unit, not C·h.

A loss summed over a batch of B examples also accumulates every weight's gradient over
the batch (B − 1 more adds per weight), which lifts the per-unit part to
(5 − 1/B + c + c')/(1 + c) and the supremum to max((6 − 1/B + C)/2, 1 + C).

:func:`run_audit` states this, searches a grid of depths, widths and costs with the
closed form, and measures the worst case found (and the smallest counterexample) by
running the counted engine, checking that the measured ratio equals the closed form.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cheapgrad.analysis.result import BOUND, within
from cheapgrad.errors import CheapgradError, TooLargeError
from cheapgrad.models.activations import ACTIVATIONS, custom_name
from cheapgrad.models.spec import Spec, spec_from_dict

#: The lecture's constants: h' within C = 5 of h, and the claimed factor 5.
LECTURE_FACTOR = 5.0
LECTURE_BOUND = BOUND
#: The default search grid (small enough to search in well under a second).
DEFAULT_DEPTHS = (1, 2, 4, 8, 16, 32, 64)
DEFAULT_WIDTHS = (1, 2, 4, 8)
DEFAULT_COSTS = (1, 2, 5, 10, 100, 1000)

CLOSED_FORM = ("R = (5N − 2·d0·d1 + Σ_l d_l(c_l + c'_l + s_l − 2) + 3K) / "
               "(2N + Σ_l d_l(c_l − 1) + 2K)   (batch 1, no bias)")
CHAIN_FORM = "R(L) = ((4 + c + c')·L + 6) / ((1 + c)·L + 4)   (width-1 chain, depth L)"


def closed_form(spec: Spec) -> tuple[int, int]:
    """(cost of f, cost of f and ∇f) in unit cost, from the algebra alone.

    Derived independently of :mod:`cheapgrad.analysis.theory` (the tests demand both agree) with
    N weights, n = Σ hidden widths, K outputs, batch B, bias β::

        cost(f)      = B·(2N − (n + K) + β(n + K) + Σ_l d_l c_l + 3K)
        backward     = B·K + N(2B − 1) + β(n + K)(B − 1)
                       + B·(2(N − d0·d1) − n + Σ_l d_l (c'_l + s_l))

    (the last line only when there are hidden layers).
    """
    w = spec.widths
    n_weights = sum(w[i] * w[i - 1] for i in range(1, len(w)))
    k_out = spec.outputs
    n_hidden = sum(spec.hidden)
    nodes = n_hidden + k_out
    b = spec.batch
    beta = 1 if spec.bias else 0
    act_f = act_b = 0
    for d, name in zip(spec.hidden, spec.activations, strict=True):
        act = ACTIVATIONS[name]
        act_f += d * act.cost_units
        act_b += d * (act.derivative_cost_units + (1 if act.scales_delta else 0))
    cost_f = b * (2 * n_weights - nodes + beta * nodes + act_f + 3 * k_out)
    # weights between hidden layers and into the outputs: the backward mat-vecs
    inner = n_weights - w[0] * w[1] if spec.depth else 0
    backward = (b * k_out + n_weights * (2 * b - 1) + beta * nodes * (b - 1)
                + b * (2 * inner - n_hidden + act_b))
    return cost_f, cost_f + backward


def closed_form_ratio(spec: Spec) -> Fraction:
    """The exact unit-cost ratio cost(f, ∇f) / cost(f) of ``spec``."""
    f, fg = closed_form(spec)
    return Fraction(fg, f)


def chain_ratio(depth: int, cost: float, derivative_cost: float) -> Fraction:
    """R(L) of a width-1 chain of depth L (one input, one output, custom h everywhere)."""
    c, cp = Fraction(cost), Fraction(derivative_cost)
    return ((4 + c + cp) * depth + 6) / ((1 + c) * depth + 4)


def chain_limit(cost: float, derivative_cost: float, batch: int = 1) -> Fraction:
    """lim_{L→∞} R(L) = (5 − 1/B + c + c') / (1 + c), i.e. (4 + c + c')/(1 + c) at B = 1."""
    c, cp = Fraction(cost), Fraction(derivative_cost)
    return (5 - Fraction(1, batch) + c + cp) / (1 + c)


@dataclass(frozen=True)
class Supremum:
    """The least upper bound of the ratio for cost(h') <= C·cost(h), and where it is."""

    derivative_factor: float
    value: float
    formula: str
    approached_by: str
    attained: bool = False
    note: str = ("over declared costs c >= 1 and c' <= C·c; exact for whole-number C "
                 "(for a fractional C below 3 the whole-number costs a spec can declare "
                 "stay below it)")


def supremum(derivative_factor: float, batch: int = 1) -> Supremum:
    """The least upper bound of the ratio over all architectures (any depth, widths,
    inputs, outputs, bias) at batch B and declared costs with 1 <= c, c' <= C·c:
    max((6 − 1/B + C)/2, 1 + C), which is max((5 + C)/2, 1 + C) for one example."""
    c_factor = float(derivative_factor)
    if c_factor < 0 or not math.isfinite(c_factor):
        raise CheapgradError(f"the derivative factor must be a finite number >= 0, "
                             f"got {derivative_factor!r}")
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise CheapgradError(f"the batch must be a positive integer, got {batch!r}")
    inv = Fraction(1, batch)
    big = Fraction(1) + Fraction(c_factor)
    small = (6 - inv + Fraction(c_factor)) / 2
    if big >= small:
        value = big
        where = ("width-1 chains as depth L → ∞ and cost(h) = c → ∞ with cost(h') = C·c"
                 if big > small else "width-1 chains as depth L → ∞ (any c, c' = C·c)")
    else:
        value = small
        where = "width-1 chains as depth L → ∞ with cost(h) = 1, cost(h') = C"
    head = "max((5 + C)/2, 1 + C)" if batch == 1 else f"max((6 − 1/{batch} + C)/2, 1 + C)"
    formula = (f"{head} = max({float(small):g}, {float(big):g}) = {float(value):g} "
               f"at C = {c_factor:g}")
    return Supremum(c_factor, float(value), formula, where)


# --- search ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """One architecture of the search with its exact closed-form ratio."""

    depth: int
    width: int
    cost: int
    derivative_cost: int
    ratio: Fraction
    ops: int

    batch: int = 1

    def spec(self) -> Spec:
        """The candidate as a spec (one input, one output, no bias)."""
        return audit_spec(self.depth, self.width, self.cost, self.derivative_cost, self.batch)


def audit_spec(depth: int, width: int, cost: int, derivative_cost: int,
               batch: int = 1) -> Spec:
    """A net of ``depth`` custom layers of ``width``, one input and one output."""
    act = {"name": "custom", "cost": cost, "derivative_cost": derivative_cost}
    return spec_from_dict({
        "name": f"audit-L{depth}-w{width}-c{cost}-{derivative_cost}"
                + (f"-B{batch}" if batch > 1 else ""),
        "description": "worst case found by cheapgrad audit",
        "input_dim": 1, "hidden": [width] * depth, "activation": act,
        "outputs": 1, "bias": False, "seed": 0, "batch": batch,
    })


def worst_derivative_cost(cost: int, derivative_factor: float) -> int:
    """The largest whole c' <= C·c (the ratio grows with c'); 0 when none >= 1 exists."""
    return int(math.floor(derivative_factor * cost + 1e-9))


def search(
    derivative_factor: float,
    depths: tuple[int, ...] = DEFAULT_DEPTHS,
    widths: tuple[int, ...] = DEFAULT_WIDTHS,
    costs: tuple[int, ...] = DEFAULT_COSTS,
    batch: int = 1,
) -> list[Candidate]:
    """Every grid point's closed-form ratio, largest first (ties: fewest ops first).

    Each candidate takes the worst derivative cost the hypothesis allows,
    c' = ⌊C·c⌋; costs with no admissible c' >= 1 are skipped.
    """
    out = []
    for depth in depths:
        for width in widths:
            for c in costs:
                cp = worst_derivative_cost(c, derivative_factor)
                if cp < 1:
                    continue
                spec = Spec(name="candidate", input_dim=1, hidden=(width,) * depth,
                            activations=(custom_name(c, cp),) * depth, batch=batch)
                f, fg = closed_form(spec)
                out.append(Candidate(depth, width, c, cp, Fraction(fg, f), fg, batch))
    out.sort(key=lambda k: (-k.ratio, k.ops))
    return out


# --- measuring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """A candidate run on the counted engine."""

    candidate: Candidate
    engine: str
    cost_f: int
    cost_f_and_grad: int
    counts_match: bool
    gradient_passed: bool
    gradient_error: float

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.cost_f_and_grad, self.cost_f)

    @property
    def agrees(self) -> bool:
        """Whether the measured ratio equals the closed form exactly."""
        return self.ratio == self.candidate.ratio

    @property
    def passed(self) -> bool:
        return self.agrees and self.counts_match and self.gradient_passed

    def to_dict(self) -> dict[str, Any]:
        c = self.candidate
        return {
            "spec": c.spec().to_dict(),
            "depth": c.depth, "width": c.width, "batch": c.batch,
            "cost": c.cost, "derivative_cost": c.derivative_cost,
            "engine": self.engine,
            "cost_f": self.cost_f, "cost_f_and_grad": self.cost_f_and_grad,
            "ratio": float(self.ratio),
            "closed_form_ratio": float(c.ratio),
            "closed_form_fraction": f"{c.ratio.numerator}/{c.ratio.denominator}",
            "agrees_with_closed_form": self.agrees,
            "counts_match_theory": self.counts_match,
            "gradient_check_passed": self.gradient_passed,
            "gradient_max_rel_error": self.gradient_error,
        }


def measure(candidate: Candidate, engine: str | None = None) -> Measured:
    """Run the candidate on the counted engine (default: the scalar ground truth)."""
    from cheapgrad.analysis.run import run

    chosen = engine or "scalar"
    try:
        result = run(candidate.spec(), chosen)
    except TooLargeError:
        c = candidate
        raise TooLargeError(
            f"the worst case found, depth {c.depth}, width {c.width}, is too large to count "
            f"on the {chosen} engine; "
            + ("measure it with --engine array, or search smaller " if chosen != "array"
               else "search smaller ")
            + "--depths and --widths") from None
    g = result.gradient_check
    return Measured(candidate, result.engine, result.cost_f, result.cost_f_and_grad,
                    result.counts_match, g.passed, g.max_rel_error)


@dataclass(frozen=True)
class AuditResult:
    """What the audit found: the supremum, the verdict, the worst case measured."""

    derivative_factor: float
    stated_bound: float
    sup: Supremum
    candidates: list[Candidate]
    worst: Measured
    smallest_violation: Measured | None
    depths: tuple[int, ...]
    widths: tuple[int, ...]
    costs: tuple[int, ...]
    batch: int = 1
    chain_examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        """Whether the stated bound holds for every admissible net (sup <= stated)."""
        return bool(within(self.sup.value, self.stated_bound))

    @property
    def violations(self) -> int:
        return sum(1 for c in self.candidates if c.ratio > Fraction(self.stated_bound))

    @property
    def measurements_agree(self) -> bool:
        """The audit's checks: every measurement agrees with the closed form."""
        measured = [self.worst] + ([self.smallest_violation] if self.smallest_violation else [])
        return all(m.passed for m in measured)

    @property
    def passed(self) -> bool:
        """The verdict behind the exit code: the stated bound holds and every measurement
        agrees with the closed form."""
        return self.holds and self.measurements_agree

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``cheapgrad audit --format json``."""
        return {
            "derivative_factor": self.derivative_factor,
            "stated_bound": self.stated_bound,
            "batch": self.batch,
            "supremum": self.sup.value,
            "supremum_formula": self.sup.formula,
            "supremum_attained": self.sup.attained,
            "supremum_approached_by": self.sup.approached_by,
            "supremum_note": self.sup.note,
            "holds": self.holds,
            "true_bound": self.sup.value,
            "closed_form": CLOSED_FORM,
            "chain_closed_form": CHAIN_FORM,
            "chain_examples": self.chain_examples,
            "search": {
                "depths": list(self.depths), "widths": list(self.widths),
                "costs": list(self.costs), "candidates": len(self.candidates),
                "violations": self.violations,
                "largest_closed_form_ratio": float(self.candidates[0].ratio),
            },
            "worst_case": self.worst.to_dict(),
            "smallest_violation": (self.smallest_violation.to_dict()
                                   if self.smallest_violation else None),
            "measurements_agree": self.measurements_agree,
            "passed": self.passed,
        }


def run_audit(
    derivative_factor: float = LECTURE_FACTOR,
    stated_bound: float = LECTURE_BOUND,
    *,
    depths: tuple[int, ...] = DEFAULT_DEPTHS,
    widths: tuple[int, ...] = DEFAULT_WIDTHS,
    costs: tuple[int, ...] = DEFAULT_COSTS,
    batch: int = 1,
    engine: str | None = None,
) -> AuditResult:
    """Audit "ratio <= stated_bound whenever cost(h') <= C·cost(h)".

    Raises :class:`~cheapgrad.errors.CheapgradError` when the grid is empty or admits no
    declared costs (C·c < 1 for every c).
    """
    sup = supremum(derivative_factor, batch)
    for label, values in (("depths", depths), ("widths", widths), ("costs", costs)):
        if not values:
            raise CheapgradError(f"{label}: give at least one value")
        if any(v < 1 for v in values):
            raise CheapgradError(f"{label}: every value must be a positive integer")
    candidates = search(derivative_factor, depths, widths, costs, batch)
    if not candidates:
        raise CheapgradError(
            f"no admissible declared costs: with C = {derivative_factor:g} no cost in "
            f"{list(costs)} allows cost(h') >= 1; raise --derivative-factor or the costs")
    worst = measure(candidates[0], engine)
    stated = Fraction(stated_bound)
    violating = [c for c in candidates if c.ratio > stated]
    smallest = None
    if violating:
        first = min(violating, key=lambda k: (k.ops, -k.ratio))
        smallest = worst if first == candidates[0] else measure(first, engine)
    examples = []
    for c in (1, 10, 100, 1000):
        cp = worst_derivative_cost(c, derivative_factor)
        if cp >= 1:
            examples.append({
                "cost": c, "derivative_cost": cp,
                "depth_1": float(closed_form_ratio(audit_spec(1, 1, c, cp, batch))),
                "depth_64": float(closed_form_ratio(audit_spec(64, 1, c, cp, batch))),
                "limit": float(chain_limit(c, cp, batch)),
            })
    return AuditResult(float(derivative_factor), float(stated_bound), sup, candidates,
                       worst, smallest, tuple(depths), tuple(widths), tuple(costs),
                       batch, examples)
