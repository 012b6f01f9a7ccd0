"""The examples in the core modules' docstrings run and print what they say."""

from __future__ import annotations

import doctest

import pytest

import cheapgrad.number
import cheapgrad.runner


@pytest.mark.parametrize("module", [cheapgrad.number, cheapgrad.runner])
def test_docstring_examples(module) -> None:  # type: ignore[no-untyped-def]
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
