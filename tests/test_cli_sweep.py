"""`cheapgrad sweep` from the command line: config and flags, formats, --out, --plot,
--jobs, exit codes and every kind of bad input."""

from __future__ import annotations

import csv
import io
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import CliProcess, Runner, one_line_error

from cheapgrad.cli.app import main

SMALL = ["--depths", "1,2", "--widths", "2,3", "--activations", "tanh,sigmoid"]


def sweep(cli: CliRunner, *args: str) -> Any:
    return cli.invoke(main, ["sweep", *args])


def write_config(tmp_path: Path, sweep_section: str = "") -> str:
    path = tmp_path / "grid.yaml"
    path.write_text("name: grid\ninput_dim: 2\nhidden: [3]\nactivation: tanh\noutputs: 2\n"
                    "bias: true\nseed: 3\n" + sweep_section, encoding="utf-8")
    return str(path)


def test_the_file_grid_runs_with_no_flags(cli: CliRunner, tmp_path: Path) -> None:
    config = write_config(tmp_path, "sweep:\n  depths: [1, 2]\n  widths: [2]\n"
                                    "  activations: [relu]\n")
    result = sweep(cli, config, "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["grid"] == {"depths": [1, 2], "widths": [2], "activations": ["relu"]}
    assert [(c["depth"], c["width"]) for c in doc["cells"]] == [(1, 2), (2, 2)]
    assert doc["base"]["input_dim"] == 2 and doc["base"]["outputs"] == 2
    assert doc["all_hold"] is True


def test_flags_override_the_file(cli: CliRunner, tmp_path: Path) -> None:
    config = write_config(tmp_path, "sweep:\n  depths: [1, 2]\n  widths: [2]\n")
    result = sweep(cli, config, "--widths", "4,1", "--activations", "square", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["grid"] == {
        "depths": [1, 2], "widths": [1, 4], "activations": ["square"]}


def test_table_output(cli: CliRunner) -> None:
    result = sweep(cli, "configs/sweep.yaml", *SMALL)
    assert result.exit_code == 0, result.output
    out = result.stdout
    for text in ("cheapgrad sweep", "tanh: ratio", "sigmoid: ratio", "where the ratio goes",
                 "every cell", "limit (closed form)", "every bound holds"):
        assert text in out
    assert "sweeping" not in result.output  # no progress bar off a terminal


def test_csv_and_markdown(cli: CliRunner) -> None:
    result = sweep(cli, "configs/sweep.yaml", *SMALL, "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 8 and {r["activation"] for r in rows} == {"tanh", "sigmoid"}
    result = sweep(cli, "configs/sweep.yaml", *SMALL, "--format", "markdown")
    assert result.exit_code == 0 and result.stdout.startswith("# cheapgrad sweep: sweep")


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_jobs_2_output_equals_jobs_1(cli: CliRunner, fmt: str) -> None:
    one = sweep(cli, "configs/sweep.yaml", *SMALL, "--format", fmt, "--jobs", "1")
    two = sweep(cli, "configs/sweep.yaml", *SMALL, "--format", fmt, "--jobs", "2")
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout


def test_out_writes_and_refuses_to_overwrite(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "sweep.json"
    result = sweep(cli, "configs/sweep.yaml", *SMALL, "--format", "json", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert len(json.loads(out.read_text())["cells"]) == 8
    out.write_text("keep me")
    again = sweep(cli, "configs/sweep.yaml", *SMALL, "--format", "json", "--out", str(out))
    one_line_error(again, "already exists", "--force")
    assert out.read_text() == "keep me"
    forced = sweep(cli, "configs/sweep.yaml", *SMALL, "--format", "csv", "--out", str(out),
                   "--force")
    assert forced.exit_code == 0 and out.read_text().startswith("depth,width,activation")


def test_out_with_table_format_writes_plain_tables(cli: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "sweep.txt"
    result = sweep(cli, "configs/sweep.yaml", *SMALL, "--out", str(out))
    assert result.exit_code == 0
    text = out.read_text()
    assert "every cell" in text and "\x1b[" not in text


def test_exit_1_when_a_bound_fails(
        cli: CliRunner, bound_every_run: Callable[[float], None]) -> None:
    bound_every_run(1.7)
    result = sweep(cli, "configs/sweep.yaml", *SMALL, "--format", "json", "--jobs", "1")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["all_hold"] is False
    assert any(not c["holds"] for c in doc["cells"]) and any(c["holds"] for c in doc["cells"])


def test_ctrl_c_prints_finished_cells_and_exits_130(
        cli: CliRunner, interrupt_run_at: Callable[[int], None]) -> None:
    interrupt_run_at(4)
    result = sweep(cli, "configs/sweep.yaml", *SMALL, "--format", "csv", "--jobs", "1")
    assert result.exit_code == 130
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 3
    assert "interrupted: 3 of 8 cells finished" in result.stderr


def test_run_and_example_accept_the_sweep_config(cli: CliRunner) -> None:
    listed = cli.invoke(main, ["example", "--list"])
    assert "sweep" in listed.stdout.split()
    result = cli.invoke(main, ["run", "configs/sweep.yaml", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["passed"] is True


def test_no_config_runs_the_bundled_sweep_spec(cli: CliRunner) -> None:
    result = sweep(cli, "--depths", "1", "--widths", "2", "--activations", "relu",
                   "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["name"] == "sweep"


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("args, needles", [
    (["--depths", ""], ["--depths", "at least one"]),
    (["--depths=-1"], ["--depths", "positive integer, got -1"]),
    (["--widths", "4,-8"], ["--widths", "positive integer, got -8"]),
    (["--widths", "0"], ["--widths", "positive integer, got 0"]),
    (["--widths", "2.5"], ["--widths", "'2.5' is not a whole number"]),
    (["--depths", "two"], ["--depths", "'two' is not a whole number"]),
    (["--depths", "1,,2"], ["--depths", "empty item"]),
    (["--activations", "tahn"], ["unknown activation 'tahn'", "did you mean 'tanh'"]),
    (["--activations", ","], ["--activations", "at least one"]),
    (["--depths", "8,16", "--widths", "4000,8000", "--engine", "scalar"],
     ["would take about", "hours", "--max-minutes"]),
    (["--widths", "3000", "--depths", "2", "--engine", "scalar", "--max-minutes", "1000"],
     ["over the scalar engine's limit"]),
    (["--plot", "out.txt"], ["out.txt", ".png"]),
])
def test_bad_flags(cli: CliRunner, args: list[str], needles: list[str]) -> None:
    one_line_error(sweep(cli, "configs/sweep.yaml", *args), *needles)


@pytest.mark.parametrize("section, needles", [
    ("sweep:\n  depths: []\n", ["grid.yaml:9: sweep.depths: must be a non-empty list"]),
    ("sweep:\n  depths: [1, -2]\n", ["grid.yaml:9: sweep.depths[1]: must be a positive integer"]),
    ("sweep:\n  widths: [1.5]\n", ["grid.yaml:9: sweep.widths[0]: must be a positive integer"]),
    ("sweep:\n  activations: [tanh, sigmoyd]\n",
     ["grid.yaml:9: sweep.activations[1]: unknown activation 'sigmoyd'"]),
    ("sweep:\n  depth: [1]\n", ["grid.yaml:9: sweep.depth: unknown key"]),
    ("sweep: [1, 2]\n", ["grid.yaml:8: sweep: must be a mapping"]),
])
def test_bad_sweep_section(cli: CliRunner, tmp_path: Path, section: str,
                           needles: list[str]) -> None:
    one_line_error(sweep(cli, write_config(tmp_path, section)), *needles)


def test_missing_config_file(cli: CliRunner, tmp_path: Path) -> None:
    one_line_error(sweep(cli, str(tmp_path / "nope.yaml")), "nope.yaml", "no such file")


# --- plot -----------------------------------------------------------------------------------


def test_plot_is_a_png(cli: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "sweep.png"
    result = sweep(cli, "configs/sweep.yaml", *SMALL, "--format", "json", "--plot", str(png))
    assert result.exit_code == 0, result.output
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    again = sweep(cli, "configs/sweep.yaml", *SMALL, "--plot", str(png))
    one_line_error(again, "already exists")


def test_plot_without_matplotlib_says_how_to_install(
        cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    png = tmp_path / "sweep.png"
    result = sweep(cli, "configs/sweep.yaml", *SMALL, "--plot", str(png))
    one_line_error(result, "matplotlib", "pip install 'cheapgrad[plot]'")
    assert not png.exists()


# --- a real Ctrl-C --------------------------------------------------------------------------


# The sweep says "ready" once its workers are up (CHEAPGRAD_TEST_READY is set): a Ctrl-C
# from then on must stop it cleanly. Waiting for that, not for a delay, keeps a Ctrl-C from
# landing during start-up on a slow machine.
INTERRUPTIBLE = ["sweep", "configs/sweep.yaml", "--engine", "scalar", "--depths", "4,8",
                 "--widths", "128,256,300", "--jobs", "2", "--format", "csv"]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_sigint_stops_the_workers_and_exits_130(cli_process: Callable[..., CliProcess]) -> None:
    proc = cli_process(*INTERRUPTIBLE)
    proc.wait_until_ready()
    workers = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
    assert len(workers) >= 2, workers
    proc.interrupt()
    start = time.monotonic()
    out, err = proc.finish()
    assert time.monotonic() - start < 10
    assert proc.proc.returncode == 130, err
    assert out.startswith("depth,width,activation")
    assert "interrupted:" in err and "Traceback" not in err
    assert not [pid for pid in workers if _alive(int(pid))]


def test_custom_activations_can_be_swept_by_flag_and_by_file(tmp_path: Path) -> None:

    from cheapgrad.cli.app import main

    cli = Runner()
    flag = cli.invoke(main, ["sweep", "--depths", "1", "--widths", "1,2", "--jobs", "1",
                             "--activations", "tanh,custom(10,50)", "--format", "json"])
    assert flag.exit_code == 0, flag.output
    acts = {c["activation"] for c in json.loads(flag.output)["cells"]}
    assert acts == {"tanh", "custom(10,50)"}
    spec = tmp_path / "s.yaml"
    spec.write_text("input_dim: 1\nhidden: [1]\nactivation: {name: custom, cost: 10, "
                    "derivative_cost: 50}\nsweep:\n  depths: [2]\n  widths: [1]\n")
    own = cli.invoke(main, ["sweep", str(spec), "--jobs", "1", "--format", "json"])
    assert own.exit_code == 1  # 134/26 > 5: the lecture's Theorem 2.1 fails here
    cells = json.loads(own.output)["cells"]
    assert [c["activation"] for c in cells] == ["custom(10,50)"]
    assert (cells[0]["cost_f"], cells[0]["cost_f_and_grad"]) == (26, 134)
    listed = tmp_path / "l.yaml"
    listed.write_text("input_dim: 1\nhidden: [1]\nactivation: tanh\nsweep:\n  depths: [1]\n"
                      "  widths: [1]\n  activations: [relu, {name: custom, cost: 2, "
                      "derivative_cost: 3}]\n")
    both = cli.invoke(main, ["sweep", str(listed), "--jobs", "1", "--format", "json"])
    assert both.exit_code == 0, both.output
    assert [c["activation"] for c in json.loads(both.output)["cells"]] == ["relu",
                                                                         "custom(2,3)"]


def test_two_quick_ctrl_cs_still_stop_the_sweep(cli_process: Callable[..., CliProcess]) -> None:
    for delay in (0.0, 0.3):  # at once, and once the first cells are under way
        proc = cli_process(*INTERRUPTIBLE)
        proc.wait_until_ready()
        time.sleep(delay)
        proc.interrupt(process_first=True)
        _, err = proc.finish()
        assert proc.proc.returncode == 130, err
        assert "Traceback" not in err
