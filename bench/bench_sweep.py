"""Time ``cheapgrad sweep configs/sweep.yaml``, end to end, as a user runs it.

Usage (from the repository root)::

    .venv/bin/python bench/bench_sweep.py                 # the default engine (auto)
    .venv/bin/python bench/bench_sweep.py --repeat 5 --engine array

Each run is a fresh process (start-up, imports, worker processes, every cell counted and
gradient-checked, tables rendered to a pipe). Prints one Markdown row per engine with the
fastest and the median wall time, the cells and the number of cores, for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = "configs/sweep.yaml"


def cheapgrad_command() -> list[str]:
    """The installed ``cheapgrad`` next to this Python, else ``python -m cheapgrad.cli``."""
    exe = Path(sys.executable).with_name("cheapgrad")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "cheapgrad.cli"]


def time_once(engine: str | None) -> float:
    """Wall time of one ``cheapgrad sweep configs/sweep.yaml`` with the table output."""
    cmd = [*cheapgrad_command(), "sweep", CONFIG]
    if engine is not None:
        cmd += ["--engine", engine]
    return time_command(cmd)


def time_command(cmd: list[str]) -> float:
    """Wall time of one run of ``cmd`` from the repository, its output discarded; a
    failed run stops the bench with its message."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited with {done.returncode}: {done.stderr.strip()}")
    return seconds


def cells(engine: str | None) -> int:
    cmd = [*cheapgrad_command(), "sweep", CONFIG, "--format", "json"]
    if engine is not None:
        cmd += ["--engine", engine]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return len(json.loads(out)["cells"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine (default 3)")
    parser.add_argument("--engine", action="append",
                        help="engine to time (repeatable; default: the default engine, auto)")
    args = parser.parse_args()
    engines: list[str | None] = list(args.engine) if args.engine else [None]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print("| command | cells | cores | fastest | median |")
    print("|---|---:|---:|---:|---:|")
    for engine in engines:
        times = [time_once(engine) for _ in range(args.repeat)]
        shown = f"cheapgrad sweep {CONFIG}" + (f" --engine {engine}" if engine else "")
        print(f"| `{shown}` | {cells(engine)} | {cores} | {min(times):.2f} s "
              f"| {statistics.median(times):.2f} s |", flush=True)


if __name__ == "__main__":
    main()
