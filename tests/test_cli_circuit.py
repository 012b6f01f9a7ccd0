"""The ``cheapgrad circuit`` command: formats, exit codes, one-line errors."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Runner, invoke_json, one_line_error

from cheapgrad.cli.app import main
from cheapgrad.core import ops


def _json(cli: CliRunner, *args: str) -> dict:
    return invoke_json(cli, "circuit", *args, "--format", "json")


def test_json_carries_the_run_fields(cli: CliRunner) -> None:
    doc = _json(cli, "product", "--n", "6", "--seed", "3")
    for key in ("counts", "cost_f", "cost_f_and_grad", "ratio", "bound", "holds"):
        assert key in doc
    assert set(doc["counts"]) == {"forward", "backward"}
    assert doc["counts"]["forward"]["mul"] == 5 and doc["counts"]["backward"]["mul"] == 10
    assert doc["cost_f"] == 5 and doc["cost_f_and_grad"] == 15
    assert doc["ratio"] == 3.0 and doc["bound"] == 5.0 and doc["holds"] is True
    assert list(doc["inputs"]) == [f"x{i}" for i in range(1, 7)]
    assert list(doc["gradient"]) == list(doc["inputs"])
    assert set(doc["methods"]) == {"reverse", "forward", "central"}
    for m in doc["methods"].values():
        assert {"cost", "ratio", "max_rel_error"} <= set(m)
    assert doc["methods"]["central"]["cost"] == 12 * doc["cost_f"]
    assert set(doc["memory"]) == {"tape", "ops", "forward_peak"}
    assert doc["passed"] is True and isinstance(doc["value"], float)


def test_gap_grows_with_n(cli: CliRunner) -> None:
    small = _json(cli, "softmax-ce", "--n", "4")
    large = _json(cli, "softmax-ce", "--n", "64")
    assert large["ratio"] < 2 and small["ratio"] < 2
    assert large["methods"]["forward"]["ratio"] > 10 * small["methods"]["forward"]["ratio"]


def test_det_thirty_json(cli: CliRunner) -> None:
    doc = _json(cli, "det", "--n", "30", "--max-ops", "0")
    assert len(doc["inputs"]) == 900 and "a_30_30" in doc["gradient"]
    assert doc["methods"]["forward"]["cost"] is None
    assert doc["holds"] and doc["passed"]


def test_mlp_against_backprop(cli: CliRunner) -> None:
    doc = _json(cli, "mlp", "--spec", "lecture", "--max-ops", "0")
    assert doc["backprop"]["gradients_agree"]
    assert doc["backprop"]["cost_f"] == doc["cost_f"]
    assert doc["passed"]


def test_table_markdown_csv(cli: CliRunner) -> None:
    res = cli.invoke(main, ["circuit", "horner", "--n", "5"])
    assert res.exit_code == 0 and "Why reverse mode" in res.output
    assert "Per op" in res.output
    res = cli.invoke(main, ["circuit", "logistic", "--format", "markdown"])
    assert res.exit_code == 0 and res.output.startswith("# cheapgrad circuit: logistic")
    res = cli.invoke(main, ["circuit", "det", "--n", "3", "--format", "csv"])
    rows = list(csv.DictReader(io.StringIO(res.output)))
    assert res.exit_code == 0
    assert {"name": "det-3", "phase": "backward", "caused_by": "sub", "op": "neg",
            "count": "5"} in rows


def test_yaml_file(cli: CliRunner, tmp_path: Path) -> None:
    p = tmp_path / "c.yaml"
    p.write_text("circuit:\n  inputs: {a: 2.0, b: 3.0}\n  output: a*b - a\n", "utf-8")
    doc = _json(cli, str(p))
    assert doc["inputs"] == {"a": 2.0, "b": 3.0}
    assert doc["gradient"] == {"a": 2.0, "b": 2.0}


def test_list(cli: CliRunner) -> None:
    res = cli.invoke(main, ["circuit", "--list"])
    assert res.exit_code == 0
    for name in ("product", "horner", "det", "softmax-ce", "mlp", "logistic"):
        assert name in res.output


def test_wrong_rule_is_caught_and_exits_1(cli: CliRunner, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # A sin whose reverse rule forgets the cos: reverse mode is wrong, the central
    # differences of the float evaluation (which never uses a rule) catch it.
    wrong = dataclasses.replace(ops.SIN, vjp=lambda g, out, a: (g * 1.0,))
    monkeypatch.setitem(ops.FUNCTIONS, "sin", wrong)
    p = tmp_path / "c.yaml"
    p.write_text("circuit:\n  inputs: {x: 0.3}\n  output: sin(x) * x\n", "utf-8")
    res = cli.invoke(main, ["circuit", str(p), "--format", "json"])
    assert res.exit_code == 1
    doc = json.loads(res.output)
    assert doc["holds"] is True and doc["gradient_check"]["passed"] is False
    assert doc["passed"] is False
    assert doc["methods"]["forward"]["max_rel_error"] < 1e-8  # its jvp is still right
    assert doc["methods"]["reverse"]["max_rel_error"] > 0.01


@pytest.mark.parametrize("args, words", [
    (["nope"], "no circuit 'nope'"),
    ([], "name a circuit"),
    (["det", "--n", "0"], "between 1 and 60"),
    (["mlp", "--n", "3"], "--n does not apply to mlp"),
    (["product", "--spec", "lecture"], "--spec applies to the mlp circuit only"),
    (["mlp", "--spec", "missing.yaml"], "missing.yaml: no such file"),
    (["logistic", "--n", "3"], "apply to built-in circuits only"),
])
def test_bad_input_exits_2(cli: CliRunner, args: list[str], words: str) -> None:
    one_line_error(cli.invoke(main, ["circuit", *args]), words)


@pytest.mark.parametrize("text, words", [
    ("circuit:\n  inputs: {x: 1.0}\n  output: __import__(x)\n",
     "bad.yaml:3: circuit.output: column 11: unknown function '__import__'"),
    ("circuit:\n  inputs: {x: 1.0}\n  let:\n    f: x / (x - 1)\n  output: f\n",
     "bad.yaml:4: circuit.let.f: cannot be evaluated: div(1, 0): division by zero"),
    ("circuit:\n  inputs: {x: 1.0}\n  let:\n    a: b\n    b: a\n  output: a\n",
     "cycle in let: a -> b -> a"),
    ("circuit:\n  inputs: {x: -1.0}\n  output: log(x)\n", "log(-1): math domain error"),
])
def test_bad_file_is_one_line_exit_2(cli: CliRunner, tmp_path: Path, text: str,
                                     words: str) -> None:
    p = tmp_path / "bad.yaml"
    p.write_text(text, "utf-8")
    one_line_error(cli.invoke(main, ["circuit", str(p)]), words)


def test_the_mlp_circuit_checks_tiny_gradients_by_complex_step(tmp_path) -> None:  # type: ignore[no-untyped-def]

    from cheapgrad.cli.app import main

    spec = tmp_path / "s.yaml"
    spec.write_text("input_dim: 4\nhidden: [8, 8, 8, 8]\nactivation: square\nseed: 3\n")
    result = Runner().invoke(main, ["circuit", "mlp", "--spec", str(spec), "--format",
                                       "json"])
    assert result.exit_code == 0, result.output[-500:]
    gc = json.loads(result.output)["gradient_check"]
    assert gc["method"] == "complex-step" and gc["max_rel_error"] < 1e-12
