"""Network specs: YAML files (or dicts) validated into a :class:`Spec`.

Every error is a :class:`~cheapgrad.errors.SpecError` naming the file, the line (from
the YAML parser's marks) and the field, e.g.
``configs/bad.yaml:3: hidden[1]: must be a positive integer, got 0``.

Keys (see the README for the full table):

- ``name`` (str), ``description`` (str, optional)
- ``input_dim`` (int >= 1): d0
- ``hidden`` (list of int >= 1, may be empty): widths d1..dL
- ``activation``: one name, or a list with one name per hidden layer; an entry may
  also be a mapping, ``{name: tanh}`` or, for a transfer function with declared costs,
  ``{name: custom, cost: 10, derivative_cost: 50}`` (stored as ``custom(10,50)``)
- ``outputs`` (int >= 1, default 1): width K of the linear output layer
- ``bias`` (bool, default false)
- ``loss``: ``squared`` (the only one: ½ Σ_k (y_k − ŷ_k)²)
- ``seed`` (int >= 0, default 0): weights, inputs and targets are drawn from it
- ``batch`` (int >= 1, default 1): examples whose losses are summed
- ``sweep`` (mapping): read by ``cheapgrad sweep``
- ``cost_weights`` (mapping of op kind to a number >= 0): the ``weighted`` cost model's
  cost per op (see :mod:`cheapgrad.analysis.costmodels`); kinds left out keep their
  defaults. Or the path of a weights file (``cost_weights: weights.json``, relative to
  the spec's folder, as ``cheapgrad calibrate --out`` writes; see
  :mod:`cheapgrad.models.weightsfile`), which prices every op kind
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cheapgrad.core.ops import OP_NAMES
from cheapgrad.errors import SpecError
from cheapgrad.models.activations import (
    ACTIVATIONS,
    CUSTOM,
    custom_name,
    parse_custom_name,
    unknown_activation,
)
from cheapgrad.models.weightsfile import read_weights_file
from cheapgrad.models.yamlio import (
    field_error,
    name_and_description,
    parse_yaml,
    read_text,
    shown,
)
from cheapgrad.util import did_you_mean

#: Keys a spec may have at top level.
KEYS = (
    "name", "description", "input_dim", "hidden", "activation", "outputs", "bias",
    "loss", "seed", "batch", "sweep", "cost_weights",
)
LOSSES = ("squared",)
#: Values of the ``model`` key (``transformer``: :mod:`cheapgrad.models.transformer_spec`).
MODELS = ("mlp", "transformer")
#: Hard limits checked while reading a spec, whatever the engine.
MAX_WIDTH = 10_000_000
MAX_PARAMETERS = 200_000_000
MAX_BATCH = 100_000


@dataclass(frozen=True)
class Spec:
    """A validated MLP spec. ``widths`` is (d0, d1, ..., dL, K)."""

    name: str
    input_dim: int
    hidden: tuple[int, ...]
    activations: tuple[str, ...]
    outputs: int = 1
    bias: bool = False
    loss: str = "squared"
    seed: int = 0
    batch: int = 1
    description: str = ""
    sweep: dict[str, Any] | None = None
    cost_weights: dict[str, float] | None = None
    source: str | None = None
    lines: dict[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def widths(self) -> tuple[int, ...]:
        return (self.input_dim, *self.hidden, self.outputs)

    @property
    def depth(self) -> int:
        """Number of hidden layers L."""
        return len(self.hidden)

    @property
    def parameters(self) -> int:
        """Number of weights (and biases when on): the length of the gradient."""
        w = self.widths
        n = sum(w[i] * w[i - 1] for i in range(1, len(w)))
        if self.bias:
            n += sum(w[1:])
        return n

    @property
    def nodes(self) -> int:
        """Number of computing nodes: hidden units plus outputs (inputs excluded)."""
        return sum(self.hidden) + self.outputs

    def to_dict(self) -> dict[str, Any]:
        """The spec as plain data (one activation name, or a list when they differ)."""
        acts: Any = [_activation_data(a) for a in self.activations]
        if len(set(self.activations)) == 1:
            acts = acts[0]
        elif not acts:
            acts = "identity"
        d: dict[str, Any] = {
            "name": self.name,
            "input_dim": self.input_dim,
            "hidden": list(self.hidden),
            "activation": acts,
            "outputs": self.outputs,
            "bias": self.bias,
            "loss": self.loss,
            "seed": self.seed,
            "batch": self.batch,
        }
        if self.cost_weights is not None:
            d["cost_weights"] = dict(self.cost_weights)
        return d

    def error(self, message: str, field_name: str | None = None) -> SpecError:
        """A SpecError pointing at this spec's file and the field's line."""
        return field_error(message, self.source, self.lines, field_name)


def _activation_data(name: str) -> Any:
    """An activation as spec data: its name, or the mapping form for a custom one."""
    costs = parse_custom_name(name)
    if costs is None:
        return name
    return {"name": CUSTOM, "cost": costs[0], "derivative_cost": costs[1]}


def load_spec(path: str | Path) -> Spec:
    """Read and validate a YAML spec file."""
    text = read_text(path)
    data, lines = parse_yaml(text, str(path))
    return spec_from_dict(data, source=str(path), lines=lines)


def spec_from_yaml(text: str, source: str | None = None) -> Spec:
    """Validate a spec given as YAML text."""
    data, lines = parse_yaml(text, source)
    return spec_from_dict(data, source=source, lines=lines)


# --- validation ---------------------------------------------------------------------


class _Checker:
    def __init__(self, data: dict[str, Any], source: str | None, lines: dict[str, int]):
        self.data = data
        self.source = source
        self.lines = lines

    def fail(self, field_name: str, message: str) -> SpecError:
        return field_error(message, self.source, self.lines, field_name)

    def integer(self, name: str, value: Any, minimum: int, maximum: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                raise self.fail(
                    name, f"must be a whole number (write {int(value)}), got {value!r}")
            raise self.fail(name, f"must be an integer, got {shown(value)}")
        if value < minimum:
            what = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise self.fail(name, f"must be {what}, got {value}")
        if maximum is not None and value > maximum:
            raise self.fail(name, f"must be at most {maximum:,}, got {value:,}")
        return value


def spec_from_dict(
    data: Any, source: str | None = None, lines: dict[str, int] | None = None
) -> Spec:
    """Validate plain data (as loaded from YAML) into a :class:`Spec`."""
    lines = lines or {}
    if data is None:
        raise SpecError("the spec is empty", path=source)
    if not isinstance(data, dict):
        raise SpecError(f"a spec must be a mapping of keys to values, got {shown(data)}",
                        path=source, line=1)
    c = _Checker(data, source, lines)
    model = data.get("model", "mlp")
    if model != "mlp":
        hint = did_you_mean(model, MODELS) if isinstance(model, str) else ""
        raise c.fail("model", ("a transformer spec: 'cheapgrad run' reads it"
                               if model == "transformer" else "unknown model "
                               + (f"'{model}'" if isinstance(model, str) else shown(model))
                               + f"{hint}; known: {', '.join(MODELS)}"))
    for key in data:
        if key == "model":
            continue
        if key == "circuit" and "input_dim" not in data:
            raise c.fail(key, "this is a circuit file, not an MLP spec: run it with "
                         "'cheapgrad circuit FILE'")
        if key not in KEYS:
            hint = did_you_mean(key, KEYS)
            raise c.fail(key, "unknown key" + hint
                         + f"; known keys: {', '.join(KEYS)}")
    for required in ("input_dim", "hidden", "activation"):
        if required not in data:
            raise SpecError(f"missing required key '{required}'", path=source, field=required)

    name, description = name_and_description(data, source, "spec", c.fail)

    input_dim = c.integer("input_dim", data["input_dim"], 1, MAX_WIDTH)
    hidden_raw = data["hidden"]
    if hidden_raw is None:
        hidden_raw = []
    if isinstance(hidden_raw, int) and not isinstance(hidden_raw, bool):
        raise c.fail("hidden", f"must be a list of widths, e.g. [{hidden_raw}], got {hidden_raw}")
    if not isinstance(hidden_raw, list):
        raise c.fail("hidden", f"must be a list of widths (may be empty), got {shown(hidden_raw)}")
    hidden = tuple(
        c.integer(f"hidden[{i}]", w, 1, MAX_WIDTH) for i, w in enumerate(hidden_raw)
    )

    act_raw = data["activation"]
    if isinstance(act_raw, (str, dict)):
        one = _check_activation(c, "activation", act_raw)
        activations = tuple(one for _ in hidden)
    elif isinstance(act_raw, list):
        if len(act_raw) != len(hidden):
            raise c.fail("activation", f"a list of activations needs one per hidden layer: "
                         f"got {len(act_raw)} for {len(hidden)} hidden layers")
        activations = tuple(
            _check_activation(c, f"activation[{i}]", a) for i, a in enumerate(act_raw)
        )
    else:
        raise c.fail("activation", f"must be a name or a list of names, got {shown(act_raw)}")

    outputs = c.integer("outputs", data.get("outputs", 1), 1, MAX_WIDTH)
    bias = data.get("bias", False)
    if not isinstance(bias, bool):
        raise c.fail("bias", f"must be true or false, got {shown(bias)}")
    loss = data.get("loss", "squared")
    if loss not in LOSSES:
        what = f"'{loss}'" if isinstance(loss, str) else shown(loss)
        raise c.fail("loss", f"unknown loss {what}; known: {', '.join(LOSSES)}")
    seed = c.integer("seed", data.get("seed", 0), 0, 2**32 - 1)
    batch = c.integer("batch", data.get("batch", 1), 1, MAX_BATCH)
    sweep = data.get("sweep")
    if sweep is not None and not isinstance(sweep, dict):
        raise c.fail("sweep",
                     f"must be a mapping (depths, widths, activations), got {shown(sweep)}")

    cost_weights = _check_cost_weights(c, data.get("cost_weights"))

    spec = Spec(
        name=name, input_dim=input_dim, hidden=hidden, activations=activations,
        outputs=outputs, bias=bias, loss=loss, seed=seed, batch=batch,
        description=description, sweep=sweep, cost_weights=cost_weights, source=source,
        lines=dict(lines),
    )
    if spec.parameters > MAX_PARAMETERS:
        raise c.fail("hidden", f"{spec.parameters:,} parameters is more than the "
                     f"{MAX_PARAMETERS:,} cheapgrad can hold")
    return spec


#: Keys of the mapping form of an activation.
ACTIVATION_KEYS = ("name", "cost", "derivative_cost")


def _check_activation(c: _Checker, name: str, value: Any) -> str:
    """Validate one activation (a name or the mapping form); return its stored name."""
    if isinstance(value, dict):
        return _check_activation_mapping(c, name, value)
    if not isinstance(value, str):
        raise c.fail(name, f"must be an activation name, got {shown(value)}")
    if value == CUSTOM:
        raise c.fail(name, "the custom activation needs declared costs: write "
                     "{name: custom, cost: 10, derivative_cost: 50}")
    if parse_custom_name(value) is not None:
        return value
    if value not in ACTIVATIONS:
        raise c.fail(name, unknown_activation(value, ACTIVATIONS))
    return value


def _check_activation_mapping(c: _Checker, name: str, value: dict[str, Any]) -> str:
    for key in value:
        if key not in ACTIVATION_KEYS:
            hint = did_you_mean(key, ACTIVATION_KEYS)
            raise c.fail(f"{name}.{key}", "unknown key"
                         + hint
                         + f"; known keys: {', '.join(ACTIVATION_KEYS)}")
    if "name" not in value:
        raise c.fail(name, "an activation mapping needs a 'name', e.g. "
                     "{name: custom, cost: 10, derivative_cost: 50}")
    act_name = value["name"]
    if act_name != CUSTOM:
        if not isinstance(act_name, str):
            raise c.fail(f"{name}.name", f"must be an activation name, got {shown(act_name)}")
        for key in ("cost", "derivative_cost"):
            if key in value:
                raise c.fail(f"{name}.{key}", f"only the custom activation takes a declared "
                             f"cost; '{act_name}' has its own")
        return _check_activation(c, f"{name}.name", act_name)
    costs = []
    for key in ("cost", "derivative_cost"):
        if key not in value:
            raise c.fail(name, f"the custom activation needs '{key}' (a whole number >= 1), "
                         "e.g. {name: custom, cost: 10, derivative_cost: 50}")
        costs.append(c.integer(f"{name}.{key}", value[key], 1, 10**9))
    return custom_name(costs[0], costs[1])


def _check_cost_weights(c: _Checker, raw: Any) -> dict[str, float] | None:
    if raw is None:
        return None
    if isinstance(raw, str) and raw.strip():
        return _weights_from_file(c, raw)
    if not isinstance(raw, dict):
        raise c.fail("cost_weights", "must be a mapping of op kind to cost, e.g. "
                     "{add: 1, mul: 3, div: 10}, or the path of a weights file, got "
                     f"{shown(raw)}")
    weights: dict[str, float] = {}
    for kind, w in raw.items():
        field_name = f"cost_weights.{kind}"
        if kind not in OP_NAMES:
            hint = did_you_mean(kind, OP_NAMES)
            raise c.fail(field_name, "unknown op kind"
                         + hint
                         + f"; known: {', '.join(OP_NAMES)}")
        if isinstance(w, bool) or not isinstance(w, (int, float)):
            raise c.fail(field_name, f"must be a number >= 0, got {shown(w)}")
        if not w >= 0 or w == float("inf"):
            raise c.fail(field_name, f"must be a finite number >= 0, got {w!r}")
        weights[kind] = float(w)
    return weights


def _weights_from_file(c: _Checker, raw: str) -> dict[str, float]:
    """``cost_weights: FILE``: a weights file, relative to the spec's folder. Its errors
    name the file; the spec's line is given too."""
    folder = Path(c.source).parent if c.source else Path()
    path = folder / raw
    try:
        return read_weights_file(path)
    except SpecError as exc:
        raise c.fail("cost_weights", f"weights file {exc}") from None
