"""Weights per op kind, and Griewank's per-op bound for any weights.

The ``weighted`` and ``memory`` cost models price each op kind: by its default weight,
a spec's ``cost_weights`` or a weights file (``weighted``), or by the values it moves
(``memory``).
Every weight comes from the op table (:mod:`cheapgrad.core.ops`); a kind with no weight
is an error, never a free op.

Example::

    >>> w = weights_with_defaults({"mul": 3})
    >>> w["mul"], per_op_bound(weights_with_defaults(None))[1]
    (3.0, 'mul')
"""

from __future__ import annotations

from collections.abc import Mapping

from cheapgrad.core.counter import Counter, OpCounts
from cheapgrad.core.number import var
from cheapgrad.core.ops import OP_LIST, OP_NAMES, OPS
from cheapgrad.errors import CheapgradError

#: Default cost per op kind of the ``weighted`` model, relative to an add: each op's
#: ``weight`` in the op table (:mod:`cheapgrad.core.ops`, which gives the sources: the
#: counted-float package's consensus scalar latencies). Measure your machine's with
#: ``cheapgrad calibrate`` and give them with ``--weights FILE`` or ``cost_weights``.
DEFAULT_WEIGHTS: dict[str, float] = {op.name: op.weight for op in OP_LIST}

#: MOVES per op kind: operands fetched plus the result stored (a comparison's result
#: is not stored), each op's ``moves`` in the op table.
MOVES: dict[str, float] = {op.name: float(op.moves) for op in OP_LIST}

#: Values each op fetches (its operands).
FETCHES: dict[str, float] = {op.name: float(op.fetches) for op in OP_LIST}


class MissingWeightError(CheapgradError, ValueError):
    """An op kind that has to be priced has no weight: an error, never a free op."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(
            f"op {kind!r} has no weight: give it one in the op table (its registration in "
            "cheapgrad.core.ops), in the spec's cost_weights or in a weights file")


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
    cheapgrad.analysis.weights.MissingWeightError: op 'mul' has no weight: ...
    """
    for kind, n in counts.counts.items():
        if n and kind not in weights:
            raise MissingWeightError(kind)
    return sum(n * weights.get(kind, 0.0) for kind, n in counts.counts.items())


def weights_with_defaults(weights: Mapping[str, float] | None) -> dict[str, float]:
    """:data:`DEFAULT_WEIGHTS` overridden by ``weights`` (e.g. a spec's cost_weights).

    A partial mapping is merged with the defaults; an unknown kind is a ``ValueError``
    and an op with a weight neither here nor in the defaults a
    :class:`MissingWeightError`.

    >>> w = weights_with_defaults({"mul": 3})
    >>> w["mul"], w["add"], w["div"]
    (3.0, 1.0, 5.5)
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
