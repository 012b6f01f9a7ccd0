"""Checkpointing, counted: memory traded for recomputation on a chain of steps.

Reverse mode with everything stored (``store-all``) keeps every step's tape until the
reverse sweep; checkpointing keeps some states (snapshots) and runs steps again from
them. :func:`checkpoint` runs strategies (:mod:`.schedules`) on a spec's chain (an
MLP's layers, :mod:`.mlp`; a transformer's embedding, blocks and head,
:mod:`.transformer`), every step on counted numbers (:mod:`.execute`), and compares each
gradient bit for bit with store-all's. The least number of recomputations for a number
of snapshots is Griewank's binomial bound (:mod:`.binomial`).

Example::

    >>> from cheapgrad.models.spec import spec_from_dict
    >>> spec = spec_from_dict({"input_dim": 2, "hidden": [3, 3, 3, 3],
    ...                       "activation": "tanh"})
    >>> r = checkpoint(spec, ["store-all", "revolve:2", "sqrt"])
    >>> [(row.strategy, row.untaped, row.bound, row.identical) for row in r.rows]
    [('store-all', 0, None, True), ('revolve:2', 6, 6, True), ('sqrt', 2, 6, True)]
    >>> r.all_identical
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from cheapgrad.analysis.checkpoint.binomial import untaped
from cheapgrad.analysis.checkpoint.chain import Chain, values
from cheapgrad.analysis.checkpoint.execute import ScheduleRun, execute, forward_only
from cheapgrad.analysis.checkpoint.mlp import mlp_chain
from cheapgrad.analysis.checkpoint.schedules import (
    ScheduleError,
    Strategy,
    parse_strategy,
    predicted_untaped,
)
from cheapgrad.analysis.checkpoint.transformer import predicted_ops, transformer_chain
from cheapgrad.analysis.result import ratio_of
from cheapgrad.analysis.theory import predict, predicted_total
from cheapgrad.core.counter import Counter, gc_paused
from cheapgrad.errors import TooLargeError
from cheapgrad.models.spec import Spec
from cheapgrad.models.transformer import param_shapes
from cheapgrad.models.transformer_spec import TransformerSpec

__all__ = [
    "CheckpointResult", "Row", "ScheduleError", "Strategy", "checkpoint", "default_strategies",
    "estimated_ops", "MAX_EVALUATIONS", "MAX_OPS", "TRANSFORMER_MAX_OPS", "plan",
    "run_strategies", "steps_of",
]

AnySpec = Spec | TransformerSpec

#: The most counted ops :func:`checkpoint` runs unless told otherwise (the scalar
#: engine's limit: every step runs on counted scalars).
MAX_OPS = 30_000_000
#: The same for a transformer, whose steps run on the counted arrays (about 100 times
#: faster per op than counted scalars).
TRANSFORMER_MAX_OPS = 1_000_000_000
#: The most step evaluations it runs in all: on a long chain of narrow steps the
#: bookkeeping of each evaluation, not its ops, is what takes the time (about 10-30 µs).
MAX_EVALUATIONS = 500_000


@dataclass
class Row:
    """One strategy's measurements beside cost(f) and the binomial bound."""

    run: ScheduleRun
    cost_f: int
    #: t(l, S) for the snapshots the schedule held (None for store-all, which holds none).
    bound: int | None
    #: Whether the gradient equals store-all's bit for bit.
    identical: bool

    @property
    def strategy(self) -> str:
        return self.run.strategy

    @property
    def untaped(self) -> int:
        return self.run.untaped

    @property
    def cost_f_and_grad(self) -> int:
        return self.run.cost

    @property
    def ratio(self) -> float:
        """cost(f, ∇f) / cost(f) under this strategy."""
        return ratio_of(self.cost_f, self.run.cost)


@dataclass
class CheckpointResult:
    """Every strategy run on one spec's chain."""

    spec: AnySpec
    steps: int
    cost_f: int
    forward_peak: int
    #: Values of each state x₀ … x_{l−1} (the inputs of the steps) and of each step's tape
    #: with its output.
    state_values: list[int]
    tape_values: list[int]
    rows: list[Row]
    #: The peak of stored values of store-all (the reference every row is compared with).
    store_all_peak: int = 0
    #: Whether store-all's gradient and loss equal the ordinary run's (``cheapgrad run``,
    #: the whole program differentiated at once) bit for bit and its taped and reverse ops
    #: its forward and backward ops; None when not compared (an MLP's chain runs the
    #: scalar engine's own layer rules).
    run_identical: bool | None = None
    #: Store-all's run (whether or not it is one of the rows).
    reference: ScheduleRun | None = field(default=None, repr=False)

    @property
    def all_identical(self) -> bool:
        """Whether every strategy's gradient equals store-all's bit for bit."""
        return all(row.identical for row in self.rows) and self.run_identical is not False

    def memory_bound(self, snapshots: int) -> int:
        """S snapshots of the largest state plus the largest step's tape (with its
        output): what ``revolve:S`` may hold at most."""
        return snapshots * max(self.state_values) + max(self.tape_values)


def default_strategies(steps: int, numbers: Sequence[int] | None = None) -> list[str]:
    """store-all, recompute-all, sqrt, then segments:K and revolve:S for every number
    (default 1 … l; numbers above l are left out for segments).

    >>> default_strategies(3, [1, 4])
    ['store-all', 'recompute-all', 'sqrt', 'segments:1', 'revolve:1', 'revolve:4']
    """
    chosen = list(range(1, steps + 1)) if numbers is None else list(numbers)
    return (["store-all", "recompute-all", "sqrt"]
            + [f"segments:{k}" for k in chosen if k <= steps]
            + [f"revolve:{s}" for s in chosen])


def steps_of(spec: AnySpec) -> int:
    """The steps l of ``spec``'s chain: L + 1 for an MLP, n_layer + 2 for a transformer.

    >>> steps_of(TransformerSpec(vocab=5, n_ctx=3, d_model=4, n_head=2, n_layer=3, d_ff=8))
    5
    """
    if isinstance(spec, TransformerSpec):
        return spec.n_layer + 2
    return len(spec.widths) - 1


def estimated_ops(spec: AnySpec, strategy: Strategy) -> int:
    """The counted ops ``strategy`` will run on ``spec``, from the closed form: f and ∇f
    once, plus every untaped evaluation at the price of the costliest step.

    >>> from cheapgrad.models.spec import spec_from_dict
    >>> spec = spec_from_dict({"input_dim": 4, "hidden": [8, 8], "activation": "tanh"})
    >>> estimated_ops(spec, Strategy("store-all")), estimated_ops(spec, Strategy("revolve", 1))
    (491, 875)
    """
    if isinstance(spec, TransformerSpec):
        total, per = predicted_ops(spec)
        return total + predicted_untaped(strategy, len(per)) * max(per)
    prediction = predict(spec)
    steps = len(spec.widths) - 1
    per_step = [0] * steps
    for (phase, layer, _part), kinds in prediction.items():
        if phase == "forward":
            per_step[layer - 1] += sum(kinds.values())
        elif phase == "loss":
            per_step[-1] += sum(kinds.values())
    return predicted_total(prediction) + predicted_untaped(strategy, steps) * max(per_step)


def plan(spec: AnySpec, strategies: Sequence[str], max_ops: int | None = None
         ) -> list[Strategy]:
    """The strategies ``strategies`` name, checked against ``spec``'s chain and the size
    limit before any work: raises :class:`ScheduleError` for a strategy that does not
    exist or fit, and :class:`TooLargeError` when the estimated ops (:func:`estimated_ops`)
    of all of them, store-all's included, exceed ``max_ops`` (default :data:`MAX_OPS`,
    :data:`TRANSFORMER_MAX_OPS` for a transformer) or their step evaluations
    :data:`MAX_EVALUATIONS`.

    >>> from cheapgrad.models.spec import spec_from_dict
    >>> plan(spec_from_dict({"input_dim": 2, "hidden": [3], "activation": "tanh"}), ["sqrt"])
    [Strategy(kind='sqrt', number=None)]
    """
    steps = steps_of(spec)
    parsed = [parse_strategy(s, steps) for s in strategies]
    default = TRANSFORMER_MAX_OPS if isinstance(spec, TransformerSpec) else MAX_OPS
    limit = default if max_ops is None else max_ops
    estimates = {s: estimated_ops(spec, s) for s in parsed}
    total = sum(estimates.values()) + (0 if Strategy("store-all") in estimates
                                        else estimated_ops(spec, Strategy("store-all")))
    if total > limit:
        worst = max(estimates, key=lambda s: estimates[s])
        raise TooLargeError(
            f"{spec.name}: these strategies would count about {total:,} ops on the chain's "
            f"{steps} steps ({worst.name} alone {estimates[worst]:,}), over the limit of "
            f"{limit:,}; choose more memory (more snapshots or segments), fewer strategies, "
            "or raise --max-ops")
    evaluations = sum(steps + predicted_untaped(s, steps) for s in parsed)
    if evaluations > MAX_EVALUATIONS:
        raise TooLargeError(
            f"{spec.name}: these {len(parsed):,} strategies would run {evaluations:,} step "
            f"evaluations on the chain's {steps} steps, over the limit of "
            f"{MAX_EVALUATIONS:,}; choose fewer numbers (--snapshots 1,2,4,8) or strategies")
    return parsed


def checkpoint(spec: AnySpec, strategies: Sequence[str], *, max_ops: int | None = None
               ) -> CheckpointResult:
    """Run every strategy of ``strategies`` (names as :func:`parse_strategy` reads them)
    on ``spec``'s chain, checked first by :func:`plan`; store-all runs first in any
    case, as the reference gradient. A transformer's is also compared with the ordinary
    run of the whole program (:func:`compare_with_run`)."""
    parsed = plan(spec, strategies, max_ops)
    if isinstance(spec, TransformerSpec):
        from cheapgrad.analysis.transformer import run_transformer

        result = run_strategies(transformer_chain(spec), spec, parsed)
        run = run_transformer(spec, "array", check=False)
        assert run.gradients is not None and run.loss is not None
        compare_with_run(result, spec, run.gradients, run.loss,
                         run.phases["forward"].total, run.phases["backward"].total)
        return result
    return run_strategies(mlp_chain(spec), spec, parsed)


def compare_with_run(result: CheckpointResult, spec: TransformerSpec,
                     gradients: dict[str, np.ndarray], loss: float, forward: int,
                     backward: int) -> None:
    """Set ``result.run_identical``: store-all's gradient and loss equal those of the
    ordinary run (``gradients`` by parameter name, ``loss``) bit for bit, and its taped and
    reverse ops equal the run's ``forward`` and ``backward`` ops."""
    reference = result.reference
    flat = np.concatenate([gradients[n].ravel() for n, _ in param_shapes(spec)])
    result.run_identical = (
        reference is not None and bool(np.array_equal(reference.gradient, flat))
        and reference.loss == loss and reference.counts["taped"].total == forward
        and reference.counts["reverse"].total == backward)


def run_strategies(chain: Chain, spec: AnySpec, strategies: Sequence[Strategy]
                   ) -> CheckpointResult:
    """Run ``strategies`` on ``chain`` (no size check) and compare with store-all."""
    cost_f, forward_peak = forward_only(chain)
    state_values, tape_values = _sizes(chain)
    reference = execute(chain, Strategy("store-all"))
    rows = []
    for strategy in strategies:
        run = reference if strategy == Strategy("store-all") else execute(chain, strategy)
        bound = untaped(run.steps, run.snapshots) if run.snapshots else None
        rows.append(Row(run, cost_f.total, bound,
                        bool(np.array_equal(run.gradient, reference.gradient))
                        and run.loss == reference.loss))
    return CheckpointResult(spec, len(chain), cost_f.total, forward_peak, state_values,
                            tape_values, rows, reference.peak_values, reference=reference)


def _sizes(chain: Chain) -> tuple[list[int], list[int]]:
    """The values of every step's input state and of its tape with its output (what a
    taped step holds when it ends: the loss step's output, the loss, is not in its
    tape), measured by running each step taped once (ops counted in a counter thrown
    away)."""
    counter = Counter()
    states, tapes = [], []
    state = chain.initial
    with gc_paused():
        for step in chain.steps:
            states.append(values(state))
            state, record = step.run(state, counter, True)
            tapes.append(values([record, state]))  # a hidden step's output is in its tape
    return states, tapes
