"""Issue 14, section 4, items 8-10: messages, input files, counting and the API at the
edges (each test failed before its fix)."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import one_line_error

from cheapgrad.analysis.result import ratio_of
from cheapgrad.api import grad
from cheapgrad.cli.app import main
from cheapgrad.models.expr import parse


def invoke(cli: CliRunner, *args: str) -> object:
    return cli.invoke(main, list(args))


# --- 8: messages ---------------------------------------------------------------------


def test_unknown_command_suggests_the_closest(cli: CliRunner) -> None:
    one_line_error(invoke(cli, "circut"), "did you mean 'circuit'?", "commands: audit")
    one_line_error(invoke(cli, "RUN"), "commands are lower case: 'run'")


@pytest.mark.parametrize("name, needle", [
    ("TANH", "names are lower case: 'tanh'"),
    ("custom(10)", "needs two costs: custom(C,D)"),
    ("custom(-1,5)", "must be positive integers"),
])
def test_activation_messages_say_what_is_wrong(cli: CliRunner, name: str, needle: str) -> None:
    one_line_error(invoke(cli, "sweep", "--activations", name), needle)


def test_spec_activation_custom_form(cli: CliRunner, write_file: object) -> None:
    path = write_file("input_dim: 2\nhidden: [2]\nactivation: custom(10)\n")  # type: ignore[operator]
    one_line_error(invoke(cli, "run", path), "needs two costs")


def test_empty_output_name(cli: CliRunner) -> None:
    line = one_line_error(invoke(cli, "run", "--save-arrays", ""), "name is empty")
    assert not line.startswith("Error: :")


def test_plurals_and_reference_name(cli: CliRunner) -> None:
    result = invoke(cli, "circuit", "product", "--n", "1")
    assert "1 comparisons" not in result.output and "1 comparison," in result.output
    assert "product of 1 number" in result.output and "1 numbers" not in result.output
    result = invoke(cli, "circuit", "det", "--format", "markdown")
    assert "the Jacobi's" not in result.output


def test_nan_input_is_not_called_overflow() -> None:
    with pytest.raises(Exception) as info:
        grad(lambda x: x * x)(math.nan)
    assert "overflow" not in str(info.value) and "NaN" in str(info.value)


def test_audit_on_the_array_engine_does_not_suggest_the_array_engine(
        cli: CliRunner) -> None:
    result = invoke(cli, "audit", "--derivative-factor", "1000000", "--engine", "array")
    assert "--engine array" not in result.output


def test_files_name_the_command_that_reads_them(cli: CliRunner, write_file: object) -> None:
    spec = write_file("input_dim: 2\nhidden: [2]\nactivation: tanh\n")  # type: ignore[operator]
    one_line_error(invoke(cli, "circuit", spec), "MLP spec", "cheapgrad run")
    circuit = write_file("circuit:\n  inputs: {x: 1.0}\n  output: x*x\n",  # type: ignore[operator]
                         "c.yaml")
    one_line_error(invoke(cli, "run", circuit), "circuit file", "cheapgrad circuit")


def test_outside_footnote_only_when_marked_and_once(cli: CliRunner) -> None:
    out = invoke(cli, "circuit", "product", "--n", "5", "--cost-model", "all").output
    assert out.count("outside the theorem's hypothesis") <= 1
    assert "*" not in out.split("Cost models")[1].split("outside")[0].replace("**", "") \
        or "outside the theorem's hypothesis" in out
    # Speelpenning's product is rational: no verdict is marked, so no footnote.
    assert "outside the theorem's hypothesis" not in out
    out = invoke(cli, "circuit", "logistic", "--cost-model", "all").output
    assert out.count("outside the theorem's hypothesis") == 1


# --- 9: input files ------------------------------------------------------------------


def test_devices_and_fifos_are_refused(cli: CliRunner, tmp_path: Path) -> None:
    one_line_error(invoke(cli, "run", "/dev/zero"), "not a regular file")
    fifo = tmp_path / "f.yaml"
    os.mkfifo(fifo)
    one_line_error(invoke(cli, "run", str(fifo)), "not a regular file")
    one_line_error(invoke(cli, "circuit", str(fifo)), "not a regular file")


def test_large_files_are_read_only_up_to_the_cap(cli: CliRunner, tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (3 << 20))
    one_line_error(invoke(cli, "run", str(big)), "larger than 1024 KiB")


# --- 10: counting and the API --------------------------------------------------------


def test_negative_literal_is_a_constant() -> None:
    assert [op for op, _, _ in parse("w1*(-1.5)").code] == ["name", "const", "mul"]
    assert parse("-(2)").code[0][1] == -2.0
    assert [op for op, _, _ in parse("-x").code] == ["name", "neg"]
    assert [op for op, _, _ in parse("-2**2").code] == ["const", "pow", "neg"]


def test_negative_literal_counts_no_neg(cli: CliRunner, write_file: object) -> None:
    path = write_file("circuit:\n  inputs: {w1: 2.0}\n  output: w1*(-1.5)\n",  # type: ignore[operator]
                      "c.yaml")
    doc = json.loads(invoke(cli, "circuit", path, "--format", "json").stdout)
    assert doc["cost_f"] == 1


def test_gradient_named_after_the_parameters_passed() -> None:
    r = grad(lambda x, y=2.0: x * y)(1.5)
    assert list(r.inputs) == ["x"]


def test_zero_over_zero_is_undefined(cli: CliRunner) -> None:
    assert math.isnan(ratio_of(0, 0))
    doc = json.loads(invoke(cli, "circuit", "product", "--n", "1", "--format", "json").stdout)
    assert doc["ratio"] is None and doc["holds"] is True
    out = invoke(cli, "circuit", "product", "--n", "1").output
    assert "undefined" in out and "1.0000" not in out


def test_local_file_wins_over_bundled_name(cli: CliRunner, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wide.yaml").write_text("name: mine\ninput_dim: 2\nhidden: [2]\n"
                                        "activation: tanh\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    doc = json.loads(invoke(cli, "run", "wide", "--format", "json").stdout)
    assert doc["name"] == "mine"


def test_jobs_capped_at_the_cores(cli: CliRunner) -> None:
    result = invoke(cli, "sweep", "--depths", "1", "--widths", "2", "--activations", "tanh",
                    "--jobs", "1000", "--format", "json")
    assert result.exit_code == 0
    assert "--jobs 1000: this machine has" in result.stderr


def test_interrupted_sweep_still_plots(cli: CliRunner, tmp_path: Path,
                                       interrupt_run_at: object) -> None:
    pytest.importorskip("matplotlib")
    interrupt_run_at(2)  # type: ignore[operator]
    png, out = tmp_path / "s.png", tmp_path / "s.json"
    result = invoke(cli, "sweep", "--depths", "1,2", "--widths", "2", "--activations", "tanh",
                    "--jobs", "1", "--format", "json", "--out", str(out), "--plot", str(png))
    assert result.exit_code == 130, result.output
    assert out.exists() and png.exists()
