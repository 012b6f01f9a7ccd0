"""Markdown of the clock's measurements beside the counted ratios
(:mod:`cheapgrad.analysis.timing`)."""

from __future__ import annotations

from collections.abc import Sequence

from cheapgrad.analysis.timing import ClockRow


def clock_markdown(rows: Sequence[ClockRow]) -> str:
    """A Markdown table: batch, op, MOVES and flop ratios, and the time ratio."""
    def fmt(x: float | None) -> str:
        return "–" if x is None else f"{x:.3f}"

    lines = ["| batch | engine | op ratio | MOVES ratio | flop ratio | time f | time f, ∇f "
             "| time ratio |", "|---:|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r.batch} | {r.engine} | {fmt(r.op_ratio)} | {fmt(r.memory_ratio)} | "
                     f"{fmt(r.flop_ratio)} | {r.timing.forward_s * 1e6:.1f} µs | "
                     f"{r.timing.forward_backward_s * 1e6:.1f} µs | {r.timing.ratio:.3f} |")
    return "\n".join(lines) + "\n"
