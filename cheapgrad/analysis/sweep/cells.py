"""What a sweep keeps of each cell's run, and the summary over the cells: extremes per
cost model and where the ratio tends as the width grows (:func:`limit_ratio`, from the
closed form of :mod:`cheapgrad.analysis.theory`).

Example::

    >>> from cheapgrad.models.spec import spec_from_dict
    >>> limit_ratio(spec_from_dict({"input_dim": 4, "hidden": [], "activation": "tanh"}),
    ...             2, "tanh")
    Fraction(5, 2)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from cheapgrad.analysis import costmodels
from cheapgrad.analysis import run as runner
from cheapgrad.analysis.gradcheck import GradCheck
from cheapgrad.analysis.result import Ratio
from cheapgrad.analysis.sweep.grid import SweepError
from cheapgrad.analysis.sweep.plan import Cell, SweepPlan
from cheapgrad.analysis.theory import predicted_cost
from cheapgrad.errors import CheapgradError
from cheapgrad.models.activations import ACTIVATIONS
from cheapgrad.models.spec import Spec


@dataclass(frozen=True)
class CellResult(Ratio):
    """What the sweep keeps of one cell's run (small and picklable)."""

    index: int
    depth: int
    width: int
    activation: str
    engine: str
    parameters: int
    nodes: int
    cost_f: int
    cost_f_and_grad: int
    predicted_cost_f: int
    predicted_cost_f_and_grad: int
    bound: float
    counts_match: bool
    loss_matches: bool
    gradient_check: GradCheck
    seconds: float
    #: Every cost model's JSON (:func:`cheapgrad.analysis.costmodels.to_json`) of the cell's
    #: counts: model name -> {cost_f, cost_f_and_grad, ratio, bound, holds, ...}.
    cost_models: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False,
                                                    hash=False)

    def model_ratio(self, model: str) -> float | None:
        """The ratio under a cost model (``unit``: :attr:`ratio`); None when f costs
        nothing under the model or the model was not recorded."""
        if model == "unit":
            return self.ratio
        m = self.cost_models.get(model)
        return None if m is None else m["ratio"]

    def model_bound(self, model: str) -> float | None:
        """The bound of a cost model (``unit``: :attr:`bound`)."""
        if model == "unit":
            return self.bound
        m = self.cost_models.get(model)
        return None if m is None else m["bound"]

    def model_holds(self, model: str) -> bool | None:
        """Whether the ratio under a cost model is within its bound (None: no ratio)."""
        if model == "unit":
            return self.holds
        m = self.cost_models.get(model)
        return None if m is None else m["holds"]

    def model_applies(self, model: str) -> bool:
        """Whether the cell meets the hypothesis of the model's theorem."""
        m = self.cost_models.get(model)
        return True if m is None else bool(m["applies"])

    @property
    def passed(self) -> bool:
        """Bound holds, gradient check passes, loss and counts as the run demands."""
        return self.holds and self.gradient_check.passed and self.loss_matches \
            and self.counts_match


@dataclass(frozen=True)
class FailedCell:
    """A cell whose run stopped with an error (e.g. an overflow): where it is in the grid
    and why, so that the rest of the sweep is still reported (small and picklable)."""

    index: int
    depth: int
    width: int
    activation: str
    parameters: int
    reason: str

    @property
    def passed(self) -> bool:
        """A failed cell never passes."""
        return False


#: What each cell keeps of every cost model: the figures, not the models' descriptions
#: (those are the same in every cell; ``cheapgrad run --format json`` shows them).
CELL_MODEL_FIELDS = ("cost_f", "cost_f_and_grad", "ratio", "bound", "holds", "applies")


def run_cell(cell: Cell, engine: str) -> CellResult:
    """Run one cell with :func:`cheapgrad.analysis.run.run` and keep what the sweep needs."""
    return _run_cell(cell, engine)


def try_cell(cell: Cell, engine: str) -> CellResult | FailedCell:
    """:func:`run_cell`, or a :class:`FailedCell` with the reason when the run raises a
    :class:`~cheapgrad.errors.CheapgradError` (one bad cell must not discard a sweep)."""
    try:
        return _run_cell(cell, engine)
    except CheapgradError as exc:
        return FailedCell(cell.index, cell.depth, cell.width, cell.activation,
                          cell.spec.parameters, str(exc))


def _run_cell(cell: Cell, engine: str) -> CellResult:
    result = runner.run(cell.spec, engine)
    f_pred, fg_pred = predicted_cost(cell.spec)
    models = costmodels.cost_models(result.counter, cell.spec.cost_weights)
    return CellResult(
        index=cell.index, depth=cell.depth, width=cell.width, activation=cell.activation,
        engine=result.engine, parameters=cell.spec.parameters, nodes=cell.spec.nodes,
        cost_f=result.cost_f, cost_f_and_grad=result.cost_f_and_grad,
        predicted_cost_f=f_pred, predicted_cost_f_and_grad=fg_pred, bound=result.bound,
        counts_match=result.counts_match, loss_matches=result.loss_matches,
        gradient_check=result.gradient_check, seconds=result.seconds,
        cost_models={name: {k: v for k, v in m.items() if k in CELL_MODEL_FIELDS}
                     for name, m in costmodels.to_json(models).items()},
    )


@dataclass(frozen=True)
class Limit:
    """Where the ratio of one (depth, activation) tends as the width grows, from the
    closed form, beside the measured ratios (the trend) over the widths run."""

    depth: int
    activation: str
    limit: Fraction
    trend: tuple[tuple[int, float], ...]

    @property
    def widest(self) -> tuple[int, float] | None:
        """(width, measured ratio) at the widest width run, if any."""
        return self.trend[-1] if self.trend else None


@dataclass(frozen=True)
class ModelSummary:
    """One cost model over the cells run: its bound, how many cells have a ratio and
    how many of those hold, and the cells of the largest and smallest ratio."""

    model: str
    bound: float | None
    with_ratio: int
    holding: int
    largest: CellResult | None
    smallest: CellResult | None


def model_summary(cells: Sequence[CellResult], model: str) -> ModelSummary:
    """The extremes of one cost model's ratio over ``cells`` (ties: the first in grid
    order)."""
    rated = [c for c in cells if c.model_ratio(model) is not None]

    def key(c: CellResult) -> float:
        r = c.model_ratio(model)
        return 0.0 if r is None else r

    bounds = [b for c in cells if (b := c.model_bound(model)) is not None]
    return ModelSummary(
        model=model,
        bound=bounds[0] if bounds else None,
        with_ratio=len(rated),
        holding=sum(1 for c in rated if c.model_holds(model)),
        largest=max(rated, key=key) if rated else None,
        smallest=min(rated, key=key) if rated else None,
    )


@dataclass(frozen=True)
class Summary:
    """How many cells hold and pass, the extremes, and the limits."""

    cells: int
    planned: int
    holding: int
    passing: int
    largest: CellResult | None
    smallest: CellResult | None
    limits: tuple[Limit, ...]
    models: tuple[ModelSummary, ...] = ()
    #: Cells whose run stopped with an error (they neither hold nor pass).
    failed: int = 0

    def model(self, name: str) -> ModelSummary | None:
        """The summary of one cost model, if recorded."""
        return next((m for m in self.models if m.model == name), None)

    @property
    def all_hold(self) -> bool:
        """Every planned cell ran and its ratio is within the bound."""
        return self.cells == self.planned and self.holding == self.cells

    @property
    def all_passed(self) -> bool:
        """Every planned cell ran and passed (bound, gradient, loss, counts)."""
        return self.cells == self.planned and self.passing == self.cells


@dataclass
class SweepResult:
    """The cells run (in grid order), the cells whose run failed (in grid order), whether
    Ctrl-C stopped the sweep, and timing."""

    plan: SweepPlan
    cells: list[CellResult]
    interrupted: bool
    seconds: float
    jobs: int
    failed: list[FailedCell] = field(default_factory=list)

    @property
    def finished(self) -> int:
        """Cells that finished, whether they ran to a result or failed."""
        return len(self.cells) + len(self.failed)

    @property
    def bound(self) -> float:
        return self.plan.bound

    @property
    def summary(self) -> Summary:
        return summarize(self)


def limit_ratio(base: Spec, depth: int, activation: str) -> Fraction:
    """The limit of cost(f, ∇f) / cost(f) as all ``depth`` hidden widths n grow, with the
    base's input_dim d0, outputs K, batch B and bias β fixed, from the closed form.

    Depth L >= 2: the n × n layers dominate. Each costs 2Bn² + O(n) forward (mul and
    add per weight and example), and backward (2B − 1)n² for its weight gradients plus
    2Bn² for the Σ w δ of the layer below, so the ratio tends to (6B − 1) / 2B
    (2.5 for one example), whatever the activation.

    Depth 1: everything is linear in n. With c and c' the declared costs of h and h',
    and s = 1 when backprop multiplies by h', cost(f) grows by
    B(2d0 − 1 + β + c + 2K) per unit of width and the backward pass by
    (2B − 1)(d0 + K) + β(B − 1) + B(2K − 1) + Bc' + sB.
    """
    if depth < 1:
        raise SweepError(f"depth must be a positive integer, got {depth}")
    b = base.batch
    if depth >= 2:
        return Fraction(6 * b - 1, 2 * b)
    act = ACTIVATIONS[activation]
    beta = int(base.bias)
    d0, k = base.input_dim, base.outputs
    forward = b * (2 * d0 - 1 + beta + act.cost_units + 2 * k)
    backward = ((2 * b - 1) * (d0 + k) + beta * (b - 1) + b * (2 * k - 1)
                + b * act.derivative_cost_units + int(act.scales_delta) * b)
    return 1 + Fraction(backward, forward)


def summarize(result: SweepResult) -> Summary:
    """Counts of holding and passing cells, the extremes and the limit per
    (depth, activation) with its measured trend over the widths."""
    cells = result.cells
    limits = []
    grid = result.plan.grid
    for depth in grid.depths:
        for act in grid.activations:
            trend = tuple((c.width, c.ratio) for c in cells
                          if c.depth == depth and c.activation == act)
            limits.append(Limit(depth, act, limit_ratio(result.plan.base, depth, act), trend))
    return Summary(
        cells=len(cells),
        planned=len(result.plan.cells),
        holding=sum(c.holds for c in cells),
        passing=sum(c.passed for c in cells),
        largest=max(cells, key=lambda c: c.ratio) if cells else None,
        smallest=min(cells, key=lambda c: c.ratio) if cells else None,
        limits=tuple(limits),
        models=tuple(model_summary(cells, m) for m in costmodels.MODELS),
        failed=len(result.failed),
    )
