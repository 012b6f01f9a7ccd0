"""The lecture's MLP: its parameters, its layers (:func:`network`) and the uncounted
numpy loss built from the layers' references, the independent check of the engines.

The counted forward pass and backprop run in :mod:`cheapgrad.engines.scalar` (on counted
scalars) and :mod:`cheapgrad.engines.array` (by array shape), which iterate over the
layers of :mod:`cheapgrad.models.layers`.

Notation follows the lecture: a^(l) = W^(l) z^(l-1) (+ b^(l)), z^(l) = h(a^(l)),
ŷ = a^(L+1), loss ½ Σ_k (y_k − ŷ_k)², δ^(L+1) = ŷ − y,
δ_j^(l) = h'(a_j^(l)) Σ_k w_kj^(l+1) δ_k^(l+1), ∂ℓ/∂w_ji^(l) = δ_j^(l) z_i^(l-1).
``W[l-1]`` holds W^(l) with shape (d_l, d_{l-1}): row j is w_j·.

Counting buckets are ``(phase, layer, part)`` with phases ``forward``, ``loss`` and
``backward`` and parts ``matvec`` (the sums Σ w z and Σ w δ), ``bias``, ``activation``
(h), ``loss``, ``seed`` (δ at the output), ``grad`` (δ_j z_i), ``bias_grad`` and
``derivative`` (h' and the product with it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from cheapgrad.models.activations import ACTIVATIONS
from cheapgrad.models.layers import LOSSES, ActivationLayer, Dense, Layer, Network
from cheapgrad.models.params import EngineOutput, Gradients, Params
from cheapgrad.models.spec import Spec

__all__ = [
    "EngineOutput", "Gradients", "Params", "init_params", "network", "new_gradients",
    "numpy_loss", "numpy_loss_along", "numpy_loss_complex",
]


def init_params(spec: Spec) -> Params:
    """Draw weights, biases, inputs and targets from the spec's seed.

    W^(l) ~ N(0, 1/d_{l-1}) so activations stay of order one; b ~ N(0, 0.1²);
    x, y ~ N(0, 1).
    """
    rng = np.random.default_rng(spec.seed)
    w = spec.widths
    W = [rng.standard_normal((w[i], w[i - 1])) / np.sqrt(w[i - 1]) for i in range(1, len(w))]
    b = [0.1 * rng.standard_normal(w[i]) for i in range(1, len(w))] if spec.bias else None
    x = rng.standard_normal((spec.batch, spec.input_dim))
    y = rng.standard_normal((spec.batch, spec.outputs))
    return Params(W, b, x, y)


def network(spec: Spec) -> Network:
    """The spec's net as layers: Dense(1), h₁, Dense(2), h₂, …, Dense(L+1), then the loss.

    Example::

        >>> from cheapgrad.models.spec import spec_from_dict
        >>> network(spec_from_dict({"input_dim": 2, "hidden": [3], "activation": "tanh"}))
        Network([dense(1), activation(1), dense(2)], squared)
    """
    w = spec.widths
    n_layers = len(w) - 1
    layers: list[Layer] = []
    for lay in range(1, n_layers + 1):
        layers.append(Dense(lay, w[lay - 1], w[lay], bias=spec.bias))
        if lay <= spec.depth:
            layers.append(ActivationLayer(lay, ACTIVATIONS[spec.activations[lay - 1]], w[lay]))
    return Network(layers, LOSSES[spec.loss](n_layers, spec.outputs))


def new_gradients(params: Params) -> Gradients:
    """Empty gradients shaped like ``params``' lists, for the engines to fill."""
    n_layers = len(params.W)
    return Gradients([np.empty(0)] * n_layers,
                     None if params.b is None else [np.empty(0)] * n_layers)


def numpy_loss(spec: Spec, params: Params) -> float:
    """The loss computed in plain float64 numpy, uncounted (the reference)."""
    return float(_numpy_loss(spec, params).real)


def numpy_loss_complex(spec: Spec, params: Params) -> complex:
    """The same loss on complex parameters (for the complex-step check): every activation
    is analytic where it is differentiable, relu included (it keeps the branch of the
    real part)."""
    return complex(_numpy_loss(spec, params))


def _numpy_loss(spec: Spec, params: Params) -> Any:
    net = network(spec)
    z = params.x.T  # d0 × B
    for layer in net.layers:
        z = layer.reference(params, z)
    return net.loss.reference(params.y.T, z)


def numpy_loss_along(spec: Spec, params: Params, direction: np.ndarray) -> Callable[[Any], Any]:
    """t ↦ the loss at θ + t·v (v = ``direction``, laid out as :meth:`Params.flat`), in
    plain float64 numpy, uncounted, without forming θ + t·v.

    Each layer computes (W + tV) z as W z + t (V z) (and the bias likewise), so one
    evaluation reads the weights and v once, where forming θ + t·v first would write and
    read a vector as long as the gradient. For the gradient check of large nets.

    Example::

        >>> from cheapgrad.models.spec import spec_from_dict
        >>> spec = spec_from_dict({"input_dim": 3, "hidden": [4], "activation": "tanh"})
        >>> params = init_params(spec)
        >>> v = np.ones(spec.parameters)
        >>> g = numpy_loss_along(spec, params, v)
        >>> bool(np.isclose(g(0.01), numpy_loss(spec, params.with_flat(params.flat() + 0.01 * v))))
        True
    """
    step = params.with_flat(np.asarray(direction, dtype=float))
    net = network(spec)
    # The first layer's input (the data) does not depend on t: what depends only on it is
    # made once.
    first = net.layers[0].reference_along_fixed(params, step, params.x.T)
    rest = net.layers[1:]
    y = params.y.T

    def loss(t: Any) -> Any:
        """The loss at θ + t·v: a float for a real t, a complex for a complex t."""
        z = first(t)
        for layer in rest:
            z = layer.reference_along(params, step, z, t)
        value = net.loss.reference(y, z)
        return complex(value) if isinstance(t, complex) else float(value)

    return loss
