"""The 6N table: every published compute formula beside the counts cheapgrad measured.

For a transformer, :func:`sixn_table` takes what a run measured (its cost models, the
number of tokens B·T and its parameter count) and puts beside it each formula of
:mod:`cheapgrad.analysis.flop_formulas`, per token of forward and backward:

* the formula's value and its relative error, formula / measured − 1, against the
  measured **flop** model (the formulas' own convention: a multiply-add is 2 FLOPs, only
  matrix products count) and against the measured **unit** model (every op counts 1);
* what the formula leaves out;
* the measured ops per parameter per token (the "6" of 6N, measured);
* cost(f, ∇f) / cost(f) under each measured model against its bound.

The parameter count is read twice, by independent routes: from the model that was run,
and from the architecture by nanoGPT's formula
(:func:`~cheapgrad.analysis.flop_formulas.parameter_count`); :attr:`SixN.params_agree` says
whether they match.

Example, on made-up measured costs (a real table comes from a run)::

    >>> from cheapgrad.analysis.costmodels import ModelCost
    >>> from cheapgrad.analysis.flop_formulas import Arch
    >>> gpt2 = Arch(vocab=50257, n_ctx=1024, d_model=768, n_head=12, n_layer=12)
    >>> flop = ModelCost("flop", 291648307200, 874944921600, 3.0, "FlopCounterMode")
    >>> t = sixn_table(gpt2, {"flop": flop}, tokens=1024, n_params=124439808)
    >>> t.measured["flop"].per_token, round(t.measured["flop"].per_param_token, 3)
    (854438400.0, 6.866)
    >>> [(r.key, round(r.error["flop"], 3)) for r in t.rows][:3]
    [('kaplan-6n', -0.404), ('kaplan', -0.337), ('chinchilla', 0.273)]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cheapgrad.analysis.costmodels import ModelCost
from cheapgrad.analysis.flop_formulas import FORMULAS, Architecture, parameter_count
from cheapgrad.analysis.transformer import TransformerResult
from cheapgrad.models.transformer import COMPONENTS, param_shapes
from cheapgrad.models.transformer_spec import TransformerSpec

#: The measured models the formulas are compared with, in column order.
COMPARED = ("flop", "unit")


@dataclass(frozen=True)
class Measured:
    """One measured model's cost of f and ∇f, per token and per parameter per token, and
    its ratio against its bound."""

    model: str
    per_token: float
    forward_per_token: float
    per_param_token: float
    ratio: float | None
    bound: float | None
    holds: bool | None

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (a whole number of ops per token as an integer)."""
        return {
            "model": self.model, "per_token": _whole(self.per_token),
            "forward_per_token": _whole(self.forward_per_token),
            "per_param_token": self.per_param_token,
            "ratio": self.ratio, "bound": self.bound, "holds": self.holds,
        }


@dataclass(frozen=True)
class FormulaRow:
    """One published formula evaluated on the architecture, and its relative error
    against each measured model (``None`` where that model was not measured or is 0)."""

    key: str
    label: str
    formula: str
    source: str
    leaves_out: tuple[str, ...]
    per_token: int
    error: dict[str, float | None] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "key": self.key, "label": self.label, "formula": self.formula,
            "source": self.source, "leaves_out": list(self.leaves_out),
            "per_token": self.per_token,
            "relative_error": dict(self.error),
        }


@dataclass(frozen=True)
class SixN:
    """The 6N table of one transformer: the formulas, the measured models, the
    parameter count by both routes and the number of tokens."""

    rows: tuple[FormulaRow, ...]
    measured: dict[str, Measured]
    tokens: int
    n_params: int
    n_params_formula: int
    #: Where the measured cost goes (:data:`SHARES`): share name -> fraction of f and ∇f.
    shares: dict[str, float] = field(default_factory=dict)

    @property
    def params_agree(self) -> bool:
        """Whether the model's parameter count equals nanoGPT's formula for it."""
        return self.n_params == self.n_params_formula

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON: ``formulas``, ``measured`` (per model), ``tokens`` and the
        parameter counts."""
        return {
            "tokens": self.tokens,
            "n_params": self.n_params,
            "n_params_formula": self.n_params_formula,
            "params_agree": self.params_agree,
            "measured": {k: m.to_dict() for k, m in self.measured.items()},
            "shares": dict(self.shares),
            "formulas": [r.to_dict() for r in self.rows],
        }


def _whole(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _measured(m: ModelCost, tokens: int, n_params: int) -> Measured:
    per_token = m.cost_f_and_grad / tokens
    return Measured(m.model, per_token, m.cost_f / tokens,
                    per_token / n_params if n_params else float("nan"),
                    m.ratio, m.bound, m.holds)


def relative_error(estimate: float, measured: float) -> float | None:
    """estimate / measured − 1; ``None`` when nothing was measured.

    >>> relative_error(6, 8), relative_error(1, 0)
    (-0.25, None)
    """
    if measured <= 0:
        return None
    return estimate / measured - 1


def sixn_table(arch: Architecture, models: Mapping[str, ModelCost], tokens: int,
               n_params: int, shares: Mapping[str, float] | None = None) -> SixN:
    """The 6N table for ``arch``, given the cost models a run measured on ``tokens``
    tokens (batch · n_ctx), the parameter count of the model that was run and, when
    known, where its cost goes (``shares``, see :data:`SHARES`)."""
    if tokens <= 0:
        raise ValueError(f"tokens must be positive, got {tokens}")
    measured = {name: _measured(models[name], tokens, n_params)
                for name in COMPARED if name in models}
    rows = []
    for f in FORMULAS.values():
        value = f.per_token(arch)
        rows.append(FormulaRow(
            f.key, f.label, f.formula, f.source, f.leaves_out, value,
            {name: relative_error(value, m.per_token) for name, m in measured.items()},
        ))
    return SixN(tuple(rows), measured, tokens, n_params, parameter_count(arch),
                dict(shares or {}))


#: The measured shares a transformer's table reports: name -> (cost model, components).
#: The three flop shares are what the formulas disagree about (the weight products are
#: the 6N of every formula; the T×T attention products and the logits are what some leave
#: out); the elementwise share is the unit ops that no formula counts.
SHARES: dict[str, tuple[str, tuple[str, ...]]] = {
    "weight products": ("flop", ("attn.qkv", "attn.proj", "mlp.fc", "mlp.proj")),
    "attention T×T": ("flop", ("attn.scores", "attn.values")),
    "logits": ("flop", ("head",)),
    "elementwise ops": ("unit", ("embedding", "ln", "attn.softmax", "mlp.act", "residual",
                                 "ln_f", "loss")),
}


def measured_shares(result: TransformerResult) -> dict[str, float]:
    """Each of :data:`SHARES` as a fraction of f and ∇f under its model, from the
    counts by component (flop: 2·m·n·k of the products; unit: every op)."""
    flop = {c: 2 * sum(result.products[ph].get(c, 0) for ph in result.products)
            for c in COMPONENTS}
    unit = {c: sum(result.component_total(c, ph) for ph in ("forward", "backward"))
            for c in COMPONENTS}
    totals = {"flop": sum(flop.values()), "unit": sum(unit.values())}
    out = {}
    for name, (model, comps) in SHARES.items():
        counts = flop if model == "flop" else unit
        if totals[model]:
            out[name] = sum(counts[c] for c in comps) / totals[model]
    return out


def model_parameters(spec: TransformerSpec) -> int:
    """The parameters of the model as it is built: the sizes of the arrays
    :func:`cheapgrad.models.transformer.param_shapes` lays out (a tied head is wte)."""
    return sum(math.prod(shape) for _, shape in param_shapes(spec))


def transformer_sixn(result: TransformerResult) -> SixN:
    """The 6N table of a counted transformer (:func:`cheapgrad.analysis.transformer.
    run_transformer`), over its batch · n_ctx tokens.

    >>> from cheapgrad.analysis.transformer import run_transformer
    >>> from cheapgrad.models.bundled import load_any_config
    >>> t = transformer_sixn(run_transformer(load_any_config("gpt2-small"), "shapes"))
    >>> t.measured["flop"].per_token, t.params_agree
    (854438400.0, True)
    """
    spec = result.spec
    return sixn_table(spec, result.cost_models(), spec.tokens, model_parameters(spec),
                      measured_shares(result))
