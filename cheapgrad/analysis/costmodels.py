"""Cost models: the same measured counts priced five ways, each with its published bound.

"Within a factor of 5" depends on what one counts. Given the op counts a run or a circuit
measured (a :class:`~cheapgrad.core.counter.Counter`, or per-phase
:class:`~cheapgrad.core.counter.OpCounts`), this module prices f (phases ``forward`` and
``loss``) and f with its gradient (plus phase ``backward``) under each model:

``unit``
    Every op counts 1 (cheapgrad's default). Bound 5: Griewank (1989), the lecture's
    Theorems 2.1 and 3.1.
``nonscalar``
    Baur and Strassen (1983): only a mul whose operands both depend on the independent
    variables, or a div whose divisor does, counts; add, sub, neg and mul/div by a
    constant are free. The dependence is tracked exactly by
    :class:`~cheapgrad.core.number.Num` (``dep``). Elementary functions, comparisons and
    declared units are outside the model and are reported separately (``detail``); when
    f uses any, the theorem's hypothesis (a rational circuit) does not hold and
    ``applies`` is false. Bound 3.
``weighted``
    A cost per op kind, :data:`DEFAULT_WEIGHTS` unless a spec's ``cost_weights`` says
    otherwise. Its bound is Griewank's per-op argument for the given weights
    (:func:`per_op_bound`).
``flop``
    PyTorch's ``FlopCounterMode`` convention: a matrix product of an m×k by a k×n matrix
    costs 2·m·n·k, every other op is free. In an MLP run the products are the buckets
    with part ``matvec`` (forward and backward) and ``grad`` (the weight gradients);
    their ``mul`` count is exactly m·n·k, so the model's cost is twice it. A circuit has
    no matrix products, so its flop cost is 0 and the ratio undefined. Bound 3, the
    convention's own assumption that backward costs 2× forward (Kaplan et al. 2020, "6N").
``memory``
    Griewank's MOVES: values read and written. Every executed op fetches each of its
    operands and stores its result: ``arity + 1`` moves, except a comparison, whose
    result steers control flow and is never stored (2 moves). Declared units (``h``,
    ``dh``) count as unary ops. Its bound is :func:`per_op_bound` with these move counts
    as weights.

Example::

    >>> from cheapgrad.core.counter import Counter
    >>> from cheapgrad.core.number import var
    >>> c = Counter()
    >>> x, y = var(2.0), var(3.0)
    >>> with c.scope("forward"):
    ...     f = x * y
    >>> with c.scope("backward"):
    ...     gx, gy = 1.0 * y, 1.0 * x
    >>> m = cost_models(c)
    >>> m["unit"].ratio, m["nonscalar"].cost_f, m["nonscalar"].cost_f_and_grad
    (3.0, 1, 1)
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cheapgrad.analysis.result import BOUND, within
from cheapgrad.analysis.weights import (
    FETCHES,
    MOVES,
    per_op_bound,
    weighted_cost,
    weights_with_defaults,
)
from cheapgrad.core.counter import Counter, OpCounts
from cheapgrad.core.ops import OPS

#: Phases that make up f, and those that make up the gradient.
F_PHASES = ("forward", "loss")
GRAD_PHASES = ("backward",)
#: Bucket parts that are matrix products in an MLP run (see :mod:`cheapgrad.models.mlp`).
MATMUL_PARTS = ("matvec", "grad")

#: Published bounds of the models whose bound is a constant.
UNIT_BOUND = BOUND
NONSCALAR_BOUND = 3.0
FLOP_BOUND = 3.0

#: Cost classes outside Baur and Strassen's rational model.
NON_RATIONAL_CLASSES = ("elementary", "compare", "declared")
#: Ops of those classes that are rational all the same: x**n for an integer n.
RATIONAL_OPS = ("pow",)


@dataclass(frozen=True)
class ModelCost:
    """The cost of f and of f with ∇f under one model, and the model's bound.

    ``ratio`` is ``None`` when f costs nothing under the model (then no ratio exists);
    ``holds`` is ``None`` when there is no ratio or no bound. ``applies`` says whether
    the counted computation meets the hypothesis of the bound's theorem; ``detail``
    carries what the model leaves out (e.g. the elementary functions under
    ``nonscalar``).
    """

    model: str
    cost_f: float
    cost_f_and_grad: float
    bound: float | None
    source: str
    applies: bool = True
    note: str = ""
    detail: dict[str, float] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.cost_f <= 0:
            return None
        return self.cost_f_and_grad / self.cost_f

    @property
    def holds(self) -> bool | None:
        r = self.ratio
        if r is None or self.bound is None:
            return None
        return within(r, self.bound)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: cost_f, cost_f_and_grad, ratio, bound, holds and more."""
        return {
            "cost_f": _num(self.cost_f),
            "cost_f_and_grad": _num(self.cost_f_and_grad),
            "ratio": self.ratio,
            "bound": self.bound,
            "holds": self.holds,
            "applies": self.applies,
            "source": self.source,
            "note": self.note,
            "detail": {k: _num(v) for k, v in self.detail.items()},
        }


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


# --- reading counts ---------------------------------------------------------------------


Source = Counter | Mapping[str, OpCounts]


def _phase_totals(source: Source, phases: Iterable[str]) -> OpCounts:
    acc = OpCounts.zero()
    for p in phases:
        if isinstance(source, Counter):
            acc = acc + source.totals(phase=p)
        elif p in source:
            acc = acc + source[p]
    return acc


def _matmul_muls(source: Source, phases: Iterable[str]) -> int | None:
    """The mul count of the matrix-product buckets of the given phases (None: no buckets
    to read, i.e. per-phase counts were given)."""
    if not isinstance(source, Counter):
        return None
    wanted = set(phases)
    return sum(
        OpCounts.from_tally(t).counts["mul"]
        for (phase, _layer, part), t in source.buckets.items()
        if phase in wanted and part in MATMUL_PARTS
    )


def nonscalar_cost(counts: OpCounts) -> int:
    """Baur and Strassen's count: the nonscalar muls and divs, and those of integer powers
    (repeated squaring)."""
    return sum(counts.nonscalar.values())


# --- the models -----------------------------------------------------------------------


@dataclass(frozen=True)
class Pricing:
    """What every cost model reads: the counts of f and of f with ∇f, the matrix-product
    muls of each (``None`` when the source has no bucket parts), and the weights."""

    f: OpCounts
    both: OpCounts
    f_matmul: int | None
    g_matmul: int | None
    weights: Mapping[str, float] | None


@dataclass(frozen=True)
class CostModel:
    """A registered cost model: its name, its bound when the bound is a constant, and
    ``price``, which turns the counts into a :class:`ModelCost`."""

    name: str
    bound: float | None
    price: Callable[[Pricing], ModelCost]


def _unit(p: Pricing) -> ModelCost:
    return ModelCost("unit", p.f.total, p.both.total, UNIT_BOUND,
                     "Griewank 1989; lecture Theorems 2.1 and 3.1", note="every op counts 1")


def _non_rational(counts: OpCounts) -> dict[str, int]:
    return {k: n for k, n in counts.counts.items()
            if n and OPS[k].cost_class in NON_RATIONAL_CLASSES and k not in RATIONAL_OPS}


def _nonscalar(p: Pricing) -> ModelCost:
    non_rational, non_rational_grad = _non_rational(p.f), _non_rational(p.both)
    detail: dict[str, float] = {f"f:{k}": n for k, n in non_rational.items()}
    detail.update({f"f_and_grad:{k}": n for k, n in non_rational_grad.items()})
    applies = not non_rational_grad
    note = "nonscalar mul and div only; add, sub, neg and scalings are free"
    if not applies:
        note += ("; outside the theorem's rational model: "
                 + ", ".join(f"{k} {n}" for k, n in non_rational_grad.items())
                 + " (f and ∇f) shown apart")
    return ModelCost("nonscalar", nonscalar_cost(p.f), nonscalar_cost(p.both),
                     NONSCALAR_BOUND, "Baur and Strassen 1983", applies=applies, note=note,
                     detail=detail)


def _weighted(p: Pricing) -> ModelCost:
    w = weights_with_defaults(p.weights)
    w_bound, w_op = per_op_bound(w)
    return ModelCost(
        "weighted", weighted_cost(p.f, w), weighted_cost(p.both, w), w_bound,
        "Griewank's per-op argument for these weights",
        note=f"cost per op kind ({'spec cost_weights over ' if p.weights else ''}defaults); "
             f"bound set by {w_op}",
        detail={f"weight:{k}": v for k, v in w.items() if k in p.both.nonzero()},
    )


def _flop(p: Pricing) -> ModelCost:
    if p.f_matmul is None or p.g_matmul is None:
        return ModelCost("flop", 0, 0, FLOP_BOUND, "PyTorch FlopCounterMode",
                         applies=False, note="needs the bucket parts of a run")
    f_mm, g_mm = p.f_matmul, p.g_matmul
    left_out = p.both.total - (f_mm + g_mm)  # muls of the products are m·n·k
    return ModelCost(
        "flop", 2 * f_mm, 2 * (f_mm + g_mm), FLOP_BOUND,
        "PyTorch FlopCounterMode; Kaplan et al. 2020 (6N)",
        applies=bool(f_mm),
        note=("2·m·n·k per matrix product, every other op free"
              if f_mm else "no matrix products: the convention counts nothing"),
        detail={"unit_ops_not_in_products": left_out},
    )


def _memory(p: Pricing) -> ModelCost:
    f, both = p.f, p.both
    m_bound, m_op = per_op_bound(MOVES)
    return ModelCost(
        "memory", weighted_cost(f, MOVES), weighted_cost(both, MOVES), m_bound,
        "Griewank's MOVES; per-op argument",
        note=f"values fetched and stored, arity + 1 per op; bound set by {m_op}",
        detail={"f:fetches": weighted_cost(f, FETCHES),
                "f:stores": weighted_cost(f, MOVES) - weighted_cost(f, FETCHES),
                "f_and_grad:fetches": weighted_cost(both, FETCHES),
                "f_and_grad:stores": weighted_cost(both, MOVES) - weighted_cost(both, FETCHES)},
    )


#: The cost models, in display order: a new model is one pricing function and one entry.
REGISTRY: dict[str, CostModel] = {m.name: m for m in (
    CostModel("unit", UNIT_BOUND, _unit),
    CostModel("nonscalar", NONSCALAR_BOUND, _nonscalar),
    CostModel("weighted", None, _weighted),
    CostModel("flop", FLOP_BOUND, _flop),
    CostModel("memory", None, _memory),
)}
#: Model names, in display order.
MODELS = tuple(REGISTRY)
#: Choices of ``--cost-model``.
CHOICES = (*MODELS, "all")


def cost_models(
    source: Source,
    weights: Mapping[str, float] | None = None,
    *,
    f_phases: Iterable[str] = F_PHASES,
    grad_phases: Iterable[str] = GRAD_PHASES,
) -> dict[str, ModelCost]:
    """Every registered cost model's cost of f, of f and ∇f, ratio, bound and verdict.

    ``source`` is a Counter (buckets keyed (phase, layer, part)) or a mapping of phase to
    OpCounts (then ``flop``, which needs the bucket parts, has cost 0). ``weights``
    override :data:`DEFAULT_WEIGHTS` for the ``weighted`` model.
    """
    f_phases, grad_phases = tuple(f_phases), tuple(grad_phases)
    f = _phase_totals(source, f_phases)
    pricing = Pricing(f, f + _phase_totals(source, grad_phases),
                      _matmul_muls(source, f_phases), _matmul_muls(source, grad_phases),
                      weights)
    return {name: model.price(pricing) for name, model in REGISTRY.items()}


def select(models: Mapping[str, ModelCost], which: str) -> dict[str, ModelCost]:
    """The models ``--cost-model`` shows: one by name, or ``all``."""
    if which == "all":
        return dict(models)
    if which not in models:
        raise ValueError(f"unknown cost model {which!r}; known: {', '.join(CHOICES)}")
    return {which: models[which]}


def to_json(models: Mapping[str, ModelCost]) -> dict[str, dict[str, Any]]:
    """The JSON value of ``cost_models``: model name -> {cost_f, cost_f_and_grad, ratio,
    bound, holds, ...}."""
    return {name: m.to_dict() for name, m in models.items()}
