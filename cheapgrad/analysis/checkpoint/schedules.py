"""Checkpointing strategies and their schedules: what to run, in which order, on a chain
of ``l`` steps (states x₀ … x_l).

A schedule is a sequence of actions ``(kind, i)``:

* ``advance i``: run step i untaped on the current state xᵢ (it becomes xᵢ₊₁);
* ``tape i``: run step i taped (its tape is kept until ``reverse i``);
* ``reverse i``: run step i's reverse rule on its tape and the adjoint of xᵢ₊₁, then
  drop the tape (and the current state, now stale);
* ``store i`` / ``free i``: keep the current state xᵢ as a snapshot / drop it;
* ``restore i``: make snapshot i the current state.

The strategies:

* ``store-all``: tape every step, then reverse them all (plain reverse mode);
* ``recompute-all``: keep x₀ only; for each step from the last, run the steps before it
  again from x₀ (t = l(l − 1)/2 untaped evaluations);
* ``segments:K``: PyTorch ``checkpoint_sequential`` — K segments of ⌊l/K⌋ steps (the last
  one takes the rest); the first K − 1 run untaped keeping their inputs, the last is not
  checkpointed; each checkpointed segment runs again taped in the reverse sweep:
  l + (K − 1)·⌊l/K⌋ evaluations in all;
* ``sqrt``: Chen et al. 2016, ``segments:⌈√l⌉``;
* ``revolve:S``: binomial checkpointing with S snapshots (x₀ counted as one), the
  optimal t(l, S) untaped evaluations (:mod:`.binomial`).

Example::

    >>> list(actions(parse_strategy("revolve:2", 3), 3))  # doctest: +NORMALIZE_WHITESPACE
    [('store', 0), ('advance', 0), ('store', 1), ('advance', 1), ('tape', 2),
     ('reverse', 2), ('restore', 1), ('tape', 1), ('reverse', 1), ('free', 1),
     ('restore', 0), ('tape', 0), ('reverse', 0)]
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from cheapgrad.analysis.checkpoint.binomial import split, untaped
from cheapgrad.errors import CheapgradError
from cheapgrad.util import did_you_mean

#: One action of a schedule: ``(kind, step or state index)``.
Action = tuple[str, int]

#: The strategies by name; ``segments`` and ``revolve`` take a number after a colon.
KINDS = ("store-all", "recompute-all", "segments", "sqrt", "revolve")
_WITH_NUMBER = {"segments": "K", "revolve": "S"}


class ScheduleError(CheapgradError):
    """A strategy that does not exist or does not fit the chain."""


@dataclass(frozen=True)
class Strategy:
    """A strategy and its number (K segments, S snapshots; ``None`` for the others)."""

    kind: str
    number: int | None = None

    @property
    def name(self) -> str:
        """``revolve:4``, ``sqrt``…"""
        return self.kind if self.number is None else f"{self.kind}:{self.number}"


def parse_strategy(text: str, steps: int) -> Strategy:
    """The strategy ``text`` names, checked against a chain of ``steps`` steps.

    >>> parse_strategy("segments:3", 10), parse_strategy("sqrt", 10).name
    (Strategy(kind='segments', number=3), 'sqrt')
    >>> parse_strategy("revolve:0", 10)
    Traceback (most recent call last):
    ...
    cheapgrad.analysis.checkpoint.schedules.ScheduleError: revolve:0: S must be at least 1
    """
    kind, colon, rest = text.strip().partition(":")
    if kind not in KINDS:
        names = [*KINDS[:2], "segments:K", "sqrt", "revolve:S"]
        raise ScheduleError(f"unknown checkpointing strategy '{text}'"
                            f"{did_you_mean(kind, KINDS)}; strategies: {', '.join(names)}")
    letter = _WITH_NUMBER.get(kind)
    if letter is None:
        if colon:
            raise ScheduleError(f"{text}: '{kind}' takes no number")
        return Strategy(kind)
    try:
        number = int(rest)
    except ValueError:
        raise ScheduleError(f"{text}: '{kind}' needs a whole number {letter}, as in "
                            f"{kind}:2") from None
    if number < 1:
        raise ScheduleError(f"{text}: {letter} must be at least 1")
    if kind == "segments" and number > steps:
        raise ScheduleError(f"{text}: K = {number} segments is more than the chain's "
                            f"{steps} steps")
    return Strategy(kind, number)


def segments_of(strategy: Strategy, steps: int) -> int:
    """The number of segments of ``segments:K`` and ``sqrt`` (⌈√l⌉)."""
    if strategy.kind == "sqrt":
        return min(steps, math.isqrt(steps - 1) + 1 if steps > 1 else 1)
    assert strategy.number is not None
    return strategy.number


def predicted_untaped(strategy: Strategy, steps: int) -> int:
    """How many untaped step evaluations the schedule runs (every step is also taped
    once): the formula each strategy is built on, checked against the run by the tests.

    >>> predicted_untaped(Strategy("revolve", 5), 100), predicted_untaped(Strategy("sqrt"), 16)
    (316, 12)
    """
    if strategy.kind == "store-all":
        return 0
    if strategy.kind == "recompute-all":
        return steps * (steps - 1) // 2
    if strategy.kind == "revolve":
        assert strategy.number is not None
        return untaped(steps, strategy.number)
    k = segments_of(strategy, steps)
    return (k - 1) * (steps // k)


def actions(strategy: Strategy, steps: int) -> Iterator[Action]:
    """The schedule of ``strategy`` on ``steps`` steps (see the module docstring)."""
    if strategy.kind == "store-all":
        return _store_all(steps)
    if strategy.kind == "recompute-all":
        return _revolve(steps, 1)
    if strategy.kind == "revolve":
        assert strategy.number is not None
        return _revolve(steps, strategy.number)
    return _segments(steps, segments_of(strategy, steps))


def _store_all(steps: int) -> Iterator[Action]:
    for i in range(steps):
        yield ("tape", i)
    for i in range(steps - 1, -1, -1):
        yield ("reverse", i)


def _segments(steps: int, k: int) -> Iterator[Action]:
    size = steps // k
    starts = [j * size for j in range(k)]  # the last segment runs to the end
    for j in range(k - 1):
        yield ("store", starts[j])
        for i in range(starts[j], starts[j + 1]):
            yield ("advance", i)
    for i in range(starts[-1], steps):
        yield ("tape", i)
    for i in range(steps - 1, starts[-1] - 1, -1):
        yield ("reverse", i)
    for j in range(k - 2, -1, -1):
        yield ("restore", starts[j])
        for i in range(starts[j], starts[j + 1]):
            yield ("tape", i)
        for i in range(starts[j + 1] - 1, starts[j] - 1, -1):
            yield ("reverse", i)
        yield ("free", starts[j])


def _revolve(steps: int, snapshots: int) -> Iterator[Action]:
    """Binomial checkpointing, iteratively: reversing steps [a, b) from the snapshot at
    a with s snapshots (that one included) advances ``split`` steps to m, stores x_m,
    reverses [m, b) with s − 1, frees x_m, then reverses [a, m) with s. With one
    snapshot, each step is reached again from x_a."""
    yield ("store", 0)
    stack: list[tuple[str, int, int, int]] = [("reverse", 0, steps, snapshots)]
    current = 0  # the index of the current state; -1 when stale
    while stack:
        task, a, b, s = stack.pop()
        if task == "free":
            yield ("free", a)
            continue
        if task == "one":  # reach step b from x_a, tape and reverse it
            if current != a:
                yield ("restore", a)
            for i in range(a, b):
                yield ("advance", i)
            yield ("tape", b)
            yield ("reverse", b)
            current = -1
            continue
        n = b - a
        if n == 1 or s == 1:
            stack.extend(("one", a, j, 0) for j in range(a, b))  # popped last step first
            continue
        m = a + split(n, s)
        if current != a:
            yield ("restore", a)
        for i in range(a, m):
            yield ("advance", i)
        yield ("store", m)
        current = m
        stack.append(("reverse", a, m, s))
        stack.append(("free", m, 0, 0))
        stack.append(("reverse", m, b, s - 1))
