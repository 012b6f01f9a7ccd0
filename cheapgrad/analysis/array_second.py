"""Hessian–vector products and Hessians of numpy programs on the array engine.

Forward over reverse only: f is recorded on counted arrays, its reverse sweep
(:mod:`cheapgrad.core.array_sweep`) counted, then one tangent pass through the sweep
(:func:`cheapgrad.core.array_hvp.tangent_of_sweep`) seeded with v gives H·v, counted by
phase (``forward``, ``backward``, ``tangent``) and kind exactly as the scalar engine's
``fwd-rev`` mode counts the same program (``tests/test_array_hvp.py`` proves it on
random programs). The Hessian is one recorded gradient and one tangent pass per color of
a greedy column coloring of the gradient's pattern (read off where each one-hot seed's
tangent reaches, uncounted), or per column. Reverse over forward and reverse over
reverse run on the scalar engine only (:data:`ARRAY_MODES`).

Example::

    >>> r = hvp(lambda w: (w * w * w).sum(), {"w": np.array([1.0, 2.0])}, [1.0, 0.0])
    >>> r.hvp.tolist(), r.phases["tangent"].nonzero()
    ([6.0, 0.0], {'add': 5, 'mul': 8})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from cheapgrad.analysis import coloring, secondcheck
from cheapgrad.analysis.derivatives import HessianReport, HvpReport, program_function
from cheapgrad.analysis.second_order import HessianResult, HvpResult, Vector, vector
from cheapgrad.core.array import CArray
from cheapgrad.core.array_hvp import Plan, tangent_of_sweep
from cheapgrad.core.array_masks import tracing
from cheapgrad.core.array_sweep import backward
from cheapgrad.core.counter import Counter, OpCounts, gc_paused
from cheapgrad.errors import CheapgradError

#: The HVP modes the array engine runs (the others run on the scalar engine).
ARRAY_MODES = ("fwd-rev",)

Arrays = Mapping[str, np.ndarray]


def refuse_modes(modes: Any) -> None:
    """One clear line for an HVP mode the array engine does not run."""
    for m in modes:
        if m not in ARRAY_MODES:
            raise CheapgradError(f"HVP mode {m!r} runs on the scalar engine only (the array "
                                 "engine runs fwd-rev): use engine='scalar' or "
                                 "modes=('fwd-rev',)")


def _record(f: Callable[..., Any], arrays: Arrays, counter: Counter
            ) -> tuple[list[CArray], CArray]:
    xs = [CArray(np.asarray(a, dtype=np.float64), dep=True) for a in arrays.values()]
    with tracing(), counter.scope("forward"):
        y = f(*xs)
    if not isinstance(y, CArray) or y.shape != ():
        raise CheapgradError("the function must return one scalar (a 0-d array), got "
                             f"{type(y).__name__}" + (f" of shape {y.shape}"
                                                      if isinstance(y, CArray) else ""))
    return xs, y


def _split(v: np.ndarray, xs: list[CArray]) -> list[np.ndarray]:
    out, i = [], 0
    for x in xs:
        out.append(v[i:i + x.size].reshape(x.shape))
        i += x.size
    return out


def _gradient(f: Callable[..., Any], arrays: Arrays, counter: Counter
              ) -> tuple[list[CArray], CArray]:
    with gc_paused():
        xs, y = _record(f, arrays, counter)
        backward(y, xs, counter)
    return xs, y


def gradient_costs(f: Callable[..., Any], arrays: Arrays) -> tuple[float, OpCounts, OpCounts]:
    """f(x) and the counts of f and of f with ∇f (a plain gradient run)."""
    counter = Counter()
    _, y = _gradient(f, arrays, counter)
    return float(y.v), counter.totals("forward"), counter.totals()


def size(arrays: Arrays) -> int:
    return sum(int(np.asarray(a).size) for a in arrays.values())


def hvp(f: Callable[..., Any], arrays: Arrays, v: Vector) -> HvpResult:
    """H·v of the numpy program ``f`` at ``arrays`` by forward over reverse, counted."""
    n = size(arrays)
    vv = vector(v, n, "the direction v")
    value, cost_f, cost_fg = gradient_costs(f, arrays)
    counter = Counter()
    xs, y = _gradient(f, arrays, counter)
    with gc_paused():
        t = tangent_of_sweep(y, xs, _split(vv, xs), counter)
    hv = np.concatenate([tv.ravel() for tv, _ in t]) if t else np.zeros(0)
    return HvpResult(counter, cost_f, cost_fg, "fwd-rev", value, hv)


def hessian(f: Callable[..., Any], arrays: Arrays, *, compress: bool = True,
            dense: bool = True, rows: list[set[int]] | None = None) -> HessianResult:
    """The Hessian of ``f`` at ``arrays``: one recorded gradient, then one tangent pass
    per color (``compress``) or per column, each seeding every input when ``dense``, as
    :func:`cheapgrad.analysis.second_order.hessian` does on the scalar engine. ``rows``:
    the gradient's pattern when known already (else read off one uncounted pass per
    input)."""
    n = size(arrays)
    _, cost_f, cost_fg = gradient_costs(f, arrays)
    counter = Counter()
    xs, y = _gradient(f, arrays, counter)
    with gc_paused():
        plan = Plan(y, xs)  # the sweep's values, shared by every pass
        if rows is None:
            reach = []
            for j in range(n):  # the pattern: where each one-hot seed's tangent reaches
                t = plan.run(_split(np.eye(1, n, j)[0], xs), Counter())
                reach.append(np.concatenate([r.ravel() for _, r in t]))
            rows = [set(np.flatnonzero(col).tolist()) for col in np.array(reach).T] \
                if n else []
        colors = coloring.greedy_coloring(rows, n) if compress else list(range(n))
        columns = []
        for seed in coloring.seeds(colors):
            t = plan.run(_split(seed, xs), counter, dense=dense)
            columns.append(np.concatenate([tv.ravel() for tv, _ in t]))
    compressed = np.array(columns).T if columns else np.zeros((n, 0))
    matrix = coloring.recover(compressed, rows, colors, n)
    return HessianResult(counter, cost_f, cost_fg, matrix, colors, rows)


def _flat(arrays: Arrays) -> np.ndarray:
    return np.concatenate([np.asarray(a, dtype=np.float64).ravel()
                           for a in arrays.values()]) if arrays else np.zeros(0)


def _input_names(arrays: Arrays, inputs: Sequence[str] | None, n: int) -> tuple[str, ...]:
    if inputs is not None and len(inputs) == n:
        return tuple(inputs)
    return tuple(f"x{i}" for i in range(1, n + 1))


def hvp_report(name: str, f: Callable[..., Any], arrays: Arrays, v: Vector | None = None,
               *, inputs: Sequence[str] | None = None, check: bool = True,
               seed: int = 0) -> HvpReport:
    """H·v of the numpy program ``f`` on the array engine (forward over reverse), with
    the scalar engine's checks: the complex step of ∇f along v, run on the scalar
    engine's recorded gradient (an independent engine), or central differences.

    >>> r = hvp_report("cube", lambda w: (w ** 3).sum(), {"w": np.array([1.0, 2.0])},
    ...                [1.0, 1.0])
    >>> r.hvp.tolist(), [m.mode for m in r.results], r.passed
    ([6.0, 12.0], ['fwd-rev'], True)
    """
    x = _flat(arrays)
    if x.size == 0:
        raise CheapgradError("the function needs at least one input")
    vv = (np.random.default_rng(seed).standard_normal(x.size) if v is None
          else vector(v, x.size, "the direction v"))
    result = hvp(f, arrays, vv)
    report = HvpReport(name, _input_names(arrays, inputs, x.size), x, vv, [result])
    if check:
        report.checks = secondcheck.hvp_checks(program_function(f, dict(arrays)), x, vv,
                                               {"fwd-rev": result.hvp})
    return report


def hessian_report(name: str, f: Callable[..., Any], arrays: Arrays, *,
                   inputs: Sequence[str] | None = None, check: bool = True
                   ) -> HessianReport:
    """The Hessian of the numpy program ``f`` on the array engine, colored and dense,
    with the scalar engine's checks (symmetry, colored = dense, the complex step per
    column on the scalar engine's gradient, or differences)."""
    x = _flat(arrays)
    if x.size == 0:
        raise CheapgradError("the function needs at least one input")
    colored = hessian(f, arrays)
    dense = hessian(f, arrays, compress=False, rows=colored.pattern)
    report = HessianReport(name, _input_names(arrays, inputs, x.size), x, colored, dense)
    if check:
        report.checks = secondcheck.hessian_checks(program_function(f, dict(arrays)), x,
                                                   colored.matrix, dense.matrix)
    return report
