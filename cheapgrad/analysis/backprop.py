"""The traced MLP beside the hand-written backprop: the same function, two ways to its
gradient, counted op by op (``cheapgrad circuit mlp``).

Example::

    >>> from cheapgrad.analysis.circuit import analyze
    >>> from cheapgrad.models.circuits.mlp import mlp
    >>> from cheapgrad.models.spec import spec_from_dict
    >>> spec = spec_from_dict({"input_dim": 2, "hidden": [2], "activation": "tanh"})
    >>> bp = analyze(mlp(spec)).backprop
    >>> bp.forward_counts_equal, bp.gradients_agree, bp.cost_f_and_grad
    (True, True, 29)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cheapgrad.analysis.gradcheck import max_rel_error
from cheapgrad.analysis.result import BOUND, Ratio
from cheapgrad.analysis.run import run
from cheapgrad.core.counter import Counter
from cheapgrad.models.circuits.mlp import widths_product
from cheapgrad.models.spec import Spec

#: Largest relative difference of the two gradients that counts as agreement.
AGREEMENT = 1e-9


@dataclass(frozen=True)
class BackpropComparison(Ratio):
    """The hand-written backprop's counts and verdict beside generic reverse mode's.

    ``discarded_mul``: the mul contributions the generic sweep computed for constant
    operands and threw away; ``first_layer_muls``: the muls w·x of layer 1 (B·d1·d0).
    """

    cost_f: int
    cost_f_and_grad: int
    passed: bool
    forward: dict[str, int]
    backward: dict[str, int]
    generic_backward: dict[str, int]
    backward_difference: dict[str, int]
    forward_counts_equal: bool
    gradient_max_rel_difference: float
    discarded_mul: int
    first_layer_muls: int
    bound: float = BOUND

    @property
    def gradients_agree(self) -> bool:
        """Whether the two gradients agree to :data:`AGREEMENT`."""
        return self.gradient_max_rel_difference <= AGREEMENT


def compare_backprop(spec: Spec, gradient: np.ndarray, counter: Counter,
                     discarded: dict[str, int]) -> BackpropComparison:
    """Run the hand-written backprop on ``spec`` and compare it with generic reverse
    mode's ``gradient`` and counts (``counter``: phases forward and backward)."""
    bp = run(spec, "scalar")
    bp_grad = bp.output.grads.flat()
    err = max_rel_error(gradient, bp_grad)
    bp_forward = bp.measured("forward") + bp.measured("loss")
    bp_backward = bp.measured("backward")
    generic_forward = counter.totals("forward")
    generic_backward = counter.totals("backward")
    diff = {k: generic_backward.counts[k] - bp_backward.counts[k]
            for k in generic_backward.counts
            if generic_backward.counts[k] != bp_backward.counts[k]}
    return BackpropComparison(
        cost_f=bp.cost_f, cost_f_and_grad=bp.cost_f_and_grad, passed=bp.passed,
        forward=bp_forward.nonzero(), backward=bp_backward.nonzero(),
        generic_backward=generic_backward.nonzero(), backward_difference=diff,
        forward_counts_equal=generic_forward.counts == bp_forward.counts,
        gradient_max_rel_difference=err, discarded_mul=discarded.get("mul", 0),
        first_layer_muls=widths_product(spec),
    )
