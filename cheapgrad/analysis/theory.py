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

Each layer kind states its own share of these counts (``forward_counts`` and
``backward_counts`` in :mod:`cheapgrad.models.layers`); :func:`predict` sums them over
the spec's layers.
"""

from __future__ import annotations

from cheapgrad.models.layers import Key, Prediction, closed_form
from cheapgrad.models.mlp import network
from cheapgrad.models.spec import Spec

__all__ = ["Key", "Prediction", "predict", "predicted_by_phase", "predicted_cost",
           "predicted_total"]


def predict(spec: Spec) -> Prediction:
    """Predicted op counts keyed like :class:`cheapgrad.core.counter.Counter` buckets.

    Keys are ``(phase, layer, part)``; values map op kind to count (zeros left out).

    Example::

        >>> from cheapgrad.models.spec import spec_from_dict
        >>> pred = predict(spec_from_dict({"input_dim": 4, "hidden": [8], "activation": "tanh"}))
        >>> pred[("forward", 1, "matvec")], pred[("backward", 1, "derivative")]
        ({'mul': 32, 'add': 24}, {'mul': 16, 'sub': 8})
    """
    return closed_form(network(spec), spec.batch)


def predicted_total(pred: Prediction, phase: str | None = None) -> int:
    """Unit cost of the predicted buckets of one phase (or of all).

    Example::

        >>> predicted_total({("forward", 1, "matvec"): {"mul": 2, "add": 1}})
        3
    """
    return sum(
        n for (p, _, _), kinds in pred.items() if phase is None or p == phase
        for n in kinds.values()
    )


def predicted_by_phase(pred: Prediction) -> dict[str, dict[str, int]]:
    """Predicted counts summed per phase: phase -> op kind -> count.

    Example::

        >>> predicted_by_phase({("loss", None, "loss"): {"sub": 1}, ("forward", 1, "m"): {}})
        {'loss': {'sub': 1}, 'forward': {}}
    """
    acc: dict[str, dict[str, int]] = {}
    for (phase, _, _), kinds in pred.items():
        d = acc.setdefault(phase, {})
        for kind, n in kinds.items():
            d[kind] = d.get(kind, 0) + n
    return acc


def predicted_cost(spec: Spec) -> tuple[int, int]:
    """(cost of f, cost of f and its gradient) in unit cost, from the closed form.

    Example::

        >>> from cheapgrad.models.spec import spec_from_dict
        >>> predicted_cost(spec_from_dict({"input_dim": 4, "hidden": [8], "activation": "tanh"}))
        (82, 155)
    """
    pred = predict(spec)
    cost_f = predicted_total(pred, "forward") + predicted_total(pred, "loss")
    return cost_f, cost_f + predicted_total(pred, "backward")
