"""``cheapgrad bench``: the command; the measurements are in :mod:`cheapgrad.analysis.bench`."""

from __future__ import annotations

import os
import sys

import click

from cheapgrad.analysis.bench import run_benchmarks
from cheapgrad.cli.common import console, exits_cleanly
from cheapgrad.render.bench import HEADERS, cells, to_json, to_markdown
from cheapgrad.render.run_tables import keep_whole


@click.command("bench")
@click.option("--format", "fmt", type=click.Choice(["table", "markdown", "json"]),
              default="table", show_default=True, help="Output format.")
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
    if fmt == "json":
        click.echo(to_json(result))
    elif fmt == "markdown":
        env = "".join(f"{k}={os.environ[k]} " for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")
                      if k in os.environ)
        label = f"{env}cheapgrad bench --format markdown --repeat {repeat}"
        click.echo(to_markdown(result, label + (" --quick" if quick else "")), nl=False)
    else:
        from rich.table import Table

        table = Table(title="cheapgrad bench")
        for h in HEADERS:
            table.add_column(h)
        for row in result.rows:
            table.add_row(*cells(row))
        out = console()
        out.print(keep_whole(table), crop=False)
        for k, v in result.machine.items():
            out.print(f"{k}: {v}")
        for n in [f"{r.name}: {r.note}" for r in result.rows if r.note] + result.notes:
            out.print(f"- {n}")
    if not result.checks_passed:
        sys.exit(1)
