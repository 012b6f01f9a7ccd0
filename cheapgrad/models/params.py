"""A network's parameters, its gradients and what an engine returns, as plain arrays.

Example::

    >>> import numpy as np
    >>> p = Params([np.ones((2, 3))], [np.zeros(2)], np.ones((1, 3)), np.ones((1, 2)))
    >>> p.flat().size, p.with_flat(np.arange(8.0)).b[0].tolist()
    (8, [6.0, 7.0])
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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
    """What an engine returns: the loss, the predictions ŷ (B × K), the gradient and the
    memory it measured: ``tape``, the values reverse mode kept for its backward sweep
    (every layer's cache, ŷ and the loss), and ``forward_peak``, the most values a
    forward pass alone holds at once (one layer's input and output over the batch)."""

    loss: float
    yhat: np.ndarray
    grads: Gradients
    memory: dict[str, int] = field(default_factory=dict)
