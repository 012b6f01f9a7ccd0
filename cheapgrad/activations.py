"""Transfer functions h and their derivatives h', on counted numbers.

Each activation carries, besides its counted implementation, the op counts its
implementation is *declared* to cost (``cost`` for h, ``derivative_cost`` for h'), and
plain numpy versions for the uncounted reference. The closed-form predictions in
:mod:`cheapgrad.theory` read the declared costs; the tests check that the counted
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
=========  ===========================  ==============================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cheapgrad.number import Num, const, exp, tanh


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


ACTIVATIONS: dict[str, Activation] = {
    act.name: act
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
}
