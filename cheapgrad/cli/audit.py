"""``cheapgrad audit``: is the lecture's factor 5 true when h' costs up to C times h?"""

from __future__ import annotations

import sys

import click

from cheapgrad.analysis.audit import (
    DEFAULT_COSTS,
    DEFAULT_DEPTHS,
    DEFAULT_WIDTHS,
    LECTURE_BOUND,
    LECTURE_FACTOR,
    run_audit,
)
from cheapgrad.analysis.second_audit import run_second_audit
from cheapgrad.cli.common import emit, exits_cleanly
from cheapgrad.cli.options import engine_option, format_option
from cheapgrad.render.audit import to_markdown
from cheapgrad.render.costmodel_tables import audit_tables
from cheapgrad.render.second_audit import second_audit_tables
from cheapgrad.render.second_audit import to_markdown as second_markdown
from cheapgrad.util import parse_int_list

#: Most values one grid option takes, and the largest value (keeps the audit quick).
MAX_VALUES = 16
MAX_DEPTH = 4096
MAX_WIDTH = 64
MAX_COST = 10**6


def _int_list(option: str, text: str, maximum: int) -> tuple[int, ...]:
    return parse_int_list(text, option, maximum, max_values=MAX_VALUES)


def _csv(values: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in values)


@click.command("audit")
@click.option("--derivative-factor", "factor", type=click.FloatRange(min=0, max=1e6),
              default=LECTURE_FACTOR, show_default=True, metavar="C",
              help="The hypothesis: cost(h') <= C·cost(h).")
@click.option("--stated-bound", type=click.FloatRange(min=0, max=1e6), default=LECTURE_BOUND,
              show_default=True, metavar="B", help="The claimed factor to audit.")
@click.option("--depths", default=_csv(DEFAULT_DEPTHS), show_default=True,
              help="Depths (hidden layers) to search.")
@click.option("--widths", default=_csv(DEFAULT_WIDTHS), show_default=True,
              help="Hidden widths to search.")
@click.option("--costs", default=_csv(DEFAULT_COSTS), show_default=True,
              help="Declared costs of h to search (h' gets the largest C·cost allowed).")
@click.option("--batch", type=click.IntRange(min=1, max=1024), default=1, show_default=True,
              help="Examples whose losses are summed (the lecture's theorem is about one).")
@engine_option(default="scalar", help="Engine that measures the worst case.")
@format_option(("table", "json", "markdown"))
@click.option("--second-order", is_flag=True,
              help="Audit the published constants of tangents, gradients and Hessian-vector "
                   "products instead, measured on the scalar built-ins (docs/second-order.md).")
@exits_cleanly
def command(factor: float, stated_bound: float, depths: str, widths: str, costs: str,
            batch: int, engine: str, fmt: str, second_order: bool) -> None:
    """Audit Theorem 2.1: is cost(f, ∇f) <= B·cost(f) whenever cost(h') <= C·cost(h)?

    Derives the exact unit-cost ratio of an MLP as a closed form of its architecture
    and the declared costs of h and h' (the custom activation), gives its supremum
    over all architectures, searches a grid for the largest ratio, and measures the
    worst case found on the counted engine. Exit code 0 when the stated bound holds
    and every measurement equals the closed form, 1 otherwise, 2 for bad input.

    With --second-order, sets the published constants of second order (Pearlmutter,
    the JAX cookbook, Griewank & Walther) beside the ratios measured on the built-ins;
    the exit code is 0 (their bounds are under other cost models; the table says which).

    \b
    Example:
      cheapgrad audit --derivative-factor 5 --format json
      cheapgrad audit --second-order
    """
    if second_order:
        audit = run_second_audit()
        emit(fmt, document=audit.to_dict, markdown=lambda: second_markdown(audit),
             table=lambda: second_audit_tables(audit))
        return
    result = run_audit(
        factor, stated_bound,
        depths=_int_list("--depths", depths, MAX_DEPTH),
        widths=_int_list("--widths", widths, MAX_WIDTH),
        costs=_int_list("--costs", costs, MAX_COST),
        batch=batch,
        engine=engine,
    )
    emit(fmt, document=result.to_dict, markdown=lambda: to_markdown(result),
         table=lambda: audit_tables(result))
    if not result.passed:
        sys.exit(1)
