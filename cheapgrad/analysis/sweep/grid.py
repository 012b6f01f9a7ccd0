"""The grid of a sweep: depths, widths and activations, from a spec's ``sweep:`` section
and the caller's lists.

Example::

    >>> from cheapgrad.models.spec import spec_from_dict
    >>> resolve_grid(spec_from_dict({"input_dim": 2, "hidden": [3], "activation": "relu"}),
    ...              depths=(1, 2))
    Grid(depths=(1, 2), widths=(1, 4, 16, 64), activations=('relu',))
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cheapgrad.errors import SpecError
from cheapgrad.models.activations import ACTIVATIONS, custom_name, unknown_activation
from cheapgrad.models.spec import MAX_WIDTH, Spec
from cheapgrad.models.yamlio import field_error, shown
from cheapgrad.util import Fail, ListError, check_ints, did_you_mean, split_list

#: Keys of a spec's ``sweep:`` section.
SWEEP_KEYS = ("depths", "widths", "activations")
#: The most hidden layers a sweep accepts.
MAX_DEPTH = 1000
#: The most cells one sweep runs.
MAX_CELLS = 10_000


class SweepError(ListError):
    """A grid given on the command line (or by a caller) is invalid."""


@dataclass(frozen=True)
class Grid:
    """Depths (numbers of hidden layers), hidden widths and activation names to sweep."""

    depths: tuple[int, ...]
    widths: tuple[int, ...]
    activations: tuple[str, ...]

    @property
    def size(self) -> int:
        """Number of cells."""
        return len(self.depths) * len(self.widths) * len(self.activations)


#: The grid used when neither the spec nor the caller names one.
DEFAULT_GRID = Grid(depths=(1, 2, 4, 8), widths=(1, 4, 16, 64), activations=("tanh", "relu"))


# --- grid parsing and validation ----------------------------------------------------------


def parse_name_list(text: str, option: str) -> tuple[str, ...]:
    """Parse a comma-separated list of distinct activation names such as ``"tanh,relu"``
    (a custom activation's own comma, as in ``custom(10,50)``, does not split)."""
    items = split_list(text, option, "tanh,relu", "activation")
    return _check_names(items, lambda i, m: SweepError(f"{option}: {m}"))


def _check_names(values: Sequence[Any], fail: Fail) -> tuple[str, ...]:
    seen: set[str] = set()
    values = [_custom_from_mapping(v) for v in values]
    for i, v in enumerate(values):
        if not isinstance(v, str):
            raise fail(i, f"must be an activation name, got {shown(v)}")
        if ACTIVATIONS.resolve(v) is None:
            raise fail(i, unknown_activation(v, ACTIVATIONS))
        if v in seen:
            raise fail(i, f"'{v}' is listed twice")
        seen.add(v)
    return tuple(values)


def _custom_from_mapping(value: Any) -> Any:
    """``{name: custom, cost: C, derivative_cost: D}`` (as in a spec) as ``custom(C,D)``."""
    if isinstance(value, dict) and value.get("name") == "custom":
        cost, dcost = value.get("cost"), value.get("derivative_cost")
        if isinstance(cost, int) and isinstance(dcost, int) and set(value) == {
                "name", "cost", "derivative_cost"}:
            return custom_name(cost, dcost)
    return value


def grid_from_spec(spec: Spec) -> dict[str, tuple[Any, ...]]:
    """The fields of the spec's ``sweep:`` section, validated (absent fields left out).

    Errors name the spec's file, the line and the field, e.g.
    ``sweep.yaml:9: sweep.depths[1]: must be a positive integer, got -1``.
    """
    raw = spec.sweep
    if raw is None:
        return {}

    def err(field_name: str, message: str) -> SpecError:
        return field_error(message, spec.source, spec.lines, field_name)

    for key in raw:
        if key not in SWEEP_KEYS:
            hint = did_you_mean(key, SWEEP_KEYS)
            raise err(f"sweep.{key}",
                      f"unknown key{hint}; known keys: {', '.join(SWEEP_KEYS)}")
    out: dict[str, tuple[Any, ...]] = {}
    for key in SWEEP_KEYS:
        if key not in raw:
            continue
        name = f"sweep.{key}"
        value = raw[key]
        if not isinstance(value, list):
            example = "[tanh, relu]" if key == "activations" else "[1, 2, 4]"
            raise err(name, f"must be a list, e.g. {example}, got {value!r}")
        if not value:
            raise err(name, "must be a non-empty list")

        def at(i: int, message: str, name: str = name) -> SpecError:
            return err(f"{name}[{i}]", message)

        if key == "activations":
            out[key] = _check_names(value, at)
        else:
            out[key] = check_ints(value, MAX_DEPTH if key == "depths" else MAX_WIDTH, at)
    return out


def resolve_grid(
    spec: Spec,
    depths: tuple[int, ...] | None = None,
    widths: tuple[int, ...] | None = None,
    activations: tuple[str, ...] | None = None,
) -> Grid:
    """The grid to run: each field from the arguments if given, else from the spec's
    ``sweep:`` section, else the depths and widths of :data:`DEFAULT_GRID` and the spec's
    own activations (those of :data:`DEFAULT_GRID` when it has no hidden layer)."""
    from_file = grid_from_spec(spec)
    own = tuple(dict.fromkeys(spec.activations)) or DEFAULT_GRID.activations
    return Grid(
        depths=depths if depths is not None else from_file.get("depths", DEFAULT_GRID.depths),
        widths=widths if widths is not None else from_file.get("widths", DEFAULT_GRID.widths),
        activations=(activations if activations is not None
                     else from_file.get("activations", own)),
    )
