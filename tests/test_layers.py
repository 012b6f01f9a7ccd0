"""Each layer kind on its own: its counted scalar rule, its array rule and its closed form
count the same ops into the same buckets, and its plain-numpy reference computes the
value the counted rule computes.

A new layer kind adds a case to ``LAYER_CASES`` (a layer, its parameters and an input).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from conftest import Buckets, buckets

from cheapgrad.core.counter import Counter
from cheapgrad.core.number import Num, const, var
from cheapgrad.models.activations import ACTIVATIONS, custom
from cheapgrad.models.layers import ActivationLayer, Dense, Layer, SquaredError, closed_form
from cheapgrad.models.mlp import Gradients, Params, init_params, network, new_gradients
from cheapgrad.models.spec import spec_from_dict

BATCH = 3
RNG = np.random.default_rng(7)

def counts_only(b: Buckets) -> dict[Any, dict[str, int]]:
    return {k: v[0] for k, v in b.items()}


def params_for(index: int, d_in: int, d_out: int, bias: bool) -> Params:
    """Parameters whose layer ``index`` is d_out × d_in (earlier layers are placeholders)."""
    W = [np.zeros((1, 1))] * (index - 1) + [RNG.standard_normal((d_out, d_in))]
    b = [np.zeros(1)] * (index - 1) + [RNG.standard_normal(d_out)] if bias else None
    return Params(W, b, np.zeros((BATCH, d_in)), np.zeros((BATCH, 1)))


def no_params(index: int) -> Params:
    return Params([np.zeros((1, 1))] * index, None, np.zeros((1, 1)), np.zeros((1, 1)))


# (id, layer, params, input d × B, whether the input depends on the weights)
LAYER_CASES: list[tuple[str, Layer, Params, np.ndarray, bool]] = [
    ("dense-data", Dense(1, 4, 3, bias=False), params_for(1, 4, 3, False),
     RNG.standard_normal((4, BATCH)), False),
    ("dense-hidden-bias", Dense(2, 5, 2, bias=True), params_for(2, 5, 2, True),
     RNG.standard_normal((5, BATCH)), True),
    ("dense-1x1", Dense(2, 1, 1, bias=True), params_for(2, 1, 1, True),
     RNG.standard_normal((1, BATCH)), True),
] + [
    (f"activation-{name}", ActivationLayer(2, act, 4), no_params(2),
     RNG.standard_normal((4, BATCH)), True)
    for name, act in [*ACTIVATIONS.items(), ("custom", custom(3, 5))]
]


def run_scalar(layer: Layer, params: Params, z_in: np.ndarray, dep: bool,
               delta_in: np.ndarray, propagate: bool
               ) -> tuple[Counter, np.ndarray, np.ndarray | None, Gradients]:
    counter = Counter()
    wrap = var if dep else const
    state = layer.scalar_state(params)
    outs, caches = [], []
    for e in range(z_in.shape[1]):
        out, cache = layer.scalar_forward(state, list(map(wrap, z_in[:, e].tolist())), counter)
        outs.append(out)
        caches.append(cache)
    grads = new_gradients(params)
    delta = [list(map(var, col)) for col in delta_in.T.tolist()]  # δ depends on the weights
    back = layer.scalar_backward(state, caches, delta, counter, grads, propagate)
    values = np.array([[v.v for v in out] for out in outs]).T
    back_values = np.array([[v.v for v in d] for d in back]).T if propagate else None
    return counter, values, back_values, grads


def run_array(layer: Layer, params: Params, z_in: np.ndarray, dep: bool,
              delta_in: np.ndarray, propagate: bool
              ) -> tuple[Counter, np.ndarray, np.ndarray | None, Gradients]:
    counter = Counter()
    out, _, cache = layer.array_forward(params, z_in.copy(), z_in.size if dep else 0, counter)
    grads = new_gradients(params)
    back = layer.array_backward(params, cache, delta_in.copy(), counter, grads, propagate)
    return counter, out, back if propagate else None, grads


@pytest.mark.parametrize("propagate", [True, False])
@pytest.mark.parametrize(("layer", "params", "z_in", "dep"),
                         [c[1:] for c in LAYER_CASES], ids=[c[0] for c in LAYER_CASES])
def test_scalar_rule_array_rule_and_closed_form_agree(
        layer: Layer, params: Params, z_in: np.ndarray, dep: bool, propagate: bool) -> None:
    d_out = layer.reference(params, z_in).shape[0]
    delta = RNG.standard_normal((d_out, BATCH))
    c_scalar, out_s, back_s, grads_s = run_scalar(layer, params, z_in, dep, delta, propagate)
    c_array, out_a, back_a, grads_a = run_array(layer, params, z_in, dep, delta, propagate)

    # Counts and nonscalar tallies, bucket by bucket, in the same order.
    assert buckets(c_array) == buckets(c_scalar)
    assert list(c_array.buckets) == list(c_scalar.buckets)
    expected = closed_form_of(layer, propagate)
    assert counts_only(buckets(c_scalar)) == expected
    assert list(counts_only(buckets(c_scalar))) == list(expected)

    # Values: the reference equals the counted forward; both rules agree going backward.
    np.testing.assert_allclose(layer.reference(params, z_in), out_s, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(out_a, out_s, rtol=1e-13, atol=1e-15)
    if propagate:
        assert back_s is not None and back_a is not None
        np.testing.assert_allclose(back_a, back_s, rtol=1e-12, atol=1e-14)
    for g_s, g_a in zip(grads_s.W, grads_a.W, strict=True):
        np.testing.assert_allclose(g_a, g_s, rtol=1e-12, atol=1e-14)


def closed_form_of(layer: Layer, propagate: bool) -> dict[Any, dict[str, int]]:
    out: dict[Any, dict[str, int]] = {}
    for key, kind, n in [*layer.forward_counts(BATCH),
                         *layer.backward_counts(BATCH, propagate)]:
        if n:
            out.setdefault(key, {})
            out[key][kind] = out[key].get(kind, 0) + n
    return out


@pytest.mark.parametrize(("layer", "params", "z_in"), [c[1:4] for c in LAYER_CASES],
                         ids=[c[0] for c in LAYER_CASES])
def test_reference_along_a_direction(layer: Layer, params: Params, z_in: np.ndarray) -> None:
    theta = np.concatenate([w.ravel() for w in params.W] + [b.ravel() for b in params.b or []])
    v = RNG.standard_normal(theta.size)
    step = params.with_flat(v)
    fixed = layer.reference_along_fixed(params, step, z_in)
    for t in (0.0, 0.3, -1e-3, 1e-20j):
        moved = params.with_flat(theta + t * v)
        expected = layer.reference(moved, z_in)
        np.testing.assert_allclose(layer.reference_along(params, step, z_in, t), expected,
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(fixed(t), expected, rtol=1e-12, atol=1e-14)


def test_the_loss_alone() -> None:
    loss = SquaredError(2, 3)
    yhat = RNG.standard_normal((3, BATCH))
    y = RNG.standard_normal((3, BATCH))
    c_scalar, c_array = Counter(), Counter()
    yhat_s = [list(map(var, col)) for col in yhat.T.tolist()]
    y_s = [list(map(const, col)) for col in y.T.tolist()]
    value: Num = loss.scalar_forward(yhat_s, y_s, c_scalar)
    seed = loss.scalar_seed(yhat_s, y_s, c_scalar)
    value_a = loss.array_forward(yhat, y, c_array)
    seed_a = loss.array_seed(yhat, y, c_array)

    assert buckets(c_array) == buckets(c_scalar)
    assert list(c_array.buckets) == list(c_scalar.buckets)
    expected: dict[Any, dict[str, int]] = {}
    for key, kind, n in [*loss.forward_counts(BATCH), *loss.seed_counts(BATCH)]:
        expected.setdefault(key, {})[kind] = n
    assert counts_only(buckets(c_scalar)) == expected
    assert value.v == pytest.approx(float(loss.reference(y, yhat)), rel=1e-14)
    assert value_a == pytest.approx(value.v, rel=1e-13)
    np.testing.assert_allclose(seed_a, np.array([[s.v for s in e] for e in seed]).T)
    assert complex(loss.reference(y, yhat + 1e-20j)).imag == pytest.approx(
        1e-20 * float(np.sum(yhat - y)), rel=1e-12)


@pytest.mark.parametrize("data", [
    {"input_dim": 3, "hidden": [4, 2], "activation": ["tanh", "identity"], "batch": 2,
     "bias": True, "outputs": 2},
    {"input_dim": 2, "hidden": [], "activation": "relu"},
])
def test_the_closed_form_lists_buckets_in_the_order_the_engines_use_them(
        data: dict[str, Any]) -> None:
    from cheapgrad.engines.array import array_engine
    from cheapgrad.engines.scalar import scalar_engine

    spec = spec_from_dict(data)
    pred = closed_form(network(spec), spec.batch)
    for engine in (scalar_engine, array_engine):
        counter = Counter()
        engine(spec, init_params(spec), counter)
        assert list(counts_only(buckets(counter))) == list(pred)
