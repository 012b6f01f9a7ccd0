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

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cheapgrad.analysis.result import BOUND, within
from cheapgrad.core.counter import Counter, OpCounts
from cheapgrad.core.number import var
from cheapgrad.core.ops import OP_LIST, OP_NAMES, OPS

#: Model names, in display order.
MODELS = ("unit", "nonscalar", "weighted", "flop", "memory")
#: Choices of ``--cost-model``.
CHOICES = (*MODELS, "all")
#: Phases that make up f, and those that make up the gradient.
F_PHASES = ("forward", "loss")
GRAD_PHASES = ("backward",)
#: Bucket parts that are matrix products in an MLP run (see :mod:`cheapgrad.models.mlp`).
MATMUL_PARTS = ("matvec", "grad")

#: Published bounds of the models whose bound is a constant.
UNIT_BOUND = BOUND
NONSCALAR_BOUND = 3.0
FLOP_BOUND = 3.0

#: Default cost per op kind of the ``weighted`` model, relative to an add: each op's
#: ``weight`` in the op table (:mod:`cheapgrad.core.ops`, which gives the sources). They
#: are illustrative defaults, not measurements: give your own with ``cost_weights`` in
#: the spec.
DEFAULT_WEIGHTS: dict[str, float] = {op.name: op.weight for op in OP_LIST}

#: MOVES per op kind: operands fetched plus the result stored (a comparison's result
#: is not stored), each op's ``moves`` in the op table.
MOVES: dict[str, float] = {op.name: float(op.moves) for op in OP_LIST}

#: Values each op fetches (its operands).
FETCHES: dict[str, float] = {op.name: float(op.fetches) for op in OP_LIST}


class MissingWeightError(ValueError):
    """An op kind that has to be priced has no weight: an error, never a free op."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(
            f"op {kind!r} has no weight: give it one in the op table (its registration in "
            "cheapgrad.core.ops) or in the spec's cost_weights")


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


def weighted_cost(counts: OpCounts, weights: Mapping[str, float]) -> float:
    """Σ over op kinds of count × weight.

    Raises :class:`MissingWeightError` for a kind with a nonzero count and no weight.

    >>> from cheapgrad.core.counter import Counter
    >>> c = Counter()
    >>> with c.scope("forward"):
    ...     y = var(2.0) * var(3.0) + 1.0
    >>> weighted_cost(c.totals(), {"add": 1.0, "mul": 3.0})
    4.0
    >>> weighted_cost(c.totals(), {"add": 1.0})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cheapgrad.analysis.costmodels.MissingWeightError: op 'mul' has no weight: ...
    """
    for kind, n in counts.counts.items():
        if n and kind not in weights:
            raise MissingWeightError(kind)
    return sum(n * weights.get(kind, 0.0) for kind, n in counts.counts.items())


def nonscalar_cost(counts: OpCounts) -> int:
    """Baur and Strassen's count: the nonscalar muls and divs, and those of integer powers
    (repeated squaring)."""
    return sum(counts.nonscalar.values())


def weights_with_defaults(weights: Mapping[str, float] | None) -> dict[str, float]:
    """:data:`DEFAULT_WEIGHTS` overridden by ``weights`` (e.g. a spec's cost_weights).

    A partial mapping is merged with the defaults; an unknown kind is a ``ValueError``
    and an op with a weight neither here nor in the defaults a
    :class:`MissingWeightError`.

    >>> w = weights_with_defaults({"mul": 3})
    >>> w["mul"], w["add"], w["div"]
    (3.0, 1.0, 4.0)
    """
    out = dict(DEFAULT_WEIGHTS)
    if weights:
        for kind, w in weights.items():
            if kind not in OP_NAMES:
                raise ValueError(f"unknown op kind {kind!r}")
            out[kind] = float(w)
    for kind in OP_NAMES:
        if kind not in out:
            raise MissingWeightError(kind)
    return out


def _weight(weights: Mapping[str, float], kind: str) -> float:
    if kind not in weights:
        raise MissingWeightError(kind)
    return weights[kind]


# --- Griewank's per-op bound --------------------------------------------------------------


def rule_costs() -> dict[str, OpCounts]:
    """The ops each op's reverse rule (``Op.vjp``) executes, measured by running it.

    Every rule runs once on counted numbers that depend on the variables (so every
    branch of the rule that can count does); ops without a rule are left out.
    """
    out: dict[str, OpCounts] = {}
    for op in OP_LIST:
        if op.vjp is None:
            continue
        args = [var(0.7), var(3.0)][: op.arity]
        if op.name == "pow":
            args = [var(0.7), var(3.0)]
        value = op.forward(*(a.v for a in args))
        out_num = var(float(value))
        counter = Counter()
        with counter.scope("rule"):
            op.vjp(var(1.3), out_num, *args)
        out[op.name] = counter.totals()
    return out


def adjoint_arity(name: str) -> int:
    """How many operands of the op receive an adjoint (a pow's exponent gets none)."""
    return 1 if name == "pow" else OPS[name].arity


def per_op_bound(weights: Mapping[str, float]) -> tuple[float, str]:
    """Griewank's per-op bound on the ratio of generic reverse mode, for these weights.

    For each op kind the forward op, the ops of its reverse rule (measured by
    :func:`rule_costs`) and the ``adjoint_arity − 1`` additions that accumulating
    adjoints costs per op on average (every value but the output is used at least once,
    so a circuit needs at most Σ(arity − 1) accumulating additions) are weighed against
    the forward op alone; the largest quotient bounds the ratio of any circuit without
    dead code. Returns the bound and the op kind that attains it. Declared units and
    comparisons are left out (no generic rule applies to them). With unit weights the
    largest is the division's 5, Griewank's constant.
    """
    best, which = 0.0, ""
    w_add = _weight(weights, "add")
    for name, counts in rule_costs().items():
        if OPS[name].cost_class in ("declared", "compare"):
            continue
        w = _weight(weights, name)
        if w <= 0:
            continue
        q = (w + weighted_cost(counts, weights) + (adjoint_arity(name) - 1) * w_add) / w
        if q > best:
            best, which = q, name
    return best, which


# --- the models -----------------------------------------------------------------------


def cost_models(
    source: Source,
    weights: Mapping[str, float] | None = None,
    *,
    f_phases: Iterable[str] = F_PHASES,
    grad_phases: Iterable[str] = GRAD_PHASES,
) -> dict[str, ModelCost]:
    """Every cost model's cost of f, of f and ∇f, ratio, bound and verdict.

    ``source`` is a Counter (buckets keyed (phase, layer, part)) or a mapping of phase to
    OpCounts (then ``flop``, which needs the bucket parts, has cost 0). ``weights``
    override :data:`DEFAULT_WEIGHTS` for the ``weighted`` model.
    """
    f_phases, grad_phases = tuple(f_phases), tuple(grad_phases)
    f = _phase_totals(source, f_phases)
    g = _phase_totals(source, grad_phases)
    both = f + g
    out: dict[str, ModelCost] = {}

    out["unit"] = ModelCost(
        "unit", f.total, both.total, UNIT_BOUND,
        "Griewank 1989; lecture Theorems 2.1 and 3.1",
        note="every op counts 1",
    )

    non_rational = {
        k: n for k, n in f.counts.items()
        if n and OPS[k].cost_class in NON_RATIONAL_CLASSES and k not in RATIONAL_OPS
    }
    non_rational_grad = {
        k: n for k, n in both.counts.items()
        if n and OPS[k].cost_class in NON_RATIONAL_CLASSES and k not in RATIONAL_OPS
    }
    detail: dict[str, float] = {f"f:{k}": n for k, n in non_rational.items()}
    detail.update({f"f_and_grad:{k}": n for k, n in non_rational_grad.items()})
    applies = not non_rational_grad
    note = "nonscalar mul and div only; add, sub, neg and scalings are free"
    if not applies:
        note += ("; outside the theorem's rational model: "
                 + ", ".join(f"{k} {n}" for k, n in non_rational_grad.items())
                 + " (f and ∇f) shown apart")
    out["nonscalar"] = ModelCost(
        "nonscalar", nonscalar_cost(f), nonscalar_cost(both), NONSCALAR_BOUND,
        "Baur and Strassen 1983", applies=applies, note=note, detail=detail,
    )

    w = weights_with_defaults(weights)
    w_bound, w_op = per_op_bound(w)
    out["weighted"] = ModelCost(
        "weighted", weighted_cost(f, w), weighted_cost(both, w), w_bound,
        "Griewank's per-op argument for these weights",
        note=f"cost per op kind ({'spec cost_weights over ' if weights else ''}defaults); "
             f"bound set by {w_op}",
        detail={f"weight:{k}": v for k, v in w.items() if k in both.nonzero()},
    )

    f_mm = _matmul_muls(source, f_phases)
    g_mm = _matmul_muls(source, grad_phases)
    if f_mm is None or g_mm is None:
        out["flop"] = ModelCost("flop", 0, 0, FLOP_BOUND, "PyTorch FlopCounterMode",
                                applies=False, note="needs the bucket parts of a run")
    else:
        left_out = both.total - (f_mm + g_mm)  # muls of the products are m·n·k
        out["flop"] = ModelCost(
            "flop", 2 * f_mm, 2 * (f_mm + g_mm), FLOP_BOUND,
            "PyTorch FlopCounterMode; Kaplan et al. 2020 (6N)",
            applies=bool(f_mm),
            note=("2·m·n·k per matrix product, every other op free"
                  if f_mm else "no matrix products: the convention counts nothing"),
            detail={"unit_ops_not_in_products": left_out},
        )

    m_bound, m_op = per_op_bound(MOVES)
    out["memory"] = ModelCost(
        "memory", weighted_cost(f, MOVES), weighted_cost(both, MOVES), m_bound,
        "Griewank's MOVES; per-op argument",
        note=f"values fetched and stored, arity + 1 per op; bound set by {m_op}",
        detail={"f:fetches": weighted_cost(f, FETCHES),
                "f:stores": weighted_cost(f, MOVES) - weighted_cost(f, FETCHES),
                "f_and_grad:fetches": weighted_cost(both, FETCHES),
                "f_and_grad:stores": weighted_cost(both, MOVES) - weighted_cost(both, FETCHES)},
    )
    return out


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


# --- published constants ------------------------------------------------------------------


@dataclass(frozen=True)
class Published:
    """A published constant: what it states, where, under which model, its bound, and
    what it is about (``scope``: ``any`` computation, an ``mlp``, or one named circuit
    such as ``product``)."""

    statement: str
    source: str
    model: str
    bound: float
    scope: str = "any"


PUBLISHED: tuple[Published, ...] = (
    Published("L(f, ∇f) ≤ 3·L(f), L = nonscalar mul/div of any rational circuit",
              "Baur & Strassen 1983", "nonscalar", 3.0),
    Published("Speelpenning's x1⋯xn: n−1 for f, 3n−5 for f and ∇f (ratio → 3)",
              "Speelpenning 1980; Baur & Strassen 1983", "nonscalar", 3.0, "product"),
    Published("reverse mode: gradient at most 5× the ops of f",
              "Griewank 1989; Griewank & Walther 2008", "unit", 5.0),
    Published("Theorem 3.1: any arithmetic circuit, f and ∇f within 5× of f",
              "lecture notes (after [1], [2])", "unit", 5.0),
    Published("Theorem 2.1: an MLP with cost(h') ≤ 5·cost(h), within 5× of f",
              "lecture notes", "unit", 5.0, "mlp"),
    Published("a matrix product costs 2·m·n·k; backward = 2× forward",
              "PyTorch FlopCounterMode", "flop", 3.0, "mlp"),
    Published("training costs 6N per token: 2N forward, 4N backward",
              "Kaplan et al. 2020", "flop", 3.0, "mlp"),
)


def published_rows(models: Mapping[str, ModelCost], subject: str = "mlp") -> list[dict[str, Any]]:
    """The published constants, each beside the ratio measured under its model.

    ``subject`` is what was measured: ``mlp`` for a run, or the circuit's name; a
    constant about something else (e.g. Speelpenning's product, for an MLP) gets no
    measured ratio.
    """
    rows = []
    for p in PUBLISHED:
        m = models.get(p.model)
        if p.scope not in ("any", subject):
            m = None
        ratio = None if m is None else m.ratio
        rows.append({
            "statement": p.statement, "source": p.source, "model": p.model,
            "bound": p.bound, "measured_ratio": ratio,
            "holds": within(ratio, p.bound),
            "applies": None if m is None else m.applies,
        })
    return rows


# --- pure renderers -------------------------------------------------------------------------


def fmt_number(x: float | None, digits: int = 4) -> str:
    """A count with thousands separators, a ratio with ``digits`` decimals, ``–`` for None."""
    if x is None:
        return "–"
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:.{digits}f}"


def _verdict(holds: bool | None, applies: bool = True) -> str:
    if holds is None:
        return "n/a"
    text = "holds" if holds else "VIOLATED"
    return text if applies else f"{text} (outside hypothesis)"


def to_markdown(models: Mapping[str, ModelCost], timing: Any = None) -> str:
    """A Markdown table: one row per model (and the clock, when ``timing`` is given:
    any object with ``forward_s``, ``forward_backward_s`` and ``ratio``)."""
    lines = [
        "| model | cost(f) | cost(f, ∇f) | ratio | bound | verdict | source |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    for name, m in models.items():
        lines.append(
            f"| {name} | {fmt_number(m.cost_f)} | {fmt_number(m.cost_f_and_grad)} | "
            f"{fmt_number(m.ratio)} | {fmt_number(m.bound)} | {_verdict(m.holds, m.applies)} "
            f"| {m.source} |"
        )
    if timing is not None:
        lines.append(
            f"| clock (numpy) | {timing.forward_s * 1e6:.1f} µs | "
            f"{timing.forward_backward_s * 1e6:.1f} µs | {timing.ratio:.4f} | – | "
            "measured | median of repeats |"
        )
    return "\n".join(lines) + "\n"


def published_markdown(models: Mapping[str, ModelCost], subject: str = "mlp") -> str:
    """A Markdown table of the published constants beside the measured ratios."""
    lines = [
        "| statement | source | model | bound | measured | verdict |",
        "|---|---|---|---:|---:|---|",
    ]
    for r in published_rows(models, subject):
        lines.append(
            f"| {r['statement']} | {r['source']} | {r['model']} | {fmt_number(r['bound'])} | "
            f"{fmt_number(r['measured_ratio'])} | "
            f"{_verdict(r['holds'], r['applies'] is not False)} |"
        )
    return "\n".join(lines) + "\n"
