"""Property: on random specs the array engine counts what the scalar engine counts.

Op kind by op kind, nonscalar tallies included, phase by phase, layer by layer and part by
part; losses, predictions and gradients agree to about 1e-12. Bounded so that it runs in
a few seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cheapgrad.analysis.theory import predict
from cheapgrad.core.counter import Counter, OpCounts
from cheapgrad.engines.array import array_engine
from cheapgrad.engines.scalar import scalar_engine
from cheapgrad.errors import DomainError
from cheapgrad.models.activations import ACTIVATIONS
from cheapgrad.models.mlp import init_params
from cheapgrad.models.spec import spec_from_dict

BUILT_IN = ("identity", "tanh", "sigmoid", "relu", "square")


def _available(name: str) -> bool:
    try:
        ACTIVATIONS[name]
    except KeyError:
        return False
    return True


# An activation with declared costs, counted as abstract ops, when the registry has one.
NAMES = BUILT_IN + tuple(n for n in ("custom(3,7)",) if _available(n))


@st.composite
def specs(draw: st.DrawFn) -> dict[str, Any]:
    depth = draw(st.integers(0, 3))
    return {
        "input_dim": draw(st.integers(1, 5)),
        "hidden": draw(st.lists(st.integers(1, 6), min_size=depth, max_size=depth)),
        "activation": draw(st.lists(st.sampled_from(NAMES), min_size=depth,
                                    max_size=depth)),
        "outputs": draw(st.integers(1, 3)),
        "bias": draw(st.booleans()),
        "batch": draw(st.integers(1, 4)),
        "seed": draw(st.integers(0, 2**16)),
    }


def tallies(counter: Counter) -> dict[Any, tuple[dict[str, int], dict[str, int]]]:
    out = {}
    for key, tally in counter.buckets.items():
        c = OpCounts.from_tally(tally)
        if c.total:
            out[key] = (c.counts, c.nonscalar)
    return out


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs())
def test_engines_agree(data: dict[str, Any]) -> None:
    spec = spec_from_dict(data)
    params = init_params(spec)
    c_scalar, c_array = Counter(), Counter()
    try:
        out_scalar = scalar_engine(spec, params, c_scalar)
    except DomainError:
        with pytest.raises(DomainError):
            array_engine(spec, params, c_array)
        return
    out_array = array_engine(spec, params, c_array)

    assert tallies(c_array) == tallies(c_scalar)
    measured = {k: {n: v for n, v in c[0].items() if v} for k, c in tallies(c_array).items()}
    assert measured == predict(spec)

    scale = max(1.0, float(np.max(np.abs(out_scalar.grads.flat()))))
    assert abs(out_array.loss - out_scalar.loss) <= 1e-12 * max(1.0, abs(out_scalar.loss))
    np.testing.assert_allclose(out_array.yhat, out_scalar.yhat, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out_array.grads.flat(), out_scalar.grads.flat(),
                               rtol=1e-12, atol=1e-12 * scale)
