"""The gradient check of a circuit: which uncounted evaluations of f it uses, and the
per-partial reference it computes once for the check and the method table.

A circuit may bring plain evaluations of f beside its counted ``fn``: on floats
(``numpy_fn``), on complex numbers (``complex_fn``), on many points at once
(``batch_fn``). Each is used only when it runs at the inputs and reproduces the traced
value (:func:`evaluators`); the check then never evaluates f on counted numbers, and
shares no code with reverse mode.

Example::

    >>> import numpy as np
    >>> from cheapgrad.models.circuits import builtin
    >>> c = builtin("product", 3)
    >>> e = evaluators(c, float(np.prod(c.values)))
    >>> theta = np.array(c.values)
    >>> check, reference = check_circuit(e, theta, c.reference(theta), "auto", None)
    >>> check.method, check.passed, reference.evaluations
    ('complex-step', True, 3)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from cheapgrad.analysis.gradcheck import (
    GradCheck,
    Partials,
    check_gradient,
    partials,
    resolve_method,
)
from cheapgrad.core.number import Num, const
from cheapgrad.errors import DomainError
from cheapgrad.models.circuit import Circuit

#: Up to this many inputs the check compares every partial derivative (and the method
#: table's errors are measured against those partials); above it, 8 random directions.
#: Every partial costs d evaluations of f, and f reads its d inputs, so the per-partial
#: check grows at least as d²: at 500 inputs a Rosenbrock function's complex step takes
#: about 0.1 s in plain Python, at 10,000 it would take minutes, while a direction
#: costs one evaluation however many inputs there are (BENCHMARKS.md, "Checks").
FULL_CHECK_MAX_INPUTS = 500
#: The method table's reference, by the per-partial check's method.
REFERENCE_NAMES = {"complex-step": "complex step",
                   "central": "central differences with a Richardson step"}
#: A progress report of a long check: (stage, done, total).
Progress = Callable[[str, int, int], None]


def _counted_float(circuit: Circuit) -> Callable[[np.ndarray], float]:
    """f in float by running ``fn`` on counted constants outside any counter scope: the
    slow route, for a circuit with no plain evaluation of its own."""

    def f(t: np.ndarray) -> float:
        out = circuit.fn([const(v) for v in t.tolist()])
        return float(out.v if isinstance(out, Num) else out)

    return f


def _agrees(evaluate: Callable[[], Any], value: float) -> bool:
    """Whether a plain evaluation of f at the inputs runs and gives the traced value.

    Any exception counts as "no": the plain evaluation of a user's function may fail
    where the counted one does not (a comparison of complex numbers), and is then not used.
    """
    try:
        got = complex(evaluate())
    except Exception:  # noqa: BLE001 - a probe: any failure means "do not use it"
        return False
    return bool(abs(got - value) <= 1e-9 * max(1.0, abs(value)))


@dataclass(frozen=True)
class Evaluators:
    """The uncounted evaluations of f the checks use, each probed at the inputs first.

    ``real``: f on a float vector (the circuit's ``numpy_fn``, else ``fn`` on counted
    constants); ``complex_f`` / ``batch``: f on a complex vector / on the rows of a
    complex matrix, ``None`` when the circuit has none or it failed its probe.
    """

    real: Callable[[np.ndarray], float]
    complex_f: Callable[[np.ndarray], complex] | None
    batch: Callable[[np.ndarray], np.ndarray] | None


def evaluators(circuit: Circuit, value: float) -> Evaluators:
    """The plain evaluations of ``circuit`` that reproduce ``value`` (f at its inputs).

    Example::

        >>> from cheapgrad.models.circuits import builtin
        >>> e = evaluators(builtin("product", 3), 0.0)
        >>> e.complex_f is None
        True
    """
    theta = np.array(circuit.values, dtype=float)
    real = _counted_float(circuit)
    numpy_fn = circuit.numpy_fn
    if numpy_fn is not None and _agrees(lambda: numpy_fn(theta.copy()), value):
        real = numpy_fn
    complex_fn = circuit.complex_fn
    if complex_fn is not None:
        on_complex = complex_fn
        if not _agrees(lambda: on_complex(theta.astype(complex)), value):
            complex_fn = None
    batch = circuit.batch_fn
    if batch is not None:
        on_batch = batch
        if not _agrees(lambda: on_batch(theta.astype(complex)[None, :])[0], value):
            batch = None
    return Evaluators(real, complex_fn, batch)


def noting(progress: Progress | None, stage: str) -> Callable[[int, int], None] | None:
    """``progress`` told ``(stage, done, total)``, as a ``(done, total)`` callback."""
    if progress is None:
        return None
    return lambda done, total: progress(stage, done, total)


def check_circuit(plain: Evaluators, theta: np.ndarray, gradient: np.ndarray, check: str,
           progress: Progress | None) -> tuple[GradCheck, Partials | None]:
    """The gradient check, and the per-partial reference when it computed one.

    When the complex step disagrees with reverse mode, central differences of the float
    evaluation decide: a user's function evaluated on complex numbers may not be the
    analytic continuation of what was traced (``abs`` of a complex number is real), and
    central differences need no such thing.
    """
    d = theta.size
    if not d:
        return GradCheck("central", 0.0, True, 1e-5, 0, 0), None
    has_complex = plain.complex_f is not None or plain.batch is not None
    method = resolve_method(check, d, has_complex, FULL_CHECK_MAX_INPUTS)
    note = noting(progress, "gradient check")
    reference: Partials | None = None
    try:
        if method in ("complex-step", "central"):
            reference = partials(plain.real, theta, method, complex_f=plain.complex_f,
                                 complex_batch=plain.batch, progress=note)
        result = check_gradient(plain.real, theta, gradient, method=method,
                                complex_f=plain.complex_f, complex_batch=plain.batch,
                                reference=reference, full_max=FULL_CHECK_MAX_INPUTS)
    except DomainError:
        return GradCheck(method, math.inf, False, 1e-5, 0, 0), None
    if not result.passed and check == "auto" and method.startswith("complex-step"):
        fallback = "central" if method == "complex-step" else "directional"
        second, ref2 = check_circuit(Evaluators(plain.real, None, None), theta, gradient, fallback,
                              progress)
        if second.passed:
            return second, ref2
    return result, reference
