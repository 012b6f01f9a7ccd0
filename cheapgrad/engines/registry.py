"""The engines by name: what ``run``, ``sweep`` and ``audit`` offer, and how ``auto``
chooses between them.

Example::

    >>> sorted(ENGINES), DEFAULT_ENGINE
    (['array', 'auto', 'scalar'], 'auto')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from cheapgrad.core.counter import Counter
from cheapgrad.engines.array import array_engine
from cheapgrad.engines.scalar import scalar_engine
from cheapgrad.errors import CheapgradError
from cheapgrad.models.layers import closed_form
from cheapgrad.models.mlp import EngineOutput, Params, network
from cheapgrad.models.spec import Spec


class EngineError(CheapgradError):
    """An unknown engine name."""


class Engine(Protocol):
    """An engine: the forward pass, loss and backprop of ``spec`` at ``params``, every
    op counted into ``counter`` under the buckets of :mod:`cheapgrad.models.layers`."""

    def __call__(self, spec: Spec, params: Params, counter: Counter) -> EngineOutput:
        """Run the net once and return its loss, predictions and gradient."""
        ...


@dataclass(frozen=True)
class EngineInfo:
    """A registered engine: its function, the most ops it agrees to count by default
    (``default_max_ops``) and a conservative counting rate (``ops_per_second``) used to
    estimate how long work will take before starting it, plus a fixed cost per run
    (``seconds_per_run``: drawing the weights, the gradient check, numpy's call overhead).
    """

    name: str
    fn: Engine
    description: str
    default_max_ops: int
    ops_per_second: float
    seconds_per_run: float = 0.0


#: ``auto`` runs the scalar engine when the closed form predicts at most this many ops
#: (about a twentieth of a second of counting), and the array engine above it.
AUTO_SCALAR_MAX_OPS = 100_000


def resolve_engine(engine: str, predicted_ops: int) -> str:
    """The concrete engine that ``engine`` runs for a net of ``predicted_ops`` ops.

    ``scalar`` and ``array`` are themselves; ``auto`` is ``scalar`` up to
    :data:`AUTO_SCALAR_MAX_OPS` predicted ops and ``array`` above.

    Example::

        >>> resolve_engine("auto", 500), resolve_engine("auto", 10**7)
        ('scalar', 'array')
    """
    if engine not in ENGINES:
        raise EngineError(f"unknown engine '{engine}'; known: {', '.join(sorted(ENGINES))}")
    if engine != "auto":
        return engine
    return "scalar" if predicted_ops <= AUTO_SCALAR_MAX_OPS else "array"


def _auto_engine(spec: Spec, params: Params, counter: Counter) -> EngineOutput:
    """Run the engine ``auto`` resolves to for this spec (by the closed form's total)."""
    predicted = closed_form(network(spec), spec.batch)
    total = sum(n for kinds in predicted.values() for n in kinds.values())
    return ENGINES[resolve_engine("auto", total)].fn(spec, params, counter)


#: Engines by name. ``run`` and ``sweep`` offer exactly these.
ENGINES: dict[str, EngineInfo] = {
    "scalar": EngineInfo(
        "scalar", scalar_engine,
        "every op on a counted Python scalar (the ground truth)", 30_000_000, 1.5e6, 0.002,
    ),
    "array": EngineInfo(
        "array", array_engine,
        "numpy arrays, every op counted by array shape (counts identical to scalar)",
        20_000_000_000, 5.0e8, 0.02,
    ),
    "auto": EngineInfo(
        "auto", _auto_engine,
        f"scalar up to {AUTO_SCALAR_MAX_OPS:,} predicted ops, array above",
        20_000_000_000, 1.5e6, 0.02,
    ),
}


#: The engine ``run`` and ``sweep`` use when none is named.
DEFAULT_ENGINE = "auto"
