"""Helpers shared by every command module: error conversion, spec loading, output files.

Part of the thin CLI layer (it imports click); the core never imports it.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import click
import numpy as np

# Loaded with the command line, not lazily once a run has begun: a Ctrl-C that lands while
# numpy.random's compiled modules start up is lost (the run then goes on to its end).
import numpy.random  # noqa: F401, E402

from cheapgrad.analysis.run import RunResult
from cheapgrad.errors import CheapgradError, OutputExistsError, SpecError
from cheapgrad.models.spec import Spec, load_spec, spec_from_yaml

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "json", "markdown", "csv")


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


class InputError(click.ClickException):
    """Bad input: one line on stderr, exit code 2."""

    exit_code = 2


def broken_pipe() -> None:
    """The reader of stdout went away (``cheapgrad run | head -1``): stop quietly, with
    the shell's code for a SIGPIPE, not 1, which means that a check failed."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    sys.exit(BROKEN_PIPE)


def console(**kwargs: Any) -> Any:
    """A rich console for stdout that exits like :func:`broken_pipe` when the reader goes
    away (rich's own exits with code 1)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            broken_pipe()

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

    return wrapper  # type: ignore[return-value]


# --- bundled specs ----------------------------------------------------------------------


def bundled_names() -> list[str]:
    """Names of the specs shipped inside the package (``cheapgrad example --list``)."""
    folder = resources.files("cheapgrad") / "configs"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def bundled_text(name: str) -> str:
    return (resources.files("cheapgrad") / "configs" / f"{name}.yaml").read_text("utf-8")


def load_config(config: str | None) -> Spec:
    """A spec from a file path, or a bundled spec by name (default: ``lecture``)."""
    if config is None:
        return spec_from_yaml(bundled_text("lecture"), source="lecture (bundled)")
    if not config.strip():
        raise SpecError("the spec's path is empty; name a file or a bundled spec "
                        f"({', '.join(bundled_names())})")
    path = Path(config)
    names = bundled_names()
    if not path.exists() and config in names:
        return spec_from_yaml(bundled_text(config), source=f"{config} (bundled)")
    if not path.exists():
        hint = _closest_bundled(config, names)
        if hint is not None:
            raise SpecError(f"no such file (a bundled spec is named '{hint}': "
                            f"use that name)", path=config)
    return load_spec(path)


def _closest_bundled(config: str, names: list[str]) -> str | None:
    """The bundled name a missing path most likely meant (configs/wide.yaml, Lecture...)."""
    import difflib

    stem = Path(config).name.rsplit(".", 1)[0].lower()
    if stem in names:
        return stem
    match = difflib.get_close_matches(stem, names, n=1, cutoff=0.7)
    return match[0] if match else None


def check_writable(path: str, force: bool, suffix: str | None = None) -> None:
    """Refuse to overwrite an existing file unless ``force`` (and, with ``suffix``, a
    file whose name does not end in it)."""
    p = Path(path)
    if suffix is not None and p.suffix != suffix:
        raise OutputExistsError(f"{path}: the file's name must end in {suffix}")
    if p.is_dir():
        raise OutputExistsError(f"{path}: is a directory")
    if p.exists() and not force:
        raise OutputExistsError(f"{path}: already exists (use --force to overwrite)")
    if not p.parent.exists():
        raise OutputExistsError(f"{path}: folder {p.parent} does not exist")


def save_arrays(result: RunResult, path: str) -> None:
    """Save x, y, W1.., b1.., loss, grad_W1.., grad_b1.. to an .npz file."""
    arrays: dict[str, np.ndarray] = {"x": result.params.x, "y": result.params.y,
                                     "loss": np.array(result.loss)}
    for i, w in enumerate(result.params.W, start=1):
        arrays[f"W{i}"] = w
    for i, g in enumerate(result.output.grads.W, start=1):
        arrays[f"grad_W{i}"] = g
    for i, b in enumerate(result.params.b or [], start=1):
        arrays[f"b{i}"] = b
    for i, g in enumerate(result.output.grads.b or [], start=1):
        arrays[f"grad_b{i}"] = g
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)  # type: ignore[arg-type]


def emit(fmt: str, *, document: Callable[[], Any], markdown: Callable[[], str],
         csv: Callable[[], str], table: Callable[[], Any]) -> None:
    """Write a report to stdout in ``fmt`` (``json``, ``markdown``, ``csv`` or ``table``);
    each renderer is called only when its format is chosen."""
    if fmt == "json":
        click.echo(json.dumps(document(), indent=2))
    elif fmt == "markdown":
        click.echo(markdown(), nl=False)
    elif fmt == "csv":
        click.echo(csv(), nl=False)
    else:
        console().print(table(), crop=False)
