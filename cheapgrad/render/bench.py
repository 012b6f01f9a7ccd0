"""Renderers of the benchmarks (:mod:`cheapgrad.analysis.bench`): table cells, Markdown
(what BENCHMARKS.md quotes) and JSON."""

from __future__ import annotations

import json

from cheapgrad.analysis.bench import BenchResult, Row
from cheapgrad.render import numbers


def cells(row: Row) -> list[str]:
    """One benchmark as the cells of :data:`HEADERS` (times, rates and ratios in the
    formats of :mod:`cheapgrad.render.numbers`)."""
    ratio = row.ratio
    return [
        row.name, row.net, str(row.batch), numbers.count(row.ops), numbers.seconds(row.seconds),
        numbers.rate(row.ops_per_second), row.baseline or "-",
        numbers.seconds(row.baseline_seconds) if row.baseline_seconds else "-",
        "-" if ratio is None else numbers.ratio(ratio),
        row.target or "-", {None: "-", True: "yes", False: "NO"}[row.met],
    ]


HEADERS = ["benchmark", "net", "batch", "counted ops", "time", "ops/s", "baseline",
           "baseline time", "time / baseline", "target", "met"]


def to_markdown(result: BenchResult, command: str = "cheapgrad bench") -> str:
    """The benchmark table and the machine, as Markdown (what BENCHMARKS.md quotes)."""
    lines = [f"Command: `{command}`", ""]
    lines += [f"- {k}: {v}" for k, v in result.machine.items()]
    lines += ["", "| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    lines += ["| " + " | ".join(cells(r)) + " |" for r in result.rows]
    notes = [f"{r.name} ({r.net}): {r.note}" for r in result.rows if r.note] + result.notes
    if notes:
        lines += [""] + [f"- {n}" for n in notes]
    lines.append(f"\nCount checks: {'all passed' if result.checks_passed else 'FAILED'}.")
    return "\n".join(lines) + "\n"


def to_json(result: BenchResult) -> str:
    return json.dumps({"machine": result.machine, "checks_passed": result.checks_passed,
                       "rows": [r.to_dict() for r in result.rows], "notes": result.notes},
                      indent=2)
