"""``cheapgrad circuit FILE.py:FUNC`` and the bundled numpy programs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import invoke_json, one_line_error

from cheapgrad.cli.app import main
from cheapgrad.models.programs import EXAMPLES

PROGRAM = """
import numpy as np

def inputs():
    r = np.random.default_rng(0)
    return {"W": r.normal(size=(4, 3)), "x": r.normal(size=(5, 4))}

def loss(W, x):
    h = np.tanh(x @ W)
    return (h * h).mean()

def vector(W, x):
    return x @ W

def explode(W, x):
    return np.exp(W * 1e4).sum()
"""


def test_file_program_json_and_engines_agree(cli: CliRunner,
                                             write_file: Callable[..., str]) -> None:
    path = write_file(PROGRAM, "prog.py")
    a = invoke_json(cli, "circuit", f"{path}:loss", "--format", "json")
    s = invoke_json(cli, "circuit", f"{path}:loss", "--engine", "scalar", "--format", "json")
    assert a["kind"] == "program" and a["engine"] == "array" and s["engine"] == "scalar"
    assert a["counts"] == s["counts"] and a["nonscalar"] == s["nonscalar"]
    assert np.allclose(a["gradient"]["W"], s["gradient"]["W"], rtol=1e-12)
    assert np.shape(a["gradient"]["W"]) == (4, 3) and a["passed"]
    # counts by source line: line 9 (h = tanh(x @ W)) and line 10 (the mean)
    assert set(a["lines"]) == {"prog.py:9", "prog.py:10"}
    line9 = a["lines"]["prog.py:9"]
    assert line9["forward"] == {"mul": 60, "add": 45, "tanh": 15}
    total = sum(n for phases in a["lines"].values() for c in phases.values()
                for n in c.values())
    assert total == a["cost_f_and_grad"]


def test_inputs_from_npz(cli: CliRunner, write_file: Callable[..., str],
                         tmp_path: Path) -> None:
    path = write_file(PROGRAM, "prog.py")
    data = tmp_path / "d.npz"
    np.savez(data, W=np.ones((2, 3)), x=np.ones((1, 2)))
    doc = invoke_json(cli, "circuit", f"{path}:loss", "--inputs", str(data), "--format",
                      "json")
    assert doc["shapes"] == {"W": [2, 3], "x": [1, 2]}


@pytest.mark.parametrize("fmt", ["table", "markdown", "csv"])
def test_formats(cli: CliRunner, write_file: Callable[..., str], fmt: str) -> None:
    path = write_file(PROGRAM, "prog.py")
    r = cli.invoke(main, ["circuit", f"{path}:loss", "--format", fmt, "--cost-model", "all"])
    assert r.exit_code == 0, r.output
    assert "prog.py:9" in r.output


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_bundled_programs(cli: CliRunner, name: str) -> None:
    doc = invoke_json(cli, "circuit", name, "--format", "json")
    assert doc["passed"] and doc["ratio"] <= 5


def test_list_and_help(cli: CliRunner) -> None:
    out = cli.invoke(main, ["circuit", "--list"]).output
    assert all(name in out for name in EXAMPLES)
    helptext = cli.invoke(main, ["circuit", "--help"]).output
    assert "FILE.py:FUNC" in helptext and "Python code and RUNS" in helptext


@pytest.mark.parametrize(("body", "target", "needles"), [
    (None, "missing.py:f", ["missing.py", "no such file"]),
    (PROGRAM, "{path}:nothere", ["no function 'nothere'"]),
    (PROGRAM, "{path}", ["FILE.py:FUNC"]),
    ("def f(x):\n    return x.sum()\n", "{path}:f", ["no inputs()"]),
    ("def inputs():\n    return {'x': ['a']}\ndef f(x):\n    return x.sum()\n", "{path}:f",
     ["not an array of floats"]),
    ("def inputs():\n    return 3\ndef f(x):\n    return x\n", "{path}:f", ["dict"]),
    (PROGRAM, "{path}:vector", ["must return a scalar"]),
    (PROGRAM, "{path}:explode", ["exp"]),
    ("def f(:\n", "{path}:f", ["syntax error"]),
    ("raise RuntimeError('boom')\n", "{path}:f", ["RuntimeError: boom"]),
    ("import numpy as np\ndef inputs():\n    return {'x': np.ones(3)}\n"
     "def f(x):\n    return np.fft.fft(x).sum()\n", "{path}:f", ["np.fft"]),
])
def test_bad_input_is_one_line_exit_2(cli: CliRunner, write_file: Callable[..., str],
                                      body: str | None, target: str,
                                      needles: list[str]) -> None:
    path = write_file(body, "p.py") if body is not None else "missing.py"
    one_line_error(cli.invoke(main, ["circuit", target.format(path=path)]), *needles)


def test_program_json_has_the_circuit_fields_in_both_engines() -> None:
    from cheapgrad.analysis.program import run_program
    from cheapgrad.models.programs import EXAMPLES
    from cheapgrad.render.program import to_dict

    f, make = EXAMPLES["np-logistic"]
    docs = [to_dict(run_program(f, make(), engine=e)) for e in ("array", "scalar")]
    for doc in docs:
        assert {"inputs", "methods", "per_op", "memory"} <= set(doc)
        assert doc["methods"]["reverse"]["measured"]
        assert doc["methods"]["central"]["measured"]  # small: counted
        assert doc["methods"]["forward"]["measured"]  # small: counted, on both engines
        assert doc["methods"]["forward"]["max_rel_error"] < 1e-12
        assert doc["memory"]["forward_peak"] > 0
    a, s = docs
    assert a["per_op"] == s["per_op"] and a["lines"] == s["lines"]
    assert a["methods"]["central"]["cost"] == s["methods"]["central"]["cost"]
    assert a["methods"]["forward"]["cost"] == s["methods"]["forward"]["cost"]
    assert np.asarray(a["inputs"]["w"]).shape == tuple(a["shapes"]["w"])
