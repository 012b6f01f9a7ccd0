"""Options shared by several commands, defined once: ``--format``, ``--engine``,
``--cost-model``. Each is a decorator factory so that a command can narrow the choices
or change the default and help while the name, type and wording stay one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from cheapgrad.analysis.costmodels import CHOICES as COST_MODELS
from cheapgrad.cli.common import FORMATS
from cheapgrad.engines import DEFAULT_ENGINE, ENGINES

F = TypeVar("F", bound=Callable[..., Any])


def format_option(formats: tuple[str, ...] = FORMATS) -> Callable[[F], F]:
    """``--format`` among ``formats`` (a subset of every format, in the same order)."""
    unknown = set(formats) - set(FORMATS)
    if unknown:
        raise ValueError(f"unknown formats {sorted(unknown)}")
    return click.option("--format", "fmt", type=click.Choice(formats), default="table",
                        show_default=True, help="Output format.")


def engine_option(default: str = DEFAULT_ENGINE,
                  help: str = "How ops are executed and counted.") -> Callable[[F], F]:
    """``--engine`` among the registered engines."""
    return click.option("--engine", type=click.Choice(sorted(ENGINES)), default=default,
                        show_default=True, help=help)


def cost_model_option(help: str) -> Callable[[F], F]:
    """``--cost-model``: one of the cost models, or ``all``."""
    return click.option("--cost-model", type=click.Choice(COST_MODELS), default="unit",
                        show_default=True, help=help)
