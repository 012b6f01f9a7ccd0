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

#: f on a batch of points, uncounted: rows of a (k, d) array (float or complex) -> k values.
Batch = Callable[[np.ndarray], np.ndarray]
#: Told how far a long check has got: (evaluations done, evaluations in all).
Progress = Callable[[int, int], None]
#: Points per batch (and per progress report) of a per-partial check.
CHUNK = 64

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


@dataclass(frozen=True)
class Partials:
    """Every partial derivative of f at θ by an independent route: the reference that the
    gradient check compares with, computed once and shared (the circuit's method table
    measures its errors against it too). ``noise`` is the rounding noise of central
    differences (0 for the complex step); ``evaluations`` counts the evaluations of f."""

    method: str
    values: np.ndarray
    noise: float
    evaluations: int


def _complex_partials(f: Callable[[np.ndarray], complex], batch: Batch | None,
                      theta: np.ndarray, progress: Progress | None) -> np.ndarray:
    """∂f/∂θ_i = Im f(θ + i·h·e_i) / h for every i, by batches when ``batch`` is given."""
    h, d = COMPLEX_STEP, theta.size
    out = np.empty(d)
    point = theta.astype(complex)
    for start in range(0, d, CHUNK):
        stop = min(d, start + CHUNK)
        if batch is not None:
            rows = np.tile(point, (stop - start, 1))
            rows[np.arange(stop - start), np.arange(start, stop)] += 1j * h
            out[start:stop] = np.imag(np.asarray(batch(rows))) / h
        else:
            for i in range(start, stop):
                point[i] = theta[i] + 1j * h
                out[i] = complex(f(point)).imag / h
                point[i] = theta[i]
        if progress is not None:
            progress(stop, d)
    return out


def _central_partials(f: Callable[[np.ndarray], float], theta: np.ndarray,
                      progress: Progress | None) -> tuple[np.ndarray, float]:
    """Every partial by central differences with a Richardson step (and the step
    shrinking at a kink, :func:`_derivative`); the differences' rounding noise."""
    # Rounding noise of a difference quotient: a few ulps of f, divided by the step.
    noise = 8 * np.finfo(float).eps * max(1.0, abs(f(theta))) / STEP
    fd = np.empty_like(theta)
    for i in range(theta.size):
        h = STEP * max(1.0, abs(theta[i]))
        old = theta[i]

        def along(t: float, i: int = i, old: float = old) -> float:
            theta[i] = old + t
            return f(theta)

        fd[i] = _derivative(along, h, noise)
        theta[i] = old
        if progress is not None and ((i + 1) % CHUNK == 0 or i + 1 == theta.size):
            progress(i + 1, theta.size)
    return fd, float(noise)


def partials(
    f: Callable[[np.ndarray], float],
    theta: np.ndarray,
    method: str,
    *,
    complex_f: Callable[[np.ndarray], complex] | None = None,
    complex_batch: Batch | None = None,
    progress: Progress | None = None,
) -> Partials:
    """Every partial derivative of ``f`` at ``theta`` by ``method``: ``complex-step``
    (needs ``complex_f``, or ``complex_batch`` to evaluate many points per call) or
    ``central``.

    Example::

        >>> p = partials(lambda t: float(t[0] * t[1]), np.array([2.0, 3.0]), "complex-step",
        ...              complex_f=lambda t: complex(t[0] * t[1]))
        >>> p.values.tolist(), p.evaluations
        ([3.0, 2.0], 2)
    """
    theta = np.array(theta, dtype=float)
    if method == "complex-step":
        if complex_f is None and complex_batch is None:
            raise ValueError("the complex-step check needs f on complex input (complex_f)")
        assert complex_f is not None or complex_batch is not None
        values = _complex_partials(complex_f or (lambda t: complex(0.0)), complex_batch,
                                   theta, progress)
        return Partials(method, values, 0.0, theta.size)
    if method != "central":
        raise ValueError(f"not a per-partial method: {method!r}")
    calls = [0]

    def counted(t: np.ndarray) -> float:
        calls[0] += 1
        return f(t)

    values, noise = _central_partials(counted, theta, progress)
    return Partials(method, values, noise, calls[0])


def _complex_step(
    f: Callable[[np.ndarray], complex],
    line: Callable[[np.ndarray], Callable[[complex], complex]] | None,
    theta: np.ndarray,
    grad: np.ndarray,
    method: str,
    seed: int,
    tolerance: float,
    directions: int,
    batch: Batch | None = None,
    progress: Progress | None = None,
) -> GradCheck:
    """The complex-step check: derivatives as Im f(θ + i·h·d) / h, exact to rounding."""
    h = COMPLEX_STEP
    if method == "complex-step":
        reference = _complex_partials(f, batch, theta, progress)
        claimed, scale = grad, float(np.max(np.abs(grad))) if grad.size else 0.0
    else:
        rng = np.random.default_rng(seed)
        vs = []
        for _ in range(directions):
            v = rng.standard_normal(theta.size)
            vs.append(v / np.linalg.norm(v))
        if batch is not None and line is None:
            values = np.asarray(batch(theta + (1j * h) * np.array(vs)))
        else:
            values = np.array([f(theta + (1j * h) * v) if line is None else line(v)(1j * h)
                               for v in vs])
        reference = np.imag(values) / h
        claimed = np.array([float(grad @ v) for v in vs])
        scale = float(np.linalg.norm(grad))
    return _verdict(method, claimed, reference, scale, 0.0, tolerance, int(reference.size),
                    int(reference.size))


def _verdict(method: str, claimed: np.ndarray, reference: np.ndarray, scale: float,
             noise: float, tolerance: float, comparisons: int, evaluations: int) -> GradCheck:
    errors = _rel_errors(claimed, reference, scale, noise)
    worst = float(np.max(errors)) if errors.size else 0.0
    if not np.isfinite(worst):
        worst = float("inf")
    return GradCheck(method, worst, worst <= tolerance, tolerance, comparisons, evaluations)


def resolve_method(method: str, parameters: int, has_complex: bool,
                   full_max: int = FULL_CHECK_MAX_PARAMETERS) -> str:
    """The check ``auto`` stands for: the complex step when f can be evaluated on complex
    input, else central differences; every partial up to ``full_max`` parameters, random
    directions above. Any other method is returned as it is.

    >>> resolve_method("auto", 10, True), resolve_method("auto", 10_000, False)
    ('complex-step', 'directional')
    """
    if method != "auto":
        return method
    full = parameters <= full_max
    if has_complex:
        return "complex-step" if full else "complex-step-directional"
    return "central" if full else "directional"


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
    complex_batch: Batch | None = None,
    reference: Partials | None = None,
    full_max: int = FULL_CHECK_MAX_PARAMETERS,
    progress: Progress | None = None,
) -> GradCheck:
    """Compare ``grad`` (claimed ∇f at ``theta``) with an independent derivative of ``f``.

    ``method`` is one of :data:`METHODS`; ``auto`` takes the complex step when
    ``complex_f`` (f on complex input, analytic near θ) or ``complex_batch`` (the same on
    many points per call) is given, else central differences, every partial up to
    ``full_max`` (:data:`FULL_CHECK_MAX_PARAMETERS`) parameters and random directions
    above (:func:`resolve_method`). ``line`` / ``complex_line``, when given, map a
    direction v to the function t ↦ f(θ + t·v) evaluated without forming θ + t·v (for
    large nets, where that vector costs more than f); the directional methods then use
    them. ``reference``, the per-partial derivatives already computed by
    :func:`partials` with the same method, is compared with instead of computing them
    again. ``progress`` is told how far a per-partial check has got.

    Example::

        >>> g = check_gradient(lambda t: float(t @ t), np.array([1.0, 2.0]),
        ...                    np.array([2.0, 4.0]))
        >>> g.method, g.passed, g.comparisons
        ('central', True, 2)
    """
    theta = np.array(theta, dtype=float)
    grad = np.asarray(grad, dtype=float)
    has_complex = complex_f is not None or complex_batch is not None
    method = resolve_method(method, theta.size, has_complex, full_max)
    if method not in METHODS:
        raise ValueError(f"unknown gradient-check method {method!r}")
    if method.startswith("complex-step") and not has_complex:
        raise ValueError("the complex-step check needs f on complex input (complex_f)")
    if not np.all(np.isfinite(grad)):
        return GradCheck(method, float("inf"), False, tolerance, 0, 0)
    scale = float(np.max(np.abs(grad))) if grad.size else 0.0
    if method in ("complex-step", "central"):
        if reference is None or reference.method != method:
            reference = partials(f, theta, method, complex_f=complex_f,
                                 complex_batch=complex_batch, progress=progress)
        return _verdict(method, grad, reference.values, scale, reference.noise, tolerance,
                        theta.size, reference.evaluations)
    if method == "complex-step-directional":
        assert complex_f is not None or complex_batch is not None
        return _complex_step(complex_f or (lambda t: complex(0.0)), complex_line, theta,
                             grad, method, seed, tolerance, directions, complex_batch)
    calls = [0]

    def counted(t: np.ndarray) -> float:  # counts the evaluations of the reference
        calls[0] += 1
        return f(t)

    # Rounding noise of a difference quotient: a few ulps of f, divided by the step.
    noise = 8 * np.finfo(float).eps * max(1.0, abs(counted(theta))) / STEP
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
                return counted(theta + t * v)
            calls[0] += 1
            return on_line(t)

        measured.append(_derivative(along_v, h, noise))
        claimed.append(float(grad @ v))
    # The scale of a directional derivative is |∇f| (v has unit norm).
    return _verdict(method, np.array(claimed), np.array(measured), float(np.linalg.norm(grad)),
                    noise, tolerance, directions, calls[0])


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
