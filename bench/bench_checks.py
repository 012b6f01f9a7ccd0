"""Time the checks of ``cheapgrad.grad`` and ``cheapgrad circuit`` (BENCHMARKS.md, "Checks").

Usage (from the repository root)::

    .venv/bin/python bench/bench_checks.py            # every case, best of 3
    .venv/bin/python bench/bench_checks.py --repeat 1 --skip-large

Cases:

* ``grad(rosenbrock)`` with 200 and 10,000 inputs (a Python function of floats, the
  elementary functions unused: the time is the trace, reverse mode and the checks);
* a YAML circuit of 100 inputs and about 20,000 ops (built here: 100 inputs, a chain of
  ``let`` bindings mixing + - * / ** and sin, exp, log, tanh), analysed as
  ``cheapgrad circuit FILE`` does, with the default ``--max-ops`` and with ``--max-ops 0``.

Each line gives the wall time of the whole analysis (best of ``--repeat``) and the
gradient check's method. The figures are for BENCHMARKS.md; no test times anything.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any


def rosenbrock(*x: Any) -> Any:
    """Σ 100 (x_{i+1} − x_i²)² + (1 − x_i)², written as a user would."""
    total = 0.0
    for a, b in zip(x[:-1], x[1:], strict=False):
        total = total + 100.0 * (b - a**2) ** 2 + (1.0 - a) ** 2
    return total


def yaml_circuit(inputs: int = 100, ops: int = 20_000) -> str:
    """The text of a YAML circuit of ``inputs`` inputs and about ``ops`` ops."""
    lines = ["name: bench-20k", "circuit:", "  inputs:"]
    lines += [f"    x{i}: {0.1 + (i % 7) * 0.05:.2f}" for i in range(inputs)]
    lines.append("  let:")
    # Each binding is about 10 ops and uses the previous binding and four inputs.
    forms = ["sin({p}) * x{a} + x{b} / (1 + x{c}**2) - 0.1 * x{d}",
             "tanh({p} * x{a}) + exp(0.01 * x{b}) * x{c} - x{d}**2 * 0.1",
             "log(1 + {p}**2) + x{a} * x{b} - x{c} / (2 + x{d})"]
    n = max(1, ops // 10)
    for k in range(n):
        prev = f"t{k - 1}" if k else "x0"
        a, b, c, d = ((k * 7 + j * 13) % inputs for j in range(4))
        lines.append(f"    t{k}: " + forms[k % 3].format(p=prev, a=a, b=b, c=c, d=d))
    lines.append(f"  output: t{n - 1}")
    return "\n".join(lines) + "\n"


def best(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-large", action="store_true",
                        help="skip the 10,000-input Rosenbrock")
    args = parser.parse_args()

    from cheapgrad import grad
    from cheapgrad.analysis.circuit import analyze
    from cheapgrad.models.circuits.files import circuit_from_yaml

    cases: list[tuple[str, Callable[[], Any]]] = []
    for d in (200, *(() if args.skip_large else (10_000,))):
        xs = [(-1.2 if i % 2 == 0 else 1.0) for i in range(d)]
        cases.append((f"grad(rosenbrock), {d:,} inputs",
                      lambda xs=xs: grad(rosenbrock)(*xs)))
    circuit = circuit_from_yaml(yaml_circuit(), "bench-20k.yaml")
    cases.append(("YAML circuit, 100 inputs, 20k ops", lambda: analyze(circuit)))
    cases.append(("YAML circuit, 100 inputs, 20k ops, --max-ops 0",
                  lambda: analyze(circuit, max_ops=0)))
    print("| case | cost(f) | time | gradient check |")
    print("|---|---:|---:|---|")
    for name, fn in cases:
        seconds, r = best(fn, args.repeat)
        gc = r.gradient_check
        print(f"| {name} | {r.cost_f:,} | {seconds:.3f} s | {gc.label}, "
              f"{gc.comparisons} comparisons, {'passed' if gc.passed else 'FAILED'} |",
              flush=True)


if __name__ == "__main__":
    main()
