"""The counted array engine: the scalar engine's computation at numpy speed.

Every vectorized operation adds the exact number of elementary ops it stands for, under
the scalar engine's conventions, into the same ``(phase, layer, part)`` buckets of the
same :class:`~cheapgrad.core.counter.Counter`, with :func:`cheapgrad.core.number.count`. With
widths d_in, d_out and batch B:

* a mat-vec W z (forward) is B·d_out·d_in ``mul`` and B·d_out·(d_in − 1) ``add``;
  the transposed one Wᵀδ (backward) likewise with the roles of d_in and d_out swapped;
* a weight gradient Σ_e δ_j z_i accumulates B products: d_out·d_in·B ``mul`` and
  d_out·d_in·(B − 1) ``add``; a bias gradient d_out·(B − 1) ``add``;
* an activation (or its derivative) on n elements costs n times the activation's
  declared ``cost`` (``derivative_cost``), op kind by op kind, whatever the kinds are;
* the loss ½ Σ (y − ŷ)² is B·K ``sub``, B·K + 1 ``mul`` and B·K − 1 ``add``.

The nonscalar tallies (a mul whose two operands both depend on the weights, a div whose
divisor does) are
counted exactly as the scalar engine produces them: x and y are constants, every weight
and bias is a variable, so a product w·z or δ·z is nonscalar exactly when z depends on
the weights. z^(0) = x never does; a hidden z does, except where relu returns its
constant 0 (a ≤ 0), which the engine counts element by element. What an activation's
own arithmetic contributes per element (tanh' = 1 − z·z has one nonscalar mul, for
example) is measured once per activation by running its counted scalar implementation
on one probe value, so a new activation needs no change here.

The engine only iterates over the layers of :func:`cheapgrad.models.mlp.network`: each
layer's array rule (see :mod:`cheapgrad.models.layers`) does the arithmetic and the
counting, and passes on how many of its outputs depend on the weights.

Example::

    >>> from cheapgrad.models.mlp import init_params
    >>> from cheapgrad.models.spec import spec_from_dict
    >>> spec = spec_from_dict({"input_dim": 4, "hidden": [8], "activation": "tanh"})
    >>> counter = Counter()
    >>> out = array_engine(spec, init_params(spec), counter)
    >>> counter.totals("forward").counts["mul"], counter.totals("backward").total
    (40, 73)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cheapgrad.core.counter import Counter
from cheapgrad.engines.memory import stored_values
from cheapgrad.errors import NumericalError
from cheapgrad.models.mlp import EngineOutput, Params, network, new_gradients
from cheapgrad.models.spec import Spec


def array_engine(spec: Spec, params: Params, counter: Counter) -> EngineOutput:
    """Forward pass, loss and backprop in float64 numpy, counted by array shape.

    Counts equal the scalar engine's bucket by bucket, op kind by op kind, nonscalar
    tallies included; values agree to rounding (the sums run in a different order).
    Raises :class:`~cheapgrad.errors.NumericalError` (a ``DomainError``) on any float64
    overflow, invalid operation or division by zero in its elementwise work. The scalar
    engine raises in elementary functions and division and carries inf and nan on
    through + - *, as Python floats do; the runner then refuses a loss that is not
    finite, with the same kind of message.
    """
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            return _array(spec, params, counter)
    except FloatingPointError as exc:
        raise NumericalError(
            f"{spec.name}: {exc} on the array engine: the net's values overflow float64 "
            "(too deep, or an activation such as square that squares them at every "
            "layer); use fewer layers or another activation") from None


def _array(spec: Spec, params: Params, counter: Counter) -> EngineOutput:
    net = network(spec)
    layers = net.layers

    # Forward. Columns are examples: z^(l) has shape d_l × B; ``dep`` counts the elements
    # of z that depend on the weights (x: none).
    z = params.x.T
    dep = 0
    caches: list[Any] = []
    widest = 0  # the most values of one layer's input and output
    for layer in layers:
        z_in = z.size
        z, dep, kept = layer.array_forward(params, z, dep, counter)
        caches.append(kept)
        widest = max(widest, z_in + z.size)

    yhat = z
    y = params.y.T
    loss = net.loss.array_forward(yhat, y, counter)

    # Backward.
    delta = net.loss.array_seed(yhat, y, counter)
    grads = new_gradients(params)
    for i in range(len(layers) - 1, -1, -1):
        delta = layers[i].array_backward(params, caches[i], delta, counter, grads, i > 0)

    return EngineOutput(
        loss=loss,
        yhat=np.ascontiguousarray(yhat.T),
        grads=grads,
        memory={"tape": stored_values([caches, yhat]) + 1, "forward_peak": widest},
    )
