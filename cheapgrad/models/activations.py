"""Transfer functions h and their derivatives h', on counted numbers.

Each activation carries, besides its counted implementation, the op counts its
implementation is *declared* to cost (``cost`` for h, ``derivative_cost`` for h'), and
plain numpy versions for the uncounted reference. The closed-form predictions in
:mod:`cheapgrad.analysis.theory` read the declared costs; the tests check that the counted
implementation executes exactly those ops, so a change to either shows up.

The conventions follow the core issue and the lecture:

=========  ===========================  ==============================
name       h(a)                         h'(a), from the stored a and z
=========  ===========================  ==============================
identity   a (no op)                    1 (no op; delta is not scaled)
tanh       tanh(a): 1 tanh              1 - z*z: 1 mul, 1 sub
sigmoid    1/(1+exp(-a)): neg exp add   z*(1-z): 1 sub, 1 mul
           div
relu       a if a > 0 else 0: 1 cmp     1 if a > 0 else 0: 1 cmp
square     a*a: 1 mul                   2*a: 1 mul
custom     declared: ``cost`` units     declared: ``derivative_cost``
           of kind ``h``                units of kind ``dh``
=========  ===========================  ==============================

``custom`` is an abstract transfer function whose costs a spec declares, e.g.
``activation: {name: custom, cost: 10, derivative_cost: 50}``. Its values are those of
tanh (so the net is nonlinear and the gradient check means something), but each
evaluation of h is counted as ``cost`` ops of kind ``h`` and each evaluation of h' as
``derivative_cost`` ops of kind ``dh``; backprop then multiplies by h' (one ``mul``) as
for any other non-identity activation. Its name is ``custom(C,D)``, and
``ACTIVATIONS["custom(10,50)"]`` (or :func:`custom`) builds it on demand.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cheapgrad.core import ops as _ops
from cheapgrad.core.counter import count
from cheapgrad.core.functions import exp, tanh
from cheapgrad.core.number import Num, apply, const
from cheapgrad.util import did_you_mean


@dataclass(frozen=True)
class Activation:
    """A transfer function h with its derivative and declared op costs.

    ``derivative(a, z)`` returns h'(a) given a and z = h(a), or ``None`` when h' is the
    constant 1 (then backprop does not multiply by it).
    """

    name: str
    forward: Callable[[Num], Num]
    derivative: Callable[[Num, Num], Num | None]
    cost: dict[str, int]
    derivative_cost: dict[str, int]
    np_forward: Callable[[np.ndarray], np.ndarray]
    np_derivative: Callable[[np.ndarray, np.ndarray], np.ndarray | None]

    @property
    def scales_delta(self) -> bool:
        """Whether backprop multiplies the back-propagated sum by h'(a)."""
        return bool(self.derivative_cost)

    @property
    def cost_units(self) -> int:
        return sum(self.cost.values())

    @property
    def derivative_cost_units(self) -> int:
        return sum(self.derivative_cost.values())


def _relu(a: Num) -> Num:
    return a if a > 0.0 else const(0.0)


def _relu_prime(a: Num, z: Num) -> Num:
    return const(1.0) if a > 0.0 else const(0.0)


def _np_sigmoid(a: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-a)))


def _identity_prime(a: Any, z: Any) -> None:
    return None


#: The name of the activation with declared costs.
CUSTOM = "custom"


def custom_name(cost: int, derivative_cost: int) -> str:
    """The canonical name of a custom activation, e.g. ``custom(10,50)``."""
    return f"{CUSTOM}({cost},{derivative_cost})"


def parse_custom_name(name: str) -> tuple[int, int] | None:
    """``(cost, derivative_cost)`` from a name like ``custom(10,50)``, else ``None``."""
    if not (name.startswith(CUSTOM + "(") and name.endswith(")")):
        return None
    parts = name[len(CUSTOM) + 1:-1].split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        return None
    cost, dcost = (int(p) for p in parts)
    if cost < 1 or dcost < 1:
        return None
    return cost, dcost


def unknown_activation(name: str, known: Any) -> str:
    """Why ``name`` names no activation, with a hint: what is wrong with a ``custom(...)``
    form, the lower-case name, or the closest name.

    Example::

        >>> unknown_activation("custom(10)", ["tanh"])
        "'custom(10)' needs two costs: custom(C,D), e.g. custom(10,50)"
        >>> unknown_activation("TANH", ["tanh"])
        "unknown activation 'TANH' (names are lower case: 'tanh'); known: tanh"
    """
    known = list(known)
    if name.startswith(CUSTOM + "(") and name.endswith(")"):
        parts = name[len(CUSTOM) + 1:-1].split(",")
        if len(parts) != 2:
            return f"'{name}' needs two costs: custom(C,D), e.g. custom(10,50)"
        return (f"'{name}': the costs C and D of custom(C,D) must be positive integers, "
                "e.g. custom(10,50)")
    lower = name.lower()
    if lower != name and (lower in known or parse_custom_name(lower) is not None):
        hint = f" (names are lower case: '{lower}')"
    else:
        hint = did_you_mean(name, known)
    return f"unknown activation '{name}'{hint}; known: {', '.join(known)}"


def custom(cost: int, derivative_cost: int) -> Activation:
    """An abstract transfer function with declared costs (both whole numbers >= 1).

    Example::

        >>> act = custom(10, 50)
        >>> act.name, act.cost, act.derivative_cost
        ('custom(10,50)', {'h': 10}, {'dh': 50})
    """
    if isinstance(cost, bool) or not isinstance(cost, int) or cost < 1:
        raise ValueError(f"the declared cost of h must be a whole number >= 1, got {cost!r}")
    if (isinstance(derivative_cost, bool) or not isinstance(derivative_cost, int)
            or derivative_cost < 1):
        raise ValueError("the declared cost of h' must be a whole number >= 1, "
                         f"got {derivative_cost!r}")

    def forward(a: Num) -> Num:
        z = apply(_ops.H, a)  # one unit, the value tanh(a); recorded when tracing
        if cost > 1:
            count("h", cost - 1)
        return z

    def derivative(a: Num, z: Num) -> Num:
        hp = apply(_ops.DH, a)  # one unit, the value 1 - tanh(a)^2
        if derivative_cost > 1:
            count("dh", derivative_cost - 1)
        return hp

    return Activation(custom_name(cost, derivative_cost), forward, derivative,
                      {"h": cost}, {"dh": derivative_cost},
                      np.tanh, lambda a, z: 1.0 - z * z)


# Custom activations built so far, by name (kept out of the registry's own items).
_CUSTOM_CACHE: dict[str, Activation] = {}


class ActivationRegistry(dict[str, Activation]):
    """The built-in activations by name; a ``custom(C,D)`` name is built on demand
    (and cached apart, so iterating the registry lists only the built-ins)."""

    def __missing__(self, name: str) -> Activation:
        act = _CUSTOM_CACHE.get(name)
        if act is None:
            costs = parse_custom_name(name)
            if costs is None:
                raise KeyError(name)
            act = _CUSTOM_CACHE[name] = custom(*costs)
        return act

    def resolve(self, name: str) -> Activation | None:
        """The activation called ``name`` (built-in or custom), or ``None``."""
        try:
            return self[name]
        except KeyError:
            return None


ACTIVATIONS: ActivationRegistry = ActivationRegistry(
    (act.name, act)
    for act in (
        Activation("identity", lambda a: a, _identity_prime, {}, {},
                   lambda a: a, _identity_prime),
        Activation("tanh", tanh, lambda a, z: 1.0 - z * z,
                   {"tanh": 1}, {"mul": 1, "sub": 1},
                   np.tanh, lambda a, z: 1.0 - z * z),
        Activation("sigmoid", lambda a: 1.0 / (1.0 + exp(-a)), lambda a, z: z * (1.0 - z),
                   {"neg": 1, "exp": 1, "add": 1, "div": 1}, {"sub": 1, "mul": 1},
                   _np_sigmoid, lambda a, z: z * (1.0 - z)),
        Activation("relu", _relu, _relu_prime, {"cmp": 1}, {"cmp": 1},
                   lambda a: np.maximum(a, 0.0), lambda a, z: (a > 0.0).astype(float)),
        Activation("square", lambda a: a * a, lambda a, z: 2.0 * a,
                   {"mul": 1}, {"mul": 1},
                   lambda a: a * a, lambda a, z: 2.0 * a),
    )
)
