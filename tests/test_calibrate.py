"""``cheapgrad calibrate`` and weights files: the measurement's structure (quick runs, no
timing assertions), the file's validation, ``--weights`` on run, sweep and circuit, and a
spec's ``cost_weights: FILE``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import invoke_json, one_line_error, spec_error

from cheapgrad.analysis.calibrate import METHODS, QUICK, calibrate
from cheapgrad.analysis.costmodels import cost_models
from cheapgrad.analysis.run import run
from cheapgrad.analysis.weights import DEFAULT_WEIGHTS, MissingWeightError, weights_with_defaults
from cheapgrad.cli.app import main
from cheapgrad.core.ops import OP_NAMES, OPS
from cheapgrad.errors import SpecError
from cheapgrad.models.spec import spec_from_yaml
from cheapgrad.models.weightsfile import read_weights_file
from cheapgrad.render.calibrate import document, to_dict, to_markdown

SPEC = "input_dim: 2\nhidden: [3]\nactivation: tanh\n"


def write_weights(path: Path, weights: Any) -> Path:
    path.write_text(json.dumps({"weights": weights}))
    return path


def all_ops(value: float = 2.0, **over: float) -> dict[str, float]:
    return {**{k: value for k in OP_NAMES}, **over, "add": 1.0}


# --- measurement ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
def test_quick_calibration_prices_every_op_with_add_one(method: str) -> None:
    cal = calibrate(method, quick=True)
    assert cal.method == method and list(cal.weights) == list(OP_NAMES)
    assert cal.weights["add"] == 1.0
    assert all(w > 0 for w in cal.weights.values())
    assert cal.weights["h"] == cal.weights["dh"] == 1.0  # declared units: not measured
    assert cal.add_seconds > 0 and cal.rounds == QUICK.rounds
    assert {"cpu", "cores", "platform", "python", "numpy"} <= set(cal.machine)


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown method"):
        calibrate("guess", quick=True)


def test_weights_file_round_trips(tmp_path: Path) -> None:
    cal = calibrate("latency", quick=True)
    path = tmp_path / "w.json"
    path.write_text(json.dumps(to_dict(cal)))
    assert read_weights_file(path) == cal.weights
    doc = json.loads(path.read_text())
    assert doc["method"] == "latency" and doc["rounds"] == QUICK.rounds and doc["date"]


def test_both_methods_render_beside_the_defaults() -> None:
    cals = [calibrate(m, quick=True) for m in METHODS]
    doc = document(cals)
    assert doc["defaults"] == DEFAULT_WEIGHTS and set(doc["methods"]) == set(METHODS)
    md = to_markdown(cals)
    assert md.startswith("| op | default | latency | throughput |")
    assert "| tanh | 50 |" in md and "counted-float" in md


# --- the defaults -----------------------------------------------------------------------------


def test_defaults_are_counted_floats_consensus_latencies() -> None:
    sourced = {"add": 1, "mul": 1.4, "div": 5.5, "sqrt": 7, "exp": 16, "log": 18,
               "tanh": 50, "sin": 30, "cos": 30, "neg": 0.45}
    assert {k: DEFAULT_WEIGHTS[k] for k in sourced} == sourced
    # the rules for the ops the source does not list
    assert DEFAULT_WEIGHTS["sub"] == DEFAULT_WEIGHTS["cmp"] == 1.0
    assert DEFAULT_WEIGHTS["pow"] == pytest.approx(2 * OPS["mul"].weight)
    assert DEFAULT_WEIGHTS["h"] == DEFAULT_WEIGHTS["dh"] == 1.0


# --- weights files ----------------------------------------------------------------------------


@pytest.mark.parametrize("content, needle", [
    ("{", "w.json:1: not a JSON weights file"),
    ("[1, 2]", "not a weights file"),
    (json.dumps({"weights": {"add": 1}}), "weights: no weight for sub, mul"),
    (json.dumps({"weights": all_ops(mull=3)}), "weights.mull: unknown op kind (did you mean"),
    (json.dumps({"weights": all_ops(tanh=-1)}), "weights.tanh: must be a finite number >= 0"),
    ('{"weights": ' + json.dumps(all_ops()).replace('"exp": 2.0', '"exp": NaN') + "}",
     "weights.exp: must be a finite number"),
    ('{"weights": ' + json.dumps(all_ops()).replace('"exp": 2.0', '"exp": Infinity') + "}",
     "weights.exp: must be a finite number"),
    (json.dumps({"weights": all_ops(exp="10")}), "weights.exp: must be a number >= 0"),
    (json.dumps({"weights": all_ops(exp=True)}), "weights.exp: must be a number >= 0"),
])
def test_bad_weights_files_are_one_line_errors(tmp_path: Path, content: str,
                                               needle: str) -> None:
    path = tmp_path / "w.json"
    path.write_text(content)
    with pytest.raises(SpecError) as info:
        read_weights_file(path)
    assert needle in str(info.value) and "\n" not in str(info.value)


def test_missing_weights_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        read_weights_file(tmp_path / "nope.json")


def test_a_missing_op_is_never_free(monkeypatch: pytest.MonkeyPatch) -> None:
    from cheapgrad.analysis import weights

    monkeypatch.setattr(weights, "DEFAULT_WEIGHTS",
                        {k: w for k, w in DEFAULT_WEIGHTS.items() if k != "tanh"})
    with pytest.raises(MissingWeightError):
        weights_with_defaults(None)


# --- the spec's cost_weights: FILE --------------------------------------------------------------


def test_spec_cost_weights_names_a_file_relative_to_the_spec(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    write_weights(tmp_path / "sub" / "w.json", all_ops(3.0))
    spec_path = tmp_path / "s.yaml"
    text = SPEC + "cost_weights: sub/w.json\n"
    spec = spec_from_yaml(text, source=str(spec_path))
    assert spec.cost_weights == all_ops(3.0)
    m = cost_models(run(spec, "scalar").counter, spec.cost_weights)["weighted"]
    assert m.detail["weight:tanh"] == 3.0


def test_spec_cost_weights_file_errors_name_spec_line_and_file(tmp_path: Path) -> None:
    source = str(tmp_path / "s.yaml")
    msg = spec_error(SPEC + "cost_weights: nope.json\n", source=source)
    assert msg.startswith(f"{source}:4: cost_weights: weights file ") and "no such file" in msg
    write_weights(tmp_path / "bad.json", {"add": 1, "tanh": -2})
    msg = spec_error(SPEC + "cost_weights: bad.json\n", source=source)
    assert "weights.tanh: must be a finite number >= 0" in msg
    assert "or the path of a weights file" in spec_error(SPEC + "cost_weights: 3\n")


# --- the command line -------------------------------------------------------------------------


def test_calibrate_out_writes_a_file_run_reads(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "lat.json"
    r = cli.invoke(main, ["calibrate", "--quick", "--method", "latency", "--out", str(out),
                          "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["weights"] == read_weights_file(out)
    assert "wrote" in r.stderr
    again = cli.invoke(main, ["calibrate", "--quick", "--method", "latency", "--out", str(out)])
    one_line_error(again, "already exists (use --force")
    forced = cli.invoke(main, ["calibrate", "--quick", "--method", "throughput", "--out",
                               str(out), "--force", "--format", "markdown"])
    assert forced.exit_code == 0, forced.output
    assert json.loads(out.read_text())["method"] == "throughput"


def test_calibrate_out_needs_one_method(cli: CliRunner, tmp_path: Path) -> None:
    r = cli.invoke(main, ["calibrate", "--quick", "--out", str(tmp_path / "w.json")])
    one_line_error(r, "--out writes the weights of one method")
    assert not (tmp_path / "w.json").exists()


def test_calibrate_write_failure_is_one_line(cli: CliRunner, tmp_path: Path) -> None:
    r = cli.invoke(main, ["calibrate", "--quick", "--method", "latency", "--out",
                          str(tmp_path / "no" / "w.json")])
    one_line_error(r, "does not exist")


def test_calibrate_table(cli: CliRunner) -> None:
    r = cli.invoke(main, ["calibrate", "--quick"])
    assert r.exit_code == 0, r.output
    assert "latency" in r.stdout and "throughput" in r.stdout and "tanh" in r.stdout


def weighted(doc: dict[str, Any]) -> dict[str, Any]:
    m: dict[str, Any] = doc["cost_models"]["weighted"]
    return m


@pytest.mark.parametrize("command", [
    ["run", "lecture"], ["circuit", "product", "--n", "5"], ["circuit", "mlp"],
])
def test_weights_file_prices_the_weighted_model(cli: CliRunner, tmp_path: Path,
                                                command: list[str]) -> None:
    path = write_weights(tmp_path / "w.json", all_ops(7.0))
    base = weighted(invoke_json(cli, *command, "--format", "json"))
    doc = weighted(invoke_json(cli, *command, "--format", "json", "--weights", str(path)))
    assert base["cost_f"] != doc["cost_f"]
    assert {k: v for k, v in doc["detail"].items() if k.startswith("weight:")} == {
        f"weight:{k.removeprefix('weight:')}": 7.0 if k != "weight:add" else 1.0
        for k in doc["detail"] if k.startswith("weight:")}


def test_weights_file_on_sweep(cli: CliRunner, tmp_path: Path) -> None:
    path = write_weights(tmp_path / "w.json", all_ops(7.0))
    args = ["sweep", "--depths", "1", "--widths", "2", "--activations", "tanh", "--jobs", "1",
            "--format", "json"]
    base = invoke_json(cli, *args)["cells"][0]
    doc = invoke_json(cli, *args, "--weights", str(path))["cells"][0]
    assert base["cost_models"]["weighted"]["ratio"] != doc["cost_models"]["weighted"]["ratio"]
    assert base["cost_models"]["unit"] == doc["cost_models"]["unit"]


@pytest.mark.parametrize("command", [["run"], ["sweep"], ["circuit", "product"]])
def test_bad_weights_option_is_one_line(cli: CliRunner, tmp_path: Path,
                                        command: list[str]) -> None:
    path = write_weights(tmp_path / "w.json", {"add": 1})
    one_line_error(cli.invoke(main, [*command, "--weights", str(path)]),
                   "--weights", "no weight for sub")
    one_line_error(cli.invoke(main, [*command, "--weights", str(tmp_path / "x.json")]),
                   "no such file")


def test_weights_option_takes_precedence_over_the_spec(cli: CliRunner, tmp_path: Path) -> None:
    path = write_weights(tmp_path / "w.json", all_ops(7.0))
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC + "cost_weights: {tanh: 3}\n")
    own = weighted(invoke_json(cli, "run", str(spec), "--format", "json"))
    assert own["detail"]["weight:tanh"] == 3.0
    doc = weighted(invoke_json(cli, "run", str(spec), "--format", "json", "--weights", str(path)))
    assert doc["detail"]["weight:tanh"] == 7.0
