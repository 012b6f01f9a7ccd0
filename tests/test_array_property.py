"""Two engines, one program: random numpy programs counted by the array engine and by
the scalar engine (object arrays of counted scalars, traced reverse mode) give the same
counts op kind by op kind and phase by phase, nonscalar tallies included, by source line
and by bucket (phase, layer, part), and the same gradient to 1e-12."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cheapgrad.analysis.program import run_program

N = 3  # square registers (N, N), columns (N, 1) and rows (1, N): everything broadcasts

UNARY: dict[str, Callable[[Any], Any]] = {
    "tanh": np.tanh, "sin": np.sin, "cos": np.cos, "neg": lambda a: -a,
    "square": np.square, "abs": np.abs, "pow2": lambda a: a ** 2, "pow3": lambda a: a ** 3,
    "sqrt": lambda a: np.sqrt(a * a + 1.0), "half": lambda a: (a * a + 1.0) ** 0.5,
    "log": lambda a: np.log(a * a + 1.0), "exp": lambda a: np.exp(np.tanh(a)),
    "recip": lambda a: 1.0 / (a * a + 1.0), "scale": lambda a: 2.0 * a - 1.0,
    "rsub": lambda a: 1.0 - a, "cdiv": lambda a: a / 4.0,
    "sum0": lambda a: a.sum(axis=0, keepdims=True), "sum1": lambda a: np.sum(a, 1, keepdims=True),
    "mean1": lambda a: a.mean(axis=-1, keepdims=True),
    "max0": lambda a: a.max(axis=0, keepdims=True), "min1": lambda a: np.min(a, axis=1,
                                                                            keepdims=True),
    "T": lambda a: a.T, "tril": np.tril, "triu": lambda a: np.triu(a, 1),
    "flip": lambda a: a[::-1], "relu": lambda a: np.maximum(a, 0.0),
    "mask": lambda a: np.where(np.arange(a.shape[-1]) % 2 == 0, a, -3.0),
    "take": lambda a: np.take(a, [0, 0, a.shape[0] - 1], axis=0),
    "cat": lambda a: np.concatenate([a, np.ones_like(a)], axis=0)[: a.shape[0]],
    "split": lambda a: np.split(np.concatenate([a, a * 0.5], axis=1), 2, axis=1)[1],
    "stack": lambda a: np.stack([a, a], axis=0).sum(axis=0),
    "reshape": lambda a: a.reshape(-1).reshape(a.shape),
    "swap": lambda a: np.swapaxes(a, 0, 1),
    "diag": lambda a: np.einsum("ii->i", np.broadcast_to(a, (N, N))).reshape(1, N),
    "colsum": lambda a: np.einsum("ij->j", a)[None, :],
}
BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / (b * b + 1.0), "max": np.maximum, "min": np.minimum,
    "where": lambda a, b: np.where(a > b, a, b), "cmp": lambda a, b: a * (a <= b),
    "matmul": lambda a, b: np.broadcast_to(a, (N, N)) @ np.broadcast_to(b, (N, N)),
    "bmm": lambda a, b: (np.stack([np.broadcast_to(a, (N, N)), np.broadcast_to(b, (N, N))])
                         @ np.broadcast_to(b, (N, N))).sum(axis=0),
    "dot": lambda a, b: np.dot(np.broadcast_to(a, (N, N)), np.broadcast_to(b, (N, N)).T),
    "einsum": lambda a, b: np.einsum("ij,kj->ik", np.broadcast_to(a, (N, N)),
                                     np.broadcast_to(b, (N, N))),
}

step = st.one_of(
    st.tuples(st.just("u"), st.sampled_from(sorted(UNARY)), st.integers(0, 99)),
    st.tuples(st.just("b"), st.sampled_from(sorted(BINARY)), st.integers(0, 99),
              st.integers(0, 99)),
)


def inputs(rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The random programs' inputs: a square register, a column and a row."""
    return {"x": rng.normal(size=(N, N)), "col": rng.normal(size=(N, 1)),
            "row": rng.normal(size=(1, N))}


def program(steps: list[tuple[Any, ...]]) -> Callable[..., Any]:
    # generic constants: no exact ties that rounding (BLAS against a left fold) could
    # break differently in the two engines' comparisons
    const = np.random.default_rng(123).normal(size=(N, N))

    def f(x: Any, col: Any, row: Any) -> Any:
        # registers: inputs, a constant, an input with constant elements (partial masks)
        regs = [x, col, row, const, np.where(np.eye(N) > 0, x, 0.5)]
        for s in steps:
            if s[0] == "u":
                regs.append(UNARY[s[1]](regs[s[2] % len(regs)]))
            else:
                regs.append(BINARY[s[1]](regs[s[2] % len(regs)], regs[s[3] % len(regs)]))
        return (regs[-1] * regs[-1]).sum() + regs[-2].sum() * 0.5 + x.sum()

    return f


def _buckets(r: Any) -> dict[Any, list[int]]:
    return {k: v for k, v in r.counter.buckets.items() if any(v)}


def _same(f: Callable[..., Any], arrays: dict[str, np.ndarray]) -> None:
    a = run_program(f, arrays, engine="array", check=False)
    s = run_program(f, arrays, engine="scalar", check=False)
    for phase in ("forward", "backward"):
        assert a.counts(phase) == s.counts(phase), phase
    # every op filed alike: by source line of f and by bucket (phase, layer, part)
    assert a.lines == s.lines
    assert _buckets(a) == _buckets(s)
    # the flop model's forward bucket (matrix products) agrees
    assert a.counter.totals("forward", part="matvec") == s.counter.totals("forward",
                                                                        part="matvec")
    assert abs(a.value - s.value) <= 1e-12 * max(1.0, abs(s.value))
    for name in arrays:
        np.testing.assert_allclose(a.gradients[name], s.gradients[name], rtol=1e-12,
                                   atol=1e-12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=6), st.integers(0, 2**32 - 1))
def test_array_and_scalar_engines_count_the_same(steps: list[tuple[Any, ...]],
                                                 seed: int) -> None:
    rng = np.random.default_rng(seed)
    arrays = inputs(rng)
    _same(program(steps), arrays)


def test_a_batched_matmul_and_an_attention_head_count_the_same() -> None:
    rng = np.random.default_rng(1)

    def head(x: Any, wq: Any, wk: Any) -> Any:
        q, k = x @ wq, x @ wk
        s = np.where(np.tril(np.ones((4, 4))) > 0, q @ k.T / 2.0, -1e9)
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        p = p / p.sum(axis=-1, keepdims=True)
        return (p @ x).sum() + (np.stack([q, k]) @ np.stack([k.T, q.T])).mean()

    _same(head, {"x": rng.normal(size=(4, 3)), "wq": rng.normal(size=(3, 2)),
                 "wk": rng.normal(size=(3, 2))})
