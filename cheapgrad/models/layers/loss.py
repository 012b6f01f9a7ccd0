"""The squared-error loss ℓ = ½ Σ_e Σ_k (y_k − ŷ_k)² and its seed δ = ŷ − y.

With K outputs and batch B:

========================  ==========================================  ==================
bucket                    what                                        count
========================  ==========================================  ==================
loss, None, loss          r = y − ŷ, r·r, summed from the left, ·½    B·K sub, B·K + 1
                                                                      mul, B·K − 1 add
backward, L+1, seed       δ = ŷ − y                                   B·K sub
========================  ==========================================  ==================

Example::

    >>> SquaredError(2, 3).forward_counts(2)[1], SquaredError(2, 3).seed_counts(2)
    ((('loss', None, 'loss'), 'mul', 7), [(('backward', 2, 'seed'), 'sub', 6)])
"""

from __future__ import annotations

from operator import sub
from typing import Any

import numpy as np

from cheapgrad.core.counter import Counter, count
from cheapgrad.core.number import Num
from cheapgrad.models.layers.base import Entry, sum_left


class SquaredError:
    """½ Σ (y − ŷ)² over K outputs; the seed's bucket is ``("backward", index, "seed")``.

    Example::

        >>> import numpy as np
        >>> float(SquaredError(1, 1).reference(np.array([[1.0, 2.0]]), np.zeros((1, 2))))
        2.5
    """

    __slots__ = ("index", "outputs")
    kind = "squared"

    def __init__(self, index: int, outputs: int) -> None:
        self.index = index
        self.outputs = outputs

    def __repr__(self) -> str:
        return f"SquaredError({self.index}, {self.outputs})"

    # --- counted scalar rule ---------------------------------------------------------

    def scalar_forward(self, yhat: list[list[Num]], y: list[list[Num]], counter: Counter
                       ) -> Num:
        """The squares example by example, output by output, summed from the left."""
        with counter.scope("loss", None, "loss"):
            squares = []
            for y_e, yhat_e in zip(y, yhat, strict=False):
                for yk, yhk in zip(y_e, yhat_e, strict=False):
                    r = yk - yhk
                    squares.append(r * r)
            return 0.5 * sum_left(squares)

    def scalar_seed(self, yhat: list[list[Num]], y: list[list[Num]], counter: Counter
                    ) -> list[list[Num]]:
        """δ = ŷ − y, one list per example."""
        with counter.scope("backward", self.index, "seed"):
            return [list(map(sub, yhat_e, y_e)) for yhat_e, y_e in zip(yhat, y, strict=False)]

    # --- array rule ------------------------------------------------------------------

    def array_forward(self, yhat: np.ndarray, y: np.ndarray, counter: Counter) -> float:
        """The loss of K × B arrays."""
        k_out = yhat.size
        with counter.scope("loss", None, "loss"):
            r = y - yhat
            sq = r * r
            loss = 0.5 * float(sq.sum())
            count("sub", k_out)
            count("mul", k_out + 1, k_out)
            count("add", k_out - 1)
        return loss

    def array_seed(self, yhat: np.ndarray, y: np.ndarray, counter: Counter) -> np.ndarray:
        """δ = ŷ − y on K × B arrays."""
        with counter.scope("backward", self.index, "seed"):
            delta = yhat - y
            count("sub", yhat.size)
        return delta

    # --- closed form -----------------------------------------------------------------

    def forward_counts(self, batch: int) -> list[Entry]:
        """B·K sub, B·K + 1 mul, B·K − 1 add."""
        n = batch * self.outputs
        key = ("loss", None, "loss")
        return [(key, "sub", n), (key, "mul", n + 1), (key, "add", n - 1)]

    def seed_counts(self, batch: int) -> list[Entry]:
        """B·K sub."""
        return [(("backward", self.index, "seed"), "sub", batch * self.outputs)]

    # --- plain-numpy reference ---------------------------------------------------------

    def reference(self, y: Any, yhat: Any) -> Any:
        """½ Σ (y − ŷ)², uncounted; complex ŷ works too."""
        r = y - yhat
        return 0.5 * np.sum(r * r)
