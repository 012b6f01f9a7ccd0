"""The uncounted baselines ``cheapgrad bench`` times the engines against: plain numpy, a
bare counting float wrapper, and micrograd (when installed), each running the same
forward and backward pass as the engines.

Example::

    >>> from cheapgrad.models.mlp import init_params
    >>> from cheapgrad.models.spec import spec_from_dict
    >>> params = init_params(spec_from_dict({"input_dim": 3, "hidden": [4],
    ...                                      "activation": "tanh"}))
    >>> bare_forward_backward(params) > 0
    True
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from functools import reduce
from operator import add, mul, sub
from typing import Any

import numpy as np

from cheapgrad.models.mlp import Params


def numpy_forward_backward(params: Params) -> tuple[float, list[np.ndarray]]:
    """Plain uncounted numpy: the tanh net's forward pass, loss and backprop (no bias),
    as the lecture states it: the forward pass stores every a^(l) and z^(l)."""
    z = params.x.T
    a_all, z_all = [], [z]
    n_layers = len(params.W)
    for lay, w in enumerate(params.W, start=1):
        a = w @ z
        a_all.append(a)
        z = np.tanh(a) if lay < n_layers else a
        z_all.append(z)
    r = params.y.T - z
    loss = 0.5 * float((r * r).sum())
    delta = z - params.y.T
    grads: list[np.ndarray] = [np.empty(0)] * n_layers
    for lay in range(n_layers, 0, -1):
        grads[lay - 1] = delta @ z_all[lay - 1].T
        if lay > 1:
            zp = z_all[lay - 1]
            delta = (1.0 - zp * zp) * (params.W[lay - 1].T @ delta)
    return loss, grads


_BARE_OPS = [0]


class Bare:
    """The least a counted scalar can be: a float in a slot and one counter increment."""

    __slots__ = ("v",)

    def __init__(self, v: float) -> None:
        self.v = v

    def __add__(self, o: Bare) -> Bare:
        _BARE_OPS[0] += 1
        return Bare(self.v + o.v)

    def __sub__(self, o: Bare) -> Bare:
        _BARE_OPS[0] += 1
        return Bare(self.v - o.v)

    def __mul__(self, o: Bare) -> Bare:
        _BARE_OPS[0] += 1
        return Bare(self.v * o.v)

    def tanh(self) -> Bare:
        _BARE_OPS[0] += 1
        return Bare(math.tanh(self.v))


def bare_forward_backward(params: Params) -> int:
    """The scalar engine's ops (batch 1, tanh, no bias) on :class:`Bare`; returns the count."""
    _BARE_OPS[0] = 0
    W = [[list(map(Bare, row)) for row in w.tolist()] for w in params.W]
    z = list(map(Bare, params.x[0].tolist()))
    zs, n_layers = [z], len(W)
    for lay, w in enumerate(W, start=1):
        a = [reduce(add, map(mul, row, z)) for row in w]
        z = [v.tanh() for v in a] if lay < n_layers else a
        zs.append(z)
    y = list(map(Bare, params.y[0].tolist()))
    r = list(map(sub, y, z))
    _ = Bare(0.5) * reduce(add, map(mul, r, r))
    delta = list(map(sub, z, y))
    one = Bare(1.0)
    for lay in range(n_layers, 0, -1):
        _ = [list(map(d.__mul__, zs[lay - 1])) for d in delta]
        if lay > 1:
            cols = [list(c) for c in zip(*W[lay - 1], strict=False)]
            back = [reduce(add, map(mul, col, delta)) for col in cols]
            delta = [(one - zj * zj) * s for zj, s in zip(zs[lay - 1], back, strict=False)]
    return _BARE_OPS[0]


def micrograd_forward_backward(params: Params) -> Callable[[], object] | None:
    """A closure running the same net's forward and backward in micrograd, or None
    when micrograd is not installed. Its weights are made once, as a model's would be.

    micrograd's ``Value`` (version 0.1.0 on PyPI) has no tanh: one is added here the
    way its own ops are written (a node with a ``_backward`` closure).
    """
    try:
        from micrograd.engine import Value
    except ImportError:
        return None

    def tanh(v: Any) -> Any:
        out = Value(math.tanh(v.data), (v,), "tanh")

        def _backward() -> None:
            v.grad += (1 - out.data**2) * out.grad

        out._backward = _backward
        return out

    W = [[[Value(v) for v in row] for row in w.tolist()] for w in params.W]
    x, y = params.x[0].tolist(), params.y[0].tolist()
    n_layers = len(W)
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20_000))

    def step() -> object:
        for w in W:
            for row in w:
                for p in row:
                    p.grad = 0
        z: list[Any] = x
        for lay, w in enumerate(W, start=1):
            a = [sum(wi * zi for wi, zi in zip(row, z, strict=False)) for row in w]
            z = [tanh(v) for v in a] if lay < n_layers else a
        loss = sum((yk - zk) * (yk - zk) for yk, zk in zip(y, z, strict=False)) * 0.5
        loss.backward()
        return loss

    return step
