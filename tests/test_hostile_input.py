"""Input built to hurt: deep nesting, alias bombs, huge files, scientific notation,
Ctrl-C. Each gets one line and the documented exit code, quickly."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import CliProcess, one_line_error

from cheapgrad.cli.app import main
from cheapgrad.errors import SpecError
from cheapgrad.models.spec import spec_from_yaml
from cheapgrad.models.yamlio import MAX_DEPTH, parse_yaml

BASE = "input_dim: 2\nhidden: [3]\nactivation: tanh\n"


def one_line_exit_2(cli: CliRunner, args: list[str]) -> str:
    return one_line_error(cli.invoke(main, args))


@pytest.mark.parametrize("depth", [60, 1000, 5000])
def test_deep_nesting_is_refused(cli: CliRunner, tmp_path: Path, depth: int):
    p = tmp_path / "deep.yaml"
    p.write_text(BASE + "description: " + "[" * depth + "]" * depth + "\n")
    line = one_line_exit_2(cli, ["run", str(p)])
    assert "nested" in line and "deep" in line


def test_an_alias_bomb_is_refused_quickly(cli: CliRunner, tmp_path: Path):
    text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
    for i in range(1, 9):
        text += f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]\n"
    p = tmp_path / "bomb.yaml"
    p.write_text(BASE + text)
    start = time.monotonic()
    line = one_line_exit_2(cli, ["run", str(p)])
    assert time.monotonic() - start < 5
    assert "more than 100,000 values" in line


def test_a_huge_file_is_refused(cli: CliRunner, tmp_path: Path):
    p = tmp_path / "huge.yaml"
    p.write_text(BASE + "description: " + "x" * (2 << 20) + "\n")
    assert "larger than 1024 KiB" in one_line_exit_2(cli, ["run", str(p)])


def test_scientific_notation_is_a_number():
    data, _ = parse_yaml("a: 1e-3\nb: 2E5\nc: -1.5e+2\nd: 10\ne: 1.0\nf: e5\n")
    assert data == {"a": 1e-3, "b": 2e5, "c": -150.0, "d": 10, "e": 1.0, "f": "e5"}
    assert isinstance(data["d"], int)
    with pytest.raises(SpecError, match=r"must be a whole number \(write 1000\)"):
        spec_from_yaml("input_dim: 1e3\nhidden: []\nactivation: identity\n")


def test_nesting_just_under_the_limit_reads():
    nested = "[" * (MAX_DEPTH - 2) + "1" + "]" * (MAX_DEPTH - 2)
    data, _ = parse_yaml(f"a: {nested}\n")
    assert data is not None


def test_scientific_notation_in_a_circuit(cli: CliRunner, tmp_path: Path):
    p = tmp_path / "c.yaml"
    p.write_text("circuit:\n  inputs: {x: 1e-3, y: 2e0}\n  output: x*y + x\n")
    result = cli.invoke(main, ["circuit", str(p), "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["inputs"] == {"x": 1e-3, "y": 2.0}


def test_ctrl_c_in_run_exits_130_without_a_traceback(
        write_file: Callable[..., str], cli_process: Callable[..., CliProcess]):
    # A net big enough that the scalar engine counts for a few seconds; the run says
    # "ready" just before it starts counting.
    proc = cli_process("run", write_file("input_dim: 1000\nhidden: [1000, 1000]\n"
                                         "activation: tanh\n", "big.yaml"),
                       "--engine", "scalar")
    proc.wait_until_ready()
    proc.interrupt()
    _, err = proc.finish()
    assert proc.proc.returncode == 130, err
    assert err.strip() == "interrupted"


def test_a_circuit_whose_value_overflows_is_refused(cli: CliRunner, tmp_path: Path):
    p = tmp_path / "inf.yaml"
    p.write_text("circuit:\n  inputs: {x: 1.5, y: 2.0}\n  output: 1e308*1e308 + x\n")
    line = one_line_exit_2(cli, ["circuit", str(p)])
    assert "cannot be evaluated: f = inf" in line


@pytest.mark.parametrize(("text", "message"), [
    ("<<: {input_dim: 4}\nhidden: [8]\nactivation: tanh\n",
     ":1: a merge key (<<) is not supported in a spec"),
    ("input_dim: !!python/object:os.system 4\nhidden: [8]\nactivation: tanh\n",
     ":1: input_dim: the tag tag:yaml.org,2002:python/object:os.system is not supported"),
])
def test_yaml_merge_keys_and_python_tags_are_one_line(cli: CliRunner, tmp_path: Path,
                                                      text: str, message: str):
    p = tmp_path / "s.yaml"
    p.write_text(text)
    assert message in one_line_exit_2(cli, ["run", str(p)])


def test_a_circuit_input_too_large_for_float64(cli: CliRunner, tmp_path: Path):
    p = tmp_path / "c.yaml"
    p.write_text("circuit:\n  inputs: {x: " + "9" * 400 + "}\n  output: x*x\n")
    assert "circuit.inputs.x: is too large for a float64" in one_line_exit_2(
        cli, ["circuit", str(p)])


def test_a_reader_that_goes_away_is_exit_141_not_a_failed_check() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "cheapgrad.cli.app", "run"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `cheapgrad run | true`
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert proc.returncode == 141, err
    assert "Traceback" not in err


def test_exp_overflow_on_the_scalar_engine_names_the_spec(cli: CliRunner, tmp_path: Path):
    p = tmp_path / "x.yaml"
    p.write_text("input_dim: 4\nhidden: [8, 8, 8, 8, 8, 8, 8, 8, 8, 8]\n"
                 "activation: [square, square, square, square, square, square, square, "
                 "square, square, sigmoid]\nseed: 3\n")
    line = one_line_exit_2(cli, ["run", str(p), "--engine", "scalar"])
    assert line.startswith("Error: x: exp(") and "overflow float64" in line
