"""GPT-2 as nanoGPT writes it (``karpathy/nanoGPT``, ``model.py``), as an ordinary numpy
program on the counted arrays, every op labelled with its component.

x = wte[idx] + wpe[0..T−1]; each block x = x + attn(ln_1(x)); x = x + mlp(ln_2(x)); then
ln_f and logits = x·wteᵀ (tied) or x·W_head; loss = mean cross-entropy over the B·T
positions. Attention is nanoGPT's explicit path: q·kᵀ·(1/√d_head) over the full T×T
scores, the future replaced by the constant −1e9 (``np.where``: selection, free), softmax
with max subtraction, ·v, the output projection. −1e9 rather than −∞ because counted
arithmetic refuses non-finite values; exp(−1e9 − m) is exactly 0.0 in float64, so the
values are those of −∞, and the masked elements are counted in every op after the mask
as issue 10's convention counts a constant element of an array (torch computes them
too). Layer norm: (x − mean)/√(var + 1e-5)·w + b, var the biased mean of squares.
GELU is the tanh form 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))); ReLU is
``np.maximum(x, 0)``. Weights are stored (in, out), so a Linear is ``x @ W + b``.

Each op is attributed to a component (:data:`COMPONENTS`) with
:func:`cheapgrad.core.array_masks.component`; the reverse sweep charges each node's work
to the component that made it.

Example::

    >>> from cheapgrad.models.transformer_spec import TransformerSpec
    >>> s = TransformerSpec(vocab=5, n_ctx=3, d_model=4, n_head=2, n_layer=1, d_ff=8)
    >>> p = init_params(s)
    >>> list(p)[:4], p["transformer.h.0.attn.c_attn.weight"].shape
    (['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.h.0.ln_1.weight', \
'transformer.h.0.ln_1.bias'], (4, 12))
    >>> round(plain_loss(s, p), 6)
    1.609868
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from cheapgrad.core.array_masks import component
from cheapgrad.models.transformer_spec import TransformerSpec

#: The components counts are reported by, in the order of the forward pass.
COMPONENTS = ("embedding", "ln", "attn.qkv", "attn.scores", "attn.softmax", "attn.values",
              "attn.proj", "mlp.fc", "mlp.act", "mlp.proj", "residual", "ln_f", "head",
              "loss")
#: Layer norm's epsilon (nanoGPT, PyTorch's default).
EPS = 1e-5
#: What a masked score is set to before the softmax.
MASKED = -1e9
GELU_C = math.sqrt(2.0 / math.pi)
#: With ``gpt_loss(..., products=True)`` each matrix product of component ``c`` is
#: labelled ``c + PRODUCT``, so its forward and reverse-sweep ops can be read apart.
PRODUCT = ":product"


Shapes = list[tuple[str, tuple[int, ...]]]


def _linear(prefix: str, c_in: int, c_out: int, bias: bool) -> Shapes:
    out: Shapes = [(f"{prefix}.weight", (c_in, c_out))]
    return out + ([(f"{prefix}.bias", (c_out,))] if bias else [])


def param_shapes(spec: TransformerSpec) -> Shapes:
    """nanoGPT's state-dict names, in its order, with this module's (in, out) shapes."""
    c, b = spec.d_model, spec.bias

    def ln(prefix: str) -> Shapes:
        one: Shapes = [(f"{prefix}.weight", (c,))]
        return one + ([(f"{prefix}.bias", (c,))] if b else [])

    out: Shapes = [("transformer.wte.weight", (spec.vocab, c)),
           ("transformer.wpe.weight", (spec.n_ctx, c))]
    for i in range(spec.n_layer):
        h = f"transformer.h.{i}"
        out += ln(f"{h}.ln_1") + _linear(f"{h}.attn.c_attn", c, 3 * c, b)
        out += _linear(f"{h}.attn.c_proj", c, c, b) + ln(f"{h}.ln_2")
        out += _linear(f"{h}.mlp.c_fc", c, spec.d_ff, b) + _linear(f"{h}.mlp.c_proj",
                                                                   spec.d_ff, c, b)
    out += ln("transformer.ln_f")
    if not spec.tied_embeddings:
        out.append(("lm_head.weight", (c, spec.vocab)))
    return out


def init_params(spec: TransformerSpec) -> dict[str, np.ndarray]:
    """nanoGPT's initialisation from ``spec.seed``: weights N(0, 0.02²) (the residual
    projections ``c_proj`` N(0, (0.02/√(2·n_layer))²)), biases 0, layer norms 1 and 0."""
    rng = np.random.default_rng(spec.seed)
    out = {}
    for name, shape in param_shapes(spec):
        if name.endswith(".bias"):
            out[name] = np.zeros(shape)
        elif ".ln_" in name:
            out[name] = np.ones(shape)
        else:
            std = 0.02 / math.sqrt(2 * spec.n_layer) if "c_proj" in name else 0.02
            out[name] = rng.normal(0.0, std, shape)
    return out


def tokens(spec: TransformerSpec) -> tuple[np.ndarray, np.ndarray]:
    """Tokens ``idx`` and ``targets`` (batch × n_ctx), drawn from ``spec.seed + 1``."""
    rng = np.random.default_rng(spec.seed + 1)
    shape = (spec.batch, spec.n_ctx)
    return rng.integers(0, spec.vocab, shape), rng.integers(0, spec.vocab, shape)


def layer_norm(x: Any, w: Any, b: Any) -> Any:
    """(x − mean)/√(var + eps)·w (+ b) over the last axis."""
    mu = x.mean(axis=-1, keepdims=True)
    xc = x - mu
    var = (xc * xc).mean(axis=-1, keepdims=True)
    y = xc / np.sqrt(var + EPS) * w
    return y if b is None else y + b


def gelu(x: Any) -> Any:
    """The tanh form of GELU."""
    return 0.5 * x * (1.0 + np.tanh(GELU_C * (x + 0.044715 * x ** 3)))


def _matmul(products: bool) -> Callable[[str, Any, Any], Any]:
    def mm(comp: str, a: Any, b: Any) -> Any:
        if not products:
            return a @ b
        with component(comp + PRODUCT):
            return a @ b
    return mm


def embedding(p: Mapping[str, Any], idx: np.ndarray) -> Any:
    """x = wte[idx] + wpe[0..T−1]: the first step of the forward pass (``p``: the
    parameters by name, those of :func:`step_names` for step 0 at least)."""
    with component("embedding"):
        return np.take(p["transformer.wte.weight"], idx, axis=0) + \
            p["transformer.wpe.weight"][:idx.shape[1]]


def block(spec: TransformerSpec, p: Mapping[str, Any], i: int, x: Any, *,
          products: bool = False) -> Any:
    """Block ``i`` (from 0) on the residual stream ``x`` (B × T × C): x + attn(ln_1(x)),
    then + mlp(ln_2(·))."""
    mm = _matmul(products)
    B, T, C = x.shape  # noqa: N806
    H = spec.n_head  # noqa: N806
    D = C // H  # noqa: N806
    causal = np.tril(np.ones((T, T), dtype=bool))
    scale = 1.0 / math.sqrt(D)
    h = f"transformer.h.{i}"
    with component("ln"):
        u = layer_norm(x, p[f"{h}.ln_1.weight"], p.get(f"{h}.ln_1.bias"))
    with component("attn.qkv"):
        qkv = mm("attn.qkv", u, p[f"{h}.attn.c_attn.weight"])
        if spec.bias:
            qkv = qkv + p[f"{h}.attn.c_attn.bias"]
        q, k, v = (qkv[..., j * C:(j + 1) * C].reshape(B, T, H, D).transpose(0, 2, 1, 3)
                   for j in range(3))
    with component("attn.scores"):
        s = mm("attn.scores", q, k.swapaxes(-1, -2)) * scale
        s = np.where(causal, s, MASKED)
    with component("attn.softmax"):
        e = np.exp(s - s.max(axis=-1, keepdims=True))
        a = e / e.sum(axis=-1, keepdims=True)
    with component("attn.values"):
        y = mm("attn.values", a, v).transpose(0, 2, 1, 3).reshape(B, T, C)
    with component("attn.proj"):
        y = mm("attn.proj", y, p[f"{h}.attn.c_proj.weight"])
        if spec.bias:
            y = y + p[f"{h}.attn.c_proj.bias"]
    with component("residual"):
        x = x + y
    with component("ln"):
        u = layer_norm(x, p[f"{h}.ln_2.weight"], p.get(f"{h}.ln_2.bias"))
    with component("mlp.fc"):
        u = mm("mlp.fc", u, p[f"{h}.mlp.c_fc.weight"])
        if spec.bias:
            u = u + p[f"{h}.mlp.c_fc.bias"]
    with component("mlp.act"):
        u = gelu(u) if spec.activation == "gelu" else np.maximum(u, 0.0)
    with component("mlp.proj"):
        u = mm("mlp.proj", u, p[f"{h}.mlp.c_proj.weight"])
        if spec.bias:
            u = u + p[f"{h}.mlp.c_proj.bias"]
    with component("residual"):
        return x + u


def head_loss(spec: TransformerSpec, p: Mapping[str, Any], x: Any, targets: np.ndarray,
              *, products: bool = False) -> Any:
    """ln_f, the head and the mean cross-entropy: the last step of the forward pass."""
    mm = _matmul(products)
    with component("ln_f"):
        x = layer_norm(x, p["transformer.ln_f.weight"], p.get("transformer.ln_f.bias"))
    with component("head"):
        logits = mm("head", x, p["transformer.wte.weight"].T if spec.tied_embeddings
                    else p["lm_head.weight"])
    with component("loss"):
        n = targets.size
        z = logits.reshape(n, spec.vocab)
        z = z - z.max(axis=-1, keepdims=True)
        lse = np.log(np.exp(z).sum(axis=-1))
        picked = z[np.arange(n), targets.reshape(-1)]
        return (lse - picked).mean()


def step_names(spec: TransformerSpec, step: int) -> tuple[str, ...]:
    """The parameters step ``step`` reads (0: the embedding, 1..n_layer: the blocks,
    n_layer + 1: ln_f, the head and the loss), in :func:`param_shapes` order.

    >>> from cheapgrad.models.transformer_spec import TransformerSpec
    >>> s = TransformerSpec(vocab=5, n_ctx=3, d_model=4, n_head=2, n_layer=1, d_ff=8)
    >>> step_names(s, 0), step_names(s, 2)
    (('transformer.wte.weight', 'transformer.wpe.weight'), \
('transformer.wte.weight', 'transformer.ln_f.weight', 'transformer.ln_f.bias'))
    """
    names = [n for n, _ in param_shapes(spec)]
    if step == 0:
        return tuple(n for n in names if n in ("transformer.wte.weight",
                                               "transformer.wpe.weight"))
    if step <= spec.n_layer:
        return tuple(n for n in names if n.startswith(f"transformer.h.{step - 1}."))
    head = "transformer.wte.weight" if spec.tied_embeddings else "lm_head.weight"
    return tuple(n for n in names if n == head or n.startswith("transformer.ln_f."))


def gpt_loss(spec: TransformerSpec, idx: np.ndarray, targets: np.ndarray, *,
             products: bool = False) -> tuple[Callable[..., Any], tuple[str, ...]]:
    """The loss as a function of the parameters (in :func:`param_shapes` order), and
    their names: ``f(*params)`` runs on plain, counted or scalar-engine arrays.
    ``products``: label each matrix product ``component + PRODUCT`` (see :data:`PRODUCT`).
    It is :func:`embedding`, :func:`block` for each block, then :func:`head_loss`."""
    names = tuple(n for n, _ in param_shapes(spec))

    def f(*arrays: Any) -> Any:
        p = dict(zip(names, arrays, strict=True))
        x = embedding(p, idx)
        for i in range(spec.n_layer):
            x = block(spec, p, i, x, products=products)
        return head_loss(spec, p, x, targets, products=products)

    return f, names


def plain_loss(spec: TransformerSpec, params: dict[str, np.ndarray]) -> float:
    """The loss on plain float arrays (no counting)."""
    idx, targets = tokens(spec)
    f, names = gpt_loss(spec, idx, targets)
    return float(f(*(params[n] for n in names)))
