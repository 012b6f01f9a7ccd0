"""``cheapgrad sweep``: the theorem checked over a grid of depths, widths and activations."""

from __future__ import annotations

import dataclasses
import json
import sys
from typing import Any

import click
from rich.console import Console

from cheapgrad.analysis.sweep import (
    DEFAULT_MAX_MINUTES,
    MAX_DEPTH,
    SweepResult,
    default_jobs,
    parse_name_list,
    plan_sweep,
    resolve_grid,
    run_sweep,
)
from cheapgrad.cli.common import (
    EXIT_INTERRUPTED,
    InputError,
    ReadySink,
    check_outputs,
    exits_cleanly,
    write_out,
)
from cheapgrad.cli.common import console as make_console
from cheapgrad.cli.options import (
    cost_model_option,
    engine_option,
    format_option,
    weights_option,
)
from cheapgrad.models.bundled import load_any_config
from cheapgrad.models.spec import MAX_WIDTH
from cheapgrad.models.transformer_spec import TransformerSpec
from cheapgrad.render.sweep import overall_verdict, to_csv, to_dict, to_markdown
from cheapgrad.util import parse_int_list


def render(result: SweepResult, fmt: str, cost_model: str = "unit") -> str:
    """The sweep in a text format (json, csv or markdown). JSON and CSV carry every cost
    model whatever ``cost_model`` says; Markdown shows the grid under it."""
    if fmt == "json":
        return json.dumps(to_dict(result), indent=2) + "\n"
    if fmt == "csv":
        return to_csv(result)
    return to_markdown(result, cost_model)


def _finite_minutes(value: float) -> float:
    if value != value:  # nan passes every range check
        raise click.BadParameter("must be a number of minutes, got nan")
    return value


@click.command("sweep")
@click.argument("config", required=False)
@click.option("--depths", metavar="1,2,4", help="Numbers of hidden layers to sweep.")
@click.option("--widths", metavar="1,4,16", help="Hidden widths to sweep (every layer).")
@click.option("--activations", metavar="tanh,relu", help="Activations to sweep.")
@click.option("--n-layer", "n_layers", metavar="12,24",
              help="Transformer specs: numbers of layers to sweep.")
@click.option("--d-model", "d_models", metavar="768,1024",
              help="Transformer specs: widths to sweep (head width and d_ff/d_model kept).")
@click.option("--n-ctx", "n_ctxs", metavar="256,1024",
              help="Transformer specs: context lengths to sweep (default, with no "
                   "transformer axis given: 128 to 8192).")
@click.option("--jobs", type=click.IntRange(min=1), metavar="N",
              help="Worker processes (default, and at most: the number of cores).")
@engine_option(help="How ops are executed and counted; shapes: transformer cells counted "
                    "from their shapes alone (a transformer sweep's default is auto).",
               extra=("shapes",))
@format_option()
@click.option("--out", "out_path", metavar="FILE",
              help="Write the chosen format to FILE instead of the terminal.")
@click.option("--plot", "plot_path", metavar="FILE.png",
              help="Draw ratio against parameters to FILE.png (needs matplotlib).")
@click.option("--force", is_flag=True, help="Overwrite --out and --plot files.")
@cost_model_option("Cost model whose ratio the grid and the summary show, against its own "
                   "bound ('all': the unit grid and a table of every model); JSON and CSV "
                   "always carry every model; the exit code follows the unit bound.")
@weights_option()
@click.option("--max-minutes", type=click.FloatRange(min=0, min_open=True, max=1e6),
              callback=lambda ctx, param, v: _finite_minutes(v),
              default=DEFAULT_MAX_MINUTES, show_default=True,
              help="Refuse grids estimated to take longer than this.")
@exits_cleanly
def command(config: str | None, depths: str | None, widths: str | None,
            activations: str | None, n_layers: str | None, d_models: str | None,
            n_ctxs: str | None, jobs: int | None, engine: str, fmt: str,
            out_path: str | None, plot_path: str | None, force: bool, cost_model: str,
            weights: dict[str, float] | None, max_minutes: float) -> None:
    """Check the theorem on every net of a grid of depths, widths and activations.

    CONFIG is a spec (input_dim, outputs, bias, batch, seed...) whose `sweep:` section
    may list `depths`, `widths` and `activations`; the flags override it. Without CONFIG
    the bundled `sweep` spec runs. Depth is the number of hidden layers, all of the same
    width and activation. Every cell is a full run: ops counted, compared with the
    closed form, gradient checked against an independent derivative (complex step).
    A cell whose run stops with an error (an overflow, say) is reported as failed, with
    the reason, beside the others.

    A transformer spec (model: transformer, e.g. gpt2-small) sweeps --n-layer, --d-model
    and --n-ctx instead: every cell is counted (engine auto: from shapes when executing
    would take long) and tabulated as in `cheapgrad sixn`, each published formula's
    relative error against the measured flop model (--cost-model unit: the unit model);
    --plot draws each formula's error against n_ctx / d_model. Its cells run one after
    the other in this process (from shapes each takes milliseconds; --jobs is not used),
    and Ctrl-C keeps the finished ones, as for an MLP sweep.

    Exit code 0 when every bound holds and every check passes, 1 otherwise (a failed
    cell included), 2 for bad input, 130 when interrupted (the finished cells are still
    printed).

    \b
    Examples:
      cheapgrad sweep configs/sweep.yaml
      cheapgrad sweep configs/sweep.yaml --depths 1,2 --widths 4,64 --format csv
      cheapgrad sweep configs/sweep.yaml --cost-model nonscalar
      cheapgrad sweep configs/sweep.yaml --plot sweep.png --out sweep.json --format json
      cheapgrad sweep gpt2-small --n-ctx 256,1024,4096 --d-model 768,1600 --plot six.png
    """
    any_spec = load_any_config(config, default="sweep")
    transformer_axes = {"--n-layer": n_layers, "--d-model": d_models, "--n-ctx": n_ctxs}
    if isinstance(any_spec, TransformerSpec):
        mlp_axes = {"--depths": depths, "--widths": widths, "--activations": activations}
        given = [k for k, v in mlp_axes.items() if v is not None]
        if given:
            raise InputError(f"{given[0]}: {any_spec.name} is a transformer spec; sweep "
                             "--n-layer, --d-model and --n-ctx")
        if weights is not None:
            any_spec = dataclasses.replace(any_spec, cost_weights=weights)
        from cheapgrad.cli.sweep_transformer import sweep_transformer

        sweep_transformer(any_spec, transformer_axes, engine=engine, fmt=fmt,
                          out_path=out_path, plot_path=plot_path, force=force,
                          cost_model=cost_model, max_minutes=max_minutes)
        return
    given = [k for k, v in transformer_axes.items() if v is not None]
    if given:
        raise InputError(f"{given[0]}: {any_spec.name} is an MLP spec; --n-layer, --d-model "
                         "and --n-ctx sweep transformer specs (e.g. gpt2-small)")
    if engine == "shapes":
        raise InputError("--engine shapes counts transformer specs (model: transformer); "
                         "an MLP sweep runs on array, scalar or auto")
    spec = any_spec
    if weights is not None:
        spec = dataclasses.replace(spec, cost_weights=weights)
    grid = resolve_grid(
        spec,
        depths=parse_int_list(depths, "--depths", MAX_DEPTH) if depths is not None else None,
        widths=parse_int_list(widths, "--widths", MAX_WIDTH) if widths is not None else None,
        activations=(parse_name_list(activations, "--activations")
                     if activations is not None else None),
    )
    check_outputs(out_path, plot_path, force)
    cores = default_jobs()
    if jobs is not None and jobs > cores:
        click.echo(f"--jobs {jobs}: this machine has {cores} core{'s' if cores > 1 else ''}; "
                   f"using {cores}", err=True)
        jobs = cores
    plan = plan_sweep(spec, grid, engine, jobs=jobs, max_minutes=max_minutes)

    err = Console(stderr=True)
    show_progress = (fmt != "json" and err.is_terminal
                     and (out_path is not None or Console().is_terminal))
    if show_progress:
        from cheapgrad.render.sweep_tables import SweepProgress

        with SweepProgress(err) as bar:
            result = run_sweep(plan, progress=bar)
    else:
        result = run_sweep(plan, progress=ReadySink())

    if out_path is not None:
        def tables() -> Any:
            from cheapgrad.render.sweep_tables import sweep_tables

            return sweep_tables(result, cost_model)

        write_out(out_path, fmt, text=lambda: render(result, fmt, cost_model), table=tables)
        click.echo(f"wrote {out_path}: {overall_verdict(result)}", err=True)
    elif fmt == "table":
        from cheapgrad.render.sweep_tables import sweep_tables

        make_console().print(sweep_tables(result, cost_model), crop=False)
    else:
        click.echo(render(result, fmt, cost_model), nl=False)

    if plot_path is not None and result.cells:  # interrupted: the finished cells
        from cheapgrad.render.plot import plot_sweep

        plot_sweep(result, plot_path)
        click.echo(f"wrote {plot_path}", err=True)
    if result.interrupted:
        click.echo(f"interrupted: {result.finished} of {len(plan.cells)} cells finished",
                   err=True)
        sys.exit(EXIT_INTERRUPTED)
    if not result.summary.all_passed:
        sys.exit(1)
