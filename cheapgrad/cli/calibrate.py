"""``cheapgrad calibrate``: measure what each op costs on this machine, relative to an add."""

from __future__ import annotations

import json

import click

from cheapgrad.analysis.calibrate import METHODS, calibrate
from cheapgrad.cli.common import InputError, check_writable, emit, exits_cleanly
from cheapgrad.cli.options import format_option
from cheapgrad.render.calibrate import calibrate_table, document, to_markdown


@click.command("calibrate")
@click.option("--method", type=click.Choice((*METHODS, "both")), default="both",
              show_default=True,
              help="latency: dependent scalar chains, less a base chain; throughput: numpy "
                   "ufuncs per element, from two array sizes.")
@click.option("--out", "out_path", metavar="FILE.json",
              help="Write the weights file (one method) for --weights FILE or a spec's "
                   "cost_weights: FILE.")
@click.option("--force", is_flag=True, help="Overwrite the --out file if it exists.")
@format_option(("table", "json", "markdown"))
@click.option("--quick", is_flag=True, help="A few rounds only (a smoke test, not a measure).")
@exits_cleanly
def command(method: str, out_path: str | None, force: bool, fmt: str, quick: bool) -> None:
    """Measure what each op of the op table costs here, relative to an add.

    Two methods (see docs/costmodels.md): scalar latency, a dependent chain per op on
    Python floats timed against a base chain in interleaved rounds (10th percentile);
    numpy throughput, each op's ufunc per element, the difference of two array sizes so
    that a call's fixed cost cancels. Declared units (h, dh) are the spec's own units,
    weight 1. Takes a few seconds. The table shows the default weights beside.

    \b
    Examples:
      cheapgrad calibrate
      cheapgrad calibrate --method latency --out latency.json
      cheapgrad run lecture --cost-model weighted --weights latency.json
    """
    methods = METHODS if method == "both" else (method,)
    if out_path is not None:
        if len(methods) != 1:
            raise InputError("--out writes the weights of one method: add --method latency "
                             "or --method throughput")
        check_writable(out_path, force)
    cals = [calibrate(m, quick=quick) for m in methods]
    if out_path is not None:
        text = json.dumps(document(cals), indent=2) + "\n"
        try:
            with open(out_path, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise InputError(f"{out_path}: cannot write: {exc.strerror or exc}") from None
        click.echo(f"wrote {out_path} ({methods[0]} weights)", err=True)
    emit(fmt, document=lambda: document(cals), markdown=lambda: to_markdown(cals),
         table=lambda: calibrate_table(cals))
