"""The custom activation: declared costs, counted by the counter, and its spec forms."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import spec_error

from cheapgrad.analysis.run import run
from cheapgrad.analysis.theory import predict
from cheapgrad.core.counter import Counter
from cheapgrad.core.number import tracing, var
from cheapgrad.core.ops import OPS
from cheapgrad.core.tape import backward
from cheapgrad.engines import ENGINES
from cheapgrad.models.activations import (
    ACTIVATIONS,
    custom,
    custom_name,
    parse_custom_name,
)
from cheapgrad.models.spec import spec_from_dict, spec_from_yaml


@pytest.mark.parametrize("cost,dcost", [(1, 1), (10, 50), (3, 1)])
def test_one_evaluation_counts_the_declared_cost(cost: int, dcost: int) -> None:
    act = custom(cost, dcost)
    a = var(0.3)
    c = Counter()
    with c.scope("h"):
        z = act.forward(a)
    with c.scope("dh"):
        hp = act.derivative(a, z)
    assert c.totals("h").nonzero() == {"h": cost} and c.totals("h").total == act.cost_units
    assert c.totals("dh").nonzero() == {"dh": dcost}
    assert c.totals("dh").total == act.derivative_cost_units
    assert hp is not None
    assert z.v == pytest.approx(math.tanh(0.3)) and hp.v == pytest.approx(1 - math.tanh(0.3) ** 2)
    assert z.dep and hp.dep and act.scales_delta


def test_run_counts_equal_declared_costs_and_the_gradient_is_right() -> None:
    spec = spec_from_yaml(
        "input_dim: 2\nhidden: [3, 2]\nactivation: {name: custom, cost: 7, derivative_cost: 30}\n"
        "batch: 2\nbias: true\n")
    r = run(spec, "scalar")
    hidden_units = (3 + 2) * spec.batch
    assert r.counter.totals("forward").counts["h"] == 7 * hidden_units
    assert r.counter.totals("backward").counts["dh"] == 30 * hidden_units
    assert r.counter.totals("backward").counts["h"] == 0
    assert r.counts_match and r.gradient_check.passed and r.loss_matches
    pred = predict(spec)
    assert pred[("forward", 1, "activation")] == {"h": 7 * 3 * 2}


def test_width_one_chain_with_h_prime_five_times_h_breaks_five() -> None:
    spec = spec_from_dict({"input_dim": 1, "hidden": [1, 1], "outputs": 1,
                           "activation": {"name": "custom", "cost": 10, "derivative_cost": 50}})
    r = run(spec, "scalar")
    # cost(f) = 2N + (c − 1)n + 2K = 6 + 18 + 2; cost(f, ∇f) = ((4 + c + c')L + 6) over it.
    assert (r.cost_f, r.cost_f_and_grad) == (26, 134)
    assert not r.holds and r.gradient_check.passed


@pytest.mark.skipif("array" not in ENGINES, reason="no array engine registered")
def test_array_engine_counts_custom_like_the_scalar_engine() -> None:
    spec = spec_from_dict({"input_dim": 3, "hidden": [4, 2], "batch": 2,
                           "activation": [{"name": "custom", "cost": 4, "derivative_cost": 9},
                                          "tanh"]})
    a, s = run(spec, "array"), run(spec, "scalar")
    assert a.counter.buckets.keys() == s.counter.buckets.keys()
    for key in s.counter.buckets:
        assert a.counter.totals(*key).counts == s.counter.totals(*key).counts
    assert np.allclose(a.output.grads.flat(), s.output.grads.flat(), rtol=1e-12)


def test_traced_custom_h_differentiates_with_its_real_rule() -> None:
    act = custom(5, 25)
    x = var(0.4)
    c = Counter()
    with tracing(), c.scope("forward"):
        f = act.forward(x) * x
    (g,) = backward(f, [x], c)
    t = math.tanh(0.4)
    assert g.v == pytest.approx((1 - t * t) * 0.4 + t)
    assert OPS["h"].cost_class == "declared" and OPS["dh"].cost_class == "declared"


def test_dh_rule_is_the_derivative_of_its_forward() -> None:
    x = var(0.25)
    c = Counter()
    with tracing(), c.scope("forward"):
        from cheapgrad.core.number import apply

        y = apply(OPS["dh"], x)
    (g,) = backward(y, [x], c)
    eps = 1e-6
    fd = (OPS["dh"].forward(0.25 + eps) - OPS["dh"].forward(0.25 - eps)) / (2 * eps)
    assert g.v == pytest.approx(fd, rel=1e-7)


def test_registry_builds_custom_by_name_and_lists_only_builtins() -> None:
    before = list(ACTIVATIONS)
    act = ACTIVATIONS["custom(3,4)"]
    assert act.cost == {"h": 3} and act.derivative_cost == {"dh": 4}
    assert list(ACTIVATIONS) == before and "custom" not in before
    assert ACTIVATIONS.resolve("nope") is None
    assert parse_custom_name(custom_name(12, 1)) == (12, 1)
    for bad in ("custom", "custom(0,1)", "custom(1)", "custom(a,b)", "tanh"):
        assert parse_custom_name(bad) is None
    with pytest.raises(KeyError):
        ACTIVATIONS["custom(0,1)"]
    with pytest.raises(ValueError):
        custom(0, 1)


# --- spec forms ----------------------------------------------------------------------------


def test_mapping_forms_are_accepted_and_round_trip() -> None:
    s = spec_from_yaml(
        "input_dim: 2\nhidden: [3, 2]\nactivation:\n"
        "  - {name: custom, cost: 10, derivative_cost: 50}\n  - {name: tanh}\n")
    assert s.activations == ("custom(10,50)", "tanh")
    d = s.to_dict()
    assert d["activation"] == [{"name": "custom", "cost": 10, "derivative_cost": 50}, "tanh"]
    again = spec_from_dict(d)
    assert again.activations == s.activations
    one = spec_from_dict({"input_dim": 1, "hidden": [2, 2],
                          "activation": {"name": "custom", "cost": 2, "derivative_cost": 3}})
    assert one.activations == ("custom(2,3)",) * 2
    assert one.to_dict()["activation"] == {"name": "custom", "cost": 2, "derivative_cost": 3}


@pytest.mark.parametrize(
    "activation,expected",
    [
        ("custom", "s.yaml:3: activation: the custom activation needs declared costs"),
        ("{name: custom, cost: 10}",
         "s.yaml:3: activation: the custom activation needs 'derivative_cost'"),
        ("{name: custom, cost: 0, derivative_cost: 1}",
         "s.yaml:3: activation.cost: must be a positive integer, got 0"),
        ("{name: custom, cost: 2.5, derivative_cost: 1}",
         "s.yaml:3: activation.cost: must be an integer, got 2.5"),
        ("{name: custom, cost: 1, derivative_cots: 1}",
         "s.yaml:3: activation.derivative_cots: unknown key (did you mean 'derivative_cost'?)"),
        ("{name: tanh, cost: 3}",
         "s.yaml:3: activation.cost: only the custom activation takes a declared cost"),
        ("{name: tahn}", "s.yaml:3: activation.name: unknown activation 'tahn'"),
        ("{cost: 3}", "s.yaml:3: activation: an activation mapping needs a 'name'"),
    ],
)
def test_bad_activation_mappings_name_line_and_field(activation: str, expected: str) -> None:
    assert spec_error(f"input_dim: 2\nhidden: [3]\nactivation: {activation}\n").startswith(expected)


def test_errors_in_a_list_point_at_the_entry_line() -> None:
    text = ("input_dim: 2\nhidden: [3, 3]\nactivation:\n  - tanh\n"
            "  - name: custom\n    cost: 4\n    derivative_cost: -1\n")
    assert spec_error(text) == (
        "s.yaml:7: activation[1].derivative_cost: must be a positive integer, got -1")


def test_existing_unknown_activation_message_is_unchanged() -> None:
    assert spec_error("input_dim: 2\nhidden: [3]\nactivation: tahn\n") == (
        "s.yaml:3: activation: unknown activation 'tahn' (did you mean 'tanh'?); "
        "known: identity, tanh, sigmoid, relu, square")


def test_cost_weights_are_read_and_checked() -> None:
    s = spec_from_yaml("input_dim: 2\nhidden: [3]\nactivation: tanh\n"
                       "cost_weights: {add: 1, mul: 3, div: 10.5, exp: 0}\n")
    assert s.cost_weights == {"add": 1.0, "mul": 3.0, "div": 10.5, "exp": 0.0}
    assert s.to_dict()["cost_weights"] == s.cost_weights
    assert spec_from_yaml("input_dim: 2\nhidden: [3]\nactivation: tanh\n").cost_weights is None
    base = "input_dim: 2\nhidden: [3]\nactivation: tanh\ncost_weights:\n"
    assert spec_error(base + "  add: 1\n  mull: 3\n").startswith(
        "s.yaml:6: cost_weights.mull: unknown op kind (did you mean 'mul'?)")
    assert spec_error(base + "  add: -1\n") == (
        "s.yaml:5: cost_weights.add: must be a finite number >= 0, got -1")
    assert spec_error(base + "  add: yes\n") == (
        "s.yaml:5: cost_weights.add: must be a number >= 0, got True")
    assert spec_error(base + "  add: .nan\n").startswith("s.yaml:5: cost_weights.add: must be")
    assert spec_error("input_dim: 2\nhidden: [3]\nactivation: tanh\ncost_weights: [1]\n") == (
        "s.yaml:4: cost_weights: must be a mapping of op kind to cost, e.g. "
        "{add: 1, mul: 3, div: 10}, or the path of a weights file, got a list")
    assert "did you mean 'cost_weights'" in spec_error(
        "input_dim: 2\nhidden: [3]\nactivation: tanh\ncost_weight: {}\n")


def test_run_command_reports_the_declared_costs(tmp_path: Path, cli: CliRunner) -> None:
    from cheapgrad.cli.app import main

    path = tmp_path / "costly.yaml"
    path.write_text("input_dim: 1\nhidden: [1, 1]\n"
                    "activation: {name: custom, cost: 10, derivative_cost: 50}\n")
    r = cli.invoke(main, ["run", str(path), "--format", "json"])
    assert r.exit_code == 1  # 134/26 > 5: the bound does not hold
    data = json.loads(r.output)
    assert data["counts"]["forward"]["h"] == 20 and data["counts"]["backward"]["dh"] == 100
    assert data["ratio"] == pytest.approx(134 / 26) and data["gradient_check"]["passed"]
    assert data["spec"]["activation"] == {"name": "custom", "cost": 10, "derivative_cost": 50}
    bad = tmp_path / "bad.yaml"
    bad.write_text("input_dim: 1\nhidden: [1]\nactivation: {name: custom, cost: 1}\n")
    r = cli.invoke(main, ["run", str(bad)])
    assert r.exit_code == 2 and "bad.yaml:3: activation: the custom activation needs" in r.output
