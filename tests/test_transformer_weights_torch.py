"""nanoGPT's GPT as an ``nn.Module`` (skipped without torch): the state dict that
``--save-arrays`` writes loads into it and reproduces the loss and every gradient, and
its own ``state_dict()``, saved as ``.npz``, is counted by ``--load-weights`` with the
same loss. The module follows karpathy/nanoGPT ``model.py`` (explicit attention, the
causal mask as a buffer named ``attn.bias``, ``lm_head`` tied to ``wte``)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from cheapgrad.cli.app import main

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

SPEC = ("model: transformer\nvocab: 11\nn_ctx: 4\nd_model: 8\nn_head: 2\nn_layer: 2\n"
        "batch: 2\n")


class LayerNorm(nn.Module):  # type: ignore[misc]
    def __init__(self, ndim: int, bias: bool) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, x: Any) -> Any:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


class Block(nn.Module):  # type: ignore[misc]
    def __init__(self, c: int, h: int, t: int, bias: bool, act: str) -> None:
        super().__init__()
        self.n_head, self.act = h, act
        self.ln_1, self.ln_2 = LayerNorm(c, bias), LayerNorm(c, bias)
        self.attn = nn.Module()
        self.attn.c_attn = nn.Linear(c, 3 * c, bias=bias)
        self.attn.c_proj = nn.Linear(c, c, bias=bias)
        self.attn.register_buffer("bias", torch.tril(torch.ones(t, t)).view(1, 1, t, t))
        self.mlp = nn.Module()
        self.mlp.c_fc = nn.Linear(c, 4 * c, bias=bias)
        self.mlp.c_proj = nn.Linear(4 * c, c, bias=bias)

    def attention(self, x: Any) -> Any:
        B, T, C = x.size()  # noqa: N806
        q, k, v = self.attn.c_attn(x).split(C, dim=2)
        q, k, v = (z.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
                   for z in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.attn.bias[:, :, :T, :T] == 0, float("-inf"))
        y = (F.softmax(att, dim=-1) @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.attn.c_proj(y)

    def forward(self, x: Any) -> Any:
        x = x + self.attention(self.ln_1(x))
        u = self.mlp.c_fc(self.ln_2(x))
        u = F.gelu(u, approximate="tanh") if self.act == "gelu" else F.relu(u)
        return x + self.mlp.c_proj(u)


class GPT(nn.Module):  # type: ignore[misc]
    def __init__(self, v: int, t: int, c: int, h: int, n_layer: int, bias: bool = True,
                 tied: bool = True, act: str = "gelu") -> None:
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(v, c), wpe=nn.Embedding(t, c),
            h=nn.ModuleList([Block(c, h, t, bias, act) for _ in range(n_layer)]),
            ln_f=LayerNorm(c, bias)))
        self.lm_head = nn.Linear(c, v, bias=False)
        if tied:
            self.transformer.wte.weight = self.lm_head.weight

    def forward(self, idx: Any, targets: Any) -> Any:
        t = idx.size(1)
        x = self.transformer.wte(idx) + self.transformer.wpe(torch.arange(t))
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def _run(*args: str) -> Any:
    r = CliRunner().invoke(main, ["run", *args, "--format", "json"])
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize("extra", ["", "tied_embeddings: false\nbias: false\n"
                                   "activation: relu\n"])
def test_saved_state_dict_loads_into_nanogpt(extra: str, tmp_path: Path,
                                             write_file: Callable[..., str]) -> None:
    spec, npz = write_file(SPEC + extra), tmp_path / "w.npz"
    doc = _run(spec, "--save-arrays", str(npz))
    with np.load(npz) as data:
        arrays = {k: data[k] for k in data.files}
    tied = "lm_head.weight" not in arrays
    model = GPT(11, 4, 8, 2, 2, bias=not extra, tied=tied,
                act="relu" if extra else "gelu").double()
    state = {k: torch.from_numpy(v) for k, v in arrays.items()
             if not k.startswith("grad_") and k not in ("idx", "targets", "loss")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected
    assert all(k.endswith(".attn.bias") or (tied and k == "lm_head.weight") for k in missing)
    loss = model(torch.from_numpy(arrays["idx"]), torch.from_numpy(arrays["targets"]))
    loss.backward()
    assert abs(loss.item() - float(arrays["loss"])) < 1e-9
    assert abs(loss.item() - doc["loss"]) < 1e-9
    names = dict(model.named_parameters())
    assert sorted(names) == sorted(k[5:] for k in arrays if k.startswith("grad_"))
    for name, p in names.items():
        assert np.max(np.abs(p.grad.numpy() - arrays[f"grad_{name}"])) < 1e-9, name


def test_a_torch_state_dict_is_counted(tmp_path: Path,
                                       write_file: Callable[..., str]) -> None:
    """nanoGPT's state_dict() as it comes (tied lm_head.weight, attn.bias buffers), saved
    with numpy, counted by --load-weights on its own tokens: torch's loss."""
    torch.manual_seed(0)
    model = GPT(11, 4, 8, 2, 2).double()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.1 * torch.randn_like(p))
    idx, targets = torch.randint(0, 11, (2, 4)), torch.randint(0, 11, (2, 4))
    loss = model(idx, targets)
    npz = tmp_path / "ckpt.npz"
    np.savez(npz, idx=idx.numpy(), targets=targets.numpy(),
             **{k: v.numpy() for k, v in model.state_dict().items()})
    doc = _run(write_file(SPEC), "--load-weights", str(npz))
    assert abs(doc["loss"] - loss.item()) < 1e-9 and doc["passed"]
