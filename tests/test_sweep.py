"""The sweep core: grid parsing and validation, cells as real runs, parallel runs equal
serial ones, the summary, the closed-form limit, and the pure renderers."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

from cheapgrad.analysis import run as runner
from cheapgrad.analysis.sweep import (
    DEFAULT_GRID,
    Grid,
    SweepError,
    cell_spec,
    grid_from_spec,
    limit_ratio,
    parse_name_list,
    plan_sweep,
    resolve_grid,
    run_sweep,
)
from cheapgrad.analysis.theory import predicted_cost
from cheapgrad.errors import SpecError, TooLargeError
from cheapgrad.models.activations import ACTIVATIONS
from cheapgrad.models.spec import load_spec, spec_from_dict, spec_from_yaml
from cheapgrad.render.sweep import CSV_COLUMNS, to_csv, to_dict, to_markdown
from cheapgrad.util import ListError, parse_int_list

BASE = spec_from_dict({"input_dim": 3, "hidden": [], "activation": "tanh", "seed": 5})
SMALL = Grid(depths=(1, 2), widths=(2, 5), activations=("tanh", "relu"))

SWEEP_YAML = """\
name: t
input_dim: 3
hidden: [4]
activation: tanh
sweep:
  depths: [1, 3]
  widths: [2]
  activations: [sigmoid]
"""


def small_result(jobs: int = 1, grid: Grid = SMALL) -> Any:
    return run_sweep(plan_sweep(BASE, grid, "scalar", jobs=jobs), jobs=jobs)


# --- parsing ----------------------------------------------------------------------------------


def test_parse_int_list_sorts_and_strips() -> None:
    assert parse_int_list(" 4, 1,2 ", "--depths") == (1, 2, 4)


@pytest.mark.parametrize("text, message", [
    ("", "at least one"),
    (" , ", "at least one"),
    ("1,,2", "empty item"),
    ("1.5", "'1.5' is not a whole number"),
    ("abc", "'abc' is not a whole number"),
    ("1,-2", "must be a positive integer, got -2"),
    ("0", "must be a positive integer, got 0"),
    ("2,2", "2 is listed twice"),
    ("99999999999", "must be at most"),
])
def test_parse_int_list_rejects(text: str, message: str) -> None:
    with pytest.raises(ListError) as err:
        parse_int_list(text, "--widths", 10_000_000)
    assert str(err.value).startswith("--widths: ")
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_parse_name_list() -> None:
    assert parse_name_list("relu, tanh", "--activations") == ("relu", "tanh")
    with pytest.raises(SweepError, match=r"unknown activation 'tahn' \(did you mean 'tanh'\?\)"):
        parse_name_list("tahn", "--activations")
    with pytest.raises(SweepError, match="listed twice"):
        parse_name_list("tanh,tanh", "--activations")
    with pytest.raises(ListError, match="at least one"):
        parse_name_list("", "--activations")


def test_grid_from_spec_reads_the_sweep_section() -> None:
    spec = spec_from_yaml(SWEEP_YAML, source="t.yaml")
    assert grid_from_spec(spec) == {"depths": (1, 3), "widths": (2,),
                                    "activations": ("sigmoid",)}
    assert grid_from_spec(BASE) == {}


@pytest.mark.parametrize("section, message", [
    ("  depths: [1, -3]", "t.yaml:7: sweep.depths[1]: must be a positive integer, got -3"),
    ("  depths: [1, 2.5]", "t.yaml:7: sweep.depths[1]: must be a positive integer, got 2.5"),
    ("  depths: []", "t.yaml:7: sweep.depths: must be a non-empty list"),
    ("  depths: 4", "t.yaml:7: sweep.depths: must be a list"),
    ("  widths:\n    - 2\n    - two", "t.yaml:9: sweep.widths[1]: must be a positive integer"),
    ("  activations: [tanh, rleu]", "t.yaml:7: sweep.activations[1]: unknown activation 'rleu'"),
    ("  depth: [1]", "t.yaml:7: sweep.depth: unknown key (did you mean 'depths'?)"),
    ("  widths: [3, 3]", "t.yaml:7: sweep.widths[1]: 3 is listed twice"),
])
def test_grid_errors_name_file_line_and_field(section: str, message: str) -> None:
    text = "input_dim: 3\nhidden: [4]\nactivation: tanh\nseed: 0\nbias: false\nsweep:\n" \
        + section + "\n"
    spec = spec_from_yaml(text, source="t.yaml")
    with pytest.raises(SpecError) as err:
        grid_from_spec(spec)
    assert str(err.value).startswith(message)


def test_resolve_grid_flags_override_the_file_field_by_field() -> None:
    spec = spec_from_yaml(SWEEP_YAML, source="t.yaml")
    assert resolve_grid(spec) == Grid((1, 3), (2,), ("sigmoid",))
    assert resolve_grid(spec, widths=(7, 8)) == Grid((1, 3), (7, 8), ("sigmoid",))
    assert resolve_grid(spec, depths=(2,), activations=("relu",)) == Grid((2,), (2,), ("relu",))
    assert resolve_grid(BASE) == DEFAULT_GRID
    assert resolve_grid(BASE, depths=(5,)) == Grid((5,), DEFAULT_GRID.widths,
                                                   DEFAULT_GRID.activations)


# --- plan ---------------------------------------------------------------------------------------


def test_plan_builds_one_spec_per_cell_from_the_base() -> None:
    base = spec_from_dict({"input_dim": 2, "hidden": [9], "activation": "relu", "outputs": 3,
                           "bias": True, "batch": 2, "seed": 7})
    plan = plan_sweep(base, SMALL, "scalar", jobs=1)
    assert len(plan.cells) == SMALL.size == 8
    assert [(c.depth, c.width, c.activation) for c in plan.cells][:3] == [
        (1, 2, "tanh"), (1, 2, "relu"), (1, 5, "tanh")]
    cell = plan.cells[-1]
    assert (cell.spec.hidden, cell.spec.activations) == ((5, 5), ("relu", "relu"))
    assert (cell.spec.input_dim, cell.spec.outputs, cell.spec.bias, cell.spec.batch,
            cell.spec.seed) == (2, 3, True, 2, 7)
    assert cell.spec.widths == (2, 5, 5, 3)
    assert sum(c.predicted_ops for c in plan.cells) == plan.predicted_ops


def test_plan_refuses_a_grid_that_would_take_hours() -> None:
    grid = Grid(depths=(16, 32), widths=(4000, 8000), activations=("tanh",))
    with pytest.raises(TooLargeError) as err:
        plan_sweep(BASE, grid, "scalar", jobs=2)
    text = str(err.value)
    assert "would take about" in text and "hours" in text
    assert "--max-minutes" in text and "\n" not in text


def test_plan_refuses_a_cell_over_the_engine_limit() -> None:
    grid = Grid(depths=(2,), widths=(3000,), activations=("tanh",))
    with pytest.raises(TooLargeError, match="over the scalar engine's limit"):
        plan_sweep(BASE, grid, "scalar", jobs=1, max_minutes=1e6)


def test_plan_refuses_unknown_engine() -> None:
    with pytest.raises(SweepError, match="unknown engine"):
        plan_sweep(BASE, SMALL, "abacus")


def test_default_grid_reaches_width_1024_and_is_estimated_in_seconds() -> None:
    # The estimate is deliberately pessimistic (it guards against hour-long grids); the
    # measured time of the default sweep is in BENCHMARKS.md.
    spec = load_spec("configs/sweep.yaml")
    plan = plan_sweep(spec, resolve_grid(spec), jobs=2)  # the default engine, auto
    assert len(plan.cells) >= 48
    assert max(c.width for c in plan.cells) >= 1024
    assert plan.estimated_seconds / 2 < 120


# --- running ---------------------------------------------------------------------------------


def test_every_cell_is_a_real_run() -> None:
    result = small_result()
    assert not result.interrupted and len(result.cells) == SMALL.size
    for cell, planned in zip(result.cells, result.plan.cells, strict=True):
        direct = runner.run(planned.spec, "scalar")
        assert (cell.cost_f, cell.cost_f_and_grad) == (direct.cost_f, direct.cost_f_and_grad)
        assert (cell.predicted_cost_f, cell.predicted_cost_f_and_grad) == \
            predicted_cost(planned.spec)
        assert cell.counts_match and cell.gradient_check.passed and cell.holds
        assert cell.gradient_check.max_rel_error < 1e-5
        assert cell.parameters == planned.spec.parameters
    s = result.summary
    assert (s.cells, s.holding, s.passing, s.all_hold, s.all_passed) == (8, 8, 8, True, True)
    assert s.largest is not None and s.smallest is not None
    assert s.largest.ratio == max(c.ratio for c in result.cells)
    assert s.smallest.ratio == min(c.ratio for c in result.cells)


def test_jobs_2_equals_jobs_1() -> None:
    one, two = small_result(jobs=1), small_result(jobs=2)
    assert two.jobs == 2
    assert to_dict(one) == to_dict(two)
    assert to_csv(one) == to_csv(two)
    assert to_markdown(one) == to_markdown(two)


def test_ctrl_c_returns_the_finished_cells(interrupt_run_at: Callable[[int], None]) -> None:
    interrupt_run_at(3)
    result = small_result()
    assert result.interrupted
    assert [c.index for c in result.cells] == [0, 1]
    assert not result.summary.all_hold and not result.summary.all_passed
    assert to_dict(result)["interrupted"] is True


def test_a_broken_bound_fails_the_cell(bound_every_run: Callable[[float], None]) -> None:
    bound_every_run(2.0)
    result = small_result()
    s = result.summary
    assert 0 < s.holding < s.cells
    assert not s.all_hold
    assert all(c.holds == (c.ratio <= 2.0) for c in result.cells)


# --- the limit ------------------------------------------------------------------------------


def _leading_ratio(base: Any, depth: int, act: str) -> Fraction:
    """The limit read off the closed form itself: cost(f) and cost(f, ∇f) are quadratics
    in the width n, so three points give their coefficients exactly."""
    pts = [predicted_cost(cell_spec(base, depth, n, act)) for n in (1, 2, 3)]
    coeffs = []
    for k in (0, 1):
        y1, y2, y3 = (p[k] for p in pts)
        a2 = Fraction(y3 - 2 * y2 + y1, 2)
        a1 = (y2 - y1) - 3 * a2
        coeffs.append((a2, a1))
    (f2, f1), (g2, g1) = coeffs
    return g2 / f2 if f2 else g1 / f1


@pytest.mark.parametrize("base", [
    {"input_dim": 4},
    {"input_dim": 1, "outputs": 3, "bias": True},
    {"input_dim": 7, "outputs": 2, "batch": 3},
    {"input_dim": 2, "outputs": 5, "bias": True, "batch": 4},
])
@pytest.mark.parametrize("depth", [1, 2, 3, 6])
def test_limit_equals_the_closed_form_leading_terms(base: dict[str, Any], depth: int) -> None:
    spec = spec_from_dict({"hidden": [], "activation": "tanh", **base})
    for act in ACTIVATIONS:
        expected = _leading_ratio(spec, depth, act)
        assert limit_ratio(spec, depth, act) == expected
        f, fg = predicted_cost(cell_spec(spec, depth, 10**6, act))
        assert fg / f == pytest.approx(float(expected), rel=1e-4)


def test_limit_values_for_the_lecture_setting() -> None:
    base = spec_from_dict({"input_dim": 4, "hidden": [], "activation": "tanh"})
    assert limit_ratio(base, 2, "tanh") == Fraction(5, 2)
    assert limit_ratio(base, 8, "sigmoid") == Fraction(5, 2)
    assert limit_ratio(base, 1, "tanh") == Fraction(19, 10)
    assert limit_ratio(base, 1, "relu") == Fraction(9, 5)


def test_summary_limits_carry_the_measured_trend() -> None:
    result = small_result()
    lim = {(x.depth, x.activation): x for x in result.summary.limits}
    assert set(lim) == {(d, a) for d in SMALL.depths for a in SMALL.activations}
    trend = lim[(2, "tanh")].trend
    assert [w for w, _ in trend] == [2, 5]
    assert lim[(2, "tanh")].widest == trend[-1]
    # Deeper than one layer, the measured ratio moves toward 2.5 as the width grows.
    assert abs(trend[1][1] - 2.5) < abs(trend[0][1] - 2.5)


# --- renderers ------------------------------------------------------------------------------


def test_json_shape() -> None:
    doc = json.loads(json.dumps(to_dict(small_result())))
    assert {"cells", "bound", "all_hold", "summary", "grid", "engine"} <= set(doc)
    assert doc["bound"] == 5.0 and doc["all_hold"] is True
    assert doc["grid"] == {"depths": [1, 2], "widths": [2, 5], "activations": ["tanh", "relu"]}
    assert len(doc["cells"]) == 8
    cell = doc["cells"][0]
    for key in ("depth", "width", "activation", "parameters", "nodes", "cost_f",
                "cost_f_and_grad", "ratio", "holds", "gradient_check"):
        assert key in cell
    assert cell["ratio"] == cell["cost_f_and_grad"] / cell["cost_f"]
    assert set(cell["gradient_check"]) >= {"method", "max_rel_error", "passed"}
    s = doc["summary"]
    assert (s["cells"], s["holding"]) == (8, 8)
    assert s["largest"]["ratio"] == max(c["ratio"] for c in doc["cells"])
    assert s["smallest"]["ratio"] == min(c["ratio"] for c in doc["cells"])
    limits = {(x["depth"], x["activation"]): x for x in s["limits"]}
    assert limits[(2, "relu")]["limit"] == 2.5 and limits[(2, "relu")]["limit_exact"] == "5/2"


def test_csv_has_one_row_per_cell() -> None:
    result = small_result()
    rows = list(csv.DictReader(io.StringIO(to_csv(result))))
    assert len(rows) == 8
    assert tuple(rows[0]) == CSV_COLUMNS
    for row, cell in zip(rows, result.cells, strict=True):
        assert int(row["cost_f_and_grad"]) == cell.cost_f_and_grad
        assert float(row["ratio"]) == cell.ratio
        assert row["holds"] == "true"


def test_markdown_has_a_grid_per_activation_and_every_cell() -> None:
    text = to_markdown(small_result())
    assert text.count("(rows: depth, columns: width)") == 2
    assert "| depth | 2 | 5 |" in text
    assert "## Every cell" in text
    assert text.count("| ok |") == 8


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_error_in_a_cell_fails_that_cell_only(
        monkeypatch: pytest.MonkeyPatch, jobs: int) -> None:
    from cheapgrad.errors import DomainError

    real = runner.run

    def failing_run(spec: Any, engine: str = "scalar", **kw: Any) -> Any:
        if spec.hidden == (5, 5):
            raise DomainError("div", (1.0, 0.0), "division by zero")
        return real(spec, engine, **kw)

    monkeypatch.setattr(runner, "run", failing_run)
    result = small_result(jobs=jobs)  # a DomainError (constructor arguments) crosses workers
    assert [(f.width, "division by zero" in f.reason) for f in result.failed] \
        == [(5, True)] * len(result.failed) and result.failed
    assert result.cells and all(c.width != 5 or c.depth != 2 for c in result.cells)
    assert not result.summary.all_passed and result.summary.failed == len(result.failed)


@pytest.mark.parametrize("jobs", [1, 2])
def test_progress_gets_every_cell_and_all_the_work(jobs: int) -> None:
    events: list[tuple[str, Any, float]] = []

    class Sink:
        def start(self, cells: int, work: float) -> None:
            events.append(("start", cells, work))

        def advance(self, cell: Any, work: float) -> None:
            events.append(("advance", cell.index, work))

    plan = plan_sweep(BASE, SMALL, "scalar", jobs=jobs)
    run_sweep(plan, jobs=jobs, progress=Sink())
    assert events[0][0] == "start" and events[0][1] == 8
    advances = events[1:]
    assert sorted(i for _, i, _ in advances) == list(range(8))
    assert sum(w for _, _, w in advances) == pytest.approx(events[0][2])


def test_rich_progress_bar_draws_on_a_terminal() -> None:
    from rich.console import Console

    from cheapgrad.render.sweep_tables import SweepProgress

    buf = io.StringIO()
    with SweepProgress(Console(file=buf, force_terminal=True, width=100)) as bar:
        run_sweep(plan_sweep(BASE, SMALL, "scalar", jobs=1), progress=bar)
    assert "8/8 cells" in buf.getvalue()
