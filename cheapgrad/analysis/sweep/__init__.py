"""The theorem checked over a grid of depths, widths and activations.

A sweep takes a base spec (input_dim, outputs, bias, batch, loss, seed...) and a grid:
for every depth L, width n and activation h it runs the net with L hidden layers, all of
width n and activation h, through :func:`cheapgrad.analysis.run.run`, exactly as ``cheapgrad
run`` does (counted ops, closed form, gradient check). Only a small plain
:class:`CellResult` per cell is kept, so cells can run in worker processes cheaply.

The grid comes from the spec's ``sweep:`` section (``depths``, ``widths``,
``activations``), overridden field by field by the caller (the CLI flags), and falls back
to :data:`DEFAULT_GRID`.

Where the ratio goes as the width grows (:func:`limit_ratio`) follows from the closed form
of :mod:`cheapgrad.analysis.theory`: with all hidden widths n, cost(f) and cost(f, ∇f) are
polynomials in n, and the ratio tends to the ratio of their leading coefficients.

The package: :mod:`~cheapgrad.analysis.sweep.grid` (the grid),
:mod:`~cheapgrad.analysis.sweep.plan` (cells and the estimate),
:mod:`~cheapgrad.analysis.sweep.cells` (results and summary),
:mod:`~cheapgrad.analysis.sweep.pool` (running them).

Example::

    >>> from cheapgrad.models.spec import spec_from_dict
    >>> from cheapgrad.analysis.sweep import Grid, plan_sweep, run_sweep
    >>> base = spec_from_dict({"input_dim": 4, "hidden": [], "activation": "tanh"})
    >>> plan = plan_sweep(base, Grid((1, 2), (2, 4), ("tanh",)), "scalar", jobs=1)
    >>> result = run_sweep(plan, jobs=1)
    >>> len(result.cells), result.summary.all_hold
    (4, True)
"""

from __future__ import annotations

from cheapgrad.analysis.sweep.cells import (
    CELL_MODEL_FIELDS,
    CellResult,
    FailedCell,
    Limit,
    ModelSummary,
    Summary,
    SweepResult,
    limit_ratio,
    model_summary,
    run_cell,
    summarize,
    try_cell,
)
from cheapgrad.analysis.sweep.grid import (
    DEFAULT_GRID,
    MAX_CELLS,
    MAX_DEPTH,
    SWEEP_KEYS,
    Grid,
    SweepError,
    grid_from_spec,
    parse_name_list,
    resolve_grid,
)
from cheapgrad.analysis.sweep.plan import (
    DEFAULT_MAX_MINUTES,
    SECONDS_PER_PARAMETER,
    Cell,
    SweepPlan,
    cell_spec,
    default_jobs,
    estimate_seconds,
    plan_sweep,
)
from cheapgrad.analysis.sweep.pool import ProgressSink, run_sweep

__all__ = [
    "CELL_MODEL_FIELDS", "DEFAULT_GRID", "DEFAULT_MAX_MINUTES", "MAX_CELLS", "MAX_DEPTH",
    "SECONDS_PER_PARAMETER", "SWEEP_KEYS", "Cell", "CellResult", "FailedCell", "Grid", "Limit",
    "ModelSummary", "ProgressSink", "Summary", "SweepError", "SweepPlan", "SweepResult",
    "cell_spec", "default_jobs", "estimate_seconds", "grid_from_spec", "limit_ratio",
    "model_summary", "parse_name_list", "plan_sweep", "resolve_grid", "run_cell",
    "run_sweep", "summarize", "try_cell",
]
