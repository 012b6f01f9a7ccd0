"""The examples in every module's docstrings run and print what they say. Modules are
found on disk, so a new module's examples run without editing this file."""

from __future__ import annotations

import doctest
import importlib

import pytest
from conftest import cheapgrad_modules

MODULES = cheapgrad_modules()

#: Modules whose examples document the core API: they must keep having some.
MUST_HAVE_EXAMPLES = ("cheapgrad.core.number", "cheapgrad.analysis.run",
                      "cheapgrad.engines.array", "cheapgrad.models.mlp")


@pytest.mark.parametrize("module", sorted(MODULES))
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
