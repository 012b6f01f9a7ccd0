"""A chain of steps: what checkpointing schedules run.

A :class:`Chain` is an initial state and a list of steps x₀ ↦ x₁ ↦ … ↦ x_l, the last
one ending in the scalar loss. Each step computes on counted numbers
(:class:`~cheapgrad.core.number.Num`) and has two rules (the :class:`Step` protocol):

* ``run(state, counter, tape)``: the next state, and, when ``tape`` is true, the
  step's *tape* (the record its reverse rule needs; ``None`` untaped). Both runs execute
  the same ops; an untaped run keeps nothing.
* ``reverse(record, adjoint, counter)``: from the adjoint of the step's output (``None``
  for the last step, whose output is the loss), store the step's parameter gradients and
  return the adjoint of its input.

An MLP is the chain of its l = L + 1 layers (:mod:`.mlp`); a transformer plugs in the
same way, one step per block with the embedding first and the head with the loss last.
Stored values are measured by :func:`values`, in blocks (a vector shared by a state
and a tape is stored once; :mod:`cheapgrad.engines.memory`).

Example::

    >>> from cheapgrad.core.number import const
    >>> x = [const(1.0), const(2.0)]
    >>> values([[x], ([const(3.0)], x, None)])
    3
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from cheapgrad.core.counter import Counter
from cheapgrad.engines.memory import stored_values


class Step(Protocol):
    """One step of a chain (see the module docstring)."""

    #: A short label, e.g. ``layer 3``.
    name: str

    def run(self, state: Any, counter: Counter, tape: bool) -> tuple[Any, Any]:
        """The next state, and the tape when ``tape`` (else ``None``)."""
        ...

    def reverse(self, record: Any, adjoint: Any, counter: Counter) -> Any:
        """The adjoint of the input state; parameter gradients are stored on the way."""
        ...


class Chain:
    """An initial state, the steps, and how to read the gradient they stored."""

    __slots__ = ("name", "initial", "steps", "gradient")

    def __init__(self, name: str, initial: Any, steps: list[Step],
                 gradient: Callable[[], np.ndarray]) -> None:
        self.name = name
        self.initial = initial
        self.steps = steps
        #: The parameters' gradient as one flat vector, as the last reverse sweep left it.
        self.gradient = gradient

    def __len__(self) -> int:
        return len(self.steps)

    def __repr__(self) -> str:
        return f"Chain({self.name!r}, {len(self.steps)} steps)"


def values(obj: Any) -> int:
    """How many values ``obj`` holds (:func:`cheapgrad.engines.memory.stored_values`)."""
    return stored_values(obj)
