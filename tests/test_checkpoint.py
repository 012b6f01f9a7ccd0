"""Checkpointing: the binomial numbers, the schedules run on counted chains, the
gradients bit for bit, the memory bound."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from conftest import mlp_spec_names
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cheapgrad.analysis.checkpoint import (
    checkpoint,
    default_strategies,
    estimated_ops,
    run_strategies,
)
from cheapgrad.analysis.checkpoint.binomial import beta, split, untaped, untaped_recursive
from cheapgrad.analysis.checkpoint.chain import Chain
from cheapgrad.analysis.checkpoint.execute import execute, forward_only
from cheapgrad.analysis.checkpoint.mlp import mlp_chain
from cheapgrad.analysis.checkpoint.schedules import (
    ScheduleError,
    Strategy,
    actions,
    parse_strategy,
    predicted_untaped,
)
from cheapgrad.core.counter import Counter
from cheapgrad.core.number import Num, const
from cheapgrad.engines.scalar import scalar_engine
from cheapgrad.errors import TooLargeError
from cheapgrad.models.bundled import load_config
from cheapgrad.models.mlp import init_params
from cheapgrad.models.spec import spec_from_dict

L_MAX, S_MAX = 200, 10


class ScaleStep:
    """x ↦ c·x + 1 on one counted number; its gradient is dℓ/dc."""

    __slots__ = ("name", "c", "grad")

    def __init__(self, c: float, grad: list[float], i: int) -> None:
        self.name = f"step {i}"
        self.c = const(c)
        self.grad = grad

    def run(self, state: list[Num], counter: Counter, tape: bool) -> tuple[Any, Any]:
        # no counting scope: the executor counts the evaluations, and this test runs
        # about a million of them
        return [self.c * state[0] + 1.0], (state if tape else None)

    def reverse(self, record: Any, adjoint: Any, counter: Counter) -> Any:
        g = const(1.0) if adjoint is None else adjoint[0]
        with counter.scope("backward"):
            self.grad.append((g * record[0]).v)
            return [g * self.c]


def toy_chain(steps: int) -> Chain:
    grad: list[float] = []
    chain_steps: list[Any] = [ScaleStep(1.0 + 0.01 * i, grad, i) for i in range(steps)]

    def gradient() -> np.ndarray:
        out = np.array(grad[::-1])
        grad.clear()
        return out

    return Chain("toy", [const(0.5)], chain_steps, gradient)


# --- the binomial numbers --------------------------------------------------------------


def test_reference_values() -> None:
    assert (untaped(100, 5), untaped(100, 10), untaped(1000, 10)) == (316, 222, 3636)
    assert [untaped(n, 1) for n in range(1, 11)] == [0, 1, 3, 6, 10, 15, 21, 28, 36, 45]
    assert [untaped(n, 2) for n in range(1, 11)] == [0, 1, 2, 4, 6, 8, 11, 14, 17, 20]
    assert [untaped(n, 3) for n in range(1, 11)] == [0, 1, 2, 3, 5, 7, 9, 11, 13, 15]


def test_formula_equals_the_recursion() -> None:
    table = untaped_recursive(L_MAX, S_MAX)
    for s in range(1, S_MAX + 1):
        for n in range(1, L_MAX + 1):
            assert untaped(n, s) == table[s][n], (n, s)
            if s >= n - 1:
                assert untaped(n, s) == n - 1


def test_beta_is_the_reach() -> None:
    # β(s, r) steps need r repetitions, one more step needs r + 1
    for s in range(1, 6):
        for r in range(0, 6):
            assert untaped(beta(s, r), s) <= r * beta(s, r)
            assert split(beta(s, r) + 1, s) >= 1


# --- the schedules, run ----------------------------------------------------------------


def test_revolve_runs_t_untaped_evaluations_for_every_l_and_s() -> None:
    """The schedule run on a chain of counted steps, its untaped evaluations counted, for
    every l ≤ 200 and S ≤ 10; S = 1 (recompute-all's l(l − 1)/2, 1.3 million evaluations
    up to 200) runs up to l = 100 and is counted from the schedule's actions above."""
    for n in range(1, L_MAX + 1):
        chain = toy_chain(n)
        reference = None
        for s in range(1, S_MAX + 1):
            if s == 1 and n > 100:
                acts = list(actions(Strategy("revolve", 1), n))
                assert sum(kind == "advance" for kind, _ in acts) == untaped(n, 1)
                continue
            r = execute(chain, Strategy("revolve", s))
            assert (r.untaped, r.taped) == (untaped(n, s), n), (n, s)
            assert r.snapshots <= s
            if reference is None:
                reference = r.gradient
            else:
                assert np.array_equal(r.gradient, reference)


def test_segments_run_pytorch_evaluations() -> None:
    for n in range(1, 40):
        chain = toy_chain(n)
        for k in range(1, n + 1):
            r = execute(chain, Strategy("segments", k))
            assert r.evaluations == n + (k - 1) * (n // k), (n, k)
            assert r.untaped == predicted_untaped(Strategy("segments", k), n)
            assert r.snapshots == k - 1


def test_sqrt_is_ceil_sqrt_segments() -> None:
    for n, k in [(1, 1), (4, 2), (5, 3), (16, 4), (17, 5), (65, 9)]:
        r = execute(toy_chain(n), Strategy("sqrt"))
        assert r.untaped == (k - 1) * (n // k) and r.snapshots == k - 1


def test_recompute_all_keeps_only_the_input() -> None:
    r = execute(toy_chain(12), Strategy("recompute-all"))
    assert (r.untaped, r.snapshots) == (66, 1)


def test_every_schedule_visits_each_step_taped_once() -> None:
    for name in ["store-all", "recompute-all", "sqrt", "segments:3", "revolve:3"]:
        acts = list(actions(parse_strategy(name, 10), 10))
        assert sorted(i for kind, i in acts if kind == "tape") == list(range(10))
        assert [i for kind, i in acts if kind == "reverse"] == list(range(9, -1, -1))


# --- on MLPs ---------------------------------------------------------------------------


SPECS = [n for n in mlp_spec_names() if n != "sweep"]


@pytest.mark.parametrize("name", SPECS)
def test_every_strategy_gives_the_store_all_gradient_bit_for_bit(name: str) -> None:
    spec = load_config(name)
    steps = len(spec.widths) - 1
    numbers = sorted({1, 2, 3, steps // 2 or 1, steps})
    result = checkpoint(spec, default_strategies(steps, numbers))
    assert result.all_identical
    for row in result.rows:
        assert row.run.taped == steps
        assert row.untaped == predicted_untaped(parse_strategy(row.strategy, steps), steps)


@pytest.mark.parametrize("name", SPECS)
def test_store_all_is_the_scalar_engine(name: str) -> None:
    """The chain's store-all run is the scalar engine's backprop: the same gradient bit
    for bit, the same loss, the same op count."""
    spec = load_config(name)
    params = init_params(spec)
    counter = Counter()
    out = scalar_engine(spec, params, counter)
    run = execute(mlp_chain(spec, params), Strategy("store-all"))
    assert np.array_equal(run.gradient, out.grads.flat())
    assert run.loss == out.loss
    assert run.cost == counter.totals().total
    cost_f, _ = forward_only(mlp_chain(spec, params))
    assert cost_f.total == counter.totals("forward").total + counter.totals("loss").total


@pytest.mark.parametrize("name", SPECS)
def test_revolve_memory_within_s_snapshots_and_one_tape(name: str) -> None:
    """For every S from 1 to l (deep-64: S = 2, 3, 5, 8, 16, 64, 65)."""
    spec = load_config(name)
    chain = mlp_chain(spec)
    steps = len(chain)
    numbers = list(range(1, steps + 1)) if steps <= 20 else [2, 3, 5, 8, 16, 64, 65]
    result = run_strategies(chain, spec, [Strategy("revolve", s) for s in numbers])
    store_all = execute(chain, Strategy("store-all")).peak_values
    for s, row in zip(numbers, result.rows, strict=True):
        assert row.run.peak_values <= result.memory_bound(s), (s, row.run.peak_values)
        assert row.run.peak_values <= store_all
        assert row.run.snapshots <= s
        assert row.bound == untaped(steps, row.run.snapshots) == row.untaped


def test_ratio_and_costs() -> None:
    spec = load_config("deep-narrow")
    r = checkpoint(spec, ["store-all", "recompute-all", "revolve:3"])
    store_all, recompute, revolve = r.rows
    assert store_all.ratio < revolve.ratio < recompute.ratio
    # every extra op is an untaped step evaluation: the same ops as the forward pass's
    assert recompute.run.counts["untaped"].total > 0
    assert store_all.run.counts["taped"].total == r.cost_f
    assert recompute.run.peak_values < store_all.run.peak_values
    assert r.forward_peak < store_all.run.peak_values


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("revolve:0", "revolve:0: S must be at least 1"),
    ("segments:0", "segments:0: K must be at least 1"),
    ("segments:14", "K = 14 segments is more than the chain's 13 steps"),
    ("revolve:x", "'revolve' needs a whole number S"),
    ("revolv:2", "unknown checkpointing strategy 'revolv:2' (did you mean 'revolve'?)"),
    ("sqrt:2", "'sqrt' takes no number"),
])
def test_bad_strategies(text: str, message: str) -> None:
    with pytest.raises(ScheduleError, match=re.escape(message)):
        parse_strategy(text, 13)


def test_too_large_is_refused_with_an_estimate() -> None:
    spec = spec_from_dict({"input_dim": 64, "hidden": [64] * 100, "activation": "tanh"})
    assert estimated_ops(spec, Strategy("recompute-all")) > 30_000_000
    with pytest.raises(TooLargeError, match=r"recompute-all alone [\d,]+.*--max-ops"):
        checkpoint(spec, ["recompute-all"])
    with pytest.raises(TooLargeError):
        checkpoint(load_config("lecture"), ["revolve:1"], max_ops=100)


# --- property: random nets, random strategies -----------------------------------------


@st.composite
def nets_and_strategies(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    depth = draw(st.integers(0, 7))
    spec = {
        "input_dim": draw(st.integers(1, 4)),
        "hidden": draw(st.lists(st.integers(1, 4), min_size=depth, max_size=depth)),
        "activation": draw(st.lists(st.sampled_from(["tanh", "relu", "sigmoid", "identity"]),
                                    min_size=depth, max_size=depth)),
        "outputs": draw(st.integers(1, 3)),
        "bias": draw(st.booleans()),
        "batch": draw(st.integers(1, 3)),
        "seed": draw(st.integers(0, 2**16)),
    }
    steps = depth + 1
    k = draw(st.integers(1, steps))
    s = draw(st.integers(1, steps + 2))
    return spec, ["recompute-all", "sqrt", f"segments:{k}", f"revolve:{s}"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(nets_and_strategies())
# the loss step's output (the loss) is held beside its tape: the bound counts it
@example(({"input_dim": 1, "hidden": [1], "activation": ["tanh"], "outputs": 2,
           "bias": False, "batch": 1, "seed": 0}, ["revolve:1"]))
def test_random_nets_every_strategy_is_store_all_bit_for_bit(
        case: tuple[dict[str, Any], list[str]]) -> None:
    data, strategies = case
    spec = spec_from_dict(data)
    params = init_params(spec)
    counter = Counter()
    out = scalar_engine(spec, params, counter)
    chain = mlp_chain(spec, params)
    steps = len(chain)
    result = run_strategies(chain, spec, [parse_strategy(s, steps) for s in strategies])
    assert result.all_identical
    assert result.store_all_peak == out.memory["tape"]
    store_all = execute(chain, Strategy("store-all"))
    assert np.array_equal(store_all.gradient, out.grads.flat())
    for row in result.rows:
        strategy = parse_strategy(row.strategy, steps)
        assert row.run.untaped == predicted_untaped(strategy, steps)
        assert row.run.taped == steps
        # every extra op is a step evaluation: ops grow by exactly the untaped steps' ops
        assert row.run.counts["reverse"].total == store_all.counts["reverse"].total
        if strategy.kind == "revolve":
            assert row.run.peak_values <= result.memory_bound(strategy.number or 1)
