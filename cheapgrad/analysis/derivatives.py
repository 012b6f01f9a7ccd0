"""Reports of second-order and Jacobian runs: every mode side by side, and its checks.

:func:`hvp_report` runs H·v by every mode of :data:`~.second_order.MODES` and checks the
vectors (:mod:`cheapgrad.analysis.secondcheck`); :func:`hessian_report` the compressed
and the dense Hessian; :func:`jacobian_report` the forward, reverse and colored
Jacobians, dense passes, and the forward and reverse passes that skip zero tangents.
A function is given as ``fn(list of counted numbers)``; :func:`program_function` turns a
numpy program into one (the scalar engine: object arrays of counted scalars).

Example::

    >>> r = hvp_report("sq", lambda xs: xs[0] * xs[0] * xs[1], [1.0, 2.0], [1.0, 0.0])
    >>> r.hvp.tolist(), [m.mode for m in r.results], r.passed, r.route
    ([4.0, 2.0], ['fwd-rev', 'rev-fwd', 'rev-rev'], True, 'complex step')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cheapgrad.analysis import secondcheck
from cheapgrad.analysis.costmodels import nonscalar_cost
from cheapgrad.analysis.jacobian import JacobianResult, jacobian
from cheapgrad.analysis.second_order import (
    MODES,
    Fn,
    HessianResult,
    HvpResult,
    Vector,
    hessian,
    hvp,
    vector,
)
from cheapgrad.analysis.secondcheck import Check
from cheapgrad.analysis.weights import weighted_cost, weights_with_defaults
from cheapgrad.core.counter import OpCounts
from cheapgrad.core.numarray import NumArray
from cheapgrad.core.number import Num
from cheapgrad.errors import CheapgradError

#: Derivatives the reports compute.
DERIVATIVES = ("grad", "hvp", "hessian", "jacobian")
Reference = Callable[[np.ndarray], np.ndarray] | None


@dataclass
class HvpReport:
    """H·v by every mode, with the baseline costs and the checks."""

    name: str
    inputs: tuple[str, ...]
    x: np.ndarray
    v: np.ndarray
    results: list[HvpResult]
    checks: list[Check] = field(default_factory=list)

    @property
    def hvp(self) -> np.ndarray:
        return self.results[0].hvp

    @property
    def route(self) -> str:
        """The independent route the checks took (``complex step`` or ``central
        differences``)."""
        return secondcheck.route(self.checks)

    @property
    def passed(self) -> bool:
        return secondcheck.all_passed(self.checks)


def hvp_report(name: str, fn: Fn, x: Vector, v: Vector | None = None, *,
               inputs: Sequence[str] | None = None, modes: Sequence[str] = MODES,
               reference: Reference = None, check: bool = True,
               seed: int = 0) -> HvpReport:
    """H·v of ``fn`` at ``x`` by every mode of ``modes``; v defaults to a seeded random
    unit-normal vector."""
    xv = _inputs(x)
    vv = (np.random.default_rng(seed).standard_normal(len(xv)) if v is None
          else vector(v, len(xv), "the direction v"))
    results = [hvp(fn, xv, vv, mode) for mode in modes]
    report = HvpReport(name, _names(inputs, len(xv)), xv, vv, results)
    if check:
        report.checks = secondcheck.hvp_checks(fn, xv, vv, {r.mode: r.hvp for r in results},
                                               reference)
    return report


@dataclass
class HessianReport:
    """The Hessian by colored passes and by one pass per column, with the checks."""

    name: str
    inputs: tuple[str, ...]
    x: np.ndarray
    colored: HessianResult
    dense: HessianResult
    checks: list[Check] = field(default_factory=list)

    @property
    def matrix(self) -> np.ndarray:
        return self.colored.matrix

    @property
    def route(self) -> str:
        """The independent route the checks took (``complex step`` or ``central
        differences``; ``exact routes only`` above the sizes those run at)."""
        return secondcheck.route(self.checks)

    @property
    def passed(self) -> bool:
        return secondcheck.all_passed(self.checks)


def hessian_report(name: str, fn: Fn, x: Vector, *,
                   inputs: Sequence[str] | None = None, reference: Reference = None,
                   check: bool = True) -> HessianReport:
    """The Hessian of ``fn`` at ``x``, colored and dense."""
    xv = _inputs(x)
    colored, dense = hessian(fn, xv), hessian(fn, xv, compress=False)
    report = HessianReport(name, _names(inputs, len(xv)), xv, colored, dense)
    if check:
        report.checks = secondcheck.hessian_checks(fn, xv, colored.matrix, dense.matrix,
                                                   reference)
    return report


@dataclass
class JacobianReport:
    """The Jacobian by dense forward, reverse and colored passes (and forward and
    reverse passes that skip zeros), with the checks."""

    name: str
    inputs: tuple[str, ...]
    x: np.ndarray
    results: list[JacobianResult]
    checks: list[Check] = field(default_factory=list)

    @property
    def matrix(self) -> np.ndarray:
        return self.results[0].matrix

    @property
    def outputs(self) -> int:
        return int(self.matrix.shape[0])

    @property
    def route(self) -> str:
        """The independent route the checks took (central differences of F)."""
        return secondcheck.route(self.checks)

    @property
    def passed(self) -> bool:
        return secondcheck.all_passed(self.checks)

    def result(self, mode: str, dense: bool = True) -> JacobianResult:
        """The result of one mode."""
        return next(r for r in self.results if r.mode == mode and r.dense == dense)


def jacobian_report(name: str, fn: Fn, x: Vector, *,
                    inputs: Sequence[str] | None = None, reference: Reference = None,
                    check: bool = True) -> JacobianReport:
    """The Jacobian of ``fn`` at ``x`` by every mode."""
    xv = _inputs(x)
    results = [jacobian(fn, xv, mode) for mode in ("forward", "reverse", "colored")]
    results += [jacobian(fn, xv, mode, dense=False) for mode in ("forward", "reverse")]
    report = JacobianReport(name, _names(inputs, len(xv)), xv, results)
    if check:
        by_mode = {f"{r.mode}{'' if r.dense else ' (sparse)'}": r.matrix for r in results}
        report.checks = secondcheck.jacobian_checks(fn, xv, by_mode, reference)
    return report


def program_function(f: Callable[..., Any], arrays: dict[str, np.ndarray]) -> Fn:
    """A numpy program ``f(*arrays)`` as a function of the flat list of its inputs'
    elements, run on object arrays of counted scalars (the scalar engine); its output
    (a scalar or an array) becomes the list of its elements.

    >>> import numpy as np
    >>> fn = program_function(lambda w: (w * w).sum(), {"w": np.ones(2)})
    >>> hvp_report("p", fn, [1.0, 2.0], [1.0, 1.0]).hvp.tolist()
    [2.0, 2.0]
    """
    shapes = [a.shape for a in arrays.values()]

    def fn(xs: list[Num]) -> Any:
        args, i = [], 0
        for shape in shapes:
            size = int(np.prod(shape, dtype=int))
            block = np.empty(size, dtype=object)
            block[:] = xs[i:i + size]
            args.append(NumArray(block.reshape(shape)))
            i += size
        out = f(*args)
        return out.v if isinstance(out, NumArray) else out

    return fn


def _inputs(x: Vector) -> np.ndarray:
    xv = np.asarray(x, dtype=np.float64).ravel() if not isinstance(x, np.ndarray) \
        else x.astype(np.float64).ravel()
    if xv.size == 0:
        raise CheapgradError("the function needs at least one input")
    return vector(xv, xv.size, "x")


def _names(inputs: Sequence[str] | None, n: int) -> tuple[str, ...]:
    if inputs is not None and len(inputs) == n:
        return tuple(inputs)
    return tuple(f"x{i}" for i in range(1, n + 1))


#: The cost models a derivative report is priced in.
PRICES = ("unit", "nonscalar", "weighted")


def price(counts: OpCounts, model: str, weights: Mapping[str, float] | None = None) -> float:
    """``counts`` in cost model ``model`` (one of :data:`PRICES`): every op one, the
    nonscalar multiplications and divisions (Baur and Strassen), or by ``weights`` (the
    default weights when None).

    >>> from cheapgrad.core.counter import OpCounts
    >>> c = OpCounts({"add": 2, "mul": 1}, {"mul": 1})
    >>> price(c, "unit"), price(c, "nonscalar"), price(c, "weighted")
    (3, 1, 3.4)
    """
    if model == "unit":
        return counts.total
    if model == "nonscalar":
        return nonscalar_cost(counts)
    if model == "weighted":
        return weighted_cost(counts, weights_with_defaults(weights))
    raise CheapgradError(f"derivative reports are priced in {', '.join(PRICES)}, "
                         f"not {model!r}")


def priced_ratio(a: OpCounts, b: OpCounts, model: str,
                 weights: Mapping[str, float] | None = None) -> float | None:
    """price(a) / price(b), None when b is free."""
    pb = price(b, model, weights)
    return None if pb == 0 else price(a, model, weights) / pb
