"""One measured run of a spec: count, predict, check. Returns a plain :class:`RunResult`.

Example::

    >>> from cheapgrad.spec import spec_from_dict
    >>> from cheapgrad.runner import run
    >>> r = run(spec_from_dict({"input_dim": 4, "hidden": [8], "activation": "tanh"}))
    >>> r.cost_f, r.cost_f_and_grad, r.holds, r.counts_match
    (88, 213, True, True)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cheapgrad.errors import TooLargeError
from cheapgrad.gradcheck import GradCheck, check_gradient
from cheapgrad.mlp import EngineOutput, Params, init_params, numpy_loss, scalar_engine
from cheapgrad.number import Counter, OpCounts
from cheapgrad.spec import Spec
from cheapgrad.theory import Prediction, predict, predicted_total

#: The unit-cost bound of the lecture's Theorem 2.1 (and Griewank's for any circuit).
BOUND = 5.0
PHASES = ("forward", "loss", "backward")

Engine = Callable[[Spec, Params, Counter], EngineOutput]


@dataclass(frozen=True)
class EngineInfo:
    """A registered engine: its function, the most ops it agrees to count by default
    (``default_max_ops``) and a conservative counting rate (``ops_per_second``) used to
    estimate how long work will take before starting it."""

    name: str
    fn: Engine
    description: str
    default_max_ops: int
    ops_per_second: float


#: Engines by name. ``run`` and ``sweep`` offer exactly these.
ENGINES: dict[str, EngineInfo] = {
    "scalar": EngineInfo(
        "scalar", scalar_engine,
        "every op on a counted Python scalar (the ground truth)", 30_000_000, 1.5e6,
    ),
}


#: The engine ``run`` and ``sweep`` use when none is named.
DEFAULT_ENGINE = "scalar"


@dataclass
class RunResult:
    """Everything one run measured, predicted and checked."""

    spec: Spec
    engine: str
    counter: Counter
    prediction: Prediction
    loss: float
    reference_loss: float
    params: Params
    output: EngineOutput
    gradient_check: GradCheck
    seconds: float
    bound: float = BOUND
    extra: dict[str, Any] = field(default_factory=dict)

    def measured(self, phase: str | None = None) -> OpCounts:
        return self.counter.totals(phase=phase)

    @property
    def counts(self) -> dict[str, OpCounts]:
        """Measured counts per phase."""
        return {p: self.counter.totals(phase=p) for p in PHASES}

    @property
    def cost_f(self) -> int:
        """Unit cost of f: forward pass and loss."""
        return self.measured("forward").total + self.measured("loss").total

    @property
    def cost_f_and_grad(self) -> int:
        """Unit cost of f and all its partial derivatives (forward + loss + backward)."""
        return self.cost_f + self.measured("backward").total

    @property
    def ratio(self) -> float:
        return self.cost_f_and_grad / self.cost_f

    @property
    def holds(self) -> bool:
        return self.ratio <= self.bound

    @property
    def counts_match(self) -> bool:
        """Whether every measured bucket equals the closed form's (zeros ignored)."""
        measured = {
            key: {k: v for k, v in OpCounts.from_tally(t).counts.items() if v}
            for key, t in self.counter.buckets.items()
        }
        measured = {k: v for k, v in measured.items() if v}
        return measured == self.prediction

    @property
    def loss_matches(self) -> bool:
        """Whether the counted loss equals the numpy reference loss (to rounding)."""
        return bool(np.isclose(self.loss, self.reference_loss, rtol=1e-9, atol=1e-12))

    @property
    def passed(self) -> bool:
        """The run's verdict: bound holds, gradient right, loss right, counts as predicted."""
        return self.holds and self.gradient_check.passed and self.loss_matches and self.counts_match

    def predicted_total(self, phase: str | None = None) -> int:
        return predicted_total(self.prediction, phase)


def run(
    spec: Spec,
    engine: str = DEFAULT_ENGINE,
    *,
    max_ops: int | None = None,
    check: str = "auto",
) -> RunResult:
    """Count the forward pass, loss and backprop of ``spec`` and check the gradient.

    Raises :class:`TooLargeError` when the closed form predicts more than ``max_ops``
    ops (default: the engine's own limit).
    """
    info = ENGINES[engine]
    prediction = predict(spec)
    total = predicted_total(prediction)
    limit = info.default_max_ops if max_ops is None else max_ops
    if total > limit:
        raise TooLargeError(
            f"{spec.name}: {total:,} ops to count is over the {engine} engine's limit of "
            f"{limit:,}; use a smaller net or raise the limit with --max-ops"
        )
    params = init_params(spec)
    counter = Counter()
    start = time.perf_counter()
    output = info.fn(spec, params, counter)
    seconds = time.perf_counter() - start

    theta = params.flat()

    def loss_at(t: np.ndarray) -> float:
        return numpy_loss(spec, params.with_flat(t))

    reference = numpy_loss(spec, params)
    gc = check_gradient(loss_at, theta, output.grads.flat(), method=check, seed=spec.seed)
    return RunResult(
        spec=spec, engine=engine, counter=counter, prediction=prediction,
        loss=output.loss, reference_loss=reference, params=params, output=output,
        gradient_check=gc, seconds=seconds,
    )
