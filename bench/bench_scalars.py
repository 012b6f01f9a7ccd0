"""Time single ops on counted numbers, and the scalar engine, for BENCHMARKS.md.

Usage (from the repository root)::

    .venv/bin/python bench/bench_scalars.py              # 1,000,000 calls per op
    .venv/bin/python bench/bench_scalars.py --calls 200000

Each figure is the best of ``--repeat`` rounds of ``--calls`` calls, in CPU time of this
thread (``time.thread_time``: on a shared machine wall time mostly measures the other
processes), inside one counter scope, the garbage collector paused as ``timeit`` does.
To compare two trees, run the script once with each on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import time
import timeit

from cheapgrad.analysis.bench import tanh_spec
from cheapgrad.core.counter import Counter
from cheapgrad.core.functions import exp, tanh
from cheapgrad.core.number import var
from cheapgrad.engines.scalar import scalar_engine
from cheapgrad.models.mlp import init_params


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    x, y, counter = var(0.7), var(1.3), Counter()
    cases = {"x + y": lambda: x + y, "x * y": lambda: x * y, "x ** 2": lambda: x**2,
             "tanh(x)": lambda: tanh(x), "exp(x)": lambda: exp(x)}
    print("| op | ns per call |\n|---|---:|")
    with counter.scope("bench"):
        for name, fn in cases.items():
            best = min(timeit.repeat(fn, number=args.calls, repeat=args.repeat,
                                     timer=time.thread_time))
            print(f"| `{name}` | {best / args.calls * 1e9:,.0f} |")
    spec = tanh_spec(64, [64] * 3, 1)
    params = init_params(spec)
    best = min(timeit.repeat(lambda: scalar_engine(spec, params, Counter()), number=3,
                             repeat=args.repeat, timer=time.thread_time)) / 3
    print(f"| scalar engine, {spec.name}, batch 1 | {best * 1e3:,.1f} ms |")


if __name__ == "__main__":
    main()
