"""A transformer's weights as nanoGPT's state dict: names and PyTorch layouts.

The names are those of nanoGPT's ``GPT.state_dict()`` (karpathy/nanoGPT, ``model.py``):
``transformer.wte.weight`` (vocab, d), ``transformer.wpe.weight`` (n_ctx, d),
``transformer.h.{i}.ln_1.weight|bias``, ``.attn.c_attn.weight|bias``,
``.attn.c_proj.*``, ``.ln_2.*``, ``.mlp.c_fc.*``, ``.mlp.c_proj.*``,
``transformer.ln_f.weight|bias``, ``lm_head.weight`` when the embeddings are untied.
A Linear's weight is stored as ``nn.Linear`` stores it, (out, in); the counted model
(:mod:`cheapgrad.models.transformer`) keeps (in, out), so :func:`to_torch` and
:func:`from_torch` transpose those (:data:`LINEAR`) and nothing else.

:func:`saved_arrays` is what ``cheapgrad run SPEC --save-arrays FILE.npz`` writes: the
state dict, ``idx`` and ``targets`` (batch × n_ctx), ``loss`` and ``grad_<name>`` for
every parameter (same layout). :func:`read_weights` reads such a file, or any state dict
converted to ``.npz`` (``--load-weights``): every parameter of the spec must be there,
float, finite and of nanoGPT's shape; ``idx``/``targets`` are read when present (integers
in 0..vocab−1, batch × n_ctx), else drawn from the seed. Accepted as nanoGPT writes them:
a tied ``lm_head.weight`` equal to ``transformer.wte.weight``, the ``.attn.bias`` mask
buffers (ignored), a ``transformer.wpe.weight`` with more rows than n_ctx (a checkpoint's
block_size: its first n_ctx rows are used, as nanoGPT's ``crop_block_size`` does).

Example::

    >>> from cheapgrad.models.transformer import init_params
    >>> from cheapgrad.models.transformer_spec import TransformerSpec
    >>> s = TransformerSpec(vocab=5, n_ctx=3, d_model=4, n_head=2, n_layer=1, d_ff=8)
    >>> p = init_params(s)
    >>> name = "transformer.h.0.mlp.c_fc.weight"
    >>> p[name].shape, to_torch(s, p)[name].shape
    ((4, 8), (8, 4))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cheapgrad.errors import SpecError
from cheapgrad.models.npzfile import read_npz
from cheapgrad.models.transformer import param_shapes, tokens
from cheapgrad.models.transformer_spec import TransformerSpec
from cheapgrad.util import did_you_mean

__all__ = ["LINEAR", "TransformerWeights", "from_torch", "read_weights", "saved_arrays",
           "to_torch"]

#: The names whose weight is an ``nn.Linear``'s, (out, in) in PyTorch.
LINEAR = (".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight",
          ".mlp.c_proj.weight", "lm_head.weight")
#: The non-parameter arrays of a saved file.
DATA = ("idx", "targets", "loss")


def _is_linear(name: str) -> bool:
    return name.endswith(LINEAR)


def to_torch(spec: TransformerSpec, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The parameters in nanoGPT's order and PyTorch layout (Linear weights (out, in))."""
    return {n: np.ascontiguousarray(params[n].T) if _is_linear(n) else params[n]
            for n, _ in param_shapes(spec)}


def from_torch(spec: TransformerSpec, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The inverse of :func:`to_torch`: the counted model's (in, out) layout."""
    return {n: np.ascontiguousarray(state[n].T) if _is_linear(n) else state[n]
            for n, _ in param_shapes(spec)}


def torch_shapes(spec: TransformerSpec) -> dict[str, tuple[int, ...]]:
    """nanoGPT's shape of every parameter."""
    return {n: s[::-1] if _is_linear(n) else s for n, s in param_shapes(spec)}


def saved_arrays(spec: TransformerSpec, params: dict[str, np.ndarray],
                 grads: dict[str, np.ndarray], idx: np.ndarray, targets: np.ndarray,
                 loss: float) -> dict[str, np.ndarray]:
    """What ``--save-arrays`` writes: state dict, idx, targets, loss, grad_<name>."""
    out = to_torch(spec, params)
    out.update(idx=np.asarray(idx), targets=np.asarray(targets), loss=np.array(loss))
    out.update({f"grad_{n}": g for n, g in to_torch(spec, grads).items()})
    return out


@dataclass(frozen=True)
class TransformerWeights:
    """Weights (the counted model's (in, out) layout), tokens and targets from a file."""

    params: dict[str, np.ndarray]
    idx: np.ndarray
    targets: np.ndarray
    source: str
    tokens_from_file: bool


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def _float(arr: np.ndarray, source: str, name: str) -> np.ndarray:
    if arr.dtype.kind != "f":
        raise SpecError(f"must be an array of floats, got {arr.dtype}", path=source,
                        field=name)
    out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        raise SpecError("holds a value that is not finite (nan or inf)", path=source,
                        field=name)
    return out


def _ints(arr: np.ndarray, spec: TransformerSpec, source: str, name: str) -> np.ndarray:
    want = (spec.batch, spec.n_ctx)
    if arr.dtype.kind not in "iu":
        raise SpecError(f"must be an array of integer token ids, got {arr.dtype}",
                        path=source, field=name)
    if arr.shape != want:
        raise SpecError(f"expected shape {_shape(want)} (batch, n_ctx), got "
                        f"{_shape(arr.shape)}", path=source, field=name)
    if arr.size and (arr.min() < 0 or arr.max() >= spec.vocab):
        bad = arr.min() if arr.min() < 0 else arr.max()
        raise SpecError(f"token id {bad} is outside 0..{spec.vocab - 1} (vocab)",
                        path=source, field=name)
    return arr.astype(np.int64)


def read_weights(path: str | Path, spec: TransformerSpec) -> TransformerWeights:
    """The weights (and tokens) of the ``.npz`` file ``path`` for ``spec`` (see the module
    docstring); a bad file is a :class:`~cheapgrad.errors.SpecError` naming it."""
    source = str(path)
    arrays = read_npz(path)
    shapes = torch_shapes(spec)
    known = set(shapes) | set(DATA) | {"lm_head.weight"}  # a tied head: checked below
    extra = [k for k in arrays if k not in known and not k.startswith("grad_")
             and not (k.startswith("transformer.h.") and k.endswith(".attn.bias"))]
    for name in shapes:
        if name not in arrays:
            hint = did_you_mean(name, extra) or (
                " (untied embeddings in the spec; are the file's tied?)"
                if name == "lm_head.weight" else
                " (biases in the spec; has the file none? then bias: false)"
                if name.endswith(".bias") else "")
            raise SpecError(f"no array '{name}', a parameter of this spec{hint}",
                            path=source)
    state = {}
    for name, want in shapes.items():
        arr = arrays[name]
        if name == "transformer.wpe.weight" and arr.ndim == 2 and arr.shape[0] > want[0] \
                and arr.shape[1] == want[1]:
            arr = arr[:want[0]]  # a checkpoint's block_size > n_ctx: crop_block_size
        if arr.shape != want:
            raise SpecError(f"expected shape {_shape(want)}, got {_shape(arr.shape)}",
                            path=source, field=name)
        state[name] = _float(arr, source, name)
    if "lm_head.weight" in arrays and spec.tied_embeddings:
        head = arrays["lm_head.weight"]
        if head.shape != state["transformer.wte.weight"].shape or \
                not np.array_equal(head, arrays["transformer.wte.weight"]):
            raise SpecError("differs from transformer.wte.weight, but the spec ties the "
                            "embeddings (set tied_embeddings: false)", path=source,
                            field="lm_head.weight")
    if extra:
        raise SpecError(f"not a parameter of this spec: '{extra[0]}'"
                        + (f" and {len(extra) - 1} more" if len(extra) > 1 else "")
                        + did_you_mean(extra[0], list(shapes)), path=source)
    drawn_idx, drawn_targets = tokens(spec)
    given = [k for k in ("idx", "targets") if k in arrays]
    if len(given) == 1:
        raise SpecError(f"has '{given[0]}' but not '{({'idx', 'targets'} - set(given)).pop()}'"
                        ": give both, or neither (both are then drawn from the seed)",
                        path=source)
    if given:
        idx = _ints(arrays["idx"], spec, source, "idx")
        targets = _ints(arrays["targets"], spec, source, "targets")
    else:
        idx, targets = drawn_idx, drawn_targets
    return TransformerWeights(from_torch(spec, state), idx, targets, source, bool(given))
