"""Closed-form op counts predicted by the lecture's proof of Theorem 2.1.

Nothing here runs the network: the counts follow from the widths, the activations'
declared costs and the conventions alone. Reports show them beside the measured counts,
and the tests demand equality, bucket by bucket.

With widths d0..d_{L+1} (K = d_{L+1} outputs), batch B, bias β in {0, 1}, and for a
hidden layer l the declared costs c_h (of h) and c_h' (of h'), plus s_l = 1 when
backprop multiplies by h' (every activation but identity):

* forward, layer l:  B·d_l·d_{l-1} mul, B·d_l·(d_{l-1} - 1) add, β·B·d_l add,
  and for hidden layers B·d_l·c_h;
* loss:  B·K sub, B·K + 1 mul, B·K - 1 add;
* backward:  B·K sub (the output deltas);  for every layer l the weight gradients
  d_l·d_{l-1}·B mul and d_l·d_{l-1}·(B - 1) add (bias gradients β·d_l·(B - 1) add);
  for every hidden layer l the deltas B·d_l·d_{l+1} mul, B·d_l·(d_{l+1} - 1) add,
  B·d_l·c_h' and s_l·B·d_l mul.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from cheapgrad.models.activations import ACTIVATIONS
from cheapgrad.models.spec import Spec

Key = tuple[str, Any, Any]
Prediction = dict[Key, dict[str, int]]


def predict(spec: Spec) -> Prediction:
    """Predicted op counts keyed like :class:`cheapgrad.core.counter.Counter` buckets.

    Keys are ``(phase, layer, part)``; values map op kind to count (zeros left out).
    """
    w = spec.widths
    n_layers = len(w) - 1  # L + 1
    batch = spec.batch
    k_out = spec.outputs
    out: dict[Key, dict[str, int]] = defaultdict(dict)

    def put(key: Key, kind: str, n: int) -> None:
        if n:
            out[key][kind] = out[key].get(kind, 0) + n

    for lay in range(1, n_layers + 1):
        d_in, d_out = w[lay - 1], w[lay]
        put(("forward", lay, "matvec"), "mul", batch * d_out * d_in)
        put(("forward", lay, "matvec"), "add", batch * d_out * (d_in - 1))
        if spec.bias:
            put(("forward", lay, "bias"), "add", batch * d_out)
        if lay <= spec.depth:
            act = ACTIVATIONS[spec.activations[lay - 1]]
            for kind, n in act.cost.items():
                put(("forward", lay, "activation"), kind, batch * d_out * n)

    put(("loss", None, "loss"), "sub", batch * k_out)
    put(("loss", None, "loss"), "mul", batch * k_out + 1)
    put(("loss", None, "loss"), "add", batch * k_out - 1)

    put(("backward", n_layers, "seed"), "sub", batch * k_out)
    for lay in range(n_layers, 0, -1):
        d_in, d_out = w[lay - 1], w[lay]
        put(("backward", lay, "grad"), "mul", d_out * d_in * batch)
        put(("backward", lay, "grad"), "add", d_out * d_in * (batch - 1))
        if spec.bias:
            put(("backward", lay, "bias_grad"), "add", d_out * (batch - 1))
        if lay <= spec.depth:
            d_next = w[lay + 1]
            act = ACTIVATIONS[spec.activations[lay - 1]]
            put(("backward", lay, "matvec"), "mul", batch * d_out * d_next)
            put(("backward", lay, "matvec"), "add", batch * d_out * (d_next - 1))
            for kind, n in act.derivative_cost.items():
                put(("backward", lay, "derivative"), kind, batch * d_out * n)
            if act.scales_delta:
                put(("backward", lay, "derivative"), "mul", batch * d_out)
    return dict(out)


def predicted_total(pred: Prediction, phase: str | None = None) -> int:
    """Unit cost of the predicted buckets of one phase (or of all)."""
    return sum(
        n for (p, _, _), kinds in pred.items() if phase is None or p == phase
        for n in kinds.values()
    )


def predicted_by_phase(pred: Prediction) -> dict[str, dict[str, int]]:
    """Predicted counts summed per phase: phase -> op kind -> count."""
    acc: dict[str, dict[str, int]] = {}
    for (phase, _, _), kinds in pred.items():
        d = acc.setdefault(phase, {})
        for kind, n in kinds.items():
            d[kind] = d.get(kind, 0) + n
    return acc


def predicted_cost(spec: Spec) -> tuple[int, int]:
    """(cost of f, cost of f and its gradient) in unit cost, from the closed form."""
    pred = predict(spec)
    cost_f = predicted_total(pred, "forward") + predicted_total(pred, "loss")
    return cost_f, cost_f + predicted_total(pred, "backward")
