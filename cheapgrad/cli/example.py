"""``cheapgrad example``: print a bundled spec or circuit to start from."""

from __future__ import annotations

import textwrap

import click
import yaml

from cheapgrad.cli.common import TABLE_WIDTH, InputError
from cheapgrad.models.bundled import circuit_names, circuit_text, spec_names, spec_text


def _description(text: str) -> str:
    """The ``description:`` of a bundled file ('' when it has none)."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        return ""
    return str(doc.get("description", "")) if isinstance(doc, dict) else ""


@click.command("example")
@click.argument("name", required=False, default="lecture")
@click.option("--list", "list_only", is_flag=True,
              help="List the bundled specs and circuits with their descriptions.")
def command(name: str, list_only: bool) -> None:
    """Print a bundled spec (for `run` and `sweep`) or circuit (for `circuit`) to start
    from (default: lecture).

    \b
    Examples:
      cheapgrad example --list
      cheapgrad example deep-narrow > mine.yaml
      cheapgrad example rosenbrock > mine-circuit.yaml
    """
    specs, circuits = spec_names(), circuit_names()
    if list_only:
        width = max(map(len, specs + circuits), default=0)
        for title, names, text in (("specs (cheapgrad run NAME, cheapgrad sweep NAME)",
                                    specs, spec_text),
                                   ("circuits (cheapgrad circuit NAME)", circuits,
                                    circuit_text)):
            click.echo(f"{title}:")
            for n in names:
                click.echo(textwrap.fill(f"{n:<{width}}  {_description(text(n))}".rstrip(),
                                         width=TABLE_WIDTH, initial_indent="  ",
                                         subsequent_indent=" " * (width + 4)))
        return
    if name in specs:
        click.echo(spec_text(name), nl=False)
    elif name in circuits:
        click.echo(circuit_text(name), nl=False)
    else:
        raise InputError(f"no bundled spec or circuit '{name}'; specs: {', '.join(specs)}; "
                         f"circuits: {', '.join(circuits)}")
