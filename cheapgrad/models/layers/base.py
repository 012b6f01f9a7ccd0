"""The Layer protocol: what one kind of network stage owns, in one place.

A network is a list of layers followed by a loss (:class:`Network`). Each layer kind
owns four things, which the generic drivers only iterate over:

* its **counted scalar rule** (``scalar_forward``, ``scalar_backward``): the lecture's
  arithmetic on counted :class:`~cheapgrad.core.number.Num` scalars, used by
  :mod:`cheapgrad.engines.scalar`;
* its **array rule** (``array_forward``, ``array_backward``): the same computation in
  float64 numpy, with :func:`~cheapgrad.core.number.count` adding the exact op counts and
  nonscalar tallies the scalar rule would produce, used by :mod:`cheapgrad.engines.array`;
* its **closed-form count** (``forward_counts``, ``backward_counts``): what the scalar
  rule executes, from the shapes and declared costs alone, summed by
  :func:`closed_form` (and :func:`cheapgrad.analysis.theory.predict`);
* its **plain-numpy reference** (``reference``, ``reference_along``,
  ``reference_along_fixed``): the uncounted forward computation, on real or complex
  arrays, used by :func:`cheapgrad.models.mlp.numpy_loss` and its relatives.

Conventions shared by every rule. Counts go into buckets ``(phase, layer, part)`` of a
:class:`~cheapgrad.core.counter.Counter`. Scalar rules see one example at a time going
forward (a list of ``Num``) and the whole batch going backward (one list per example);
array rules see a ``d × B`` array whose columns are the examples. ``dep`` is how many
elements of an array input depend on the weights (the scalar rule's ``Num.dep``): the
array rule needs it to tally nonscalar products exactly. ``propagate`` is false for the
first layer, whose input (the data x) needs no gradient: that layer computes only its
parameters' gradients. A backward rule may overwrite the ``delta`` it receives.

Example::

    >>> from cheapgrad.models.layers.dense import Dense
    >>> from cheapgrad.models.layers.loss import SquaredError
    >>> net = Network([Dense(1, 3, 2, bias=False)], SquaredError(1, 2))
    >>> pred = closed_form(net, batch=1)
    >>> pred[("forward", 1, "matvec")], pred[("backward", 1, "grad")]
    ({'mul': 6, 'add': 4}, {'mul': 6})
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from functools import reduce
from operator import add, mul
from typing import Any, Protocol

import numpy as np

from cheapgrad.core.counter import Counter
from cheapgrad.core.number import Num
from cheapgrad.models.params import Gradients, Params

#: A counting bucket: ``(phase, layer, part)``.
Key = tuple[str, Any, Any]
#: Op counts by bucket: key -> op kind -> count (zeros left out).
Prediction = dict[Key, dict[str, int]]
#: One closed-form entry: ``(bucket, op kind, count)``.
Entry = tuple[Key, str, int]


class Layer(Protocol):
    """One stage z ↦ layer(z) of a network, with its rules (see the module docstring)."""

    #: The layer kind, e.g. ``dense``.
    kind: str
    #: The lecture's layer number l, the ``layer`` of the layer's own buckets.
    index: int

    def scalar_state(self, params: Params) -> Any:
        """What the scalar rule needs from ``params`` (counted variables), made once."""
        ...

    def scalar_forward(self, state: Any, z: list[Num], counter: Counter
                       ) -> tuple[list[Num], Any]:
        """One example forward: the output and what the backward rule keeps of it."""
        ...

    def scalar_backward(self, state: Any, caches: list[Any], delta: list[list[Num]],
                        counter: Counter, grads: Gradients, propagate: bool
                        ) -> list[list[Num]]:
        """The batch backward: store parameter gradients in ``grads``, return the
        deltas of the input (one list per example; empty unless ``propagate``)."""
        ...

    def array_forward(self, params: Params, z: np.ndarray, dep: int, counter: Counter
                      ) -> tuple[np.ndarray, int, Any]:
        """The batch forward on a ``d × B`` array: output, its ``dep``, and the cache."""
        ...

    def array_backward(self, params: Params, cache: Any, delta: np.ndarray,
                       counter: Counter, grads: Gradients, propagate: bool) -> np.ndarray:
        """The batch backward on arrays, counted exactly as :meth:`scalar_backward`."""
        ...

    def forward_counts(self, batch: int) -> list[Entry]:
        """The closed form of :meth:`scalar_forward` over a batch."""
        ...

    def backward_counts(self, batch: int, propagate: bool) -> list[Entry]:
        """The closed form of :meth:`scalar_backward`."""
        ...

    def reference(self, params: Params, z: Any) -> Any:
        """Plain numpy forward on a ``d × B`` array (real or complex), uncounted."""
        ...

    def reference_along(self, params: Params, step: Params, z: Any, t: Any) -> Any:
        """Plain numpy forward at parameters θ + t·v (v in ``step``), without forming
        them: the layer's output for input ``z`` (which may itself depend on t)."""
        ...

    def reference_along_fixed(self, params: Params, step: Params, z: Any
                              ) -> Callable[[Any], Any]:
        """Like :meth:`reference_along` for an input ``z`` that does not depend on t:
        whatever does not depend on t may be computed once, here."""
        ...


class Loss(Protocol):
    """The network's last stage: a scalar loss of ŷ and y, and its seed δ = ∂ℓ/∂ŷ."""

    kind: str
    #: The ``layer`` of the seed's bucket (the output layer's number).
    index: int

    def scalar_forward(self, yhat: list[list[Num]], y: list[list[Num]], counter: Counter
                       ) -> Num:
        """The counted loss over the batch."""
        ...

    def scalar_seed(self, yhat: list[list[Num]], y: list[list[Num]], counter: Counter
                    ) -> list[list[Num]]:
        """The counted seed δ, one list per example."""
        ...

    def array_forward(self, yhat: np.ndarray, y: np.ndarray, counter: Counter) -> float:
        """The loss on ``K × B`` arrays, counted as :meth:`scalar_forward`."""
        ...

    def array_seed(self, yhat: np.ndarray, y: np.ndarray, counter: Counter) -> np.ndarray:
        """The seed on arrays, counted as :meth:`scalar_seed`."""
        ...

    def forward_counts(self, batch: int) -> list[Entry]:
        """The closed form of :meth:`scalar_forward`."""
        ...

    def seed_counts(self, batch: int) -> list[Entry]:
        """The closed form of :meth:`scalar_seed`."""
        ...

    def reference(self, y: Any, yhat: Any) -> Any:
        """Plain numpy loss of ``K × B`` arrays (real or complex), uncounted."""
        ...


class Network:
    """A list of layers and the loss after them."""

    __slots__ = ("layers", "loss")

    def __init__(self, layers: list[Layer], loss: Loss) -> None:
        self.layers = layers
        self.loss = loss

    def __repr__(self) -> str:
        kinds = ", ".join(f"{layer.kind}({layer.index})" for layer in self.layers)
        return f"Network([{kinds}], {self.loss.kind})"


def closed_form(net: Network, batch: int) -> Prediction:
    """The closed-form op counts of ``net`` on a batch, keyed by bucket, in the order the
    engines first use the buckets: forward layer by layer, the loss, its seed, then
    backward from the last layer to the first.

    Example::

        >>> from cheapgrad.models.layers.dense import Dense
        >>> from cheapgrad.models.layers.loss import SquaredError
        >>> closed_form(Network([Dense(1, 2, 1, bias=True)], SquaredError(1, 1)), 2)[
        ...     ("loss", None, "loss")]
        {'sub': 2, 'mul': 3, 'add': 1}
    """
    out: dict[Key, dict[str, int]] = defaultdict(dict)

    def put(entries: Iterable[Entry]) -> None:
        for key, kind, n in entries:
            if n:
                bucket = out[key]
                bucket[kind] = bucket.get(kind, 0) + n

    for layer in net.layers:
        put(layer.forward_counts(batch))
    put(net.loss.forward_counts(batch))
    put(net.loss.seed_counts(batch))
    for i in range(len(net.layers) - 1, -1, -1):
        put(net.layers[i].backward_counts(batch, i > 0))
    return dict(out)


# --- sums on counted scalars, in the lecture's order -----------------------------------


def dot(row: list[Num], z: list[Num]) -> Num:
    """Σ_i row_i z_i, the naive sum from the left: d mul and d − 1 add.

    Example::

        >>> from cheapgrad.core.number import const
        >>> dot([const(1.0), const(2.0)], [const(3.0), const(4.0)]).v
        11.0
    """
    return reduce(add, map(mul, row, z))


def sum_left(xs: list[Num]) -> Num:
    """Σ xs from the left: len − 1 add (the single term itself when there is one).

    Example::

        >>> from cheapgrad.core.number import const
        >>> sum_left([const(1.0), const(2.0), const(3.0)]).v
        6.0
    """
    return reduce(add, xs)


def sum_rows(rows: list[list[Num]]) -> list[Num]:
    """Elementwise Σ_e rows[e] from the left: (len(rows) − 1)·len(rows[0]) add.

    Example::

        >>> from cheapgrad.core.number import const
        >>> [s.v for s in sum_rows([[const(1.0), const(2.0)], [const(3.0), const(4.0)]])]
        [4.0, 6.0]
    """
    acc = rows[0]
    for r in rows[1:]:
        acc = list(map(add, acc, r))
    return acc
