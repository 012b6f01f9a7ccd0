"""Shared fixtures."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from click.testing import CliRunner


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


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
