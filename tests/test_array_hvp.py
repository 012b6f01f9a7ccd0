"""Forward over reverse on counted arrays (core/array_hvp.py): the same H·v and the same
counts, phase by phase and kind by kind (nonscalar tallies included), as the scalar
engine's forward-over-reverse HVP of the same numpy program."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_array_property import inputs, program, step

from cheapgrad.analysis.derivatives import program_function
from cheapgrad.analysis.second_order import hvp, phase_counts
from cheapgrad.core.array import CArray
from cheapgrad.core.array_hvp import tangent_of_sweep
from cheapgrad.core.array_masks import tracing
from cheapgrad.core.array_sweep import backward
from cheapgrad.core.counter import Counter, OpCounts


def _by_phase(phases: dict[str, OpCounts]) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
    return {p: (o.nonzero(), dict(o.nonscalar)) for p, o in phases.items()}


def array_fwd_rev(f: Any, arrays: dict[str, np.ndarray], v: np.ndarray
                  ) -> tuple[np.ndarray, dict[str, Any]]:
    c = Counter()
    xs = [CArray(a, dep=True) for a in arrays.values()]
    with tracing(), c.scope("forward"):
        y = f(*xs)
    backward(y, xs, c)
    dirs, i = [], 0
    for a in arrays.values():
        dirs.append(v[i:i + a.size].reshape(a.shape))
        i += a.size
    t = tangent_of_sweep(y, xs, dirs, c)
    return np.concatenate([tv.ravel() for tv, _ in t]), _by_phase(phase_counts(c))


def scalar_fwd_rev(f: Any, arrays: dict[str, np.ndarray], v: np.ndarray
                   ) -> tuple[np.ndarray, dict[str, Any]]:
    x = np.concatenate([a.ravel() for a in arrays.values()])
    r = hvp(program_function(f, arrays), x, v)
    return r.hvp, _by_phase(r.phases)


def test_a_matrix_product_counts_what_the_scalar_engine_counts() -> None:
    a = np.arange(1.0, 13.0).reshape(3, 4) / 10

    def f(x: Any) -> Any:
        return np.tanh(a @ x).sum()

    arrays = {"x": np.linspace(0.1, 0.5, 4)}
    got, counts = array_fwd_rev(f, arrays, np.ones(4))
    want, ref = scalar_fwd_rev(f, arrays, np.ones(4))
    assert np.allclose(got, want, rtol=1e-12) and counts == ref
    # per term one mul per tangent, the accumulation m − 1 adds per input: 2mn + 5m muls
    assert counts["tangent"][0] == {"add": 20, "mul": 39, "neg": 3, "sub": 3}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=5), st.integers(0, 2**32 - 1),
       st.sampled_from(["random", "one-hot", "sparse"]))
def test_random_programs_count_the_same_hvp_on_both_engines(
        steps: list[tuple[Any, ...]], seed: int, direction: str) -> None:
    rng = np.random.default_rng(seed)
    arrays = inputs(rng)
    v = {"random": rng.normal(size=15), "one-hot": np.eye(15)[seed % 15],
         "sparse": rng.normal(size=15) * (rng.random(15) < 0.4)}[direction]
    f = program(steps)
    got, counts = array_fwd_rev(f, arrays, v)
    want, ref = scalar_fwd_rev(f, arrays, v)
    assert counts == ref
    assert np.allclose(got, want, rtol=1e-8, atol=1e-10)


def test_the_api_runs_hvp_and_hessian_on_the_array_engine() -> None:
    import cheapgrad

    def f(w: Any) -> Any:
        return (np.tanh(w @ w.T) * w[:, :1]).sum()

    x = np.random.default_rng(3).normal(size=(3, 2))
    v = np.random.default_rng(4).normal(size=6)
    a = cheapgrad.hvp(f, engine="array")(x, v)
    s = cheapgrad.hvp(f, engine="scalar", modes=("fwd-rev",))(x, v)
    assert a.passed and [m.mode for m in a.results] == ["fwd-rev"]
    assert a.route == "complex step"
    assert _by_phase(a.results[0].phases) == _by_phase(s.results[0].phases)
    assert (a.results[0].cost_f, a.results[0].cost_f_and_grad) == (
        s.results[0].cost_f, s.results[0].cost_f_and_grad)
    np.testing.assert_allclose(a.hvp, s.hvp, rtol=1e-12)
    ha = cheapgrad.hessian(f, engine="array")(x)
    hs = cheapgrad.hessian(f, engine="scalar")(x)
    assert ha.passed and ha.colored.colors == hs.colored.colors
    for mine, ref in ((ha.colored, hs.colored), (ha.dense, hs.dense)):
        assert _by_phase(mine.phases) == _by_phase(ref.phases)
    np.testing.assert_allclose(ha.matrix, hs.matrix, rtol=1e-10, atol=1e-12)  # BLAS order


def test_the_array_engine_refuses_the_other_hvp_modes_in_one_line() -> None:
    import cheapgrad
    from cheapgrad.errors import CheapgradError

    for mode in ("rev-fwd", "rev-rev"):
        try:
            cheapgrad.hvp(lambda w: (w * w).sum(), engine="array", modes=(mode,))(np.ones(2))
        except CheapgradError as e:
            assert "scalar engine" in str(e) and "\n" not in str(e)
        else:
            raise AssertionError(mode)
    try:
        cheapgrad.hvp(lambda w: w * w, engine="array")(np.ones(2))
    except CheapgradError as e:
        assert "one scalar" in str(e)
    else:
        raise AssertionError("an array output")
