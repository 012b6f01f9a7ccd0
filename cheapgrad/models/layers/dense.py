"""The dense layer a^(l) = W^(l) z^(l-1) (+ b^(l)), all of its rules.

``W[l-1]`` holds W^(l) with shape (d_l, d_{l-1}): row j is w_j·. Buckets:

=====================  =========================================  ==================
bucket                 what                                       count (batch B)
=====================  =========================================  ==================
forward, l, matvec     Σ_i w_ji z_i, naive sum from the left      B·d_out·d_in mul,
                                                                  B·d_out·(d_in−1) add
forward, l, bias       a_j + b_j                                  B·d_out add
backward, l, grad      ∂ℓ/∂w_ji = Σ_e δ_j z_i over the examples   d_out·d_in·B mul,
                                                                  d_out·d_in·(B−1) add
backward, l, bias_grad ∂ℓ/∂b_j = Σ_e δ_j                          d_out·(B−1) add
backward, l−1, matvec  Wᵀδ, Σ_k w_kj δ_k (when ``propagate``)     B·d_in·d_out mul,
                                                                  B·d_in·(d_out−1) add
=====================  =========================================  ==================

Nonscalar tallies: w·z is nonscalar exactly when z depends on the weights (``dep`` of
the input), δ·z likewise, and w·δ always (δ depends on the weights).

Example::

    >>> layer = Dense(2, 4, 3, bias=True)
    >>> dict((k[2], {kind: n}) for k, kind, n in layer.forward_counts(1) if kind == "add")
    {'matvec': {'add': 9}, 'bias': {'add': 3}}
"""

from __future__ import annotations

from collections.abc import Callable
from operator import add
from typing import Any

import numpy as np

from cheapgrad.core.counter import Counter, count
from cheapgrad.core.number import Num, var
from cheapgrad.models.layers.base import Entry, dot, sum_rows
from cheapgrad.models.params import Gradients, Params


class Dense:
    """W z (+ b) for layer ``index`` (weights ``params.W[index - 1]``), d_in → d_out.

    ``bias`` says whether the closed form counts a bias; the engines follow ``params.b``
    (which :func:`~cheapgrad.models.mlp.init_params` draws exactly when the spec has one).

    Example::

        >>> import numpy as np
        >>> from cheapgrad.models.mlp import Params
        >>> p = Params([np.array([[1.0, 2.0]])], None, np.zeros((1, 2)), np.zeros((1, 1)))
        >>> Dense(1, 2, 1, bias=False).reference(p, np.array([[3.0], [4.0]]))
        array([[11.]])
    """

    __slots__ = ("index", "d_in", "d_out", "bias")
    kind = "dense"

    def __init__(self, index: int, d_in: int, d_out: int, *, bias: bool) -> None:
        self.index = index
        self.d_in = d_in
        self.d_out = d_out
        self.bias = bias

    def __repr__(self) -> str:
        return f"Dense({self.index}, {self.d_in}, {self.d_out}, bias={self.bias})"

    # --- counted scalar rule ---------------------------------------------------------

    def scalar_state(self, params: Params) -> tuple[list[list[Num]], list[Num] | None]:
        """The weights (rows) and the bias as counted variables."""
        w = [list(map(var, row)) for row in params.W[self.index - 1].tolist()]
        b = None if params.b is None else list(map(var, params.b[self.index - 1].tolist()))
        return w, b

    def scalar_forward(self, state: tuple[list[list[Num]], list[Num] | None],
                       z: list[Num], counter: Counter) -> tuple[list[Num], list[Num]]:
        """a = W z (+ b) for one example; keeps z for the weight gradient."""
        w, b = state
        with counter.scope("forward", self.index, "matvec"):
            a = [dot(row, z) for row in w]
        if b is not None:
            with counter.scope("forward", self.index, "bias"):
                a = list(map(add, a, b))
        return a, z

    def scalar_backward(self, state: tuple[list[list[Num]], list[Num] | None],
                        caches: list[list[Num]], delta: list[list[Num]], counter: Counter,
                        grads: Gradients, propagate: bool) -> list[list[Num]]:
        """Weight and bias gradients, then (when ``propagate``) Wᵀδ per example."""
        w, b = state
        lay = self.index
        batch = len(delta)
        with counter.scope("backward", lay, "grad"):
            # ∂ℓ/∂w_ji = Σ_e δ_j z_i, products δ_j·z_i, summed over examples from the left.
            g_w = [
                sum_rows([list(map(delta[e][j].__mul__, caches[e])) for e in range(batch)])
                for j in range(len(delta[0]))
            ]
        grads.W[lay - 1] = np.array([[g.v for g in row] for row in g_w], dtype=float)
        if b is not None and grads.b is not None:
            with counter.scope("backward", lay, "bias_grad"):
                g_b = sum_rows(delta)
            grads.b[lay - 1] = np.array([g.v for g in g_b], dtype=float)
        if not propagate:
            return []
        cols = [list(col) for col in zip(*w, strict=False)]  # column j: w_kj over k
        with counter.scope("backward", lay - 1, "matvec"):
            return [[dot(col, d) for col in cols] for d in delta]

    # --- array rule ------------------------------------------------------------------

    def array_forward(self, params: Params, z: np.ndarray, dep: int, counter: Counter
                      ) -> tuple[np.ndarray, int, tuple[np.ndarray, int]]:
        """a = W z (+ b) on a d_in × B array; every element of a depends on W."""
        w = params.W[self.index - 1]
        d_out, d_in = w.shape
        batch = z.shape[1]
        with counter.scope("forward", self.index, "matvec"):
            a = w @ z
            count("mul", batch * d_out * d_in, d_out * dep)
            count("add", batch * d_out * (d_in - 1))
        if params.b is not None:
            with counter.scope("forward", self.index, "bias"):
                a += params.b[self.index - 1][:, None]
                count("add", batch * d_out)
        return a, a.size, (z, dep)

    def array_backward(self, params: Params, cache: tuple[np.ndarray, int],
                       delta: np.ndarray, counter: Counter, grads: Gradients,
                       propagate: bool) -> np.ndarray:
        """Weight and bias gradients, then (when ``propagate``) Wᵀδ."""
        z, dep = cache
        lay = self.index
        w = params.W[lay - 1]
        d_out, d_in = w.shape
        batch = delta.shape[1]
        with counter.scope("backward", lay, "grad"):
            grads.W[lay - 1] = delta @ z.T
            count("mul", d_out * d_in * batch, d_out * dep)
            count("add", d_out * d_in * (batch - 1))
        if params.b is not None and grads.b is not None:
            with counter.scope("backward", lay, "bias_grad"):
                grads.b[lay - 1] = delta.sum(axis=1)
                count("add", d_out * (batch - 1))
        if not propagate:
            return delta
        with counter.scope("backward", lay - 1, "matvec"):
            back = w.T @ delta
            count("mul", batch * d_in * d_out, batch * d_in * d_out)
            count("add", batch * d_in * (d_out - 1))
        return back

    # --- closed form -----------------------------------------------------------------

    def forward_counts(self, batch: int) -> list[Entry]:
        """Mat-vec and bias over the batch."""
        lay, d_in, d_out = self.index, self.d_in, self.d_out
        out: list[Entry] = [
            (("forward", lay, "matvec"), "mul", batch * d_out * d_in),
            (("forward", lay, "matvec"), "add", batch * d_out * (d_in - 1)),
        ]
        if self.bias:
            out.append((("forward", lay, "bias"), "add", batch * d_out))
        return out

    def backward_counts(self, batch: int, propagate: bool) -> list[Entry]:
        """Weight gradients, bias gradients and the transposed mat-vec."""
        lay, d_in, d_out = self.index, self.d_in, self.d_out
        out: list[Entry] = [
            (("backward", lay, "grad"), "mul", d_out * d_in * batch),
            (("backward", lay, "grad"), "add", d_out * d_in * (batch - 1)),
        ]
        if self.bias:
            out.append((("backward", lay, "bias_grad"), "add", d_out * (batch - 1)))
        if propagate:
            out.append((("backward", lay - 1, "matvec"), "mul", batch * d_in * d_out))
            out.append((("backward", lay - 1, "matvec"), "add", batch * d_in * (d_out - 1)))
        return out

    # --- plain-numpy reference ---------------------------------------------------------

    def reference(self, params: Params, z: Any) -> Any:
        """W z (+ b), uncounted; complex z and parameters work too."""
        a = params.W[self.index - 1] @ z
        if params.b is not None:
            a = a + params.b[self.index - 1][:, None]
        return a

    def reference_along(self, params: Params, step: Params, z: Any, t: Any) -> Any:
        """(W + tV) z (+ b + t v_b), computed as W z + t (V z): the weights and v are read
        once, θ + t·v is never formed."""
        i = self.index - 1
        return self._bias_along(params, step, params.W[i] @ z + t * (step.W[i] @ z), t)

    def reference_along_fixed(self, params: Params, step: Params, z: Any
                              ) -> Callable[[Any], Any]:
        """For an input independent of t (the data): W z and V z are made once."""
        i = self.index - 1
        first = (params.W[i] @ z, step.W[i] @ z)

        def at(t: Any) -> Any:
            """The layer's output at θ + t·v."""
            return self._bias_along(params, step, first[0] + t * first[1], t)

        return at

    def _bias_along(self, params: Params, step: Params, a: Any, t: Any) -> Any:
        if params.b is not None and step.b is not None:
            i = self.index - 1
            a = a + (params.b[i] + t * step.b[i])[:, None]
        return a
