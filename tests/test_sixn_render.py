"""The 6N table and the transformer sweep rendered: every format, the rich tables within
80 columns, the grid's rules (head width and MLP ratio kept), and the plot. The
measurement here is a stand-in (Megatron's FLOPs, which equal FlopCounterMode's count
of this architecture); the counted runs are tested in tests/test_cli_sixn.py."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from rich.console import Console

from cheapgrad.analysis.costmodels import ModelCost
from cheapgrad.analysis.flop_formulas import FORMULAS, Arch, Architecture, parameter_count
from cheapgrad.analysis.sixn import SixN, sixn_table
from cheapgrad.analysis.sweep.grid import SweepError
from cheapgrad.analysis.sweep.transformer import (
    DEFAULT_N_CTX,
    TransformerGrid,
    cell_spec,
    transformer_sweep,
)
from cheapgrad.render import sixn as render_sixn
from cheapgrad.render import sixn_sweep
from cheapgrad.render.sixn_tables import sixn_sweep_table, sixn_tables

GPT2 = Arch(vocab=50257, n_ctx=1024, d_model=768, n_head=12, n_layer=12)


def stand_in(a: Architecture) -> tuple[Mapping[str, ModelCost], int]:
    flops = FORMULAS["megatron"].per_sequence(a)
    return ({"flop": ModelCost("flop", flops // 3, flops, 3.0, "x"),
             "unit": ModelCost("unit", flops // 2, 3 * flops // 2, 5.0, "y")},
            parameter_count(a))


def table() -> SixN:
    models, n = stand_in(GPT2)
    return sixn_table(GPT2, models, GPT2.n_ctx, n)


def rich_text(renderable: object) -> str:
    console = Console(width=80, record=True, file=io.StringIO())
    console.print(renderable)
    return console.export_text()


def test_rich_table_fits_80_columns_and_names_every_formula() -> None:
    text = rich_text(sixn_tables(table()))
    assert max(len(line) for line in text.splitlines()) <= 80
    for f in FORMULAS.values():
        assert f.label in text
    assert "−33.7 %" in text and "+27.3 %" in text and "−13.2 %" in text
    assert "and every formula: layer norm, GELU, residual adds, loss" in text
    assert "6.8663 per parameter" in text and "= nanoGPT's count" in text


def test_markdown_json_and_csv_carry_the_same_numbers() -> None:
    t = table()
    md = render_sixn.to_markdown(t)
    assert "| Kaplan 3·C_fwd: 3·(2N + 2·L·n_ctx·d_attn) | 566,231,040 | −33.7 %" in md
    doc = json.loads(json.dumps(render_sixn.to_dict(t)))
    assert doc["params_agree"] is True and doc["tokens"] == 1024
    assert doc["measured"]["flop"]["per_token"] == 854_438_400
    rows = list(csv.DictReader(io.StringIO(render_sixn.to_csv({"gpt2-small": t}))))
    assert [r["kind"] for r in rows] == ["measured"] * 2 + ["formula"] * len(FORMULAS)
    kaplan = next(r for r in rows if r["key"] == "kaplan")
    assert float(kaplan["error_vs_flop"]) == pytest.approx(-0.337306, abs=1e-6)
    assert kaplan["per_token"] == "566231040" and "softmax" in kaplan["leaves_out"]


def test_a_parameter_count_that_differs_is_said() -> None:
    models, n = stand_in(GPT2)
    t = sixn_table(GPT2, models, 1024, n + 1)
    assert "they DIFFER" in rich_text(sixn_tables(t))


def test_cells_keep_head_width_and_mlp_ratio() -> None:
    c = cell_spec(GPT2, 48, 1600, 256)
    assert (c.n_layer, c.d_model, c.n_head, c.d_ff, c.n_ctx) == (48, 1600, 25, 6400, 256)
    with pytest.raises(SweepError, match="head width 64"):
        cell_spec(GPT2, 12, 100, 256)
    odd = Arch(vocab=9, n_ctx=4, d_model=6, n_head=3, n_layer=1, d_ff=10)
    with pytest.raises(SweepError, match="whole number"):
        cell_spec(odd, 1, 4, 4)


def test_sweep_grid_defaults_to_the_context_axis() -> None:
    r = transformer_sweep(GPT2, TransformerGrid(), stand_in)
    assert [c.n_ctx for c in r.cells] == list(DEFAULT_N_CTX)
    assert r.grid.n_layer == (12,) and r.grid.d_model == (768,)
    # without the T×T terms, 6N's error grows with n_ctx / d_model
    errors = [c.table.rows[-2].error["flop"] for c in r.cells]
    assert errors == sorted(errors, reverse=True) and errors[0] > -0.02 > -0.5 > errors[-1]
    assert r.all_hold and r.params_agree


def test_sweep_formats() -> None:
    r = transformer_sweep(GPT2, TransformerGrid(n_layer=(12, 48), n_ctx=(256, 1024)), stand_in)
    assert [(c.n_layer, c.n_ctx) for c in r.cells] == [(12, 256), (12, 1024), (48, 256),
                                                        (48, 1024)]
    doc = json.loads(sixn_sweep.to_json(r))
    assert doc["grid"] == {"n_layer": [12, 48], "d_model": [768], "n_ctx": [256, 1024]}
    assert doc["cells"][1]["formulas"][1]["relative_error"]["flop"] == pytest.approx(-0.3373,
                                                                                    abs=1e-4)
    rows = list(csv.DictReader(io.StringIO(sixn_sweep.to_csv(r))))
    assert len(rows) == 4 * 2 * len(FORMULAS)
    md = sixn_sweep.to_markdown(r)
    assert "## Against the measured flop model" in md and "## Against the measured unit" in md
    text = rich_text(sixn_sweep_table(r))
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "−40.4" in text and "6.87" in text


def test_sweep_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from cheapgrad.render.plot import plot_transformer_sweep

    r = transformer_sweep(GPT2, TransformerGrid(d_model=(768, 1024), n_ctx=(256, 1024)),
                          stand_in)
    path = tmp_path / "six.png"
    plot_transformer_sweep(r, str(path))
    assert path.stat().st_size > 10_000


def test_sweep_progress_and_ctrl_c_keep_the_finished_cells() -> None:
    seen: list[tuple[str, float]] = []

    class Sink:
        def start(self, cells: int, work: float) -> None:
            seen.append(("start", work))

        def advance(self, cell: object, work: float) -> None:
            seen.append(("advance", work))

    def measure(a: Architecture) -> tuple[Mapping[str, ModelCost], int]:
        if a.n_ctx == 1024:
            raise KeyboardInterrupt
        return stand_in(a)

    r = transformer_sweep(GPT2, TransformerGrid(n_ctx=(256, 512, 1024, 2048)), measure, Sink(),
                          lambda a: a.n_ctx / 256)
    assert r.interrupted and r.planned == 4 and [c.n_ctx for c in r.cells] == [256, 512]
    assert seen == [("start", 15.0), ("advance", 1.0), ("advance", 2.0)]
    assert r.to_dict()["interrupted"] is True
    assert not transformer_sweep(GPT2, TransformerGrid(n_ctx=(256,)), stand_in).interrupted


def test_a_failing_cell_is_recorded_and_the_sweep_goes_on() -> None:
    def measure(a: Architecture) -> tuple[Mapping[str, ModelCost], int]:
        if a.n_ctx == 512:
            raise SweepError("the gradient check failed: made up")
        return stand_in(a)

    r = transformer_sweep(GPT2, TransformerGrid(n_ctx=(256, 512, 1024)), measure)
    assert [c.n_ctx for c in r.cells] == [256, 1024] and not r.interrupted
    assert len(r.failed) == 1 and r.failed[0][1] == "the gradient check failed: made up"
    assert r.to_dict()["failed"] == [{"cell": r.failed[0][0],
                                      "reason": "the gradient check failed: made up"}]
    md = sixn_sweep.to_markdown(r)
    assert "## Cells that failed to run" in md and "made up" in md
