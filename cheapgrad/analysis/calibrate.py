"""Measured op weights: what each op of the op table costs on this machine, relative to
an add, by two methods (``cheapgrad calibrate``).

``latency`` (scalar latency)
    For each op, a dependent chain of ``steps`` evaluations on Python floats, each
    result feeding the next: ``x = E(x) * z + x0`` with ``z = 0`` and ``x0 = 0.5``, so
    every step reads the previous result (latency, not throughput, is measured) and the
    operand stays at 0.5, inside every op's domain. A plain chain ``x = x * z + x0`` of
    the same length is timed beside it, interleaved round by round (base, op, base, op…)
    so that drift of the clock or the CPU's frequency cancels; the op's time per step is
    the difference of the two chains' times, each the 10th percentile over the rounds
    (interference only ever adds time, and a percentile of each chain, not of the
    differences, is not fooled by a round whose base chain was interrupted). The
    weight is that time over the add's, measured the same way, so add is exactly 1.
    This is the latency of the op as the interpreter runs it on Python floats, the
    way cheapgrad's scalar engine executes it: interpreter dispatch is part of every
    op, so cheap and dear ops come out closer together than in compiled code
    (counted-float's figures, the defaults).
``throughput`` (numpy throughput)
    For each op its numpy ufunc (``np.add``, ``np.tanh``, ``np.greater`` for ``cmp``,
    ``np.power(x, 3)`` for ``pow``…) on arrays of ``sizes[0]`` and ``sizes[1]``
    elements, into a preallocated output; the per-element time is the difference of the
    two times over the difference of the sizes, so the fixed cost of a call cancels.
    Interleaved rounds and the 10th percentile of each size's times as above; relative
    to ``np.add``. The sizes keep the three arrays in the L2 cache, so an add measures
    arithmetic, not memory bandwidth.

Declared units (``h``, ``dh``) are not measured: they are the spec's own units, one add
each (weight 1), whatever the method.

Example::

    >>> cal = calibrate("latency", quick=True)
    >>> cal.weights["add"], cal.weights["h"], all(w > 0 for w in cal.weights.values())
    (1.0, 1.0, True)
"""

from __future__ import annotations

import datetime
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cheapgrad.core.ops import OP_NAMES
from cheapgrad.errors import CheapgradError

#: The two methods, in display order.
METHODS = ("latency", "throughput")
#: The percentile of the per-round times kept.
PERCENTILE = 10
#: Ops whose weight is not measured, and the weight they get (declared units).
DECLARED = {"h": 1.0, "dh": 1.0}
#: The smallest weight reported: a difference of two timings can come out at or below 0
#: for an op as cheap as the base chain's own work; a weight is positive.
FLOOR = 0.01

#: One step of each op's scalar chain, as an expression of ``x`` (``b`` = 1.0001).
LATENCY_EXPRESSIONS: dict[str, str] = {
    "add": "x + b", "sub": "x - b", "mul": "x * b", "div": "x / b", "neg": "-x",
    "exp": "exp(x)", "log": "log(x)", "tanh": "tanh(x)", "sin": "sin(x)",
    "cos": "cos(x)", "sqrt": "sqrt(x)", "pow": "x ** 3", "cmp": "(x > b)",
}

#: Each op's numpy call on the input array ``a`` into the output array ``o``.
THROUGHPUT_CALLS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], Any]] = {
    "add": lambda a, b, o: np.add(a, b, out=o),
    "sub": lambda a, b, o: np.subtract(a, b, out=o),
    "mul": lambda a, b, o: np.multiply(a, b, out=o),
    "div": lambda a, b, o: np.divide(a, b, out=o),
    "neg": lambda a, b, o: np.negative(a, out=o),
    "exp": lambda a, b, o: np.exp(a, out=o),
    "log": lambda a, b, o: np.log(a, out=o),
    "tanh": lambda a, b, o: np.tanh(a, out=o),
    "sin": lambda a, b, o: np.sin(a, out=o),
    "cos": lambda a, b, o: np.cos(a, out=o),
    "sqrt": lambda a, b, o: np.sqrt(a, out=o),
    "pow": lambda a, b, o: np.power(a, 3.0, out=o),
    "cmp": lambda a, b, o: np.greater(a, b, out=o.view(np.bool_)[: a.size]),
}


@dataclass(frozen=True)
class Settings:
    """How much work one calibration does."""

    rounds: int
    steps: int  # scalar chain length (latency)
    sizes: tuple[int, int]  # array sizes (throughput)


DEFAULT = Settings(rounds=31, steps=4000, sizes=(2**11, 2**15))
QUICK = Settings(rounds=5, steps=500, sizes=(2**10, 2**13))
#: Attempts at a measurement whose add time is not positive (the clock lost in noise).
ATTEMPTS = 5


@dataclass(frozen=True)
class Calibration:
    """The weights one method measured (every op kind, add = 1) and how."""

    method: str
    weights: dict[str, float]
    add_seconds: float  # the add's own time: per step (latency) or per element
    rounds: int
    settings: Settings
    machine: dict[str, str]
    date: str
    seconds: float  # how long the measurement took
    notes: dict[str, str] = field(default_factory=dict)


def _percentile(values: list[float]) -> float:
    return float(np.percentile(np.array(values), PERCENTILE))


def _chain(expr: str, steps: int) -> Callable[[], float]:
    """A function timing ``steps`` dependent steps of ``x = (expr) * z + x0``, unrolled
    ten to a loop iteration so the loop's own cost is small."""
    body = "\n".join(f"        x = ({expr}) * z + x0" for _ in range(10))
    src = (
        "def run():\n"
        "    x = x0\n"
        "    t = clock()\n"
        f"    for _ in range({max(1, steps // 10)}):\n"
        f"{body}\n"
        "    return clock() - t\n"
    )
    env: dict[str, Any] = {"exp": math.exp, "log": math.log, "tanh": math.tanh,
                           "sin": math.sin, "cos": math.cos, "sqrt": math.sqrt,
                           "b": 1.0001, "z": 0.0, "x0": 0.5, "clock": time.perf_counter}
    exec(compile(src, f"<calibrate {expr}>", "exec"), env)  # noqa: S102 - fixed templates
    fn: Callable[[], float] = env["run"]
    return fn


def measure_latency(settings: Settings) -> dict[str, float]:
    """Seconds per step of each measured op's scalar chain beyond the base chain's."""
    steps = max(1, settings.steps // 10) * 10
    base = _chain("x", steps)
    chains = {name: _chain(expr, steps) for name, expr in LATENCY_EXPRESSIONS.items()}
    t_base: dict[str, list[float]] = {name: [] for name in chains}
    t_op: dict[str, list[float]] = {name: [] for name in chains}
    for _ in range(settings.rounds):
        for name, fn in chains.items():
            t_base[name].append(base())
            t_op[name].append(fn())
    return {name: (_percentile(t_op[name]) - _percentile(t_base[name])) / steps
            for name in chains}


def measure_throughput(settings: Settings) -> dict[str, float]:
    """Seconds per element of each measured op's numpy ufunc (the difference of two
    array sizes, so a call's fixed cost cancels)."""
    small, large = settings.sizes
    rng = np.random.default_rng(0)
    a = rng.uniform(0.25, 0.75, large)
    b = np.full(large, 0.5)
    out = np.empty(large)
    t_small: dict[str, list[float]] = {name: [] for name in THROUGHPUT_CALLS}
    t_large: dict[str, list[float]] = {name: [] for name in THROUGHPUT_CALLS}
    clock = time.perf_counter
    for _ in range(settings.rounds):
        for name, call in THROUGHPUT_CALLS.items():
            t = clock()
            call(a[:small], b[:small], out[:small])
            t_small[name].append(clock() - t)
            t = clock()
            call(a, b, out)
            t_large[name].append(clock() - t)
    return {name: (_percentile(t_large[name]) - _percentile(t_small[name])) / (large - small)
            for name in THROUGHPUT_CALLS}


def machine_info() -> dict[str, str]:
    """The CPU, the operating system, Python's and numpy's versions.

    >>> sorted(machine_info())
    ['cores', 'cpu', 'numpy', 'platform', 'python']
    """
    return {"cpu": _cpu_model(), "cores": str(os.cpu_count() or "?"),
            "platform": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__}


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def _weights(times: dict[str, float]) -> tuple[dict[str, float], dict[str, str]]:
    """Times relative to the add's, for every op kind of the table, and notes."""
    add = times["add"]
    notes: dict[str, str] = {}
    weights: dict[str, float] = {}
    for name in OP_NAMES:
        if name in DECLARED:
            weights[name] = DECLARED[name]
            notes[name] = "declared unit: the spec's own units, one add each (not measured)"
            continue
        ratio = times[name] / add if add > 0 else math.nan
        if not ratio > FLOOR:  # at or below the noise (or nan)
            notes[name] = f"measured {ratio:.3g}: at the noise, reported as {FLOOR}"
            ratio = FLOOR
        weights[name] = 1.0 if name == "add" else round(ratio, 3)
    return weights, notes


def calibrate(method: str, *, quick: bool = False,
              settings: Settings | None = None) -> Calibration:
    """Measure every op's weight relative to an add by ``method`` (see the module)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; known: {', '.join(METHODS)}")
    s = settings or (QUICK if quick else DEFAULT)
    start = time.perf_counter()
    measure = measure_latency if method == "latency" else measure_throughput
    for _ in range(ATTEMPTS):
        times = measure(s)
        if times["add"] > 0:  # else noise beat the add's own time: measure again
            break
    else:
        raise CheapgradError(f"calibrate: the {method} of an add came out at or below zero "
                             f"{ATTEMPTS} times: this machine is too busy to measure it")
    weights, notes = _weights(times)
    return Calibration(
        method=method, weights=weights, add_seconds=times["add"], rounds=s.rounds,
        settings=s, machine=machine_info(),
        date=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        seconds=time.perf_counter() - start, notes=notes,
    )

