"""Jacobians of numpy programs on the array engine: every mode counts what the scalar
engine counts for the same program, phase by phase and kind by kind (random programs
of the property test's generator, returning an array), with the same matrix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import invoke_json
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_array_property import BINARY, UNARY, N, inputs, step

import cheapgrad
from cheapgrad.analysis.array_jacobian import ARRAY_MODES, array_jacobian, array_jacobian_report
from cheapgrad.analysis.derivatives import program_function
from cheapgrad.analysis.jacobian import jacobian
from cheapgrad.analysis.second_order import phase_counts
from cheapgrad.errors import CheapgradError


def vector_program(steps: list[tuple[Any, ...]]) -> Any:
    const = np.random.default_rng(123).normal(size=(N, N))

    def F(x: Any, col: Any, row: Any) -> Any:  # noqa: N802 - a vector function
        regs = [x, col, row, const, np.where(np.eye(N) > 0, x, 0.5)]
        for s in steps:
            if s[0] == "u":
                regs.append(UNARY[s[1]](regs[s[2] % len(regs)]))
            else:
                regs.append(BINARY[s[1]](regs[s[2] % len(regs)], regs[s[3] % len(regs)]))
        return regs[-1] * regs[-2] + x[0]

    return F


def _same(F: Any, arrays: dict[str, np.ndarray]) -> None:
    fn = program_function(F, arrays)
    flat = np.concatenate([a.ravel() for a in arrays.values()])
    for mode, dense in ARRAY_MODES:
        a = array_jacobian(F, arrays, mode, dense=dense)
        s = jacobian(fn, flat, mode, dense=dense)
        assert phase_counts(a.counter) == phase_counts(s.counter), (mode, dense)
        assert a.passes == s.passes
        np.testing.assert_allclose(a.matrix, s.matrix, rtol=1e-10, atol=1e-10)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(step, min_size=1, max_size=5), st.integers(0, 2**32 - 1))
def test_array_and_scalar_jacobians_count_the_same(steps: list[tuple[Any, ...]],
                                                   seed: int) -> None:
    rng = np.random.default_rng(seed)
    arrays = inputs(rng)
    _same(vector_program(steps), arrays)


def test_a_banded_program_takes_three_colors_whatever_n() -> None:
    def banded(x: Any) -> Any:
        return np.concatenate([np.zeros(1), x[:-1]]) * x - np.concatenate(
            [x[1:], np.zeros(1)]) + np.sin(x)

    for n in (10, 40):
        r = array_jacobian_report("banded", banded, {"x": np.linspace(-1, 1, n)})
        assert r.passed, [c for c in r.checks if not c.passed]
        assert r.result("colored").passes == 3 and r.result("forward").passes == n


def test_an_output_element_used_twice_is_seeded_with_one_add_on_both_engines() -> None:
    F = lambda x: np.take(x * x, [0, 0, 1])  # noqa: E731 - outputs 0 and 1 are one value
    arrays = {"x": np.array([1.0, 2.0])}
    fn = program_function(F, arrays)
    for dense in (True, False):
        a = array_jacobian(F, arrays, "reverse", dense=dense)
        s = jacobian(fn, np.array([1.0, 2.0]), "reverse", dense=dense)
        assert phase_counts(a.counter) == phase_counts(s.counter)
    # the dense sweep seeded on output 0 also carries output 1's zero: 3 sweeps, 1 add each
    s = jacobian(fn, np.array([1.0, 2.0]), "reverse")
    assert s.counter.totals("backward", "accumulate", "seed").nonzero() == {"add": 3}


def test_the_api_runs_jacobians_on_the_array_engine() -> None:
    F = lambda x: np.tanh(x) * x.sum()  # noqa: E731
    x = np.array([0.5, -1.0, 2.0])
    for mode in ("forward", "reverse", "colored"):
        a = cheapgrad.jacobian(F, mode=mode, engine="array")(x)
        s = cheapgrad.jacobian(F, mode=mode, engine="scalar")(x)
        assert a.passed and a.results[0].mode == mode
        np.testing.assert_allclose(a.matrix, s.matrix, rtol=1e-12)
    with pytest.raises(CheapgradError, match="scalar engine only"):
        cheapgrad.hvp(lambda w: (w * w).sum(), engine="array", modes=("rev-fwd",))(x, x)


def test_the_cli_runs_a_program_jacobian_on_the_array_engine(cli: CliRunner,
                                                             tmp_path: Path) -> None:
    src = tmp_path / "prog.py"
    src.write_text("import numpy as np\n"
                   "def inputs():\n    return {'x': np.array([0.5, -1.0, 2.0])}\n"
                   "def F(x):\n    return np.tanh(x) * x.sum()\n")
    a = invoke_json(cli, "circuit", f"{src}:F", "--derivative", "jacobian", "--format", "json")
    s = invoke_json(cli, "circuit", f"{src}:F", "--engine", "scalar", "--derivative",
                    "jacobian", "--format", "json")
    assert a["passed"] and a["outputs"] == 3 and a["inputs"][0] == "x[0]"
    np.testing.assert_allclose(a["matrix"], s["matrix"], rtol=1e-12)
    costs = {(m["mode"], m["passes"]): m["cost"]["unit"] for m in s["modes"]}
    for m in a["modes"]:
        assert costs[(m["mode"], m["passes"])] == m["cost"]["unit"] or m["mode"] == "reverse"
