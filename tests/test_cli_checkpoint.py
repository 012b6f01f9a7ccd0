"""`cheapgrad checkpoint` and `cheapgrad run --checkpoint`: formats, files, exit codes,
bad input; the memory every run reports."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import invoke_json, mlp_spec_names, one_line_error

from cheapgrad.analysis.checkpoint import Row, binomial
from cheapgrad.cli.app import main
from cheapgrad.core.counter import Counter
from cheapgrad.engines.array import array_engine
from cheapgrad.engines.scalar import scalar_engine
from cheapgrad.models.bundled import load_config
from cheapgrad.models.mlp import init_params


def test_table_lists_every_strategy_for_s_1_to_l(cli: CliRunner) -> None:
    result = cli.invoke(main, ["checkpoint", "lecture"])
    assert result.exit_code == 0, result.output
    for name in ["store-all", "recompute-all", "sqrt", "segments:3", "revolve:1", "revolve:3"]:
        assert name in result.output
    assert "every strategy's equals store-all's bit for bit" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80


def test_json_rows_and_the_binomial_bound(cli: CliRunner) -> None:
    doc = invoke_json(cli, "checkpoint", "deep-narrow", "--snapshots", "1,2,4",
                      "--format", "json")
    assert doc["kind"] == "checkpoint" and doc["steps"] == 13 and doc["all_identical"]
    rows = {r["strategy"]: r for r in doc["rows"]}
    assert list(rows) == ["store-all", "recompute-all", "sqrt", "segments:1", "segments:2",
                          "segments:4", "revolve:1", "revolve:2", "revolve:4"]
    for s in (1, 2, 4):
        r = rows[f"revolve:{s}"]
        assert r["untaped"] == r["binomial_bound"] == binomial.untaped(13, s)
        assert r["taped"] == 13 and r["identical"] is True
    assert rows["store-all"]["peak_values"] == doc["store_all_peak_values"] == 77
    assert rows["store-all"]["cost_f_and_grad"] == 649 and doc["cost_f"] == 261


def test_csv_and_markdown(cli: CliRunner) -> None:
    out = cli.invoke(main, ["checkpoint", "lecture", "--format", "csv"])
    assert out.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert rows[0]["strategy"] == "store-all" and rows[0]["binomial_bound"] == ""
    md = cli.invoke(main, ["checkpoint", "lecture", "--format", "markdown",
                           "--strategy", "revolve:2"])
    assert md.exit_code == 0
    assert "| revolve:2 | 2 | 3 | 2 | 2 | 5 | 28 | 683 | 3.2524 | yes |" in md.stdout


def test_out_file_is_not_overwritten_without_force(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "t.md"
    first = cli.invoke(main, ["checkpoint", "lecture", "-o", str(path), "--format",
                              "markdown"])
    assert first.exit_code == 0 and path.read_text().startswith("# Checkpointing")
    again = cli.invoke(main, ["checkpoint", "lecture", "-o", str(path)])
    one_line_error(again, "already exists (use --force to overwrite)")
    forced = cli.invoke(main, ["checkpoint", "lecture", "-o", str(path), "--force"])
    assert forced.exit_code == 0 and "Ops against memory" in path.read_text()


def test_plot(cli: CliRunner, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    path = tmp_path / "t.png"
    result = cli.invoke(main, ["checkpoint", "deep-narrow", "--snapshots", "1,2,3",
                               "--plot", str(path), "--format", "csv"])
    assert result.exit_code == 0 and path.stat().st_size > 1000


@pytest.mark.parametrize("args, needle", [
    (["--snapshots", "0"], "--snapshots: must be a positive integer, got 0"),
    (["--strategy", "revolve:0"], "revolve:0: S must be at least 1"),
    (["--strategy", "segments:0"], "segments:0: K must be at least 1"),
    (["--strategy", "segments:4"], "K = 4 segments is more than the chain's 3 steps"),
    (["--strategy", "revolv:2"], "(did you mean 'revolve'?)"),
    (["--strategy", "revolve:1", "--max-ops", "100"], "over the limit of 100"),
    (["--plot", "t.txt"], "the plot is written as"),
    (["--snapshots", "2", "--strategy", "sqrt"], "give one"),
])
def test_bad_input_is_one_line(cli: CliRunner, args: list[str], needle: str) -> None:
    one_line_error(cli.invoke(main, ["checkpoint", "lecture", *args]), needle)


def test_too_large_names_the_estimate(cli: CliRunner, tmp_path: Path) -> None:
    spec = tmp_path / "big.yaml"
    spec.write_text("name: big\ninput_dim: 64\nhidden: [" + ", ".join(["64"] * 100)
                    + "]\nactivation: tanh\noutputs: 1\n")
    line = one_line_error(cli.invoke(main, ["checkpoint", str(spec), "--strategy",
                                            "recompute-all"]), "--max-ops")
    assert "recompute-all alone" in line
    # run refuses it before counting the net
    line = one_line_error(cli.invoke(main, ["run", str(spec), "--checkpoint", "revolve:1"]),
                          "revolve:1 alone", "--max-ops")


def test_too_many_evaluations_are_refused(cli: CliRunner, tmp_path: Path) -> None:
    """A long chain of tiny steps: few ops, but S and K from 1 to 501 would run about 1.5
    million step evaluations."""
    spec = tmp_path / "long.yaml"
    spec.write_text("name: long\ninput_dim: 2\nhidden: [" + ", ".join(["2"] * 500)
                    + "]\nactivation: tanh\noutputs: 1\n")
    one_line_error(cli.invoke(main, ["checkpoint", str(spec)]),
                   "step evaluations on the chain's 501 steps, over the limit of 500,000",
                   "--snapshots")
    ok = cli.invoke(main, ["checkpoint", str(spec), "--snapshots", "8", "--format", "csv"])
    assert ok.exit_code == 0 and "revolve:8,8,501,1790,1790," in ok.stdout


def test_exit_1_when_a_gradient_differs(cli: CliRunner, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    original = Row.__init__

    def differ(self: Row, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        self.identical = self.run.strategy == "store-all"

    monkeypatch.setattr(Row, "__init__", differ)
    result = cli.invoke(main, ["checkpoint", "lecture", "--strategy", "revolve:1"])
    assert result.exit_code == 1
    assert "NOT all equal to store-all's: revolve:1" in result.output


def test_run_with_a_checkpoint_strategy(cli: CliRunner) -> None:
    doc = invoke_json(cli, "run", "deep-narrow", "--checkpoint", "revolve:3",
                      "--format", "json")
    (row,) = doc["checkpoint"]["rows"]
    assert row["strategy"] == "revolve:3" and row["untaped"] == 24 and row["identical"]
    table = cli.invoke(main, ["run", "deep-narrow", "--checkpoint", "sqrt"])
    assert table.exit_code == 0 and "sqrt" in table.output and "cheapgrad checkpoint" in \
        table.output
    md = cli.invoke(main, ["run", "--checkpoint", "store-all", "--format", "markdown"])
    assert "## Checkpointing: lecture-tanh" in md.stdout
    one_line_error(cli.invoke(main, ["run", "--checkpoint", "sqrt:2"]), "takes no number")


# --- memory in every run ---------------------------------------------------------------


def test_run_reports_memory(cli: CliRunner) -> None:
    doc = invoke_json(cli, "run", "lecture", "--format", "json")
    # x (4), per hidden layer a and h(a) (8 + 8 each), ŷ and the loss
    assert doc["memory"] == {"tape": 4 + 16 + 16 + 1 + 1, "forward_peak": 16}
    table = cli.invoke(main, ["run"])
    assert "reverse mode stores 38 values" in table.output
    md = cli.invoke(main, ["run", "--format", "markdown"])
    assert "- memory: reverse mode stores 38 values" in md.stdout


@pytest.mark.parametrize("name", mlp_spec_names())
def test_engines_measure_the_same_memory(name: str) -> None:
    """The scalar engine's blocks of counted numbers and the array engine's arrays hold
    the same values, and store-all on the chain holds exactly what the engines keep."""
    from cheapgrad.analysis.checkpoint import checkpoint

    spec = load_config(name)
    params = init_params(spec)
    scalar = scalar_engine(spec, params, Counter()).memory
    array = array_engine(spec, params, Counter()).memory
    assert scalar == array
    assert checkpoint(spec, ["store-all"]).store_all_peak == scalar["tape"]
    assert np.isfinite(scalar["forward_peak"])


def test_transformer_runs_report_memory(cli: CliRunner) -> None:
    """Executed: the counted program's tape against the forward peak; shapes: none."""
    doc = invoke_json(cli, "run", "gpt-tiny", "--format", "json")
    m = doc["memory"]
    assert m["tape"] > m["forward_peak"] > 0 and m["ops"] > 0
    assert invoke_json(cli, "run", "gpt2-small", "--format", "json")["memory"] is None
    table = cli.invoke(main, ["run", "gpt-tiny"])
    assert f"reverse mode keeps {m['tape']:,} values" in table.output
