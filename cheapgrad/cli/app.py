"""The command line: parse options, call the core, render. Nothing else.

Exit codes: 0 when every bound holds and every check passes, 1 when one does not,
2 for bad input (a one-line message on stderr, never a traceback).
"""

from __future__ import annotations

import os

# Counting runs are mostly batch-1 matrix-vector products, for which a multi-threaded
# BLAS is slower, not faster, and sweeps run one process per core already: one BLAS
# thread per process unless the user says otherwise. This must precede numpy's import.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
from typing import Any

import click

from cheapgrad import __version__
from cheapgrad.analysis.costmodels import CHOICES as COST_MODELS
from cheapgrad.analysis.gradcheck import METHODS as CHECK_METHODS
from cheapgrad.analysis.run import RunResult, run
from cheapgrad.analysis.timing import ClockRow, Timing, clock_rows, time_net
from cheapgrad.cli.common import (
    FORMATS,
    INTERRUPTED,
    InputError,
    bundled_names,
    bundled_text,
    check_writable,
    emit,
    exits_cleanly,
    load_config,
    save_arrays,
)
from cheapgrad.engines import DEFAULT_ENGINE, ENGINES
from cheapgrad.render.run import to_csv, to_dict, to_markdown

# --- commands -----------------------------------------------------------------------------


# click >= 8.2 signals a bare `cheapgrad` with this error; older versions print the help.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


class OneLineErrors(click.Group):
    """The cheapgrad group: a usage error (an unknown option, a bad value for one) is one
    line on stderr and exit code 2, like every other bad input, not click's usage block."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("standalone_mode", None)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
        except _NO_ARGS_IS_HELP as exc:  # plain `cheapgrad`: the help
            click.echo(exc.format_message())
            sys.exit(exc.exit_code)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            click.echo(f"Error: {exc.format_message()}{where}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("interrupted", err=True)
            sys.exit(INTERRUPTED)
        if isinstance(rv, int):  # --help and --version end here with their exit code
            sys.exit(rv)
        return rv


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cheapgrad")
def main() -> None:
    """cheapgrad: the cheap-gradient theorem, checked by counting every op.

    \b
    Examples:
      cheapgrad run                      # the bundled lecture spec
      cheapgrad run configs/wide.yaml --format json
      cheapgrad example sigmoid > my.yaml
    """


def _batch_list(ctx: click.Context, param: click.Parameter,
                value: str | None) -> tuple[int, ...] | None:
    """Parse ``--time-batches 1,8,64`` into positive integers."""
    if value is None:
        return None
    try:
        batches = tuple(int(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a list of whole numbers such as 1,8,64") \
            from None
    if not batches or any(b < 1 or b > 4096 for b in batches):
        raise click.BadParameter("batch sizes must be whole numbers from 1 to 4096")
    if len(set(batches)) != len(batches):
        raise click.BadParameter(f"{value!r} lists a batch size twice")
    return batches


@main.command("run")
@click.argument("config", required=False)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Output format.")
@click.option("--engine", type=click.Choice(sorted(ENGINES)), default=DEFAULT_ENGINE,
              show_default=True,
              help="How ops are executed and counted.")
@click.option("--save-arrays", "save_path", metavar="FILE.npz",
              help="Save x, y, weights, loss and gradients to an .npz file.")
@click.option("--force", is_flag=True, help="Overwrite the --save-arrays file if it exists.")
@click.option("--max-ops", type=click.IntRange(min=1), metavar="N",
              help="Refuse specs whose closed form predicts more than N ops "
                   "(default: the engine's limit).")
@click.option("--check", "check_method", type=click.Choice(CHECK_METHODS), default="auto",
              show_default=True,
              help="Gradient check: complex step or central differences, every partial or "
                   "random directions; auto: complex step, every partial up to 2,000 "
                   "parameters.")
@click.option("--cost-model", type=click.Choice(COST_MODELS), default="unit", show_default=True,
              help="Cost model(s) the tables show ('all': every model and the published "
                   "constants); JSON always carries every model.")
@click.option("--time", "timed", is_flag=True,
              help="Also time plain numpy forward and forward+backward (median of repeats).")
@click.option("--time-batches", "time_batches", metavar="B1,B2,...", callback=_batch_list,
              help="Count and time the net at each of these batch sizes, e.g. 1,8,64: op, "
                   "MOVES and flop ratios beside the clock's.")
@exits_cleanly
def run_cmd(config: str | None, fmt: str, engine: str, save_path: str | None, force: bool,
            max_ops: int | None, check_method: str, cost_model: str, timed: bool,
            time_batches: tuple[int, ...] | None) -> None:
    """Count f and ∇f of the MLP in CONFIG and check the theorem.

    CONFIG is a YAML spec file, or the name of a bundled spec (see
    `cheapgrad example --list`); without it the bundled lecture spec runs.
    Exit code 0 when the ratio is within the bound, the gradient matches an independent
    derivative of the loss (complex step or central differences) and every count equals
    the closed form; 1 otherwise; 2 for bad input.

    \b
    Example:
      cheapgrad run configs/lecture.yaml --format markdown --cost-model all --time
    """
    spec = load_config(config)
    if spec.sweep is not None:  # not used here, but a mistake in the file is still one
        from cheapgrad.analysis.sweep import grid_from_spec

        grid_from_spec(spec)
    if save_path is not None:
        check_writable(save_path, force, suffix=".npz")
    result = run(spec, engine, max_ops=max_ops, check=check_method)
    timing = time_net(spec, params=result.params) if timed else None
    rows = clock_rows(spec, time_batches, engine=engine) if time_batches else None
    if save_path is not None:
        save_arrays(result, save_path)
    emit_run(result, fmt, cost_model, timing=timing, clock_rows=rows)
    if not result.passed:
        sys.exit(1)


def emit_run(result: RunResult, fmt: str, cost_model: str = "unit", *,
             timing: Timing | None = None, clock_rows: list[ClockRow] | None = None) -> None:
    """Write a run report to stdout in the chosen format."""
    from cheapgrad.render.run_tables import run_tables

    emit(fmt, document=lambda: to_dict(result, timing=timing, clock_rows=clock_rows),
         markdown=lambda: to_markdown(result, cost_model, timing=timing, clock_rows=clock_rows),
         csv=lambda: to_csv(result),
         table=lambda: run_tables(result, cost_model, timing=timing, clock_rows=clock_rows))


@main.command("example")
@click.argument("name", required=False, default="lecture")
@click.option("--list", "list_only", is_flag=True, help="List the bundled specs.")
def example_cmd(name: str, list_only: bool) -> None:
    """Print a bundled spec to start from (default: lecture).

    \b
    Example:
      cheapgrad example deep-narrow > mine.yaml
    """
    names = bundled_names()
    if list_only:
        for n in names:
            click.echo(n)
        return
    if name not in names:
        raise InputError(f"no bundled spec '{name}'; bundled: {', '.join(names)}")
    click.echo(bundled_text(name), nl=False)


def _register_commands() -> None:
    """Add the commands defined one a module in :mod:`cheapgrad.cli`."""
    from cheapgrad.cli import audit, bench, circuit, sweep

    for module in (audit, bench, circuit, sweep):
        main.add_command(module.command)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
