"""Cross-check against PyTorch (skipped without torch): nanoGPT's GPT written in torch
from the same weights, float64. Its loss and every gradient agree with the counted model
to 1e-9, and FlopCounterMode's forward and measured backward flops equal cheapgrad's
flop model number for number."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pytest

from cheapgrad.analysis.program import run_program
from cheapgrad.analysis.transformer import run_transformer
from cheapgrad.models.transformer import gpt_loss, init_params, tokens
from cheapgrad.models.transformer_spec import TransformerSpec

torch = pytest.importorskip("torch")
flop_counter = pytest.importorskip("torch.utils.flop_counter")
sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from torch_gpt import torch_loss as _torch_loss  # noqa: E402

SPECS = [
    TransformerSpec(vocab=13, n_ctx=5, d_model=8, n_head=2, n_layer=2, d_ff=12, batch=2),
    TransformerSpec(vocab=9, n_ctx=4, d_model=6, n_head=3, n_layer=1, d_ff=24, batch=3,
                    bias=False, tied_embeddings=False, seed=3),
]


@pytest.mark.parametrize("spec", SPECS + [dataclasses.replace(SPECS[0], activation="relu")])
def test_loss_and_gradients_match_torch(spec: TransformerSpec) -> None:
    params = init_params(spec)
    rng = np.random.default_rng(7)  # away from the init's zero biases and unit gains
    params = {k: v + 0.1 * rng.normal(size=v.shape) for k, v in params.items()}
    idx, targets = tokens(spec)
    f, names = gpt_loss(spec, idx, targets)
    r = run_program(f, {n: params[n] for n in names}, check=False, methods=False)
    tp = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
          for k, v in params.items()}
    loss = _torch_loss(spec, tp, idx, targets)
    loss.backward()
    assert abs(loss.item() - r.value) < 1e-9
    for name in names:
        got, want = r.gradients[name], tp[name].grad.numpy()
        assert np.max(np.abs(got - want)) < 1e-9, name


@pytest.mark.parametrize("spec", SPECS)
def test_flop_model_is_flopcountermode(spec: TransformerSpec) -> None:
    params = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True)
              for k, v in init_params(spec).items()}
    idx, targets = tokens(spec)
    with flop_counter.FlopCounterMode(display=False) as fwd:
        loss = _torch_loss(spec, params, idx, targets)
    with flop_counter.FlopCounterMode(display=False) as bwd:
        loss.backward()
    for engine in ("array", "shapes"):
        flop = run_transformer(spec, engine).cost_models()["flop"]
        assert flop.cost_f == fwd.get_total_flops()
        assert flop.cost_f_and_grad - flop.cost_f == bwd.get_total_flops()
