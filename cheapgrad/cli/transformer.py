"""``cheapgrad run`` on a transformer spec: counted by component, from execution or from
shapes (see :mod:`cheapgrad.analysis.transformer`); ``--load-weights`` and
``--save-arrays`` read and write nanoGPT's state dict
(:mod:`cheapgrad.models.transformer_weights`); ``--checkpoint`` runs the chain of
blocks under one strategy (:mod:`cheapgrad.analysis.checkpoint.transformer`) on the
run's weights and tokens."""

from __future__ import annotations

import sys

import click
from rich.console import Group

from cheapgrad.analysis.checkpoint import (
    CheckpointResult,
    Strategy,
    compare_with_run,
    plan,
    run_strategies,
)
from cheapgrad.analysis.checkpoint.transformer import transformer_chain
from cheapgrad.analysis.transformer import TransformerResult, run_transformer
from cheapgrad.cli.common import InputError, check_writable, emit, say_ready
from cheapgrad.models.npzfile import write_npz
from cheapgrad.models.transformer_spec import TransformerSpec
from cheapgrad.models.transformer_weights import read_weights, saved_arrays
from cheapgrad.render.checkpoint import to_dict as checkpoint_dict
from cheapgrad.render.checkpoint import to_markdown as checkpoint_markdown
from cheapgrad.render.checkpoint_tables import checkpoint_tables
from cheapgrad.render.transformer import to_csv, to_dict, to_markdown
from cheapgrad.render.transformer_tables import transformer_tables


def run_transformer_command(spec: TransformerSpec, fmt: str, engine: str, cost_model: str,
                            save_path: str | None, time_batches: object,
                            timed: bool, *, force: bool = False,
                            load_path: str | None = None, strategy: str | None = None,
                            max_ops: int | None = None) -> None:
    """Count the transformer, write the report, exit 1 when it did not pass (or, with
    ``strategy``, when the chain's gradient differs from the run's)."""
    for given, option in ((time_batches, "--time-batches"), (timed or None, "--time")):
        if given is not None:
            raise InputError(f"{option} is not available for transformer specs yet")
    if save_path is not None:
        if engine == "shapes":
            raise InputError("--save-arrays: the shapes engine computes no value; execute "
                             "the model with --engine array or scalar")
        check_writable(save_path, force, suffix=".npz")
    # a bad or too costly strategy is refused before any work
    strategies = plan(spec, [strategy], max_ops) if strategy is not None else None
    if strategies is not None and engine in ("shapes", "scalar"):
        raise InputError(f"--checkpoint runs the chain on counted arrays and compares it with "
                         f"the run: use --engine array or auto, not {engine}")
    weights = None if load_path is None else read_weights(load_path, spec)
    say_ready()
    result = run_transformer(spec, "array" if strategies and engine == "auto" else engine,
                             weights=weights)
    ck = None if strategies is None else checkpoint_of(result, strategies)
    if save_path is not None:
        save_arrays(result, save_path)
    emit(fmt, document=lambda: {**to_dict(result), **(
            {"checkpoint": checkpoint_dict(ck)} if ck is not None else {})},
         markdown=lambda: to_markdown(result, cost_model) + ("" if ck is None else "\n"
            + checkpoint_markdown(ck).replace("# Checkpointing", "## Checkpointing", 1)),
         csv=lambda: to_csv(result),
         table=lambda: transformer_tables(result, cost_model) if ck is None else Group(
             transformer_tables(result, cost_model), checkpoint_tables(ck)))
    if not result.passed or (ck is not None and not ck.all_identical):
        sys.exit(1)


def checkpoint_of(result: TransformerResult, strategies: list[Strategy]) -> CheckpointResult:
    """The strategies run on the chain of the run's weights and tokens, store-all compared
    with the run."""
    assert result.params is not None and result.gradients is not None
    assert result.idx is not None and result.targets is not None and result.loss is not None
    chain = transformer_chain(result.spec, result.params, result.idx, result.targets)
    ck = run_strategies(chain, result.spec, strategies)
    compare_with_run(ck, result.spec, result.gradients, result.loss,
                     result.phases["forward"].total, result.phases["backward"].total)
    return ck


def save_arrays(result: TransformerResult, path: str) -> None:
    """Write nanoGPT's state dict, idx, targets, loss and grad_<name> to ``path`` and say
    so on stderr."""
    if result.params is None or result.gradients is None or result.loss is None \
            or result.idx is None or result.targets is None:
        raise InputError(f"--save-arrays: {result.engine} ({result.reason}): no value "
                         "computed, nothing to save; execute the model with --engine array")
    arrays = saved_arrays(result.spec, result.params, result.gradients, result.idx,
                          result.targets, result.loss)
    write_npz(path, arrays)
    n = len(result.params)
    click.echo(f"wrote {path}: {n} parameters as nanoGPT's state dict (PyTorch layout), "
               f"idx, targets, loss, grad_<name> for each", err=True)
