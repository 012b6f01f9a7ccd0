"""Independent checks of HVPs, Hessians and Jacobians.

Each check compares two routes and reports the relative error
‖a − b‖∞ / max(‖a‖∞, ‖b‖∞) against its tolerance:

* **exact routes** (tolerance :data:`EXACT`, 1e-8): the three HVP modes against one
  another, forward against reverse (and colored against forward) Jacobians, a Hessian
  against the outer products of its columns with v, and closed forms where a built-in
  has one. They share the op table's rules but not the order of the chain rule, so a
  wrong rule, seed or accumulation shows; rounding stays near 1e-15.
* **differences** (tolerance :data:`DIFFERENCE`, 1e-6): central differences with one
  Richardson step, (4·D(h/2) − D(h))/3 with h = 10⁻³·max(1, |x|), of the reverse-mode
  gradient along v (for an HVP), of each gradient entry per input (for a Hessian, on at
  most :data:`FULL_MAX_INPUTS` inputs) or of F per input (for a Jacobian). The
  truncation error is O(h⁴) ≈ 1e-12 relative, rounding about 1e-13 / h: 1e-6 leaves
  room for curvature without hiding a wrong derivative (an error is O(1)).

Example::

    >>> c = close("a", np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-12]), EXACT)
    >>> c.passed, c.error < 1e-12
    (True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cheapgrad.analysis.second_order import Fn, gradient_costs, outputs_of
from cheapgrad.core.number import const

#: Tolerance of two exact routes (relative, in the max norm).
EXACT = 1e-8
#: Tolerance of central differences with a Richardson step (relative, max norm).
DIFFERENCE = 1e-6
#: Full Hessians by differences only up to this many inputs (n gradient pairs).
FULL_MAX_INPUTS = 60


@dataclass(frozen=True)
class Check:
    """One comparison: what against what, the relative error and its tolerance."""

    name: str
    error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return bool(self.error <= self.tolerance)


def close(name: str, a: np.ndarray, b: np.ndarray, tolerance: float) -> Check:
    """The relative max-norm error of ``a`` against ``b``."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return Check(name, float("inf"), tolerance)
    scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
    diff = float(np.max(np.abs(a - b), initial=0.0))
    if not np.isfinite(diff):
        return Check(name, float("inf"), tolerance)
    return Check(name, 0.0 if diff == 0.0 else diff / max(scale, 1e-300), tolerance)


def _richardson(g: Callable[[float], np.ndarray], h: float) -> np.ndarray:
    def d(step: float) -> np.ndarray:
        return (g(step) - g(-step)) / (2 * step)

    return (4 * d(h / 2) - d(h)) / 3


def _step(x: np.ndarray) -> float:
    return 1e-3 * max(1.0, float(np.max(np.abs(x), initial=0.0)))


def gradient(fn: Fn, x: np.ndarray) -> np.ndarray:
    """∇f(x) by reverse mode (the first-order route, checked by its own gradient check)."""
    return gradient_costs(fn, x)[1]


def hvp_by_differences(fn: Fn, x: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(∇f(x + hv) − ∇f(x − hv)) / 2h with a Richardson step."""
    scale = max(float(np.max(np.abs(v), initial=0.0)), 1e-300)
    h = _step(x) / scale
    return _richardson(lambda t: gradient(fn, x + t * v), h)


def hessian_by_differences(fn: Fn, x: np.ndarray) -> np.ndarray:
    """Every column of the Hessian by differences of the gradient (2·2n gradients),
    symmetrized."""
    n = len(x)
    cols = [hvp_by_differences(fn, x, np.eye(n)[j]) for j in range(n)]
    h = np.array(cols).T if cols else np.zeros((0, 0))
    return np.asarray((h + h.T) / 2)


def values(fn: Fn, x: np.ndarray) -> np.ndarray:
    """F(x) evaluated on counted constants (uncounted, untraced)."""
    return np.array([o.v for o in outputs_of(fn([const(float(e)) for e in x]))])


def jacobian_by_differences(fn: Fn, x: np.ndarray) -> np.ndarray:
    """Every column of the Jacobian by central differences of F (a Richardson step)."""
    n = len(x)
    h = _step(x)

    def along(j: int) -> Callable[[float], np.ndarray]:
        return lambda t: values(fn, x + t * np.eye(n)[j])

    cols = [_richardson(along(j), h) for j in range(n)]
    return np.array(cols).T if cols else np.zeros((0, n))


def hvp_checks(fn: Fn, x: np.ndarray, v: np.ndarray,
               by_mode: dict[str, np.ndarray],
               reference: Callable[[np.ndarray], np.ndarray] | None = None) -> list[Check]:
    """The checks of H·v: the modes against the first, differences of the gradient along
    v, the full Hessian by differences times v (small n) and a closed-form Hessian."""
    modes = list(by_mode)
    first = by_mode[modes[0]]
    checks = [close(f"{m} = {modes[0]}", by_mode[m], first, EXACT) for m in modes[1:]]
    checks.append(close("central differences of ∇f along v", first,
                        hvp_by_differences(fn, x, v), DIFFERENCE))
    if len(x) <= FULL_MAX_INPUTS:
        checks.append(close("Hessian by differences · v", first,
                            hessian_by_differences(fn, x) @ v, DIFFERENCE))
    if reference is not None:
        checks.append(close("closed-form Hessian · v", first, reference(x) @ v, EXACT))
    return checks


def hessian_checks(fn: Fn, x: np.ndarray, matrix: np.ndarray, dense: np.ndarray | None,
                   reference: Callable[[np.ndarray], np.ndarray] | None = None
                   ) -> list[Check]:
    """The checks of a Hessian: symmetry, the compressed against the dense passes,
    differences of the gradient (small n) and a closed form."""
    checks = [close("symmetric", matrix, matrix.T, EXACT)]
    if dense is not None:
        checks.append(close("colored = dense passes", matrix, dense, EXACT))
    if len(x) <= FULL_MAX_INPUTS:
        checks.append(close("differences of ∇f", matrix, hessian_by_differences(fn, x),
                            DIFFERENCE))
    if reference is not None:
        checks.append(close("closed form", matrix, reference(x), EXACT))
    return checks


def jacobian_checks(fn: Fn, x: np.ndarray, by_mode: dict[str, np.ndarray],
                    reference: Callable[[np.ndarray], np.ndarray] | None = None
                    ) -> list[Check]:
    """The checks of a Jacobian: the modes against the first, central differences of F
    and a closed form."""
    modes = list(by_mode)
    first = by_mode[modes[0]]
    checks = [close(f"{m} = {modes[0]}", by_mode[m], first, EXACT) for m in modes[1:]]
    checks.append(close("central differences of F", first,
                        jacobian_by_differences(fn, x), DIFFERENCE))
    if reference is not None:
        checks.append(close("closed form", first, reference(x), EXACT))
    return checks


def all_passed(checks: Sequence[Check]) -> bool:
    """Whether every check passed."""
    return all(c.passed for c in checks)
