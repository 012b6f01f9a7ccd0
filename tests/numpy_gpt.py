"""An independent GPT-2 in plain numpy, forward and a hand-written backward: the reference
the counted model (``cheapgrad.models.transformer``) is checked against without PyTorch.

Written separately from the counted model: it takes nanoGPT's state dict in PyTorch
layout (``nn.Linear`` weights (out, in), as ``--save-arrays`` writes them), masks with a
true −∞, uses ``x.var``/``np.add.at``, and derives every gradient by hand (no automatic
differentiation, nothing from cheapgrad). Names and layout: karpathy/nanoGPT, ``model.py``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

EPS = 1e-5
GELU_C = math.sqrt(2.0 / math.pi)

Cache = dict[str, Any]


def _ln_fwd(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> tuple[np.ndarray, Cache]:
    mu = x.mean(-1, keepdims=True)
    rstd = 1.0 / np.sqrt(x.var(-1, keepdims=True) + EPS)
    xhat = (x - mu) * rstd
    y = xhat * w + (0.0 if b is None else b)
    return y, {"xhat": xhat, "rstd": rstd, "w": w}


def _ln_bwd(dy: np.ndarray, c: Cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    xhat, rstd = c["xhat"], c["rstd"]
    dxhat = dy * c["w"]
    dx = rstd * (dxhat - dxhat.mean(-1, keepdims=True)
                 - xhat * (dxhat * xhat).mean(-1, keepdims=True))
    axes = tuple(range(dy.ndim - 1))
    return dx, (dy * xhat).sum(axes), dy.sum(axes)


def _lin_fwd(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """``nn.Linear``: x·Wᵀ + b with W (out, in)."""
    y = np.einsum("...i,oi->...o", x, w)
    return y if b is None else y + b


def _lin_bwd(dy: np.ndarray, x: np.ndarray, w: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dw = dy.reshape(-1, dy.shape[-1]).T @ x.reshape(-1, x.shape[-1])
    return dy @ w, dw, dy.reshape(-1, dy.shape[-1]).sum(0)


def loss_and_grads(sd: dict[str, np.ndarray], idx: np.ndarray, targets: np.ndarray,
                   n_head: int, activation: str = "gelu"
                   ) -> tuple[float, dict[str, np.ndarray]]:
    """Mean cross-entropy of nanoGPT's GPT (explicit attention) and the gradient of every
    array of the state dict ``sd`` (same names, same layout). Tied embeddings when ``sd``
    has no ``lm_head.weight``; biases when it has ``...ln_f.bias``."""
    g = {k: np.zeros_like(v) for k, v in sd.items()}
    B, T = idx.shape  # noqa: N806
    wte = sd["transformer.wte.weight"]
    V, C = wte.shape  # noqa: N806
    H = n_head  # noqa: N806
    D = C // H  # noqa: N806
    n_layer = 1 + max([int(k.split(".")[2]) for k in sd if k.startswith("transformer.h.")],
                      default=-1)
    mask = np.tril(np.ones((T, T), dtype=bool))

    def heads(t: np.ndarray) -> np.ndarray:
        return t.reshape(B, T, H, D).transpose(0, 2, 1, 3)

    def joined(t: np.ndarray) -> np.ndarray:
        return t.transpose(0, 2, 1, 3).reshape(B, T, C)

    # forward
    x = wte[idx] + sd["transformer.wpe.weight"][:T]
    caches = []
    for i in range(n_layer):
        p = f"transformer.h.{i}."
        c: Cache = {"x0": x}
        u, c["ln1"] = _ln_fwd(x, sd[p + "ln_1.weight"], sd.get(p + "ln_1.bias"))
        c["u1"] = u
        qkv = _lin_fwd(u, sd[p + "attn.c_attn.weight"], sd.get(p + "attn.c_attn.bias"))
        q, k, v = (heads(qkv[..., j * C:(j + 1) * C]) for j in range(3))
        s = np.where(mask, q @ k.transpose(0, 1, 3, 2) / math.sqrt(D), -np.inf)
        e = np.exp(s - s.max(-1, keepdims=True))
        a = e / e.sum(-1, keepdims=True)
        y = joined(a @ v)
        c.update(q=q, k=k, v=v, a=a, y=y)
        x = x + _lin_fwd(y, sd[p + "attn.c_proj.weight"], sd.get(p + "attn.c_proj.bias"))
        c["x1"] = x
        u, c["ln2"] = _ln_fwd(x, sd[p + "ln_2.weight"], sd.get(p + "ln_2.bias"))
        c["u2"] = u
        hpre = _lin_fwd(u, sd[p + "mlp.c_fc.weight"], sd.get(p + "mlp.c_fc.bias"))
        if activation == "gelu":
            t = np.tanh(GELU_C * (hpre + 0.044715 * hpre ** 3))
            hact = 0.5 * hpre * (1.0 + t)
            c["t"] = t
        else:
            hact = np.maximum(hpre, 0.0)
        c.update(hpre=hpre, hact=hact)
        x = x + _lin_fwd(hact, sd[p + "mlp.c_proj.weight"], sd.get(p + "mlp.c_proj.bias"))
        caches.append(c)
    xf, lnf = _ln_fwd(x, sd["transformer.ln_f.weight"], sd.get("transformer.ln_f.bias"))
    head_name = "lm_head.weight" if "lm_head.weight" in sd else "transformer.wte.weight"
    logits = (xf @ sd[head_name].T).reshape(B * T, V)
    z = logits - logits.max(-1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
    tgt = targets.reshape(-1)
    loss = float(-logp[np.arange(B * T), tgt].mean())

    # backward
    dlogits = np.exp(logp)
    dlogits[np.arange(B * T), tgt] -= 1.0
    dlogits = (dlogits / (B * T)).reshape(B, T, V)
    g[head_name] += dlogits.reshape(-1, V).T @ xf.reshape(-1, C)
    dx, dw, db = _ln_bwd(dlogits @ sd[head_name], lnf)
    g["transformer.ln_f.weight"] += dw
    if "transformer.ln_f.bias" in g:
        g["transformer.ln_f.bias"] += db
    for i in reversed(range(n_layer)):
        p, c = f"transformer.h.{i}.", caches[i]

        def lin_back(dy: np.ndarray, xin: np.ndarray, name: str) -> np.ndarray:
            dxin, dw_, db_ = _lin_bwd(dy, xin, sd[name + ".weight"])
            g[name + ".weight"] += dw_
            if name + ".bias" in g:
                g[name + ".bias"] += db_
            return dxin

        def ln_back(dy: np.ndarray, cache: Cache, name: str) -> np.ndarray:
            dxin, dw_, db_ = _ln_bwd(dy, cache)
            g[name + ".weight"] += dw_
            if name + ".bias" in g:
                g[name + ".bias"] += db_
            return dxin

        # x = x1 + mlp(ln_2(x1))
        dh = lin_back(dx, c["hact"], p + "mlp.c_proj")
        hpre = c["hpre"]
        if activation == "gelu":
            t = c["t"]
            dh = dh * (0.5 * (1.0 + t) + 0.5 * hpre * (1.0 - t * t) * GELU_C
                       * (1.0 + 3 * 0.044715 * hpre ** 2))
        else:
            dh = dh * (hpre > 0)
        du = lin_back(dh, c["u2"], p + "mlp.c_fc")
        dx = dx + ln_back(du, c["ln2"], p + "ln_2")
        # x1 = x0 + attn(ln_1(x0))
        dy = heads(lin_back(dx, c["y"], p + "attn.c_proj"))
        a, q, k, v = c["a"], c["q"], c["k"], c["v"]
        da = dy @ v.transpose(0, 1, 3, 2)
        dv = a.transpose(0, 1, 3, 2) @ dy
        ds = a * (da - (da * a).sum(-1, keepdims=True)) / math.sqrt(D)
        dq, dk = ds @ k, ds.transpose(0, 1, 3, 2) @ q
        dqkv = np.concatenate([joined(dq), joined(dk), joined(dv)], axis=-1)
        du = lin_back(dqkv, c["u1"], p + "attn.c_attn")
        dx = dx + ln_back(du, c["ln1"], p + "ln_1")
    np.add.at(g["transformer.wte.weight"], idx, dx)
    g["transformer.wpe.weight"][:T] += dx.sum(0)
    return loss, g
