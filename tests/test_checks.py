"""The checks of a circuit: plain evaluations, one shared reference, random directions
above the threshold, progress reports (issue 14, section 3)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest

from cheapgrad.analysis.circuit import FULL_CHECK_MAX_INPUTS
from cheapgrad.analysis.circuitcheck import Evaluators, check_circuit, evaluators
from cheapgrad.api import analyze, grad, log, sin
from cheapgrad.core.number import Num, const
from cheapgrad.errors import DomainError
from cheapgrad.models.bundled import circuit_names
from cheapgrad.models.circuit import Circuit
from cheapgrad.models.circuits import resolve
from cheapgrad.models.circuits.files import circuit_from_yaml
from cheapgrad.models.expr import parse


def _calls(f: Any) -> tuple[Any, list[int]]:
    calls = [0]

    def wrapped(*xs: Any) -> Any:
        calls[0] += 1
        return f(*xs)

    return wrapped, calls


def _smooth(x: Any, y: Any, z: Any) -> Any:
    return x * sin(y) + log(1.0 + z**2) / (x + 3.0)


def test_a_user_function_gets_the_complex_step_and_the_reference_is_computed_once() -> None:
    f, calls = _calls(_smooth)
    r = grad(f)(0.7, -1.2, 2.0)
    d = 3
    assert r.gradient_check.method == "complex-step" and r.passed
    assert r.gradient_check.max_rel_error < 1e-14
    assert r.reference_name == "complex step"
    # The trace, one complex and one float probe, d complex steps (the check's and the
    # method table's reference at once) and the 2d counted central differences. Before,
    # the check (8-16 per partial) and the table's reference (4 per partial) each ran.
    assert calls[0] == 1 + 2 + d + 2 * d
    assert r.methods[0].max_rel_error is not None and r.methods[0].max_rel_error < 1e-14


def test_a_function_that_cannot_take_complex_numbers_falls_back_to_central() -> None:
    def relu_ish(x: Any, y: Any) -> Any:
        return x * y if x > 0 else y * y  # comparisons of complex numbers fail

    f, calls = _calls(relu_ish)
    r = grad(f)(1.5, 2.0)
    assert r.gradient_check.method == "central" and r.passed
    assert r.reference_name == "central differences with a Richardson step"
    # One central reference shared by the check and the table: no second set.
    assert calls[0] == 1 + 2 + r.gradient_check.evaluations + 2 * 2


def test_a_complex_evaluation_that_is_not_analytic_is_overruled_by_central() -> None:
    def fn(ins: Sequence[Num]) -> Num:
        return ins[0] * ins[0]

    # A "complex" evaluation that drops the imaginary part: the complex step says 0.
    c = Circuit("sq", ("x",), (3.0,), fn=fn, numpy_fn=lambda t: float(t[0] ** 2),
                complex_fn=lambda z: complex(z[0].real ** 2))
    r = analyze(c)
    assert r.gradient_check.method == "central" and r.passed


def test_directional_checks_above_the_threshold_and_they_catch_a_wrong_gradient() -> None:
    d = FULL_CHECK_MAX_INPUTS + 1
    theta = np.linspace(-1.0, 1.0, d)
    c = Circuit("sumsq", tuple(f"x{i}" for i in range(d)), tuple(theta.tolist()),
                fn=lambda ins: sum((x * x for x in ins[1:]), ins[0] * ins[0]),
                complex_fn=lambda z: complex(np.sum(z * z)))
    e = evaluators(c, float(theta @ theta))
    good, reference = check_circuit(e, theta, 2 * theta, "auto", None)
    assert good.method == "complex-step-directional" and good.passed and reference is None
    wrong = 2 * theta
    wrong[17] += 1.0  # one partial off by about a tenth of the gradient's norm
    bad, _ = check_circuit(e, theta, wrong, "auto", None)
    assert not bad.passed and bad.max_rel_error > 1e-3
    below = theta[:FULL_CHECK_MAX_INPUTS]
    full, _ = check_circuit(evaluators(dataclasses.replace(
        c, inputs=c.inputs[:-1], values=tuple(below.tolist())), float(below @ below)),
        below, 2 * below, "auto", None)
    assert full.method == "complex-step" and full.comparisons == FULL_CHECK_MAX_INPUTS


def test_a_large_user_function_is_checked_along_directions() -> None:
    def rosenbrock(*x: Any) -> Any:
        total = 0.0
        for a, b in zip(x[:-1], x[1:], strict=False):
            total = total + 100.0 * (b - a**2) ** 2 + (1.0 - a) ** 2
        return total

    r = grad(rosenbrock, max_ops=0)(*([0.5] * 600))
    assert r.gradient_check.method == "complex-step-directional" and r.passed


def test_a_yaml_circuit_is_checked_without_counted_evaluations() -> None:
    c = circuit_from_yaml("circuit:\n  inputs: {x: 1.5, y: -0.3, z: 2.0}\n  let:\n"
                          "    t: x*y + sin(z)\n  output: t / (1 + exp(-t)) + log(z)**2\n",
                          "t.yaml")
    calls = [0]
    inner = c.fn

    def fn(ins: Sequence[Num]) -> Num:
        calls[0] += 1
        return inner(ins)

    r = analyze(dataclasses.replace(c, fn=fn))
    assert r.gradient_check.method == "complex-step" and r.passed
    assert r.gradient_check.max_rel_error < 1e-14
    assert calls[0] == 1 + 2 * 3  # the trace and the counted central differences only


@pytest.mark.parametrize("name", circuit_names())
def test_plain_evaluators_agree_with_the_counted_one_on_every_bundled_circuit(
        name: str) -> None:
    c = resolve(name)
    assert c.numpy_fn is not None and c.complex_fn is not None and c.batch_fn is not None
    rng = np.random.default_rng(1)
    theta = np.array(c.values)
    points = theta + 0.01 * rng.standard_normal((5, theta.size))
    batch = c.batch_fn(points.astype(complex))
    for k, p in enumerate(points):
        counted = c.fn([const(v) for v in p.tolist()]).v
        assert c.numpy_fn(p) == pytest.approx(counted, rel=1e-13, abs=1e-13)
        assert complex(c.complex_fn(p.astype(complex))) == pytest.approx(counted, rel=1e-13)
        assert complex(batch[k]) == pytest.approx(counted, rel=1e-13)


def test_the_plain_evaluator_refuses_what_the_counted_one_refuses() -> None:
    for text, env in [("log(x)", {"x": -1.0}), ("1 / x", {"x": 0.0}),
                      ("sqrt(x)", {"x": np.array([1.0, -2.0])}), ("x**-2", {"x": 0.0}),
                      ("exp(x)", {"x": 1000.0})]:
        with pytest.raises(DomainError):
            parse(text).evaluate_plain(env)
    # The domain is judged on the real part: a complex step stays in it.
    assert parse("log(x)").evaluate_plain({"x": 2.0 + 1e-30j}).imag == pytest.approx(5e-31)


def test_progress_is_reported_for_the_long_loops() -> None:
    seen: list[tuple[str, int, int]] = []
    d = 70
    analyze(Circuit("sumsq", tuple(f"x{i}" for i in range(d)), (0.5,) * d,
                    fn=lambda ins: sum((x * x for x in ins[1:]), ins[0] * ins[0])),
            progress=lambda stage, done, total: seen.append((stage, done, total)))
    stages = {s for s, _, _ in seen}
    assert stages == {"gradient check", "central differences"}
    assert ("gradient check", d, d) in seen and ("central differences", 2 * d, 2 * d) in seen


def test_check_progress_is_silent_off_a_terminal_and_draws_on_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from cheapgrad.cli import circuit as cli_circuit

    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    with cli_circuit.check_progress() as report:
        assert report is None
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    monkeypatch.setattr(cli_circuit, "PROGRESS_AFTER_SECONDS", 0.0)
    with cli_circuit.check_progress() as report:
        assert report is not None
        report("gradient check", 10, 100)
        report("gradient check", 100, 100)


def test_a_failing_probe_is_not_used() -> None:
    def fn(ins: Sequence[Num]) -> Num:
        return ins[0] * 2.0

    c = Circuit("twice", ("x",), (1.0,), fn=fn, numpy_fn=lambda t: 99.0,
                complex_fn=lambda z: 1 / 0)
    e: Evaluators = evaluators(c, 2.0)
    assert e.complex_f is None and e.batch is None and e.real(np.array([1.0])) == 2.0


def test_the_counted_functions_take_plain_complex_numbers_uncounted() -> None:
    from cheapgrad.core.counter import Counter

    c = Counter()
    with c.scope("forward"):
        z = sin(0.5 + 1e-30j)
    assert type(z) is complex and z.imag / 1e-30 == pytest.approx(np.cos(0.5), rel=1e-15)
    assert c.totals().total == 0
    with pytest.raises(DomainError):
        log(-1.0 + 1e-30j)  # outside the real log's domain, as the counted log says


def test_abs_of_a_complex_number_is_not_analytic_and_central_differences_decide() -> None:
    # abs() of a complex number is its real modulus: the complex step sees no slope, so
    # the check falls back to central differences of the float evaluation, which pass.
    r = grad(lambda x, y: abs(x) * y)(-1.5, 2.0)
    assert r.gradient.tolist() == [-2.0, 1.5]
    assert r.gradient_check.method == "central" and r.passed
