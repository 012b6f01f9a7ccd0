"""Helpers shared by every command module: error conversion, the console, output files
and the one :func:`emit` that writes every format.

Part of the thin CLI layer (it imports click); the core never imports it.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from cheapgrad.errors import CheapgradError, OutputExistsError
from cheapgrad.models.bundled import load_config

F = TypeVar("F", bound=Callable[..., Any])

#: Every output format; a command offers the ones its results have.
FORMATS = ("table", "json", "markdown", "csv")

__all__ = [
    "BROKEN_PIPE", "FORMATS", "INTERRUPTED", "TABLE_WIDTH", "InputError", "broken_pipe",
    "check_distinct", "check_writable", "console", "emit", "exits_cleanly", "load_config",
    "write_failed", "write_out",
]


#: Exit code after Ctrl-C: 128 + SIGINT.
INTERRUPTED = 130
#: Exit code when the output's reader has gone away: 128 + SIGPIPE.
BROKEN_PIPE = 141
#: When set, a long command says ``ready`` on stderr once a Ctrl-C would stop its work
#: cleanly (the tests that send one wait for it instead of guessing a delay).
READY_VARIABLE = "CHEAPGRAD_TEST_READY"


def say_ready() -> None:
    """Print ``ready`` on stderr if :data:`READY_VARIABLE` is set."""
    if os.environ.get(READY_VARIABLE):
        click.echo("ready", err=True)


#: Exit code after Ctrl-C (128 + SIGINT), as shells report it.
EXIT_INTERRUPTED = 130


class ReadySink:
    """A sweep's progress nobody sees; ``start`` (the work is about to begin, workers up)
    is when a Ctrl-C would stop the sweep cleanly, so :func:`say_ready` then."""

    def start(self, cells: int, work: float) -> None:
        say_ready()

    def advance(self, cell: object, work: float) -> None:
        pass


class InputError(click.ClickException):
    """Bad input: one line on stderr, exit code 2."""

    exit_code = 2


def broken_pipe() -> None:
    """The reader of stdout went away (``cheapgrad run | true``): stop quietly, with
    the shell's code for a SIGPIPE, not 1, which means that a check failed."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(BROKEN_PIPE)


def write_failed(exc: OSError) -> NoReturn:
    """stdout cannot be written (``> /dev/full``: no space left): one line and exit code 2,
    like a file that cannot be written. stdout is pointed at the null device first, so
    that the interpreter's last flush at exit does not fail again with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
    where = exc.filename if exc.filename else "the output"
    raise InputError(f"{where}: cannot write: {exc.strerror or exc}") from None


#: Width of every table when stdout is not a terminal and COLUMNS is unset (and of the
#: tables written with ``--out``): the width of a classic terminal, which every table fits.
TABLE_WIDTH = 80


def console(**kwargs: Any) -> Any:
    """A rich console for stdout that exits like :func:`broken_pipe` when the reader goes
    away (rich's own exits with code 1). Piped (not a terminal) and without COLUMNS it is
    :data:`TABLE_WIDTH` wide, for every command alike."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            broken_pipe()

    if "width" not in kwargs and "file" not in kwargs and "COLUMNS" not in os.environ \
            and not sys.stdout.isatty():
        kwargs["width"] = TABLE_WIDTH
    return _Console(**kwargs)


def exits_cleanly(fn: F) -> F:
    """Turn the core's errors into one-line messages with exit code 2, and Ctrl-C into
    exit code 130 (as shells report it) instead of click's "Aborted!" with code 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
            sys.stdout.flush()  # a closed pipe shows up here, where it can be handled
            return result
        except CheapgradError as exc:
            raise InputError(str(exc)) from None
        except MemoryError:
            raise InputError("out of memory: the input is too large for this machine") from None
        except RecursionError:
            raise InputError("the input is nested too deeply to read") from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(INTERRUPTED)
        except BrokenPipeError:
            broken_pipe()
        except OSError as exc:  # stdout on a full disk (ENOSPC) or a dead terminal (EIO)
            write_failed(exc)

    return wrapper  # type: ignore[return-value]


def check_writable(path: str, force: bool, suffix: str | None = None) -> None:
    """Refuse to overwrite an existing file unless ``force`` (and, with ``suffix``, a
    file whose name does not end in it)."""
    if not path.strip():
        raise OutputExistsError("the output file's name is empty: name a file to write")
    p = Path(path)
    if suffix is not None and p.suffix != suffix:
        raise OutputExistsError(f"{path}: the file's name must end in {suffix}")
    if p.is_dir():
        raise OutputExistsError(f"{path}: is a directory")
    if p.exists() and not force:
        raise OutputExistsError(f"{path}: already exists (use --force to overwrite)")
    if not p.parent.exists():
        raise OutputExistsError(f"{path}: folder {p.parent} does not exist")
    if not p.parent.is_dir():
        raise OutputExistsError(f"{path}: {p.parent} is a file, not a folder")
    if not os.access(p.parent, os.W_OK):
        raise OutputExistsError(f"{path}: folder {p.parent} is not writable")


def check_distinct(*paths: tuple[str, str | None]) -> None:
    """Refuse two outputs that name one file (``--out same.png --plot same.png``: the
    second would silently replace the first); ``paths`` are (option, path or None)."""
    seen: dict[Path, str] = {}
    for option, path in paths:
        if path is None:
            continue
        key = Path(path).resolve()
        if key in seen:
            raise OutputExistsError(f"{path}: {seen[key]} and {option} name the same file; "
                                    "give each output its own file")
        seen[key] = option



def check_outputs(out_path: str | None, plot_path: str | None, force: bool) -> None:
    """Before any work: ``--out`` and ``--plot`` name different files, neither is
    overwritten without ``--force``, the plot's type can be written and matplotlib is
    there (one line, exit 2, otherwise)."""
    check_distinct(("--out", out_path), ("--plot", plot_path))
    if out_path is not None:
        check_writable(out_path, force)
    if plot_path is not None:
        from cheapgrad.render.plot import check_plot_path, require_matplotlib

        check_plot_path(plot_path)
        check_writable(plot_path, force)
        require_matplotlib()

def write_out(path: str, fmt: str, *, text: Callable[[], str],
              table: Callable[[], Any]) -> None:
    """Write a report to the file ``--out`` names: the rich ``table()`` without colour at
    :data:`TABLE_WIDTH` for ``fmt == "table"``, else ``text()``; a failed write is one
    line (:class:`InputError`)."""
    try:
        with open(path, "w", encoding="utf-8") as fh:
            if fmt == "table":
                from rich.console import Console

                Console(file=fh, width=TABLE_WIDTH, no_color=True).print(table())
            else:
                fh.write(text())
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror}") from None


def emit(fmt: str, *, document: Callable[[], Any], markdown: Callable[[], str],
         table: Callable[[], Any], csv: Callable[[], str] | None = None) -> None:
    """Write a report to stdout in ``fmt`` (one of :data:`FORMATS`); each renderer is
    called only when its format is chosen. ``document`` is plain data printed as JSON,
    or (a string) JSON already."""
    if fmt == "json":
        doc = document()
        click.echo(doc if isinstance(doc, str) else json.dumps(doc, indent=2))
    elif fmt == "markdown":
        click.echo(markdown(), nl=False)
    elif fmt == "csv" and csv is not None:
        click.echo(csv(), nl=False)
    else:
        console().print(table(), crop=False)
