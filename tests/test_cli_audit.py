"""`cheapgrad audit`: output, exit codes and bad input."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from conftest import Runner, one_line_error

from cheapgrad.analysis.audit import chain_ratio
from cheapgrad.cli.app import main

GRID = ["--depths", "1,2,4", "--widths", "1,2", "--costs", "1,10"]


def test_json_reports_the_lecture_factor_false(cli: CliRunner) -> None:
    r = cli.invoke(main, ["audit", *GRID, "--format", "json"])
    assert r.exit_code == 1, r.output
    data = json.loads(r.output)
    assert data["stated_bound"] == 5.0 and data["derivative_factor"] == 5.0
    assert data["supremum"] == 6.0 and data["holds"] is False and data["true_bound"] == 6.0
    worst = data["worst_case"]
    assert worst["ratio"] == pytest.approx(float(chain_ratio(4, 10, 50)))
    assert worst["agrees_with_closed_form"] and worst["gradient_check_passed"]
    assert worst["spec"]["activation"] == {"name": "custom", "cost": 10, "derivative_cost": 50}
    assert data["smallest_violation"]["cost_f_and_grad"] == 134
    assert data["search"]["candidates"] == 12 and data["measurements_agree"] is True
    assert data["passed"] is False  # the stated bound 5 does not hold: exit code 1


def test_a_true_statement_exits_zero(cli: CliRunner) -> None:
    r = cli.invoke(main, ["audit", *GRID, "--derivative-factor", "2", "--format", "json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["holds"] is True and data["supremum"] == 3.5
    assert data["smallest_violation"] is None


def test_stating_the_true_bound_holds(cli: CliRunner) -> None:
    r = cli.invoke(main, ["audit", *GRID, "--stated-bound", "6", "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.output)["holds"] is True


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_text_formats_state_the_verdict_and_worst_case(cli: CliRunner, fmt: str) -> None:
    r = cli.invoke(main, ["audit", *GRID, "--format", fmt])
    assert r.exit_code == 1
    text = " ".join(r.output.split())
    assert "does NOT hold" in text and "Worst case found" in text
    assert "custom(10,50)" in text and "max((5 + C)/2, 1 + C)" in text


def test_batch_option(cli: CliRunner) -> None:
    r = cli.invoke(main, ["audit", *GRID, "--batch", "3", "--derivative-factor", "2",
                          "--format", "json"])
    data = json.loads(r.output)
    assert data["batch"] == 3 and data["worst_case"]["batch"] == 3
    assert data["supremum"] == pytest.approx((6 - 1 / 3 + 2) / 2)


@pytest.mark.parametrize(
    "args,message",
    [
        (["--depths", "1,0"], "--depths: must be a positive integer, got 0"),
        (["--widths", "a"], "--widths: 'a' is not a whole number"),
        (["--widths", "65"], "--widths: must be at most 64, got 65"),
        (["--costs", ",".join(str(i) for i in range(1, 20))], "--costs: at most 16 values"),
        (["--derivative-factor", "0.5", "--costs", "1"], "no admissible declared costs"),
    ],
)
def test_bad_input_is_one_line_and_exit_two(cli: CliRunner, args: list[str],
                                            message: str) -> None:
    one_line_error(cli.invoke(main, ["audit", *args]), message)


def test_out_of_range_option_is_exit_two(cli: CliRunner) -> None:
    assert cli.invoke(main, ["audit", "--derivative-factor", "-1"]).exit_code == 2
    assert cli.invoke(main, ["audit", "--batch", "0"]).exit_code == 2


def test_help_has_an_example(cli: CliRunner) -> None:
    r = cli.invoke(main, ["audit", "--help"])
    assert r.exit_code == 0 and "cheapgrad audit --derivative-factor 5 --format json" in r.output


def test_a_worst_case_too_large_to_count_points_at_the_array_engine() -> None:

    from cheapgrad.cli.app import main

    result = Runner().invoke(main, ["audit", "--depths", "4096", "--widths", "64"])
    assert result.exit_code == 2
    assert "measure it with --engine array" in result.output
    assert "--max-ops" not in result.output
