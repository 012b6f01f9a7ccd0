"""Time ``cheapgrad checkpoint deep-64``, end to end, as a user runs it.

Usage (from the repository root)::

    .venv/bin/python bench/bench_checkpoint.py               # deep-64, S and K = 1 … 65
    .venv/bin/python bench/bench_checkpoint.py --repeat 5 --spec deep-narrow

Each run is a fresh process (start-up, imports, every strategy's schedule run on counted
scalars, or on counted arrays for a transformer such as gpt-tiny, the table rendered to a
pipe). Prints one Markdown row per spec with the fastest
and the median wall time, the strategies, the step evaluations and the counted ops of the
whole table, for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from bench_sweep import cheapgrad_command, time_command  # noqa: E402  (a sibling script)


def time_once(spec: str) -> float:
    """Wall time of one ``cheapgrad checkpoint SPEC`` with the table output."""
    return time_command([*cheapgrad_command(), "checkpoint", spec])


def size(spec: str) -> tuple[int, int, int]:
    """Strategies, step evaluations and counted ops of the whole table."""
    cmd = [*cheapgrad_command(), "checkpoint", spec, "--format", "json"]
    doc = json.loads(subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True,
                                    check=True).stdout)
    rows = doc["rows"]
    return (len(rows), sum(r["evaluations"] for r in rows),
            sum(r["cost_f_and_grad"] for r in rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per spec (default 3)")
    parser.add_argument("--spec", action="append", help="spec to time (default deep-64)")
    args = parser.parse_args()
    print("| spec | strategies | step evaluations | counted ops | fastest | median | runs |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for spec in args.spec or ["deep-64"]:
        times = [time_once(spec) for _ in range(args.repeat)]
        rows, evaluations, ops = size(spec)
        print(f"| {spec} | {rows} | {evaluations:,} | {ops:,} | {min(times):.2f} s | "
              f"{statistics.median(times):.2f} s | {len(times)} |")


if __name__ == "__main__":
    main()
