"""A sweep's plan: the cells of a grid, each a spec, and the estimate that refuses work
that is too big.

Example::

    >>> from cheapgrad.models.spec import spec_from_dict
    >>> base = spec_from_dict({"input_dim": 4, "hidden": [], "activation": "tanh"})
    >>> plan = plan_sweep(base, Grid((1, 2), (2, 4), ("tanh",)), "scalar", jobs=1)
    >>> [(c.depth, c.width, c.predicted_ops) for c in plan.cells][:2]
    [(1, 2, 41), (1, 4, 79)]
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

from cheapgrad.analysis import run as runner
from cheapgrad.analysis.result import BOUND
from cheapgrad.analysis.sweep.grid import MAX_CELLS, Grid, SweepError
from cheapgrad.analysis.theory import predict, predicted_total
from cheapgrad.engines import DEFAULT_ENGINE, ENGINES
from cheapgrad.errors import TooLargeError
from cheapgrad.models.spec import MAX_PARAMETERS, Spec

#: Time per parameter a sweep cell spends beyond the runner's own estimate (handing the
#: cell to a worker and back, its result summarised): small, since the runner's estimate
#: already prices the weights drawn and the gradient check. Measured on the default sweep
#: (72 cells, 2 shared cores): 24 s of CPU for the cells against an estimate of 41 s, so
#: the estimate stays conservative by under 2× (it was 1.5e-6, which counted the weights
#: twice and made the estimate 46 s of wall time for a sweep that takes 6 to 20).
SECONDS_PER_PARAMETER = 1e-7
#: Default limit on the estimated wall time of a sweep, in minutes.
DEFAULT_MAX_MINUTES = 10.0


@dataclass(frozen=True)
class Cell:
    """One point of the grid with the spec that runs it."""

    index: int
    depth: int
    width: int
    activation: str
    spec: Spec
    predicted_ops: int


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: base spec, grid, engine, cells in output order, and the estimate."""

    base: Spec
    grid: Grid
    engine: str
    cells: tuple[Cell, ...]
    predicted_ops: int
    estimated_seconds: float
    jobs: int

    @property
    def bound(self) -> float:
        return BOUND


def cell_spec(base: Spec, depth: int, width: int, activation: str) -> Spec:
    """The base spec with ``depth`` hidden layers of ``width`` units and activation."""
    return dataclasses.replace(
        base,
        name=f"{base.name}-d{depth}-w{width}-{activation}",
        hidden=(width,) * depth,
        activations=(activation,) * depth,
        sweep=None,
    )


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} minutes"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.1f} hours"
    return f"{seconds / 86400:.1f} days"


def estimate_seconds(engine: str, predicted_ops: int, parameters: int) -> float:
    """A conservative estimate of one cell's run time: the runner's estimate of counting
    and checking the gradient, plus drawing the weights and the cell's own overhead,
    :data:`SECONDS_PER_PARAMETER` per parameter."""
    counting = runner.estimated_seconds(engine, predicted_ops, parameters)
    return counting + parameters * SECONDS_PER_PARAMETER


def plan_sweep(
    base: Spec,
    grid: Grid,
    engine: str = DEFAULT_ENGINE,
    *,
    jobs: int | None = None,
    max_minutes: float = DEFAULT_MAX_MINUTES,
) -> SweepPlan:
    """Build the cells of ``grid`` on ``base`` and refuse work that is too big.

    The time is estimated from the closed-form op count of every cell and the engine's
    conservative counting rate (``EngineInfo.ops_per_second``), spread over ``jobs``
    processes. Raises :class:`TooLargeError` with the estimate and a hint when it exceeds
    ``max_minutes``, when there are more than :data:`MAX_CELLS` cells, or when a cell is
    over the engine's own op limit; :class:`SweepError` for an unknown engine.
    """
    if engine not in ENGINES:
        raise SweepError(f"unknown engine '{engine}'; known: {', '.join(sorted(ENGINES))}")
    info = ENGINES[engine]
    if grid.size > MAX_CELLS:
        raise TooLargeError(
            f"the grid has {grid.size:,} cells, more than the {MAX_CELLS:,} a sweep runs; "
            "list fewer depths, widths or activations")
    jobs = default_jobs() if jobs is None else jobs
    if jobs < 1:
        raise SweepError(f"--jobs: must be a positive integer, got {jobs}")
    cells: list[Cell] = []
    for depth in grid.depths:
        for width in grid.widths:
            for act in grid.activations:
                spec = cell_spec(base, depth, width, act)
                ops = predicted_total(predict(spec))
                cells.append(Cell(len(cells), depth, width, act, spec, ops))
    total = sum(c.predicted_ops for c in cells)
    cpu_seconds = sum(estimate_seconds(engine, c.predicted_ops, c.spec.parameters)
                      for c in cells)
    wall = cpu_seconds / max(1, min(jobs, len(cells)))
    if wall > max_minutes * 60:
        raise TooLargeError(
            f"the grid ({len(cells):,} cells, {total:,} ops to count by the closed form) "
            f"would take about {_duration(wall)} with the {engine} engine on {jobs} "
            f"process{'es' if jobs > 1 else ''}, over the limit of {max_minutes:g} minutes; "
            "use fewer or smaller depths and widths, or raise --max-minutes")
    biggest = max(cells, key=lambda c: c.predicted_ops)
    if biggest.predicted_ops > info.default_max_ops:
        raise TooLargeError(
            f"the cell depth {biggest.depth}, width {biggest.width} has "
            f"{biggest.predicted_ops:,} ops to count, over the {engine} engine's limit of "
            f"{info.default_max_ops:,}; use smaller depths or widths")
    widest = max(cells, key=lambda c: c.spec.parameters)
    if widest.spec.parameters > MAX_PARAMETERS:
        raise TooLargeError(
            f"the cell depth {widest.depth}, width {widest.width} has "
            f"{widest.spec.parameters:,} parameters, more than the {MAX_PARAMETERS:,} "
            "cheapgrad can hold; use smaller depths or widths")
    return SweepPlan(base, grid, engine, tuple(cells), total, cpu_seconds, jobs)
