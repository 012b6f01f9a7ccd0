"""The lowest dependency versions pyproject.toml declares are the ones `make check-min`
installs and tests (issue 14, section 4, item 12)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_make_check_min_pins_the_declared_floors() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    deps = re.search(r"^dependencies = \[(.*?)\]", pyproject, re.M)
    assert deps is not None
    floors = dict(re.findall(r'"([\w-]+)>=([\d.]+)"', deps.group(1)))
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    pins_line = re.search(r"^MIN_DEPS := (.*)$", makefile, re.M)
    assert pins_line is not None
    pins = dict(p.split("==") for p in pins_line.group(1).split())
    assert pins == floors
    assert set(pins) == {"click", "numpy", "rich", "pyyaml"}
    assert re.search(r"^check-min:", makefile, re.M)
    check = makefile.split("\ncheck:", 1)[1].split("\n\n", 1)[0]
    assert "check-min" not in check  # not part of make check
