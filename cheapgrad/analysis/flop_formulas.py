"""The published compute formulas of transformer training, as functions of the architecture.

Every reference that says "training costs about 6N FLOPs per token" counts something
slightly different. This module writes each one down exactly as published, per token of
one forward and backward pass (a multiply-add = 2 FLOPs), with what it leaves out and
where it comes from, so that :mod:`cheapgrad.analysis.sixn` can put each beside the
counts cheapgrad measures:

``kaplan-6n``
    Kaplan et al. 2020, *Scaling Laws for Neural Language Models*, §2.1: C ≈ 6N, with
    N = 2·d_model·n_layer·(2·d_attn + d_ff) (Table 1, embeddings excluded).
``kaplan``
    The same paper's Table 1 in full: C_forward = 2N + 2·n_layer·n_ctx·d_attn, training
    = 3·C_forward ("the backwards pass is approximately twice the compute").
``chinchilla``
    Hoffmann et al. 2022, *Training Compute-Optimal Large Language Models*, Appendix F,
    as written: embeddings 2·T·V·d_model (a matmul), key/query/value projections, the
    T×T logits, softmax 3 per score, softmax@V, the output projection, the dense block,
    the output logits; backward 2× forward.
``chinchilla-a4``
    The same without embeddings and output logits: the form that reproduces their Table A4
    (nanoGPT's ``scaling_laws.ipynb``, from the authors' correspondence).
``megatron``
    Narayanan et al. 2021, *Efficient Large-Scale Language Model Training on GPU Clusters
    Using Megatron-LM*, Appendix: 72·B·s·l·h²·(1 + s/6h + V/12lh) without activation
    recomputation (Megatron-LM's ``num_floating_point_operations`` in ``training.py``
    computes this form). Written, as in the paper, for an MLP of width 4h: with another
    d_ff it misses the difference.
``megatron-recompute``
    The paper's headline form with recomputation, 96·B·s·l·h²·(1 + s/6h + V/16lh): it
    counts one more forward pass of the layers, so it prices a different computation.
``nanogpt-6n``
    6N with nanoGPT's N: ``GPT.get_num_params()``, every parameter except the position
    embeddings (wte counts, tied to the head).
``palm``
    Chowdhery et al. 2022 (PaLM), Appendix B, as nanoGPT's ``estimate_mfu`` computes it:
    6N + 12·L·H·Q·T, N as above, L layers, H heads, Q = d_model/H, T = n_ctx.

A formula is evaluated on anything with the fields of a transformer spec
(:class:`Architecture`); :func:`parameter_count` is nanoGPT's parameter count for it.

Example (GPT-2 small; the measured FLOP count is 854,438,400 per token)::

    >>> gpt2 = Arch(vocab=50257, n_ctx=1024, d_model=768, n_head=12, n_layer=12)
    >>> parameter_count(gpt2), kaplan_n(gpt2)
    (124439808, 84934656)
    >>> FORMULAS["megatron"].per_token(gpt2)
    854438400
    >>> round(FORMULAS["kaplan"].per_token(gpt2) / 854438400 - 1, 3)
    -0.337
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


class Architecture(Protocol):
    """What the formulas read: the fields of a transformer spec (GPT-2 as nanoGPT writes
    it; ``d_ff`` is the MLP's hidden width, d_attn = d_model)."""

    @property
    def vocab(self) -> int: ...
    @property
    def n_ctx(self) -> int: ...
    @property
    def d_model(self) -> int: ...
    @property
    def n_head(self) -> int: ...
    @property
    def n_layer(self) -> int: ...
    @property
    def d_ff(self) -> int: ...
    @property
    def bias(self) -> bool: ...
    @property
    def tied_embeddings(self) -> bool: ...


@dataclass(frozen=True)
class Arch:
    """A plain :class:`Architecture`; ``d_ff`` 0 means 4·d_model.

    >>> Arch(vocab=10, n_ctx=4, d_model=8, n_head=2, n_layer=1).d_ff
    32
    """

    vocab: int
    n_ctx: int
    d_model: int
    n_head: int
    n_layer: int
    d_ff: int = 0
    bias: bool = True
    tied_embeddings: bool = True

    def __post_init__(self) -> None:
        if not self.d_ff:
            object.__setattr__(self, "d_ff", 4 * self.d_model)


def parameter_count(a: Architecture) -> int:
    """Every parameter of the GPT-2 model nanoGPT builds for ``a`` (its
    ``sum(p.numel() for p in model.parameters())``): wte, wpe, per block ln_1, c_attn,
    c_proj, ln_2, c_fc, c_proj, then ln_f and, when untied, lm_head.

    >>> parameter_count(Arch(vocab=10, n_ctx=4, d_model=8, n_head=2, n_layer=1, bias=False))
    904
    """
    d, f, b = a.d_model, a.d_ff, int(a.bias)
    block = (2 * (d + b * d)                      # ln_1, ln_2
             + 3 * d * d + b * 3 * d              # attn.c_attn
             + d * d + b * d                      # attn.c_proj
             + d * f + b * f                      # mlp.c_fc
             + f * d + b * d)                     # mlp.c_proj
    head = 0 if a.tied_embeddings else a.vocab * d
    return a.vocab * d + a.n_ctx * d + a.n_layer * block + d + b * d + head


def nanogpt_n(a: Architecture) -> int:
    """nanoGPT's ``get_num_params()``: every parameter but the position embeddings."""
    return parameter_count(a) - a.n_ctx * a.d_model


def kaplan_n(a: Architecture) -> int:
    """Kaplan et al.'s N = 2·d_model·n_layer·(2·d_attn + d_ff) (Table 1; weights of the
    blocks only: no embeddings, biases or layer norms)."""
    return 2 * a.d_model * a.n_layer * (2 * a.d_model + a.d_ff)


def _kaplan_6n(a: Architecture) -> int:
    return 6 * kaplan_n(a)


def _kaplan(a: Architecture) -> int:
    return 3 * (2 * kaplan_n(a) + 2 * a.n_layer * a.n_ctx * a.d_model)


def _chinchilla_layer(a: Architecture) -> int:
    t, d, f, h = a.n_ctx, a.d_model, a.d_ff, a.n_head
    kh = d                                      # key_size · heads
    return (2 * 3 * t * d * kh                  # key, query, value projections
            + 2 * t * t * kh                    # key @ query logits
            + 3 * h * t * t                     # softmax
            + 2 * t * t * kh                    # softmax @ value
            + 2 * t * kh * d                    # final linear
            + 2 * t * (d * f + d * f))          # dense block


def _chinchilla(a: Architecture) -> int:
    t, d, v = a.n_ctx, a.d_model, a.vocab
    forward = 2 * t * v * d + a.n_layer * _chinchilla_layer(a) + 2 * t * d * v
    return 3 * forward // t


def _chinchilla_a4(a: Architecture) -> int:
    return 3 * a.n_layer * _chinchilla_layer(a) // a.n_ctx


def _megatron(a: Architecture) -> int:
    # 72·s·l·h²·(1 + s/6h + V/12lh) per sequence, divided by s tokens
    s, l_, h, v = a.n_ctx, a.n_layer, a.d_model, a.vocab
    return 72 * l_ * h * h + 12 * s * l_ * h + 6 * h * v


def _megatron_recompute(a: Architecture) -> int:
    # 96·s·l·h²·(1 + s/6h + V/16lh) per sequence, divided by s tokens
    s, l_, h, v = a.n_ctx, a.n_layer, a.d_model, a.vocab
    return 96 * l_ * h * h + 16 * s * l_ * h + 6 * h * v


def _nanogpt_6n(a: Architecture) -> int:
    return 6 * nanogpt_n(a)


def _palm(a: Architecture) -> int:
    q = a.d_model // a.n_head
    return 6 * nanogpt_n(a) + 12 * a.n_layer * a.n_head * q * a.n_ctx


@dataclass(frozen=True)
class Formula:
    """One published formula: a short label, the formula as written, its source, what it
    leaves out (short phrases) and its FLOPs per token for forward + backward."""

    key: str
    label: str
    formula: str
    source: str
    leaves_out: tuple[str, ...]
    per_token: Callable[[Architecture], int]

    def per_sequence(self, a: Architecture) -> int:
        """FLOPs for one sequence of n_ctx tokens, forward and backward."""
        return self.per_token(a) * a.n_ctx


_ELEMENTWISE = ("layer norm", "GELU", "residual adds", "loss")

FORMULAS: dict[str, Formula] = {f.key: f for f in (
    Formula("kaplan-6n", "Kaplan 6N", "6N, N = 2·d·L·(2·d_attn + d_ff)",
            "Kaplan et al. 2020, §2.1 and Table 1",
            ("attention T×T terms", "embeddings and logits", "biases", "softmax",
             *_ELEMENTWISE, "backward assumed 2×"),
            _kaplan_6n),
    Formula("kaplan", "Kaplan 3·C_fwd", "3·(2N + 2·L·n_ctx·d_attn)",
            "Kaplan et al. 2020, Table 1",
            ("half of the T×T terms (causal average)", "logits (de-embed)", "biases",
             "softmax", *_ELEMENTWISE, "backward assumed 2×"),
            _kaplan),
    Formula("chinchilla", "Chinchilla App. F", "3·(embed + L·(attn + dense) + logits)",
            "Hoffmann et al. 2022, Appendix F",
            ("biases", *_ELEMENTWISE, "backward assumed 2×; adds the embedding lookup "
             "as a matmul"),
            _chinchilla),
    Formula("chinchilla-a4", "Chinchilla (A4 form)", "3·L·(attn + dense)",
            "Hoffmann et al. 2022, App. F; nanoGPT scaling_laws.ipynb",
            ("embeddings and logits", "biases", *_ELEMENTWISE, "backward assumed 2×"),
            _chinchilla_a4),
    Formula("megatron", "Megatron, no recompute",
            "72·l·h²·(1 + s/6h + V/12lh)·B·s (for d_ff = 4h)",
            "Narayanan et al. 2021, Appendix; Megatron-LM training.py",
            ("biases", "softmax", *_ELEMENTWISE, "backward assumed 2×"),
            _megatron),
    Formula("megatron-recompute", "Megatron, recompute",
            "96·l·h²·(1 + s/6h + V/16lh)·B·s (for d_ff = 4h)",
            "Narayanan et al. 2021, Appendix",
            ("biases", "softmax", *_ELEMENTWISE, "adds a recomputed forward of the layers"),
            _megatron_recompute),
    Formula("nanogpt-6n", "6N, nanoGPT's N", "6N, N = parameters − wpe",
            "nanoGPT model.py get_num_params",
            ("attention T×T terms", "softmax", *_ELEMENTWISE,
             "backward assumed 2×; prices biases and LN gains as 6 FLOPs"),
            _nanogpt_6n),
    Formula("palm", "PaLM / nanoGPT MFU", "6N + 12·L·H·Q·T",
            "Chowdhery et al. 2022, App. B; nanoGPT estimate_mfu",
            ("softmax", *_ELEMENTWISE,
             "backward assumed 2×; prices biases and LN gains as 6 FLOPs"),
            _palm),
)}
