"""`cheapgrad run` and `cheapgrad example`: exit codes, messages, formats, files."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import one_line_error, run_cli

from cheapgrad.cli.app import main
from cheapgrad.models.bundled import spec_names

SMALL = "name: small\ninput_dim: 3\nhidden: [4]\nactivation: tanh\noutputs: 2\nbias: true\n"


def test_run_without_config_runs_the_bundled_lecture_spec(cli: CliRunner):
    result = cli.invoke(main, ["run"])
    assert result.exit_code == 0, result.output
    assert "lecture-tanh" in result.output
    assert "the bound holds" in result.output
    assert "every measured count agrees" in result.output


def test_run_by_bundled_name(cli: CliRunner):
    result = cli.invoke(main, ["run", "sigmoid", "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["name"] == "sigmoid"


def test_json_schema(cli: CliRunner, write_file: Callable[..., str]):
    result = cli.invoke(main, ["run", write_file(SMALL), "--format", "json"])
    assert result.exit_code == 0
    doc = json.loads(result.output)
    for key in ("counts", "cost_f", "cost_f_and_grad", "ratio", "bound", "holds",
                "parameters", "nodes", "gradient_check", "predicted", "layers", "engine"):
        assert key in doc
    assert set(doc["counts"]) == {"forward", "loss", "backward"}
    assert doc["counts"]["forward"]["mul"] == 3 * 4 + 4 * 2
    assert doc["counts"]["forward"]["tanh"] == 4
    assert doc["counts"] == doc["predicted"]
    assert doc["parameters"] == 3 * 4 + 4 * 2 + 4 + 2 and doc["nodes"] == 6
    total = sum(sum(doc["counts"][p].values()) for p in ("forward", "loss"))
    assert doc["cost_f"] == total
    assert doc["ratio"] == pytest.approx(doc["cost_f_and_grad"] / doc["cost_f"])
    assert doc["bound"] == 5 and doc["holds"] is True
    assert doc["gradient_check"]["method"] == "complex-step"
    assert doc["gradient_check"]["passed"] is True
    assert doc["gradient_check"]["max_rel_error"] < 1e-12
    assert doc["gradient_check"]["comparisons"] == doc["parameters"]
    assert sum(layer["cost"] for layer in doc["layers"]) == doc["cost_f_and_grad"]


def test_markdown_and_csv(cli: CliRunner, write_file: Callable[..., str]):
    path = write_file(SMALL)
    md = cli.invoke(main, ["run", path, "--format", "markdown"])
    assert md.exit_code == 0
    assert md.output.startswith("# cheapgrad run: small")
    assert "| forward |" in md.output
    out = cli.invoke(main, ["run", path, "--format", "csv"])
    assert out.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.output)))
    assert rows and all(r["measured"] == r["predicted"] for r in rows)
    measured = sum(int(r["measured"]) for r in rows)
    doc = json.loads(cli.invoke(main, ["run", path, "--format", "json"]).output)
    assert measured == doc["cost_f_and_grad"]


def test_save_arrays_and_refuse_to_overwrite(
        cli: CliRunner, tmp_path: Path, write_file: Callable[..., str]):
    path = write_file(SMALL)
    npz = tmp_path / "out.npz"
    assert cli.invoke(main, ["run", path, "--save-arrays", str(npz)]).exit_code == 0
    with np.load(npz) as data:
        assert data["W1"].shape == (4, 3) and data["W2"].shape == (2, 4)
        assert data["grad_W1"].shape == (4, 3) and data["b2"].shape == (2,)
        assert data["grad_b1"].shape == (4,) and data["x"].shape == (1, 3)
        assert data["y"].shape == (1, 2) and float(data["loss"]) > 0
    before = npz.read_bytes()
    again = cli.invoke(main, ["run", path, "--save-arrays", str(npz)])
    assert again.exit_code == 2
    assert again.output.strip() == f"Error: {npz}: already exists (use --force to overwrite)"
    assert npz.read_bytes() == before
    assert cli.invoke(main, ["run", path, "--save-arrays", str(npz), "--force"]).exit_code == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SMALL.replace("hidden: [4]", "hidden: [0]"),
         "spec.yaml:3: hidden[0]: must be a positive integer, got 0"),
        (SMALL.replace("activation: tanh", "activation: softplus"),
         "spec.yaml:4: activation: unknown activation 'softplus'"),
        (SMALL + "widths: [3]\n", "spec.yaml:7: widths: unknown key"),
        ("input_dim: [3\n", "YAML syntax error"),
        (SMALL.replace("hidden: [4]", "hidden: [4, 4]").replace("activation: tanh",
                                                                  "activation: [tanh]"),
         "activation: a list of activations needs one per hidden layer"),
        (SMALL.replace("input_dim: 3", "input_dim: x"), "input_dim: must be an integer"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
        cli: CliRunner, write_file: Callable[..., str], text, message):  # type: ignore[no-untyped-def]
    one_line_error(cli.invoke(main, ["run", write_file(text)]), message)


def test_missing_file(cli: CliRunner):
    result = cli.invoke(main, ["run", "no/such/spec.yaml"])
    assert result.exit_code == 2
    assert result.output.strip() == "Error: no/such/spec.yaml: no such file"


def test_too_large_to_count_is_refused_before_running(
        cli: CliRunner, write_file: Callable[..., str]):
    big = SMALL.replace("hidden: [4]", "hidden: [2000, 2000, 2000]")
    result = cli.invoke(main, ["run", write_file(big), "--engine", "scalar"])
    assert result.exit_code == 2
    assert "over the scalar engine's limit" in result.output
    assert "--max-ops" in result.output
    small = cli.invoke(main, ["run", write_file(SMALL), "--max-ops", "10"])
    assert small.exit_code == 2 and "limit of 10" in small.output


def test_failed_gradient_check_exits_1(cli: CliRunner, monkeypatch: pytest.MonkeyPatch):
    import cheapgrad.engines as engines
    from cheapgrad.models.mlp import EngineOutput

    real = engines.ENGINES["scalar"]

    def wrong(spec, params, counter):  # type: ignore[no-untyped-def]
        out = real.fn(spec, params, counter)
        out.grads.W[0][0, 0] += 1.0  # a bug in backprop
        return EngineOutput(out.loss, out.yhat, out.grads)

    monkeypatch.setitem(engines.ENGINES, "scalar",
                        engines.EngineInfo("scalar", wrong, "broken", real.default_max_ops,
                                          real.ops_per_second))
    result = cli.invoke(main, ["run", "lecture", "--engine", "scalar", "--format", "json"])
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert doc["gradient_check"]["passed"] is False and doc["passed"] is False


def test_example_prints_and_lists_bundled_specs(cli: CliRunner, write_file: Callable[..., str]):
    listing = cli.invoke(main, ["example", "--list"])
    assert listing.exit_code == 0
    names = listing.output.split()
    assert {"lecture", "deep-narrow", "wide", "sigmoid", "rosenbrock"} <= set(names)
    assert "Twelve tanh hidden layers of width 3." in listing.output  # descriptions too
    assert max(len(line) for line in listing.output.splitlines()) <= 80
    circuit = cli.invoke(main, ["example", "rosenbrock"])  # bundled circuits print too
    assert circuit.exit_code == 0 and "name: rosenbrock" in circuit.output
    shown = cli.invoke(main, ["example", "deep-narrow"])
    assert shown.exit_code == 0 and "name: deep-narrow" in shown.output
    path = write_file(cli.invoke(main, ["example"]).output, "mine.yaml")
    assert cli.invoke(main, ["run", path]).exit_code == 0
    bad = cli.invoke(main, ["example", "nope"])
    assert bad.exit_code == 2
    assert bad.output.strip().startswith("Error: no bundled spec or circuit 'nope'; specs: ")


def test_every_bundled_spec_runs_and_holds(cli: CliRunner):
    for name in spec_names():
        result = cli.invoke(main, ["run", name, "--format", "json"])
        assert result.exit_code == 0, (name, result.output[-300:])
        doc = json.loads(result.output)
        if doc.get("kind") == "transformer":  # executed: checked; from shapes: no values
            assert doc["passed"] and doc["closed_form"] in (True, None)
            continue
        assert doc["holds"] and doc["gradient_check"]["passed"] and doc["counts_match_prediction"]


def test_help_shows_an_example(cli: CliRunner):
    result = cli.invoke(main, ["run", "--help"])
    assert result.exit_code == 0
    assert "cheapgrad run configs/lecture.yaml" in result.output


@pytest.mark.parametrize(("check", "largest_error"), [("central", 1e-6), ("directional", 1e-6),
                                                       ("complex-step", 1e-12),
                                                       ("complex-step-directional", 1e-12)])
def test_every_check_method_passes_a_right_gradient(cli: CliRunner, write_file: Callable[..., str],
                                                    check: str, largest_error: float):
    result = cli.invoke(main, ["run", write_file(SMALL), "--check", check,
                               "--format", "json"])
    assert result.exit_code == 0
    gc = json.loads(result.output)["gradient_check"]
    assert gc["method"] == check and gc["passed"] and gc["max_rel_error"] < largest_error


def test_tiny_gradients_next_to_a_large_loss_are_checked_right(
        cli: CliRunner, write_file: Callable[..., str]):
    # Four square layers: the gradient (~1e-10) is far below the loss (~0.2), beyond what
    # central differences can resolve; the complex step resolves it to rounding.
    text = "input_dim: 4\nhidden: [8, 8, 8, 8]\nactivation: square\nseed: 3\n"
    result = cli.invoke(main, ["run", write_file(text), "--format", "json"])
    assert result.exit_code == 0, result.output[-400:]
    gc = json.loads(result.output)["gradient_check"]
    assert gc["method"] == "complex-step" and gc["max_rel_error"] < 1e-10


def test_overflow_is_one_line_and_exit_2_on_both_engines(
        cli: CliRunner, write_file: Callable[..., str]):
    text = "input_dim: 4\nhidden: [8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8]\n" \
           "activation: square\nseed: 3\n"
    path = write_file(text)
    for engine in ("scalar", "array"):
        one_line_error(cli.invoke(main, ["run", path, "--engine", engine]), "overflow")


def test_central_differences_are_refused_on_huge_nets(
        cli: CliRunner, write_file: Callable[..., str]):
    text = "input_dim: 200\nhidden: [200]\nactivation: tanh\n"
    result = cli.invoke(main, ["run", write_file(text), "--check", "central"])
    assert result.exit_code == 2
    assert "central differences over 40,200 parameters" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--format", "xml"], "Error: Invalid value for '--format': 'xml' is not one of"),
        (["run", "--max-ops", "0"], "Error: Invalid value for '--max-ops': 0 is not in the range"),
        (["run", "--colour"], "Error: No such option"),
        (["sweep", "--jobs", "0"], "Error: Invalid value for '--jobs': 0 is not in the range"),
        (["nope"], "Error: No such command 'nope'; commands: audit"),
    ],
)
def test_usage_errors_are_one_line_and_exit_2(args: list[str], message: str) -> None:
    proc = run_cli(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert "--help" in lines[0]


def test_time_batches_puts_counted_ratios_beside_the_clock(
        cli: CliRunner, write_file: Callable[..., str]):
    path = write_file(SMALL)
    result = cli.invoke(main, ["run", path, "--time-batches", "1,3", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)["timing_by_batch"]
    assert [r["batch"] for r in rows] == [1, 3]
    for row in rows:
        # the op ratio is the one a run of the same spec at that batch measures
        spec_b = SMALL + f"batch: {row['batch']}\n"
        direct = json.loads(cli.invoke(main, ["run", write_file(spec_b, "b.yaml"),
                                              "--format", "json"]).output)
        assert row["op_ratio"] == pytest.approx(direct["ratio"], rel=1e-12)
        assert row["timing"]["forward_s"] > 0 and row["time_ratio"] > 0
    md = cli.invoke(main, ["run", path, "--time-batches", "2", "--format", "markdown"])
    assert "## Counts versus the clock, by batch size" in md.output


@pytest.mark.parametrize("value", ["0", "x", "1,,2", "5000"])
def test_bad_time_batches_exit_2(cli: CliRunner, value: str):
    result = cli.invoke(main, ["run", "--time-batches", value])
    assert result.exit_code == 2


def test_a_mistake_in_the_sweep_section_is_reported_by_run_too(
        cli: CliRunner, write_file: Callable[..., str]):
    text = SMALL + "sweep:\n  activations: [tanh, rleu]\n"
    result = cli.invoke(main, ["run", write_file(text)])
    assert result.exit_code == 2
    assert "sweep.activations[1]: unknown activation 'rleu' (did you mean 'relu'?)" in \
        result.output


@pytest.mark.parametrize(("given", "bundled"), [("configs/wide.yaml", "wide"),
                                                 ("Lecture", "lecture"),
                                                 ("lecture.yml", "lecture")])
def test_a_missing_file_that_names_a_bundled_spec_says_so(cli: CliRunner, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          given: str, bundled: str):
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(main, ["run", given])
    assert result.exit_code == 2
    assert result.output.strip() == (f"Error: {given}: no such file (a bundled spec is "
                                     f"named '{bundled}': use that name)")


@pytest.mark.parametrize(("args", "message"), [
    (["run", ""], "Error: the spec's path is empty"),
    (["run", "--save-arrays", "out.txt"], "Error: out.txt: the file's name must end in .npz"),
    (["run", "--time-batches", "1,1"], "1 is listed twice"),
    (["audit", "--depths", "1,1"], "Error: --depths: 1 is listed twice"),
])
def test_small_mistakes_are_named(cli: CliRunner, tmp_path: Path,
                                  monkeypatch: pytest.MonkeyPatch, args: list[str],
                                  message: str) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(main, args)
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out.txt").exists()
