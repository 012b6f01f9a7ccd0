"""The examples in the core modules' docstrings run and print what they say."""

from __future__ import annotations

import doctest

import pytest

import cheapgrad.analysis.costmodels
import cheapgrad.analysis.run
import cheapgrad.core.counter
import cheapgrad.core.number
import cheapgrad.core.ops


@pytest.mark.parametrize("module", [cheapgrad.core.ops, cheapgrad.core.number,
                                    cheapgrad.core.counter, cheapgrad.analysis.costmodels,
                                    cheapgrad.analysis.run])
def test_docstring_examples(module) -> None:  # type: ignore[no-untyped-def]
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
