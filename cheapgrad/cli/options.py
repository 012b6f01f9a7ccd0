"""Options shared by several commands, defined once: ``--format``, ``--engine``,
``--cost-model``, ``--weights``. Each is a decorator factory so that a command can narrow
the choices or change the default and help while the name, type and wording stay one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from cheapgrad.analysis.costmodels import CHOICES as COST_MODELS
from cheapgrad.cli.common import FORMATS
from cheapgrad.engines import DEFAULT_ENGINE, ENGINES
from cheapgrad.errors import CheapgradError
from cheapgrad.models.weightsfile import read_weights_file

F = TypeVar("F", bound=Callable[..., Any])


def format_option(formats: tuple[str, ...] = FORMATS) -> Callable[[F], F]:
    """``--format`` among ``formats`` (a subset of every format, in the same order)."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats {sorted(unknown)}")
    return click.option("--format", "fmt", type=click.Choice(formats), default="table",
                        show_default=True, help="Output format.")


def engine_option(default: str = DEFAULT_ENGINE,
                  help: str = "How ops are executed and counted.",
                  extra: tuple[str, ...] = ()) -> Callable[[F], F]:
    """``--engine`` among the registered engines (and ``extra`` choices)."""
    return click.option("--engine", type=click.Choice(sorted((*ENGINES, *extra))),
                        default=default, show_default=True, help=help)


def cost_model_option(help: str) -> Callable[[F], F]:
    """``--cost-model``: one of the cost models, or ``all``."""
    return click.option("--cost-model", type=click.Choice(COST_MODELS), default="unit",
                        show_default=True, help=help)


def _read_weights(ctx: click.Context, param: click.Parameter,
                  value: str | None) -> dict[str, float] | None:
    if value is None:
        return None
    try:
        return read_weights_file(value)
    except CheapgradError as exc:
        raise click.BadParameter(str(exc)) from None


def weights_option() -> Callable[[F], F]:
    """``--weights FILE``: a weights file (``cheapgrad calibrate --out``) pricing every op
    kind of the ``weighted`` cost model, over the spec's ``cost_weights``; passed to the
    command as the validated mapping (op kind -> weight), or ``None``."""
    return click.option("--weights", "weights", metavar="FILE.json", callback=_read_weights,
                        help="Weights file (from `cheapgrad calibrate --out`) pricing every "
                             "op of the weighted cost model, over the spec's cost_weights.")
