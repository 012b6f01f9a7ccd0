"""The lecture's MLP: parameters, the counted forward pass and backprop, and an
uncounted numpy forward pass used as the independent reference.

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
from dataclasses import dataclass
from functools import reduce
from operator import add, mul, sub
from typing import Any

import numpy as np

from cheapgrad.core.counter import Counter
from cheapgrad.core.number import Num, const, gc_paused, var
from cheapgrad.models.activations import ACTIVATIONS
from cheapgrad.models.spec import Spec


@dataclass
class Params:
    """Weights W^(1)..W^(L+1) (shape d_l × d_{l-1}), biases (or None), inputs x
    (shape B × d0) and targets y (shape B × K)."""

    W: list[np.ndarray]
    b: list[np.ndarray] | None
    x: np.ndarray
    y: np.ndarray

    def flat(self) -> np.ndarray:
        """All parameters as one vector: W1, W2, ... row-major, then b1, b2, ..."""
        parts = [w.ravel() for w in self.W] + [b.ravel() for b in (self.b or [])]
        return np.concatenate(parts)

    def with_flat(self, theta: np.ndarray) -> Params:
        """A copy whose parameters are taken from ``theta`` (layout as in :meth:`flat`)."""
        W, pos = [], 0
        for w in self.W:
            W.append(theta[pos:pos + w.size].reshape(w.shape))
            pos += w.size
        b = None
        if self.b is not None:
            b = []
            for bb in self.b:
                b.append(theta[pos:pos + bb.size].reshape(bb.shape))
                pos += bb.size
        return Params(W, b, self.x, self.y)


@dataclass
class Gradients:
    """∂ℓ/∂W^(l) for every layer (same shapes as W) and ∂ℓ/∂b^(l) when bias is on."""

    W: list[np.ndarray]
    b: list[np.ndarray] | None

    def flat(self) -> np.ndarray:
        parts = [w.ravel() for w in self.W] + [b.ravel() for b in (self.b or [])]
        return np.concatenate(parts)


@dataclass
class EngineOutput:
    """What an engine returns: the loss, the predictions ŷ (B × K) and the gradient."""

    loss: float
    yhat: np.ndarray
    grads: Gradients


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


def _dot(row: list[Num], z: list[Num]) -> Num:
    """Σ_i row_i z_i, the naive sum from the left: d mul and d − 1 add."""
    return reduce(add, map(mul, row, z))


def _sum(xs: list[Num]) -> Num:
    """Σ xs from the left: len − 1 add (the single term itself when there is one)."""
    return reduce(add, xs)


def _sum_rows(rows: list[list[Num]]) -> list[Num]:
    """Elementwise Σ_e rows[e] from the left: (len(rows) − 1)·len(rows[0]) add."""
    acc = rows[0]
    for r in rows[1:]:
        acc = list(map(add, acc, r))
    return acc


def scalar_engine(spec: Spec, params: Params, counter: Counter) -> EngineOutput:
    """Forward pass, loss and the lecture's backprop, every op on counted scalars.

    Example::

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
    # The loops are written with map/reduce over the operators: the same ops on the same
    # operands, every sum taken from the left as in a plain loop, without the loop's
    # interpreter overhead. Every op still runs on a counted number.
    n_layers = len(params.W)
    W = [[list(map(var, row)) for row in w.tolist()] for w in params.W]
    bias = [list(map(var, b.tolist())) for b in params.b] if params.b is not None else None
    acts = [ACTIVATIONS[name] for name in spec.activations]
    batch = params.x.shape[0]

    # Forward: per example, store a^(l) and z^(l) for every layer.
    a_all: list[list[list[Num]]] = []  # [example][layer 1..L+1] -> a values
    z_all: list[list[list[Num]]] = []  # [example][layer 0..L] -> z values
    for e in range(batch):
        z = list(map(const, params.x[e].tolist()))
        a_ex, z_ex = [], [z]
        for lay in range(1, n_layers + 1):
            with counter.scope("forward", lay, "matvec"):
                a = [_dot(row, z) for row in W[lay - 1]]
            if bias is not None:
                with counter.scope("forward", lay, "bias"):
                    a = list(map(add, a, bias[lay - 1]))
            a_ex.append(a)
            if lay <= spec.depth:
                h = acts[lay - 1].forward
                with counter.scope("forward", lay, "activation"):
                    z = list(map(h, a))
                z_ex.append(z)
        a_all.append(a_ex)
        z_all.append(z_ex)

    yhat = [a_ex[-1] for a_ex in a_all]
    y = [list(map(const, row)) for row in params.y.tolist()]
    with counter.scope("loss", None, "loss"):
        squares = []
        for e in range(batch):
            for yk, yhk in zip(y[e], yhat[e], strict=False):
                r = yk - yhk
                squares.append(r * r)
        loss = 0.5 * _sum(squares)

    # Backward: δ^(L+1) = ŷ − y, then layer by layer.
    with counter.scope("backward", n_layers, "seed"):
        delta = [list(map(sub, yhat[e], y[e])) for e in range(batch)]
    grads_W: list[np.ndarray] = [np.empty(0)] * n_layers
    grads_b: list[np.ndarray] = [np.empty(0)] * n_layers
    for lay in range(n_layers, 0, -1):
        with counter.scope("backward", lay, "grad"):
            # ∂ℓ/∂w_ji = Σ_e δ_j z_i, products δ_j·z_i, summed over examples from the left.
            gW = [
                _sum_rows([list(map(delta[e][j].__mul__, z_all[e][lay - 1]))
                           for e in range(batch)])
                for j in range(len(delta[0]))
            ]
        grads_W[lay - 1] = np.array([[g.v for g in row] for row in gW], dtype=float)
        if bias is not None:
            with counter.scope("backward", lay, "bias_grad"):
                gb = _sum_rows(delta)
            grads_b[lay - 1] = np.array([g.v for g in gb], dtype=float)
        if lay > 1:
            act = acts[lay - 2]
            cols = [list(col) for col in zip(*W[lay - 1], strict=False)]  # column j: w_kj over k
            new_delta = []
            for e in range(batch):
                with counter.scope("backward", lay - 1, "matvec"):
                    d_next = delta[e]
                    back = [_dot(col, d_next) for col in cols]
                with counter.scope("backward", lay - 1, "derivative"):
                    hp = list(map(act.derivative, a_all[e][lay - 2], z_all[e][lay - 1]))
                    d_e = [s if h is None else h * s for h, s in zip(hp, back, strict=False)]
                new_delta.append(d_e)
            delta = new_delta

    return EngineOutput(
        loss=loss.v,
        yhat=np.array([[v.v for v in row] for row in yhat], dtype=float),
        grads=Gradients(grads_W, grads_b if bias is not None else None),
    )


def numpy_loss(spec: Spec, params: Params) -> float:
    """The loss computed in plain float64 numpy, uncounted (the reference)."""
    return float(_numpy_loss(spec, params).real)


def numpy_loss_complex(spec: Spec, params: Params) -> complex:
    """The same loss on complex parameters (for the complex-step check): every activation
    is analytic where it is differentiable, relu included (it keeps the branch of the
    real part)."""
    return complex(_numpy_loss(spec, params))


def _numpy_loss(spec: Spec, params: Params) -> Any:
    z = params.x.T  # d0 × B
    n_layers = len(params.W)
    for lay in range(1, n_layers + 1):
        a = params.W[lay - 1] @ z
        if params.b is not None:
            a = a + params.b[lay - 1][:, None]
        z = ACTIVATIONS[spec.activations[lay - 1]].np_forward(a) if lay <= spec.depth else a
    r = params.y.T - z
    return 0.5 * np.sum(r * r)


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
    acts = [ACTIVATIONS[name] for name in spec.activations]
    x = params.x.T
    # The first layer's inputs do not depend on t: its two products are made once.
    first = (params.W[0] @ x, step.W[0] @ x)

    def loss(t: Any) -> Any:
        """The loss at θ + t·v: a float for a real t, a complex for a complex t."""
        z = x
        for lay in range(1, len(params.W) + 1):
            if lay == 1:
                a = first[0] + t * first[1]
            else:
                a = params.W[lay - 1] @ z + t * (step.W[lay - 1] @ z)
            if params.b is not None and step.b is not None:
                a = a + (params.b[lay - 1] + t * step.b[lay - 1])[:, None]
            z = acts[lay - 1].np_forward(a) if lay <= spec.depth else a
        r = params.y.T - z
        value = 0.5 * np.sum(r * r)
        return complex(value) if isinstance(t, complex) else float(value)

    return loss
