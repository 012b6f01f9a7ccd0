"""Where counted ops go: tallies in buckets keyed by phase, layer and part.

A tally is a list of ``TALLY_SIZE`` integers laid out by the op table
(:mod:`cheapgrad.core.ops`): the unit count of each op, then its nonscalar count. The
counted numbers (:mod:`cheapgrad.core.number`) add to the *active* tally of their
thread (:mod:`cheapgrad.core.state`); :meth:`Counter.scope` makes one bucket of a counter the
active tally for a block and restores the previous one after it, so counts are scoped
and two runs in one process never mix. Ops executed outside any scope are not counted.

Example::

    >>> from cheapgrad.core.number import var
    >>> c = Counter()
    >>> x = var(3.0)
    >>> with c.scope("forward", layer=1):
    ...     y = x * x
    >>> with c.scope("backward"):
    ...     z = x + x
    >>> c.totals("forward").nonzero(), c.totals().total, c.keys()
    ({'mul': 1}, 2, [('forward', 1, None), ('backward', None, None)])
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cheapgrad.core.ops import N_OPS, NONSCALAR_KINDS, OP_NAMES, OPS, TALLY_SIZE
from cheapgrad.core.state import TALLY, pop, push

Key = tuple[str, Any, Any]

_ZERO_TALLY: list[int] = [0] * TALLY_SIZE


@dataclass(frozen=True)
class OpCounts:
    """Op counts by kind (all registered kinds, zeros included) and, for the ops with a
    nonscalar policy (mul, div and pow), the nonscalar operations among them
    (:data:`cheapgrad.core.ops.NONSCALAR_KINDS`).

    >>> from cheapgrad.core.number import var
    >>> c = Counter()
    >>> with c.scope("forward"):
    ...     y = var(2.0) * var(3.0) + 1.0
    >>> t = c.totals()
    >>> t.nonzero(), t.nonscalar["mul"], t.total
    ({'add': 1, 'mul': 1}, 1, 2)
    """

    counts: dict[str, int]
    nonscalar: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_tally(cls, tally: list[int]) -> OpCounts:
        counts = {name: tally[i] for i, name in enumerate(OP_NAMES)}
        nonscalar = {
            name: tally[N_OPS + i] for i, name in enumerate(OP_NAMES) if name in NONSCALAR_KINDS
        }
        return cls(counts, nonscalar)

    @classmethod
    def zero(cls) -> OpCounts:
        return cls.from_tally(_ZERO_TALLY)

    @property
    def total(self) -> int:
        """Unit cost: every op counts one."""
        return sum(self.counts.values())

    def __add__(self, other: OpCounts) -> OpCounts:
        return OpCounts(
            {k: v + other.counts.get(k, 0) for k, v in self.counts.items()},
            {k: v + other.nonscalar.get(k, 0) for k, v in self.nonscalar.items()},
        )

    def nonzero(self) -> dict[str, int]:
        """The kinds with a non-zero count, in op-table order."""
        return {k: v for k, v in self.counts.items() if v}


class _Scope:
    """The context manager of :meth:`Counter.scope`: a class, made once per bucket and
    reused, because engines that count whole arrays open thousands of scopes and a
    generator-based one costs several times more to enter. It makes the bucket its
    thread's active tally (:data:`cheapgrad.core.state.TALLY`) and restores the
    previous one on exit, so it can be entered by several threads at once."""

    __slots__ = ("counter", "key")

    def __init__(self, counter: Counter, key: Key) -> None:
        self.counter = counter
        self.key = key

    def __enter__(self) -> None:
        bucket = self.counter.buckets.get(self.key)
        if bucket is None:
            bucket = self.counter.buckets.setdefault(self.key, _ZERO_TALLY.copy())
        push(bucket)

    def __exit__(self, *exc: object) -> None:
        pop()


class Counter:
    """Collects op counts in buckets keyed by ``(phase, layer, part)``.

    >>> from cheapgrad.core.number import var
    >>> counter = Counter()
    >>> with counter.scope("forward", layer=1, part="matvec"):
    ...     y = var(2.0) * 3.0
    >>> counter.totals(phase="forward").total
    1
    """

    __slots__ = ("buckets", "_scopes")

    def __init__(self) -> None:
        self.buckets: dict[Key, list[int]] = {}
        self._scopes: dict[Key, _Scope] = {}

    def scope(self, phase: str, layer: Any = None, part: Any = None) -> _Scope:
        """Count every op executed inside the block into bucket (phase, layer, part)."""
        key = (phase, layer, part)
        scope = self._scopes.get(key)
        if scope is None:
            scope = self._scopes[key] = _Scope(self, key)
        return scope

    def totals(self, phase: str | None = None, layer: Any = None, part: Any = None) -> OpCounts:
        """Sum the buckets that match every label given (``None`` matches any)."""
        acc = _ZERO_TALLY.copy()
        for (p, lay, prt), tally in self.buckets.items():
            if phase is not None and p != phase:
                continue
            if layer is not None and lay != layer:
                continue
            if part is not None and prt != part:
                continue
            for i, n in enumerate(tally):
                acc[i] += n
        return OpCounts.from_tally(acc)

    def keys(self) -> list[Key]:
        """The bucket keys in the order they were first used."""
        return list(self.buckets)


def count(kind: str, n: int, nonscalar: int = 0) -> None:
    """Add ``n`` ops of ``kind`` to the active tally in one step, ``nonscalar`` of them
    nonscalar: for engines that count many ops at once (a mat-vec by its shape).

    >>> from cheapgrad.core.counter import Counter
    >>> c = Counter()
    >>> with c.scope("forward"):
    ...     count("mul", 12, nonscalar=4)
    >>> c.totals().counts["mul"], c.totals().nonscalar["mul"]
    (12, 4)
    """
    k = OPS[kind].index
    t = TALLY.get()
    t[k] += n
    if nonscalar:
        t[N_OPS + k] += nonscalar


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a block of counted work: counted
    numbers form no cycles, and millions of them make the collector run constantly.

    >>> import gc
    >>> with gc_paused():
    ...     gc.isenabled()
    False
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
