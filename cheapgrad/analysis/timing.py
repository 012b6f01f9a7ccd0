"""The clock: plain numpy forward and forward+backward of a spec's net, timed.

Counts say how many ops a gradient costs; the clock says how long it takes. This module
runs the same net as the counted engines (same parameters, from
:func:`cheapgrad.models.mlp.init_params`) in plain, uncounted float64 numpy, with the
lecture's backprop written as array operations, and times

* the forward pass and loss, and
* the forward pass, loss and backward pass (all weight and bias gradients),

each repeated (``repeats`` rounds of ``number`` calls, ``number`` chosen so a round
takes at least ``min_seconds``) and summarised by the median seconds per call. Reports
show the time ratio beside the op ratio and the memory-traffic ratio of
:mod:`cheapgrad.analysis.costmodels`, so a user sees which model predicts the clock.

Example::

    >>> from cheapgrad.models.spec import spec_from_dict
    >>> t = time_net(spec_from_dict({"input_dim": 4, "hidden": [8], "activation": "tanh"}),
    ...              repeats=3, min_seconds=0.001)
    >>> t.forward_s > 0 and t.forward_backward_s > 0  # times, never compared in a test
    True
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cheapgrad.models.activations import ACTIVATIONS
from cheapgrad.models.mlp import Params, init_params
from cheapgrad.models.spec import Spec

#: Default number of timed rounds, and the least duration of one round.
REPEATS = 7
MIN_SECONDS = 0.02


@dataclass(frozen=True)
class Timing:
    """Median seconds per call of the forward pass and of forward plus backward."""

    forward_s: float
    forward_backward_s: float
    repeats: int
    number: int
    batch: int

    @property
    def ratio(self) -> float:
        """Time of f and ∇f over time of f."""
        return self.forward_backward_s / self.forward_s

    def to_dict(self) -> dict[str, Any]:
        return {
            "forward_s": self.forward_s, "forward_backward_s": self.forward_backward_s,
            "ratio": self.ratio, "repeats": self.repeats, "number": self.number,
            "batch": self.batch,
        }


def numpy_forward(spec: Spec, params: Params) -> tuple[float, list[np.ndarray],
                                                       list[np.ndarray]]:
    """Loss, pre-activations a^(1..L+1) and outputs z^(0..L), columns = examples."""
    z = params.x.T
    a_list: list[np.ndarray] = []
    z_list: list[np.ndarray] = [z]
    n_layers = len(params.W)
    for lay in range(1, n_layers + 1):
        a = params.W[lay - 1] @ z
        if params.b is not None:
            a = a + params.b[lay - 1][:, None]
        a_list.append(a)
        if lay <= spec.depth:
            z = ACTIVATIONS[spec.activations[lay - 1]].np_forward(a)
            z_list.append(z)
    r = params.y.T - a_list[-1]
    return float(0.5 * np.sum(r * r)), a_list, z_list


def numpy_gradient(spec: Spec, params: Params) -> tuple[float, np.ndarray]:
    """Loss and the flat gradient (layout of :meth:`cheapgrad.models.mlp.Params.flat`),
    by the lecture's backprop in plain numpy."""
    loss, a_list, z_list = numpy_forward(spec, params)
    n_layers = len(params.W)
    delta = a_list[-1] - params.y.T
    g_w: list[np.ndarray] = [np.empty(0)] * n_layers
    g_b: list[np.ndarray] = [np.empty(0)] * n_layers
    for lay in range(n_layers, 0, -1):
        g_w[lay - 1] = delta @ z_list[lay - 1].T
        if params.b is not None:
            g_b[lay - 1] = delta.sum(axis=1)
        if lay > 1:
            back = params.W[lay - 1].T @ delta
            act = ACTIVATIONS[spec.activations[lay - 2]]
            hp = act.np_derivative(a_list[lay - 2], z_list[lay - 1])
            delta = back if hp is None else hp * back
    parts = [g.ravel() for g in g_w]
    if params.b is not None:
        parts += [g.ravel() for g in g_b]
    return loss, np.concatenate(parts)


def _median_per_call(fn: Callable[[], object], repeats: int, min_seconds: float) -> tuple[
        float, int]:
    number = 1
    while True:  # calibrate like timeit's autorange
        start = time.perf_counter()
        for _ in range(number):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds or number >= 1 << 20:
            break
        number *= 2 if elapsed <= 0 else max(2, min(10, int(min_seconds / elapsed) + 1))
    rounds = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        rounds.append((time.perf_counter() - start) / number)
    return statistics.median(rounds), number


def time_net(
    spec: Spec,
    *,
    repeats: int = REPEATS,
    min_seconds: float = MIN_SECONDS,
    params: Params | None = None,
) -> Timing:
    """Time the plain numpy forward and forward+backward of ``spec``'s net (median)."""
    if repeats < 1:
        raise ValueError("repeats must be at least 1")
    p = params if params is not None else init_params(spec)
    fwd, n1 = _median_per_call(lambda: numpy_forward(spec, p), repeats, min_seconds)
    both, n2 = _median_per_call(lambda: numpy_gradient(spec, p), repeats, min_seconds)
    return Timing(fwd, both, repeats, min(n1, n2), spec.batch)


@dataclass(frozen=True)
class ClockRow:
    """One batch size: the measured op and MOVES ratios beside the clock's."""

    batch: int
    engine: str
    op_ratio: float | None
    memory_ratio: float | None
    flop_ratio: float | None
    timing: Timing

    def to_dict(self) -> dict[str, Any]:
        return {"batch": self.batch, "engine": self.engine, "op_ratio": self.op_ratio,
                "memory_ratio": self.memory_ratio, "flop_ratio": self.flop_ratio,
                "time_ratio": self.timing.ratio, "timing": self.timing.to_dict()}


def clock_rows(
    spec: Spec,
    batches: tuple[int, ...],
    *,
    engine: str | None = None,
    repeats: int = REPEATS,
    min_seconds: float = MIN_SECONDS,
) -> list[ClockRow]:
    """For each batch size: count the net (``cheapgrad.analysis.run.run``), price the counts
    (:func:`cheapgrad.analysis.costmodels.cost_models`) and time it in plain numpy."""
    from dataclasses import replace

    from cheapgrad.analysis.costmodels import cost_models
    from cheapgrad.analysis.run import run
    from cheapgrad.engines import DEFAULT_ENGINE

    rows = []
    for b in batches:
        s = replace(spec, batch=b)
        result = run(s, engine or DEFAULT_ENGINE)
        models = cost_models(result.counter, s.cost_weights)
        t = time_net(s, repeats=repeats, min_seconds=min_seconds, params=result.params)
        rows.append(ClockRow(b, result.engine, models["unit"].ratio, models["memory"].ratio,
                             models["flop"].ratio, t))
    return rows
