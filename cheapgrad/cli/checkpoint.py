"""``cheapgrad checkpoint``: memory traded for recomputation on an MLP's chain of layers
or a transformer's chain of blocks, every strategy counted and its gradient compared
with store-all's."""

from __future__ import annotations

import json
import sys

import click
from rich.console import Console

from cheapgrad.analysis.checkpoint import (
    CheckpointResult,
    checkpoint,
    default_strategies,
    steps_of,
)
from cheapgrad.cli.common import (
    TABLE_WIDTH,
    InputError,
    check_outputs,
    emit,
    exits_cleanly,
    say_ready,
)
from cheapgrad.cli.options import format_option
from cheapgrad.models.bundled import load_any_config
from cheapgrad.render.checkpoint import to_csv, to_dict, to_markdown
from cheapgrad.render.checkpoint_tables import checkpoint_tables
from cheapgrad.util import ListError, parse_int_list

#: The most snapshots (and segments) ``--snapshots`` takes.
MAX_SNAPSHOTS = 100_000


@click.command("checkpoint")
@click.argument("config", required=False)
@click.option("--snapshots", metavar="1,2,4",
              help="The numbers S of revolve:S and K of segments:K to run (default: 1 to "
                   "the number of steps l).")
@click.option("--strategy", "strategies", multiple=True, metavar="STRATEGY",
              help="Run only these strategies (repeatable): store-all, recompute-all, "
                   "sqrt, segments:K, revolve:S.")
@format_option()
@click.option("-o", "--out", "out_path", metavar="FILE",
              help="Write the chosen format to FILE instead of the terminal.")
@click.option("--plot", "plot_path", metavar="FILE.png",
              help="Draw the ops ratio against peak memory to FILE.png (needs matplotlib).")
@click.option("--force", is_flag=True, help="Overwrite --out and --plot files.")
@click.option("--max-ops", type=click.IntRange(min=1), metavar="N",
              help="Refuse when the strategies are estimated to count more than N ops "
                   "(default 30,000,000 for an MLP, whose steps run on counted scalars; "
                   "1,000,000,000 for a transformer, on counted arrays).")
@exits_cleanly
def command(config: str | None, snapshots: str | None, strategies: tuple[str, ...],
            fmt: str, out_path: str | None, plot_path: str | None, force: bool,
            max_ops: int | None) -> None:
    """Count checkpointing's trade of recomputation for memory on the MLP or transformer
    in CONFIG.

    An MLP is a chain of l = L + 1 steps (the hidden layers, then the output layer with
    the loss), run on counted scalars; a transformer a chain of l = n_layer + 2 (the
    embedding, the blocks, then ln_f with the head and the loss), run on counted arrays,
    its store-all gradient also compared bit for bit with `cheapgrad run`'s. Every
    strategy runs its schedule: store-all
    (plain reverse mode), recompute-all, sqrt (Chen et al. 2016), segments:K (PyTorch
    checkpoint_sequential) and revolve:S (binomial checkpointing, S snapshots counting
    the input). Each row shows the snapshots held, the untaped step evaluations beside
    the binomial bound t(l, S), the peak of stored values, cost(f, ∇f) and its ratio to
    cost(f). CONFIG is a spec file or a bundled name (default: the lecture spec).
    Exit code 0 when every strategy's gradient equals store-all's bit for bit (and, for
    a transformer, store-all's equals the ordinary run's), 1 otherwise, 2 for bad input.

    \b
    Examples:
      cheapgrad checkpoint deep-64 --snapshots 1,2,4,8
      cheapgrad checkpoint deep-narrow --format markdown -o trade-off.md
      cheapgrad checkpoint deep-64 --plot trade-off.png
      cheapgrad checkpoint deep-64 --strategy revolve:3 --strategy sqrt
      cheapgrad checkpoint gpt-tiny
    """
    if snapshots is not None and strategies:
        raise InputError("--snapshots and --strategy both choose the strategies: give one")
    spec = load_any_config(config)
    steps = steps_of(spec)
    try:
        numbers = (parse_int_list(snapshots, "--snapshots", MAX_SNAPSHOTS)
                   if snapshots is not None else None)
    except ListError as exc:
        raise InputError(str(exc)) from None
    chosen = list(strategies) if strategies else default_strategies(steps, numbers)
    check_outputs(out_path, plot_path, force)
    say_ready()
    result = checkpoint(spec, chosen, max_ops=max_ops)
    if out_path is not None:
        try:
            with open(out_path, "w", encoding="utf-8") as fh:
                _write(result, fmt, Console(file=fh, width=TABLE_WIDTH, no_color=True))
        except OSError as exc:
            raise InputError(f"{out_path}: cannot write: {exc.strerror}") from None
        click.echo(f"wrote {out_path}", err=True)
    else:
        emit(fmt, document=lambda: to_dict(result), markdown=lambda: to_markdown(result),
             csv=lambda: to_csv(result), table=lambda: checkpoint_tables(result))
    if plot_path is not None:
        from cheapgrad.render.checkpoint_plot import plot_checkpoint

        plot_checkpoint(result, plot_path)
        click.echo(f"wrote {plot_path}", err=True)
    if not result.all_identical:
        sys.exit(1)


def _write(result: CheckpointResult, fmt: str, console: Console) -> None:
    """The chosen format into ``console``'s file (a table 80 columns wide)."""
    if fmt == "json":
        console.file.write(json.dumps(to_dict(result), indent=2) + "\n")
    elif fmt == "markdown":
        console.file.write(to_markdown(result))
    elif fmt == "csv":
        console.file.write(to_csv(result))
    else:
        console.print(checkpoint_tables(result))
