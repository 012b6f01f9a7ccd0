"""Transformer specs: ``model: transformer`` YAML files validated into a
:class:`TransformerSpec` (a GPT-2 decoder as nanoGPT writes it, see
:mod:`cheapgrad.models.transformer`).

Keys: ``model: transformer``, ``name``, ``description``, ``vocab``, ``n_ctx`` (tokens per
sequence, T), ``d_model``, ``n_head`` (must divide ``d_model``), ``n_layer``, ``d_ff``
(default 4·d_model), ``activation`` (``gelu``, the tanh form, or ``relu``), ``bias``
(default true), ``tied_embeddings`` (default true), ``batch`` (default 1), ``seed``
(default 0), ``cost_weights`` (as in MLP specs). Errors name the file, the line and the
field, as for MLP specs (:mod:`cheapgrad.models.spec`).

Example::

    >>> s = transformer_spec_from_yaml(
    ...     "model: transformer\\nvocab: 50257\\nn_ctx: 1024\\nd_model: 768\\n"
    ...     "n_head: 12\\nn_layer: 12\\n", source="gpt2.yaml")
    >>> s.d_ff, s.d_head, s.parameters
    (3072, 64, 124439808)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cheapgrad.errors import SpecError
from cheapgrad.models.spec import Spec, _check_cost_weights, _Checker, spec_from_dict
from cheapgrad.models.yamlio import field_error, name_and_description, parse_yaml, read_text
from cheapgrad.models.yamlio import shown as _shown
from cheapgrad.util import did_you_mean

#: Keys a transformer spec may have.
KEYS = (
    "model", "name", "description", "vocab", "n_ctx", "d_model", "n_head", "n_layer",
    "d_ff", "activation", "bias", "tied_embeddings", "batch", "seed", "cost_weights",
)
REQUIRED = ("vocab", "n_ctx", "d_model", "n_head", "n_layer")
ACTIVATIONS = ("gelu", "relu")
#: Upper limits of the sizes (GPT-3 175B fits well within them).
MAX_DIM = 10_000_000
MAX_LAYERS = 100_000


@dataclass(frozen=True)
class TransformerSpec:
    """A validated transformer spec (see the module docstring)."""

    vocab: int
    n_ctx: int
    d_model: int
    n_head: int
    n_layer: int
    d_ff: int
    activation: str = "gelu"
    bias: bool = True
    tied_embeddings: bool = True
    batch: int = 1
    seed: int = 0
    name: str = "transformer"
    description: str = ""
    cost_weights: dict[str, float] | None = None
    source: str | None = None
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    model = "transformer"

    @property
    def d_head(self) -> int:
        return self.d_model // self.n_head

    @property
    def tokens(self) -> int:
        """Positions the loss averages over: batch · n_ctx."""
        return self.batch * self.n_ctx

    @property
    def parameters(self) -> int:
        """Number of parameters (nanoGPT's ``sum(p.numel())``: a tied head counted once)."""
        c, b = self.d_model, int(self.bias)
        ln = c * (1 + b)
        block = (2 * ln + c * 3 * c + 3 * c * b + c * c + c * b
                 + c * self.d_ff + self.d_ff * b + self.d_ff * c + c * b)
        head = 0 if self.tied_embeddings else self.vocab * c
        return self.vocab * c + self.n_ctx * c + self.n_layer * block + ln + head

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data."""
        d: dict[str, Any] = {"model": "transformer", "name": self.name}
        for k in KEYS[3:14]:
            d[k] = getattr(self, k)
        if self.cost_weights is not None:
            d["cost_weights"] = dict(self.cost_weights)
        return d

    def error(self, message: str, field_name: str | None = None) -> SpecError:
        """A SpecError pointing at this spec's file and the field's line."""
        return field_error(message, self.source, self.lines, field_name)


def is_transformer(data: Any) -> bool:
    """Whether parsed YAML data asks for ``model: transformer``."""
    return isinstance(data, dict) and data.get("model") == "transformer"


def transformer_spec_from_dict(data: dict[str, Any], source: str | None = None,
                               lines: dict[str, int] | None = None) -> TransformerSpec:
    """Validate plain data (as loaded from YAML) into a :class:`TransformerSpec`."""
    lines = lines or {}
    c = _Checker(data, source, lines)
    for key in data:
        if key not in KEYS:
            raise c.fail(key, "unknown key" + did_you_mean(key, KEYS)
                         + f"; known keys: {', '.join(KEYS)}")
    for required in REQUIRED:
        if required not in data:
            raise SpecError(f"missing required key '{required}'", path=source, field=required)
    name, description = name_and_description(data, source, "transformer", c.fail)
    dims = {k: c.integer(k, data[k], 1, MAX_DIM) for k in ("vocab", "n_ctx", "d_model")}
    n_head = c.integer("n_head", data["n_head"], 1, MAX_DIM)
    n_layer = c.integer("n_layer", data["n_layer"], 1, MAX_LAYERS)
    if dims["d_model"] % n_head:
        raise c.fail("n_head", f"must divide d_model ({dims['d_model']}), got {n_head}")
    d_ff = c.integer("d_ff", data.get("d_ff", 4 * dims["d_model"]), 1, MAX_DIM)
    activation = data.get("activation", "gelu")
    if activation not in ACTIVATIONS:
        what = f"'{activation}'" if isinstance(activation, str) else _shown(activation)
        hint = did_you_mean(activation, ACTIVATIONS) if isinstance(activation, str) else ""
        raise c.fail("activation", f"unknown activation {what}{hint}; known: "
                     f"{', '.join(ACTIVATIONS)}")
    flags = {}
    for key in ("bias", "tied_embeddings"):
        flags[key] = data.get(key, True)
        if not isinstance(flags[key], bool):
            raise c.fail(key, f"must be true or false, got {_shown(flags[key])}")
    batch = c.integer("batch", data.get("batch", 1), 1, MAX_DIM)
    seed = c.integer("seed", data.get("seed", 0), 0, 2**32 - 1)
    return TransformerSpec(
        vocab=dims["vocab"], n_ctx=dims["n_ctx"], d_model=dims["d_model"], n_head=n_head,
        n_layer=n_layer, d_ff=d_ff, activation=activation, bias=flags["bias"],
        tied_embeddings=flags["tied_embeddings"], batch=batch, seed=seed, name=name,
        description=description, cost_weights=_check_cost_weights(c, data.get("cost_weights")),
        source=source, lines=dict(lines))


def any_spec_from_yaml(text: str, source: str | None = None) -> Spec | TransformerSpec:
    """An MLP spec, or a transformer spec when the file says ``model: transformer``."""
    data, lines = parse_yaml(text, source)
    if is_transformer(data):
        return transformer_spec_from_dict(data, source, lines)
    return spec_from_dict(data, source=source, lines=lines)


def transformer_spec_from_yaml(text: str, source: str | None = None) -> TransformerSpec:
    """A transformer spec from YAML text (``model: transformer`` may be left out)."""
    data, lines = parse_yaml(text, source)
    if not isinstance(data, dict):
        raise SpecError(f"a spec must be a mapping of keys to values, got {_shown(data)}",
                        path=source, line=1)
    return transformer_spec_from_dict(data, source, lines)


def load_any_spec(path: str | Path) -> Spec | TransformerSpec:
    """Read and validate a YAML spec file of either model."""
    return any_spec_from_yaml(read_text(path), str(path))
