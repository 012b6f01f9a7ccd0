"""The package's layers hold: the lower layers import neither click, rich nor matplotlib,
no module imports in a circle, each module imports only from its own layer or lower ones,
and no module grows past a readable size.

Modules are found on disk (see ``conftest.cheapgrad_modules``), so a module added, moved
or renamed is checked without editing this file. Imports are read from the source (every
``import`` statement, those inside functions too), not from a run.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import cheapgrad_modules

MODULES = cheapgrad_modules()

#: Layer ranks, lowest first: a module may import only modules of its own rank or lower.
RANKS = {
    "errors": 0, "util": 0, "version": 0,  # util: shared helpers; version: the version
    "core": 1, "models": 2, "engines": 3, "analysis": 4, "render": 5,
    "api": 6,  # the top-level package (cheapgrad/__init__.py) and any cheapgrad/api*.py
    "cli": 7,
}

#: Layers that must import neither a terminal library nor a plotting one.
HEADLESS = ("errors", "util", "core", "models", "engines", "analysis")
FORBIDDEN = ("click", "rich", "matplotlib")

#: Imports that break the ranks today, each (importer, imported). The refactor removes
#: them; delete an entry when its import goes (a stale entry fails the test below).
KNOWN_LAYER_VIOLATIONS: frozenset[tuple[str, str]] = frozenset()

#: Import cycles today, each as the set of its modules. Delete an entry when its cycle
#: goes (a stale entry fails the test).
KNOWN_CYCLES: frozenset[frozenset[str]] = frozenset()

#: No module may have more lines than this...
MAX_LINES = 400
#: ...but these, which did when the limit came in and are to be split (a stale entry fails).
KNOWN_LONG_MODULES: frozenset[str] = frozenset()


def layer(module: str) -> str:
    """The layer a module belongs to: its subpackage, or ``api`` for the top level."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1].startswith("api") or parts[1] == "__main__":
        return "api"
    return parts[1]


def imported_modules(module: str, modules: dict[str, Path] = MODULES) -> set[str]:
    """The cheapgrad modules ``module`` imports anywhere in its source.

    ``from a.b import c`` counts as importing the module ``a.b.c`` when there is one,
    else ``a.b``; the packages above an imported module (whose ``__init__`` runs too)
    are not counted, nor is the module itself.
    """
    path = modules[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append(sub if sub in modules else base)
    found = set()
    for target in targets:
        while target and target not in modules:  # `import a.b.c` of a name, not a module
            target = target.rpartition(".")[0]
        if target.split(".")[0] == "cheapgrad" and target != module:
            found.add(target)
    return found


GRAPH = {m: imported_modules(m) for m in MODULES}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle closed by a back edge of a depth-first search, as a path that starts
    and ends at the same module. Iterative, so no recursion limit applies."""
    state: dict[str, int] = {}  # absent: unseen, 1: on the current path, 2: finished
    cycles: list[list[str]] = []
    for root in sorted(graph):
        if root in state:
            continue
        path = [root]
        stack = [iter(sorted(graph[root]))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return cycles


def layer_violations() -> set[tuple[str, str]]:
    return {(m, t) for m, targets in GRAPH.items() for t in targets
            if RANKS[layer(t)] > RANKS[layer(m)]}


# --- the headless layers ----------------------------------------------------------------


HEADLESS_MODULES = sorted(m for m in MODULES if layer(m) in HEADLESS)

# One interpreter that has loaded nothing of cheapgrad forks a child per module; each
# child imports its module and reports what it loaded. As fresh as a new interpreter per
# module for what is checked here, at a fraction of the start-up time. The parent loads
# numpy and yaml first (the dependencies every layer needs and neither loads click, rich
# or matplotlib) so that the children do not each load them again.
_PROBE = textwrap.dedent("""
    import importlib, json, os, sys
    modules, forbidden = json.loads(sys.argv[1]), tuple(json.loads(sys.argv[2]))

    def probe(name):
        try:
            importlib.import_module(name)
        except BaseException as exc:
            return {"error": f"{type(exc).__name__}: {exc}"}
        return {"loaded": sorted(m for m in sys.modules if m.split(".")[0] in forbidden)}

    if not hasattr(os, "fork"):
        print(json.dumps({name: probe(name) for name in modules}))
        sys.exit()
    import numpy, yaml
    assert not any(m.split(".")[0] in forbidden for m in sys.modules)
    assert not any(m.split(".")[0] == "cheapgrad" for m in sys.modules)
    children = {}
    for name in modules:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            os.write(write, json.dumps(probe(name)).encode())
            os._exit(0)
        os.close(write)
        children[name] = (pid, read)
    report = {}
    for name, (pid, read) in children.items():
        with os.fdopen(read, "rb") as fh:
            data = fh.read()
        os.waitpid(pid, 0)
        report[name] = json.loads(data) if data else {"error": "the child died"}
    print(json.dumps(report))
""")


def _probe(modules: list[str]) -> dict[str, dict[str, object]]:
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(modules),
                           json.dumps(FORBIDDEN)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def headless_imports() -> dict[str, dict[str, object]]:
    """What importing each headless module alone loads, from fresh interpreters."""
    import os

    if hasattr(os, "fork"):
        return _probe(HEADLESS_MODULES)
    return {k: v for m in HEADLESS_MODULES for k, v in _probe([m]).items()}


def test_the_probe_sees_what_a_module_loads() -> None:
    report = _probe(["cheapgrad.cli.common", "cheapgrad.no_such_module"])
    assert "click" in report["cheapgrad.cli.common"]["loaded"]  # type: ignore[operator]
    assert "No module named" in str(report["cheapgrad.no_such_module"]["error"])


@pytest.mark.parametrize("module", HEADLESS_MODULES)
def test_headless_module_imports_no_terminal_or_plotting_library(
        module: str, headless_imports: dict[str, dict[str, object]]) -> None:
    result = headless_imports[module]
    assert "error" not in result, f"importing {module} alone fails: {result['error']}"
    assert result["loaded"] == [], f"importing {module} alone loads {result['loaded']}"


def test_the_headless_layers_are_found() -> None:
    assert {layer(m) for m in HEADLESS_MODULES} == set(HEADLESS)
    assert "cheapgrad.core.number" in HEADLESS_MODULES
    assert "cheapgrad.analysis.sweep" in HEADLESS_MODULES


# --- the import graph ---------------------------------------------------------------------


def test_imports_are_read_from_function_bodies_and_relative_forms(tmp_path: Path) -> None:
    files = {
        "cheapgrad": "", "cheapgrad.errors": "", "cheapgrad.core": "",
        "cheapgrad.core.a": "import os\nimport cheapgrad.errors\n",
        "cheapgrad.core.b": ("from . import a\nfrom .a import thing\nfrom ..errors import E\n"
                             "def f():\n    from cheapgrad.core import c\n"
                             "    import cheapgrad.core.a.thing\n"),
        "cheapgrad.core.c": "from cheapgrad import errors\nfrom cheapgrad import __version__\n",
    }
    modules = {}
    for name, text in files.items():
        is_package = name in ("cheapgrad", "cheapgrad.core")
        path = tmp_path.joinpath(*name.split("."), "__init__.py") if is_package else \
            tmp_path.joinpath(*name.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        modules[name] = path
    assert imported_modules("cheapgrad.core.a", modules) == {"cheapgrad.errors"}
    assert imported_modules("cheapgrad.core.b", modules) == {
        "cheapgrad.core.a", "cheapgrad.errors", "cheapgrad.core.c"}
    assert imported_modules("cheapgrad.core.c", modules) == {"cheapgrad.errors", "cheapgrad"}


def test_the_cycle_finder_names_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["e", "e"]]
    assert find_cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_import_cycles() -> None:
    cycles = find_cycles(GRAPH)
    new = [c for c in cycles if frozenset(c) not in KNOWN_CYCLES]
    assert not new, "import cycles:\n" + "\n".join(" -> ".join(c) for c in new)
    gone = [sorted(k) for k in KNOWN_CYCLES if k not in {frozenset(c) for c in cycles}]
    assert not gone, f"no longer a cycle: remove from KNOWN_CYCLES: {gone}"


def test_every_module_has_a_layer() -> None:
    unranked = sorted(m for m in MODULES if layer(m) not in RANKS)
    assert not unranked, f"modules outside the known layers (give them a rank): {unranked}"


def test_modules_import_only_their_own_layer_or_lower() -> None:
    new = sorted(layer_violations() - KNOWN_LAYER_VIOLATIONS)
    assert not new, "imports of a higher layer:\n" + "\n".join(
        f"{m} ({layer(m)}) imports {t} ({layer(t)})" for m, t in new)


def test_the_known_layer_violations_are_still_there() -> None:
    gone = sorted(KNOWN_LAYER_VIOLATIONS - layer_violations())
    assert not gone, f"fixed: remove from KNOWN_LAYER_VIOLATIONS: {gone}"


# --- size ---------------------------------------------------------------------------------


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_is_longer_than_the_limit() -> None:
    long = {m: _lines(p) for m, p in MODULES.items() if _lines(p) > MAX_LINES}
    new = {m: n for m, n in sorted(long.items()) if m not in KNOWN_LONG_MODULES}
    assert not new, f"modules over {MAX_LINES} lines (split them): {new}"
    short = sorted(KNOWN_LONG_MODULES - set(long))
    assert not short, f"no longer over {MAX_LINES} lines: remove from KNOWN_LONG_MODULES: {short}"
