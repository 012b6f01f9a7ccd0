"""The array engine counts exactly what the scalar engine counts; auto picks by size."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from conftest import buckets

from cheapgrad.analysis.gradcheck import check_gradient
from cheapgrad.analysis.run import estimated_seconds, run
from cheapgrad.analysis.theory import predict, predicted_total
from cheapgrad.cli.app import main
from cheapgrad.core.counter import Counter, count
from cheapgrad.core.number import var
from cheapgrad.engines import (
    AUTO_SCALAR_MAX_OPS,
    DEFAULT_ENGINE,
    ENGINES,
    EngineError,
    resolve_engine,
)
from cheapgrad.engines.array import array_engine
from cheapgrad.engines.scalar import scalar_engine
from cheapgrad.errors import DomainError, TooLargeError
from cheapgrad.models.activations import ACTIVATIONS, Activation
from cheapgrad.models.mlp import Params, init_params, numpy_loss, numpy_loss_along
from cheapgrad.models.spec import Spec, spec_from_dict


def both(spec: Spec, params: Params | None = None) -> tuple[Counter, Counter, Any, Any]:
    params = params or init_params(spec)
    c_scalar, c_array = Counter(), Counter()
    out_scalar = scalar_engine(spec, params, c_scalar)
    out_array = array_engine(spec, params, c_array)
    return c_scalar, c_array, out_scalar, out_array


SPECS = [
    {"input_dim": 4, "hidden": [8, 8], "activation": "tanh"},
    {"input_dim": 3, "hidden": [5, 4, 3], "activation": ["tanh", "relu", "square"],
     "outputs": 2, "batch": 4, "seed": 4},
    {"input_dim": 5, "hidden": [6, 6, 6], "activation": "sigmoid", "outputs": 2,
     "bias": True, "batch": 3},
    {"input_dim": 5, "hidden": [], "activation": "tanh", "outputs": 3, "bias": True,
     "batch": 2},
    {"input_dim": 6, "hidden": [7, 3], "activation": ["identity", "relu"], "outputs": 3,
     "bias": True, "batch": 5},
    {"input_dim": 1, "hidden": [1], "activation": "relu", "batch": 1, "seed": 2},
]


@pytest.mark.parametrize("data", SPECS)
def test_array_counts_equal_scalar_counts_bucket_by_bucket(data: dict[str, Any]) -> None:
    spec = spec_from_dict(data)
    c_scalar, c_array, out_scalar, out_array = both(spec)
    assert buckets(c_array) == buckets(c_scalar)
    assert list(c_array.buckets) == list(c_scalar.buckets)
    assert out_array.loss == pytest.approx(out_scalar.loss, rel=1e-12, abs=1e-14)
    np.testing.assert_allclose(out_array.yhat, out_scalar.yhat, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(out_array.grads.flat(), out_scalar.grads.flat(),
                               rtol=1e-11, atol=1e-13)


def test_relu_zero_branch_makes_products_scalar() -> None:
    # With all-negative pre-activations relu returns constants, so the next layer's
    # products w*z are not nonscalar; the array engine must see that element by element.
    spec = spec_from_dict({"input_dim": 2, "hidden": [3, 2], "activation": "relu"})
    params = init_params(spec)
    params.W[0][:] = -np.abs(params.W[0]) * np.sign(params.x[0])[None, :]
    c_scalar, c_array, _, _ = both(spec, params)
    assert buckets(c_array) == buckets(c_scalar)
    assert c_array.totals("forward", 2).nonscalar["mul"] == 0
    assert c_array.totals("backward", 2, "grad").nonscalar["mul"] == 0


def test_array_counts_equal_the_closed_form_on_a_million_weights() -> None:
    spec = spec_from_dict({"input_dim": 500, "hidden": [1000, 500], "activation": "sigmoid",
                           "outputs": 3, "bias": True, "batch": 3})
    assert spec.parameters > 1_000_000
    counter = Counter()
    out = array_engine(spec, init_params(spec), counter)
    measured = {k: v[0] for k, v in buckets(counter).items()}
    assert measured == predict(spec)
    assert out.grads.W[0].shape == (1000, 500)


def test_a_new_activation_is_counted_from_its_declared_costs(
        monkeypatch: pytest.MonkeyPatch) -> None:
    cube = Activation(
        "cube", lambda a: a * a * a, lambda a, z: 3.0 * (a * a),
        {"mul": 2}, {"mul": 2},
        lambda a: a * a * a, lambda a, z: 3.0 * (a * a),
    )
    monkeypatch.setitem(ACTIVATIONS, "cube", cube)
    spec = spec_from_dict({"input_dim": 3, "hidden": [4, 2], "activation": "cube",
                           "batch": 2})
    c_scalar, c_array, out_scalar, out_array = both(spec)
    assert buckets(c_array) == buckets(c_scalar)
    assert c_array.totals("forward", 1, "activation").nonscalar["mul"] == 2 * 4 * 2
    np.testing.assert_allclose(out_array.grads.flat(), out_scalar.grads.flat(), rtol=1e-11)


def test_overflow_is_a_domain_error_in_both_engines() -> None:
    spec = spec_from_dict({"input_dim": 2, "hidden": [2], "activation": "sigmoid"})
    params = init_params(spec)
    params.x[:] = 1.0
    params.W[0][:] = -1000.0
    with pytest.raises(DomainError):
        scalar_engine(spec, params, Counter())
    with pytest.raises(DomainError):
        array_engine(spec, params, Counter())


def test_auto_resolves_by_the_documented_size() -> None:
    assert DEFAULT_ENGINE == "auto"
    assert resolve_engine("auto", AUTO_SCALAR_MAX_OPS) == "scalar"
    assert resolve_engine("auto", AUTO_SCALAR_MAX_OPS + 1) == "array"
    assert resolve_engine("scalar", 10**9) == "scalar"
    with pytest.raises(EngineError, match="unknown engine 'gpu'"):
        resolve_engine("gpu", 1)
    assert set(ENGINES) == {"scalar", "array", "auto"}
    assert estimated_seconds("auto", 10**8) < estimated_seconds("scalar", 10**8)


def test_run_reports_the_engine_that_ran() -> None:
    small = spec_from_dict({"input_dim": 4, "hidden": [8], "activation": "tanh"})
    big = spec_from_dict({"input_dim": 128, "hidden": [128, 128], "activation": "tanh"})
    assert predicted_total(predict(big)) > AUTO_SCALAR_MAX_OPS
    r_small = run(small)
    assert (r_small.engine, r_small.requested_engine) == ("scalar", "auto")
    assert r_small.engine_label == "scalar (auto)"
    r_big = run(big)
    assert (r_big.engine, r_big.engine_label) == ("array", "array (auto)")
    assert r_big.passed and r_big.counts_match
    r_array = run(small, "array")
    assert r_array.engine_label == "array" and r_array.passed
    assert r_array.cost_f_and_grad == r_small.cost_f_and_grad


def test_limits_apply_to_the_engine_that_runs() -> None:
    small = spec_from_dict({"input_dim": 64, "hidden": [64, 64], "activation": "tanh"})
    with pytest.raises(TooLargeError, match="scalar engine's limit of 1,000;"):
        run(small, "auto", max_ops=1000)
    big = spec_from_dict({"input_dim": 256, "hidden": [256, 256], "activation": "tanh"})
    with pytest.raises(TooLargeError, match="array engine's limit of 1,000;"):
        run(big, "auto", max_ops=1000)
    assert ENGINES["array"].default_max_ops > ENGINES["scalar"].default_max_ops


def test_counter_scope_nests_and_restores_after_errors() -> None:
    counter = Counter()
    x = var(2.0)
    with counter.scope("outer"):
        _ = x * x
        with pytest.raises(RuntimeError), counter.scope("inner"):
            _ = x + x
            raise RuntimeError
        _ = x * x
        count("add", 5)
    _ = x * x  # outside any scope: not counted
    assert counter.totals("outer").nonzero() == {"add": 5, "mul": 2}
    assert counter.totals("outer").nonscalar["mul"] == 2
    assert counter.totals("inner").nonzero() == {"add": 1}


@pytest.mark.parametrize("engine", ["array", "auto", "scalar"])
def test_cli_run_engine_option(cli: Any, engine: str) -> None:
    res = cli.invoke(main, ["run", "mixed", "--engine", engine, "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["engine"] == ("array" if engine == "array" else "scalar")
    assert doc["counts_match_prediction"] is True


def test_cli_run_rejects_an_unknown_engine(cli: Any) -> None:
    res = cli.invoke(main, ["run", "--engine", "gpu"])
    assert res.exit_code == 2


@pytest.mark.parametrize("data", SPECS[1:4])
def test_loss_along_a_direction_equals_the_loss_at_the_moved_point(data: dict[str, Any]) -> None:
    spec = spec_from_dict(data)
    params = init_params(spec)
    theta = params.flat()
    v = np.random.default_rng(1).standard_normal(theta.size)
    along = numpy_loss_along(spec, params, v)
    for t in (0.0, 1e-3, -0.2):
        expected = numpy_loss(spec, params.with_flat(theta + t * v))
        assert along(t) == pytest.approx(expected, rel=1e-12, abs=1e-14)


def test_directional_check_on_the_line_accepts_right_and_rejects_wrong_gradients() -> None:
    spec = spec_from_dict({"input_dim": 20, "hidden": [30, 20], "activation": "sigmoid",
                           "bias": True, "batch": 2, "outputs": 2})
    params = init_params(spec)
    out = array_engine(spec, params, Counter())
    theta, grad = params.flat(), out.grads.flat()

    def f(t: np.ndarray) -> float:
        return numpy_loss(spec, params.with_flat(t))

    def line(v: np.ndarray) -> Any:
        return numpy_loss_along(spec, params, v)

    good = check_gradient(f, theta, grad, method="directional", line=line)
    assert good.passed and good.max_rel_error < 1e-8
    assert good.evaluations > 8
    wrong = grad.copy()
    wrong[: grad.size // 2] *= 1.01
    bad = check_gradient(f, theta, wrong, method="directional", line=line)
    assert not bad.passed
