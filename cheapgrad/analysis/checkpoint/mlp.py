"""An MLP as a chain: step l is Dense(l) and its activation for l = 1 … L, and step
L + 1 is the output layer with the loss, every op on counted scalars through the layers'
own scalar rules (:mod:`cheapgrad.models.layers`), so the counts and the gradient are the
scalar engine's (:mod:`cheapgrad.engines.scalar`) whatever the schedule.

A state is the batch: one list of counted numbers per example. A hidden step's tape is
what its layers' backward rules keep (Dense keeps its input z, the activation a and
h(a)); the last step keeps its input and ŷ.

Example::

    >>> from cheapgrad.models.spec import spec_from_dict
    >>> chain = mlp_chain(spec_from_dict({"input_dim": 2, "hidden": [3, 3],
    ...                                   "activation": "tanh"}))
    >>> chain, [s.name for s in chain.steps]
    (Chain('spec', 3 steps), ['layer 1', 'layer 2', 'output and loss'])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cheapgrad.analysis.checkpoint.chain import Chain, Step
from cheapgrad.core.counter import Counter
from cheapgrad.core.number import Num, const
from cheapgrad.models.layers import Layer, Loss
from cheapgrad.models.mlp import Params, init_params, network, new_gradients
from cheapgrad.models.params import Gradients
from cheapgrad.models.spec import Spec


class LayerStep:
    """Dense(l), then its activation when there is one: one step of the chain."""

    __slots__ = ("name", "layers", "states", "grads", "propagate")

    def __init__(self, layers: list[Layer], params: Params, grads: Gradients,
                 propagate: bool) -> None:
        self.name = f"layer {layers[0].index}"
        self.layers = layers
        self.states = [layer.scalar_state(params) for layer in layers]
        self.grads = grads
        self.propagate = propagate

    def run(self, state: list[list[Num]], counter: Counter, tape: bool
            ) -> tuple[list[list[Num]], Any]:
        out = []
        kept: list[list[Any]] = [[] for _ in self.layers]
        for z in state:
            for layer, st, cache in zip(self.layers, self.states, kept, strict=True):
                z, keep = layer.scalar_forward(st, z, counter)
                cache.append(keep)
            out.append(z)
        return out, (kept if tape else None)

    def reverse(self, record: Any, adjoint: Any, counter: Counter) -> Any:
        return _back(self.layers, self.states, record, adjoint, counter, self.grads,
                     self.propagate)


class LossStep:
    """The output layer and the loss: the last step, its output the loss itself."""

    __slots__ = ("name", "dense", "state", "loss", "y", "grads", "propagate")

    def __init__(self, dense: Layer, loss: Loss, params: Params, grads: Gradients,
                 propagate: bool) -> None:
        self.name = "output and loss"
        self.dense = dense
        self.state = dense.scalar_state(params)
        self.loss = loss
        self.y = [list(map(const, row)) for row in params.y.tolist()]
        self.grads = grads
        self.propagate = propagate

    def run(self, state: list[list[Num]], counter: Counter, tape: bool) -> tuple[Num, Any]:
        yhat, kept = [], []
        for z in state:
            a, keep = self.dense.scalar_forward(self.state, z, counter)
            yhat.append(a)
            kept.append(keep)
        loss = self.loss.scalar_forward(yhat, self.y, counter)
        return loss, ((kept, yhat) if tape else None)

    def reverse(self, record: Any, adjoint: Any, counter: Counter) -> Any:
        kept, yhat = record
        delta = self.loss.scalar_seed(yhat, self.y, counter)
        return _back([self.dense], [self.state], [kept], delta, counter, self.grads,
                     self.propagate)


def _back(layers: list[Layer], states: list[Any], record: list[list[Any]], delta: Any,
          counter: Counter, grads: Gradients, propagate: bool) -> Any:
    for i in range(len(layers) - 1, -1, -1):
        delta = layers[i].scalar_backward(states[i], record[i], delta, counter, grads,
                                          propagate or i > 0)
    return delta


def mlp_chain(spec: Spec, params: Params | None = None) -> Chain:
    """The chain of ``spec``'s net on ``params`` (default: drawn from the spec's seed)."""
    params = init_params(spec) if params is None else params
    net = network(spec)
    grads = new_gradients(params)
    groups: list[list[Layer]] = []
    for layer in net.layers:
        if layer.kind == "dense":
            groups.append([layer])
        else:
            groups[-1].append(layer)
    steps: list[Step] = [LayerStep(g, params, grads, i > 0) for i, g in enumerate(groups[:-1])]
    steps.append(LossStep(groups[-1][0], net.loss, params, grads, len(groups) > 1))
    initial = [list(map(const, row)) for row in params.x.tolist()]

    def gradient() -> np.ndarray:
        return grads.flat()

    return Chain(spec.name, initial, steps, gradient)
