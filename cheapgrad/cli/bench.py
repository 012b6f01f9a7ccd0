"""``cheapgrad bench``: the command; the measurements are in :mod:`cheapgrad.analysis.bench`."""

from __future__ import annotations

import os
import sys

import click

from cheapgrad.analysis.bench import run_benchmarks
from cheapgrad.cli.common import emit, exits_cleanly
from cheapgrad.cli.options import format_option
from cheapgrad.render.bench import to_json, to_markdown
from cheapgrad.render.bench_tables import bench_tables


@click.command("bench")
@format_option(("table", "markdown", "json"))
@click.option("--repeat", type=click.IntRange(1, 100), default=5, show_default=True,
              help="Rounds per timing (the best one is kept).")
@click.option("--quick", is_flag=True,
              help="Tiny nets only: checks that the benchmarks run, gives no real figures.")
@exits_cleanly
def command(fmt: str, repeat: int, quick: bool) -> None:
    """Measure counted ops per second of each engine against uncounted baselines.

    Times the scalar engine against a bare counting wrapper and micrograd (when
    installed), and the array engine against plain numpy, on a 128-128-128 tanh net and
    a 1024-wide one, then runs the array engine on ten million weights. Takes under a
    minute. Exit code 1 when a count check fails; missed speed targets are shown, not
    failed.

    \b
    Example:
      cheapgrad bench --format markdown
    """
    from rich.console import Console

    err = Console(stderr=True)
    result = run_benchmarks(quick=quick, repeat=repeat,
                            progress=lambda m: err.print(f"[dim]… {m}[/dim]"))
    env = "".join(f"{k}={os.environ[k]} " for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
                  if k in os.environ)
    label = f"{env}cheapgrad bench --format markdown --repeat {repeat}"
    emit(fmt, document=lambda: to_json(result),
         markdown=lambda: to_markdown(result, label + (" --quick" if quick else "")),
         table=lambda: bench_tables(result))
    if not result.checks_passed:
        sys.exit(1)
