"""``cheapgrad run``: one MLP spec, counted, predicted and checked."""

from __future__ import annotations

import dataclasses
import sys

import click
import numpy as np

# Loaded with the command, not lazily once a run has begun: a Ctrl-C that lands while
# numpy.random's compiled modules start up is lost (the run then goes on to its end).
import numpy.random  # noqa: F401

from cheapgrad.analysis.checkpoint import CheckpointResult, plan, run_strategies
from cheapgrad.analysis.checkpoint.mlp import mlp_chain
from cheapgrad.analysis.gradcheck import METHODS as CHECK_METHODS
from cheapgrad.analysis.run import RunResult, run
from cheapgrad.analysis.timing import ClockRow, Timing, clock_rows, time_net
from cheapgrad.cli.common import (
    InputError,
    check_writable,
    emit,
    exits_cleanly,
    say_ready,
)
from cheapgrad.cli.options import (
    cost_model_option,
    engine_option,
    format_option,
    weights_option,
)
from cheapgrad.cli.transformer import run_transformer_command
from cheapgrad.models.bundled import load_any_config
from cheapgrad.models.npzfile import write_npz
from cheapgrad.models.transformer_spec import TransformerSpec
from cheapgrad.render.run import to_csv, to_dict, to_markdown
from cheapgrad.render.run_tables import run_tables
from cheapgrad.util import ListError, parse_int_list

#: The largest batch ``--time-batches`` takes.
MAX_TIME_BATCH = 4096


def _batch_list(ctx: click.Context, param: click.Parameter,
                value: str | None) -> tuple[int, ...] | None:
    """Parse ``--time-batches 1,8,64`` into positive integers."""
    if value is None:
        return None
    try:
        return parse_int_list(value, "--time-batches", MAX_TIME_BATCH)
    except ListError as exc:
        raise click.BadParameter(str(exc).removeprefix("--time-batches: ")) from None


@click.command("run")
@click.argument("config", required=False)
@format_option()
@engine_option(help="How ops are executed and counted; shapes: a transformer counted from "
                    "its shapes alone (auto picks it when executing would take long).",
               extra=("shapes",))
@click.option("--save-arrays", "save_path", metavar="FILE.npz",
              help="Save x, y, weights, loss and gradients to an .npz file (a transformer: "
                   "nanoGPT's state dict in PyTorch layout, idx, targets, loss, grad_<name>).")
@click.option("--load-weights", "load_path", metavar="FILE.npz",
              help="A transformer: run on these weights (nanoGPT's state-dict names and "
                   "PyTorch layout, as --save-arrays writes them) and, if the file has them, "
                   "tokens idx and targets.")
@click.option("--force", is_flag=True, help="Overwrite the --save-arrays file if it exists.")
@click.option("--max-ops", type=click.IntRange(min=1), metavar="N",
              help="Refuse specs whose closed form predicts more than N ops "
                   "(default: the engine's limit).")
@click.option("--check", "check_method", type=click.Choice(CHECK_METHODS), default="auto",
              show_default=True,
              help="Gradient check: complex step or central differences, every partial or "
                   "random directions; auto: complex step, every partial up to 2,000 "
                   "parameters.")
@cost_model_option("Cost model(s) the tables show ('all': every model and the published "
                   "constants); JSON always carries every model.")
@weights_option()
@click.option("--time", "timed", is_flag=True,
              help="Also time plain numpy forward and forward+backward (median of repeats).")
@click.option("--time-batches", "time_batches", metavar="B1,B2,...", callback=_batch_list,
              help="Count and time the net at each of these batch sizes, e.g. 1,8,64: op, "
                   "MOVES and flop ratios beside the clock's.")
@click.option("--checkpoint", "strategy", metavar="STRATEGY",
              help="Also run the chain of layers (a transformer: embedding, blocks, head) "
                   "under one checkpointing strategy "
                   "(store-all, recompute-all, sqrt, segments:K, revolve:S; see `cheapgrad "
                   "checkpoint`) and report its memory, ops and gradient.")
@click.option("--all-rows", is_flag=True,
              help="Show every row of the table by layer (a long one is folded to its first "
                   "and last rows).")
@exits_cleanly
def command(config: str | None, fmt: str, engine: str, save_path: str | None,
            load_path: str | None, force: bool, max_ops: int | None, check_method: str,
            cost_model: str,
            weights: dict[str, float] | None, timed: bool,
            time_batches: tuple[int, ...] | None, strategy: str | None,
            all_rows: bool) -> None:
    """Count f and ∇f of the MLP or transformer in CONFIG and check the theorem.

    CONFIG is a YAML spec file (an MLP, or `model: transformer`: a GPT-2, counted by
    component; see docs/transformers.md), or a name: NAME.yaml in the working folder if it exists,
    else the bundled spec of that name (see `cheapgrad example --list`); without it the
    bundled lecture spec runs.
    Exit code 0 when the ratio is within the bound, the gradient matches an independent
    derivative of the loss (complex step or central differences), every count equals
    the closed form and (with --checkpoint) the strategy's gradient equals store-all's
    bit for bit; 1 otherwise; 2 for bad input.

    \b
    Example:
      cheapgrad run configs/lecture.yaml --format markdown --cost-model all --time
    """
    any_spec = load_any_config(config)
    if isinstance(any_spec, TransformerSpec):
        if weights is not None:
            any_spec = dataclasses.replace(any_spec, cost_weights=weights)
        run_transformer_command(any_spec, fmt, engine, cost_model, save_path, time_batches,
                                timed, force=force, load_path=load_path, strategy=strategy,
                                max_ops=max_ops)
        return
    if load_path is not None:
        raise InputError("--load-weights reads a transformer's weights (model: transformer); "
                         "an MLP draws its weights from the spec's seed")
    if engine == "shapes":
        raise InputError("--engine shapes counts transformer specs (model: transformer); "
                         "an MLP runs on array, scalar or auto")
    spec = any_spec
    if weights is not None:
        spec = dataclasses.replace(spec, cost_weights=weights)
    if spec.sweep is not None:  # not used here, but a mistake in the file is still one
        from cheapgrad.analysis.sweep import grid_from_spec

        grid_from_spec(spec)
    if save_path is not None:
        check_writable(save_path, force, suffix=".npz")
    # a bad or too costly strategy is refused before any work
    strategies = plan(spec, [strategy], max_ops) if strategy is not None else None
    say_ready()
    result = run(spec, engine, max_ops=max_ops, check=check_method)
    ck = run_strategies(mlp_chain(spec), spec, strategies) if strategies else None
    timing = time_net(spec, params=result.params) if timed else None
    rows = clock_rows(spec, time_batches, engine=engine) if time_batches else None
    if save_path is not None:
        save_arrays(result, save_path)
    emit_run(result, fmt, cost_model, timing=timing, clock_rows=rows, all_rows=all_rows,
             checkpoint=ck)
    if not result.passed or (ck is not None and not ck.all_identical):
        sys.exit(1)


def emit_run(result: RunResult, fmt: str, cost_model: str = "unit", *,
             timing: Timing | None = None, clock_rows: list[ClockRow] | None = None,
             all_rows: bool = False, checkpoint: CheckpointResult | None = None) -> None:
    """Write a run report to stdout in the chosen format."""
    emit(fmt, document=lambda: to_dict(result, timing=timing, clock_rows=clock_rows,
                                       checkpoint=checkpoint),
         markdown=lambda: to_markdown(result, cost_model, timing=timing, clock_rows=clock_rows,
                                      checkpoint=checkpoint),
         csv=lambda: to_csv(result),
         table=lambda: run_tables(result, cost_model, timing=timing, clock_rows=clock_rows,
                                  all_rows=all_rows, checkpoint=checkpoint))


def save_arrays(result: RunResult, path: str) -> None:
    """Save x, y, W1.., b1.., loss, grad_W1.., grad_b1.. to an .npz file and say so on
    stderr; a file that cannot be written is one line and exit code 2."""
    arrays: dict[str, np.ndarray] = {"x": result.params.x, "y": result.params.y,
                                     "loss": np.array(result.loss)}
    for i, w in enumerate(result.params.W, start=1):
        arrays[f"W{i}"] = w
    for i, g in enumerate(result.output.grads.W, start=1):
        arrays[f"grad_W{i}"] = g
    for i, b in enumerate(result.params.b or [], start=1):
        arrays[f"b{i}"] = b
    for i, g in enumerate(result.output.grads.b or [], start=1):
        arrays[f"grad_b{i}"] = g
    write_npz(path, arrays)
    click.echo(f"wrote {path}: {', '.join(arrays)}", err=True)
