"""The command line: the ``cheapgrad`` group; each command is one module of this package
(:mod:`.run`, :mod:`.sweep`, :mod:`.circuit`, :mod:`.checkpoint`, :mod:`.audit`,
:mod:`.bench`, :mod:`.calibrate`, :mod:`.example`, :mod:`.sixn`). A command parses
options, calls the core and hands the result to a renderer. Nothing else.

Exit codes: 0 when every bound holds and every check passes, 1 when one does not,
2 for bad input (a one-line message on stderr, never a traceback).
"""

from __future__ import annotations

import os

# Counting runs are mostly batch-1 matrix-vector products, for which a multi-threaded
# BLAS is slower, not faster, and sweeps run one process per core already: one BLAS
# thread per process unless the user says otherwise. This must precede numpy's import.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import sys  # noqa: E402
from typing import Any

import click

from cheapgrad.cli.common import INTERRUPTED, broken_pipe, write_failed
from cheapgrad.util import did_you_mean
from cheapgrad.version import __version__

# click >= 8.2 signals a bare `cheapgrad` with this error; older versions print the help.
_NO_ARGS_IS_HELP: Any = getattr(click.exceptions, "NoArgsIsHelpError", ())


class OneLineErrors(click.Group):
    """The cheapgrad group: a usage error (an unknown option, a bad value for one) is one
    line on stderr and exit code 2, like every other bad input, not click's usage block."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("standalone_mode", None)
        try:
            rv = super().main(*args, standalone_mode=False, **kwargs)  # type: ignore[call-overload]
            sys.stdout.flush()  # --help or --version on a full disk fails here
        except _NO_ARGS_IS_HELP as exc:  # plain `cheapgrad`: the help
            click.echo(exc.format_message())
            sys.exit(exc.exit_code)
        except BrokenPipeError:
            broken_pipe()
        except OSError as exc:  # stdout cannot be written (ENOSPC, EIO)
            try:
                write_failed(exc)
            except click.ClickException as failed:
                failed.show()
                sys.exit(failed.exit_code)
        except click.UsageError as exc:
            where = f" (see '{exc.ctx.command_path} --help')" if exc.ctx is not None else ""
            click.echo(f"Error: {exc.format_message()}{where}", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("interrupted", err=True)
            sys.exit(INTERRUPTED)
        if isinstance(rv, int):  # --help and --version end here with their exit code
            sys.exit(rv)
        return rv

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        """The command ``args[0]`` names; an unknown name is a usage error that suggests
        the closest command (``circut``: did you mean 'circuit'?) and lists them all."""
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            commands = self.list_commands(ctx)
            lower = name.lower()
            hint = (f" (commands are lower case: '{lower}')" if lower in commands
                    else did_you_mean(name, commands))
            ctx.fail(f"No such command '{name}'{hint}; commands: {', '.join(commands)}")
        return super().resolve_command(ctx, args)


@click.group(cls=OneLineErrors, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cheapgrad")
def main() -> None:
    """cheapgrad: the cheap-gradient theorem, checked by counting every op.

    \b
    Examples:
      cheapgrad run                      # the bundled lecture spec
      cheapgrad run configs/wide.yaml --format json
      cheapgrad example sigmoid > my.yaml
    """


def _register_commands() -> None:
    """Add the commands defined one a module in :mod:`cheapgrad.cli`."""
    from cheapgrad.cli import (
        audit,
        bench,
        calibrate,
        checkpoint,
        circuit,
        example,
        run,
        sixn,
        sweep,
    )

    for module in (run, sweep, circuit, checkpoint, audit, bench, calibrate, example, sixn):
        main.add_command(module.command)


_register_commands()

if __name__ == "__main__":  # pragma: no cover
    main()
