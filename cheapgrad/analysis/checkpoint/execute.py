"""Running a schedule on a chain: every step evaluation on counted numbers, every
stored value measured.

:func:`execute` carries the actions of :func:`~.schedules.actions` out on a
:class:`~.chain.Chain` and measures, by running them:

* the taped and untaped step evaluations;
* the ops, counted per category (``taped``, ``untaped``, ``reverse``) with the layers'
  own buckets;
* the peak of stored values: the values held at once by the snapshots, the tapes and
  the current state (while a step runs, its input and its output), each stored block
  once (:mod:`cheapgrad.engines.memory`); the parameters, their gradients, the targets
  and the adjoint being carried are the same for every strategy and not counted;
* the most snapshots held at once (x₀ included), and the gradient the reverse rules left.

Example::

    >>> from cheapgrad.analysis.checkpoint.mlp import mlp_chain
    >>> from cheapgrad.analysis.checkpoint.schedules import Strategy
    >>> from cheapgrad.models.spec import spec_from_dict
    >>> chain = mlp_chain(spec_from_dict({"input_dim": 2, "hidden": [3, 3, 3],
    ...                                  "activation": "tanh"}))
    >>> r = execute(chain, Strategy("revolve", 2))
    >>> r.steps, r.snapshots, r.taped, r.untaped
    (4, 2, 4, 4)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cheapgrad.analysis.checkpoint.chain import Chain
from cheapgrad.analysis.checkpoint.schedules import Strategy, actions
from cheapgrad.core.counter import Counter, OpCounts, gc_paused
from cheapgrad.core.number import Num
from cheapgrad.engines.memory import blocks

#: The op categories of a schedule's counts.
CATEGORIES = ("taped", "untaped", "reverse")


class Ledger:
    """Stored blocks held, by who holds them; the peak of the values of the distinct
    ones. A holder is given the blocks of what it holds (:func:`ids`), so that a state
    held twice (the current state and a snapshot of it) is walked once."""

    __slots__ = ("refs", "held", "total", "peak")

    def __init__(self) -> None:
        self.refs: dict[int, list[int]] = {}  # id -> [holders, size]
        self.held: dict[Any, list[tuple[int, int]]] = {}
        self.total = 0
        self.peak = 0

    def hold(self, key: Any, ids: list[tuple[int, int]]) -> None:
        self.held[key] = ids
        refs = self.refs
        for i, size in ids:
            entry = refs.get(i)
            if entry is None:
                refs[i] = [1, size]
                self.total += size
            else:
                entry[0] += 1
        if self.total > self.peak:
            self.peak = self.total

    def drop(self, key: Any) -> None:
        refs = self.refs
        for i, _ in self.held.pop(key, ()):
            entry = refs[i]
            entry[0] -= 1
            if not entry[0]:
                del refs[i]
                self.total -= entry[1]


def ids(obj: Any) -> list[tuple[int, int]]:
    """The stored blocks of ``obj``: ``(id, size)``, each once."""
    return list(dict(blocks(obj)).items())


@dataclass
class ScheduleRun:
    """What running one strategy on one chain measured."""

    strategy: str
    steps: int
    snapshots: int
    taped: int
    untaped: int
    peak_values: int
    counts: dict[str, OpCounts]
    loss: float
    gradient: np.ndarray = field(repr=False)

    @property
    def evaluations(self) -> int:
        """Step evaluations in all, taped and untaped."""
        return self.taped + self.untaped

    @property
    def cost(self) -> int:
        """cost(f, ∇f): every op the schedule ran."""
        return sum(c.total for c in self.counts.values())


def execute(chain: Chain, strategy: Strategy) -> ScheduleRun:
    """Run ``strategy``'s schedule on ``chain`` (see the module docstring)."""
    with gc_paused():
        return _execute(chain, strategy)


def _execute(chain: Chain, strategy: Strategy) -> ScheduleRun:
    steps = chain.steps
    counters = {c: Counter() for c in CATEGORIES}
    ledger = Ledger()
    snaps: dict[int, Any] = {}
    tapes: dict[int, Any] = {}
    current: Any = chain.initial
    at = 0  # the index of the current state; -1 when there is none
    ledger.hold("current", ids(current))
    adjoint: Any = None
    loss: Any = None
    taped = untaped = most_snaps = 0
    for kind, i in actions(strategy, len(steps)):
        if kind == "advance" or kind == "tape":
            if at != i:
                raise AssertionError(f"{strategy.name}: step {i} run on state {at}")
            tape = kind == "tape"
            out, record = steps[i].run(current, counters["taped" if tape else "untaped"],
                                       tape)
            if tape:
                taped += 1
                tapes[i] = record
                ledger.hold(("tape", i), ids(record))
            else:
                untaped += 1
            ledger.hold("next", ids(out))
            ledger.drop("current")
            ledger.held["current"] = ledger.held.pop("next")
            current, at = out, i + 1
            if at == len(steps):
                loss = out
        elif kind == "reverse":
            adjoint = steps[i].reverse(tapes.pop(i), adjoint, counters["reverse"])
            ledger.drop(("tape", i))
            ledger.drop("current")
            ledger.held["current"] = []
            current, at = None, -1
        elif kind == "store":
            if at != i:
                raise AssertionError(f"{strategy.name}: state {i} stored at state {at}")
            snaps[i] = current
            ledger.hold(("snap", i), ledger.held["current"])
            most_snaps = max(most_snaps, len(snaps))
        elif kind == "restore":
            ledger.drop("current")
            current, at = snaps[i], i
            ledger.hold("current", ledger.held[("snap", i)])
        elif kind == "free":
            del snaps[i]
            ledger.drop(("snap", i))
        else:  # pragma: no cover - the schedules make no other action
            raise AssertionError(kind)
    return ScheduleRun(
        strategy=strategy.name, steps=len(steps), snapshots=most_snaps, taped=taped,
        untaped=untaped, peak_values=ledger.peak,
        counts={c: counters[c].totals() for c in CATEGORIES},
        loss=float(loss.v) if isinstance(loss, Num) else (
            float(loss) if isinstance(loss, np.ndarray) and loss.shape == () else float("nan")),
        gradient=chain.gradient().copy(),
    )


def forward_only(chain: Chain) -> tuple[OpCounts, int]:
    """cost(f) and the forward pass's own peak of stored values: every step run untaped,
    each state dropped once the next one is made."""
    counter = Counter()
    ledger = Ledger()
    state = chain.initial
    ledger.hold("current", ids(state))
    with gc_paused():
        for step in chain.steps:
            state, _ = step.run(state, counter, False)
            ledger.hold("next", ids(state))
            ledger.drop("current")
            ledger.held["current"] = ledger.held.pop("next")
    return counter.totals(), ledger.peak
