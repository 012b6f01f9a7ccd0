"""Built-in circuits against independent references, YAML circuits, the Python API."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from cheapgrad.analysis.circuit import CircuitResult
from cheapgrad.api import analyze, exp, grad, sin
from cheapgrad.errors import CheapgradError, DomainError, SpecError, TooLargeError
from cheapgrad.models import circuits
from cheapgrad.models.spec import spec_from_dict
from cheapgrad.render.circuit import backprop_dict, to_csv, to_dict, to_markdown

ISSUE_EXAMPLE = """\
circuit:
  inputs: {x: 1.5, y: -0.3, z: 2.0}
  let:
    t: x*y + sin(z)
    f: t / (1 + exp(-t))
  output: f
"""


def _fast(circuit: circuits.Circuit) -> CircuitResult:
    """Analyze without the O(d) methods (they are tested on small circuits)."""
    return analyze(circuit, max_ops=0)


# --- built-ins against independent references ------------------------------------------


def test_product_gradient_and_counts() -> None:
    c = circuits.product(8, seed=2)
    r = analyze(c)
    x = np.array(c.values)
    expected = np.array([np.prod(np.delete(x, i)) for i in range(8)])
    np.testing.assert_allclose(r.gradient, expected, rtol=1e-13)
    assert r.value == pytest.approx(np.prod(x), rel=1e-14)
    assert c.inputs == tuple(f"x{i}" for i in range(1, 9))
    assert r.counts["forward"].nonzero() == {"mul": 7}
    assert r.counts["backward"].nonzero() == {"mul": 14}
    assert r.ratio == 3.0 and r.passed
    assert r.per_op() == [{"op": "mul", "forward": 7, "backward": {"mul": 14},
                           "backward_total": 14}]


def test_product_ten_thousand_runs() -> None:
    r = _fast(circuits.product(10_000))
    assert r.cost_f == 9_999 and r.cost_f_and_grad == 29_997
    assert r.passed and r.reference_agrees
    assert r.memory == {"tape": 19_999, "ops": 9_999, "forward_peak": 10_002}
    assert r.methods[1].cost is None and "not run" in r.methods[1].note


def test_horner_gradient() -> None:
    n = 7
    c = circuits.horner(n, seed=1)
    r = analyze(c)
    coeffs, x = np.array(c.values[:-1]), c.values[-1]
    assert r.value == pytest.approx(np.polyval(coeffs[::-1], x), rel=1e-13)
    dx = np.polyval(np.polyder(coeffs[::-1]), x)
    np.testing.assert_allclose(r.gradient, [*(x ** np.arange(n + 1)), dx], rtol=1e-12)
    assert c.inputs[0] == "c0" and c.inputs[-1] == "x"
    assert r.counts["forward"].nonzero() == {"add": n, "mul": n}
    assert r.passed


@pytest.mark.parametrize("n", [1, 2, 6])
def test_det_matches_jacobi(n: int) -> None:
    c = circuits.det(n, seed=4)
    r = analyze(c)
    a = np.array(c.values).reshape(n, n)
    assert r.value == pytest.approx(np.linalg.det(a), rel=1e-12)
    np.testing.assert_allclose(r.gradient.reshape(n, n),
                               np.linalg.det(a) * np.linalg.inv(a).T, rtol=1e-10, atol=1e-14)
    assert r.passed


def test_det_thirty_runs() -> None:
    c = circuits.det(30)
    r = _fast(c)
    assert len(c.inputs) == 900 and c.inputs[0] == "a_1_1" and c.inputs[-1] == "a_30_30"
    assert r.reference_error is not None and r.reference_error < 1e-10
    # 900 inputs: above the per-partial threshold, random directions.
    assert r.gradient_check.method == "complex-step-directional" and r.passed
    assert r.ratio <= 5


def test_softmax_ce_gradient() -> None:
    c = circuits.softmax_ce(6, seed=3)
    r = analyze(c)
    z = np.array(c.values)
    p = np.exp(z) / np.exp(z).sum()
    assert r.value == pytest.approx(-np.log(p[0]), rel=1e-13)
    np.testing.assert_allclose(r.gradient, p - np.eye(6)[0], rtol=1e-12, atol=1e-15)
    assert r.passed


def test_zero_pivot_is_a_domain_error() -> None:
    c = circuits.det(2)
    singular = circuits.Circuit("det-2", c.inputs, (0.0, 1.0, 1.0, 0.0), c.fn)
    with pytest.raises(DomainError, match="division by zero"):
        analyze(singular)


@pytest.mark.parametrize("spec_data", [
    {"input_dim": 4, "hidden": [8, 8], "activation": "tanh"},
    {"input_dim": 3, "hidden": [4], "activation": "sigmoid", "bias": True, "batch": 2,
     "outputs": 2, "seed": 5},
    {"input_dim": 2, "hidden": [3, 3], "activation": ["relu", "square"], "seed": 1},
])
def test_traced_mlp_equals_backprop(spec_data: dict) -> None:
    spec = spec_from_dict(spec_data)
    c = circuits.mlp(spec)
    r = analyze(c, max_ops=0)
    assert r.backprop is not None
    bp = backprop_dict(r.backprop)
    assert bp["gradients_agree"] and bp["gradient_max_rel_difference"] < 1e-12
    assert bp["forward_counts_equal"]
    assert bp["cost_f"] == r.cost_f
    assert r.passed
    assert len(c.inputs) == spec.parameters
    # The layer-1 muls w·x have a constant operand: no g·w is computed for it.
    assert r.discarded.get("mul", 0) == 0


def test_mlp_names_and_difference_with_backprop() -> None:
    spec = spec_from_dict({"input_dim": 4, "hidden": [8, 8], "activation": "tanh"})
    r = _fast(circuits.mlp(spec))
    assert r.circuit.inputs[:2] == ("w1_1_1", "w1_1_2")
    assert r.circuit.inputs[-1] == "w3_1_8"
    assert r.backprop is not None
    bp = backprop_dict(r.backprop)
    # Measured on the lecture net: 3 more muls (the loss's 0.5·s and r·r; no adjoint is
    # computed for a constant operand), one more add (r·r), a neg instead of the seed's sub.
    assert bp["backward_difference"] == {"add": 1, "sub": -1, "mul": 3, "neg": 1}
    assert bp["cost_f_and_grad"] < r.cost_f_and_grad


def test_mlp_too_large_is_refused() -> None:
    spec = spec_from_dict({"input_dim": 1000, "hidden": [1000, 1000], "activation": "tanh"})
    with pytest.raises(TooLargeError, match="at most"):
        circuits.mlp(spec)


def test_reverse_is_o1_forward_and_central_are_od() -> None:
    small, large = analyze(circuits.product(5)), analyze(circuits.product(40))
    assert small.ratio == large.ratio == 3.0
    for i in (1, 2):
        s, lg = small.methods[i], large.methods[i]
        assert s.ratio is not None and lg.ratio is not None
        assert lg.ratio > 6 * s.ratio
        assert lg.max_rel_error is not None and lg.max_rel_error < 1e-6
    # central differences: exactly 2d evaluations of f.
    assert large.methods[2].cost == 2 * 40 * large.cost_f


def test_builtin_limits() -> None:
    with pytest.raises(CheapgradError, match="between 1 and 60"):
        circuits.builtin("det", 61)
    with pytest.raises(CheapgradError, match="between 1"):
        circuits.builtin("product", 0)
    assert circuits.builtin("horner", 0).inputs == ("c0", "x")


# --- YAML circuits ----------------------------------------------------------------------


def test_issue_example() -> None:
    c = circuits.circuit_from_yaml(ISSUE_EXAMPLE, "ex.yaml")
    assert c.inputs == ("x", "y", "z") and c.name == "ex"
    r = analyze(c)
    x, y, z = 1.5, -0.3, 2.0
    t = x * y + np.sin(z)
    s = 1 / (1 + np.exp(-t))
    assert r.value == pytest.approx(t * s, rel=1e-14)
    dt = s + t * s * (1 - s)
    np.testing.assert_allclose(r.gradient, [dt * y, dt * x, dt * np.cos(z)], rtol=1e-12)
    assert r.passed
    assert r.methods[0].max_rel_error is not None and r.methods[0].max_rel_error < 1e-6


def test_let_in_any_order_and_unused_bindings_cost_nothing() -> None:
    text = ("circuit:\n  inputs: {a: 2.0}\n  let:\n    c: b * b\n    b: a + 1\n"
            "    unused: exp(a)\n  output: c\n")
    r = analyze(circuits.circuit_from_yaml(text))
    assert r.value == 9.0 and r.gradient.tolist() == [6.0]
    assert r.counts["forward"].nonzero() == {"add": 1, "mul": 1}


def _error(text: str) -> str:
    with pytest.raises(SpecError) as info:
        circuits.circuit_from_yaml(text, "c.yaml")
    return str(info.value)


def test_unknown_name_names_line_and_column() -> None:
    msg = _error("circuit:\n  inputs: {x: 1.0}\n  let:\n    t: x + qq\n  output: t\n")
    assert msg == ("c.yaml:4: circuit.let.t: column 12: unknown name 'qq'; known: x, t")


def test_syntax_error_in_quoted_expression_has_file_column() -> None:
    msg = _error("circuit:\n  inputs: {x: 1.0}\n  output: \"x.__class__\"\n")
    assert msg.startswith("c.yaml:3: circuit.output: column 13: attribute access")


def test_block_scalar_reports_expression_column() -> None:
    msg = _error("circuit:\n  inputs: {x: 1.0}\n  let:\n    t: |\n      x +\n  output: t\n")
    assert "c.yaml:4: circuit.let.t: column" in msg and "of the expression" in msg


def test_cycle_is_an_error() -> None:
    msg = _error("circuit:\n  inputs: {x: 1.0}\n  let:\n    a: b + x\n    b: c * 2\n"
                 "    c: a - 1\n  output: x\n")
    assert "cycle in let: a -> b -> c -> a" in msg
    assert msg.startswith("c.yaml:4:")


def test_self_reference_is_a_cycle() -> None:
    assert "cycle in let: a -> a" in _error(
        "circuit:\n  inputs: {x: 1.0}\n  let:\n    a: a + x\n  output: a\n")


def test_division_by_zero_names_the_binding() -> None:
    c = circuits.circuit_from_yaml(
        "circuit:\n  inputs: {x: 1.0}\n  let:\n    t: x - 1\n    f: x / t\n  output: f\n",
        "c.yaml")
    with pytest.raises(DomainError) as info:
        analyze(c)
    assert str(info.value) == ("c.yaml:5: circuit.let.f: cannot be evaluated: "
                               "div(1, 0): division by zero")


def test_undefined_derivative_is_a_clear_error() -> None:
    c = circuits.circuit_from_yaml("circuit:\n  inputs: {x: 0.0}\n  output: sqrt(x)\n")
    with pytest.raises(CheapgradError, match="derivative is undefined"):
        analyze(c)


@pytest.mark.parametrize("text, expected", [
    ("", "c.yaml: the circuit file is empty"),
    ("- 1\n", "a circuit file must be a mapping"),
    ("circuit: 3\n", "c.yaml:1: circuit: must be a mapping"),
    ("circuit:\n  inputs: {x: 1}\n", "missing required key 'output'"),
    ("circuit:\n  inputs: {x: 1}\n  output: x\n  extra: 1\n", "c.yaml:4: circuit.extra: unknown"),
    ("circuit:\n  inputs: {x: yes}\n  output: x\n", "c.yaml:2: circuit.inputs.x: must be a number"),
    ("circuit:\n  inputs: {x: .nan}\n  output: x\n", "must be a finite number"),
    ("circuit:\n  inputs: {sin: 1}\n  output: sin\n", "is a function name"),
    ("circuit:\n  inputs: {1x: 1}\n  output: x\n", "not a valid input name"),
    ("circuit:\n  inputs: {x: 1}\n  let:\n    x: 2\n  output: x\n", "already an input"),
    ("circuit:\n  inputs: {x: 1}\n  let: [1]\n  output: x\n", "circuit.let: must be a mapping"),
    ("circuit:\n  inputs: {x: 1}\n  output: [x]\n", "must be an expression"),
    ("circuit:\n  inputs: {x: 1, x: 2}\n  output: x\n", "duplicate key"),
    ("circuit:\n  inputs: {x: 1\n", "YAML syntax error"),
    ("nme: a\ncircuit:\n  inputs: {x: 1}\n  output: x\n", "c.yaml:1: nme: unknown key"),
])
def test_invalid_files(text: str, expected: str) -> None:
    assert expected in _error(text)


def test_numbers_as_let_values_and_output_expression() -> None:
    c = circuits.circuit_from_yaml(
        "circuit:\n  inputs: {x: 2.0}\n  let:\n    k: 3\n  output: k * x**2\n")
    r = analyze(c)
    assert r.value == 12.0 and r.gradient.tolist() == [12.0]


@pytest.mark.parametrize("name", circuits.bundled_names())
def test_bundled_examples_pass(name: str) -> None:
    r = analyze(circuits.resolve(name))
    assert r.passed, name


def test_bundled_examples_exist() -> None:
    assert {"logistic", "rosenbrock", "physics"} <= set(circuits.bundled_names())
    assert not set(circuits.bundled_names()) & set(circuits.BUILTINS)


def test_resolve(tmp_path: Path) -> None:
    p = tmp_path / "mine.yaml"
    p.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    assert circuits.resolve(str(p)).inputs == ("x", "y", "z")
    with pytest.raises(CheapgradError, match="apply to built-in circuits only"):
        circuits.resolve(str(p), n=3)
    with pytest.raises(CheapgradError, match="no circuit 'nope'"):
        circuits.resolve("nope")
    with pytest.raises(SpecError, match="no such file"):
        circuits.resolve(str(tmp_path / "missing.yaml"))
    assert circuits.resolve("det", n=3, seed=2).inputs[-1] == "a_3_3"


# --- the Python API ---------------------------------------------------------------------


def test_grad_api() -> None:
    def f(x, y):  # noqa: ANN001, ANN202 - written for counted numbers
        return x * exp(y) + sin(x * y)

    r = grad(f)(0.5, -1.0)
    assert r.circuit.inputs == ("x", "y")
    gx = np.exp(-1.0) + np.cos(-0.5) * -1.0
    gy = 0.5 * np.exp(-1.0) + np.cos(-0.5) * 0.5
    np.testing.assert_allclose(r.gradient, [gx, gy], rtol=1e-13)
    assert r.gradient_dict == {"x": r.gradient[0], "y": r.gradient[1]}
    assert r.passed
    assert grad(lambda *v: v[0] * v[1] * v[2])(1.0, 2.0, 3.0).circuit.inputs == (
        "x1", "x2", "x3")
    assert grad(f, names=["a", "b"])(1.0, 1.0).circuit.inputs == ("a", "b")


def test_grad_rejects_a_non_number_result() -> None:
    with pytest.raises(CheapgradError, match="counted number"):
        grad(lambda x: 3.0)(1.0)


def test_result_renders_in_rich_and_jupyter_and_json() -> None:
    r = grad(lambda x, y: x * y / (x + y))(1.0, 3.0)
    buf = io.StringIO()
    Console(file=buf, width=120).print(r)
    text = buf.getvalue()
    assert "cheapgrad circuit" in text and "forward mode" in text and "Per op" in text
    md = r._repr_markdown_()
    assert md == to_markdown(r) and "| reverse mode |" in md
    doc = to_dict(r)
    for key in ("counts", "cost_f", "cost_f_and_grad", "ratio", "bound", "holds", "inputs",
                "value", "gradient", "methods", "memory"):
        assert key in doc
    assert set(doc["methods"]) == {"reverse", "forward", "central"}
    assert doc["methods"]["central"]["cost"] == 4 * r.cost_f
    csv_text = to_csv(r)
    assert csv_text.startswith("name,phase,caused_by,op,count\n")
    assert ",backward,div,div,1\n" in csv_text


def test_a_path_hidden_from_the_tracer_is_refused() -> None:
    import math

    from cheapgrad.core.state import UncountedOperation

    # math.sin would turn the counted number into an uncounted float that reverse mode
    # cannot see: refused, naming the counted replacement.
    with pytest.raises(UncountedOperation, match="cheapgrad.tanh"):
        grad(lambda x: x * math.sin(x))(0.7)  # type: ignore[arg-type]


def test_core_modules_import_neither_click_nor_rich() -> None:
    import subprocess
    import sys

    code = ("import sys, cheapgrad.analysis.circuit, cheapgrad.models.circuits, "
            "cheapgrad.render.circuit, "
            "cheapgrad.core.tape, cheapgrad.core.forward, cheapgrad.models.expr;"
            "from cheapgrad.api import grad;"
            "r = grad(lambda x, y: x * y)(1.0, 2.0); r._repr_markdown_();"
            "sys.exit(1 if {'click', 'rich'} & set(sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
