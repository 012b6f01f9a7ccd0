"""Independent gradient checks in plain numpy, outside the counter.

* ``complex-step`` (small nets, the default where the reference accepts complex input):
  every partial derivative as Im f(θ + i·h·e_i) / h. The step is imaginary, so nothing
  is subtracted: the derivative comes out exact to rounding (relative error ~1e-16) for
  any h small enough, here 1e-30, however small the gradient is next to f.
  ``complex-step-directional`` (large nets): ∇f·v against Im f(θ + i·h·v) / h for
  several random unit directions v.
* ``central`` (small nets): every partial derivative against central differences
  D(h) = (f(θ + h e_i) − f(θ − h e_i)) / 2h.
* ``directional`` (large nets): ∇f·v against the central difference along v, for several
  random unit directions v.

Both use one Richardson step, (4 D(h/2) − D(h)) / 3, whose error is O(h⁴) instead of
O(h²): with h = 1e-4 the truncation error is negligible and rounding stays near
ε·|f|/h, so even gradients many orders of magnitude smaller than the loss are resolved.

The error of one comparison is |g − fd| / max(|g|, |fd|, floor): relative for every
component of at least a tenth of the largest one, and relative to that tenth for the
smaller ones (a dead relu's exact zero, or a component near rounding level), with the
floor never below the differences' own rounding noise.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

#: Nets with at most this many parameters get the full central-difference check.
FULL_CHECK_MAX_PARAMETERS = 2000
#: ``--check central`` is refused above this many parameters (4 to 16 evaluations of f
#: per parameter, each as long as f: the time grows with the square of the size).
CENTRAL_MAX_PARAMETERS = 20_000
DIRECTIONS = 8
TOLERANCE = 1e-5
#: The imaginary step of the complex-step method.
COMPLEX_STEP = 1e-30
METHODS = ("auto", "complex-step", "complex-step-directional", "central", "directional")
LABELS = {
    "complex-step": "complex step",
    "complex-step-directional": "complex step along random directions",
    "central": "central differences",
    "directional": "central differences along random directions",
}


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

    def to_json(self) -> dict[str, object]:
        """The fields every report's JSON carries (an infinite error becomes null)."""
        error = self.max_rel_error
        return {"method": self.method,
                "max_rel_error": error if math.isfinite(error) else None,
                "tolerance": self.tolerance, "comparisons": self.comparisons,
                "passed": self.passed}

    @property
    def summary(self) -> str:
        """One line: method, comparisons, worst error and tolerance."""
        n = self.comparisons
        return (f"{self.label}, {n:,} comparison{'' if n == 1 else 's'}, max rel. error "
                f"{self.max_rel_error:.2e} (tolerance {self.tolerance:.0e})")

    @property
    def label(self) -> str:
        """The method in words, e.g. ``complex step`` or ``central differences along random
        directions``."""
        return LABELS.get(self.method, self.method)


STEP = 1e-4


def _rel_errors(g: np.ndarray, fd: np.ndarray, scale: float, noise: float) -> np.ndarray:
    floor = max(0.1 * scale, noise, 1e-300)
    denom = np.maximum(np.maximum(np.abs(g), np.abs(fd)), floor)
    return np.asarray(np.abs(g - fd) / denom)


def _richardson(along: Callable[[float], float], h: float) -> float:
    """The derivative at 0 of ``along`` by central differences and one Richardson step."""
    d_h = (along(h) - along(-h)) / (2 * h)
    d_half = (along(h / 2) - along(-h / 2)) / h
    return (4 * d_half - d_h) / 3


def _derivative(along: Callable[[float], float], h: float, noise: float) -> float:
    """A Richardson estimate that agrees with the same estimate at a 16 times smaller step.

    A kink of relu within the step (the loss is only piecewise smooth there) makes the
    two disagree; the step then shrinks until two consecutive estimates agree, or stops
    at the smallest. The claimed gradient plays no part in the choice.
    """
    previous = _richardson(along, h)
    for _ in range(3):
        h /= 16
        current = _richardson(along, h)
        if abs(current - previous) <= 1e-7 * max(abs(current), abs(previous)) + noise * STEP / h:
            return previous
        previous = current
    return previous


def _complex_step(
    f: Callable[[np.ndarray], complex],
    line: Callable[[np.ndarray], Callable[[complex], complex]] | None,
    theta: np.ndarray,
    grad: np.ndarray,
    method: str,
    seed: int,
    tolerance: float,
    directions: int,
) -> GradCheck:
    """The complex-step check: derivatives as Im f(θ + i·h·d) / h, exact to rounding."""
    h = COMPLEX_STEP
    if method == "complex-step":
        point = theta.astype(complex)
        reference = np.empty_like(theta)
        for i in range(theta.size):
            point[i] = theta[i] + 1j * h
            reference[i] = f(point).imag / h
            point[i] = theta[i]
        claimed, scale = grad, float(np.max(np.abs(grad))) if grad.size else 0.0
    else:
        rng = np.random.default_rng(seed)
        measured, dots = [], []
        for _ in range(directions):
            v = rng.standard_normal(theta.size)
            v /= np.linalg.norm(v)
            value = f(theta + (1j * h) * v) if line is None else line(v)(1j * h)
            measured.append(value.imag / h)
            dots.append(float(grad @ v))
        reference, claimed = np.array(measured), np.array(dots)
        scale = float(np.linalg.norm(grad))
    errors = _rel_errors(claimed, reference, scale, 0.0)
    worst = float(np.max(errors)) if errors.size else 0.0
    if not np.isfinite(worst):
        worst = float("inf")
    return GradCheck(method, worst, worst <= tolerance, tolerance, int(reference.size),
                     int(reference.size))


def check_gradient(
    f: Callable[[np.ndarray], float],
    theta: np.ndarray,
    grad: np.ndarray,
    *,
    method: str = "auto",
    seed: int = 0,
    tolerance: float = TOLERANCE,
    directions: int = DIRECTIONS,
    line: Callable[[np.ndarray], Callable[[float], float]] | None = None,
    complex_f: Callable[[np.ndarray], complex] | None = None,
    complex_line: Callable[[np.ndarray], Callable[[complex], complex]] | None = None,
) -> GradCheck:
    """Compare ``grad`` (claimed ∇f at ``theta``) with an independent derivative of ``f``.

    ``method`` is one of :data:`METHODS`; ``auto`` takes the complex step when
    ``complex_f`` (f on complex input, analytic near θ) is given, else central
    differences, every partial up to :data:`FULL_CHECK_MAX_PARAMETERS` parameters and
    random directions above. ``line`` / ``complex_line``, when given, map a direction v
    to the function t ↦ f(θ + t·v) evaluated without forming θ + t·v (for large nets,
    where that vector costs more than f); the directional methods then use them.
    """
    theta = np.asarray(theta, dtype=float)
    grad = np.asarray(grad, dtype=float)
    calls = [0]
    reference = f

    def f_counted(t: np.ndarray) -> float:  # counts the evaluations of the reference
        calls[0] += 1
        return reference(t)

    f = f_counted
    full = theta.size <= FULL_CHECK_MAX_PARAMETERS
    if method == "auto":
        if complex_f is not None:
            method = "complex-step" if full else "complex-step-directional"
        else:
            method = "central" if full else "directional"
    if method.startswith("complex-step") and complex_f is None:
        raise ValueError("the complex-step check needs f on complex input (complex_f)")
    if not np.all(np.isfinite(grad)):
        return GradCheck(method, float("inf"), False, tolerance, 0, 0)
    if method.startswith("complex-step") and complex_f is not None:
        return _complex_step(complex_f, complex_line, theta, grad, method, seed, tolerance,
                             directions)
    scale = float(np.max(np.abs(grad))) if grad.size else 0.0
    # Rounding noise of a difference quotient: a few ulps of f, divided by the step.
    noise = 8 * np.finfo(float).eps * max(1.0, abs(f(theta))) / STEP
    if method == "central":
        fd = np.empty_like(theta)
        for i in range(theta.size):
            h = STEP * max(1.0, abs(theta[i]))
            old = theta[i]

            def along(t: float, i: int = i, old: float = old) -> float:
                theta[i] = old + t
                return f(theta)

            fd[i] = _derivative(along, h, noise)
            theta[i] = old
        errors = _rel_errors(grad, fd, scale, noise)
        comparisons = theta.size
    elif method == "directional":
        rng = np.random.default_rng(seed)
        claimed, measured = [], []
        for _ in range(directions):
            v = rng.standard_normal(theta.size)
            v /= np.linalg.norm(v)
            h = STEP * max(1.0, float(np.linalg.norm(theta)) / np.sqrt(theta.size))

            on_line = None if line is None else line(v)

            def along_v(t: float, v: np.ndarray = v,
                        on_line: Callable[[float], float] | None = on_line) -> float:
                if on_line is None:
                    return f(theta + t * v)
                calls[0] += 1
                return on_line(t)

            measured.append(_derivative(along_v, h, noise))
            claimed.append(float(grad @ v))
        # The scale of a directional derivative is |∇f| (v has unit norm).
        errors = _rel_errors(np.array(claimed), np.array(measured),
                             float(np.linalg.norm(grad)), noise)
        comparisons = directions
    else:
        raise ValueError(f"unknown gradient-check method {method!r}")
    worst = float(np.max(errors)) if errors.size else 0.0
    if not np.isfinite(worst):
        worst = float("inf")
    return GradCheck(method, worst, worst <= tolerance, tolerance, comparisons, calls[0])


def max_rel_error(g: np.ndarray, ref: np.ndarray) -> float:
    """max_i |g_i − r_i| / max(|g_i|, |r_i|, 10⁻³·max|r|, 10⁻¹²): the error of a gradient
    against a reference, relative per entry, with a floor for entries near zero.

    (The gradient check's own measure, :func:`check_gradient`, floors at a tenth of the
    largest entry instead, and at the differences' noise.)

    Example::

        >>> round(max_rel_error(np.array([1.0, 2.0]), np.array([1.0, 2.002])), 9)
        0.000999001
    """
    if g.size == 0:
        return 0.0
    scale = float(np.max(np.abs(ref)))
    floor = max(1e-3 * scale, 1e-12)
    denom = np.maximum(np.maximum(np.abs(g), np.abs(ref)), floor)
    err = float(np.max(np.abs(g - ref) / denom))
    return err if math.isfinite(err) else math.inf
