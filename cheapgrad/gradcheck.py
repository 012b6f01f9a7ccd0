"""Independent gradient checks in plain float64 numpy, outside the counter.

* ``central`` (small nets): every partial derivative against
  (f(θ + ε e_i) − f(θ − ε e_i)) / 2ε.
* ``directional`` (large nets): ∇f·v against (f(θ + ε v) − f(θ − ε v)) / 2ε for several
  random unit directions v.

The error of one comparison is |g − fd| / max(|g|, |fd|, floor), with the floor a
small fraction of the gradient's scale so that components that are zero (a dead relu)
or tiny do not turn rounding noise into a huge relative error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

#: Nets with at most this many parameters get the full central-difference check.
FULL_CHECK_MAX_PARAMETERS = 2000
DIRECTIONS = 8
TOLERANCE = 1e-5


@dataclass(frozen=True)
class GradCheck:
    """The outcome of a gradient check."""

    method: str
    max_rel_error: float
    passed: bool
    tolerance: float
    comparisons: int
    evaluations: int

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def _rel_errors(g: np.ndarray, fd: np.ndarray, scale: float) -> np.ndarray:
    floor = max(1e-3 * scale, 1e-12)
    denom = np.maximum(np.maximum(np.abs(g), np.abs(fd)), floor)
    return np.asarray(np.abs(g - fd) / denom)


def check_gradient(
    f: Callable[[np.ndarray], float],
    theta: np.ndarray,
    grad: np.ndarray,
    *,
    method: str = "auto",
    seed: int = 0,
    tolerance: float = TOLERANCE,
    directions: int = DIRECTIONS,
) -> GradCheck:
    """Compare ``grad`` (claimed ∇f at ``theta``) with central differences of ``f``.

    ``method`` is ``central``, ``directional`` or ``auto`` (central up to
    :data:`FULL_CHECK_MAX_PARAMETERS` parameters).
    """
    theta = np.asarray(theta, dtype=float)
    grad = np.asarray(grad, dtype=float)
    if method == "auto":
        method = "central" if theta.size <= FULL_CHECK_MAX_PARAMETERS else "directional"
    if not np.all(np.isfinite(grad)):
        return GradCheck(method, float("inf"), False, tolerance, 0, 0)
    scale = float(np.max(np.abs(grad))) if grad.size else 0.0
    if method == "central":
        fd = np.empty_like(theta)
        for i in range(theta.size):
            eps = 1e-6 * max(1.0, abs(theta[i]))
            old = theta[i]
            theta[i] = old + eps
            f_plus = f(theta)
            theta[i] = old - eps
            f_minus = f(theta)
            theta[i] = old
            fd[i] = (f_plus - f_minus) / (2 * eps)
        errors = _rel_errors(grad, fd, scale)
        evaluations = 2 * theta.size
        comparisons = theta.size
    elif method == "directional":
        rng = np.random.default_rng(seed)
        claimed, measured = [], []
        for _ in range(directions):
            v = rng.standard_normal(theta.size)
            v /= np.linalg.norm(v)
            eps = 1e-6 * max(1.0, float(np.linalg.norm(theta)) / np.sqrt(theta.size))
            fd = (f(theta + eps * v) - f(theta - eps * v)) / (2 * eps)
            claimed.append(float(grad @ v))
            measured.append(fd)
        # The scale of a directional derivative is |∇f| (v has unit norm).
        errors = _rel_errors(np.array(claimed), np.array(measured),
                             float(np.linalg.norm(grad)))
        evaluations = 2 * directions
        comparisons = directions
    else:
        raise ValueError(f"unknown gradient-check method {method!r}")
    worst = float(np.max(errors)) if errors.size else 0.0
    if not np.isfinite(worst):
        worst = float("inf")
    return GradCheck(method, worst, worst <= tolerance, tolerance, comparisons, evaluations)
