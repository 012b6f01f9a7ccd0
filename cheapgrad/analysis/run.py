"""One measured run of a spec: count, predict, check. Returns a plain :class:`RunResult`.

Example::

    >>> from cheapgrad.models.spec import spec_from_dict
    >>> from cheapgrad.analysis.run import run
    >>> r = run(spec_from_dict({"input_dim": 4, "hidden": [8], "activation": "tanh"}))
    >>> r.cost_f, r.cost_f_and_grad, r.holds, r.counts_match
    (82, 155, True, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cheapgrad.analysis.gradcheck import (
    CENTRAL_MAX_PARAMETERS,
    DIRECTIONS,
    FULL_CHECK_MAX_PARAMETERS,
    GradCheck,
    check_gradient,
)
from cheapgrad.analysis.result import BOUND, Ratio
from cheapgrad.analysis.theory import Prediction, predict, predicted_total
from cheapgrad.core.counter import Counter, OpCounts
from cheapgrad.engines import DEFAULT_ENGINE, ENGINES, resolve_engine
from cheapgrad.errors import DomainError, NumericalError, TooLargeError
from cheapgrad.models.mlp import (
    EngineOutput,
    Params,
    init_params,
    numpy_loss,
    numpy_loss_along,
    numpy_loss_complex,
)
from cheapgrad.models.spec import Spec

PHASES = ("forward", "loss", "backward")

#: Cost model of the rest of a run, calibrated on 2 shared cores with about a 3× margin:
#: one uncounted numpy loss evaluation costs a fixed part, a part per weight (reading
#: them is memory-bound at batch 1) and a part per counted op (big batches); drawing the
#: weights and one random direction of the check cost a part per weight.
EVAL_SECONDS = 5e-5
EVAL_SECONDS_PER_PARAMETER = 2e-9
EVAL_SECONDS_PER_OP = 3e-11
SETUP_SECONDS_PER_PARAMETER = 1e-7
DIRECTION_SECONDS_PER_PARAMETER = 3e-8


def estimated_seconds(engine: str, predicted_ops: int, parameters: int | None = None) -> float:
    """A conservative estimate of one run's wall time (``auto`` resolved first).

    The engine's own time is ``seconds_per_run + predicted_ops / ops_per_second``; the
    gradient check's loss evaluations (16 per parameter up to
    :data:`~cheapgrad.analysis.gradcheck.FULL_CHECK_MAX_PARAMETERS` parameters, else 65 along 8
    random directions) and drawing the weights are added from the cost model above.
    Without ``parameters`` a typical quarter of the op count is assumed.

    Example::

        >>> estimated_seconds("auto", 214_403, 49_280) < 1.0
        True
    """
    info = ENGINES[resolve_engine(engine, predicted_ops)]
    n = predicted_ops // 4 if parameters is None else parameters
    if n <= FULL_CHECK_MAX_PARAMETERS:
        evaluations, directions = 16 * n + 1, 0
    else:
        evaluations, directions = 4 * 4 * DIRECTIONS + 1, DIRECTIONS
    evaluation = (EVAL_SECONDS + n * EVAL_SECONDS_PER_PARAMETER
                  + predicted_ops * EVAL_SECONDS_PER_OP)
    return (info.seconds_per_run + predicted_ops / info.ops_per_second
            + evaluations * evaluation
            + n * (SETUP_SECONDS_PER_PARAMETER + directions * DIRECTION_SECONDS_PER_PARAMETER))


@dataclass
class RunResult(Ratio):
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
    #: The engine asked for (``auto`` included); ``engine`` is the one that ran.
    requested_engine: str = ""

    @property
    def engine_label(self) -> str:
        """The engine that ran, with the request when it differs: ``array (auto)``."""
        if self.requested_engine and self.requested_engine != self.engine:
            return f"{self.engine} ({self.requested_engine})"
        return self.engine

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

    ``engine`` is ``scalar``, ``array`` or ``auto`` (see :func:`resolve_engine`); the
    result's ``engine`` is the one that ran. Raises :class:`TooLargeError` when the
    closed form predicts more than ``max_ops`` ops (default: that engine's own limit).
    """
    prediction = predict(spec)
    total = predicted_total(prediction)
    concrete = resolve_engine(engine, total)
    info = ENGINES[concrete]
    limit = info.default_max_ops if max_ops is None else max_ops
    if total > limit:
        raise TooLargeError(
            f"{spec.name}: {total:,} ops to count is over the {concrete} engine's limit of "
            f"{limit:,}; use a smaller net or raise the limit with --max-ops"
        )
    if check == "central" and spec.parameters > CENTRAL_MAX_PARAMETERS:
        raise TooLargeError(
            f"{spec.name}: central differences over {spec.parameters:,} parameters would "
            f"evaluate the loss {4 * spec.parameters:,} times or more; the limit is "
            f"{CENTRAL_MAX_PARAMETERS:,} parameters: use --check auto or directional"
        )
    params = init_params(spec)
    counter = Counter()
    start = time.perf_counter()
    try:
        output = info.fn(spec, params, counter)
    except NumericalError:
        raise
    except DomainError as exc:  # exp of a huge pre-activation, on the scalar engine
        raise NumericalError(
            f"{spec.name}: {exc} on the {concrete} engine: the net's values overflow "
            "float64 (too deep, or an activation such as square that squares them at every "
            "layer); use fewer layers or another activation") from None
    seconds = time.perf_counter() - start
    if not math.isfinite(output.loss):
        raise NumericalError(
            f"{spec.name}: the loss is {output.loss} on the {concrete} engine: the net's "
            "values overflow float64 (too deep, or an activation such as square that "
            "squares them at every layer); use fewer layers or another activation"
        )

    theta = params.flat()

    def loss_at(t: np.ndarray) -> float:
        return numpy_loss(spec, params.with_flat(t))

    def loss_at_complex(t: np.ndarray) -> complex:
        return numpy_loss_complex(spec, params.with_flat(t))

    def line(v: np.ndarray) -> Callable[[Any], Any]:
        return numpy_loss_along(spec, params, v)

    reference = numpy_loss(spec, params)
    gc = check_gradient(loss_at, theta, output.grads.flat(), method=check, seed=spec.seed,
                        line=line, complex_f=loss_at_complex, complex_line=line)
    return RunResult(
        spec=spec, engine=concrete, counter=counter, prediction=prediction,
        loss=output.loss, reference_loss=reference, params=params, output=output,
        gradient_check=gc, seconds=seconds, requested_engine=engine,
    )
