"""``cheapgrad run`` on a transformer spec: counted by component, from execution or from
shapes (see :mod:`cheapgrad.analysis.transformer`); ``--load-weights`` and
``--save-arrays`` read and write nanoGPT's state dict
(:mod:`cheapgrad.models.transformer_weights`)."""

from __future__ import annotations

import sys

import click

from cheapgrad.analysis.transformer import TransformerResult, run_transformer
from cheapgrad.cli.common import InputError, check_writable, emit, say_ready
from cheapgrad.models.npzfile import write_npz
from cheapgrad.models.transformer_spec import TransformerSpec
from cheapgrad.models.transformer_weights import read_weights, saved_arrays
from cheapgrad.render.transformer import to_csv, to_dict, to_markdown
from cheapgrad.render.transformer_tables import transformer_tables


def run_transformer_command(spec: TransformerSpec, fmt: str, engine: str, cost_model: str,
                            save_path: str | None, time_batches: object,
                            timed: bool, *, force: bool = False,
                            load_path: str | None = None) -> None:
    """Count the transformer, write the report, exit 1 when it did not pass."""
    for given, option in ((time_batches, "--time-batches"), (timed or None, "--time")):
        if given is not None:
            raise InputError(f"{option} is not available for transformer specs yet")
    if save_path is not None:
        if engine == "shapes":
            raise InputError("--save-arrays: the shapes engine computes no value; execute "
                             "the model with --engine array or scalar")
        check_writable(save_path, force, suffix=".npz")
    weights = None if load_path is None else read_weights(load_path, spec)
    say_ready()
    result = run_transformer(spec, engine, weights=weights)
    if save_path is not None:
        save_arrays(result, save_path)
    emit(fmt, document=lambda: to_dict(result),
         markdown=lambda: to_markdown(result, cost_model),
         csv=lambda: to_csv(result),
         table=lambda: transformer_tables(result, cost_model))
    if not result.passed:
        sys.exit(1)


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
