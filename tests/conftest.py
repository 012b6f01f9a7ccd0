"""Shared fixtures and helpers: the click runner, the command line in a subprocess (with
a readiness line for the Ctrl-C tests), the checks every CLI test repeats, and the list
of the package's modules."""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner, Result

from cheapgrad.cli.app import main
from cheapgrad.cli.common import READY_VARIABLE
from cheapgrad.core.counter import Counter, OpCounts
from cheapgrad.errors import SpecError
from cheapgrad.models.spec import spec_from_yaml

#: How long a command may take to say it is ready: generous, for a cold machine.
READY_TIMEOUT = 120.0


Buckets = dict[Any, tuple[dict[str, int], dict[str, int]]]


def buckets(counter: Counter) -> Buckets:
    """Every bucket with its counts and nonscalar tallies, zeros left out."""
    out: Buckets = {}
    for key, tally in counter.buckets.items():
        c = OpCounts.from_tally(tally)
        counts = {k: v for k, v in c.counts.items() if v}
        if counts:
            out[key] = (counts, {k: v for k, v in c.nonscalar.items() if v})
    return out


#: Before click 8.2, CliRunner mixes stderr into stdout unless told ``mix_stderr=False``
#: (an argument 8.2 removed, when it began to capture the two apart by default).
_SEPARATE = "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


class _MixedResult(Result):
    """A result of click < 8.2 whose ``output`` is stdout then stderr, as 8.2's is (there
    interleaved as written)."""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Runner(CliRunner):
    """A click runner that behaves alike on every click version the project supports:
    ``result.stdout`` and ``result.stderr`` apart, ``result.output`` both."""

    def __init__(self, **kwargs: Any) -> None:
        if _SEPARATE:
            kwargs.setdefault("mix_stderr", False)
        super().__init__(**kwargs)

    def invoke(self, *args: Any, **kwargs: Any) -> Result:
        result = super().invoke(*args, **kwargs)
        if _SEPARATE:
            result.__class__ = _MixedResult
        return result


@pytest.fixture
def cli() -> CliRunner:
    return Runner()


# --- the command line in-process ----------------------------------------------------------


def invoke_json(cli: CliRunner, *args: str, code: int = 0) -> Any:
    """Run ``cheapgrad ARGS``, check its exit code and return its stdout read as JSON."""
    result = cli.invoke(main, list(args))
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def one_line_error(result: Result, *needles: str) -> str:
    """Check that a command failed on bad input: exit code 2, no traceback, and one line
    of output, ``Error: ...``, containing every needle. Returns that line."""
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert [ln for ln in result.stderr.splitlines() if ln.strip()] == lines
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def spec_error(text: str, source: str = "s.yaml") -> str:
    """The message of the SpecError that reading ``text`` as a spec raises (one line)."""
    with pytest.raises(SpecError) as info:
        spec_from_yaml(text, source=source)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.fixture
def write_file(tmp_path: Path) -> Callable[..., str]:
    """``write_file(text, name="spec.yaml")``: a file of the temporary folder, its path."""

    def write(text: str, name: str = "spec.yaml") -> str:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return str(path)

    return write


# --- a sweep's runs, patched --------------------------------------------------------------


@pytest.fixture
def interrupt_run_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """``interrupt_run_at(n)``: the n-th net that ``analysis.run.run`` is asked to run
    (in this process: a sweep with one job) raises KeyboardInterrupt, as a Ctrl-C would."""
    from cheapgrad.analysis import run as runner

    def patch(n: int) -> None:
        real, calls = runner.run, []

        def interrupted_run(spec: Any, engine: str = "scalar", **kw: Any) -> Any:
            calls.append(spec)
            if len(calls) == n:
                raise KeyboardInterrupt
            return real(spec, engine, **kw)

        monkeypatch.setattr(runner, "run", interrupted_run)

    return patch


@pytest.fixture
def bound_every_run(monkeypatch: pytest.MonkeyPatch) -> Callable[[float], None]:
    """``bound_every_run(b)``: every run of ``analysis.run.run`` in this process reports
    ``b`` as its bound, so that the ratios above it fail."""
    from cheapgrad.analysis import run as runner

    def patch(bound: float) -> None:
        real = runner.run

        def strict_run(spec: Any, engine: str = "scalar", **kw: Any) -> Any:
            r = real(spec, engine, **kw)
            r.bound = bound
            return r

        monkeypatch.setattr(runner, "run", strict_run)

    return patch


# --- the command line in a subprocess -----------------------------------------------------


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """``python -m cheapgrad.cli.app ARGS`` to its end, output captured as text."""
    return subprocess.run([sys.executable, "-m", "cheapgrad.cli.app", *args],
                          capture_output=True, text=True, timeout=timeout)


class CliProcess:
    """``python -m cheapgrad.cli.app ARGS`` running in a session of its own, with Ctrl-C
    at its default as in a shell's foreground job, asked (by the environment) to print
    ``ready`` on stderr once a Ctrl-C would stop its work cleanly. Threads read both pipes
    so neither fills up; the ``ready`` line is left out of :meth:`finish`'s stderr."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cheapgrad.cli.app", *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            env={**os.environ, READY_VARIABLE: "1"},
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.pid = self.proc.pid
        self.said_ready = False
        self._seen = threading.Event()
        self._out: list[str] = []
        self._err: list[str] = []
        self._readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self._out, False)),
            threading.Thread(target=self._read, args=(self.proc.stderr, self._err, True)),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    def _read(self, stream: IO[str], lines: list[str], watch: bool) -> None:
        for line in stream:
            if watch and line == "ready\n" and not self.said_ready:
                self.said_ready = True
                self._seen.set()
            else:
                lines.append(line)
        if watch:
            self._seen.set()  # stderr closed: no "ready" will come

    def wait_until_ready(self, timeout: float = READY_TIMEOUT) -> None:
        """Wait for ``ready``; fail if the process ends or is silent for ``timeout`` s."""
        if not self._seen.wait(timeout):
            self.kill()
            pytest.fail(f"no 'ready' within {timeout:.0f} s: {''.join(self._err)}")
        assert self.said_ready, f"the process ended before it was ready: {''.join(self._err)}"
        assert self.proc.poll() is None, "the process ended before it could be interrupted"

    def interrupt(self, *, process_first: bool = False) -> None:
        """Ctrl-C to the process group, as a terminal sends it; ``process_first`` sends it
        to the process itself just before, as timeout(1) does (two quick Ctrl-Cs)."""
        if process_first:
            os.kill(self.pid, signal.SIGINT)
        os.killpg(self.pid, signal.SIGINT)

    def finish(self, timeout: float = 30) -> tuple[str, str]:
        """Wait for the end (killing the group after ``timeout`` s); (stdout, stderr)."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        for reader in self._readers:
            reader.join(timeout)
        return "".join(self._out), "".join(self._err)

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def cli_process() -> Iterator[Callable[..., CliProcess]]:
    """``cli_process(*args)`` starts a :class:`CliProcess`; any still running at the end
    of the test is killed with its group."""
    started: list[CliProcess] = []

    def start(*args: str) -> CliProcess:
        started.append(CliProcess(*args))
        return started[-1]

    yield start
    for proc in started:
        proc.kill()


# --- the package --------------------------------------------------------------------------


def cheapgrad_modules() -> dict[str, Path]:
    """Every module of the cheapgrad package by dotted name, found on disk (not imported),
    packages under their own name."""
    spec = importlib.util.find_spec("cheapgrad")
    assert spec is not None and spec.origin is not None
    root = Path(spec.origin).parent
    found = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root.parent)
        if not all((root.parent / Path(*rel.parts[:i]) / "__init__.py").exists()
                   for i in range(1, len(rel.parts))):
            continue  # not inside a package
        parts = rel.with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def mlp_spec_names() -> list[str]:
    """The bundled specs that are MLPs (not ``model: transformer``), sorted."""
    from cheapgrad.models.bundled import load_any_config, spec_names
    from cheapgrad.models.spec import Spec

    return sorted(n for n in spec_names() if isinstance(load_any_config(n), Spec))
