"""Cost models: each model's counts checked exactly on small hand-counted circuits and nets."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from cheapgrad.analysis.costmodels import MODELS, cost_models, select, to_json
from cheapgrad.analysis.gradcheck import check_gradient
from cheapgrad.analysis.published import PUBLISHED, published_rows
from cheapgrad.analysis.run import run
from cheapgrad.analysis.timing import numpy_gradient, time_net
from cheapgrad.analysis.weights import (
    DEFAULT_WEIGHTS,
    MOVES,
    per_op_bound,
    rule_costs,
    weights_with_defaults,
)
from cheapgrad.core.counter import Counter, OpCounts
from cheapgrad.core.number import const, tracing, var
from cheapgrad.core.tape import backward
from cheapgrad.models.mlp import init_params, numpy_loss
from cheapgrad.models.spec import spec_from_dict, spec_from_yaml
from cheapgrad.render.costmodels import published_markdown, to_markdown

# --- circuits -----------------------------------------------------------------------------


def product_counts(n: int) -> tuple[Counter, list[float], list[float]]:
    """Speelpenning's x1⋯xn, traced, and its reverse sweep; counter, gradient, inputs."""
    rng = np.random.default_rng(n)
    values = list(rng.uniform(0.5, 1.5, n))
    xs = [var(v) for v in values]
    c = Counter()
    with tracing(), c.scope("forward"):
        f = xs[0]
        for x in xs[1:]:
            f = f * x
    grads = backward(f, xs, c)
    return c, [g.v for g in grads], values


@pytest.mark.parametrize("n", [2, 3, 4, 10, 57])
def test_speelpenning_nonscalar_count_is_exactly_3n_minus_5(n: int) -> None:
    c, grad, values = product_counts(n)
    m = cost_models(c)
    assert m["nonscalar"].cost_f == n - 1
    assert m["nonscalar"].cost_f_and_grad == 3 * n - 5
    assert m["nonscalar"].ratio == pytest.approx((3 * n - 5) / (n - 1))
    assert m["nonscalar"].applies and m["nonscalar"].holds
    # Unit cost: two muls per mul backward and no accumulation (every value used once).
    assert (m["unit"].cost_f, m["unit"].cost_f_and_grad) == (n - 1, 3 * (n - 1))
    # The gradient against the closed form ∂/∂x_i = Π_{j≠i} x_j.
    expected = [math.prod(values[:i] + values[i + 1:]) for i in range(n)]
    assert np.allclose(grad, expected, rtol=1e-12)


def test_speelpenning_ratio_approaches_three_from_below() -> None:
    ratios = [cost_models(product_counts(n)[0])["nonscalar"].ratio for n in (3, 10, 100, 1000)]
    assert all(r is not None for r in ratios)
    assert ratios == sorted(ratios) and ratios[-1] < 3.0 and ratios[-1] > 2.99


def quotient_chain(n: int) -> tuple[Counter, list[float]]:
    """v0 = x, v1 = y, v_{k+1} = v_k / v_{k-1}: n divisions, every value used twice."""
    x, y = var(1.5), var(0.7)
    c = Counter()
    with tracing(), c.scope("forward"):
        a, b = x, y
        for _ in range(n):
            a, b = b, b / a
    gx, gy = backward(b, [x, y], c)
    return c, [gx.v, gy.v]


def _quotient_value(theta: np.ndarray, n: int) -> float:
    a, b = float(theta[0]), float(theta[1])
    for _ in range(n):
        a, b = b, b / a
    return b


@pytest.mark.parametrize("n", [1, 2, 6, 40])
def test_quotient_chain_is_tight_for_unit_cost(n: int) -> None:
    """Each division's adjoint costs 3 ops (div, mul, neg) and, with fan-out 2, one
    accumulating add: 5 per forward op, less one add at the end."""
    c, grad = quotient_chain(n)
    m = cost_models(c)
    assert (m["unit"].cost_f, m["unit"].cost_f_and_grad) == (n, 5 * n - 1)
    # Baur–Strassen's measure: every division and both of its backward ops are
    # nonscalar, except that the first backward division divides the constant seed 1,
    # which the counted type tallies as nonscalar only if it counts a division by a
    # dependent value as nonscalar whatever the numerator (probed here, not assumed).
    probe = Counter()
    with probe.scope("probe"):
        const(1.0) / var(2.0)
    seed_div = probe.totals().nonscalar["div"]
    assert (m["nonscalar"].cost_f, m["nonscalar"].cost_f_and_grad) == (n, 3 * n - 1 + seed_div)
    # MOVES: a div/mul/add moves 3 values, a neg 2: 3n forward, 11n - 3 backward.
    assert (m["memory"].cost_f, m["memory"].cost_f_and_grad) == (3 * n, 14 * n - 3)
    gc = check_gradient(lambda t: _quotient_value(t, n), np.array([1.5, 0.7]),
                        np.array(grad), method="central")
    assert gc.passed


def test_quotient_chain_ratio_tends_to_five_and_never_exceeds_it() -> None:
    ratios = [cost_models(quotient_chain(n)[0])["unit"].ratio for n in (10, 100, 1000)]
    assert ratios == [pytest.approx(float(Fraction(5 * n - 1, n))) for n in (10, 100, 1000)]
    assert all(r is not None and r <= 5.0 for r in ratios) and ratios[-1] > 4.99


def test_memory_counts_fetches_and_stores() -> None:
    x, y = var(3.0), var(4.0)
    c = Counter()
    with tracing(), c.scope("forward"):
        f = x * y + x
    backward(f, [x, y], c)
    m = cost_models(c)["memory"]
    # forward: mul (2 fetches, 1 store) + add (2, 1); backward: 2 mul + 1 add.
    assert (m.cost_f, m.cost_f_and_grad) == (6, 6 + 9)
    assert m.detail == {"f:fetches": 4, "f:stores": 2, "f_and_grad:fetches": 10,
                        "f_and_grad:stores": 5}
    assert MOVES["neg"] == 2 and MOVES["cmp"] == 2 and MOVES["tanh"] == 2 and MOVES["div"] == 3


# --- nets -----------------------------------------------------------------------------------

SMALL = {"name": "small", "input_dim": 2, "hidden": [3], "activation": "tanh", "outputs": 1}


def test_mlp_unit_and_nonscalar_by_hand() -> None:
    r = run(spec_from_dict(SMALL), "scalar")
    m = cost_models(r.counter)
    # forward: 6 + 3 mul, 3·1 + 1·2 add, 3 tanh; loss: sub, 2 mul -> 20.
    assert m["unit"].cost_f == 20 == r.cost_f
    assert m["unit"].cost_f_and_grad == r.cost_f_and_grad
    # Nonscalar: w·x is a scaling (x is a constant): layer 2's 3 products and r·r.
    assert m["nonscalar"].cost_f == 4
    # Backward: δ·z (layer 2) 3, w·δ 3, z·z 3 and h'·s 3 (δ·x of layer 1 is a scaling).
    assert m["nonscalar"].cost_f_and_grad == 4 + 12
    assert not m["nonscalar"].applies  # tanh is outside the rational model
    assert m["nonscalar"].detail == {"f:tanh": 3, "f_and_grad:tanh": 3}


def test_rational_mlp_is_within_baur_strassen() -> None:
    spec = spec_from_dict({**SMALL, "hidden": [3, 4, 2], "activation": "square"})
    m = cost_models(run(spec, "scalar").counter)["nonscalar"]
    assert m.applies and m.holds and m.ratio is not None and m.ratio <= 3.0


@pytest.mark.parametrize("hidden,batch", [([3], 1), ([4, 5], 1), ([4, 5], 3), ([], 2)])
def test_flop_is_two_m_n_k_per_matrix_product(hidden: list[int], batch: int) -> None:
    spec = spec_from_dict({**SMALL, "hidden": hidden, "batch": batch, "outputs": 2})
    w = spec.widths
    forward = sum(2 * w[i] * w[i - 1] * batch for i in range(1, len(w)))
    grads = sum(2 * w[i] * w[i - 1] * batch for i in range(1, len(w)))  # δ zᵀ
    back = sum(2 * w[i] * w[i + 1] * batch for i in range(1, len(w) - 1))  # Wᵀ δ
    m = cost_models(run(spec, "scalar").counter)["flop"]
    assert (m.cost_f, m.cost_f_and_grad) == (forward, forward + grads + back)
    assert m.holds and m.ratio is not None and m.ratio <= 3.0


def test_flop_of_a_circuit_is_zero_and_has_no_ratio() -> None:
    m = cost_models(product_counts(5)[0])["flop"]
    assert (m.cost_f, m.cost_f_and_grad, m.ratio, m.holds) == (0, 0, None, None)
    assert not m.applies


def test_weighted_uses_spec_weights_over_defaults() -> None:
    spec = spec_from_yaml(
        "input_dim: 2\nhidden: [3]\nactivation: tanh\ncost_weights: {mul: 3, tanh: 20}\n")
    assert spec.cost_weights == {"mul": 3.0, "tanh": 20.0}
    r = run(spec, "scalar")
    m = cost_models(r.counter, spec.cost_weights)["weighted"]
    w = weights_with_defaults(spec.cost_weights)
    f = r.counter.totals("forward") + r.counter.totals("loss")
    both = f + r.counter.totals("backward")
    assert m.cost_f == sum(n * w[k] for k, n in f.counts.items())
    # by hand: forward 9 mul, 5 add, 3 tanh, loss 1 sub 2 mul
    assert m.cost_f == 11 * 3 + 5 * 1 + 3 * 20 + 1 * 1
    assert m.cost_f_and_grad == sum(n * w[k] for k, n in both.counts.items())
    with pytest.raises(ValueError):
        weights_with_defaults({"mull": 1.0})


def test_per_op_bound_with_unit_weights_is_griewanks_five() -> None:
    rules = rule_costs()
    assert rules["mul"].nonzero() == {"mul": 2}
    assert rules["div"].nonzero() == {"div": 1, "mul": 1, "neg": 1}
    assert rules["add"].nonzero() == {}
    assert "cmp" not in rules
    assert per_op_bound({k: 1.0 for k in DEFAULT_WEIGHTS}) == (5.0, "div")
    bound, _ = per_op_bound(MOVES)
    assert bound == pytest.approx(5.5)  # tanh: 2 moves forward, 9 in its rule


def test_per_phase_counts_are_accepted() -> None:
    c, _, _ = product_counts(6)
    phases = {"forward": c.totals("forward"), "backward": c.totals("backward")}
    a, b = cost_models(c), cost_models(phases)
    for name in ("unit", "nonscalar", "weighted", "memory"):
        assert (a[name].cost_f, a[name].cost_f_and_grad) == (b[name].cost_f,
                                                             b[name].cost_f_and_grad)
    assert b["flop"].ratio is None


def test_nothing_counted_has_no_ratio() -> None:
    m = cost_models({"forward": OpCounts.zero()})
    assert all(m[k].ratio is None and m[k].holds is None for k in MODELS)


def test_json_has_every_model_with_the_five_keys() -> None:
    data = to_json(cost_models(run(spec_from_dict(SMALL), "scalar").counter))
    assert list(data) == list(MODELS)
    for entry in data.values():
        assert {"cost_f", "cost_f_and_grad", "ratio", "bound", "holds"} <= set(entry)
    assert data["unit"]["bound"] == 5.0 and data["nonscalar"]["bound"] == 3.0
    assert data["flop"]["bound"] == 3.0


def test_select_and_renderers() -> None:
    models = cost_models(run(spec_from_dict(SMALL), "scalar").counter)
    assert list(select(models, "all")) == list(MODELS)
    assert list(select(models, "flop")) == ["flop"]
    with pytest.raises(ValueError):
        select(models, "clock")
    md = to_markdown(models)
    assert md.count("\n") == 2 + len(MODELS) and "| unit | 20 |" in md

    class T:
        forward_s, forward_backward_s, ratio = 1e-5, 3e-5, 3.0

    assert "clock (numpy)" in to_markdown(models, T())
    pub = published_markdown(models)
    assert "Baur & Strassen 1983" in pub and "Kaplan et al. 2020" in pub


def test_published_rows_only_measure_what_they_are_about() -> None:
    models = cost_models(product_counts(8)[0])
    rows = {r["statement"][:12]: r for r in published_rows(models, "product")}
    assert len(rows) == len(PUBLISHED)
    speel = next(r for r in published_rows(models, "product") if "Speelpenning" in r["source"])
    assert speel["measured_ratio"] == pytest.approx(19 / 7) and speel["holds"]
    mlp_rows = [r for r in published_rows(models, "product") if "MLP" in r["statement"]]
    assert all(r["measured_ratio"] is None for r in mlp_rows)




# --- the clock ---------------------------------------------------------------------------


@pytest.mark.parametrize("act,bias,batch", [("tanh", False, 1), ("relu", True, 3),
                                            ("identity", False, 2)])
def test_timed_numpy_backprop_is_the_right_gradient(act: str, bias: bool, batch: int) -> None:
    spec = spec_from_dict({**SMALL, "hidden": [4, 3], "activation": act, "bias": bias,
                           "batch": batch, "outputs": 2})
    params = init_params(spec)
    loss, grad = numpy_gradient(spec, params)
    assert loss == pytest.approx(numpy_loss(spec, params), rel=1e-12)
    gc = check_gradient(lambda t: numpy_loss(spec, params.with_flat(t)), params.flat(), grad,
                        method="central")
    assert gc.passed
    counted = run(spec, "scalar").output.grads.flat()
    assert np.allclose(grad, counted, rtol=1e-10, atol=1e-12)


def test_time_net_reports_medians() -> None:
    t = time_net(spec_from_dict(SMALL), repeats=3, min_seconds=1e-4)
    assert t.forward_s > 0 and t.forward_backward_s > 0 and t.repeats == 3 and t.number >= 1
    assert t.ratio == t.forward_backward_s / t.forward_s
    assert set(t.to_dict()) >= {"forward_s", "forward_backward_s", "ratio"}


def test_rich_tables_render() -> None:
    from rich.console import Console

    from cheapgrad.analysis.audit import run_audit
    from cheapgrad.render.costmodel_tables import audit_tables, cost_model_table, published_table

    models = cost_models(run(spec_from_dict(SMALL), "scalar").counter)

    class T:
        forward_s, forward_backward_s, ratio = 1e-5, 3e-5, 3.0

    console = Console(record=True, width=120)
    console.print(cost_model_table(models, T()))
    console.print(published_table(models))
    console.print(audit_tables(run_audit(depths=(1, 2), widths=(1,), costs=(1, 10))))
    text = console.export_text()
    for needle in ("nonscalar", "VIOLATED*", "clock (numpy)", "Kaplan et al. 2020",
                   "does NOT hold", "custom(10,50)"):
        assert needle in text


def test_clock_rows_for_batch_sizes() -> None:
    from cheapgrad.analysis.timing import clock_rows
    from cheapgrad.render.timing import clock_markdown

    spec = spec_from_dict(SMALL)
    rows = clock_rows(spec, (1, 3), engine="scalar", repeats=2, min_seconds=1e-4)
    assert [r.batch for r in rows] == [1, 3]
    for r in rows:
        counted = run(spec_from_dict({**SMALL, "batch": r.batch}), "scalar")
        assert r.op_ratio == pytest.approx(counted.ratio)
        assert r.timing.batch == r.batch and r.timing.ratio > 0
    assert clock_markdown(rows).count("\n") == 4
