"""Forward mode on the counted arrays: a tangent pass over a recorded array program
counts what the scalar engine's tangent pass over the same program counts, op kind by
op kind, nonscalar tallies included, with the same tangent (random programs of the
property test's generator; one-hot, dense and random directions)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_array_property import N, inputs, program, step

from cheapgrad.analysis import program_forward
from cheapgrad.analysis.program import run_program
from cheapgrad.core import array_forward
from cheapgrad.core.array import CArray
from cheapgrad.core.array_masks import tracing
from cheapgrad.core.counter import Counter
from cheapgrad.core.tape import DifferentiationError


def _both(f: Any, arrays: dict[str, np.ndarray], direction: np.ndarray,
          dense: bool = False) -> None:
    found = {}
    for engine in ("array", "scalar"):
        out, _, seeds = program_forward.record(f, arrays, engine)
        c = Counter()
        t = program_forward.tangents(out, seeds, direction, arrays, engine, c, dense=dense)
        found[engine] = (c.totals(), t)
    (ca, ta), (cs, ts) = found["array"], found["scalar"]
    assert ca == cs
    np.testing.assert_allclose(ta, ts, rtol=1e-11, atol=1e-11)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=6), st.integers(0, 2**32 - 1),
       st.sampled_from(["one-hot", "random", "sparse", "dense pass"]))
def test_array_and_scalar_tangent_passes_count_the_same(steps: list[tuple[Any, ...]],
                                                        seed: int, kind: str) -> None:
    rng = np.random.default_rng(seed)
    arrays = inputs(rng)
    d = N * N + 2 * N
    if kind == "one-hot":
        direction = np.eye(d)[rng.integers(d)]
    elif kind == "sparse":
        direction = rng.normal(size=d) * (rng.random(d) < 0.3)
    else:
        direction = rng.normal(size=d)
    _both(program(steps), arrays, direction, dense=kind == "dense pass")


def test_attention_head_and_vector_products_count_the_same() -> None:
    rng = np.random.default_rng(1)

    def head(x: Any, wq: Any, wk: Any) -> Any:
        q, k = x @ wq, x @ wk
        s = np.where(np.tril(np.ones((4, 4))) > 0, q @ k.T / 2.0, -1e9)
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        p = p / p.sum(axis=-1, keepdims=True)
        return (p @ x).sum() + (np.stack([q, k]) @ np.stack([k.T, q.T])).mean() \
            + (x[0] @ wq[:, 0]) * np.abs(wk).sum() + (wq[:, 1] @ wk).sum()

    arrays = {"x": rng.normal(size=(4, 3)), "wq": rng.normal(size=(3, 2)),
              "wk": rng.normal(size=(3, 2))}
    d = sum(a.size for a in arrays.values())
    for direction in (rng.normal(size=d), np.eye(d)[5]):
        _both(head, arrays, direction)


def test_a_vector_output_gets_every_tangent() -> None:
    x = CArray(np.array([1.0, 2.0, 3.0]), dep=True)
    with tracing():
        y = np.sin(x) * x[::-1]
    c = Counter()
    (t,) = array_forward.directional([y], [x], [np.ones(3)], c)
    v = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(t, np.cos(v) * v[::-1] + np.sin(v))
    assert c.totals().nonzero() == {"add": 3, "mul": 9, "cos": 3}


def test_an_untraced_dependency_is_refused() -> None:
    x = CArray(np.ones(2), dep=True)
    hidden = x * 2.0  # made outside tracing(): its circuit is unknown
    with tracing():
        y = (hidden * x).sum()
    with pytest.raises(DifferentiationError, match="not an input"):
        array_forward.directional([y], [x], [np.ones(2)], Counter())


def test_the_method_table_has_forward_mode_on_both_engines() -> None:
    f = lambda w, x: np.tanh(x @ w).sum() + np.maximum(w, 0.0).sum()  # noqa: E731
    arrays = {"w": np.array([0.5, -1.0, 2.0]), "x": np.eye(3) + 0.1}
    rows = {}
    for engine in ("array", "scalar"):
        r = run_program(f, arrays, engine=engine)
        rows[engine] = next(m for m in r.methods if m["name"] == "forward")
        assert rows[engine]["measured"] and rows[engine]["max_rel_error"] < 1e-12
    assert rows["array"]["cost"] == rows["scalar"]["cost"]
    # d passes, each f again (cost(f)) and one tangent
    d, cost_f = 12, run_program(f, arrays, check=False).cost_f
    assert rows["array"]["cost"] > d * cost_f


def test_forward_mode_over_the_op_limit_is_not_run() -> None:
    r = program_forward.method(lambda w: (w * w).sum(), {"w": np.ones(10)}, "array", 19,
                               np.ones(10), max_ops=100)
    assert not r["measured"] and "not run" in r["note"]
