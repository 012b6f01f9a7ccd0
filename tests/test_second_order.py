"""Second order and Jacobians, counted: HVPs by three modes, Hessians (colored and
dense), Jacobians (forward, reverse, colored), each against independent checks, on
every built-in and on random numpy programs; the counted costs scale as theory says."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import invoke_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_array_property import BINARY, UNARY, inputs, program

import cheapgrad.api as cg
from cheapgrad.analysis import coloring
from cheapgrad.analysis.derivatives import (
    hessian_report,
    hvp_report,
    jacobian_report,
    program_function,
)
from cheapgrad.analysis.jacobian import jacobian
from cheapgrad.analysis.second_order import MODES, hessian, hvp
from cheapgrad.analysis.secondcheck import EXACT
from cheapgrad.cli.app import main
from cheapgrad.core.counter import Counter
from cheapgrad.core.forward import directional
from cheapgrad.core.number import tracing, var
from cheapgrad.core.tape import backward, backward_many
from cheapgrad.errors import CheapgradError
from cheapgrad.models.circuits import VECTOR_BUILTINS, builtin, mlp2, vector_builtin

SCALAR_BUILTINS = [("product", 6), ("horner", 4), ("det", 3), ("softmax-ce", 5),
                   ("rosen", 8), ("mlp2", 2)]


@pytest.mark.parametrize(("name", "n"), SCALAR_BUILTINS)
def test_hvp_modes_agree_and_pass_every_check_on_each_builtin(name: str, n: int) -> None:
    c = builtin(name, n)
    r = hvp_report(c.name, c.fn, c.values, reference=c.hessian)
    assert [m.mode for m in r.results] == list(MODES)
    assert r.passed, [ch for ch in r.checks if not ch.passed]
    names = {ch.name for ch in r.checks}
    assert {"rev-fwd = fwd-rev", "rev-rev = fwd-rev", "complex step of ∇f along v"} <= names
    assert r.route == "complex step"
    step = next(ch for ch in r.checks if ch.name.startswith("complex step"))
    assert step.tolerance == 1e-8 and step.error < 1e-13
    if c.hessian is not None:
        assert "closed-form Hessian · v" in names
    # the same vector, different counted costs
    costs = [m.cost for m in r.results]
    assert len(set(costs)) > 1
    for m in r.results:
        assert m.cost_f > 0 and m.cost_f_and_grad > m.cost_f
        assert m.ratio_grad == m.cost / m.cost_f_and_grad


@pytest.mark.parametrize(("name", "n"), SCALAR_BUILTINS)
def test_hessians_pass_their_checks_on_each_builtin(name: str, n: int) -> None:
    c = builtin(name, n)
    r = hessian_report(c.name, c.fn, c.values, reference=c.hessian)
    assert r.passed, [ch for ch in r.checks if not ch.passed]
    assert r.route == "complex step"
    assert next(ch for ch in r.checks if ch.name.startswith("complex step")).error < 1e-13
    assert r.dense.passes == len(c.values)
    assert r.colored.passes <= r.dense.passes


@pytest.mark.parametrize("name", sorted(VECTOR_BUILTINS))
def test_jacobians_pass_their_checks_on_each_vector_builtin(name: str) -> None:
    F = vector_builtin(name, 7)
    r = jacobian_report(F.name, F.fn, F.values, reference=F.jacobian)
    assert r.passed, [ch for ch in r.checks if not ch.passed]
    assert r.result("forward").passes == 7
    assert r.result("reverse").passes == F.outputs
    assert {ch.name for ch in r.checks} >= {"reverse = forward", "colored = forward",
                                            "central differences of F", "closed form"}


def test_hvp_counts_are_pinned_on_a_small_function() -> None:
    f = lambda xs: xs[0] * xs[0] * xs[1]  # noqa: E731
    costs = {m: hvp(f, [1.0, 2.0], [1.0, 0.0], m) for m in MODES}
    # f: 2 mul; f and its gradient: 7 ops
    assert {m: (r.cost_f, r.cost_f_and_grad) for m, r in costs.items()} == {
        m: (2, 7) for m in MODES}
    assert {m: r.cost for m, r in costs.items()} == {"fwd-rev": 14, "rev-fwd": 11,
                                                       "rev-rev": 16}
    assert list(costs["rev-rev"].phases) == ["forward", "backward", "dot", "backward2"]
    assert list(costs["fwd-rev"].phases) == ["forward", "backward", "tangent"]
    assert list(costs["rev-fwd"].phases) == ["forward", "tangent", "backward"]


def test_hvp_of_a_function_linear_in_the_inputs_is_zero() -> None:
    for mode in MODES:
        r = hvp(lambda xs: xs[0] * 3.0 + xs[1], [1.0, 2.0], [1.0, 1.0], mode)
        assert r.hvp.tolist() == [0.0, 0.0]


def test_hvp_per_gradient_stays_bounded_as_n_grows() -> None:
    # Pearlmutter: H·v costs a small multiple of a gradient, whatever n
    for n in (10, 40, 160):
        c = builtin("rosen", n)
        ratios = [hvp(c.fn, c.values, np.ones(n), m).ratio_grad for m in MODES]
        assert all(1.0 < r < 3.0 for r in ratios), (n, ratios)


def _jac_costs(name: str, n: int) -> dict[str, float]:
    F = vector_builtin(name, n)
    out = {}
    for mode in ("forward", "reverse", "colored"):
        r = jacobian(F.fn, F.values, mode)
        out[mode] = r.derivative_cost / r.cost_f
        out[mode + "_passes"] = r.passes
    return out


def test_forward_jacobian_cost_grows_linearly_in_n_reverse_in_m() -> None:
    small, big = _jac_costs("wide", 20), _jac_costs("wide", 80)
    # m = 2 outputs: reverse per cost(F) is flat, forward per cost(F) grows like n
    assert big["forward"] / small["forward"] == pytest.approx(4.0, rel=0.05)
    assert big["reverse"] / small["reverse"] == pytest.approx(1.0, rel=0.1)
    assert big["reverse_passes"] == small["reverse_passes"] == 2
    # F(x) = (aᵀx)·x: n = m, both grow like n: no cheap Jacobian
    a, b = _jac_costs("axx", 20), _jac_costs("axx", 80)
    assert b["forward"] / a["forward"] == pytest.approx(4.0, rel=0.05)
    assert b["reverse"] / a["reverse"] == pytest.approx(4.0, rel=0.05)


def test_colored_jacobian_of_the_banded_function_needs_three_colors_whatever_n() -> None:
    per_f = []
    for n in (10, 100, 1000):
        F = vector_builtin("banded", n)
        r = jacobian(F.fn, F.values, "colored")
        assert r.passes == 3
        np.testing.assert_allclose(r.matrix, F.jacobian(np.array(F.values)), rtol=EXACT)
        per_f.append(r.derivative_cost / r.cost_f)
    assert max(per_f) / min(per_f) < 1.02
    dense = _jac_costs("banded", 100)
    assert dense["forward"] > 10 * dense["colored"]


def test_sparse_accounting_skips_zero_tangents() -> None:
    F = vector_builtin("banded", 50)
    dense = jacobian(F.fn, F.values, "forward")
    sparse = jacobian(F.fn, F.values, "forward", dense=False)
    np.testing.assert_array_equal(dense.matrix, sparse.matrix)
    assert sparse.cost < dense.cost / 5


def test_rosenbrock_hessian_is_tridiagonal_and_takes_three_passes() -> None:
    c = builtin("rosen", 30)
    r = hessian(c.fn, c.values)
    assert r.passes == 3
    np.testing.assert_allclose(r.matrix, c.hessian(np.array(c.values)), rtol=EXACT)


def test_greedy_coloring_is_a_valid_cpr_coloring() -> None:
    rng = np.random.default_rng(0)
    rows = [set(rng.choice(12, size=3, replace=False).tolist()) for _ in range(10)]
    colors = coloring.greedy_coloring(rows, 12)
    for row in rows:
        assert len({colors[j] for j in row}) == len(row)


def test_directional_dense_seeds_every_input() -> None:
    x, y = var(1.0), var(2.0)
    with tracing():
        f = x * y
    sparse, dense = Counter(), Counter()
    assert directional([f], [x, y], [1.0, 0.0], sparse)[0].v == 2.0
    assert directional([f], [x, y], [1.0, 0.0], dense, dense=True)[0].v == 2.0
    assert sparse.totals().total == 1 and dense.totals().total == 3


def test_backward_many_equals_a_sum_of_sweeps() -> None:
    x, y = var(1.5), var(-2.0)
    with tracing():
        f, g = x * y, x * x + y
    c = Counter()
    both = backward_many([(f, var(2.0)), (g, var(3.0))], [x, y], c)
    one, two = backward(f, [x, y], Counter()), backward(g, [x, y], Counter())
    assert [b.v for b in both] == [2 * a.v + 3 * b.v for a, b in zip(one, two, strict=True)]


def test_api_functions() -> None:
    r = cg.hvp(lambda x, y: x * x * y)([1.0, 2.0], [0.0, 1.0])
    assert r.hvp.tolist() == [2.0, 0.0] and r.passed
    h = cg.hessian(lambda a, b: cg.exp(a) * b)([0.0, 1.0])
    np.testing.assert_allclose(h.matrix, [[1.0, 1.0], [1.0, 0.0]], rtol=EXACT)
    j = cg.jacobian(lambda a, b: [a * b, cg.sin(a)], mode="reverse")([1.0, 2.0])
    assert j.result("reverse") is j.results[0] and j.passed
    with pytest.raises(CheapgradError, match="'rev-fwd' runs on the scalar engine only"):
        cg.hvp(lambda w: (w * w).sum(), engine="array", modes=MODES)(np.ones(2))
    with pytest.raises(CheapgradError, match="one scalar"):
        cg.hvp(lambda x, y: [x, y])([1.0, 2.0])
    with pytest.raises(CheapgradError, match="expected 2 numbers"):
        cg.hvp(lambda x, y: x * y)([1.0, 2.0], [1.0])


def test_mlp2_hvp_costs_a_few_gradients() -> None:
    c = mlp2(6)
    r = hvp_report(c.name, c.fn, c.values, check=False)
    assert all(1.5 < m.ratio_grad < 3.0 for m in r.results)


SMOOTH_UNARY = sorted(set(UNARY) - {"abs", "max0", "min1", "relu"})
SMOOTH_BINARY = sorted(set(BINARY) - {"max", "min", "where", "cmp"})
smooth_step = st.one_of(
    st.tuples(st.just("u"), st.sampled_from(SMOOTH_UNARY), st.integers(0, 99)),
    st.tuples(st.just("b"), st.sampled_from(SMOOTH_BINARY), st.integers(0, 99),
              st.integers(0, 99)),
)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(smooth_step, min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_random_numpy_programs_hvp_hessian_and_jacobian_pass_their_checks(
        steps: list[tuple[Any, ...]], seed: int) -> None:
    rng = np.random.default_rng(seed)
    arrays = inputs(rng)
    f = program(steps)
    fn = program_function(f, arrays)
    x = np.concatenate([a.ravel() for a in arrays.values()])
    assert hvp_report("p", fn, x, seed=seed).passed
    assert hessian_report("p", fn, x).passed

    def vector_f(x: Any, col: Any, row: Any) -> Any:
        return (f(x, col, row) * x[0]) + col.ravel()  # 3 outputs

    jr = jacobian_report("p", program_function(vector_f, arrays), x)
    assert jr.passed, [ch for ch in jr.checks if not ch.passed]


def test_second_order_audit_sets_each_published_constant_beside_its_measurement(
        cli: CliRunner) -> None:
    doc = invoke_json(cli, "audit", "--second-order", "--format", "json")
    rows = doc["published"]
    assert [r["source"].split(" ")[0] for r in rows] == [
        "Pearlmutter", "JAX", "JAX", "JAX", "Griewank", "Griewank", "Griewank"]
    assert all(r["verified"] for r in rows[:4]) and not any(r["verified"] for r in rows[4:])
    gw_grad = rows[5]
    assert gw_grad["holds"] is True and "unverified" in gw_grad["verdict"]
    circuits = [m["circuit"] for m in doc["measured"]]
    assert circuits == ["product-10", "horner-10", "softmax-ce-10", "rosen-10", "mlp2-10",
                        "det-6"]
    # Speelpenning's product: f and its gradient cost exactly 3× f in unit ops
    assert doc["measured"][0]["unit"]["gradient"] == 3.0
    result = cli.invoke(main, ["audit", "--second-order"])
    assert result.exit_code == 0
    assert max(len(line) for line in result.stdout.splitlines()) <= 80


def test_the_package_exports_the_second_order_api() -> None:
    import cheapgrad

    assert cheapgrad.hvp is cg.hvp and cheapgrad.hessian is cg.hessian
    assert cheapgrad.jacobian is cg.jacobian
