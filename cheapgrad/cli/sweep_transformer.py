"""``cheapgrad sweep`` on a transformer spec: the 6N table over a grid of ``n_layer``,
``d_model`` and ``n_ctx`` (see :mod:`cheapgrad.analysis.sweep.transformer`)."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.console import Console

from cheapgrad.analysis.sweep.grid import MAX_DEPTH
from cheapgrad.analysis.sweep.transformer import (
    TransformerGrid,
    cell_specs,
    estimate_seconds,
    measure_with,
    transformer_sweep,
)
from cheapgrad.analysis.transformer import ENGINES
from cheapgrad.cli.common import (
    EXIT_INTERRUPTED,
    InputError,
    ReadySink,
    check_outputs,
    write_out,
)
from cheapgrad.cli.common import console as make_console
from cheapgrad.models.transformer_spec import MAX_DIM, TransformerSpec
from cheapgrad.render.numbers import plural
from cheapgrad.render.sixn_sweep import to_csv, to_json, to_markdown
from cheapgrad.util import parse_int_list

#: The measured models a transformer sweep's table can show errors against.
TABLE_MODELS = ("flop", "unit")


def _explicit(name: str) -> bool:
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return True
    source = ctx.get_parameter_source(name)
    return source is not None and source.name != "DEFAULT"


def sweep_transformer(spec: TransformerSpec, axes: dict[str, str | None], *, engine: str,
                      fmt: str, out_path: str | None, plot_path: str | None, force: bool,
                      cost_model: str, max_minutes: float) -> None:
    """Run and report a transformer sweep (the ``cheapgrad sweep`` options, resolved)."""
    limits = {"--n-layer": MAX_DEPTH, "--d-model": MAX_DIM, "--n-ctx": MAX_DIM}
    values = {k: None if v is None else parse_int_list(v, k, limits[k]) for k, v in axes.items()}
    grid = TransformerGrid(values["--n-layer"], values["--d-model"], values["--n-ctx"])
    model = cost_model if _explicit("cost_model") else "flop"
    if model not in TABLE_MODELS:
        raise InputError(f"--cost-model {model}: a transformer sweep compares the formulas "
                         f"with the measured {' or '.join(TABLE_MODELS)} model")
    used = engine if _explicit("engine") else "auto"
    if used not in ENGINES:
        raise InputError(f"--engine {used}: a transformer is counted by one of "
                         f"{', '.join(ENGINES)}")
    seconds = estimate_seconds(cell_specs(spec, grid), used)
    if seconds > 60 * max_minutes:
        cells = plural(grid.resolved(spec).size, "transformer")
        raise InputError(f"executing {cells} on the {used} engine would take about "
                         f"{seconds / 60:,.0f} minutes "
                         f"(--max-minutes {max_minutes:g}); count them from their shapes "
                         "with --engine auto or shapes")
    check_outputs(out_path, plot_path, force)
    def work(cell: TransformerSpec) -> float:
        return estimate_seconds([cell], used)

    err = Console(stderr=True)
    if fmt != "json" and err.is_terminal and (out_path is not None or Console().is_terminal):
        from cheapgrad.render.sweep_tables import SweepProgress

        with SweepProgress(err) as bar:
            result = transformer_sweep(spec, grid, measure_with(used), bar, work)
    else:
        result = transformer_sweep(spec, grid, measure_with(used), ReadySink(), work)

    def text() -> str:
        return {"json": to_json, "csv": to_csv, "markdown": to_markdown}[fmt](result)

    if out_path is not None:
        def table() -> Any:
            from cheapgrad.render.sixn_tables import sixn_sweep_table

            return sixn_sweep_table(result, model)

        write_out(out_path, fmt, text=text, table=table)
        click.echo(f"wrote {out_path}: {len(result.cells)} cells", err=True)
    elif fmt == "table":
        from cheapgrad.render.sixn_tables import sixn_sweep_table

        make_console().print(sixn_sweep_table(result, model), crop=False)
    else:
        click.echo(text(), nl=False)
    if plot_path is not None and result.cells:  # interrupted: the finished cells
        from cheapgrad.render.plot import plot_transformer_sweep

        plot_transformer_sweep(result, plot_path)
        click.echo(f"wrote {plot_path}", err=True)
    for name, why in result.failed:
        click.echo(f"cell {name} failed to run: {why}", err=True)
    if result.interrupted:
        click.echo(f"interrupted: {len(result.cells)} of {result.planned} cells finished",
                   err=True)
        sys.exit(EXIT_INTERRUPTED)
    if result.failed or not (result.all_hold and result.params_agree):
        sys.exit(1)
