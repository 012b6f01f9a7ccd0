"""Network layers, one module per kind, each owning its counted scalar rule, array rule,
closed-form count and plain-numpy reference (see :mod:`cheapgrad.models.layers.base`
and docs/layers.md)."""

from cheapgrad.models.layers.activation import ActivationLayer
from cheapgrad.models.layers.base import Key, Layer, Loss, Network, Prediction, closed_form
from cheapgrad.models.layers.dense import Dense
from cheapgrad.models.layers.loss import SquaredError

#: The loss kinds by the spec's ``loss`` name: K outputs -> the loss stage.
LOSSES = {"squared": SquaredError}

__all__ = [
    "LOSSES", "ActivationLayer", "Dense", "Key", "Layer", "Loss", "Network", "Prediction",
    "SquaredError", "closed_form",
]
