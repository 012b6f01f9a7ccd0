"""The examples in the core modules' docstrings run and print what they say."""

from __future__ import annotations

import doctest

import pytest

import cheapgrad.analysis.run
import cheapgrad.core.number


@pytest.mark.parametrize("module", [cheapgrad.core.number, cheapgrad.analysis.run])
def test_docstring_examples(module) -> None:  # type: ignore[no-untyped-def]
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
