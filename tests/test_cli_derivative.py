"""``cheapgrad circuit --derivative hvp|hessian|jacobian``: every format, the checks,
the exit codes and the one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import invoke_json, one_line_error

from cheapgrad.cli.app import main


def test_hvp_json_has_three_modes_the_same_vector_and_passing_checks(cli: CliRunner) -> None:
    doc = invoke_json(cli, "circuit", "rosen", "--n", "6", "--derivative", "hvp",
                      "--format", "json")
    assert doc["derivative"] == "hvp" and doc["passed"] is True
    assert [m["mode"] for m in doc["modes"]] == ["fwd-rev", "rev-fwd", "rev-rev"]
    assert len(doc["v"]) == 6 and len(doc["hvp"]) == 6
    costs = {m["mode"]: m["cost"]["unit"] for m in doc["modes"]}
    assert len(set(costs.values())) == 3
    for m in doc["modes"]:
        assert m["ratio_grad"]["unit"] == pytest.approx(
            m["cost"]["unit"] / m["cost_f_and_grad"]["unit"])
    assert "closed-form Hessian · v" in {c["check"] for c in doc["checks"]}


def test_hvp_direction_given_as_numbers_and_as_npy(cli: CliRunner, tmp_path: Path) -> None:
    doc = invoke_json(cli, "circuit", "product", "--n", "3", "--derivative", "hvp",
                      "--direction", "1,0,0", "--format", "json")
    assert doc["v"] == [1.0, 0.0, 0.0]
    x = np.array(doc["x"])
    np.testing.assert_allclose(doc["hvp"], [0.0, x[2], x[1]], rtol=1e-12)
    path = tmp_path / "v.npy"
    np.save(path, np.array([1.0, 0.0, 0.0]))
    again = invoke_json(cli, "circuit", "product", "--n", "3", "--derivative", "hvp",
                        "--direction", str(path), "--format", "json")
    assert again["hvp"] == doc["hvp"]


def test_default_direction_is_seeded(cli: CliRunner) -> None:
    a = invoke_json(cli, "circuit", "softmax-ce", "--n", "4", "--derivative", "hvp",
                    "--format", "json")
    b = invoke_json(cli, "circuit", "softmax-ce", "--n", "4", "--derivative", "hvp",
                    "--format", "json")
    c = invoke_json(cli, "circuit", "softmax-ce", "--n", "4", "--seed", "1",
                    "--derivative", "hvp", "--format", "json")
    assert a["v"] == b["v"] != c["v"]


def test_hessian_of_rosenbrock_takes_three_colored_passes(cli: CliRunner) -> None:
    doc = invoke_json(cli, "circuit", "rosen", "--n", "12", "--derivative", "hessian",
                      "--format", "json")
    modes = {m["mode"]: m for m in doc["modes"]}
    assert modes["colored"]["passes"] == 3 and modes["dense"]["passes"] == 12
    assert modes["colored"]["cost"]["unit"] < modes["dense"]["cost"]["unit"]
    assert doc["passed"] and max(doc["colors"]) == 2


def test_jacobian_of_vector_builtins(cli: CliRunner) -> None:
    doc = invoke_json(cli, "circuit", "banded", "--n", "20", "--derivative", "jacobian",
                      "--format", "json")
    modes = {m["mode"]: m for m in doc["modes"]}
    assert modes["forward"]["passes"] == modes["reverse"]["passes"] == 20
    assert modes["colored"]["passes"] == 3 and doc["outputs"] == 20 and doc["passed"]
    wide = invoke_json(cli, "circuit", "wide", "--n", "30", "--derivative", "jacobian",
                       "--format", "json")
    w = {m["mode"]: m for m in wide["modes"]}
    assert w["reverse"]["passes"] == 2 < w["forward"]["passes"] == 30
    assert w["reverse"]["cost"]["unit"] < w["forward"]["cost"]["unit"] / 5


def test_jacobian_of_a_numpy_program_on_the_scalar_engine(cli: CliRunner,
                                                          tmp_path: Path) -> None:
    src = tmp_path / "prog.py"
    src.write_text("import numpy as np\n"
                   "def inputs():\n    return {'x': np.array([0.5, -1.0, 2.0])}\n"
                   "def F(x):\n    return np.tanh(x) * x.sum()\n")
    doc = invoke_json(cli, "circuit", f"{src}:F", "--engine", "scalar",
                      "--derivative", "jacobian", "--format", "json")
    assert doc["outputs"] == 3 and doc["passed"] and doc["inputs"][0] == "x[0]"
    result = cli.invoke(main, ["circuit", f"{src}:F", "--derivative", "hessian"])
    one_line_error(result, "one scalar")


def test_hvp_and_hessian_of_a_numpy_program_on_the_array_engine(cli: CliRunner,
                                                                tmp_path: Path) -> None:
    src = tmp_path / "prog.py"
    src.write_text("import numpy as np\n"
                   "def inputs():\n    return {'w': np.array([[0.5, -1.0], [2.0, 0.3]])}\n"
                   "def f(w):\n    return np.tanh(w @ w).sum()\n")
    docs = {}
    for engine in ("array", "scalar"):
        docs[engine] = invoke_json(cli, "circuit", f"{src}:f", "--engine", engine,
                                   "--derivative", "hvp", "--direction", "1,0,0,2",
                                   "--format", "json")
    a, s = docs["array"], docs["scalar"]
    assert a["passed"] and a["inputs"][0] == "w[0]"
    assert [m["mode"] for m in a["modes"]] == ["fwd-rev"]
    assert a["modes"][0] == s["modes"][0]  # the same counts, the same vector
    h = invoke_json(cli, "circuit", f"{src}:f", "--derivative", "hessian", "--format", "json")
    assert h["passed"]
    result = cli.invoke(main, ["circuit", f"{src}:f", "--derivative", "hvp",
                               "--direction", "1,0"])
    one_line_error(result, "expected 4 numbers")
    result = cli.invoke(main, ["circuit", f"{src}:f", "--derivative", "hessian",
                               "--direction", "1,0,0,0"])
    one_line_error(result, "--direction applies to --derivative hvp only")


def test_engine_help_says_where_second_derivatives_run(cli: CliRunner) -> None:
    result = cli.invoke(main, ["circuit", "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "--derivative hvp on array: forward over reverse only" in " ".join(
        result.output.split())


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_every_format(cli: CliRunner, fmt: str) -> None:
    for derivative in ("hvp", "hessian"):
        result = cli.invoke(main, ["circuit", "mlp2", "--n", "2", "--derivative", derivative,
                                   "--format", fmt, "--cost-model", "all"])
        assert result.exit_code == 0, result.output
        if fmt == "table":
            assert max(len(line) for line in result.stdout.splitlines()) <= 80
            assert "every check passed" in result.stdout
        if fmt == "csv":
            assert result.stdout.splitlines()[0].startswith("derivative,circuit,mode,passes")
    result = cli.invoke(main, ["circuit", "axx", "--n", "5", "--derivative", "jacobian",
                               "--format", fmt, "--cost-model", "weighted"])
    assert result.exit_code == 0, result.output
    if fmt == "table":
        assert max(len(line) for line in result.stdout.splitlines()) <= 80


@pytest.mark.parametrize(("args", "needles"), [
    (["product", "--derivative", "hvp", "--direction", "1,2"], ["expected 10 numbers"]),
    (["product", "--derivative", "hvp", "--direction", "1,x"], ["'x' is not a number"]),
    (["product", "--derivative", "hvp", "--direction", "none.npy"], ["no such file"]),
    (["product", "--derivative", "hessian", "--direction", "1"], ["hvp only"]),
    (["axx"], ["vector function", "--derivative jacobian"]),
    (["banded", "--n", "2", "--derivative", "jacobian"], ["between 3"]),
    (["product", "--derivative", "hvp", "--cost-model", "flop"], ["applies to --derivative "
                                                                   "grad"]),
])
def test_bad_input_is_one_line_and_exit_2(cli: CliRunner, args: list[str],
                                          needles: list[str]) -> None:
    one_line_error(cli.invoke(main, ["circuit", *args]), *needles)


def test_a_bad_npy_direction_is_one_line(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "v.npy"
    bad.write_text("not numpy")
    one_line_error(cli.invoke(main, ["circuit", "product", "--derivative", "hvp",
                                     "--direction", str(bad)]), "not a numpy .npy file")


def test_the_listing_shows_the_vector_builtins(cli: CliRunner) -> None:
    out = cli.invoke(main, ["circuit", "--list"]).stdout
    assert "banded" in out and "rosen " in out and "mlp2" in out
    assert max(len(line) for line in out.splitlines()) <= 80
