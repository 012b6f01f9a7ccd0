"""The counted scalar engine: the forward pass, loss and the lecture's backprop, every op
on a counted Python scalar (the ground truth the other engines and the closed form are
measured against).

The engine only iterates over the layers of :func:`cheapgrad.models.mlp.network`: each
layer's counted scalar rule (see :mod:`cheapgrad.models.layers`) does the arithmetic.
Going forward, examples run one after the other through every layer; going backward,
layer by layer from the loss's seed, each on the whole batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cheapgrad.core.counter import Counter, gc_paused
from cheapgrad.core.number import Num, const
from cheapgrad.engines.memory import stored_values
from cheapgrad.models.mlp import EngineOutput, Params, network, new_gradients
from cheapgrad.models.spec import Spec


def scalar_engine(spec: Spec, params: Params, counter: Counter) -> EngineOutput:
    """Forward pass, loss and the lecture's backprop, every op on counted scalars.

    Example::

        >>> from cheapgrad.models.mlp import init_params
        >>> from cheapgrad.models.spec import spec_from_dict
        >>> spec = spec_from_dict({"input_dim": 2, "hidden": [3], "activation": "tanh"})
        >>> counter = Counter()
        >>> out = scalar_engine(spec, init_params(spec), counter)
        >>> counter.totals("forward").counts["mul"]
        9
    """
    with gc_paused():
        return _scalar(spec, params, counter)


def _scalar(spec: Spec, params: Params, counter: Counter) -> EngineOutput:
    net = network(spec)
    layers = net.layers
    states = [layer.scalar_state(params) for layer in layers]
    caches: list[list[Any]] = [[] for _ in layers]  # [layer][example]

    # Forward, example by example: every layer keeps what its backward rule needs.
    yhat: list[list[Num]] = []
    widest = 0  # the most values of one layer's input and output, for one example
    for x_e in params.x.tolist():
        z = list(map(const, x_e))
        for layer, state, cache in zip(layers, states, caches, strict=True):
            z_in = len(z)
            z, kept = layer.scalar_forward(state, z, counter)
            cache.append(kept)
            widest = max(widest, z_in + len(z))
        yhat.append(z)

    y = [list(map(const, row)) for row in params.y.tolist()]
    loss = net.loss.scalar_forward(yhat, y, counter)

    # Backward, from the seed δ = ∂ℓ/∂ŷ, layer by layer on the whole batch.
    delta = net.loss.scalar_seed(yhat, y, counter)
    grads = new_gradients(params)
    for i in range(len(layers) - 1, -1, -1):
        delta = layers[i].scalar_backward(states[i], caches[i], delta, counter, grads, i > 0)

    memory = {"tape": stored_values([caches, yhat, loss]),
              "forward_peak": widest * len(yhat)}
    return EngineOutput(
        loss=loss.v,
        yhat=np.array([[v.v for v in row] for row in yhat], dtype=float),
        grads=grads,
        memory=memory,
    )
