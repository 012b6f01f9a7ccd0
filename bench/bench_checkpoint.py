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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cheapgrad_command() -> list[str]:
    """The installed ``cheapgrad`` next to this Python, else ``python -m cheapgrad.cli``."""
    exe = Path(sys.executable).with_name("cheapgrad")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cheapgrad.cli"]


def time_once(spec: str) -> float:
    """Wall time of one ``cheapgrad checkpoint SPEC`` with the table output."""
    cmd = [*cheapgrad_command(), "checkpoint", spec]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {done.returncode}: {done.stderr.strip()}")
    return seconds


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
