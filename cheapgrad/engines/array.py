"""The counted array engine: the scalar engine's computation at numpy speed.

Every vectorized operation adds the exact number of elementary ops it stands for, under
the scalar engine's conventions, into the same ``(phase, layer, part)`` buckets of the
same :class:`~cheapgrad.core.counter.Counter`, with :func:`cheapgrad.core.number.count`. With
widths d_in, d_out and batch B:

* a mat-vec W z (forward) is B·d_out·d_in ``mul`` and B·d_out·(d_in − 1) ``add``;
  the transposed one Wᵀδ (backward) likewise with the roles of d_in and d_out swapped;
* a weight gradient Σ_e δ_j z_i accumulates B products: d_out·d_in·B ``mul`` and
  d_out·d_in·(B − 1) ``add``; a bias gradient d_out·(B − 1) ``add``;
* an activation (or its derivative) on n elements costs n times the activation's
  declared ``cost`` (``derivative_cost``), op kind by op kind, whatever the kinds are;
* the loss ½ Σ (y − ŷ)² is B·K ``sub``, B·K + 1 ``mul`` and B·K − 1 ``add``.

The nonscalar tallies (a mul whose two operands both depend on the weights, a div whose
divisor does) are
counted exactly as the scalar engine produces them: x and y are constants, every weight
and bias is a variable, so a product w·z or δ·z is nonscalar exactly when z depends on
the weights. z^(0) = x never does; a hidden z does, except where relu returns its
constant 0 (a ≤ 0), which the engine counts element by element. What an activation's
own arithmetic contributes per element (tanh' = 1 − z·z has one nonscalar mul, for
example) is measured once per activation by running its counted scalar implementation
on one probe value, so a new activation needs no change here.

Example::

    >>> from cheapgrad.models.mlp import init_params
    >>> from cheapgrad.core.counter import Counter
    >>> from cheapgrad.models.spec import spec_from_dict
    >>> spec = spec_from_dict({"input_dim": 4, "hidden": [8], "activation": "tanh"})
    >>> counter = Counter()
    >>> out = array_engine(spec, init_params(spec), counter)
    >>> counter.totals("forward").counts["mul"], counter.totals("backward").total
    (40, 73)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cheapgrad.core.counter import Counter
from cheapgrad.core.number import count, var
from cheapgrad.errors import NumericalError
from cheapgrad.models.activations import ACTIVATIONS, Activation
from cheapgrad.models.mlp import EngineOutput, Gradients, Params
from cheapgrad.models.spec import Spec

#: The value an activation's counted implementation is probed at (inside the domain of
#: every elementary function, so that log- or sqrt-based activations work too).
PROBE_VALUE = 0.5


@dataclass(frozen=True)
class _Probe:
    """Per-element nonscalar tallies of one activation, measured on counted scalars."""

    forward_nonscalar: dict[str, int]
    derivative_nonscalar: dict[str, int]
    derivative_depends: bool


_PROBES: dict[int, tuple[Activation, _Probe]] = {}


def _probe(act: Activation) -> _Probe:
    """Run ``act``'s counted h and h' once, on a variable, and read the nonscalar tallies."""
    cached = _PROBES.get(id(act))
    if cached is not None and cached[0] is act:
        return cached[1]
    counter = Counter()
    a = var(PROBE_VALUE)
    with counter.scope("h"):
        z = act.forward(a)
    with counter.scope("h'"):
        hp = act.derivative(a, z)
    result = _Probe(
        counter.totals("h").nonscalar,
        counter.totals("h'").nonscalar,
        hp is not None and bool(hp.dep),
    )
    _PROBES[id(act)] = (act, result)
    return result


def _count_elementwise(cost: dict[str, int], nonscalar: dict[str, int], n: int) -> None:
    """Count an elementwise function on ``n`` elements from its declared per-element cost."""
    for kind, c in cost.items():
        count(kind, n * c, n * nonscalar.get(kind, 0))


def _depending(act: Activation, a: np.ndarray) -> int:
    """How many of the elements z = h(a) depend on the weights (a always does)."""
    if act.name == "relu":
        return int(np.count_nonzero(a > 0.0))
    return a.size


def array_engine(spec: Spec, params: Params, counter: Counter) -> EngineOutput:
    """Forward pass, loss and backprop in float64 numpy, counted by array shape.

    Counts equal the scalar engine's bucket by bucket, op kind by op kind, nonscalar
    tallies included; values agree to rounding (the sums run in a different order).
    Raises :class:`~cheapgrad.errors.NumericalError` (a ``DomainError``) on any float64
    overflow, invalid operation or division by zero in its elementwise work. The scalar
    engine raises in elementary functions and division and carries inf and nan on
    through + - *, as Python floats do; the runner then refuses a loss that is not
    finite, with the same kind of message.
    """
    try:
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            return _array(spec, params, counter)
    except FloatingPointError as exc:
        raise NumericalError(
            f"{spec.name}: {exc} on the array engine: the net's values overflow float64 "
            "(too deep, or an activation such as square that squares them at every "
            "layer); use fewer layers or another activation") from None


def _array(spec: Spec, params: Params, counter: Counter) -> EngineOutput:
    n_layers = len(params.W)
    acts = [ACTIVATIONS[name] for name in spec.activations]
    probes = [_probe(act) for act in acts]
    depth = len(acts)
    bias = params.b
    batch = params.x.shape[0]
    scope = counter.scope

    # Forward. Columns are examples: z^(l) has shape d_l × B.
    z = params.x.T
    n_dep = 0  # elements of z that depend on the weights (x: none)
    a_all: list[np.ndarray] = []
    z_all: list[np.ndarray] = [z]
    dep_all: list[int] = [0]
    for lay in range(1, n_layers + 1):
        w = params.W[lay - 1]
        d_out, d_in = w.shape
        with scope("forward", lay, "matvec"):
            a = w @ z
            count("mul", batch * d_out * d_in, d_out * n_dep)
            count("add", batch * d_out * (d_in - 1))
        if bias is not None:
            with scope("forward", lay, "bias"):
                a += bias[lay - 1][:, None]
                count("add", batch * d_out)
        a_all.append(a)
        if lay <= depth:
            act = acts[lay - 1]
            with scope("forward", lay, "activation"):
                z = act.np_forward(a)
                _count_elementwise(act.cost, probes[lay - 1].forward_nonscalar, a.size)
            n_dep = _depending(act, a)
            z_all.append(z)
            dep_all.append(n_dep)

    yhat = a_all[-1]
    y = params.y.T
    k_out = yhat.size
    with scope("loss", None, "loss"):
        r = y - yhat
        sq = r * r
        loss = 0.5 * float(sq.sum())
        count("sub", k_out)
        count("mul", k_out + 1, k_out)
        count("add", k_out - 1)

    # Backward.
    with scope("backward", n_layers, "seed"):
        delta = yhat - y
        count("sub", k_out)
    grads_w: list[np.ndarray] = [np.empty(0)] * n_layers
    grads_b: list[np.ndarray] = [np.empty(0)] * n_layers
    for lay in range(n_layers, 0, -1):
        w = params.W[lay - 1]
        d_out, d_in = w.shape
        with scope("backward", lay, "grad"):
            grads_w[lay - 1] = delta @ z_all[lay - 1].T
            count("mul", d_out * d_in * batch, d_out * dep_all[lay - 1])
            count("add", d_out * d_in * (batch - 1))
        if bias is not None:
            with scope("backward", lay, "bias_grad"):
                grads_b[lay - 1] = delta.sum(axis=1)
                count("add", d_out * (batch - 1))
        if lay > 1:
            act = acts[lay - 2]
            with scope("backward", lay - 1, "matvec"):
                back = w.T @ delta
                count("mul", batch * d_in * d_out, batch * d_in * d_out)
                count("add", batch * d_in * (d_out - 1))
            with scope("backward", lay - 1, "derivative"):
                hp = act.np_derivative(a_all[lay - 2], z_all[lay - 1])
                probe = probes[lay - 2]
                _count_elementwise(act.derivative_cost, probe.derivative_nonscalar, back.size)
                if hp is not None:
                    back *= hp  # in place: δ = h'(a) ⊙ Wᵀδ, one buffer fewer
                    count("mul", back.size, back.size if probe.derivative_depends else 0)
                delta = back

    return EngineOutput(
        loss=loss,
        yhat=np.ascontiguousarray(yhat.T),
        grads=Gradients(grads_w, grads_b if bias is not None else None),
    )
