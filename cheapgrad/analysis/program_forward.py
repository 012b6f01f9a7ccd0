"""Forward mode of counted numpy programs, on either engine: one dual-number pass per
input element.

Pass *i* evaluates f again (counted: cost(f), under ``(phase, i, "value")``) and pushes
a tangent seeded with the unit vector eᵢ through the recorded program (counted under
``(phase, None, "tangent")``): on the array engine by
:func:`cheapgrad.core.array_forward.directional`, on the scalar engine by
:func:`cheapgrad.core.forward.directional` over the traced object arrays of counted
scalars. Both engines count the same ops kind by kind (``tests/test_array_forward.py``).
The tangents give the gradient one partial at a time: the O(d) cost that reverse mode
avoids.

Example::

    >>> import numpy as np
    >>> r = forward_gradient(lambda w: (w * w).sum(), {"w": np.array([1.0, 2.0])}, "array")
    >>> r.gradient.tolist(), r.counter.totals("forward_mode").nonzero()
    ([2.0, 4.0], {'add': 4, 'mul': 8})
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cheapgrad.core import array_forward, forward, number
from cheapgrad.core.array import CArray
from cheapgrad.core.array_masks import tracing
from cheapgrad.core.counter import Counter, gc_paused
from cheapgrad.core.numarray import NumArray


@dataclass
class ForwardGradient:
    """The gradient by forward mode (flat, inputs in order) and its counts."""

    gradient: np.ndarray
    counter: Counter


def record(f: Callable[..., Any], inputs: dict[str, np.ndarray], engine: str
           ) -> tuple[Any, list[Any], list[Any]]:
    """f traced on fresh counted inputs (uncounted): its output, the input arrays, and
    what a tangent pass takes as inputs (the arrays, or their scalars flat)."""
    if engine == "array":
        xs: list[Any] = [CArray(a, dep=True) for a in inputs.values()]
        with tracing():
            out = f(*xs)
        return out, xs, xs
    ns = [NumArray.variables(a) for a in inputs.values()]
    with number.tracing():
        out = f(*ns)
    return out, ns, [e for x in ns for e in x.v.ravel()]


def tangents(out: Any, seeds: list[Any], direction: np.ndarray,
             inputs: dict[str, np.ndarray], engine: str, counter: Counter,
             phase: str = "tangent", dense: bool = False) -> np.ndarray:
    """One tangent pass along the flat ``direction``: the output's tangent, flat."""
    if engine == "array":
        parts, i = [], 0
        for a in inputs.values():
            parts.append(direction[i:i + a.size].reshape(a.shape))
            i += a.size
        return np.ravel(array_forward.directional([out], seeds, parts, counter, phase,
                                                  dense)[0])
    outs = out.v.ravel().tolist() if isinstance(out, NumArray) else [out]
    return np.array([t.v for t in forward.directional(outs, seeds, direction, counter,
                                                      phase, dense=dense)])


def forward_gradient(f: Callable[..., Any], inputs: dict[str, np.ndarray], engine: str,
                     phase: str = "forward_mode") -> ForwardGradient:
    """∇f by forward mode with ``engine`` (``array`` or ``scalar``), every op counted."""
    counter = Counter()
    d = sum(a.size for a in inputs.values())
    grad = np.zeros(d)
    with gc_paused():
        out, _, seeds = record(f, inputs, engine)
        for i in range(d):
            with counter.scope(phase, i, "value"):
                fresh = ([CArray(a, dep=True) for a in inputs.values()] if engine == "array"
                         else [NumArray.variables(a) for a in inputs.values()])
                f(*fresh)
            e = np.zeros(d)
            e[i] = 1.0
            grad[i] = tangents(out, seeds, e, inputs, engine, counter, phase)[0]
    return ForwardGradient(grad, counter)


def method(f: Callable[..., Any], inputs: dict[str, np.ndarray], engine: str, cost_f: int,
           exact: np.ndarray, max_ops: int) -> dict[str, Any]:
    """The forward-mode row of a program run's method table (measured when it needs at
    most ``max_ops`` ops: d passes of f and a tangent, a tangent being at most 4·f)."""
    d = int(exact.size)
    row: dict[str, Any] = {
        "name": "forward", "cost": None, "ratio": None, "max_rel_error": None,
        "evaluations": f"{d} dual-number passes (value and one tangent each)",
        "measured": False, "note": ""}
    if 5 * d * cost_f > max_ops:
        row["note"] = f"not run: up to {5 * d * cost_f:,} ops to count (limit {max_ops:,})"
        return row
    r = forward_gradient(f, inputs, engine)
    cost = r.counter.totals().total
    err = float(np.max(np.abs(r.gradient - exact) / np.maximum(1.0, np.abs(exact)))) \
        if d else 0.0
    row.update(cost=cost, ratio=cost / cost_f if cost_f else float("nan"),
               max_rel_error=err, measured=True)
    return row
