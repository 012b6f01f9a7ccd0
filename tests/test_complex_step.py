"""The complex-step route of the HVP and Hessian checks: the recorded gradient circuit
on complex inputs x + i·h·v, exact to rounding; differences where it cannot run."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from cheapgrad.analysis import secondcheck
from cheapgrad.analysis.derivatives import hessian_report, hvp_report, program_function
from cheapgrad.core.complexfns import COMPLEX_OPS
from cheapgrad.core.forward import complex_values
from cheapgrad.core.functions import exp, log, sin, sqrt, tanh
from cheapgrad.core.number import tracing, var
from cheapgrad.core.ops import OPS
from cheapgrad.render.derivative import to_dict, to_markdown


def f(xs: list[Any]) -> Any:
    a, b, c = xs
    return exp(a * b) / (1.0 + c * c) + log(sqrt(b * b + 1.0)) * sin(c) + tanh(a) ** 3


def test_every_differentiable_op_has_a_complex_form() -> None:
    assert set(COMPLEX_OPS) == {name for name, op in OPS.items() if op.jvp is not None}


def test_the_complex_step_agrees_with_the_modes_to_rounding() -> None:
    x, v = [0.3, -0.7, 1.1], [1.0, -2.0, 0.5]
    r = hvp_report("f", f, x, v)
    assert r.passed and r.route == "complex step"
    step = next(c for c in r.checks if c.name == "complex step of ∇f along v")
    assert step.error < 1e-14
    # no difference check ran: the complex step replaced them
    assert not any("differences" in c.name for c in r.checks)


def test_a_wrong_hvp_fails_the_complex_step_check() -> None:
    x, v = np.array([0.3, -0.7, 1.1]), np.array([1.0, -2.0, 0.5])
    good = hvp_report("f", f, x, v).hvp
    checks = secondcheck.hvp_checks(f, x, v, {"fwd-rev": good * (1 + 1e-7)})
    assert not secondcheck.all_passed(checks)
    assert secondcheck.route(checks) == "complex step"


def test_differences_run_where_complex_evaluation_fails(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    def refuse(*args: Any) -> Any:
        raise OverflowError("complex overflow")

    monkeypatch.setattr(secondcheck, "complex_values", refuse)
    r = hvp_report("f", f, [0.3, -0.7, 1.1], [1.0, -2.0, 0.5])
    assert r.passed and r.route == "central differences"
    assert {c.name for c in r.checks} >= {"central differences of ∇f along v",
                                          "Hessian by differences · v"}
    h = hessian_report("f", f, [0.3, -0.7, 1.1])
    assert h.route == "central differences" and h.passed


def test_the_route_is_in_the_json_and_markdown() -> None:
    r = hvp_report("f", f, [0.3, -0.7, 1.1], [1.0, -2.0, 0.5])
    doc = json.loads(json.dumps(to_dict(r)))
    assert doc["route"] == "complex step"
    assert "Independent route: complex step." in to_markdown(r)
    h = hessian_report("f", f, [0.3, -0.7, 1.1])
    assert to_dict(h)["route"] == "complex step"


def test_a_numpy_program_on_the_scalar_engine_takes_the_complex_step() -> None:
    arrays = {"w": np.array([[0.5, -1.0], [2.0, 0.1]]), "x": np.array([0.3, -0.2])}
    fn = program_function(lambda w, x: np.tanh(w @ x).sum() + (w * w).mean(), arrays)
    flat = np.concatenate([a.ravel() for a in arrays.values()])
    r = hvp_report("p", fn, flat, np.linspace(-1, 1, 6))
    assert r.passed and r.route == "complex step"
    assert next(c for c in r.checks if c.name.startswith("complex")).error < 1e-13


def test_complex_values_of_a_recorded_gradient() -> None:
    from cheapgrad.core.counter import Counter
    from cheapgrad.core.tape import backward

    x = var(0.5)
    with tracing():
        y = sin(x) * x
        (g,) = backward(y, [x], Counter())
    h = 2.0 ** -60
    (z,) = complex_values([g], [x], [complex(0.5, h)])
    # d/dx (cos x · x + sin x) = 2 cos x − x sin x
    assert abs(z.imag / h - (2 * np.cos(0.5) - 0.5 * np.sin(0.5))) < 1e-15
