"""`cheapgrad sixn` and `cheapgrad sweep` on transformer specs: the 6N table measured
through the engines (shapes for GPT-2, executed for gpt-tiny), every format, and bad
input as one line with exit code 2."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CliProcess, invoke_json, one_line_error

from cheapgrad.analysis.flop_formulas import FORMULAS
from cheapgrad.cli.app import main

#: FlopCounterMode's count of GPT-2 small per token (forward + backward, one sequence).
GPT2_FLOP_PER_TOKEN = (291_648_307_200 + 583_296_614_400) // 1024


def test_gpt2_small_measured_flops_equal_flop_counter_mode(cli: CliRunner) -> None:
    doc = invoke_json(cli, "sixn", "gpt2-small", "--format", "json")
    (s,) = doc["specs"]
    assert s["engine"] == "shapes" and s["params_agree"] and s["n_params"] == 124_439_808
    flop = s["measured"]["flop"]
    assert flop["per_token"] == GPT2_FLOP_PER_TOKEN
    assert flop["forward_per_token"] * 3 == flop["per_token"] and flop["holds"]
    errors = {f["key"]: f["relative_error"]["flop"] for f in s["formulas"]}
    assert errors["megatron"] == 0.0
    assert errors["kaplan"] == pytest.approx(-0.3373, abs=1e-4)          # "34 % lower"
    assert errors["chinchilla"] == pytest.approx(0.2726, abs=1e-4)       # "27 % higher"
    assert errors["nanogpt-6n"] == pytest.approx(-0.1317, abs=1e-4)      # "13 % lower"
    unit = s["measured"]["unit"]
    assert unit["ratio"] <= unit["bound"] == 5.0 and unit["holds"]
    assert set(s["formulas"][0]["relative_error"]) == {"flop", "unit"}


def test_gpt_tiny_executes_and_agrees_with_its_shapes(cli: CliRunner) -> None:
    executed = invoke_json(cli, "sixn", "gpt-tiny", "--format", "json")["specs"][0]
    shapes = invoke_json(cli, "sixn", "gpt-tiny", "--engine", "shapes",
                         "--format", "json")["specs"][0]
    assert executed["engine"] == "array" and shapes["engine"] == "shapes"
    assert executed["measured"] == shapes["measured"]
    assert executed["formulas"] == shapes["formulas"]


def test_table_of_several_specs_fits_80_columns(cli: CliRunner) -> None:
    result = cli.invoke(main, ["sixn", "gpt2-small", "gpt2-xl"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert max(len(line) for line in out.splitlines()) <= 80
    for text in ("gpt2-small: engine shapes", "gpt2-xl: engine shapes", "−33.7 %",
                 "Error against the measured flop model, by spec",
                 "What each formula leaves out"):
        assert text in out
    assert out.count("What each formula leaves out") == 1
    for f in FORMULAS.values():
        assert f.label in out


def test_csv_and_markdown(cli: CliRunner) -> None:
    result = cli.invoke(main, ["sixn", "gpt2-small", "gpt2-medium", "--format", "csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {r["name"] for r in rows} == {"gpt2-small", "gpt2-medium"}
    assert len(rows) == 2 * (2 + len(FORMULAS))
    md = cli.invoke(main, ["sixn", "gpt2-small", "--format", "markdown"]).stdout
    assert md.startswith("## The 6N rule: published formulas beside the measured counts "
                         "(gpt2-small)")
    assert ("| Megatron, no recompute: 72·l·h²·(1 + s/6h + V/12lh)·B·s (for d_ff = 4h) | "
            "854,438,400 | exact") in md


def test_bad_input_is_one_line(cli: CliRunner) -> None:
    one_line_error(cli.invoke(main, ["sixn", "lecture"]), "an MLP spec")
    one_line_error(cli.invoke(main, ["sixn", "gpt2-small", "gpt2-small"]), "named twice")
    one_line_error(cli.invoke(main, ["sixn", "gpt2-smal"]), "gpt2-small")
    one_line_error(cli.invoke(main, ["sixn", "gpt2-small", "--engine", "scalar"]),
                   "scalar engine")


def test_transformer_sweep_over_context(cli: CliRunner) -> None:
    doc = invoke_json(cli, "sweep", "gpt2-small", "--n-ctx", "256,1024,4096", "--format",
                      "json")
    assert doc["grid"] == {"n_layer": [12], "d_model": [768], "n_ctx": [256, 1024, 4096]}
    assert doc["kind"] == "transformer" and doc["base"]["name"] == doc["name"] == "gpt2-small"
    assert doc["all_hold"] and doc["params_agree"]
    six_n = [next(f for f in c["formulas"] if f["key"] == "nanogpt-6n")["relative_error"]["flop"]
             for c in doc["cells"]]
    assert six_n[0] > six_n[1] > six_n[2]          # the error grows with n_ctx / d_model
    assert six_n[1] == pytest.approx(-0.1317, abs=1e-4)


def test_transformer_sweep_table_csv_markdown(cli: CliRunner) -> None:
    args = ["sweep", "gpt2-small", "--n-layer", "12,48", "--d-model", "768,1600",
            "--n-ctx", "1024"]
    result = cli.invoke(main, args)
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "−40.4" in result.stdout and "−13.9" in result.stdout  # gpt2-small, gpt2-xl shape
    unit = cli.invoke(main, [*args, "--cost-model", "unit"]).stdout
    assert "error (%) against measured unit" in unit
    rows = list(csv.DictReader(io.StringIO(cli.invoke(main, [*args, "--format", "csv"]).stdout)))
    assert len(rows) == 4 * 2 * len(FORMULAS)
    md = cli.invoke(main, [*args, "--format", "markdown"]).stdout
    assert "## Against the measured flop model" in md


def test_transformer_sweep_out_and_plot(cli: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out, plot = tmp_path / "s.json", tmp_path / "s.png"
    result = cli.invoke(main, ["sweep", "gpt2-small", "--n-ctx", "256,1024", "--format",
                               "json", "--out", str(out), "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert len(json.loads(out.read_text())["cells"]) == 2 and plot.stat().st_size > 10_000
    again = cli.invoke(main, ["sweep", "gpt2-small", "--n-ctx", "256", "--out", str(out)])
    one_line_error(again, "--force")


def test_transformer_sweep_bad_input(cli: CliRunner) -> None:
    one_line_error(cli.invoke(main, ["sweep", "gpt2-small", "--depths", "2"]),
                   "transformer spec")
    one_line_error(cli.invoke(main, ["sweep", "--n-ctx", "4"]), "MLP spec")
    one_line_error(cli.invoke(main, ["sweep", "--engine", "shapes"]), "MLP sweep")
    one_line_error(cli.invoke(main, ["sweep", "gpt2-small", "--d-model", "100"]),
                   "head width 64")
    one_line_error(cli.invoke(main, ["sweep", "gpt2-small", "--n-ctx", "0"]), "--n-ctx")
    one_line_error(cli.invoke(main, ["sweep", "gpt2-small", "--cost-model", "memory"]),
                   "flop or unit")
    one_line_error(cli.invoke(main, ["sweep", "gpt2-small", "--engine", "array", "--n-ctx",
                                     "64,128"]),
                   "executing 2 transformers on the array engine", "--engine auto or shapes")


def test_transformer_sweep_executes_small_cells(cli: CliRunner) -> None:
    executed = invoke_json(cli, "sweep", "gpt-tiny", "--n-layer", "1,2", "--engine", "array",
                           "--format", "json")
    auto = invoke_json(cli, "sweep", "gpt-tiny", "--n-layer", "1,2", "--format", "json")
    assert [c["n_layer"] for c in executed["cells"]] == [1, 2]
    assert executed["cells"] == auto["cells"]   # auto executes these too: the same counts
    shapes = invoke_json(cli, "sweep", "gpt-tiny", "--n-layer", "1,2", "--engine", "shapes",
                         "--format", "json")
    assert shapes["cells"] == executed["cells"]


def test_run_on_a_transformer_shows_the_6n_table(cli: CliRunner) -> None:
    doc = invoke_json(cli, "run", "gpt2-small", "--format", "json")
    six = doc["sixn"]
    assert six["measured"]["flop"]["per_token"] == GPT2_FLOP_PER_TOKEN
    assert six["measured"]["unit"]["ratio"] == doc["ratio"]
    assert [f["key"] for f in six["formulas"]] == list(FORMULAS)
    table = cli.invoke(main, ["run", "gpt2-small"])
    assert table.exit_code == 0, table.output
    assert "The 6N rule: published formulas beside the measured counts" in table.stdout
    assert max(len(line) for line in table.stdout.splitlines()) <= 80
    md = cli.invoke(main, ["run", "gpt-tiny", "--format", "markdown"]).stdout
    assert "## The 6N rule: published formulas beside the measured counts" in md


@pytest.mark.parametrize("name", ["gpt-tiny", "gpt2-small", "gpt2-xl"])
def test_measured_shares_equal_their_closed_forms(cli: CliRunner, name: str) -> None:
    (s,) = invoke_json(cli, "sixn", name, "--format", "json")["specs"]
    spec, shares = s["spec"], s["shares"]
    flop = s["measured"]["flop"]["per_token"]
    d, L, T, V = spec["d_model"], spec["n_layer"], spec["n_ctx"], spec["vocab"]  # noqa: N806
    assert shares["logits"] == pytest.approx(6 * d * V / flop, rel=1e-12)
    assert shares["attention T×T"] == pytest.approx(12 * L * T * d / flop, rel=1e-12)
    assert shares["weight products"] + shares["logits"] + shares["attention T×T"] == \
        pytest.approx(1.0, rel=1e-12)
    assert 0 < shares["elementwise ops"] < 0.07


# --- Ctrl-C: the cells already counted are kept (as the MLP sweep's) -------------------------


def test_transformer_sweep_ctrl_c_prints_finished_cells_and_exits_130(
        cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    from cheapgrad.analysis.sweep import transformer as sweep_module

    real, calls = sweep_module.run_transformer, []

    def interrupted(spec: Any, engine: str = "auto", **kw: Any) -> Any:
        calls.append(spec)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(spec, engine, **kw)

    monkeypatch.setattr(sweep_module, "run_transformer", interrupted)
    result = cli.invoke(main, ["sweep", "gpt2-small", "--n-ctx", "256,512,1024,2048",
                               "--format", "csv"])
    assert result.exit_code == 130
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert sorted({r["n_ctx"] for r in rows}) == ["256", "512"]
    assert "interrupted: 2 of 4 cells finished" in result.stderr
    calls.clear()
    doc = json.loads(cli.invoke(main, ["sweep", "gpt2-small", "--n-ctx", "256,512,1024",
                                       "--format", "json"]).stdout)
    assert doc["interrupted"] is True and len(doc["cells"]) == 2


def test_transformer_sweep_sigint_exits_130_with_the_cells_so_far(
        cli_process: Callable[..., CliProcess]) -> None:
    proc = cli_process("sweep", "gpt-tiny", "--engine", "array", "--n-layer",
                       ",".join(str(n) for n in range(1, 13)), "--n-ctx", "8,16",
                       "--format", "csv")
    proc.wait_until_ready()
    proc.interrupt()
    start = time.monotonic()
    out, err = proc.finish()
    assert time.monotonic() - start < 10
    assert proc.proc.returncode == 130, err
    assert out.startswith("n_layer,d_model,n_ctx"), err
    assert "interrupted:" in err and "of 24 cells finished" in err and "Traceback" not in err


def test_a_transformer_cell_that_fails_is_reported_and_exits_1(
        cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    from cheapgrad.analysis.sweep import transformer as sweep_transformer
    from cheapgrad.cli import sweep_transformer as cli_sweep_transformer
    from cheapgrad.errors import CheapgradError

    real = sweep_transformer.measure_with

    def failing(engine: str = "auto") -> Any:
        measure = real(engine)

        def one(spec: Any) -> Any:
            if spec.n_ctx == 1024:
                raise CheapgradError("made-up failure")
            return measure(spec)
        return one

    monkeypatch.setattr(cli_sweep_transformer, "measure_with", failing)
    r = cli.invoke(main, ["sweep", "gpt2-small", "--n-ctx", "256,1024,4096", "--format",
                          "json"])
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert [c["n_ctx"] for c in doc["cells"]] == [256, 4096]
    assert doc["failed"] == [{"cell": "gpt2-small-L12-d768-T1024", "reason": "made-up failure"}]
    assert "cell gpt2-small-L12-d768-T1024 failed to run: made-up failure" in r.stderr
