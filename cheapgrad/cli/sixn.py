"""``cheapgrad sixn``: the 6N table of one or more transformer specs, side by side."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from cheapgrad.analysis.sixn import SixN, transformer_sixn
from cheapgrad.analysis.transformer import ENGINES, TransformerResult, run_transformer
from cheapgrad.cli.common import InputError, emit, exits_cleanly, say_ready
from cheapgrad.cli.options import format_option
from cheapgrad.models.bundled import load_any_config
from cheapgrad.models.transformer_spec import TransformerSpec


def _spec(config: str) -> TransformerSpec:
    spec = load_any_config(config)
    if not isinstance(spec, TransformerSpec):
        raise InputError(f"{config}: an MLP spec; the 6N table is about transformers "
                         "(model: transformer), e.g. gpt2-small")
    return spec


def document(runs: list[tuple[TransformerResult, SixN]]) -> dict[str, Any]:
    """The JSON document: per spec its name, engine and 6N table."""
    return {"specs": [{"name": r.spec.name, "engine": r.engine, "reason": r.reason,
                       "spec": r.spec.to_dict(), **t.to_dict()} for r, t in runs]}


@click.command("sixn")
@click.argument("configs", nargs=-1, required=True, metavar="SPEC...")
@click.option("--engine", type=click.Choice(ENGINES), default="auto", show_default=True,
              help="How the transformer is counted: executed (array, scalar), from its "
                   "shapes alone (shapes), or auto (shapes when executing would take long).")
@format_option()
@exits_cleanly
def command(configs: tuple[str, ...], engine: str, fmt: str) -> None:
    """The 6N rule measured: each published formula beside the counted FLOPs and ops.

    For each transformer SPEC (a file, or a bundled name: gpt-tiny, gpt2-small,
    gpt2-medium, gpt2-large, gpt2-xl) every published per-token compute formula
    (Kaplan 6N and 3·C_forward, Chinchilla App. F, Megatron, 6N with nanoGPT's N,
    PaLM / nanoGPT's estimate_mfu) beside the measured flop model (FlopCounterMode's
    2·m·n·k) and unit model (every op), with each formula's relative error and what it
    leaves out; the measured ops per parameter per token; cost(f, ∇f)/cost(f) against the
    bound. Several specs add a table of the errors side by side. `cheapgrad run SPEC`
    shows the same table after the counts by component; `cheapgrad sweep SPEC --n-ctx
    ...` sweeps it. Exit code 0 when every ratio is within its bound and every parameter
    count agrees, 1 otherwise, 2 for bad input.

    \b
    Examples:
      cheapgrad sixn gpt2-small
      cheapgrad sixn gpt2-small gpt2-medium gpt2-large gpt2-xl --format csv
    """
    specs = [_spec(c) for c in configs]
    names = [s.name for s in specs]
    if len(set(names)) < len(names):
        raise InputError(f"a spec is named twice: {', '.join(names)}")
    say_ready()
    runs = []
    for spec in specs:
        result = run_transformer(spec, engine)
        runs.append((result, transformer_sixn(result)))
    tables = {r.spec.name: t for r, t in runs}

    def markdown() -> str:
        from cheapgrad.render.sixn import to_markdown

        return "\n".join(to_markdown(t, "##", name) for name, t in tables.items())

    def csv() -> str:
        from cheapgrad.render.sixn import to_csv

        return to_csv(tables)

    def table() -> Any:
        from cheapgrad.render.sixn_tables import sixn_runs_tables

        return sixn_runs_tables(runs)

    emit(fmt, document=lambda: json.dumps(document(runs), indent=2), markdown=markdown,
         csv=csv, table=table)
    ok = all(t.params_agree and all(m.holds is not False for m in t.measured.values())
             for t in tables.values())
    if not ok:
        sys.exit(1)
