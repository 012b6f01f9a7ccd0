"""The counted array's conventions, op by op, and what it refuses."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from cheapgrad.analysis.program import run_program
from cheapgrad.core.array import CArray
from cheapgrad.core.array_front import UnsupportedOperation
from cheapgrad.core.counter import Counter
from cheapgrad.errors import CheapgradError, DomainError


def _forward(fn: Any, *shapes: tuple[int, ...], dep: bool = True) -> dict[str, int]:
    c = Counter()
    xs = [CArray(np.linspace(0.5, 1.5, int(np.prod(s))).reshape(s), dep=dep) for s in shapes]
    with c.scope("forward"):
        fn(*xs)
    return c.totals().nonzero()


@pytest.mark.parametrize(("fn", "shapes", "expected"), [
    (lambda a, b: a @ b, [(2, 3), (3, 4)], {"mul": 24, "add": 16}),
    (lambda a, b: a @ b, [(5, 2, 3), (3, 4)], {"mul": 120, "add": 80}),
    (lambda a, b: np.matmul(a, b), [(3,), (3, 4)], {"mul": 12, "add": 8}),
    (lambda a: a.sum(), [(4, 5)], {"add": 19}),
    (lambda a: a.sum(axis=1), [(4, 5)], {"add": 16}),
    (lambda a: a.mean(axis=0), [(4, 5)], {"add": 15, "div": 5}),
    (lambda a: np.max(a, axis=-1, keepdims=True), [(4, 5)], {"cmp": 16}),
    (lambda a: a.min(), [(4, 5)], {"cmp": 19}),
    (lambda a: a < 1.0, [(2, 3)], {"cmp": 6}),
    (lambda a: a == a, [(2, 3)], {"cmp": 6}),
    (lambda a: np.maximum(a, 1.0), [(2, 3)], {"cmp": 6}),
    (lambda a: np.where(a > 1.0, a, -1e9), [(2, 3)], {"cmp": 6}),
    (lambda a: a ** 3, [(2, 3)], {"pow": 6}),
    (lambda a: a ** 0.5, [(2, 3)], {"sqrt": 6}),
    (lambda a: np.square(a), [(2, 3)], {"mul": 6}),
    (lambda a: np.abs(a - 1.0), [(2, 2)], {"sub": 4, "cmp": 4, "neg": 2}),
    (lambda a, b: a + b, [(3, 1), (1, 4)], {"add": 12}),
    (lambda a: np.tanh(a) * 2.0 - 1.0, [(2, 3)], {"tanh": 6, "mul": 6, "sub": 6}),
    (lambda a: np.einsum("ij,jk->ik", a, a.T), [(2, 3)], {"mul": 12, "add": 8}),
    (lambda a: np.einsum("ii->", a), [(3, 3)], {"add": 2}),  # a trace: the diagonal, summed
    (lambda a: np.einsum("ii->i", a), [(3, 3)], {}),  # the diagonal: data movement
    (lambda a: np.einsum("ij->j", a), [(2, 3)], {"add": 3}),
    (lambda a: np.einsum("ij,ij->i", a, a), [(2, 3)], {"mul": 6, "add": 4}),
    (lambda a, b: np.dot(a, b), [(2, 2, 3), (4, 3, 5)], {"mul": 240, "add": 160}),
    (lambda a, b: np.dot(a, b), [(2, 2, 3), (3,)], {"mul": 12, "add": 8}),
    (lambda a: np.concatenate([a, a]).T.reshape(-1)[::2], [(2, 3)], {}),
    (lambda a: np.take(a, [0, 1, 1], axis=0), [(2, 3)], {}),
    (lambda a: np.tril(a) + 0.0, [(3, 3)], {"add": 9}),  # no constant folding
])
def test_counting_conventions(fn: Any, shapes: list[tuple[int, ...]],
                              expected: dict[str, int]) -> None:
    assert _forward(fn, *shapes) == expected


def test_nonscalar_is_per_element() -> None:
    c = Counter()
    x = CArray(np.ones((2, 2)), dep=np.array([[True, False], [False, False]]))
    with c.scope("forward"):
        x * x
        x @ np.ones((2, 2))
        x @ x
    t = c.totals()
    # x*x: 1 element with both factors dependent; x@x: only x00*x00 of the 8 products
    assert t.counts["mul"] == 4 + 8 + 8 and t.nonscalar["mul"] == 1 + 0 + 1


def _backward(f: Any, **arrays: np.ndarray) -> dict[str, int]:
    return run_program(f, arrays, check=False).counts("backward").nonzero()


def test_reverse_sweep_costs_only_what_an_adjoint_reaches() -> None:
    x = np.array([1.0, 3.0, 2.0])
    assert _backward(lambda x: x.max(), x=x) == {}  # selection: no arithmetic
    assert _backward(lambda x: np.where(x > 1.5, x * x, 0.0).sum(), x=x) == {"mul": 4,
                                                                            "add": 2}
    # a constant operand gets no adjoint: g*3 only, for each of the 3 elements
    assert _backward(lambda x: (x * 3.0).sum(), x=x) == {"mul": 3}
    # a broadcast operand used by 4 results receives 4 contributions: 3 adds each
    assert _backward(lambda x: (x[:, None] + np.ones((1, 4))).sum(), x=x) == {"add": 9}


def test_gradients_and_checks() -> None:
    rng = np.random.default_rng(0)
    w, x = rng.normal(size=(3, 2)), rng.normal(size=(5, 3))
    r = run_program(lambda w, x: np.maximum(x @ w, 0.0).sum(), {"w": w, "x": x})
    assert r.check.method == "central" and r.check.passed
    np.testing.assert_allclose(r.gradients["w"], x.T @ ((x @ w) > 0).astype(float))
    r = run_program(lambda w: np.tanh(w).sum(), [rng.normal(size=400)])
    assert r.check.method == "complex-step-directional" and r.check.passed
    assert r.gradients["w"].shape == (400,)


@pytest.mark.parametrize(("fn", "match"), [
    (lambda a: np.fft.fft(a), "np.fft"),
    (lambda a: np.cumsum(a), "np.cumsum"),
    (lambda a: float(a.sum()), "float"),
    (lambda a: a.sum().item(), "item"),
    (lambda a: a.tolist(), "tolist"),
    (lambda a: np.asarray(a), "plain ndarray"),
    (lambda a: 2.0 ** a, "exponent"),
    (lambda a: a ** 1.5, "1.5"),
    (lambda a: np.add.reduce(a), "np.add.reduce"),
    (lambda a: bool(a.sum()), "truth value"),
])
def test_unsupported_is_one_clear_error(fn: Any, match: str) -> None:
    x = CArray(np.ones(3), dep=True)
    with pytest.raises(UnsupportedOperation, match=match):
        fn(x)
    assert issubclass(UnsupportedOperation, CheapgradError)


def test_domain_errors_and_bad_programs() -> None:
    with pytest.raises(DomainError):
        run_program(lambda x: np.log(x - 2.0).sum(), [np.ones(3)])
    with pytest.raises(CheapgradError, match="scalar"):
        run_program(lambda x: x * 2.0, [np.ones(3)])
    with pytest.raises(CheapgradError, match="array of numbers"):
        run_program(lambda x: x.sum(), [np.array(["a"])])


def test_flop_model_counts_matrix_products_by_shape() -> None:
    from cheapgrad.render.program import cost_models_of

    r = run_program(lambda w, x: np.tanh(x @ w).sum(), {"w": np.ones((3, 2)),
                                                        "x": np.ones((4, 3))})
    flop = cost_models_of(r)["flop"]
    # forward 2·(4·2·3); backward one product per operand: g·wᵀ and xᵀ·g
    assert (flop.cost_f, flop.cost_f_and_grad) == (48, 144)
    assert r.cost_f == 24 + 16 + 8 + 7  # the unit totals are unchanged by the buckets


def test_array_results_name_the_check_as_every_result_does() -> None:
    import cheapgrad

    r = cheapgrad.grad(lambda w, x: np.tanh(w @ x).sum())(np.full((3, 4), 0.1), np.arange(4.0))
    assert r.gradient_check is r.check and r.gradient_check.passed
    assert set(r.gradients) == {"w", "x"} and r.gradients["w"].shape == (3, 4)


def test_every_bundled_example_files_each_op_under_the_same_line_and_bucket() -> None:
    # the adds of accumulation go to the op that made each later contribution, the
    # earliest op's contribution assigned, whatever order either sweep walks in (before
    # this, np-layernorm's lines 59-60 and the attention head's buckets differed)
    from cheapgrad.models.programs import EXAMPLES

    for name, (f, make) in EXAMPLES.items():
        a, s = (run_program(f, make(), engine=e, check=False) for e in ("array", "scalar"))
        assert a.lines == s.lines, name
        assert a.per_op() == s.per_op(), name
        assert {k: v for k, v in a.counter.buckets.items() if any(v)} == {
            k: v for k, v in s.counter.buckets.items() if any(v)}, name


def test_a_rule_outside_its_domain_where_no_adjoint_reaches_is_not_refused() -> None:
    # sqrt's reverse rule divides by sqrt(x): 0/0 at x = 0, an element where() did not
    # select: numpy raises its invalid flag, the element is not live, nothing is refused
    from cheapgrad.core.array_masks import tracing
    from cheapgrad.core.array_sweep import backward

    counts = []
    for x0 in (0.0, 4.0):
        x = CArray(np.array([x0, 1.0]), dep=True)
        c = Counter()
        with tracing(), c.scope("forward"):
            y = np.where(np.array([False, True]), np.sqrt(x), 0.0).sum()
        (g,) = backward(y, [x], c)
        assert g.tolist() == [0.0, 0.5]
        counts.append(c.totals("backward"))
    assert counts[0] == counts[1]


def test_overflow_in_f_is_refused_in_one_line() -> None:
    from cheapgrad.errors import NumericalError

    for engine in ("array", "scalar"):
        with pytest.raises((NumericalError, DomainError)):
            run_program(lambda x: np.exp(x * 1000.0).sum(), [np.array([1.0, 2.0])],
                        engine=engine, check=False)


def test_a_minus_infinity_mask_propagates_in_both_engines_alike() -> None:
    # a non-finite constant is not an op leaving float64's range: exp(-inf) = 0, as for
    # counted scalars
    def f(x: Any) -> Any:
        s = np.where(np.tril(np.ones((3, 3))) > 0, x, -np.inf)
        p = np.exp(s - s.max(axis=-1, keepdims=True))
        return (p / p.sum(axis=-1, keepdims=True) * x).sum()

    x = np.random.default_rng(0).normal(size=(3, 3))
    a, s = (run_program(f, [x], engine=e) for e in ("array", "scalar"))
    assert a.counts() == s.counts() and a.check.passed
    np.testing.assert_allclose(a.gradients["x"], s.gradients["x"], rtol=1e-12)


def test_einsum_with_repeated_indices_and_dot_above_two_dimensions_match_numpy() -> None:
    r = np.random.default_rng(3)
    a, b, c = r.normal(size=(3, 3)), r.normal(size=(2, 3, 4)), r.normal(size=(5, 4, 2))
    for f, args in ((lambda a: (np.einsum("ii->i", a) @ np.einsum("ij->ji", a)).sum(), [a]),
                    (lambda b, c: np.tanh(np.dot(b, c)).sum(), [b, c]),
                    (lambda a: np.einsum("iij,jk->ik", np.stack([a, a, a]), a).sum(), [a])):
        res = [run_program(f, args, engine=e) for e in ("array", "scalar")]
        assert res[0].counts() == res[1].counts() and res[0].lines == res[1].lines
        assert abs(res[0].value - float(f(*args))) <= 1e-12 and res[0].check.passed


def test_basic_indexing_and_broadcast_constants_count_as_the_scalar_engine() -> None:
    # the fast paths (a slice's adjoint written back through its index; the dense
    # elementwise rule on operands not broadcast to the result) against counted scalars
    def f(x: Any, w: Any) -> Any:
        a = x[1:, ::-2] * 0.5 + x[0, 1::2]  # slices, a negative step, an int, a broadcast row
        b = np.tanh(a[..., None] * w)  # Ellipsis and None; w broadcast over rows
        c = b[:, 0, 1:] / (x[-1, :2] + 3.0)  # a slice used twice, a division by it
        return (c * c).sum() + x[2, 1] ** 3 + b[0].sum()

    r = np.random.default_rng(3)
    args = [r.normal(size=(3, 4)), r.normal(size=(1, 3))]
    a, s = (run_program(f, args, engine=e) for e in ("array", "scalar"))
    assert a.check.passed and s.check.passed
    assert a.counts() == s.counts() and a.lines == s.lines
    assert {k: v for k, v in a.counter.buckets.items() if any(v)} == {
        k: v for k, v in s.counter.buckets.items() if any(v)}
    for k in a.gradients:
        np.testing.assert_allclose(a.gradients[k], s.gradients[k], rtol=1e-12)


def test_the_floating_point_error_state_is_restored_after_every_op() -> None:
    before = np.geterr()
    with pytest.raises((DomainError, CheapgradError)):
        run_program(lambda x: np.log(x - 2.0).sum(), [np.array([1.0, 3.0])], check=False)
    run_program(lambda x: np.exp(x).sum(), [np.array([1.0, 3.0])], check=False)
    assert np.geterr() == before


@pytest.mark.parametrize("engine", ["array", "scalar"])
def test_central_differences_outside_the_domain_are_noted_not_raised(engine: str) -> None:
    def f(x: Any) -> Any:  # sqrt is evaluated at 0, where x - h leaves its domain
        return np.sum(np.where(x > 0, np.sqrt(x), 0.0))

    r = run_program(f, {"x": np.array([0.0, 1.0, 4.0])}, engine=engine, check=False)
    assert r.gradients["x"].tolist() == [0.0, 0.5, 0.25]
    central = next(m for m in r.methods if m["name"] == "central")
    assert central["measured"] is False and central["cost"] is None
    assert central["note"] == ("not run: f is undefined at x ± h "
                               "(sqrt(-1e-06): math domain error)")
