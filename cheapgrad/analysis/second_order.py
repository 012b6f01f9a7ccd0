"""Hessian–vector products and Hessians, counted, from the traced circuit.

The reverse sweep (:func:`cheapgrad.core.tape.backward`) runs the op table's rules on
counted numbers; run inside :func:`~cheapgrad.core.number.tracing` it records the
gradient as a circuit, which can be differentiated again. Three ways to get H·v:

* ``fwd-rev`` (forward over reverse, the default): record f and its gradient, then one
  tangent pass (:func:`cheapgrad.core.forward.directional`) seeded with v over the whole
  recorded circuit gives the directional derivative of every gradient entry, H·v;
* ``rev-fwd`` (reverse over forward): record f and one tangent pass seeded with v (the
  scalar ∇f·v, traced), then reverse mode over that circuit gives ∇(∇f·v) = H·v;
* ``rev-rev`` (reverse over reverse): record f and its gradient, form s = Σ vᵢ·∂f/∂xᵢ
  (phase ``dot``), then reverse mode over s gives H·v.

Every op is counted, by phase (``forward``, ``backward``, ``tangent``, ``dot``,
``backward2``) and by kind; the ratios compare the whole count with cost(f) and with
cost(f, ∇f), both measured by a plain gradient run of the same function.
:func:`hessian` takes n HVPs over one recorded gradient (one tangent pass per column),
or fewer when the structural sparsity of the gradient lets columns share a pass
(:mod:`cheapgrad.analysis.coloring`).

Example::

    >>> f = lambda xs: xs[0] * xs[0] * xs[1]
    >>> r = hvp(f, [1.0, 2.0], [1.0, 0.0])
    >>> r.hvp.tolist(), r.cost_f, r.cost_f_and_grad, r.cost
    ([4.0, 2.0], 2, 7, 14)
    >>> [hvp(f, [1.0, 2.0], [1.0, 0.0], m).hvp.tolist() for m in MODES]
    [[4.0, 2.0], [4.0, 2.0], [4.0, 2.0]]
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cheapgrad.analysis import coloring
from cheapgrad.core.counter import Counter, OpCounts, gc_paused
from cheapgrad.core.forward import directional
from cheapgrad.core.number import Num, const, tracing, var
from cheapgrad.core.tape import backward, dep_order
from cheapgrad.errors import CheapgradError

#: A vector of floats: a sequence or a numpy array.
Vector = Sequence[float] | np.ndarray

#: A function of a list of counted scalars: one counted number (f) or several (F).
Fn = Callable[[list[Num]], Any]

#: The HVP modes, the default first.
MODES = ("fwd-rev", "rev-fwd", "rev-rev")
MODE_NAMES = {"fwd-rev": "forward over reverse", "rev-fwd": "reverse over forward",
              "rev-rev": "reverse over reverse"}


def outputs_of(out: Any) -> list[Num]:
    """A function's result as a list of counted numbers: a number, a sequence of them,
    or an object array of them (the scalar engine's ``NumArray`` or its ``.v``); a plain
    float is a constant output.

    >>> [o.v for o in outputs_of([var(1.0), 2.0])]
    [1.0, 2.0]
    """
    if isinstance(out, Num):
        return [out]
    values = getattr(out, "v", out)
    if isinstance(values, np.ndarray):
        values = values.ravel().tolist()
    if isinstance(values, (int, float)) and not isinstance(values, bool):
        return [const(float(values))]
    try:
        items = list(values)
    except TypeError:
        raise CheapgradError("the function must return counted numbers, got "
                             f"{type(out).__name__}") from None
    result = []
    for item in items:
        if isinstance(item, Num):
            result.append(item)
        elif isinstance(item, (int, float)) and not isinstance(item, bool):
            result.append(const(float(item)))
        else:
            raise CheapgradError("the function must return counted numbers, got "
                                 f"{type(item).__name__} among its outputs")
    return result


def scalar_output(out: Any) -> Num:
    """The one output of a scalar function (an error naming the count otherwise)."""
    outs = outputs_of(out)
    if len(outs) != 1:
        raise CheapgradError(f"the function must return one scalar, got {len(outs)} outputs "
                             "(for a vector output take a Jacobian)")
    return outs[0]


def vector(values: Vector, n: int, what: str) -> np.ndarray:
    """``values`` as a finite float vector of length n, or a one-line error."""
    try:
        arr = np.asarray(values, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise CheapgradError(f"{what}: expected numbers") from None
    if arr.size != n:
        raise CheapgradError(f"{what}: expected {n} numbers, got {arr.size}")
    if not np.all(np.isfinite(arr)):
        raise CheapgradError(f"{what}: NaN or infinite values")
    return arr


def record(fn: Fn, x: Vector, counter: Counter) -> tuple[list[Num], list[Num]]:
    """The inputs as variables and the outputs of ``fn`` traced (phase ``forward``)."""
    xs = [var(float(v)) for v in x]
    with tracing(), counter.scope("forward"):
        outs = outputs_of(fn(xs))
    return xs, outs


def phase_counts(counter: Counter) -> dict[str, OpCounts]:
    """The counter's totals per phase, in the order the phases first ran."""
    phases: list[str] = []
    for key in counter.buckets:
        if key[0] not in phases:
            phases.append(key[0])
    return {p: counter.totals(p) for p in phases}


@dataclass
class Costs:
    """What a derivative cost: the counter (phases and kinds), and the baseline counts
    of f and of f with ∇f (measured by a plain gradient run of the same function)."""

    counter: Counter
    f_counts: OpCounts
    f_and_grad_counts: OpCounts

    @property
    def cost_f(self) -> int:
        """cost(f), unit."""
        return self.f_counts.total

    @property
    def cost_f_and_grad(self) -> int:
        """cost(f, ∇f), unit."""
        return self.f_and_grad_counts.total

    @property
    def cost(self) -> int:
        """Every op counted, all phases."""
        return self.counter.totals().total

    @property
    def phases(self) -> dict[str, OpCounts]:
        return phase_counts(self.counter)

    @property
    def ratio_f(self) -> float:
        """cost / cost(f) (infinite when f costs nothing but the derivative does)."""
        return _ratio(self.cost, self.cost_f)

    @property
    def ratio_grad(self) -> float:
        """cost / cost(f, ∇f)."""
        return _ratio(self.cost, self.cost_f_and_grad)


def _ratio(a: int, b: int) -> float:
    if b == 0:
        return 0.0 if a == 0 else float("inf")
    return a / b


def gradient_costs(fn: Fn, x: Vector) -> tuple[float, np.ndarray, OpCounts, OpCounts]:
    """f(x), ∇f(x) by reverse mode, and the counts of f and of f with ∇f.

    >>> v, g, f, fg = gradient_costs(lambda xs: xs[0] * xs[1], [2.0, 3.0])
    >>> g.tolist(), f.total, fg.total
    ([3.0, 2.0], 1, 3)
    """
    counter = Counter()
    with gc_paused():
        xs, outs = record(fn, x, counter)
        y = scalar_output(outs)
        g = backward(y, xs, counter)
    return y.v, np.array([e.v for e in g]), counter.totals("forward"), counter.totals()


@dataclass
class HvpResult(Costs):
    """One H·v: the mode, f(x), the product and what it cost."""

    mode: str = "fwd-rev"
    value: float = 0.0
    hvp: np.ndarray = field(default_factory=lambda: np.zeros(0))


def hvp(fn: Fn, x: Vector, v: Vector, mode: str = "fwd-rev") -> HvpResult:
    """H(x)·v of the scalar function ``fn`` by ``mode`` (one of :data:`MODES`), counted."""
    if mode not in MODES:
        raise CheapgradError(f"unknown HVP mode {mode!r}: choose {', '.join(MODES)}")
    x = vector(x, len(x), "x")
    v = vector(v, len(x), "the direction v")
    value, _, cost_f, cost_fg = gradient_costs(fn, x)
    counter = Counter()
    with gc_paused():
        if mode == "rev-fwd":
            with tracing():
                xs, outs = record(fn, x, counter)
                y = scalar_output(outs)
                d = directional([y], xs, v, counter)[0]
            hv = backward(d, xs, counter)
        else:
            with tracing():
                xs, outs = record(fn, x, counter)
                y = scalar_output(outs)
                g = backward(y, xs, counter)
            if mode == "fwd-rev":
                hv = directional(g, xs, v, counter)
            else:
                with tracing(), counter.scope("dot"):
                    terms = [g_i * float(v_i) for g_i, v_i in zip(g, v, strict=True)
                             if g_i.dep and v_i != 0.0]
                    s = terms[0] if terms else const(0.0)
                    for t in terms[1:]:
                        s = s + t
                hv = backward(s, xs, counter, phase="backward2")
    return HvpResult(counter, cost_f, cost_fg, mode, value, np.array([e.v for e in hv]))


def hvp_modes(fn: Fn, x: Vector, v: Vector) -> list[HvpResult]:
    """H·v by every mode of :data:`MODES`, side by side."""
    return [hvp(fn, x, v, mode) for mode in MODES]


@dataclass
class HessianResult(Costs):
    """The Hessian by tangent passes over one recorded gradient: ``colors`` the color
    of each column (all distinct when not compressed), ``passes`` how many ran."""

    matrix: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    colors: list[int] = field(default_factory=list)
    pattern: list[set[int]] = field(default_factory=list)

    @property
    def passes(self) -> int:
        return max(self.colors, default=-1) + 1


def hessian(fn: Fn, x: Vector, *, compress: bool = True,
            dense: bool = True) -> HessianResult:
    """The Hessian of ``fn`` at ``x``: f and ∇f recorded once, then one forward-over-
    reverse tangent pass per column (``compress=False``) or per color of a greedy
    column coloring of the gradient's structural pattern. ``dense`` as in
    :func:`cheapgrad.analysis.jacobian.jacobian`: each pass seeds every input.

    >>> r = hessian(lambda xs: xs[0] * xs[0] + xs[1] * xs[2], [1.0, 2.0, 3.0])
    >>> r.matrix.tolist(), r.passes
    ([[2.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]], 1)
    """
    x = vector(x, len(x), "x")
    n = len(x)
    _, _, cost_f, cost_fg = gradient_costs(fn, x)
    counter = Counter()
    with gc_paused():
        with tracing():
            xs, outs = record(fn, x, counter)
            y = scalar_output(outs)
            g = backward(y, xs, counter)
        rows = coloring.pattern(g, xs)
        colors = coloring.greedy_coloring(rows, n) if compress else list(range(n))
        order = dep_order(g)
        columns = [[t.v for t in directional(g, xs, seed, counter, order=order, dense=dense)]
                   for seed in coloring.seeds(colors)]
    compressed = np.array(columns).T if columns else np.zeros((n, 0))
    matrix = coloring.recover(compressed, rows, colors, n)
    return HessianResult(counter, cost_f, cost_fg, matrix, colors, rows)
