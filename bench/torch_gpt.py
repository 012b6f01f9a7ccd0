"""nanoGPT's GPT in PyTorch, functional, from cheapgrad's weights (float64): the twin that
``tests/test_transformer_torch.py`` checks the counted model against and
``bench/bench_transformer.py`` times. PyTorch is a benchmark and test dependency only."""

from __future__ import annotations

import math

import numpy as np
import torch

from cheapgrad.models.transformer_spec import TransformerSpec

F = torch.nn.functional


def torch_loss(spec: TransformerSpec, p: dict[str, object], idx: np.ndarray,
                targets: np.ndarray) -> object:
    """nanoGPT's forward (explicit attention), functional, weights in torch layout."""
    B, T = idx.shape  # noqa: N806
    C, H = spec.d_model, spec.n_head  # noqa: N806

    def linear(x: object, name: str) -> object:
        return F.linear(x, p[f"{name}.weight"].T, p.get(f"{name}.bias"))

    def ln(x: object, name: str) -> object:
        return F.layer_norm(x, (C,), p[f"{name}.weight"], p.get(f"{name}.bias"), 1e-5)

    x = F.embedding(torch.as_tensor(idx), p["transformer.wte.weight"]) \
        + p["transformer.wpe.weight"][:T]
    mask = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(spec.n_layer):
        h = f"transformer.h.{i}"
        q, k, v = linear(ln(x, f"{h}.ln_1"), f"{h}.attn.c_attn").split(C, dim=2)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = F.softmax(att.masked_fill(~mask, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        x = x + linear(y, f"{h}.attn.c_proj")
        u = linear(ln(x, f"{h}.ln_2"), f"{h}.mlp.c_fc")
        u = F.gelu(u, approximate="tanh") if spec.activation == "gelu" else F.relu(u)
        x = x + linear(u, f"{h}.mlp.c_proj")
    x = ln(x, "transformer.ln_f")
    head = p["transformer.wte.weight"] if spec.tied_embeddings else p["lm_head.weight"].T
    logits = F.linear(x, head)
    return F.cross_entropy(logits.view(-1, spec.vocab), torch.as_tensor(targets).view(-1))
