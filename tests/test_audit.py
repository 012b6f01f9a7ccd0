"""The audit's closed form, supremum and search, checked against the algebra and runs."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest

from cheapgrad.analysis.audit import (
    audit_spec,
    chain_limit,
    chain_ratio,
    closed_form,
    closed_form_ratio,
    measure,
    run_audit,
    search,
    supremum,
    worst_derivative_cost,
)
from cheapgrad.analysis.run import run
from cheapgrad.analysis.theory import predicted_cost
from cheapgrad.errors import CheapgradError
from cheapgrad.models.spec import spec_from_dict
from cheapgrad.render.audit import describe, to_markdown

SMALL_GRID = {"depths": (1, 2, 4), "widths": (1, 2), "costs": (1, 10)}


def random_specs(count: int, seed: int) -> list:
    rng = random.Random(seed)
    specs = []
    for _ in range(count):
        depth = rng.randint(0, 4)
        acts = [rng.choice(["identity", "tanh", "sigmoid", "relu", "square",
                            {"name": "custom", "cost": rng.randint(1, 9),
                             "derivative_cost": rng.randint(1, 40)}]) for _ in range(depth)]
        specs.append(spec_from_dict({
            "input_dim": rng.randint(1, 4), "hidden": [rng.randint(1, 4) for _ in range(depth)],
            "activation": acts, "outputs": rng.randint(1, 3), "bias": rng.random() < 0.5,
            "batch": rng.randint(1, 3), "seed": rng.randint(0, 9),
        }))
    return specs


def test_closed_form_equals_the_per_bucket_theory() -> None:
    for spec in random_specs(300, 0):
        assert closed_form(spec) == predicted_cost(spec), spec


def test_closed_form_equals_measured_counts() -> None:
    for spec in random_specs(12, 1):
        r = run(spec, "scalar")
        assert closed_form(spec) == (r.cost_f, r.cost_f_and_grad)


@pytest.mark.parametrize("depth", [1, 2, 3, 7, 20])
@pytest.mark.parametrize("c,cp", [(1, 1), (1, 5), (10, 50), (3, 2), (100, 500)])
def test_chain_formula_is_the_closed_form_of_a_width_one_chain(depth: int, c: int,
                                                               cp: int) -> None:
    assert chain_ratio(depth, c, cp) == closed_form_ratio(audit_spec(depth, 1, c, cp))


def test_hand_algebra_for_h_prime_five_times_h() -> None:
    # R(L) = ((6c + 4)L + 6) / ((c + 1)L + 4) when c' = 5c.
    for c in (1, 2, 10, 1000):
        for depth in (1, 5, 100):
            assert chain_ratio(depth, c, 5 * c) == Fraction((6 * c + 4) * depth + 6,
                                                            (c + 1) * depth + 4)
    assert chain_ratio(2, 10, 50) == Fraction(134, 26)
    # Above 5 exactly when (c − 1)L > 14; c = 1 never exceeds 5, the limit is then 5.
    assert chain_ratio(15, 2, 10) > 5 and chain_ratio(14, 2, 10) == 5
    assert all(chain_ratio(d, 1, 5) < 5 for d in (1, 10, 10**6))
    assert chain_limit(1, 5) == 5
    # The limit (6c + 4)/(c + 1) = 6 − 2/(c + 1) tends to 6 and never reaches it.
    assert chain_limit(10, 50) == Fraction(64, 11)
    assert 5.998 < chain_limit(1000, 5000) < 6
    assert 5.99 < chain_ratio(10**6, 10**6, 5 * 10**6) < 6


@pytest.mark.parametrize("factor,expected", [(5, 6.0), (3, 4.0), (2, 3.5), (1, 3.0),
                                             (10, 11.0), (0, 2.5)])
def test_supremum_formula(factor: float, expected: float) -> None:
    s = supremum(factor)
    assert s.value == expected and not s.attained


def test_batches_lift_the_supremum_below_four() -> None:
    # Summing over B examples adds B − 1 adds per weight gradient: per unit with its one
    # weight (5 − 1/B + c + c')/(1 + c); with c = 1, c' = C = 2 and B = 2 that is 3.75.
    assert supremum(2, 2).value == 3.75 and supremum(2, 1000).value == pytest.approx(3.9995)
    assert supremum(5, 2).value == 6.0  # C >= 4 − 1/B: the 1 + C branch is unchanged
    assert chain_limit(1, 2, 2) == Fraction(15, 4)
    long_chain = closed_form_ratio(audit_spec(2000, 1, 1, 2, 2))
    assert 3.74 < long_chain < 3.75
    with pytest.raises(CheapgradError):
        supremum(2, 0)


def test_no_architecture_exceeds_the_supremum() -> None:
    for factor in (1.0, 2.0, 3.0, 5.0):
        sup = Fraction(supremum(factor).value)
        for k in search(factor, (1, 2, 3, 8, 50), (1, 2, 3, 5), (1, 2, 7, 40, 500)):
            assert k.ratio < sup
        for batch in (2, 7):
            sup_b = Fraction(supremum(factor, batch).value)
            assert sup_b >= sup
            for k in search(factor, (1, 3, 50), (1, 2), (1, 2, 40), batch):
                assert k.ratio < sup_b
        # Arbitrary custom per-layer costs within the hypothesis, with bias and batches.
        rng = random.Random(int(factor))
        for _ in range(200):
            depth = rng.randint(1, 5)
            acts = []
            for _ in range(depth):
                c = rng.randint(1, 50)
                acts.append({"name": "custom", "cost": c,
                             "derivative_cost": max(1, worst_derivative_cost(c, factor))})
            spec = spec_from_dict({"input_dim": rng.randint(1, 3),
                                   "hidden": [rng.randint(1, 4) for _ in range(depth)],
                                   "activation": acts, "outputs": rng.randint(1, 3),
                                   "bias": rng.random() < 0.5, "batch": rng.randint(1, 4)})
            assert closed_form_ratio(spec) < Fraction(supremum(factor, spec.batch).value)


def test_ratio_grows_with_the_derivative_cost() -> None:
    for c in (1, 4):
        ratios = [closed_form_ratio(audit_spec(3, 2, c, cp)) for cp in range(1, 5 * c + 1)]
        assert ratios == sorted(ratios) and len(set(ratios)) == len(ratios)


def test_search_takes_the_worst_admissible_derivative_cost() -> None:
    found = search(5.0, **SMALL_GRID)
    assert len(found) == 3 * 2 * 2
    assert all(k.derivative_cost == 5 * k.cost for k in found)
    assert found[0].ratio == max(k.ratio for k in found)
    assert (found[0].depth, found[0].width, found[0].cost) == (4, 1, 10)
    assert search(0.5, costs=(1,)) == []
    assert [k.derivative_cost for k in search(2.5, (1,), (1,), (1, 2))] == [5, 2]


def test_measure_agrees_with_the_closed_form() -> None:
    k = next(k for k in search(5.0, (2,), (1,), (10,)))
    m = measure(k)
    assert (m.cost_f, m.cost_f_and_grad) == (26, 134)
    assert m.agrees and m.counts_match and m.gradient_passed and m.passed


def test_audit_of_the_lecture_finds_the_factor_false() -> None:
    result = run_audit(5.0, 5.0, **SMALL_GRID)
    assert not result.holds and result.sup.value == 6.0
    assert result.worst.candidate.ratio == result.candidates[0].ratio
    assert result.worst.ratio == chain_ratio(4, 10, 50) and result.worst.passed
    s = result.smallest_violation
    assert s is not None and s.ratio > 5 and s.agrees
    assert (s.candidate.depth, s.candidate.cost) == (2, 10)
    data = result.to_dict()
    assert data["stated_bound"] == 5.0 and data["supremum"] == 6.0 and data["holds"] is False
    assert data["worst_case"]["ratio"] == pytest.approx(float(chain_ratio(4, 10, 50)))
    assert data["worst_case"]["agrees_with_closed_form"] is True
    assert data["measurements_agree"] is True and data["passed"] is False
    text = "\n".join(describe(result))
    assert "does NOT hold" in text and "true bound is 6" in text
    assert "# cheapgrad audit" in to_markdown(result)


def test_audit_with_a_cheap_derivative_holds() -> None:
    result = run_audit(2.0, 5.0, **SMALL_GRID)
    assert result.holds and result.sup.value == 3.5 and result.smallest_violation is None
    assert result.violations == 0 and result.passed


def test_audit_rejects_empty_or_impossible_grids() -> None:
    with pytest.raises(CheapgradError, match="depths"):
        run_audit(5.0, 5.0, depths=(), widths=(1,), costs=(1,))
    with pytest.raises(CheapgradError, match="no admissible"):
        run_audit(0.5, 5.0, depths=(1,), widths=(1,), costs=(1,))
    with pytest.raises(CheapgradError):
        supremum(-1.0)
