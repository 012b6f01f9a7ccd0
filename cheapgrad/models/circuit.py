"""A circuit: a function of named scalar inputs computed on counted numbers, with the
independent evaluations that check its gradient.

Example::

    >>> c = Circuit("sq", ("x",), (3.0,), fn=lambda ins: ins[0] * ins[0])
    >>> from cheapgrad.core.number import var
    >>> c.fn([var(v) for v in c.values]).v
    9.0
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cheapgrad.core.number import Num
from cheapgrad.models.spec import Spec

Function = Callable[[Sequence[Num]], Num]


@dataclass(frozen=True)
class Circuit:
    """A function of named scalar inputs, computed on counted numbers.

    ``fn`` takes the list of inputs (counted numbers, in the order of ``inputs``) and
    returns the output. ``reference``, when given, is an independent closed form of the
    gradient in numpy (``values -> gradient``), ``numpy_fn`` an independent float
    evaluation of f used by the central-difference check (otherwise ``fn`` is run
    uncounted), ``complex_fn`` the same on complex input, which makes the check a complex
    step (exact to rounding, however small the gradient is next to f), ``batch_fn`` f on
    the rows of a (k, d) array, float or complex (many points per call, uncounted).
    ``hessian``, when given, is an independent closed form of the Hessian in numpy.
    ``spec``, for a
    circuit that computes an MLP spec's loss, lets analysis put the hand-written backprop
    beside it.
    """

    name: str
    inputs: tuple[str, ...]
    values: tuple[float, ...]
    fn: Function
    description: str = ""
    reference: Callable[[np.ndarray], np.ndarray] | None = None
    reference_name: str = "closed form"
    numpy_fn: Callable[[np.ndarray], float] | None = None
    complex_fn: Callable[[np.ndarray], complex] | None = None
    batch_fn: Callable[[np.ndarray], np.ndarray] | None = None
    source: str | None = None
    spec: Spec | None = None
    hessian: Callable[[np.ndarray], np.ndarray] | None = None
