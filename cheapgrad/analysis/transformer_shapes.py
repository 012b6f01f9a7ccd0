"""Counting a transformer from its shapes alone (``--engine shapes``).

The counts the executed engines measure for :mod:`cheapgrad.models.transformer`, op
kind by op kind (nonscalar included), component by component, forward and backward, as
closed forms in N = batch·n_ctx, C = d_model, F = d_ff, V = vocab, H heads of D = C/H,
S = batch·H·T² score elements and S_c = batch·H·T(T+1)/2 unmasked ones. Each line
follows from the counting conventions of docs/arrays.md and the op table's reverse
rules (docs/transformers.md derives them); ``tests/test_transformer.py`` checks them
against both executed engines on random small configs. No value is computed, so GPT-3
175B is counted in a fraction of a second.

ReLU is refused (one line): its forward is N·F comparisons and its own backward makes no
op (a selection routes adjoints), but the adjoint it passes on reaches only the positive
pre-activations and its output is the constant 0 at the others, so the backward of
``mlp.fc`` and ``mlp.proj`` (their products' ``mul``, the adds of their sums) and, where
a whole row is cut off, of the ops before them depend on values the shapes do not give.
The adds that sum a token's embedding gradient depend on how many
distinct tokens were drawn; they are read from the drawn tokens (no model value is
computed).

Example::

    >>> from cheapgrad.models.transformer_spec import TransformerSpec
    >>> s = TransformerSpec(vocab=7, n_ctx=3, d_model=4, n_head=2, n_layer=1, d_ff=8)
    >>> c = shape_counts(s)
    >>> c["head"]["forward"]["mul"], c["head"]["backward"]["add"]
    ([84, 84], [136, 0])
    >>> products(s)["forward"]["attn.qkv"]
    144
"""

from __future__ import annotations

from typing import Any

import numpy as np

from cheapgrad.core.ops import power_chain
from cheapgrad.errors import CheapgradError
from cheapgrad.models.transformer import COMPONENTS, tokens
from cheapgrad.models.transformer_spec import TransformerSpec

#: component -> phase -> op kind -> [count, nonscalar]
Counts = dict[str, dict[str, dict[str, list[int]]]]


class _Acc:
    def __init__(self) -> None:
        self.c: Counts = {k: {"forward": {}, "backward": {}} for k in COMPONENTS}

    def add(self, comp: str, phase: str, kind: str, n: int, ns: int = 0) -> None:
        if n or ns:
            cell = self.c[comp][phase].setdefault(kind, [0, 0])
            cell[0] += n
            cell[1] += ns


def _linear(a: _Acc, comp: str, n: int, c_in: int, c_out: int, bias: bool) -> None:
    """``x @ W (+ b)`` with x (n × c_in): the product, its two adjoint products and the
    adds that sum contributions (x gets c_out each, W n each, b n each)."""
    m = n * c_in * c_out
    a.add(comp, "forward", "mul", m, m)
    a.add(comp, "forward", "add", n * c_out * (c_in - 1) + (n * c_out if bias else 0))
    a.add(comp, "backward", "mul", 2 * m, 2 * m)
    a.add(comp, "backward", "add", n * c_in * (c_out - 1) + c_in * c_out * (n - 1)
          + (c_out * (n - 1) if bias else 0))


def _layer_norm(a: _Acc, comp: str, n: int, c: int, bias: bool) -> None:
    """(x − mean)/√(var + eps)·w + b over rows of c (x's adjoint gets layer norm's two
    contributions first: the residual add that also reads x comes later in the
    program, so its add is the residual's)."""
    nc = n * c
    f, b = "forward", "backward"
    a.add(comp, f, "add", 2 * n * (c - 1) + n + (nc if bias else 0))
    a.add(comp, f, "div", 2 * n + nc, nc)
    a.add(comp, f, "sub", nc)
    a.add(comp, f, "mul", 2 * nc, 2 * nc)
    a.add(comp, f, "sqrt", n)
    a.add(comp, b, "mul", 5 * nc + n, 5 * nc)
    a.add(comp, b, "div", nc + 3 * n, nc + n)
    a.add(comp, b, "neg", 2 * nc)
    adds = (c * (n - 1) if bias else 0) + c * (n - 1) + 2 * n * (c - 1) + 2 * nc
    a.add(comp, b, "add", adds + nc)


def shape_counts(spec: TransformerSpec, idx: np.ndarray | None = None) -> Counts:
    """Every op of f and of its reverse sweep, by component, phase and kind (``idx``: the
    tokens, whose repeats the embedding's backward adds depend on; default those drawn
    from the seed)."""
    if spec.activation != "gelu":
        raise CheapgradError(
            f"activation {spec.activation}: the shapes engine counts gelu only: relu "
            "passes each adjoint on only where its input is positive, so the backward of "
            "mlp.fc and mlp.proj depends on values no shape gives; count it executed with "
            "--engine array")
    a = _Acc()
    bias = spec.bias
    B, T, C, H, V, F = (spec.batch, spec.n_ctx, spec.d_model,  # noqa: N806
                        spec.n_head, spec.vocab, spec.d_ff)
    D, N = C // H, B * T  # noqa: N806
    S, Sc, R = B * H * T * T, B * H * T * (T + 1) // 2, B * H * T  # noqa: N806
    f, b = "forward", "backward"
    # embedding: x = wte[idx] + wpe; wte's gradient gets one add per repeated token (the
    # lookup comes first in the program; tied, the head's N contributions to a drawn
    # token's row each cost one add, the head's)
    a.add("embedding", f, "add", N * C)
    if idx is None:
        idx, _ = tokens(spec)
    drawn = len(np.unique(idx))
    a.add("embedding", b, "add", (N - drawn) * C + T * C * (B - 1))
    for _ in range(spec.n_layer):
        for _ln in range(2):
            _layer_norm(a, "ln", N, C, bias)
            a.add("residual", b, "add", N * C)  # the residual add reads x after layer norm
        _linear(a, "attn.qkv", N, C, 3 * C, bias)
        # scores: q·kᵀ, ·1/√D (a constant), the mask (selection); only unmasked scores
        # get an adjoint: q's row i and kᵀ's column j get i+1 and T−j contributions
        a.add("attn.scores", f, "mul", S * D + S, S * D)
        a.add("attn.scores", f, "add", S * (D - 1))
        a.add("attn.scores", b, "mul", 2 * Sc * D + Sc, 2 * Sc * D)
        a.add("attn.scores", b, "add", R * D * (T - 1))
        # softmax: max, sub, exp, sum, div
        a.add("attn.softmax", f, "cmp", R * (T - 1))
        a.add("attn.softmax", f, "sub", S)
        a.add("attn.softmax", f, "exp", S)
        a.add("attn.softmax", f, "add", R * (T - 1))
        a.add("attn.softmax", f, "div", S, S)
        a.add("attn.softmax", b, "div", S, S)
        a.add("attn.softmax", b, "mul", 2 * S, 2 * S)
        a.add("attn.softmax", b, "neg", 2 * S)
        a.add("attn.softmax", b, "add", S + 2 * R * (T - 1) + R)
        # values: a·v
        a.add("attn.values", f, "mul", S * D, S * D)
        a.add("attn.values", f, "add", R * D * (T - 1))
        a.add("attn.values", b, "mul", 2 * S * D, 2 * S * D)
        a.add("attn.values", b, "add", S * (D - 1) + R * D * (T - 1))
        _linear(a, "attn.proj", N, C, C, bias)
        _linear(a, "mlp.fc", N, C, F, bias)
        m = N * F  # gelu: pow, 4 mul, 2 add, tanh forward; backward 9 mul, sub, pow, 2 add
        a.add("mlp.act", f, "pow", m, power_chain(3) * m)
        a.add("mlp.act", f, "mul", 4 * m, m)
        a.add("mlp.act", f, "add", 2 * m)
        a.add("mlp.act", f, "tanh", m)
        a.add("mlp.act", b, "mul", 9 * m, 5 * m)
        a.add("mlp.act", b, "sub", m)
        a.add("mlp.act", b, "pow", m, power_chain(2) * m)
        a.add("mlp.act", b, "add", 2 * m)
        _linear(a, "mlp.proj", N, F, C, bias)
        a.add("residual", f, "add", 2 * N * C)
    _layer_norm(a, "ln_f", N, C, bias)
    # head: x·wteᵀ (or W_head): adds of x's V and the weight's N contributions
    a.add("head", f, "mul", N * C * V, N * C * V)
    a.add("head", f, "add", N * V * (C - 1))
    a.add("head", b, "mul", 2 * N * C * V, 2 * N * C * V)
    a.add("head", b, "add", N * C * (V - 1) + C * V * (N - 1)
          + (drawn * C if spec.tied_embeddings else 0))
    # loss: max, sub, exp, sum, log, pick, sub, mean
    a.add("loss", f, "cmp", N * (V - 1))
    a.add("loss", f, "sub", N * V + N)
    a.add("loss", f, "exp", N * V)
    a.add("loss", f, "add", N * (V - 1) + N - 1)
    a.add("loss", f, "log", N)
    a.add("loss", f, "div", 1)
    a.add("loss", b, "div", N + 1, N)
    a.add("loss", b, "neg", N + N * V)
    a.add("loss", b, "mul", N * V, N * V)
    a.add("loss", b, "add", N * V + N)
    return a.c


def products(spec: TransformerSpec) -> dict[str, dict[str, int]]:
    """The m·n·k of each component's matrix products (what FlopCounterMode prices at
    2·m·n·k), forward and backward (autograd's two products per product, every operand
    requiring grad)."""
    B, T, C, H, V, F = (spec.batch, spec.n_ctx, spec.d_model,  # noqa: N806
                        spec.n_head, spec.vocab, spec.d_ff)
    N, L, S, D = B * T, spec.n_layer, B * H * T * T, C // H  # noqa: N806
    fwd = {"attn.qkv": L * N * C * 3 * C, "attn.scores": L * S * D, "attn.values": L * S * D,
           "attn.proj": L * N * C * C, "mlp.fc": L * N * C * F, "mlp.proj": L * N * F * C,
           "head": N * C * V}
    return {"forward": fwd, "backward": {k: 2 * v for k, v in fwd.items()}}


def swept_products(spec: TransformerSpec) -> dict[str, int]:
    """The multiplications the reverse sweep's matrix products execute, by component:
    what the executed engines measure (the muls of each product's adjoint products,
    counted on the adjoint elements that are reached). Twice the forward m·n·k, except
    the scores q·kᵀ: the masked scores get no adjoint (the mask is a selection), so their
    two adjoint products run over the S_c unmasked scores only, 2·S_c·D where a dense
    backward (FlopCounterMode's) prices 2·S·D.

    >>> from cheapgrad.models.transformer_spec import TransformerSpec
    >>> s = TransformerSpec(vocab=7, n_ctx=3, d_model=4, n_head=2, n_layer=1, d_ff=8)
    >>> swept_products(s)["attn.scores"], products(s)["backward"]["attn.scores"]
    (48, 72)
    """
    out = dict(products(spec)["backward"])
    B, T, H, D = spec.batch, spec.n_ctx, spec.n_head, spec.d_model // spec.n_head  # noqa: N806
    out["attn.scores"] = spec.n_layer * 2 * (B * H * T * (T + 1) // 2) * D
    return out


def total_ops(counts: Counts, phase: str | None = None) -> int:
    """Every op of the given phase (both when None)."""
    return sum(n for comp in counts.values() for ph, kinds in comp.items()
               if phase in (None, ph) for n, _ in kinds.values())


def as_lines(counts: Counts) -> dict[str, Any]:
    """As a program's counts by line: component -> phase -> kind -> count."""
    return {comp: {ph: {k: n for k, (n, _) in kinds.items()} for ph, kinds in phases.items()
                   if kinds} for comp, phases in counts.items()}


def nonscalar_lines(counts: Counts) -> dict[str, Any]:
    """The nonscalar tallies as :func:`as_lines` (kinds, phases, components with none
    left out)."""
    out: dict[str, Any] = {}
    for comp, phases in counts.items():
        for ph, kinds in phases.items():
            ns = {k: m for k, (_, m) in kinds.items() if m}
            if ns:
                out.setdefault(comp, {})[ph] = ns
    return out
