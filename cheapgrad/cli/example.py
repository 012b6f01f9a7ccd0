"""``cheapgrad example``: print a bundled spec to start from."""

from __future__ import annotations

import click

from cheapgrad.cli.common import InputError
from cheapgrad.models.bundled import spec_names, spec_text


@click.command("example")
@click.argument("name", required=False, default="lecture")
@click.option("--list", "list_only", is_flag=True, help="List the bundled specs.")
def command(name: str, list_only: bool) -> None:
    """Print a bundled spec to start from (default: lecture).

    \b
    Example:
      cheapgrad example deep-narrow > mine.yaml
    """
    names = spec_names()
    if list_only:
        for n in names:
            click.echo(n)
        return
    if name not in names:
        raise InputError(f"no bundled spec '{name}'; bundled: {', '.join(names)}")
    click.echo(spec_text(name), nl=False)
