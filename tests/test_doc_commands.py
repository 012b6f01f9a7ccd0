"""Every command the README and docs/*.md show runs, and exits as they say.

A command is a line of a ```sh block, or a line starting ``$ cheapgrad`` in any other
fenced block (a transcript). It runs in a temporary copy of the files the docs name
(``configs/``, ``cheapgrad/configs/``, ``docs/``, as a fresh clone has them), in the
order the page gives, so ``example deep-narrow > mine.yaml`` makes the file a later line
reads. Its exit code must be 0, or N where its comment says ``exit code N``. Commands
without a pipe run in this process (``> FILE`` writes FILE), those with one in a shell,
as do the ``printf ... > FILE`` lines that write a file for the next command.
The ```python blocks run too, each page's blocks in order in one namespace."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Runner

from cheapgrad.cli.app import main

ROOT = Path(__file__).resolve().parent.parent
PAGES = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]

#: Commands not run here, each with its reason (checked to still be in the docs).
SLOW = {
    "cheapgrad sweep configs/sweep.yaml": "72 nets up to 7.3 million weights, about 12 s; "
                                          "test_sweep runs smaller grids",
    "cheapgrad sweep configs/sweep.yaml --plot sweep.png": "the same 72 nets, plotted",
    "cheapgrad sweep configs/sweep.yaml --plot docs/sweep.png --force": "the same 72 nets",
    "cheapgrad sweep": "the bundled grid, 6-20 s; smaller grids run in test_sweep",
    "cheapgrad circuit product --n 1000": "13 s while the gradient checks are slow (issue 14, "
                                          "section 3); --n 100 runs below",
    "cheapgrad run big.yaml --engine array --format json": "10^7 weights: seconds and a "
                                                           "large spec file to write first",
}

_BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
_CODE = re.compile(r"exit code (\d+)")


def _commands(page: str) -> list[tuple[str, int]]:
    """(command, expected exit code) of every documented command of ``page``."""
    out = []
    for lang, body in _BLOCK.findall((ROOT / page).read_text(encoding="utf-8")):
        if lang in ("python", "yaml", "text"):
            continue
        for line in body.splitlines():
            if lang != "sh" and not line.startswith("$ "):
                continue
            line = line.removeprefix("$ ")
            command, _, comment = re.split(r"(\s#\s|$)", line, maxsplit=1)
            command = command.strip()
            if not command or command.startswith("#"):
                continue
            code = _CODE.search(comment)
            out.append((command, int(code.group(1)) if code else 0))
    return out


def _python_blocks(page: str) -> list[str]:
    return [body for lang, body in _BLOCK.findall((ROOT / page).read_text(encoding="utf-8"))
            if lang == "python"]


@pytest.fixture
def clone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with what a fresh clone holds that the docs name."""
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    shutil.copytree(ROOT / "cheapgrad" / "configs", tmp_path / "cheapgrad" / "configs")
    shutil.copytree(ROOT / "docs", tmp_path / "docs")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "80")
    return tmp_path


def test_every_page_has_commands() -> None:
    assert len(_commands("README.md")) >= 15
    documented = {c for page in PAGES for c, _ in _commands(page)}
    assert set(SLOW) <= documented, set(SLOW) - documented


@pytest.mark.parametrize("page", PAGES)
def test_documented_commands_exit_as_documented(page: str, clone: Path) -> None:
    runner = Runner()
    for command, code in _commands(page):
        if command in SLOW or not command.startswith(("cheapgrad ", "printf ")):
            continue
        if "|" in command or command.startswith("printf "):
            shell = (command if command.startswith("printf ") else
                     f"{shlex.quote(sys.executable)} -m cheapgrad.cli.app "
                     + command.removeprefix("cheapgrad "))
            proc = subprocess.run(["bash", "-o", "pipefail", "-c", shell], cwd=clone,
                                  capture_output=True, text=True, timeout=60,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
            assert proc.returncode == code, (command, proc.stderr)
            continue
        args, _, target = command.partition(">")
        result = runner.invoke(main, shlex.split(args)[1:])
        assert result.exit_code == code, (page, command, result.output[-2000:])
        if target:
            Path(target.strip()).write_text(result.stdout, encoding="utf-8")


@pytest.mark.parametrize("page", [p for p in PAGES if _python_blocks(p)])
def test_documented_python_runs(page: str, clone: Path) -> None:
    namespace: dict[str, object] = {"__name__": "__doc__"}
    for block in _python_blocks(page):
        exec(compile(block, page, "exec"), namespace)  # noqa: S102 - our own docs


def test_the_cost_model_table_of_the_docs_is_the_tools(clone: Path) -> None:
    page = (ROOT / "docs" / "costmodels.md").read_text(encoding="utf-8")
    shown = page.split("--cost-model all` gives", 1)[1].split("\n\n")[1].splitlines()
    result = Runner().invoke(main, ["run", "--format", "markdown", "--cost-model", "all"])
    assert shown[0].startswith("| model |") and len(shown) == 7
    for row in shown:
        assert row in result.stdout.splitlines(), row
