"""How fast the engines count, side by side with uncounted baselines (``cheapgrad bench``).

Measured, one process, best of a few repetitions each:

* the scalar engine on the 128-128-128 tanh net (128 inputs, 1 output): counted ops per
  second, against a bare counting float wrapper running the same ops and against
  micrograd (a pure-Python scalar autograd, if installed) on the same net;
* the array engine against plain uncounted numpy doing the same forward and backward
  pass, on that net and on a 1024-wide net with 4 weight layers, at batch 1 and 64;
* the array engine on a net of 10⁷ weights: time, peak memory against the weights' own
  size, and its counts against the closed form.

Speed is only measured here, never asserted in the tests. Exit code 1 when a count
check fails (performance targets that are missed are reported, not failed: timings
depend on the machine and its load).
"""

from __future__ import annotations

import gc
import math
import os
import platform
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from functools import partial
from importlib import metadata
from typing import Any

import numpy as np

from cheapgrad.analysis.baselines import (
    bare_forward_backward,
    micrograd_forward_backward,
    numpy_forward_backward,
)
from cheapgrad.analysis.theory import predict
from cheapgrad.core.counter import Counter, OpCounts
from cheapgrad.engines.array import array_engine
from cheapgrad.engines.scalar import scalar_engine
from cheapgrad.models.mlp import Params, init_params
from cheapgrad.models.spec import Spec, spec_from_dict
from cheapgrad.version import __version__


@dataclass
class Row:
    """One benchmark: what ran, its time, and how it compares with its baseline."""

    name: str
    net: str
    batch: int
    ops: int
    seconds: float
    baseline: str = ""
    baseline_seconds: float = 0.0
    target: str = ""
    met: bool | None = None
    note: str = ""

    @property
    def ops_per_second(self) -> float:
        return self.ops / self.seconds if self.seconds > 0 else 0.0

    @property
    def ratio(self) -> float | None:
        """Time of this row over the baseline's (below 1: faster than the baseline)."""
        if not self.baseline_seconds:
            return None
        return self.seconds / self.baseline_seconds

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ops_per_second"] = self.ops_per_second
        d["ratio"] = self.ratio
        return d


@dataclass
class BenchResult:
    """All rows plus the machine and versions they were measured on."""

    rows: list[Row]
    machine: dict[str, str]
    checks_passed: bool
    notes: list[str] = field(default_factory=list)


# --- timing -------------------------------------------------------------------------------


def best_times(fns: dict[str, Callable[[], object]], rounds: int,
               budget_seconds: float) -> dict[str, float]:
    """Best single-call time of each function, the calls interleaved round by round
    (so that a burst of load on a shared machine hits all of them alike), with the
    garbage collector paused. Stops after ``rounds`` rounds or ``budget_seconds``,
    whichever comes first, but runs at least three rounds."""
    was = gc.isenabled()
    gc.disable()
    try:
        for fn in fns.values():
            fn()  # warm up
        best = dict.fromkeys(fns, math.inf)
        deadline = time.perf_counter() + budget_seconds
        for i in range(rounds):
            for name, fn in fns.items():
                start = time.perf_counter()
                fn()
                best[name] = min(best[name], time.perf_counter() - start)
            if i >= 2 and time.perf_counter() > deadline:
                break
        return best
    finally:
        if was:
            gc.enable()


# --- the benchmarks -----------------------------------------------------------------------


def tanh_spec(input_dim: int, hidden: list[int], batch: int) -> Spec:
    """The benchmark nets: tanh hidden layers, one linear output, no bias."""
    name = "-".join(str(w) for w in [input_dim, *hidden, 1])
    return spec_from_dict({"name": name, "input_dim": input_dim, "hidden": hidden,
                           "activation": "tanh", "batch": batch})


def _scalar_once(spec: Spec, params: Params) -> object:
    return scalar_engine(spec, params, Counter())


def _array_once(spec: Spec, params: Params) -> object:
    return array_engine(spec, params, Counter())


def _counts_equal_closed_form(spec: Spec, counter: Counter) -> bool:
    measured = {
        key: {k: v for k, v in OpCounts.from_tally(t).counts.items() if v}
        for key, t in counter.buckets.items()
    }
    return {k: v for k, v in measured.items() if v} == predict(spec)


def machine_info() -> dict[str, str]:
    """CPU, cores, OS and the versions the figures depend on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        mg = metadata.version("micrograd")
    except metadata.PackageNotFoundError:
        mg = "not installed"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cheapgrad": __version__,
        "micrograd": mg,
        "blas threads": os.environ.get("OPENBLAS_NUM_THREADS", "default"),
        "load average (1, 5 min) at the end": _load(),
    }


def _load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "unknown"
    return f"{one:.2f}, {five:.2f}"


def run_benchmarks(quick: bool = False, repeat: int = 5,
                   progress: Callable[[str], None] | None = None) -> BenchResult:
    """Run every benchmark; ``quick`` uses tiny nets (for smoke tests, not for figures).

    ``repeat`` scales the rounds: the scalar comparisons run 3·``repeat`` rounds, the
    array ones up to 100·``repeat`` (at most about four seconds each).
    """
    say = progress or (lambda _msg: None)
    rows: list[Row] = []
    notes: list[str] = []
    checks = True
    width, wide, big = (16, 32, (40, [200, 100])) if quick else (
        128, 1024, (1000, [4000, 1500]))

    # Scalar engine, bare wrapper, micrograd: batch 1.
    spec = tanh_spec(width, [width] * 3, 1)
    params = init_params(spec)
    say(f"scalar engine, bare wrapper and micrograd on {spec.name}")
    counter = Counter()
    scalar_engine(spec, params, counter)
    ops = counter.totals().total
    checks &= _counts_equal_closed_form(spec, counter)
    bare_ops = bare_forward_backward(params)
    fns: dict[str, Callable[[], object]] = {
        "scalar": partial(_scalar_once, spec, params),
        "bare": partial(bare_forward_backward, params),
    }
    step = micrograd_forward_backward(params)
    if step is not None:
        fns["micrograd"] = step
    else:
        notes.append("micrograd is not installed: no comparison with it "
                     "(pip install micrograd)")
    t = best_times(fns, 3 * repeat, 60.0)
    t_scalar, t_bare = t["scalar"], t["bare"] * ops / bare_ops
    rows.append(Row("bare counting wrapper", spec.name, 1, bare_ops, t["bare"],
                    note="a float in a slot and one increment per op, the same ops "
                         "as the scalar engine: the floor for counted Python scalars"))
    rows.append(Row("scalar engine", spec.name, 1, ops, t_scalar,
                    "bare wrapper, same op count", t_bare,
                    ">= 2 M ops/s and within 2x of bare",
                    ops / t_scalar >= 2e6 and t_scalar <= 2 * t_bare))
    if step is not None:
        rows.append(Row("scalar engine vs micrograd", spec.name, 1, ops, t_scalar,
                        "micrograd fwd+bwd, gc off", t["micrograd"], ">= 5x faster",
                        t["micrograd"] >= 5 * t_scalar,
                        note="micrograd's weights are made once, outside the timing; "
                             "the scalar engine's time includes making its weights"))
        if not quick:
            say("micrograd with the garbage collector on (one run)")
            gc.collect()
            start = time.perf_counter()
            step()
            t_mg_gc = time.perf_counter() - start
            rows.append(Row("scalar engine vs micrograd", spec.name, 1, ops, t_scalar,
                            "micrograd fwd+bwd, gc on", t_mg_gc, ">= 5x faster",
                            t_mg_gc >= 5 * t_scalar,
                            note="gc on: one run, as a user would see it; the scalar "
                                 "engine pauses the collector itself"))

    # Array engine against plain numpy.
    for hidden_w in (width, wide):
        for batch in (1, 64):
            spec = tanh_spec(hidden_w, [hidden_w] * 3, batch)
            params = init_params(spec)
            say(f"array engine and plain numpy on {spec.name}, batch {batch}")
            counter = Counter()
            array_engine(spec, params, counter)
            checks &= _counts_equal_closed_form(spec, counter)
            ops = counter.totals().total
            t = best_times({"numpy": partial(numpy_forward_backward, params),
                            "array": partial(_array_once, spec, params)},
                           100 * repeat, 1.0 if quick else 4.0)
            rows.append(Row("array engine", spec.name, batch, ops, t["array"],
                            "plain numpy fwd+bwd", t["numpy"], "<= 1.5x numpy",
                            t["array"] <= 1.5 * t["numpy"]))

    # A net of ten million weights.
    spec = spec_from_dict({"name": "ten-million", "input_dim": big[0], "hidden": big[1],
                           "activation": "tanh", "outputs": 10})
    say(f"array engine on {spec.parameters:,} weights")
    params = init_params(spec)
    weight_bytes = sum(w.nbytes for w in params.W)
    counter = Counter()
    start = time.perf_counter()
    array_engine(spec, params, counter)
    t_big = time.perf_counter() - start
    exact = _counts_equal_closed_form(spec, counter)
    checks &= exact
    tracemalloc.start()
    array_engine(spec, params, Counter())
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    memory = (weight_bytes + peak) / weight_bytes
    rows.append(Row("array engine, memory", f"{spec.parameters:,} weights", 1,
                    counter.totals().total, t_big, target="memory <= 3x weights",
                    met=memory <= 3.0,
                    note=f"weights {weight_bytes / 2**20:.0f} MiB, engine peak "
                         f"{peak / 2**20:.0f} MiB more (the gradient and the "
                         f"activations): {memory:.2f}x the weights; counts "
                         f"{'equal' if exact else 'DIFFER FROM'} the closed form"))
    if quick:  # tiny nets say nothing about the targets
        rows = [replace(r, met=None) for r in rows]
        notes.append("--quick: tiny nets, no figure here says anything about the targets")
    return BenchResult(rows, machine_info(), checks, notes)
