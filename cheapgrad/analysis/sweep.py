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

import dataclasses
import difflib
import multiprocessing
import os
import re
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Protocol

from cheapgrad.analysis import costmodels
from cheapgrad.analysis import run as runner
from cheapgrad.analysis.gradcheck import GradCheck
from cheapgrad.analysis.theory import predict, predicted_cost, predicted_total
from cheapgrad.engines import DEFAULT_ENGINE, ENGINES
from cheapgrad.errors import CheapgradError, SpecError, TooLargeError
from cheapgrad.models.activations import ACTIVATIONS, custom_name
from cheapgrad.models.spec import MAX_PARAMETERS, MAX_WIDTH, Spec, shown

#: Keys of a spec's ``sweep:`` section.
SWEEP_KEYS = ("depths", "widths", "activations")
#: The most hidden layers a sweep accepts.
MAX_DEPTH = 1000
#: The most cells one sweep runs.
MAX_CELLS = 10_000
#: Time per parameter spent outside the counting (weights drawn, gradient checked), as
#: measured on nets of tens of millions of parameters (about 1 µs, with some margin).
SECONDS_PER_PARAMETER = 1.5e-6
#: Default limit on the estimated wall time of a sweep, in minutes.
DEFAULT_MAX_MINUTES = 10.0


class SweepError(CheapgradError):
    """A grid given on the command line (or by a caller) is invalid."""


@dataclass(frozen=True)
class Grid:
    """Depths (numbers of hidden layers), hidden widths and activation names to sweep."""

    depths: tuple[int, ...]
    widths: tuple[int, ...]
    activations: tuple[str, ...]

    @property
    def size(self) -> int:
        """Number of cells."""
        return len(self.depths) * len(self.widths) * len(self.activations)


#: The grid used when neither the spec nor the caller names one.
DEFAULT_GRID = Grid(depths=(1, 2, 4, 8), widths=(1, 4, 16, 64), activations=("tanh", "relu"))


# --- grid parsing and validation ----------------------------------------------------------


def parse_int_list(text: str, option: str, maximum: int = MAX_WIDTH) -> tuple[int, ...]:
    """Parse a comma-separated list of distinct positive integers such as ``"1,2,4"``
    (returned sorted). ``option`` names the source in error messages (e.g. ``--depths``).
    """
    items = [t.strip() for t in text.split(",")]
    if all(not t for t in items):
        raise SweepError(f"{option}: must list at least one positive integer, e.g. 1,2,4")
    values = []
    for item in items:
        if not item:
            raise SweepError(f"{option}: empty item in {text!r} (write e.g. 1,2,4)")
        try:
            values.append(int(item))
        except ValueError:
            raise SweepError(
                f"{option}: {item!r} is not a whole number (write e.g. 1,2,4)") from None
    return _check_ints(values, maximum, lambda i, m: SweepError(f"{option}: {m}"))


def parse_name_list(text: str, option: str) -> tuple[str, ...]:
    """Parse a comma-separated list of distinct activation names such as ``"tanh,relu"``
    (a custom activation's own comma, as in ``custom(10,50)``, does not split)."""
    items = [t.strip() for t in re.split(r",(?![^(]*\))", text)]
    if all(not t for t in items):
        raise SweepError(f"{option}: must list at least one activation, e.g. tanh,relu")
    if any(not t for t in items):
        raise SweepError(f"{option}: empty item in {text!r} (write e.g. tanh,relu)")
    return _check_names(items, lambda i, m: SweepError(f"{option}: {m}"))


Fail = Callable[[int, str], CheapgradError]


def _check_ints(values: Sequence[Any], maximum: int, fail: Fail) -> tuple[int, ...]:
    seen: set[int] = set()
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int):
            raise fail(i, f"must be a positive integer, got {v!r}")
        if v < 1:
            raise fail(i, f"must be a positive integer, got {v}")
        if v > maximum:
            raise fail(i, f"must be at most {maximum:,}, got {v:,}")
        if v in seen:
            raise fail(i, f"{v} is listed twice")
        seen.add(v)
    return tuple(sorted(values))


def _check_names(values: Sequence[Any], fail: Fail) -> tuple[str, ...]:
    seen: set[str] = set()
    values = [_custom_from_mapping(v) for v in values]
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise fail(i, f"must be an activation name, got {shown(v)}")
        if ACTIVATIONS.resolve(v) is None:
            match = difflib.get_close_matches(v, list(ACTIVATIONS), n=1, cutoff=0.6)
            hint = f" (did you mean '{match[0]}'?)" if match else ""
            raise fail(i, f"unknown activation '{v}'{hint}; known: {', '.join(ACTIVATIONS)}")
        if v in seen:
            raise fail(i, f"'{v}' is listed twice")
        seen.add(v)
    return tuple(values)


def _custom_from_mapping(value: Any) -> Any:
    """``{name: custom, cost: C, derivative_cost: D}`` (as in a spec) as ``custom(C,D)``."""
    if isinstance(value, dict) and value.get("name") == "custom":
        cost, dcost = value.get("cost"), value.get("derivative_cost")
        if isinstance(cost, int) and isinstance(dcost, int) and set(value) == {
                "name", "cost", "derivative_cost"}:
            return custom_name(cost, dcost)
    return value


def grid_from_spec(spec: Spec) -> dict[str, tuple[Any, ...]]:
    """The fields of the spec's ``sweep:`` section, validated (absent fields left out).

    Errors name the spec's file, the line and the field, e.g.
    ``sweep.yaml:9: sweep.depths[1]: must be a positive integer, got -1``.
    """
    raw = spec.sweep
    if raw is None:
        return {}

    def err(field_name: str, message: str) -> SpecError:
        line = spec.lines.get(field_name)
        if line is None:
            line = spec.lines.get(field_name.split("[")[0], spec.lines.get("sweep"))
        return SpecError(message, path=spec.source, line=line, field=field_name)

    for key in raw:
        if key not in SWEEP_KEYS:
            match = difflib.get_close_matches(str(key), SWEEP_KEYS, n=1, cutoff=0.6)
            hint = f" (did you mean '{match[0]}'?)" if match else ""
            raise err(f"sweep.{key}",
                      f"unknown key{hint}; known keys: {', '.join(SWEEP_KEYS)}")
    out: dict[str, tuple[Any, ...]] = {}
    for key in SWEEP_KEYS:
        if key not in raw:
            continue
        name = f"sweep.{key}"
        value = raw[key]
        if not isinstance(value, list):
            example = "[tanh, relu]" if key == "activations" else "[1, 2, 4]"
            raise err(name, f"must be a list, e.g. {example}, got {value!r}")
        if not value:
            raise err(name, "must be a non-empty list")

        def at(i: int, message: str, name: str = name) -> SpecError:
            return err(f"{name}[{i}]", message)

        if key == "activations":
            out[key] = _check_names(value, at)
        else:
            out[key] = _check_ints(value, MAX_DEPTH if key == "depths" else MAX_WIDTH, at)
    return out


def resolve_grid(
    spec: Spec,
    depths: tuple[int, ...] | None = None,
    widths: tuple[int, ...] | None = None,
    activations: tuple[str, ...] | None = None,
) -> Grid:
    """The grid to run: each field from the arguments if given, else from the spec's
    ``sweep:`` section, else the depths and widths of :data:`DEFAULT_GRID` and the spec's
    own activations (those of :data:`DEFAULT_GRID` when it has no hidden layer)."""
    from_file = grid_from_spec(spec)
    own = tuple(dict.fromkeys(spec.activations)) or DEFAULT_GRID.activations
    return Grid(
        depths=depths if depths is not None else from_file.get("depths", DEFAULT_GRID.depths),
        widths=widths if widths is not None else from_file.get("widths", DEFAULT_GRID.widths),
        activations=(activations if activations is not None
                     else from_file.get("activations", own)),
    )


# --- plan -----------------------------------------------------------------------------------


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
        return runner.BOUND


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


# --- running --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellResult:
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

    @property
    def ratio(self) -> float:
        """cost(f, ∇f) / cost(f), measured."""
        return self.cost_f_and_grad / self.cost_f

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
    def holds(self) -> bool:
        """Whether the measured ratio is within the bound."""
        return self.ratio <= self.bound

    @property
    def margin(self) -> float:
        """How far below the bound the ratio is, as a fraction of the bound."""
        return (self.bound - self.ratio) / self.bound

    @property
    def passed(self) -> bool:
        """Bound holds, gradient check passes, loss and counts as the run demands."""
        return self.holds and self.gradient_check.passed and self.loss_matches \
            and self.counts_match


#: What each cell keeps of every cost model: the figures, not the models' descriptions
#: (those are the same in every cell; ``cheapgrad run --format json`` shows them).
CELL_MODEL_FIELDS = ("cost_f", "cost_f_and_grad", "ratio", "bound", "holds", "applies")


def run_cell(cell: Cell, engine: str) -> CellResult:
    """Run one cell with :func:`cheapgrad.analysis.run.run` and keep what the sweep needs."""
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


def _run_indexed(args: tuple[Cell, str]) -> CellResult:
    # In a worker: hand errors back as a plain SweepError, which always pickles (some
    # CheapgradError subclasses take constructor arguments that unpickling cannot supply).
    cell, engine = args
    try:
        return run_cell(cell, engine)
    except CheapgradError as exc:
        raise SweepError(f"cell depth {cell.depth}, width {cell.width}, {cell.activation}: "
                         f"{exc}") from None


def _ignore_sigint() -> None:
    # Workers leave Ctrl-C to the parent, which stops them all.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_pool(ctx: Any, jobs: int) -> Any:
    """A worker pool whose workers never see Ctrl-C, not even while they start.

    SIGINT is blocked while the workers are forked, so they start with it blocked and
    then ignore it (a Ctrl-C can never kill a worker half-way through its start, which
    could leave the pool's queue locked). In the parent a Ctrl-C that came meanwhile is
    only delayed: it is delivered when the mask is restored, and then stops the pool.
    """
    if (threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "pthread_sigmask")):
        return ctx.Pool(jobs, initializer=_ignore_sigint)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    pool = None
    try:
        pool = ctx.Pool(jobs, initializer=_ignore_sigint)
    finally:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        except KeyboardInterrupt:
            if pool is not None:
                pool.terminate()
                pool.join()
            raise
    return pool


def _stop_pool(pool: Any) -> None:
    """Terminate the workers and wait for them, deaf to further Ctrl-Cs meanwhile (a
    second one inside terminate() would leave live workers and a parent waiting on them
    forever)."""
    if pool is None:
        return
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:
        pool.terminate()
        pool.join()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


class ProgressSink(Protocol):
    """Receives progress: ``start`` once the workers are ready, with the number of cells
    and the estimated work (seconds); ``advance`` per finished cell with its share."""

    def start(self, cells: int, work: float) -> None: ...

    def advance(self, cell: CellResult, work: float) -> None: ...


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
    """The cells run (in grid order), whether Ctrl-C stopped the sweep, and timing."""

    plan: SweepPlan
    cells: list[CellResult]
    interrupted: bool
    seconds: float
    jobs: int

    @property
    def bound(self) -> float:
        return self.plan.bound

    @property
    def summary(self) -> Summary:
        return summarize(self)


def run_sweep(
    plan: SweepPlan,
    *,
    jobs: int | None = None,
    progress: ProgressSink | None = None,
) -> SweepResult:
    """Run every cell of ``plan``; ``jobs`` > 1 runs them in worker processes.

    Results come back in grid order whatever the number of jobs. Ctrl-C
    (KeyboardInterrupt) stops the workers and returns the cells finished so far with
    ``interrupted`` set.
    """
    jobs = plan.jobs if jobs is None else jobs
    jobs = max(1, min(jobs, len(plan.cells)))
    work = {c.index: estimate_seconds(plan.engine, c.predicted_ops, c.spec.parameters)
            for c in plan.cells}
    done: list[CellResult] = []
    interrupted = False
    start = time.perf_counter()
    if jobs == 1:
        if progress is not None:
            progress.start(len(plan.cells), sum(work.values()))
        try:
            for cell in plan.cells:
                r = run_cell(cell, plan.engine)
                done.append(r)
                if progress is not None:
                    progress.advance(r, work[r.index])
        except KeyboardInterrupt:
            interrupted = True
    else:
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
        # Biggest cells first keeps both workers busy to the end; the order of the
        # results is restored below.
        order = sorted(plan.cells, key=lambda c: -c.predicted_ops)
        pool = None
        try:
            pool = _start_pool(ctx, jobs)
            if progress is not None:
                progress.start(len(plan.cells), sum(work.values()))
            for r in pool.imap_unordered(_run_indexed, [(c, plan.engine) for c in order]):
                done.append(r)
                if progress is not None:
                    progress.advance(r, work[r.index])
            pool.close()
            pool.join()
        except KeyboardInterrupt:
            interrupted = True
            _stop_pool(pool)
        except BaseException:
            _stop_pool(pool)
            raise
    done.sort(key=lambda r: r.index)
    return SweepResult(plan, done, interrupted, time.perf_counter() - start, jobs)


# --- summary and the limit ------------------------------------------------------------------


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
    )
