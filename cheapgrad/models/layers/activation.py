"""The elementwise transfer function z^(l) = h(a^(l)) of a hidden layer, all its rules.

The functions themselves (h, h', their declared costs and numpy versions) live in
:mod:`cheapgrad.models.activations`; this layer applies one of them. Buckets, with n the
layer's width and B the batch:

=========================  =====================================  =====================
bucket                     what                                   count
=========================  =====================================  =====================
forward, l, activation     z = h(a)                               B·n × ``cost``
backward, l, derivative    δ = h'(a) ⊙ s for s = Wᵀδ of the       B·n × ``derivative_
                           layer above (no product for identity)  cost``, + B·n mul
=========================  =====================================  =====================

Nonscalar tallies: what h and h' contribute per element is measured once per activation
by running its counted implementation on one variable (:func:`probe`); an output of relu
is a constant where a ≤ 0, which the array rule counts element by element.

Example::

    >>> from cheapgrad.models.activations import ACTIVATIONS
    >>> layer = ActivationLayer(1, ACTIVATIONS["tanh"], 4)
    >>> layer.forward_counts(2), layer.backward_counts(2, True)[-1]
    ([(('forward', 1, 'activation'), 'tanh', 8)], (('backward', 1, 'derivative'), 'mul', 8))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cheapgrad.core.counter import Counter, count
from cheapgrad.core.number import Num, var
from cheapgrad.models.activations import Activation
from cheapgrad.models.layers.base import Entry
from cheapgrad.models.params import Gradients, Params

#: The value an activation's counted implementation is probed at (inside the domain of
#: every elementary function, so that log- or sqrt-based activations work too).
PROBE_VALUE = 0.5


@dataclass(frozen=True)
class Probe:
    """Per-element nonscalar tallies of one activation, measured on counted scalars."""

    forward_nonscalar: dict[str, int]
    derivative_nonscalar: dict[str, int]
    derivative_depends: bool


_PROBES: dict[int, tuple[Activation, Probe]] = {}


def probe(act: Activation) -> Probe:
    """Run ``act``'s counted h and h' once, on a variable, and read the nonscalar tallies.

    Example::

        >>> from cheapgrad.models.activations import ACTIVATIONS
        >>> probe(ACTIVATIONS["tanh"]).derivative_nonscalar["mul"]
        1
    """
    cached = _PROBES.get(id(act))
    if cached is not None and cached[0] is act:
        return cached[1]
    counter = Counter()
    a = var(PROBE_VALUE)
    with counter.scope("h"):
        z = act.forward(a)
    with counter.scope("h'"):
        hp = act.derivative(a, z)
    result = Probe(
        counter.totals("h").nonscalar,
        counter.totals("h'").nonscalar,
        hp is not None and bool(hp.dep),
    )
    _PROBES[id(act)] = (act, result)
    return result


def _count_elementwise(cost: dict[str, int], nonscalar: dict[str, int], n: int) -> None:
    """Count an elementwise function on ``n`` elements from its declared per-element cost."""
    for kind, c in cost.items():
        count(kind, n * c, n * nonscalar.get(kind, 0))


def _depending(act: Activation, a: np.ndarray) -> int:
    """How many of the elements z = h(a) depend on the weights (a always does)."""
    if act.name == "relu":
        return int(np.count_nonzero(a > 0.0))
    return a.size


class ActivationLayer:
    """h applied elementwise to the ``width`` pre-activations of hidden layer ``index``.

    Example::

        >>> import numpy as np
        >>> from cheapgrad.models.activations import ACTIVATIONS
        >>> relu = ActivationLayer(1, ACTIVATIONS["relu"], 2)
        >>> relu.reference(None, np.array([[-1.0], [2.0]])).ravel().tolist()
        [0.0, 2.0]
    """

    __slots__ = ("index", "activation", "width")
    kind = "activation"

    def __init__(self, index: int, activation: Activation, width: int) -> None:
        self.index = index
        self.activation = activation
        self.width = width

    def __repr__(self) -> str:
        return f"ActivationLayer({self.index}, {self.activation.name}, {self.width})"

    # --- counted scalar rule ---------------------------------------------------------

    def scalar_state(self, params: Params) -> None:
        """No parameters."""
        return None

    def scalar_forward(self, state: None, a: list[Num], counter: Counter
                       ) -> tuple[list[Num], tuple[list[Num], list[Num]]]:
        """z = h(a) for one example; keeps a and z for h'."""
        h = self.activation.forward
        with counter.scope("forward", self.index, "activation"):
            z = list(map(h, a))
        return z, (a, z)

    def scalar_backward(self, state: None, caches: list[tuple[list[Num], list[Num]]],
                        delta: list[list[Num]], counter: Counter, grads: Gradients,
                        propagate: bool) -> list[list[Num]]:
        """δ_j = h'(a_j) · s_j per example (s_j itself when h' is the constant 1)."""
        if not propagate:
            return []
        derivative = self.activation.derivative
        out = []
        with counter.scope("backward", self.index, "derivative"):
            for (a, z), back in zip(caches, delta, strict=False):
                hp = list(map(derivative, a, z))
                out.append([s if h is None else h * s for h, s in zip(hp, back, strict=False)])
        return out

    # --- array rule ------------------------------------------------------------------

    def array_forward(self, params: Params, a: np.ndarray, dep: int, counter: Counter
                      ) -> tuple[np.ndarray, int, tuple[np.ndarray, np.ndarray]]:
        """z = h(a), counted from the declared cost and the probe's nonscalar tallies."""
        act = self.activation
        with counter.scope("forward", self.index, "activation"):
            z = act.np_forward(a)
            _count_elementwise(act.cost, probe(act).forward_nonscalar, a.size)
        return z, _depending(act, a), (a, z)

    def array_backward(self, params: Params, cache: tuple[np.ndarray, np.ndarray],
                       delta: np.ndarray, counter: Counter, grads: Gradients,
                       propagate: bool) -> np.ndarray:
        """δ = h'(a) ⊙ δ, in place."""
        if not propagate:
            return delta
        act = self.activation
        a, z = cache
        with counter.scope("backward", self.index, "derivative"):
            hp = act.np_derivative(a, z)
            p = probe(act)
            _count_elementwise(act.derivative_cost, p.derivative_nonscalar, delta.size)
            if hp is not None:
                delta *= hp  # in place: δ = h'(a) ⊙ Wᵀδ, one buffer fewer
                count("mul", delta.size, delta.size if p.derivative_depends else 0)
        return delta

    # --- closed form -----------------------------------------------------------------

    def forward_counts(self, batch: int) -> list[Entry]:
        """``cost`` per element."""
        n = batch * self.width
        key = ("forward", self.index, "activation")
        return [(key, kind, n * c) for kind, c in self.activation.cost.items()]

    def backward_counts(self, batch: int, propagate: bool) -> list[Entry]:
        """``derivative_cost`` per element, and the product with h' unless h is identity."""
        if not propagate:
            return []
        n = batch * self.width
        key = ("backward", self.index, "derivative")
        out = [(key, kind, n * c) for kind, c in self.activation.derivative_cost.items()]
        if self.activation.scales_delta:
            out.append((key, "mul", n))
        return out

    # --- plain-numpy reference ---------------------------------------------------------

    def reference(self, params: Params | None, a: Any) -> Any:
        """h(a), uncounted; analytic where h is differentiable, for complex a too."""
        return self.activation.np_forward(a)

    def reference_along(self, params: Params, step: Params, a: Any, t: Any) -> Any:
        """h(a): no parameters, so the same as :meth:`reference`."""
        return self.activation.np_forward(a)

    def reference_along_fixed(self, params: Params, step: Params, a: Any
                              ) -> Callable[[Any], Any]:
        """h(a) of an input independent of t, made once."""
        z = self.activation.np_forward(a)
        return lambda t: z
