"""What the user sees at the edges (issue 14, §4): a failed sweep cell is reported, not
fatal; writing failures are one line; two outputs never name one file; every table fits
80 columns; very deep specs are summarised; one plot legend; one number format."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import one_line_error

from cheapgrad.analysis.sweep import Grid, plan_sweep, run_sweep
from cheapgrad.cli.app import main
from cheapgrad.models.bundled import load_config
from cheapgrad.models.spec import spec_from_dict

#: A grid whose depth-16 square cells overflow float64 while the others run.
OVERFLOWING = ["--depths", "1,16", "--widths", "4", "--activations", "square,tanh"]


def _sweep(cli: CliRunner, *args: str) -> object:
    return cli.invoke(main, ["sweep", *OVERFLOWING, *args])


# --- 1. one bad cell does not discard the sweep -------------------------------------------


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_failing_cell_is_reported_and_the_rest_printed(cli: CliRunner, jobs: str) -> None:
    result = cli.invoke(main, ["sweep", *OVERFLOWING, "--format", "json", "--jobs", jobs])
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert len(doc["cells"]) == 3 and doc["all_passed"] is False
    [failed] = doc["failed_cells"]
    assert (failed["depth"], failed["width"], failed["activation"]) == (16, 4, "square")
    assert "overflow" in failed["error"]
    assert doc["summary"]["failed"] == 1


def test_a_failing_cell_shows_in_every_format(cli: CliRunner) -> None:
    table = _sweep(cli, "--jobs", "1")
    assert table.exit_code == 1
    assert "failed ✗" in table.stdout and "cells that failed to run" in table.stdout
    assert "1 cell failed to run" in table.stdout
    rows = list(csv.DictReader(io.StringIO(_sweep(cli, "--format", "csv").stdout)))
    assert len(rows) == 4
    assert [r["error"] != "" for r in rows] == [False, False, False, True]
    assert rows[-1]["passed"] == "false" and "overflow" in rows[-1]["error"]
    md = _sweep(cli, "--format", "markdown").stdout
    assert "## Cells that failed to run" in md and "| failed ✗ |" in md


def test_a_plot_with_a_failed_cell_names_it(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from cheapgrad.render.plot import sweep_figure

    base = load_config("sweep")
    result = run_sweep(plan_sweep(base, Grid((1, 16), (4,), ("square",)), jobs=1))
    assert len(result.failed) == 1
    fig = sweep_figure(result)
    [legend] = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert any(label.startswith("failed to run: depth 16, width 4, square")
               for label in labels)


# --- 2. writing failures are one line -----------------------------------------------------


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
@pytest.mark.parametrize("args", [["run", "lecture"], ["run", "lecture", "--format", "json"],
                                  ["example"], ["--help"], ["sweep", "--depths", "1",
                                                            "--widths", "2"]])
def test_a_full_disk_on_stdout_is_one_line(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "cheapgrad.cli.app", *args],
                              stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot write" in lines[0], lines


def test_save_arrays_under_a_file_is_one_line(cli: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    result = cli.invoke(main, ["run", "lecture", "--save-arrays",
                               str(tmp_path / "afile" / "x.npz")])
    one_line_error(result, "afile", "is a file, not a folder")


def test_save_arrays_that_cannot_be_written_is_one_line(cli: CliRunner, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch
                                                         ) -> None:
    import numpy as np

    def no_space(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", no_space)
    result = cli.invoke(main, ["run", "lecture", "--save-arrays", str(tmp_path / "x.npz")])
    one_line_error(result, "x.npz: cannot write: No space left on device")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into any folder")
def test_save_arrays_in_an_unwritable_folder_is_one_line(cli: CliRunner,
                                                         tmp_path: Path) -> None:
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        result = cli.invoke(main, ["run", "lecture", "--save-arrays", str(folder / "x.npz")])
    finally:
        folder.chmod(0o700)
    one_line_error(result, "not writable")


def test_save_arrays_says_what_it_wrote(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "x.npz"
    result = cli.invoke(main, ["run", "lecture", "--save-arrays", str(path)])
    assert result.exit_code == 0
    assert f"wrote {path}: x, y, loss, W1" in result.stderr
    assert "wrote" not in result.stdout


# --- 3. two outputs never name one file ---------------------------------------------------


def test_out_and_plot_naming_one_file_are_refused(cli: CliRunner, tmp_path: Path) -> None:
    same = tmp_path / "same.png"
    other = tmp_path / "sub"
    other.mkdir()
    result = cli.invoke(main, ["sweep", "--depths", "1", "--widths", "2", "--out", str(same),
                               "--plot", str(other / ".." / "same.png")])
    one_line_error(result, "--out and --plot name the same file")
    assert not same.exists()


# --- 4. every table fits 80 columns -------------------------------------------------------


def _wide_kinds_spec(tmp_path: Path) -> str:
    path = tmp_path / "kinds.yaml"
    path.write_text("name: kinds\ninput_dim: 64\nhidden: [64, 64]\nactivation: sigmoid\n"
                    "outputs: 8\nbias: true\nbatch: 64\n")
    return str(path)


TABLE_COMMANDS = [
    ["run", "lecture"],
    ["run", "mixed", "--cost-model", "all", "--time", "--time-batches", "1,4"],
    ["run", "sigmoid", "--cost-model", "all"],
    ["run", "KINDS", "--cost-model", "weighted"],
    ["run", "gpt-tiny", "--cost-model", "all"],
    ["run", "gpt2-xl", "--cost-model", "all"],
    ["sweep", *OVERFLOWING],
    ["sweep", *OVERFLOWING, "--cost-model", "all"],
    ["sweep", *OVERFLOWING, "--cost-model", "nonscalar"],
    ["sweep", "--depths", "1,2", "--widths", "2,1024", "--activations", "tanh"],
    ["circuit", "rosenbrock", "--cost-model", "all"],
    ["circuit", "physics"],
    ["circuit", "--list"],
    ["circuit", "np-attention", "--cost-model", "all"],
    ["audit"],
    ["bench", "--quick", "--repeat", "1"],
    ["example", "--list"],
    ["calibrate"],
]


@pytest.mark.parametrize("args", TABLE_COMMANDS, ids=lambda a: " ".join(a[:3]))
@pytest.mark.parametrize("columns", ["80", None], ids=["COLUMNS=80", "piped"])
def test_every_table_fits_80_columns(args: list[str], columns: str | None,
                                     tmp_path: Path) -> None:
    args = [_wide_kinds_spec(tmp_path) if a == "KINDS" else a for a in args]
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    if columns is not None:
        env["COLUMNS"] = columns
    proc = subprocess.run([sys.executable, "-m", "cheapgrad.cli.app", *args],
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode in (0, 1), proc.stderr
    lines = proc.stdout.splitlines()
    assert lines
    too_wide = [line for line in lines if len(line) > 80]
    assert not too_wide, "\n".join(too_wide[:5])


def test_run_and_sweep_agree_on_the_width_when_piped() -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    widths = []
    for args in (["run", "lecture"], ["sweep", "--depths", "1", "--widths", "2"]):
        proc = subprocess.run([sys.executable, "-m", "cheapgrad.cli.app", *args],
                              capture_output=True, text=True, env=env, timeout=120)
        widths.append(len(proc.stdout.splitlines()[0]))  # the summary panel's top rule
    assert widths == [80, 80]


def test_many_op_kinds_stack_the_phase_table(cli: CliRunner, tmp_path: Path) -> None:
    out = cli.invoke(main, ["run", _wide_kinds_spec(tmp_path)], env={"COLUMNS": "80"}).stdout
    assert "Ops counted, by op kind and phase" in out


# --- 5. very deep specs -------------------------------------------------------------------


def test_a_very_deep_spec_is_summarised_and_folded(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("name: deep\ninput_dim: 2\nhidden: [" + ", ".join(["2"] * 1000)
                    + "]\nactivation: tanh\noutputs: 1\n")
    out = cli.invoke(main, ["run", str(path)]).stdout
    assert "2 → 2×1000 → 1" in out and "tanh×1000" in out
    assert len(out.splitlines()) < 80
    assert "rows more (--all-rows or" in out and "shows every row)" in out
    every = cli.invoke(main, ["run", str(path), "--all-rows"]).stdout
    assert len(every.splitlines()) > 2000
    md = cli.invoke(main, ["run", str(path), "--format", "markdown"]).stdout
    assert "2 → 2×1000 → 1" in md


# --- 6. the plot --------------------------------------------------------------------------


def test_the_plot_has_one_legend_and_a_whole_title() -> None:
    pytest.importorskip("matplotlib")
    from cheapgrad.render.plot import sweep_figure

    base = spec_from_dict({"input_dim": 3, "hidden": [], "activation": "tanh"})
    result = run_sweep(plan_sweep(base, Grid((1, 2), (2, 8), ("tanh",)), jobs=1))
    fig = sweep_figure(result)
    assert len(fig.legends) == 1
    assert all(ax.get_legend() is None for ax in fig.axes)
    fig.canvas.draw()
    box = fig._suptitle.get_window_extent()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width  # not cut off with one activation


def test_the_plot_legend_explains_the_failed_check_mark(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("matplotlib")
    from cheapgrad.analysis.sweep import CellResult
    from cheapgrad.render.plot import sweep_figure

    base = spec_from_dict({"input_dim": 3, "hidden": [], "activation": "tanh"})
    result = run_sweep(plan_sweep(base, Grid((1,), (2, 8), ("tanh",)), jobs=1))
    monkeypatch.setattr(CellResult, "passed", property(lambda self: False))
    labels = [t.get_text() for t in sweep_figure(result).legends[0].get_texts()]
    assert "✗ cell fails a check" in labels


# --- 11. output polish --------------------------------------------------------------------


def test_times_are_in_ms_or_s_and_ratios_have_four_places(cli: CliRunner) -> None:
    out = cli.invoke(main, ["run", "sigmoid", "--cost-model", "all", "--time"]).stdout
    assert "µs" not in out and "(0.000 s)" not in out and " ms" in out
    md = cli.invoke(main, ["sweep", "--depths", "1", "--widths", "2", "--activations", "tanh",
                           "--format", "markdown"]).stdout
    grid_row = next(line for line in md.splitlines() if line.startswith("| 1 | "))
    assert grid_row.count(".") == 1 and len(grid_row.split("|")[2].strip()) == 6  # x.xxxx


def test_bench_rates_have_a_prefix() -> None:
    from cheapgrad.render.numbers import rate

    assert rate(27.2e9) == "27.2 G ops/s" and rate(2_530_000) == "2.53 M ops/s"


def test_the_sweep_verdict_and_limit_follow_the_cost_model(cli: CliRunner) -> None:
    out = cli.invoke(main, ["sweep", "--depths", "1", "--widths", "2", "--activations",
                            "tanh", "--cost-model", "nonscalar"], env={"COLUMNS": "200"}).stdout
    assert "under the nonscalar model" in out.split("verdict", 1)[1].split("\n")[0]
    assert "unit model: depth 1" in out


def test_the_default_sweep_estimate_is_not_inflated() -> None:
    # Measured: the default sweep's cells take about 24 s of CPU on 2 shared cores
    # (BENCHMARKS-style figures stay out of tests; this only pins the calibration).
    base = load_config("sweep")
    from cheapgrad.analysis.sweep import resolve_grid

    plan = plan_sweep(base, resolve_grid(base), "auto", jobs=2)
    assert plan.estimated_seconds < 60  # was 92 s of CPU (46 s of wall on 2 processes)


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_run_does_not_reinstall_when_nothing_changed(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    shutil.copy(root / "Makefile", tmp_path / "Makefile")
    shutil.copy(root / "pyproject.toml", tmp_path / "pyproject.toml")
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (venv_bin / "python").write_text("")
    stamp = tmp_path / ".venv" / ".installed"
    stamp.write_text("")
    os.utime(stamp, (os.path.getmtime(tmp_path / "pyproject.toml") + 10,) * 2)
    dry = subprocess.run(["make", "-n", "run"], cwd=tmp_path, capture_output=True, text=True)
    assert "pip install" not in dry.stdout and "cheapgrad run" in dry.stdout
    os.utime(tmp_path / "pyproject.toml", (os.path.getmtime(stamp) + 10,) * 2)
    dry = subprocess.run(["make", "-n", "run"], cwd=tmp_path, capture_output=True, text=True)
    assert "PYTHONWARNINGS=ignore" in dry.stdout and "pip install" in dry.stdout
