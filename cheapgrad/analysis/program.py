"""Counted numpy programs: any function of arrays, its gradient, and what both cost.

:func:`run_program` runs ``f(*arrays) -> scalar`` on counted arrays and differentiates
it by reverse mode, with one of two engines that count the same ops:

* ``array`` (:class:`cheapgrad.core.array.CArray`): numpy speed, per-element masks;
* ``scalar`` (:class:`cheapgrad.core.numarray.NumArray`): the same program on object
  arrays of counted scalars, differentiated by the traced reverse mode of
  :mod:`cheapgrad.core.tape`, the reference.

The result carries the value, one gradient per parameter (its input's shape), the
counts by phase and kind, the ratio, an independent gradient check on plain arrays
(complex step when f used no comparison, so is analytic; else central differences;
every partial up to :data:`FULL_CHECK_MAX_INPUTS` inputs, random directions above),
tape memory and, for the array engine, the counts by source line of f.

Example::

    >>> import numpy as np
    >>> r = run_program(lambda w, x: np.tanh(x @ w).sum(),
    ...                 {"w": np.ones(3), "x": np.eye(3)})
    >>> r.cost_f, r.cost_f_and_grad, r.check.passed, r.gradients["w"].shape
    (20, 53, True, (3,))
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cheapgrad.analysis import gradcheck, program_forward
from cheapgrad.analysis.result import BOUND, Ratio
from cheapgrad.core import numarray, numarray_sweep, number, tape
from cheapgrad.core.array import CArray
from cheapgrad.core.array_masks import matvec_bucket, tracing
from cheapgrad.core.array_sweep import backward
from cheapgrad.core.counter import Counter, OpCounts, gc_paused
from cheapgrad.core.numarray import NumArray
from cheapgrad.errors import CheapgradError, DomainError, NumericalError

ENGINES = ("array", "scalar")
#: Programs with at most this many inputs get every partial derivative checked.
FULL_CHECK_MAX_INPUTS = 300
#: Forward mode and central differences are counted when they need at most this many ops.
METHOD_MAX_OPS = 2_000_000
#: Counts by source line of f: ``line -> phase -> op kind -> count``.
Lines = dict[str, dict[str, dict[str, int]]]
Run = tuple[float, list[np.ndarray], dict[str, int]]  # value, gradients, memory


@dataclass
class ProgramResult(Ratio):
    """One counted run of a numpy program (see the module docstring)."""

    name: str
    engine: str
    inputs: dict[str, np.ndarray]
    value: float
    gradients: dict[str, np.ndarray]
    counter: Counter
    check: gradcheck.GradCheck
    memory: dict[str, int]
    lines: Lines = field(default_factory=dict)
    seconds: float = 0.0
    bound: float = BOUND
    #: weights of the ``weighted`` cost model (``None``: the defaults)
    cost_weights: dict[str, float] | None = None

    @property
    def cost_f(self) -> int:
        return self.counter.totals("forward").total

    @property
    def cost_f_and_grad(self) -> int:
        return self.counter.totals().total

    def counts(self, phase: str | None = None) -> OpCounts:
        """Op counts of one phase (``forward``, ``backward``) or of both."""
        return self.counter.totals(phase)

    methods: list[dict[str, Any]] = field(default_factory=list)
    #: The nonscalar tallies by line, as :attr:`lines` (kinds with none left out).
    nonscalar_lines: Lines = field(default_factory=dict)

    def per_op(self) -> list[dict[str, Any]]:
        """For each op kind: its forward count and the ops its reverse rules ran (a matrix
        product's under ``mul``), then ``accumulate``: the adds summing contributions."""
        fwd = self.counter.totals("forward").counts
        caused: dict[str, dict[str, int]] = {}
        for (phase, layer, part), tally in self.counter.buckets.items():
            if phase != "backward":
                continue
            row = "accumulate" if layer == "accumulate" else (
                "mul" if part == "matvec" else str(part))
            cell = caused.setdefault(row, {})
            for k, n in OpCounts.from_tally(tally).nonzero().items():
                cell[k] = cell.get(k, 0) + n
        rows = [{"op": k, "forward": fwd.get(k, 0), "backward": caused.get(k, {}),
                 "backward_total": sum(caused.get(k, {}).values())}
                for k in [*fwd, "accumulate"] if fwd.get(k, 0) or caused.get(k)]
        return rows

    @property
    def gradient_check(self) -> gradcheck.GradCheck:
        """The gradient check, under the name every other result gives it."""
        return self.check

    @property
    def passed(self) -> bool:
        """The bound holds and the gradient check passed."""
        return self.holds and self.check.passed


def parameter_names(f: Callable[..., Any], n: int) -> tuple[str, ...]:
    """``f``'s positional parameter names when there are ``n``, else ``x1``..``xn``."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return tuple(names) if len(names) == n == len(params) else tuple(
        f"x{i}" for i in range(1, n + 1))


def as_inputs(f: Callable[..., Any], arrays: Mapping[str, Any] | Sequence[Any]
              ) -> dict[str, np.ndarray]:
    """The inputs as named float64 arrays; raises :class:`CheapgradError` otherwise."""
    if isinstance(arrays, Mapping):
        items = list(arrays.items())
        params = parameter_names(f, len(items))
        if set(params) == {str(k) for k in arrays}:
            items = [(p, arrays[p]) for p in params]
        elif not params[0].startswith("x1") or len(params) != len(items):
            raise CheapgradError(f"the inputs are {', '.join(map(str, arrays))} but the "
                                 f"function takes {', '.join(params)}")
    else:
        items = list(zip(parameter_names(f, len(arrays)), arrays, strict=True))
    out = {}
    for name, a in items:
        arr = np.asarray(a)
        if arr.dtype == object or not (np.issubdtype(arr.dtype, np.floating)
                                       or np.issubdtype(arr.dtype, np.integer)):
            raise CheapgradError(f"input {name!r}: expected an array of numbers, got "
                                 f"{type(a).__name__} of {arr.dtype}")
        arr = np.asarray(arr, dtype=np.float64)
        if not all_finite(arr):
            raise CheapgradError(f"input {name!r}: NaN or infinite values")
        out[str(name)] = arr
    return out


def all_finite(a: np.ndarray) -> bool:
    """No NaN or infinity in ``a``: its sum is finite (one cheap pass), or else every
    element is checked (a sum can overflow on finite values).

    >>> [all_finite(np.array(a)) for a in ([1.0, 2.0], [1e308, 1e308], [1.0, np.nan])]
    [True, True, False]
    """
    with np.errstate(all="ignore"):
        if np.isfinite(np.add.reduce(a, axis=None)):
            return True
    return bool(np.isfinite(a).all())


def _call(f: Callable[..., Any], args: list[Any]) -> Any:
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        try:
            return f(*args)
        except FloatingPointError as exc:
            raise NumericalError(f"f on plain arrays: {exc}") from None


def run_program(f: Callable[..., Any], arrays: Mapping[str, Any] | Sequence[Any], *,
                engine: str = "array", name: str | None = None,
                check: bool = True, methods: bool = True, memory: bool = True) -> ProgramResult:
    """Count ``f`` and its gradient on ``arrays`` with ``engine`` (see module docstring).
    ``memory=False`` skips measuring the tape's memory (array engine; ``memory`` empty)."""
    if engine not in ENGINES:
        raise CheapgradError(f"unknown engine {engine!r}: choose array or scalar")
    inputs = as_inputs(f, arrays)
    counter, lines, nonscalar = Counter(), Lines(), Lines()
    start = time.perf_counter()
    if engine == "array":
        value, grads, mem = _run_array(f, inputs, counter, lines, nonscalar, memory)
    else:
        value, grads, mem = _run_scalar(f, inputs, counter, lines, nonscalar)
    seconds = time.perf_counter() - start
    if not np.isfinite(value) or not all(all_finite(g) for g in grads):
        raise NumericalError("f or its gradient is NaN or infinite")
    gradients = dict(zip(inputs, grads, strict=True))
    result = ProgramResult(
        str(name or getattr(f, "__name__", "f")), engine, inputs, value, gradients, counter,
        gradcheck.GradCheck("none", 0.0, True, gradcheck.TOLERANCE, 0, 0), mem, lines,
        seconds, nonscalar_lines=nonscalar)
    if check:
        result.check = check_program(f, inputs, gradients,
                                     analytic=counter.totals("forward").counts["cmp"] == 0)
    if methods:  # forward mode and counted central differences beside reverse mode
        result.methods = _methods(f, result)
    return result


def _methods(f: Callable[..., Any], r: ProgramResult) -> list[dict[str, Any]]:
    """Reverse mode beside forward mode and central differences (counted when they need
    at most :data:`METHOD_MAX_OPS` ops), as a circuit's methods."""
    d = sum(a.size for a in r.inputs.values())
    cost_f = r.cost_f

    def ratio(c: int) -> float:
        return c / cost_f if cost_f else float("nan")

    out = [{"name": "reverse", "cost": r.cost_f_and_grad, "ratio": ratio(r.cost_f_and_grad),
            "max_rel_error": r.check.max_rel_error, "evaluations":
            "f once, then one reverse sweep", "measured": True, "note": ""}]
    exact = np.concatenate([g.ravel() for g in r.gradients.values()])
    out.append(program_forward.method(f, r.inputs, r.engine, cost_f, exact, METHOD_MAX_OPS))
    what = f"{2 * d} evaluations of f"
    if 2 * d * cost_f > METHOD_MAX_OPS:
        out.append({"name": "central", "cost": None, "ratio": None, "max_rel_error": None,
                    "evaluations": what, "measured": False, "note":
                    f"not run: {2 * d * cost_f:,} ops to count (limit {METHOD_MAX_OPS:,})"})
        return out
    counter = Counter()
    theta = np.concatenate([a.ravel() for a in r.inputs.values()])
    grad = np.empty(d)
    try:
        with counter.scope("central"):
            for i in range(d):
                vals = []
                for sign in (1.0, -1.0):
                    t = theta.copy()
                    eps = 1e-6 * max(1.0, abs(theta[i]))
                    t[i] += sign * eps
                    pieces = np.split(t, np.cumsum([a.size for a in r.inputs.values()])[:-1])
                    vals.append(f(*(CArray(p.reshape(a.shape)) for p, a in zip(
                        pieces, r.inputs.values(), strict=True))).v)
                grad[i] = float(vals[0] - vals[1]) / (2 * eps)
    except DomainError as e:  # x ± h left f's domain (sqrt at 0): the method cannot run
        out.append({"name": "central", "cost": None, "ratio": None, "max_rel_error": None,
                    "evaluations": what, "measured": False,
                    "note": f"not run: f is undefined at x ± h ({e})"})
        return out
    err = float(np.max(np.abs(grad - exact) / np.maximum(1.0, np.abs(exact)))) if d else 0.0
    cost = counter.totals().total
    out.append({"name": "central", "cost": cost, "ratio": ratio(cost), "max_rel_error": err,
                "evaluations": what, "measured": True, "note": ""})
    return out


def _scalar_output(out: Any) -> None:
    if not isinstance(out, (CArray, NumArray)) or out.shape != ():
        shape = getattr(out, "shape", None)
        raise CheapgradError("f must return a scalar computed from its inputs, got "
                             + (f"an array of shape {shape}" if shape is not None
                                else type(out).__name__))


def _products(counter: Counter) -> list[int]:
    """The bucket of the forward ops of matrix products (what the flop model reads)."""
    with counter.scope("forward", None, "matvec"):
        pass
    return counter.buckets[("forward", None, "matvec")]


def _by_line(lines: Lines, fwd: dict[str, dict[str, list[int]]],
             bwd: dict[str, dict[str, list[int]]], nonscalar: Lines) -> None:
    for phase, table in (("forward", fwd), ("backward", bwd)):
        for line, kinds in table.items():
            lines.setdefault(line, {})[phase] = {k: n for k, (n, _) in kinds.items()}
            nonscalar.setdefault(line, {})[phase] = {k: n for k, (_, n) in kinds.items() if n}


def _run_array(f: Callable[..., Any], inputs: dict[str, np.ndarray], counter: Counter,
               lines: Lines, nonscalar: Lines, memory: bool = True) -> Run:
    xs = [CArray(a, dep=True) for a in inputs.values()]
    fwd: dict[str, dict[str, list[int]]] = {}
    products = _products(counter)
    with matvec_bucket(products), tracing(fwd), counter.scope("forward"):
        out = f(*xs)
    _scalar_output(out)
    bwd: dict[str, dict[str, list[int]]] = {}
    with tracing(bwd):
        grads = backward(out, xs, counter)
    _by_line(lines, fwd, bwd, nonscalar)
    return float(out.v), grads, _array_memory(out, xs) if memory else {}


def _array_memory(out: CArray, xs: list[CArray]) -> dict[str, int]:
    seen: dict[int, CArray] = {}
    stack = [out]
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen[id(n)] = n
        if n.node is not None:
            stack.extend(n.node[1])
    nodes = [n for n in seen.values() if n.node is not None]
    return {"tape": sum(n.size for n in seen.values()), "ops": len(nodes),
            "forward_peak": _forward_peak(out, xs, seen)}


def _forward_peak(out: CArray, xs: list[CArray], seen: dict[int, CArray]) -> int:
    """As :func:`cheapgrad.core.tape.memory`, element-counted: the most elements alive
    at once in a topological order, inputs held, every other array dropped after its
    last use."""
    order: list[CArray] = []
    state: dict[int, int] = {}
    stack: list[tuple[CArray, bool]] = [(out, False)]
    while stack:  # iterative post-order: operands before results
        n, done = stack.pop()
        if done:
            order.append(n)
            continue
        if id(n) in state:
            continue
        state[id(n)] = 1
        stack.append((n, True))
        if n.node is not None:
            stack.extend((p, False) for p in reversed(n.node[1]) if id(p) not in state)
    inputs = {id(x) for x in xs}
    last: dict[int, int] = {}
    for i, n in enumerate(order):
        for p in n.node[1] if n.node is not None else ():
            last[id(p)] = i
    release: dict[int, int] = {}
    for key, i in last.items():
        if key not in inputs and key != id(out):
            release[i] = release.get(i, 0) + seen[key].size
    live = peak = sum(x.size for x in xs)
    for i, n in enumerate(order):
        if id(n) not in inputs:
            live += n.size
            peak = max(peak, live)
        live -= release.get(i, 0)
    return peak


def _run_scalar(f: Callable[..., Any], inputs: dict[str, np.ndarray], counter: Counter,
                lines: Lines, nonscalar: Lines) -> Run:
    xs = [NumArray.variables(a) for a in inputs.values()]
    fwd: dict[str, dict[str, list[int]]] = {}
    bwd: dict[str, dict[str, list[int]]] = {}
    products = _products(counter)
    numarray.TAGS = {}
    try:
        with gc_paused(), number.tracing(), matvec_bucket(products), tracing(fwd), \
                counter.scope("forward"):
            out = f(*xs)
        _scalar_output(out)
        root = out.v[()]
        flat = [e for x in xs for e in x.v.ravel()]
        with gc_paused():
            g = numarray_sweep.backward(root, flat, counter, bwd)
            memory = tape.memory(root, flat)
    finally:
        numarray.TAGS = None
    _by_line(lines, fwd, bwd, nonscalar)
    grads, i = [], 0
    for a in inputs.values():
        grads.append(np.array([e.v for e in g[i:i + a.size]], dtype=np.float64)
                     .reshape(a.shape))
        i += a.size
    return root.v, grads, memory


def check_program(f: Callable[..., Any], inputs: dict[str, np.ndarray],
                  gradients: dict[str, np.ndarray], *, analytic: bool,
                  seed: int = 0) -> gradcheck.GradCheck:
    """The gradient against f evaluated on plain arrays (see the module docstring)."""
    shapes = [a.shape for a in inputs.values()]
    sizes = [a.size for a in inputs.values()]
    theta = np.concatenate([a.ravel() for a in inputs.values()])
    grad = np.concatenate([g.ravel() for g in gradients.values()])

    def split(t: np.ndarray) -> list[np.ndarray]:
        parts, i = [], 0
        for s, n in zip(shapes, sizes, strict=True):
            parts.append(t[i:i + n].reshape(s))
            i += n
        return parts

    def plain(t: np.ndarray) -> float:
        return float(_call(f, split(t)))

    def cplx(t: np.ndarray) -> complex:
        return complex(_call(f, split(t)))

    full = theta.size <= FULL_CHECK_MAX_INPUTS
    if analytic:
        method = "complex-step" if full else "complex-step-directional"
    else:
        method = "central" if full else "directional"
    return gradcheck.check_gradient(plain, theta, grad, method=method, seed=seed,
                                    complex_f=cplx if analytic else None)
