"""Run every benchmark and print the Markdown table that BENCHMARKS.md quotes.

Usage (from the repository root)::

    make bench                     # or: .venv/bin/python bench/run.py
    .venv/bin/python bench/run.py --repeat 10

BLAS is pinned to one thread unless OPENBLAS_NUM_THREADS (or OMP_NUM_THREADS) is set:
numpy and the array engine share the same BLAS, so the ratios do not depend on it,
while a multi-threaded BLAS on a loaded machine makes every timing erratic.
micrograd is compared when installed (``.venv/bin/pip install micrograd``); it is not
a dependency of cheapgrad.
"""

from __future__ import annotations

import os
import sys

if "OMP_NUM_THREADS" not in os.environ:
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main() -> None:
    from cheapgrad.cli.bench import command

    command.main(["--format", "markdown", *sys.argv[1:]], prog_name="cheapgrad bench")


if __name__ == "__main__":
    main()
