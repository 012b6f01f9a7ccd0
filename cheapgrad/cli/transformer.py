"""``cheapgrad run`` on a transformer spec: counted by component, from execution or from
shapes (see :mod:`cheapgrad.analysis.transformer`)."""

from __future__ import annotations

import sys

from cheapgrad.analysis.transformer import run_transformer
from cheapgrad.cli.common import InputError, emit, say_ready
from cheapgrad.models.transformer_spec import TransformerSpec
from cheapgrad.render.transformer import to_csv, to_dict, to_markdown
from cheapgrad.render.transformer_tables import transformer_tables


def run_transformer_command(spec: TransformerSpec, fmt: str, engine: str, cost_model: str,
                            save_path: str | None, time_batches: object,
                            timed: bool) -> None:
    """Count the transformer, write the report, exit 1 when it did not pass."""
    for given, option in ((save_path, "--save-arrays"), (time_batches, "--time-batches"),
                          (timed or None, "--time")):
        if given is not None:
            raise InputError(f"{option} is not available for transformer specs yet")
    say_ready()
    result = run_transformer(spec, engine)
    emit(fmt, document=lambda: to_dict(result),
         markdown=lambda: to_markdown(result, cost_model),
         csv=lambda: to_csv(result),
         table=lambda: transformer_tables(result, cost_model))
    if not result.passed:
        sys.exit(1)
