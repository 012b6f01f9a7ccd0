"""The ``mlp`` built-in: an MLP spec's squared loss as a traced circuit of its weights.

Example::

    >>> from cheapgrad.models.spec import spec_from_dict
    >>> c = mlp(spec_from_dict({"input_dim": 2, "hidden": [2], "activation": "tanh"}))
    >>> c.name, c.inputs[:3], len(c.values)
    ('mlp-spec', ('w1_1_1', 'w1_1_2', 'w1_2_1'), 6)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cheapgrad.core.number import Num, const
from cheapgrad.errors import TooLargeError
from cheapgrad.models.activations import ACTIVATIONS
from cheapgrad.models.circuit import Circuit
from cheapgrad.models.layers.base import closed_form
from cheapgrad.models.mlp import init_params, network, numpy_loss, numpy_loss_complex
from cheapgrad.models.spec import Spec

#: The traced MLP keeps every value; specs predicted to need more ops are refused.
MLP_MAX_OPS = 3_000_000


def mlp_input_names(spec: Spec) -> tuple[str, ...]:
    """w{l}_{j}_{i} for w_ji^(l) (1-based, layer by layer, row-major), then b{l}_{j};
    the order of :meth:`cheapgrad.models.mlp.Params.flat`."""
    w = spec.widths
    names = [f"w{lay}_{j}_{i}" for lay in range(1, len(w))
             for j in range(1, w[lay] + 1) for i in range(1, w[lay - 1] + 1)]
    if spec.bias:
        names += [f"b{lay}_{j}" for lay in range(1, len(w)) for j in range(1, w[lay] + 1)]
    return tuple(names)


def mlp(spec: Spec) -> Circuit:
    """The squared loss of ``spec``'s MLP (same weights, inputs and targets as
    ``cheapgrad run``), traced; the circuit carries ``spec``, so that analysis can put
    the hand-written backprop beside it."""
    total = sum(n for kinds in closed_form(network(spec), spec.batch).values()
                for n in kinds.values())
    if total > MLP_MAX_OPS:
        raise TooLargeError(
            f"{spec.name}: the traced MLP would record about {total:,} ops (all kept in "
            f"memory); the circuit command takes at most {MLP_MAX_OPS:,}: use a smaller spec")
    params = init_params(spec)
    shapes = [w.shape for w in params.W]
    n_weights = sum(r * c for r, c in shapes)
    acts = [ACTIVATIONS[a] for a in spec.activations]
    xs = params.x.tolist()
    ys = params.y.tolist()

    def fn(ins: Sequence[Num]) -> Num:
        W, pos = [], 0
        for rows, cols in shapes:
            W.append([list(ins[pos + r * cols:pos + (r + 1) * cols]) for r in range(rows)])
            pos += rows * cols
        b: list[list[Num]] | None = None
        if spec.bias:
            b, pos = [], n_weights
            for rows, _ in shapes:
                b.append(list(ins[pos:pos + rows]))
                pos += rows
        squares = []
        yhats = []
        for e in range(len(xs)):
            z = [const(v) for v in xs[e]]
            for lay, Wl in enumerate(W):
                a = [_dot(row, z) for row in Wl]
                if b is not None:
                    a = [aj + bj for aj, bj in zip(a, b[lay], strict=True)]
                z = [acts[lay].forward(aj) for aj in a] if lay < len(acts) else a
            yhats.append(z)
        for e in range(len(xs)):
            for yk, yhk in zip(ys[e], yhats[e], strict=True):
                r = const(yk) - yhk
                squares.append(r * r)
        s = squares[0]
        for q in squares[1:]:
            s = s + q
        return 0.5 * s

    def numpy_fn(theta: np.ndarray) -> float:
        return numpy_loss(spec, params.with_flat(theta))

    def complex_fn(theta: np.ndarray) -> complex:
        return numpy_loss_complex(spec, params.with_flat(theta))

    return Circuit(
        name=f"mlp-{spec.name}", inputs=mlp_input_names(spec),
        values=tuple(params.flat().tolist()), fn=fn,
        description=f"squared loss of the MLP {' → '.join(map(str, spec.widths))} "
                    f"({', '.join(spec.activations) or 'linear'}), as `cheapgrad run` has it",
        numpy_fn=numpy_fn, complex_fn=complex_fn, source=spec.source,
        spec=spec,
    )


def _dot(row: list[Num], z: list[Num]) -> Num:
    s = row[0] * z[0]
    for wi, zi in zip(row[1:], z[1:], strict=True):
        s = s + wi * zi
    return s


def widths_product(spec: Spec) -> int:
    """Muls w·x of the first layer over the batch: B·d1·d0."""
    return spec.batch * spec.widths[0] * spec.widths[1]
