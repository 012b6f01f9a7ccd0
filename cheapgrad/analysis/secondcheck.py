"""Independent checks of HVPs, Hessians and Jacobians.

Each check compares two routes and reports the relative error
‖a − b‖∞ / max(‖a‖∞, ‖b‖∞) against its tolerance:

* **exact routes** (tolerance :data:`EXACT`, 1e-8): the three HVP modes against one
  another, forward against reverse (and colored against forward) Jacobians, a Hessian
  against the outer products of its columns with v, and closed forms where a built-in
  has one. They share the op table's rules but not the order of the chain rule, so a
  wrong rule, seed or accumulation shows; rounding stays near 1e-15.
* **the complex step** (tolerance :data:`EXACT`): the recorded gradient circuit (f and
  its reverse sweep, traced) evaluated on complex inputs x + i·h·v with h = 2⁻⁶⁰/‖v‖∞
  (:func:`cheapgrad.core.forward.complex_values`): H·v = Im ∇f(x + i·h·v) / h, with no
  subtraction, so exact to rounding (about 1e-16), and independent of the forward rules
  and of the order of differentiation. For a Hessian, one evaluation per column (at
  most :data:`COMPLEX_MAX_INPUTS` inputs). Where the circuit cannot run on complex numbers
  (a real part outside log's or sqrt's domain, an overflow) the differences below run
  instead; :func:`route` says which did. Where f branched (comparisons), the circuit
  holds the branch taken at x, so the complex step checks that branch's derivative.
* **differences** (tolerance :data:`DIFFERENCE`, 1e-6, the fallback): central differences with one
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

from cheapgrad.analysis.second_order import Fn, gradient_costs, outputs_of, record, scalar_output
from cheapgrad.core.counter import Counter, gc_paused
from cheapgrad.core.forward import complex_values
from cheapgrad.core.number import const, tracing
from cheapgrad.core.tape import backward
from cheapgrad.errors import CheapgradError

#: Tolerance of two exact routes (relative, in the max norm).
EXACT = 1e-8
#: Tolerance of central differences with a Richardson step (relative, max norm).
DIFFERENCE = 1e-6
#: Full Hessians by differences only up to this many inputs (n gradient pairs).
FULL_MAX_INPUTS = 60
#: The complex step's h along a unit direction (a power of two: no rounding in x + i·h·v).
COMPLEX_H = 2.0 ** -60
#: Full Hessians by the complex step (one cheap circuit evaluation per column) up to this
#: many inputs.
COMPLEX_MAX_INPUTS = 200
#: The independent routes an HVP or Hessian check takes.
ROUTES = ("complex step", "central differences")


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


def complex_step_columns(fn: Fn, x: np.ndarray, directions: Sequence[np.ndarray]
                         ) -> np.ndarray | None:
    """H·d for each direction d by the complex step over the recorded gradient circuit
    (one column per direction), or None when the circuit cannot be evaluated on
    complex numbers (the differences run instead)."""
    counter = Counter()
    with gc_paused():
        with tracing():
            xs, outs = record(fn, x, counter)
            g = backward(scalar_output(outs), xs, counter)
        cols = []
        for d in directions:
            h = COMPLEX_H / max(float(np.max(np.abs(d), initial=0.0)), 1e-300)
            try:
                with np.errstate(all="raise"):
                    vals = complex_values(g, xs, [complex(a, h * b)
                                                  for a, b in zip(x, d, strict=True)])
            except (CheapgradError, ArithmeticError, ValueError, FloatingPointError):
                return None
            col = np.array([z.imag for z in vals]) / h
            if not np.all(np.isfinite(col)):
                return None
            cols.append(col)
    return np.array(cols).T if cols else np.zeros((len(x), 0))


def route(checks: Sequence[Check]) -> str:
    """The independent route the checks took: ``complex step`` or ``central
    differences``, or ``exact routes only`` when neither ran)."""
    for c in checks:
        if c.name.startswith("complex step"):
            return ROUTES[0]
        if "differences" in c.name:
            return ROUTES[1]
    return "exact routes only"


def hvp_checks(fn: Fn, x: np.ndarray, v: np.ndarray,
               by_mode: dict[str, np.ndarray],
               reference: Callable[[np.ndarray], np.ndarray] | None = None) -> list[Check]:
    """The checks of H·v: the modes against the first, the complex step of the gradient
    along v (or, where it cannot run, differences of the gradient along v and the full
    Hessian by differences times v, small n) and a closed-form Hessian."""
    modes = list(by_mode)
    first = by_mode[modes[0]]
    checks = [close(f"{m} = {modes[0]}", by_mode[m], first, EXACT) for m in modes[1:]]
    step = complex_step_columns(fn, x, [v])
    if step is not None:
        checks.append(close("complex step of ∇f along v", first, step[:, 0], EXACT))
    else:
        checks.append(close("central differences of ∇f along v", first,
                            hvp_by_differences(fn, x, v), DIFFERENCE))
    if step is None and len(x) <= FULL_MAX_INPUTS:
        checks.append(close("Hessian by differences · v", first,
                            hessian_by_differences(fn, x) @ v, DIFFERENCE))
    if reference is not None:
        checks.append(close("closed-form Hessian · v", first, reference(x) @ v, EXACT))
    return checks


def hessian_checks(fn: Fn, x: np.ndarray, matrix: np.ndarray, dense: np.ndarray | None,
                   reference: Callable[[np.ndarray], np.ndarray] | None = None
                   ) -> list[Check]:
    """The checks of a Hessian: symmetry, the compressed against the dense passes, the
    complex step of the gradient per column (else differences of the gradient; small n)
    and a closed form."""
    checks = [close("symmetric", matrix, matrix.T, EXACT)]
    if dense is not None:
        checks.append(close("colored = dense passes", matrix, dense, EXACT))
    step = (complex_step_columns(fn, x, list(np.eye(len(x))))
            if len(x) <= COMPLEX_MAX_INPUTS else None)
    if step is not None:
        checks.append(close("complex step of ∇f per column", matrix, step, EXACT))
    elif len(x) <= FULL_MAX_INPUTS:
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
