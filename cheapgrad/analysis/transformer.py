"""One transformer, counted: by executing it on counted arrays, or from its shapes.

:func:`run_transformer` counts f (the mean cross-entropy of
:mod:`cheapgrad.models.transformer`) and its gradient with one of

* ``array`` / ``scalar``: the model executed as a numpy program on the counted arrays
  (:func:`cheapgrad.analysis.program.run_program`), every op measured and labelled by
  component; the gradient checked on plain arrays (central differences, random
  directions above a few hundred parameters); the counts compared with the closed form;
* ``shapes``: the closed form of :mod:`cheapgrad.analysis.transformer_shapes`, no value
  computed (any size);
* ``auto``: ``array`` when the closed form predicts at most :data:`AUTO_EXECUTE_MAX_OPS`
  ops, else ``shapes`` (the result says why).

The result carries the counts by component, phase and op kind, the totals by phase
(nonscalar tallies included), the m·n·k of the matrix products and every cost model.
Executed, the forward m·n·k and the multiplications of the reverse sweep's products are
read per component from the run (each product labelled apart, see
:data:`cheapgrad.models.transformer.PRODUCT`) and checked against the shapes'
predictions; the backward m·n·k FlopCounterMode prices (a dense backward: two products
per product) is a prediction from the shapes, shown beside the measured sweep.

Example::

    >>> from cheapgrad.models.bundled import load_any_config
    >>> r = run_transformer(load_any_config("gpt2-small"))
    >>> r.engine, r.cost_models()["flop"].cost_f
    ('shapes', 291648307200)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cheapgrad.analysis import gradcheck
from cheapgrad.analysis.costmodels import REGISTRY, ModelCost, Pricing
from cheapgrad.analysis.program import run_program
from cheapgrad.analysis.result import BOUND, Ratio
from cheapgrad.analysis.transformer_shapes import (
    Counts,
    as_lines,
    nonscalar_lines,
    products,
    shape_counts,
    swept_products,
)
from cheapgrad.core.counter import OpCounts
from cheapgrad.core.ops import N_OPS, OPS, TALLY_SIZE
from cheapgrad.errors import CheapgradError
from cheapgrad.models.transformer import COMPONENTS, PRODUCT, gpt_loss, init_params, tokens
from cheapgrad.models.transformer_spec import TransformerSpec
from cheapgrad.models.transformer_weights import TransformerWeights

ENGINES = ("auto", "array", "scalar", "shapes")
PHASES = ("forward", "backward")
#: ``auto`` executes a transformer (array engine) up to this many counted ops.
AUTO_EXECUTE_MAX_OPS = 20_000_000
#: The scalar engine refuses transformers above this many counted ops.
SCALAR_MAX_OPS = 2_000_000
#: The array engine refuses transformers above this many counted ops (time and memory).
ARRAY_MAX_OPS = 2_000_000_000


@dataclass
class TransformerResult(Ratio):
    """A counted transformer (see the module docstring). ``components``: component ->
    phase -> op kind -> count; ``phases``: phase -> OpCounts (nonscalar included);
    ``products``: phase -> component -> m·n·k of its matrix products (forward measured
    when executed; backward FlopCounterMode's dense count, from the shapes); ``swept``:
    ``predicted`` (shapes) and, executed, ``measured``: component -> the multiplications
    the reverse sweep's matrix products ran."""

    spec: TransformerSpec
    engine: str
    reason: str
    components: dict[str, dict[str, dict[str, int]]]
    phases: dict[str, OpCounts]
    products: dict[str, dict[str, int]]
    loss: float | None = None
    check: gradcheck.GradCheck | None = None
    closed_form: bool | None = None
    seconds: float = 0.0
    bound: float = BOUND
    cost_weights: dict[str, float] | None = field(default=None, repr=False)
    swept: dict[str, dict[str, int]] = field(default_factory=dict)
    #: component -> phase -> op kind -> nonscalar tally (measured when executed)
    nonscalar: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    #: Executed runs: the parameters ((in, out) layout), their gradients, the tokens.
    params: dict[str, np.ndarray] | None = field(default=None, repr=False)
    gradients: dict[str, np.ndarray] | None = field(default=None, repr=False)
    idx: np.ndarray | None = field(default=None, repr=False)
    targets: np.ndarray | None = field(default=None, repr=False)
    #: Where the weights came from (``--load-weights``), else None (the seed's).
    weights_source: str | None = None
    #: Executed engines: the counted program's tape memory (``tape``, ``ops``,
    #: ``forward_peak``: :func:`cheapgrad.analysis.program.run_program`); shapes: None.
    memory: dict[str, int] | None = None

    @property
    def cost_f(self) -> int:
        return self.phases["forward"].total

    @property
    def cost_f_and_grad(self) -> int:
        return self.cost_f + self.phases["backward"].total

    @property
    def passed(self) -> bool:
        """The bound holds, and (executed) the gradient check passed and every count
        equals the closed form."""
        return (self.holds and (self.check is None or self.check.passed)
                and self.closed_form is not False)

    def component_total(self, comp: str, phase: str) -> int:
        return sum(self.components.get(comp, {}).get(phase, {}).values())

    def rows(self) -> list[dict[str, Any]]:
        """One row per component: forward, backward, backward/forward, flops, and the op
        kinds and nonscalar tallies of each phase."""
        out = []
        for comp in COMPONENTS:
            f, b = self.component_total(comp, "forward"), self.component_total(comp, "backward")
            out.append({"component": comp, "forward": f, "backward": b,
                        "ratio": b / f if f else None,
                        "flop_forward": 2 * self.products["forward"].get(comp, 0),
                        "flop_backward": 2 * self.products["backward"].get(comp, 0),
                        "forward_kinds": dict(self.components[comp].get("forward", {})),
                        "backward_kinds": dict(self.components[comp].get("backward", {})),
                        "forward_nonscalar": dict(self.nonscalar.get(comp, {})
                                                  .get("forward", {})),
                        "backward_nonscalar": dict(self.nonscalar.get(comp, {})
                                                   .get("backward", {}))})
        return out

    def cost_models(self) -> dict[str, ModelCost]:
        """Every registered cost model; ``flop`` is FlopCounterMode's count."""
        f = self.phases["forward"]
        pricing = Pricing(f, f + self.phases["backward"],
                          sum(self.products["forward"].values()),
                          sum(self.products["backward"].values()), self.cost_weights)
        return {name: model.price(pricing) for name, model in REGISTRY.items()}


def _tally(kinds: dict[str, list[int]]) -> OpCounts:
    t = [0] * TALLY_SIZE
    for k, (n, ns) in kinds.items():
        t[OPS[k].index] += n
        t[N_OPS + OPS[k].index] += ns
    return OpCounts.from_tally(t)


def _phase_totals(counts: Counts) -> dict[str, OpCounts]:
    out = {}
    for ph in PHASES:
        acc = OpCounts.zero()
        for comp in counts.values():
            acc = acc + _tally(comp[ph])
        out[ph] = acc
    return out


def resolve(spec: TransformerSpec, engine: str, predicted: int) -> tuple[str, str]:
    """The engine that runs and why (for ``auto``)."""
    if engine not in ENGINES:
        raise CheapgradError(f"unknown engine '{engine}' for a transformer; known: "
                             f"{', '.join(ENGINES)}")
    if engine == "scalar" and predicted > SCALAR_MAX_OPS:
        raise CheapgradError(f"the scalar engine would count {predicted:,} ops one Python "
                             f"object each (limit {SCALAR_MAX_OPS:,}); use --engine array "
                             "or shapes")
    if engine == "array" and predicted > ARRAY_MAX_OPS:
        raise CheapgradError(f"executing would count {predicted:,} ops (the array engine's "
                             f"limit for a transformer is {ARRAY_MAX_OPS:,}); count it from "
                             "its shapes with --engine shapes")
    if engine != "auto":
        return engine, ""
    if predicted <= AUTO_EXECUTE_MAX_OPS:
        return "array", f"auto: {predicted:,} ops, executed"
    return "shapes", (f"auto: {predicted:,} ops would take long to execute; counted from "
                      "shapes, no value computed")


def run_transformer(spec: TransformerSpec, engine: str = "auto", *, check: bool = True,
                    weights: TransformerWeights | None = None) -> TransformerResult:
    """Count the transformer of ``spec`` and its gradient (see the module docstring).
    ``weights`` (``--load-weights``): run on these weights and tokens instead of the
    seed's; they need a value computed, so ``auto`` executes (array engine) and
    ``shapes`` is refused."""
    start = time.perf_counter()
    if weights is not None and engine == "shapes":
        raise CheapgradError("--load-weights: the shapes engine computes no value; execute "
                             "the model with --engine array or scalar")
    idx, targets = tokens(spec) if weights is None else (weights.idx, weights.targets)
    shapes: Counts | None = None
    if spec.activation == "gelu":
        shapes = shape_counts(spec, idx)
        predicted = sum(n for c in shapes.values() for k in c.values() for n, _ in k.values())
    else:  # relu: an estimate from the gelu counts of the same shapes, for the choice only
        from dataclasses import replace
        predicted = sum(n for c in shape_counts(replace(spec, activation="gelu")).values()
                        for k in c.values() for n, _ in k.values())
    if weights is not None and engine == "auto":
        used, reason = resolve(spec, "array", predicted)[0], "auto: weights loaded, executed"
    else:
        used, reason = resolve(spec, engine, predicted)
    prods = products(spec)
    if used == "shapes":
        counts = shapes if shapes is not None else shape_counts(spec, idx)
        return TransformerResult(spec, used, reason, as_lines(counts), _phase_totals(counts),
                                 prods, seconds=time.perf_counter() - start,
                                 cost_weights=spec.cost_weights,
                                 swept={"predicted": swept_products(spec)},
                                 nonscalar=nonscalar_lines(counts))
    params = init_params(spec) if weights is None else weights.params
    f, names = gpt_loss(spec, idx, targets, products=True)
    r = run_program(f, {n: params[n] for n in names}, engine=used, name=spec.name,
                    check=check, methods=False)
    components, fwd, swept = split_products(r.lines)
    nonscalar = _dropped_empty(split_products(r.nonscalar_lines)[0])
    measured = {ph: r.counter.totals(ph) for ph in PHASES}
    if (fwd != prods["forward"] or r.counter.totals("forward", None, "matvec").counts["mul"]
            != sum(fwd.values())):
        raise CheapgradError("internal: the measured matrix products differ from the shapes")
    expected = swept_products(spec)
    if spec.activation == "gelu" and swept != expected:
        raise CheapgradError("internal: the reverse sweep's matrix products differ from the "
                             "shapes")
    closed = None
    if shapes is not None:
        want = {c: v for c, v in as_lines(shapes).items() if v}
        got = {c: {ph: k for ph, k in v.items() if k} for c, v in components.items() if v}
        closed = (want == got and _phase_totals(shapes) == measured
                  and nonscalar == nonscalar_lines(shapes))
    return TransformerResult(spec, used, reason, components, measured,
                             {"forward": fwd, "backward": prods["backward"]}, r.value,
                             r.check if check else None, closed,
                             time.perf_counter() - start, cost_weights=spec.cost_weights,
                             swept={"predicted": expected, "measured": swept},
                             nonscalar=nonscalar,
                             params={n: params[n] for n in names}, gradients=r.gradients,
                             idx=idx, targets=targets,
                             weights_source=None if weights is None else weights.source,
                             memory=r.memory)


def _dropped_empty(table: dict[str, dict[str, dict[str, int]]]
                   ) -> dict[str, dict[str, dict[str, int]]]:
    out = {c: {ph: k for ph, k in v.items() if k} for c, v in table.items()}
    return {c: v for c, v in out.items() if v}


def split_products(lines: dict[str, dict[str, dict[str, int]]]
                   ) -> tuple[dict[str, dict[str, dict[str, int]]], dict[str, int],
                              dict[str, int]]:
    """An executed run's counts by label -> counts by component (each product's ops
    merged into its component), the forward ``mul`` of each component's products (their
    m·n·k) and the ``mul`` of their reverse sweep.

    >>> split_products({"head": {"forward": {"add": 2}},
    ...                 "head:product": {"forward": {"mul": 6, "add": 3},
    ...                                  "backward": {"mul": 12}}})[1:]
    ({'head': 6}, {'head': 12})
    """
    components: dict[str, dict[str, dict[str, int]]] = {c: {} for c in COMPONENTS}
    fwd: dict[str, int] = {}
    swept: dict[str, int] = {}
    for label, phases in lines.items():
        comp = label[:-len(PRODUCT)] if label.endswith(PRODUCT) else label
        if comp not in components:
            raise CheapgradError(f"internal: ops outside every component ({label})")
        if comp != label:
            fwd[comp] = fwd.get(comp, 0) + phases.get("forward", {}).get("mul", 0)
            swept[comp] = swept.get(comp, 0) + phases.get("backward", {}).get("mul", 0)
        for ph, kinds in phases.items():
            cell = components[comp].setdefault(ph, {})
            for k, n in kinds.items():
                cell[k] = cell.get(k, 0) + n
    return components, fwd, swept
