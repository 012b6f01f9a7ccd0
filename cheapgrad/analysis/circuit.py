"""Analysis of a circuit: f traced and counted, generic reverse mode, and every other
route to the gradient beside it.

:func:`analyze` runs a :class:`~cheapgrad.models.circuit.Circuit` and returns a
:class:`CircuitResult`: the value, the gradient, every op counted by phase and by op
kind, the ratio against the bound 5, a gradient check against an independent derivative,
the method table (reverse mode, forward mode, central differences) and the memory
reverse mode used. The public front door, ``cheapgrad.grad``, is :mod:`cheapgrad.api`.

Example::

    >>> from cheapgrad.models.circuits import builtin
    >>> r = analyze(builtin("product", 4))
    >>> r.cost_f, r.cost_f_and_grad, r.holds, r.passed
    (3, 9, True, True)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cheapgrad.analysis.backprop import BackpropComparison, compare_backprop
from cheapgrad.analysis.circuitcheck import (
    FULL_CHECK_MAX_INPUTS,
    REFERENCE_NAMES,
    Progress,
    check_circuit,
    evaluators,
    noting,
)
from cheapgrad.analysis.gradcheck import CHUNK, GradCheck, max_rel_error
from cheapgrad.analysis.result import BOUND, Ratio
from cheapgrad.core import forward as forward_mode
from cheapgrad.core import tape
from cheapgrad.core.counter import Counter, OpCounts, gc_paused
from cheapgrad.core.number import Num, const, tracing, var
from cheapgrad.core.ops import OP_NAMES
from cheapgrad.errors import DomainError, NumericalError
from cheapgrad.models.circuit import Circuit

__all__ = ["BOUND", "FULL_CHECK_MAX_INPUTS", "Circuit", "CircuitResult", "MethodResult",
           "analyze"]

#: Phases of a circuit's counts.
PHASES = ("forward", "backward")
#: Forward mode and counted central differences run only when they would count at most
#: this many ops (they cost O(d) evaluations); above it they are reported as skipped.
DEFAULT_METHOD_MAX_OPS = 4_000_000
#: Largest relative error of reverse mode against a closed-form gradient that passes.
REFERENCE_TOLERANCE = 1e-8


@dataclass(frozen=True)
class MethodResult:
    """One way to get the gradient: its counted cost, ratio to f and error.

    ``cost`` is ``None`` when the method was not run (too many ops to count; ``note``
    says why); ``max_rel_error`` is ``None`` when there is nothing to compare with.
    """

    name: str
    cost: int | None
    ratio: float | None
    max_rel_error: float | None
    evaluations: str
    note: str = ""


@dataclass
class CircuitResult(Ratio):
    """Everything measured on one circuit (see :func:`analyze`).

    ``discarded``: per op kind, the adjoint contributions the reverse sweep computed for
    constant operands and threw away (the table's rules compute every operand's).
    """

    circuit: Circuit
    value: float
    gradient: np.ndarray
    counter: Counter
    gradient_check: GradCheck
    methods: list[MethodResult]
    memory: dict[str, int]
    reference_name: str
    seconds: float
    bound: float = BOUND
    discarded: dict[str, int] = field(default_factory=dict)
    #: For a circuit of an MLP spec, the hand-written backprop beside reverse mode.
    backprop: BackpropComparison | None = None
    #: Weights of the ``weighted`` cost model over the defaults (``--weights``, or the
    #: cost_weights of an mlp circuit's spec); ``None`` for the defaults.
    cost_weights: dict[str, float] | None = None

    @property
    def inputs(self) -> dict[str, float]:
        """Input name -> value, in input order."""
        return dict(zip(self.circuit.inputs, self.circuit.values, strict=True))

    @property
    def gradient_dict(self) -> dict[str, float]:
        """Input name -> ∂f/∂input."""
        return dict(zip(self.circuit.inputs, self.gradient.tolist(), strict=True))

    @property
    def counts(self) -> dict[str, OpCounts]:
        """Measured counts per phase (forward: f; backward: the reverse sweep)."""
        return {p: self.counter.totals(phase=p) for p in PHASES}

    @property
    def cost_f(self) -> int:
        """Unit cost of f (the traced forward pass)."""
        return self.counter.totals("forward").total

    @property
    def cost_f_and_grad(self) -> int:
        """Unit cost of f and all its partial derivatives by reverse mode."""
        return self.cost_f + self.counter.totals("backward").total

    @property
    def reference_error(self) -> float | None:
        """Max relative error of the reverse-mode gradient against the reference."""
        return self.methods[0].max_rel_error if self.methods else None

    @property
    def reference_agrees(self) -> bool:
        """Whether reverse mode matches the circuit's closed-form gradient (to
        :data:`REFERENCE_TOLERANCE`); true when the circuit has none."""
        if self.circuit.reference is None:
            return True
        err = self.reference_error
        return err is not None and err <= REFERENCE_TOLERANCE

    @property
    def passed(self) -> bool:
        """The verdict: the bound holds, the gradient matches the independent check and
        the closed form (when there is one), and, for an MLP, the hand-written backprop
        passed and agrees."""
        bp = self.backprop
        return (self.holds and self.gradient_check.passed and self.reference_agrees
                and (bp is None or (bp.passed and bp.gradients_agree)))

    def per_op(self) -> list[dict[str, Any]]:
        """For each op kind: its forward count and the reverse-sweep ops it caused."""
        fwd = self.counter.totals("forward").counts
        rows = []
        for kind in OP_NAMES:
            caused = self.counter.totals("backward", part=kind)
            if fwd[kind] or caused.total:
                rows.append({"op": kind, "forward": fwd[kind], "backward": caused.nonzero(),
                             "backward_total": caused.total})
        return rows



def _central(theta: np.ndarray, f: Callable[[np.ndarray], float],
             step: float = 1e-6, progress: Callable[[int, int], None] | None = None
             ) -> np.ndarray:
    """Plain central differences: 2d evaluations, step ``step``·max(1, |θ_i|)."""
    fd = np.empty_like(theta)
    for i in range(theta.size):
        eps = step * max(1.0, abs(theta[i]))
        t = theta.copy()
        t[i] = theta[i] + eps
        f_plus = f(t)
        t[i] = theta[i] - eps
        fd[i] = (f_plus - f(t)) / (2 * eps)
        if progress is not None and ((i + 1) % CHUNK == 0 or i + 1 == theta.size):
            progress(2 * (i + 1), 2 * theta.size)
    return fd


def analyze(circuit: Circuit, *, max_ops: int = DEFAULT_METHOD_MAX_OPS,
            check: str = "auto", result_type: type[CircuitResult] | None = None,
            progress: Progress | None = None) -> CircuitResult:
    """Trace and count f, run reverse mode, and compare it with the other methods.

    * forward pass: ``fn`` on fresh input variables inside ``tracing()``, counted under
      phase ``forward``; the reverse sweep under ``backward`` (by causing op kind);
    * gradient check: reverse mode against the complex step (when the circuit has a
      complex evaluation that reproduces f, :func:`evaluators`) or central differences
      of an independent float evaluation, never counted numbers when the circuit has a
      plain evaluation (:func:`cheapgrad.analysis.gradcheck.check_gradient`; ``check``
      as there); every partial up to :data:`FULL_CHECK_MAX_INPUTS` inputs, random
      directions above;
    * methods: forward mode (one dual-number pass per input) and central differences
      (2d counted evaluations of ``fn``, step 10⁻⁶), each counted when it needs at most
      ``max_ops`` ops, with its error against the reference gradient (the circuit's
      closed form, else the gradient check's own per-partial derivatives: computed once
      and shared);
    * memory: :func:`cheapgrad.core.tape.memory`;
    * for a circuit of an MLP spec, the hand-written backprop beside it
      (:mod:`cheapgrad.analysis.backprop`).

    ``progress``, when given, is told ``(stage, done, total)`` as the long loops go (the
    per-partial check and the counted central differences), for a progress bar.
    ``result_type`` makes the result an instance of a subclass of :class:`CircuitResult`
    (the public API's, which renders itself).

    Raises :class:`~cheapgrad.errors.DomainError` when f is undefined at the inputs and
    :class:`~cheapgrad.core.tape.DifferentiationError` when it cannot be differentiated there.
    """
    counter = Counter()
    discarded: dict[str, int] = {}
    inputs = [var(v) for v in circuit.values]
    start = time.perf_counter()
    with gc_paused():
        with tracing(), counter.scope("forward"):
            out = circuit.fn(inputs)
        if not isinstance(out, Num):
            raise tape.DifferentiationError(
                f"{circuit.name}: the function must return a counted number, "
                f"got {type(out).__name__}")
        if not math.isfinite(out.v):
            why = ("a value overflows float64" if math.isinf(out.v) else
                   "an input is NaN" if any(math.isnan(v) for v in circuit.values) else
                   "an operation gives NaN")
            raise NumericalError(
                f"{circuit.source or circuit.name}: cannot be evaluated: f = {out.v} ({why})")
        try:
            grads = tape.backward(out, inputs, counter, discarded=discarded)
        except DomainError as exc:
            raise tape.DifferentiationError(
                f"{circuit.source or circuit.name}: the derivative is undefined at these "
                f"inputs: {exc}"
            ) from None
        seconds = time.perf_counter() - start
        gradient = np.array([g.v for g in grads], dtype=float)
        memory = tape.memory(out, inputs)

        theta = np.array(circuit.values, dtype=float)
        plain = evaluators(circuit, out.v)
        gc_result, partials_ = check_circuit(plain, theta, gradient, check, progress)

        reference: np.ndarray | None = None
        reference_name = ""
        if circuit.reference is not None:
            reference = np.asarray(circuit.reference(theta), dtype=float)
            reference_name = circuit.reference_name
        elif partials_ is not None:
            reference = partials_.values
            reference_name = REFERENCE_NAMES[partials_.method]

        cost_f = counter.totals("forward").total
        result = (result_type or CircuitResult)(
            circuit=circuit, value=out.v, gradient=gradient, counter=counter,
            gradient_check=gc_result, methods=[], memory=memory,
            reference_name=reference_name, seconds=seconds, discarded=discarded,
        )

        def ratio(cost: int) -> float:
            return cost / cost_f if cost_f else (math.nan if cost == 0 else math.inf)

        def error(g: np.ndarray) -> float | None:
            return None if reference is None else max_rel_error(g, reference)

        result.methods.append(MethodResult(
            "reverse mode", result.cost_f_and_grad, ratio(result.cost_f_and_grad),
            error(gradient), "f once, then one reverse sweep"))
        result.methods.append(_forward_method(out, inputs, memory["ops"], max_ops, ratio,
                                              error))
        result.methods.append(_central_method(circuit, theta, cost_f, max_ops, ratio,
                                              error, noting(progress, "central differences")))
        if circuit.spec is not None:
            result.backprop = compare_backprop(circuit.spec, gradient, counter, discarded)
    return result


def _counted_method(name: str, what: str, estimate: int, max_ops: int, limit_note: str,
                    gradient: Callable[[Counter], np.ndarray],
                    ratio: Callable[[int], float],
                    error: Callable[[np.ndarray], float | None]) -> MethodResult:
    """Run one counted route to the gradient when ``estimate`` ops fit in ``max_ops``."""
    if estimate > max_ops:
        return MethodResult(name, None, None, None, what,
                            f"not run: {limit_note}{estimate:,} ops to count "
                            f"(limit {max_ops:,})")
    counter = Counter()
    try:
        g = gradient(counter)
    except DomainError as exc:
        return MethodResult(name, None, None, None, what, f"failed: {exc}")
    cost = counter.totals().total
    return MethodResult(name, cost, ratio(cost), error(g), what)


def _forward_method(out: Num, inputs: list[Num], n_ops: int, max_ops: int,
                    ratio: Callable[[int], float],
                    error: Callable[[np.ndarray], float | None]) -> MethodResult:
    d = len(inputs)

    def gradient(counter: Counter) -> np.ndarray:
        grads = forward_mode.gradient(out, inputs, counter)
        return np.array([t.v for t in grads], dtype=float)

    # A pass recomputes every op and at most three more for its tangent (the table's
    # largest forward rules), so 4 * ops * d bounds the work before it is counted.
    return _counted_method("forward mode", f"{d} dual-number passes (value and one tangent "
                           "each)", 4 * n_ops * d, max_ops, "up to ", gradient, ratio, error)


def _central_method(circuit: Circuit, theta: np.ndarray, cost_f: int, max_ops: int,
                    ratio: Callable[[int], float],
                    error: Callable[[np.ndarray], float | None],
                    progress: Callable[[int, int], None] | None = None) -> MethodResult:
    d = theta.size

    def gradient(counter: Counter) -> np.ndarray:
        def f_counted(t: np.ndarray) -> float:
            with counter.scope("central"):
                value = circuit.fn([const(v) for v in t.tolist()])
            return value.v

        return _central(theta, f_counted, progress=progress)

    return _counted_method("central differences", f"{2 * d} evaluations of f",
                           2 * d * cost_f, max_ops, "", gradient, ratio, error)
