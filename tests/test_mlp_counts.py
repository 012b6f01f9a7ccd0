"""Exact counts of the lecture's forward pass and backprop, derived by hand.

Each expected number below was worked out on paper from the conventions in the README
(not from cheapgrad.analysis.theory); the closed form is tested against the measured counts
separately, over many specs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cheapgrad.analysis.run import run
from cheapgrad.analysis.theory import predict, predicted_cost
from cheapgrad.models.spec import spec_from_dict


def spec(**kw: Any):  # type: ignore[no-untyped-def]
    return spec_from_dict(kw)


def phases(r) -> dict[str, dict[str, int]]:  # type: ignore[no-untyped-def]
    return {p: c.nonzero() for p, c in r.counts.items()}


def test_tanh_2_3_1_no_bias():
    # forward: layer 1 = 6 mul, 3 add, 3 tanh; layer 2 = 3 mul, 2 add
    # loss: r = y - ŷ (sub), r*r (mul), ½·(mul)
    # backward: δ out (sub); grad W2: 3 mul; δ1: Σ has one term: 3 mul, then
    # h' = 1 - z·z (3 mul, 3 sub) and h'·Σ (3 mul); grad W1: 6 mul
    r = run(spec(input_dim=2, hidden=[3], activation="tanh"))
    assert phases(r) == {
        "forward": {"add": 5, "mul": 9, "tanh": 3},
        "loss": {"sub": 1, "mul": 2},
        "backward": {"sub": 4, "mul": 18},
    }
    assert (r.cost_f, r.cost_f_and_grad) == (20, 42)
    assert r.ratio == pytest.approx(42 / 20)
    assert r.holds and r.gradient_check.passed and r.counts_match and r.passed
    # nonscalar (Baur–Strassen): x is a constant, so layer 1's products are scalar
    assert r.counts["forward"].nonscalar == {"mul": 3, "div": 0, "pow": 0}
    assert r.counts["loss"].nonscalar == {"mul": 1, "div": 0, "pow": 0}
    assert r.counts["backward"].nonscalar == {"mul": 12, "div": 0, "pow": 0}


def test_sigmoid_2_2_2_with_bias():
    # forward: layer 1 = 4 mul, 2 add, 2 bias add, sigmoid 2×(neg exp add div);
    # layer 2 = 4 mul, 2 add, 2 bias add; loss (K=2) = 2 sub, 3 mul, 1 add
    # backward: 2 sub (δ out); grad W2 4 mul; bias grads are copies; δ1: Σ of 2
    # terms = 4 mul 2 add, h' = z(1-z) = 2 sub 2 mul, h'·Σ = 2 mul; grad W1 4 mul
    r = run(spec(input_dim=2, hidden=[2], activation="sigmoid", outputs=2, bias=True))
    assert phases(r) == {
        "forward": {"add": 10, "mul": 8, "neg": 2, "exp": 2, "div": 2},
        "loss": {"add": 1, "sub": 2, "mul": 3},
        "backward": {"add": 2, "sub": 4, "mul": 16},
    }
    assert (r.cost_f, r.cost_f_and_grad) == (30, 52)
    assert r.passed


def test_relu_3_2_2_1():
    # forward: 6 mul 4 add 2 cmp | 4 mul 2 add 2 cmp | 2 mul 1 add; loss 1 sub 2 mul
    # backward: 1 sub; W3 2 mul; δ2: 2 mul, 2 cmp, 2 mul; W2 4 mul;
    # δ1: 4 mul 2 add, 2 cmp, 2 mul; W1 6 mul
    r = run(spec(input_dim=3, hidden=[2, 2], activation="relu"))
    assert phases(r) == {
        "forward": {"add": 7, "mul": 12, "cmp": 4},
        "loss": {"sub": 1, "mul": 2},
        "backward": {"add": 2, "sub": 1, "mul": 22, "cmp": 4},
    }
    assert (r.cost_f, r.cost_f_and_grad) == (26, 55)
    assert r.passed


def test_square_1_1_1_bias_batch_2():
    # per example forward: 1 mul, 1 bias add, square 1 mul | 1 mul, 1 bias add
    # loss over B·K = 2 terms: 2 sub, 2 mul, 1 add, ½ 1 mul
    # backward: 2 sub; grad W2 = Σ_b δ z: 2 mul 1 add; bias grad b2: 1 add;
    # δ1 per example: 1 mul, h' = 2a 1 mul, h'·Σ 1 mul; grad W1: 2 mul 1 add; b1: 1 add
    r = run(spec(input_dim=1, hidden=[1], activation="square", bias=True, batch=2))
    assert phases(r) == {
        "forward": {"add": 4, "mul": 6},
        "loss": {"add": 1, "sub": 2, "mul": 3},
        "backward": {"add": 4, "sub": 2, "mul": 10},
    }
    assert (r.cost_f, r.cost_f_and_grad) == (16, 32)
    assert r.passed


def test_linear_model_three_outputs():
    # no hidden layer: 6 mul 3 add; loss K=3: 3 sub, 4 mul, 2 add; backward 3 sub, 6 mul
    r = run(spec(input_dim=2, hidden=[], activation="identity", outputs=3))
    assert phases(r) == {
        "forward": {"add": 3, "mul": 6},
        "loss": {"add": 2, "sub": 3, "mul": 4},
        "backward": {"sub": 3, "mul": 6},
    }
    assert r.ratio == pytest.approx(1.5)
    assert r.passed


def test_identity_hidden_layer_costs_nothing_and_is_not_multiplied():
    # forward 4 mul 2 add | 2 mul 1 add; loss 3; backward 1 sub, 2 + 2 + 4 mul
    r = run(spec(input_dim=2, hidden=[2], activation="identity"))
    assert phases(r)["backward"] == {"sub": 1, "mul": 8}
    assert (r.cost_f, r.cost_f_and_grad) == (12, 21)


def test_mixed_activations_per_layer():
    r = run(spec(input_dim=2, hidden=[2, 2], activation=["tanh", "relu"]))
    by_layer = {
        (p, lay): r.counter.totals(phase=p, layer=lay).nonzero()
        for p, lay in (("forward", 1), ("forward", 2), ("backward", 1), ("backward", 2))
    }
    assert by_layer[("forward", 1)] == {"add": 2, "mul": 4, "tanh": 2}
    assert by_layer[("forward", 2)] == {"add": 2, "mul": 4, "cmp": 2}
    # layer 2: grad W2 4 mul; δ2: Σ of one term 2 mul, relu' 2 cmp, 2 mul
    assert by_layer[("backward", 2)] == {"mul": 8, "cmp": 2}
    # layer 1: grad W1 4 mul; δ1: Σ of 2 terms 4 mul 2 add, tanh' 2 mul 2 sub, 2 mul
    assert by_layer[("backward", 1)] == {"add": 2, "sub": 2, "mul": 12}
    assert r.passed


@pytest.mark.parametrize("act", ["identity", "tanh", "sigmoid", "relu", "square"])
@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("shape", [(3, (4,), 1, 1), (2, (3, 5), 2, 3), (1, (2, 1, 2), 3, 2)])
def test_measured_counts_equal_the_closed_form(act, bias, shape):  # type: ignore[no-untyped-def]
    d0, hidden, k, batch = shape
    s = spec(input_dim=d0, hidden=list(hidden), activation=act, outputs=k, bias=bias,
             batch=batch, seed=7)
    r = run(s)
    assert r.counts_match, "every (phase, layer, part) bucket must equal the closed form"
    assert (r.cost_f, r.cost_f_and_grad) == predicted_cost(s)
    assert r.passed


def test_closed_form_of_the_lecture_proof_in_the_wide_limit():
    # Widths n -> ∞ with fixed input and output: forward ≈ 2P, backward ≈ P + 2P
    # (weight gradients, then Σ w δ for every layer but the first), ratio -> 2.5.
    s = spec(input_dim=4, hidden=[4000, 4000, 4000], activation="tanh")
    cost_f, cost_fg = predicted_cost(s)
    assert 2.45 < cost_fg / cost_f < 2.5
    pred = predict(s)
    assert pred[("forward", 2, "matvec")] == {"mul": 4000 * 4000, "add": 4000 * 3999}


def test_gradient_matches_numpy_backprop_exactly_enough():
    s = spec(input_dim=3, hidden=[4, 4], activation="sigmoid", outputs=2, bias=True, batch=3)
    r = run(s)
    # independent analytic gradient in numpy, written out for this one net
    p = r.params
    z0 = p.x.T
    a1 = p.W[0] @ z0 + p.b[0][:, None]
    z1 = 1 / (1 + np.exp(-a1))
    a2 = p.W[1] @ z1 + p.b[1][:, None]
    z2 = 1 / (1 + np.exp(-a2))
    a3 = p.W[2] @ z2 + p.b[2][:, None]
    d3 = a3 - p.y.T
    d2 = z2 * (1 - z2) * (p.W[2].T @ d3)
    d1 = z1 * (1 - z1) * (p.W[1].T @ d2)
    expected = [d1 @ z0.T, d2 @ z1.T, d3 @ z2.T]
    for got, want in zip(r.output.grads.W, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert r.output.grads.b is not None
    np.testing.assert_allclose(r.output.grads.b[0], d1.sum(axis=1), rtol=1e-12)
    assert r.loss == pytest.approx(0.5 * float(np.sum(d3**2)), rel=1e-12)
