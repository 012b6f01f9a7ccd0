"""The examples in every module's docstrings run and print what they say. Modules are
found on disk, so a new module's examples run without editing this file."""

from __future__ import annotations

import doctest
import importlib

import pytest
from conftest import cheapgrad_modules

MODULES = cheapgrad_modules()

#: Modules whose examples document the core API: they must keep having some.
MUST_HAVE_EXAMPLES = (
    "cheapgrad.core.ops", "cheapgrad.core.number", "cheapgrad.core.counter",
    "cheapgrad.engines.array", "cheapgrad.engines.scalar", "cheapgrad.engines.registry",
    "cheapgrad.models.mlp", "cheapgrad.models.layers.base", "cheapgrad.models.layers.dense",
    "cheapgrad.models.layers.activation", "cheapgrad.models.layers.loss",
    "cheapgrad.analysis.costmodels", "cheapgrad.analysis.run", "cheapgrad.analysis.theory",
)

#: Modules whose examples fail today: their docstrings (or the code) are to be put right,
#: then the entry deleted (the test fails while an entry's examples pass).
KNOWN_FAILURES: frozenset[str] = frozenset()


def _mark(module: str) -> object:
    if module in KNOWN_FAILURES:
        return pytest.param(module, marks=pytest.mark.xfail(strict=True,
                                                             reason="known failing example"))
    return module


@pytest.mark.parametrize("module", [_mark(m) for m in sorted(MODULES)])
def test_docstring_examples(module: str) -> None:
    source = MODULES[module].read_text(encoding="utf-8")
    if module.rpartition(".")[2] == "__main__":
        # Importing it runs the program; it must not hide examples that never run.
        assert ">>>" not in source
        return
    result = doctest.testmod(importlib.import_module(module))
    assert result.failed == 0
    if ">>>" in source or module in MUST_HAVE_EXAMPLES:
        assert result.attempted > 0, f"{module}'s examples are not found by doctest"


def test_the_modules_with_examples_are_found() -> None:
    assert set(MUST_HAVE_EXAMPLES) <= set(MODULES)
    assert set(MODULES) >= KNOWN_FAILURES
