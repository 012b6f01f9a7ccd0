"""What every measurement shares: cost(f), cost(f, ∇f), their ratio and the bound.

Runs, circuits, sweep cells, cost models and audits all answer one question, whether
cost(f, ∇f) <= bound · cost(f); :class:`Ratio` answers it once, with one bound
(:data:`BOUND`) and one tolerance (:data:`TOLERANCE`) for comparing a float ratio with
it.

Example::

    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Toy(Ratio):
    ...     cost_f: int
    ...     cost_f_and_grad: int
    ...     bound: float = BOUND
    >>> t = Toy(10, 50)
    >>> t.ratio, t.holds, Toy(10, 51).holds
    (5.0, True, False)
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Protocol

#: The unit-cost bound of the cheap-gradient theorem: Griewank (1989) for any circuit,
#: the lecture's Theorems 2.1 (backprop) and 3.1 (reverse mode).
BOUND = 5.0
#: Absolute slack when a ratio computed in floating point is compared with a bound, so
#: that an exact 5 computed as 5.000000000000001 still holds.
TOLERANCE = 1e-12


def within(ratio: float | Fraction | None, bound: float | None) -> bool | None:
    """Whether ``ratio <= bound`` up to :data:`TOLERANCE`; ``None`` when either is
    missing (a model under which f costs nothing has no ratio).

    Example::

        >>> within(5.000000000000001, 5.0), within(5.01, 5.0), within(None, 5.0)
        (True, False, None)
    """
    if ratio is None or bound is None:
        return None
    return ratio <= bound + TOLERANCE


def ratio_of(cost_f: float, cost_f_and_grad: float) -> float:
    """cost(f, ∇f) / cost(f); a free f gives nan (0/0, undefined: reports say so and JSON
    writes null) when its gradient is free too, else inf. A 0/0 ratio does not fail the
    bound: cost(f, ∇f) = 0 ≤ bound · cost(f) holds, trivially (see :attr:`Ratio.holds`).

    Example::

        >>> ratio_of(210, 491), ratio_of(0, 0), ratio_of(0, 3)
        (2.3380952380952382, nan, inf)
    """
    if cost_f == 0:
        return math.nan if cost_f_and_grad == 0 else math.inf
    return cost_f_and_grad / cost_f


class Costs(Protocol):
    """What :class:`Ratio` needs of a result: its two costs and its bound."""

    @property
    def cost_f(self) -> int: ...

    @property
    def cost_f_and_grad(self) -> int: ...

    @property
    def bound(self) -> float: ...


class Ratio:
    """The shared part of a result: subclasses provide ``cost_f``, ``cost_f_and_grad``
    and ``bound`` (as fields or properties, see :class:`Costs`) and get :attr:`ratio`,
    :attr:`holds` and :attr:`margin`."""

    __slots__ = ()

    @property
    def ratio(self: Costs) -> float:
        """cost(f, ∇f) / cost(f), measured."""
        return ratio_of(self.cost_f, self.cost_f_and_grad)

    @property
    def holds(self: Costs) -> bool:
        """Whether the measured ratio is within the bound (trivially when f and ∇f both
        cost nothing, where the ratio is undefined)."""
        ratio = ratio_of(self.cost_f, self.cost_f_and_grad)
        return math.isnan(ratio) or bool(within(ratio, self.bound))

    @property
    def margin(self: Costs) -> float:
        """How far below the bound the ratio is, as a fraction of the bound."""
        return (self.bound - ratio_of(self.cost_f, self.cost_f_and_grad)) / self.bound
