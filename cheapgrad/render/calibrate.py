"""Renderers of measured op weights (:mod:`cheapgrad.analysis.calibrate`): the weights
file (JSON), Markdown and the rich table, each beside the default weights.

Example::

    >>> from cheapgrad.analysis.calibrate import calibrate
    >>> doc = to_dict(calibrate("throughput", quick=True))
    >>> doc["method"], doc["weights"]["add"], sorted(doc["machine"])[:2]
    ('throughput', 1.0, ['cores', 'cpu'])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cheapgrad.analysis.calibrate import PERCENTILE, Calibration
from cheapgrad.analysis.weights import DEFAULT_WEIGHTS
from cheapgrad.core.ops import OP_NAMES

#: What each method measures, in one line.
METHOD_NOTES = {
    "latency": "scalar latency: dependent chains on Python floats, less a base chain",
    "throughput": "numpy throughput: per element, from two array sizes",
}
DEFAULTS_NOTE = "default: counted-float 2.8.0 consensus scalar latency (see docs/costmodels.md)"


def to_dict(cal: Calibration) -> dict[str, Any]:
    """The weights file ``cheapgrad calibrate --out`` writes (``--weights`` reads
    ``weights``; the rest says how they were measured)."""
    s = cal.settings
    return {
        "format": "cheapgrad weights",
        "method": cal.method,
        "description": METHOD_NOTES[cal.method],
        "weights": dict(cal.weights),
        "add_seconds": cal.add_seconds,
        "notes": dict(cal.notes),
        "machine": dict(cal.machine),
        "date": cal.date,
        "rounds": cal.rounds,
        "percentile": PERCENTILE,
        "steps": s.steps if cal.method == "latency" else None,
        "sizes": list(s.sizes) if cal.method == "throughput" else None,
        "seconds": round(cal.seconds, 3),
    }


def document(cals: Sequence[Calibration]) -> dict[str, Any]:
    """JSON of one calibration (a weights file) or of several (one per method, with the
    defaults)."""
    if len(cals) == 1:
        return to_dict(cals[0])
    return {"defaults": dict(DEFAULT_WEIGHTS),
            "methods": {c.method: to_dict(c) for c in cals}}


def _rows(cals: Sequence[Calibration]) -> list[list[str]]:
    return [[name, f"{DEFAULT_WEIGHTS[name]:g}"] + [f"{c.weights[name]:.2f}" for c in cals]
            for name in OP_NAMES]


def _headers(cals: Sequence[Calibration]) -> list[str]:
    return ["op", "default"] + [c.method for c in cals]


def _footer(cals: Sequence[Calibration]) -> list[str]:
    lines = [DEFAULTS_NOTE]
    for c in cals:
        unit = "step" if c.method == "latency" else "element"
        lines.append(f"{c.method}: {METHOD_NOTES[c.method]}; add = {c.add_seconds * 1e9:.2f} "
                     f"ns per {unit}; {c.rounds} rounds, {PERCENTILE}th percentile; "
                     f"{c.seconds:.1f} s")
    notes = {f"{k}: {v}" for c in cals for k, v in c.notes.items()}
    lines += sorted(notes)
    if cals:
        m = cals[0].machine
        lines.append(f"machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, "
                     f"numpy {m['numpy']}; {m['platform']}")
    return lines


def to_markdown(cals: Sequence[Calibration]) -> str:
    """The weights as a Markdown table, with the method and the machine."""
    headers = _headers(cals)
    lines = ["| " + " | ".join(headers) + " |", "|---|" + "---:|" * (len(headers) - 1)]
    lines += ["| " + " | ".join(r) + " |" for r in _rows(cals)]
    lines += [""] + [f"- {line}" for line in _footer(cals)]
    return "\n".join(lines) + "\n"


def calibrate_table(cals: Sequence[Calibration]) -> Group:
    """The weights as a rich table (relative to an add), with notes under it."""
    table = Table(title="Op weights relative to an add")
    for i, h in enumerate(_headers(cals)):
        table.add_column(h, justify="left" if i == 0 else "right")
    for r in _rows(cals):
        table.add_row(*r)
    return Group(table, *(Text(line) for line in _footer(cals)))
