"""Sweeps of transformers: the 6N table over a grid of ``n_layer``, ``d_model`` and
``n_ctx``.

A transformer sweep takes a base transformer spec and varies its depth, width and
context. Each cell keeps the base's head width d_head (``n_head = d_model / d_head``) and
its MLP ratio d_ff / d_model; an axis not given stays at the base's value. Every cell is
measured by the caller's ``measure`` (the run of the spec on an engine: its cost models
and its parameter count) and becomes a 6N table (:mod:`cheapgrad.analysis.sixn`), so the
sweep shows how each published formula's relative error moves with n_ctx / d_model: the
formulas without the attention T×T terms fall further below the count as the context
grows against the width.

Example, with the FLOPs of the GPT-2 family standing in for a measurement::

    >>> from cheapgrad.analysis.costmodels import ModelCost
    >>> from cheapgrad.analysis.flop_formulas import FORMULAS, Arch, parameter_count
    >>> def measure(a):
    ...     fl = FORMULAS["megatron"].per_token(a) * a.n_ctx
    ...     return {"flop": ModelCost("flop", fl // 3, fl, 3.0, "x")}, parameter_count(a)
    >>> base = Arch(vocab=50257, n_ctx=1024, d_model=768, n_head=12, n_layer=12)
    >>> r = transformer_sweep(base, TransformerGrid(n_ctx=(256, 4096)), measure)
    >>> [(c.n_ctx, round(c.table.rows[1].error["flop"], 3)) for c in r.cells]
    [(256, -0.319), (4096, -0.384)]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from cheapgrad.analysis.costmodels import ModelCost
from cheapgrad.analysis.flop_formulas import Architecture
from cheapgrad.analysis.sixn import SixN, model_parameters, sixn_table
from cheapgrad.analysis.sweep.grid import MAX_CELLS, SweepError
from cheapgrad.analysis.transformer import AUTO_EXECUTE_MAX_OPS, run_transformer
from cheapgrad.analysis.transformer_shapes import shape_counts
from cheapgrad.errors import CheapgradError
from cheapgrad.models.transformer_spec import TransformerSpec

#: The axes of a transformer sweep (spec keys).
TRANSFORMER_AXES = ("n_layer", "d_model", "n_ctx")
#: The context lengths swept when no axis is given: the error's growth with n_ctx.
DEFAULT_N_CTX = (128, 256, 512, 1024, 2048, 4096, 8192)

A = TypeVar("A", bound=Architecture)
#: Counted ops per second of an executed transformer (array engine, gradient check
#: included), measured on gpt-tiny variants of 28-54 million ops: 18-24 million per
#: second on one core. Only for refusing grids that would run for long.
EXECUTED_OPS_PER_SECOND = 1.5e7
#: ... and of the scalar engine, about 100 times slower.
SCALAR_OPS_PER_SECOND = 1.5e5

#: What a cell's measurement gives: every cost model of the run, and its parameter count.
Measure = Callable[[A], tuple[Mapping[str, ModelCost], int]]


class Progress(Protocol):
    """Receives a sweep's progress, as the MLP sweep's
    (:class:`cheapgrad.analysis.sweep.pool.ProgressSink`): ``start`` once, with the
    number of cells and the estimated work; ``advance`` per finished cell with its share."""

    def start(self, cells: int, work: float) -> None: ...

    def advance(self, cell: Any, work: float) -> None: ...


@dataclass(frozen=True)
class TransformerGrid:
    """The values of each axis to sweep; ``None`` keeps the base spec's value."""

    n_layer: tuple[int, ...] | None = None
    d_model: tuple[int, ...] | None = None
    n_ctx: tuple[int, ...] | None = None

    def resolved(self, base: Architecture) -> TransformerGrid:
        """Every axis filled: the given values, else the base's (and, when no axis at
        all is given, :data:`DEFAULT_N_CTX` for n_ctx)."""
        if self.n_layer is None and self.d_model is None and self.n_ctx is None:
            return TransformerGrid((base.n_layer,), (base.d_model,), DEFAULT_N_CTX)
        return TransformerGrid(self.n_layer or (base.n_layer,), self.d_model or (base.d_model,),
                               self.n_ctx or (base.n_ctx,))

    @property
    def size(self) -> int:
        """Number of cells (of a resolved grid)."""
        return len(self.n_layer or ()) * len(self.d_model or ()) * len(self.n_ctx or ())

    def to_dict(self) -> dict[str, list[int] | None]:
        """Plain data for JSON."""
        return {k: None if getattr(self, k) is None else list(getattr(self, k))
                for k in TRANSFORMER_AXES}


def cell_spec(base: A, n_layer: int, d_model: int, n_ctx: int) -> A:
    """The base spec with the given depth, width and context, its head width and MLP
    ratio kept. Raises :class:`SweepError` when d_model is not a multiple of the head
    width, or the MLP width would not be whole.

    >>> from cheapgrad.analysis.flop_formulas import Arch
    >>> c = cell_spec(Arch(vocab=9, n_ctx=8, d_model=768, n_head=12, n_layer=2), 3, 1024, 16)
    >>> c.n_head, c.d_ff, c.n_ctx
    (16, 4096, 16)
    """
    d_head = base.d_model // base.n_head
    if d_model % d_head:
        raise SweepError(f"d_model {d_model}: not a multiple of the head width {d_head} "
                         f"(d_model / n_head of the base spec), which every cell keeps")
    if (base.d_ff * d_model) % base.d_model:
        raise SweepError(f"d_model {d_model}: the MLP width d_ff = {base.d_ff}/{base.d_model}"
                         f" · d_model would not be a whole number")
    changes: dict[str, Any] = {
        "n_layer": n_layer, "d_model": d_model, "n_ctx": n_ctx,
        "n_head": d_model // d_head, "d_ff": base.d_ff * d_model // base.d_model}
    if hasattr(base, "name"):
        changes["name"] = f"{base.name}-L{n_layer}-d{d_model}-T{n_ctx}"
    return dataclasses.replace(base, **changes)  # type: ignore[type-var]


@dataclass(frozen=True)
class TransformerCell:
    """One cell of a transformer sweep: its architecture and its 6N table."""

    n_layer: int
    d_model: int
    n_ctx: int
    n_head: int
    d_ff: int
    table: SixN

    @property
    def context_per_width(self) -> float:
        """n_ctx / d_model, what the attention terms grow with."""
        return self.n_ctx / self.d_model

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: the architecture, n_ctx / d_model and the 6N table."""
        return {"n_layer": self.n_layer, "d_model": self.d_model, "n_ctx": self.n_ctx,
                "n_head": self.n_head, "d_ff": self.d_ff,
                "n_ctx_per_d_model": self.context_per_width, **self.table.to_dict()}


@dataclass(frozen=True)
class TransformerSweep:
    """A transformer sweep's base name, its grid and its cells in grid order."""

    base_name: str
    grid: TransformerGrid
    cells: tuple[TransformerCell, ...]
    #: The base spec as plain data (its ``to_dict()``, when it has one).
    base: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Stopped by Ctrl-C: ``cells`` are the ones finished first, of ``planned``.
    interrupted: bool = False
    planned: int = 0
    #: Cells whose run stopped with an error: (cell name, the error's one line); the
    #: other cells are still measured and reported.
    failed: tuple[tuple[str, str], ...] = ()

    @property
    def all_hold(self) -> bool:
        """Whether every measured ratio of every cell is within its bound."""
        return all(m.holds is not False for c in self.cells for m in c.table.measured.values())

    @property
    def params_agree(self) -> bool:
        """Whether every cell's parameter count matched nanoGPT's formula."""
        return all(c.table.params_agree for c in self.cells)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {"kind": "transformer", "name": self.base_name, "base": self.base,
                "grid": self.grid.to_dict(),
                "all_hold": self.all_hold, "params_agree": self.params_agree,
                "interrupted": self.interrupted, "cells": [c.to_dict() for c in self.cells],
                "failed": [{"cell": name, "reason": why} for name, why in self.failed]}


def predicted_ops(spec: TransformerSpec) -> int:
    """The ops f and ∇f of ``spec`` count, from the closed form (a ReLU spec: those of
    the same shapes with GELU, an estimate)."""
    gelu = spec if spec.activation == "gelu" else dataclasses.replace(spec, activation="gelu")
    return sum(n for comp in shape_counts(gelu).values() for kinds in comp.values()
               for n, _ in kinds.values())


def estimate_seconds(specs: list[TransformerSpec], engine: str) -> float:
    """How long counting ``specs`` on ``engine`` takes, roughly: nothing from shapes
    (``auto`` executes only up to :data:`~cheapgrad.analysis.transformer.
    AUTO_EXECUTE_MAX_OPS` ops), executed ops at :data:`EXECUTED_OPS_PER_SECOND`."""
    total = 0.0
    for spec in specs:
        ops = predicted_ops(spec)
        if engine == "scalar":
            total += ops / SCALAR_OPS_PER_SECOND
        elif engine == "array" or (engine == "auto" and ops <= AUTO_EXECUTE_MAX_OPS):
            total += ops / EXECUTED_OPS_PER_SECOND
    return total


def measure_with(engine: str = "auto") -> Measure[TransformerSpec]:
    """A cell's measurement: :func:`~cheapgrad.analysis.transformer.run_transformer` of
    the cell's spec on ``engine``, its cost models and the model's parameter count.

    >>> from cheapgrad.models.bundled import load_any_config
    >>> models, n = measure_with("shapes")(load_any_config("gpt2-small"))
    >>> models["flop"].cost_f, n
    (291648307200, 124439808)
    """
    def measure(spec: TransformerSpec) -> tuple[Mapping[str, ModelCost], int]:
        result = run_transformer(spec, engine)
        if result.check is not None and not result.check.passed:
            raise SweepError(f"{spec.name}: the gradient check failed: {result.check.summary}")
        if result.closed_form is False:
            raise SweepError(f"{spec.name}: the counts differ from the closed form")
        return result.cost_models(), model_parameters(spec)

    return measure


def cell_specs(base: A, grid: TransformerGrid) -> list[A]:
    """The spec of every cell of ``grid`` (resolved against ``base``), in grid order."""
    g = grid.resolved(base)
    if g.size > MAX_CELLS:
        raise SweepError(f"{g.size:,} cells: at most {MAX_CELLS:,}")
    return [cell_spec(base, n_layer, d_model, n_ctx)
            for n_layer in g.n_layer or () for d_model in g.d_model or ()
            for n_ctx in g.n_ctx or ()]


def transformer_sweep(base: A, grid: TransformerGrid, measure: Measure[A],
                      progress: Progress | None = None,
                      work: Callable[[A], float] | None = None) -> TransformerSweep:
    """Measure every cell of ``grid`` (resolved against ``base``) and tabulate it, in
    grid order, telling ``progress`` (each cell's share: ``work(spec)``, default 1).
    Ctrl-C (KeyboardInterrupt) stops it and returns the cells finished so far with
    ``interrupted`` set, as the MLP sweep does; a cell whose measurement raises a
    :class:`~cheapgrad.errors.CheapgradError` is recorded in ``failed`` and the sweep
    goes on."""
    g = grid.resolved(base)
    specs = cell_specs(base, grid)
    shares = [max(work(s), 1e-3) if work is not None else 1.0 for s in specs]
    cells: list[TransformerCell] = []
    failed: list[tuple[str, str]] = []
    interrupted = False
    try:  # a Ctrl-C right after start() (which may say "ready") is caught too
        if progress is not None:
            progress.start(len(specs), sum(shares))
        for spec, share in zip(specs, shares, strict=True):
            try:
                models, n_params = measure(spec)
            except CheapgradError as exc:  # one cell lost, not the sweep
                failed.append((str(getattr(spec, "name", "") or
                                   f"L{spec.n_layer}-d{spec.d_model}-T{spec.n_ctx}"), str(exc)))
                if progress is not None:
                    progress.advance(None, share)
                continue
            tokens = getattr(spec, "batch", 1) * spec.n_ctx
            cells.append(TransformerCell(spec.n_layer, spec.d_model, spec.n_ctx, spec.n_head,
                                         spec.d_ff, sixn_table(spec, models, tokens, n_params)))
            if progress is not None:
                progress.advance(cells[-1], share)
    except KeyboardInterrupt:
        interrupted = True
    to_dict = getattr(base, "to_dict", None)
    return TransformerSweep(str(getattr(base, "name", "transformer")), g, tuple(cells),
                            to_dict() if callable(to_dict) else {}, interrupted, len(specs),
                            tuple(failed))
