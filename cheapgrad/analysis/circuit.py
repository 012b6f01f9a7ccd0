"""The Python API: any function on counted numbers, its gradient, and what it cost.

:func:`grad` wraps a Python function of scalars written with ``+ - * / **`` and the
counted functions (``exp``, ``log``, ``tanh``, ``sin``, ``cos``, ``sqrt``, importable
from here); calling the wrapper traces the function, runs generic reverse mode over the
recorded circuit (:mod:`cheapgrad.core.tape`) and returns a :class:`CircuitResult`: the
value, the gradient, every op counted by phase and by op kind, the ratio against the
bound 5, a gradient check against an independent derivative, the method table (reverse mode,
forward mode, central differences) and the memory reverse mode used. The result renders
itself in rich (``__rich__``) and in Jupyter (``_repr_markdown_``).

Example::

    >>> from cheapgrad.analysis.circuit import grad, sin
    >>> def f(x, y):
    ...     return x * y + sin(x)
    >>> r = grad(f)(1.0, 2.0)
    >>> round(r.value, 6), [round(g, 6) for g in r.gradient.tolist()]
    (2.841471, [2.540302, 1.0])
    >>> r.cost_f, r.cost_f_and_grad, r.holds
    (3, 8, True)
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cheapgrad.analysis.gradcheck import GradCheck, check_gradient
from cheapgrad.analysis.result import BOUND, Ratio
from cheapgrad.core import forward as forward_mode
from cheapgrad.core import tape
from cheapgrad.core.number import (
    Counter,
    Num,
    OpCounts,
    const,
    cos,
    exp,
    gc_paused,
    log,
    sin,
    sqrt,
    tanh,
    tracing,
    var,
)
from cheapgrad.core.ops import OP_NAMES
from cheapgrad.errors import DomainError, NumericalError

__all__ = [
    "BOUND", "Circuit", "CircuitResult", "MethodResult", "analyze", "grad",
    "cos", "exp", "log", "sin", "sqrt", "tanh",
]

#: Phases of a circuit's counts.
PHASES = ("forward", "backward")
#: Forward mode and counted central differences run only when they would count at most
#: this many ops (they cost O(d) evaluations); above it they are reported as skipped.
DEFAULT_METHOD_MAX_OPS = 4_000_000
#: Full central-difference reference gradients are computed up to this many inputs.
REFERENCE_MAX_INPUTS = 2000
#: Largest relative error of reverse mode against a closed-form gradient that passes.
REFERENCE_TOLERANCE = 1e-8

Function = Callable[[Sequence[Num]], Num]


@dataclass(frozen=True)
class Circuit:
    """A function of named scalar inputs, computed on counted numbers.

    ``fn`` takes the list of inputs (counted numbers, in the order of ``inputs``) and
    returns the output. ``reference``, when given, is an independent closed form of the
    gradient in numpy (``values -> gradient``), ``numpy_fn`` an independent float
    evaluation of f used by the central-difference check (otherwise ``fn`` is run
    uncounted), ``complex_fn`` the same on complex input, which makes the check a complex
    step (exact to rounding, however small the gradient is next to f). ``compare``, when
    given, adds entries to the result's ``extra`` and returns whether its own comparison
    passed.
    """

    name: str
    inputs: tuple[str, ...]
    values: tuple[float, ...]
    fn: Function
    description: str = ""
    reference: Callable[[np.ndarray], np.ndarray] | None = None
    reference_name: str = "closed form"
    numpy_fn: Callable[[np.ndarray], float] | None = None
    complex_fn: Callable[[np.ndarray], complex] | None = None
    source: str | None = None
    compare: Callable[[CircuitResult], bool] | None = None


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
    extra: dict[str, Any] = field(default_factory=dict)
    extra_passed: bool = True

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
        the closed form (when there is one), and any built-in comparison passed."""
        return (self.holds and self.gradient_check.passed and self.reference_agrees
                and self.extra_passed)

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

    def __rich__(self) -> Any:
        from cheapgrad.render.circuit_tables import circuit_tables

        return circuit_tables(self)

    def _repr_markdown_(self) -> str:
        from cheapgrad.render.circuit import to_markdown

        return to_markdown(self)


def _evaluate(circuit: Circuit, values: Sequence[float]) -> float:
    """f at ``values`` in float, uncounted: the circuit's numpy form, or ``fn`` outside
    any counter scope."""
    if circuit.numpy_fn is not None:
        return float(circuit.numpy_fn(np.asarray(values, dtype=float)))
    out = circuit.fn([const(v) for v in values])
    return float(out.v if isinstance(out, Num) else out)


def _central(theta: np.ndarray, f: Callable[[np.ndarray], float],
             step: float = 1e-6) -> np.ndarray:
    """Plain central differences: 2d evaluations, step ``step``·max(1, |θ_i|)."""
    fd = np.empty_like(theta)
    for i in range(theta.size):
        eps = step * max(1.0, abs(theta[i]))
        t = theta.copy()
        t[i] = theta[i] + eps
        f_plus = f(t)
        t[i] = theta[i] - eps
        fd[i] = (f_plus - f(t)) / (2 * eps)
    return fd


def _reference_differences(theta: np.ndarray, f: Callable[[np.ndarray], float]) -> np.ndarray:
    """Central differences with one Richardson step, (4·D(h/2) − D(h))/3, h = 10⁻⁴:
    error O(h⁴), the accurate (uncounted) reference when there is no closed form."""
    coarse = _central(theta, f, 1e-4)
    fine = _central(theta, f, 0.5e-4)
    return np.asarray((4 * fine - coarse) / 3)


def max_rel_error(g: np.ndarray, ref: np.ndarray) -> float:
    """max_i |g_i − r_i| / max(|g_i|, |r_i|, 10⁻³·max|r|): the error measure of
    :mod:`cheapgrad.analysis.gradcheck`."""
    if g.size == 0:
        return 0.0
    scale = float(np.max(np.abs(ref)))
    floor = max(1e-3 * scale, 1e-12)
    denom = np.maximum(np.maximum(np.abs(g), np.abs(ref)), floor)
    err = float(np.max(np.abs(g - ref) / denom))
    return err if math.isfinite(err) else math.inf


def analyze(circuit: Circuit, *, max_ops: int = DEFAULT_METHOD_MAX_OPS,
            check: str = "auto") -> CircuitResult:
    """Trace and count f, run reverse mode, and compare it with the other methods.

    * forward pass: ``fn`` on fresh input variables inside ``tracing()``, counted under
      phase ``forward``; the reverse sweep under ``backward`` (by causing op kind);
    * gradient check: reverse mode against the complex step (when the circuit has a
      complex evaluation) or central differences of an independent float
      evaluation (:func:`cheapgrad.analysis.gradcheck.check_gradient`; ``check`` as there);
    * methods: forward mode (one dual-number pass per input) and central differences
      (2d counted evaluations of ``fn``, step 10⁻⁶), each counted when it needs at most
      ``max_ops`` ops, with its error against the reference gradient (the circuit's
      closed form, else central differences with a Richardson step, in float);
    * memory: :func:`cheapgrad.core.tape.memory`.

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
            raise NumericalError(
                f"{circuit.source or circuit.name}: cannot be evaluated: f = {out.v} "
                "(a value overflows float64)")
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
        d = theta.size

        def f_float(t: np.ndarray) -> float:
            return _evaluate(circuit, t.tolist())

        if d:
            try:
                gc_result = check_gradient(f_float, theta.copy(), gradient, method=check,
                                           complex_f=circuit.complex_fn)
            except DomainError:
                gc_result = GradCheck(check, math.inf, False, 1e-5, 0, 0)
        else:
            gc_result = GradCheck("central", 0.0, True, 1e-5, 0, 0)

        reference: np.ndarray | None = None
        reference_name = ""
        if circuit.reference is not None:
            reference = np.asarray(circuit.reference(theta), dtype=float)
            reference_name = circuit.reference_name
        elif d <= REFERENCE_MAX_INPUTS:
            try:
                reference = _reference_differences(theta, f_float)
                reference_name = "central differences with a Richardson step"
            except DomainError:
                reference = None

        cost_f = counter.totals("forward").total
        result = CircuitResult(
            circuit=circuit, value=out.v, gradient=gradient, counter=counter,
            gradient_check=gc_result, methods=[], memory=memory,
            reference_name=reference_name, seconds=seconds, discarded=discarded,
        )

        def ratio(cost: int) -> float:
            return cost / cost_f if cost_f else (1.0 if cost == 0 else math.inf)

        def error(g: np.ndarray) -> float | None:
            return None if reference is None else max_rel_error(g, reference)

        result.methods.append(MethodResult(
            "reverse mode", result.cost_f_and_grad, ratio(result.cost_f_and_grad),
            error(gradient), "f once, then one reverse sweep"))
        result.methods.append(_forward_method(out, inputs, memory["ops"], max_ops, ratio,
                                              error))
        result.methods.append(_central_method(circuit, theta, cost_f, max_ops, ratio,
                                              error))
        if circuit.compare is not None:
            result.extra_passed = circuit.compare(result)
    return result


def _forward_method(out: Num, inputs: list[Num], n_ops: int, max_ops: int,
                    ratio: Callable[[int], float],
                    error: Callable[[np.ndarray], float | None]) -> MethodResult:
    d = len(inputs)
    what = f"{d} dual-number passes (value and one tangent each)"
    # A pass recomputes every op and at most three more for its tangent (the table's
    # largest forward rules), so 4 * ops * d bounds the work before it is counted.
    estimate = 4 * n_ops * d
    if estimate > max_ops:
        return MethodResult("forward mode", None, None, None, what,
                            f"not run: up to {estimate:,} ops to count (limit {max_ops:,})")
    counter = Counter()
    try:
        grads = forward_mode.gradient(out, inputs, counter)
    except DomainError as exc:
        return MethodResult("forward mode", None, None, None, what, f"failed: {exc}")
    cost = counter.totals().total
    g = np.array([t.v for t in grads], dtype=float)
    return MethodResult("forward mode", cost, ratio(cost), error(g), what)


def _central_method(circuit: Circuit, theta: np.ndarray, cost_f: int, max_ops: int,
                    ratio: Callable[[int], float],
                    error: Callable[[np.ndarray], float | None]) -> MethodResult:
    d = theta.size
    what = f"{2 * d} evaluations of f"
    estimate = 2 * d * cost_f
    if estimate > max_ops:
        return MethodResult("central differences", None, None, None, what,
                            f"not run: {estimate:,} ops to count (limit {max_ops:,})")
    counter = Counter()

    def f_counted(t: np.ndarray) -> float:
        with counter.scope("central"):
            value = circuit.fn([const(v) for v in t.tolist()])
        return value.v

    try:
        fd = _central(theta, f_counted)
    except DomainError as exc:
        return MethodResult("central differences", None, None, None, what, f"failed: {exc}")
    cost = counter.totals().total
    return MethodResult("central differences", cost, ratio(cost), error(fd), what)


def _input_names(f: Callable[..., Any], n: int) -> tuple[str, ...]:
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    simple = [p.name for p in params
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(simple) == n and len(params) == n:
        return tuple(simple)
    return tuple(f"x{i}" for i in range(1, n + 1))


def grad(f: Callable[..., Any], *, names: Sequence[str] | None = None,
         max_ops: int = DEFAULT_METHOD_MAX_OPS,
         check: str = "auto") -> Callable[..., CircuitResult]:
    """Wrap ``f(x1, ..., xd) -> scalar`` so that calling it with floats returns a
    :class:`CircuitResult` (value, gradient, counts, checks).

    ``f`` must compute with ``+ - * / **`` (integer constant exponents) and the counted
    functions of this module; inputs are named after ``f``'s parameters (or ``names``,
    or ``x1``..``xd``).

    Example::

        from cheapgrad.analysis.circuit import grad, exp
        r = grad(lambda a, b: a * exp(b) / (a + b))(1.0, 2.0)
        r.value, r.gradient, r.ratio, r.passed
    """

    def wrapped(*xs: float) -> CircuitResult:
        values = tuple(float(x) for x in xs)
        labels = tuple(names) if names is not None else _input_names(f, len(values))
        if len(labels) != len(values):
            raise ValueError(f"{len(labels)} names for {len(values)} inputs")
        circuit = Circuit(
            name=getattr(f, "__name__", "f"), inputs=labels, values=values,
            fn=lambda ins: f(*ins),
        )
        return analyze(circuit, max_ops=max_ops, check=check)

    wrapped.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    wrapped.__doc__ = f.__doc__
    return wrapped
