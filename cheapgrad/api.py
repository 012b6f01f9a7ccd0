"""The Python API: any function on counted numbers, its gradient, and what it cost.

:func:`grad` wraps a Python function of scalars written with ``+ - * / **`` and the
counted functions (``exp``, ``log``, ``tanh``, ``sin``, ``cos``, ``sqrt``, importable
from here); calling the wrapper traces the function, runs generic reverse mode over the
recorded circuit (:mod:`cheapgrad.core.tape`) and returns a :class:`Result`: the
value, the gradient, every op counted by phase and by op kind, the ratio against the
bound 5, a gradient check against an independent derivative, the method table (reverse
mode, forward mode, central differences) and the memory reverse mode used
(:func:`cheapgrad.analysis.circuit.analyze`). The result renders itself in rich
(``__rich__``) and in Jupyter (``_repr_markdown_``).

Example::

    >>> from cheapgrad.api import grad, sin
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
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from cheapgrad.analysis import array_jacobian as _array_jacobian
from cheapgrad.analysis import array_second as _array_second
from cheapgrad.analysis import circuit as _circuit
from cheapgrad.analysis import derivatives as _derivatives
from cheapgrad.analysis.circuit import DEFAULT_METHOD_MAX_OPS, CircuitResult
from cheapgrad.analysis.program import ProgramResult, run_program
from cheapgrad.core.functions import cos, exp, log, sin, sqrt, tanh
from cheapgrad.core.number import Num
from cheapgrad.errors import CheapgradError
from cheapgrad.models.circuit import Circuit

__all__ = [
    "ArrayResult", "Circuit", "CircuitResult", "Result", "analyze", "cos", "exp", "grad",
    "hessian", "hvp", "jacobian", "log", "sin", "sqrt", "tanh",
]


def _plain_value(out: Any) -> Any:
    """The value of a user's function evaluated on plain numbers (a counted constant's
    value when a counted function was applied to a float)."""
    return out.v if isinstance(out, Num) else out


class Result(CircuitResult):
    """A :class:`~cheapgrad.analysis.circuit.CircuitResult` that renders itself: as rich
    tables (``__rich__``, e.g. ``rich.print(r)``) and as Markdown in Jupyter."""

    def __rich__(self) -> Any:
        from cheapgrad.render.circuit_tables import circuit_tables

        return circuit_tables(self)

    def _repr_markdown_(self) -> str:
        from cheapgrad.render.circuit import to_markdown

        return to_markdown(self)


class ArrayResult(ProgramResult):
    """A :class:`~cheapgrad.analysis.program.ProgramResult` (a numpy program's value,
    ``gradients`` by parameter, counts, check) that renders itself in rich and Jupyter."""

    def __rich__(self) -> Any:
        from cheapgrad.render.program_tables import program_tables

        return program_tables(self)

    def _repr_markdown_(self) -> str:
        from cheapgrad.render.program import to_markdown

        return to_markdown(self)


def analyze(circuit: Circuit, *, max_ops: int = DEFAULT_METHOD_MAX_OPS,
            check: str = "auto", progress: _circuit.Progress | None = None) -> Result:
    """:func:`cheapgrad.analysis.circuit.analyze`, returning a :class:`Result`
    (``progress(stage, done, total)``, when given, follows the long checks).

    Example::

        >>> r = analyze(Circuit("sq", ("x",), (3.0,), fn=lambda ins: ins[0] * ins[0]))
        >>> r.gradient.tolist(), r.ratio
        ([6.0], 4.0)
    """
    result = _circuit.analyze(circuit, max_ops=max_ops, check=check, result_type=Result,
                              progress=progress)
    assert isinstance(result, Result)
    return result


def _input_names(f: Callable[..., Any], n: int) -> tuple[str, ...]:
    """The names of the ``n`` positional parameters of ``f`` that the call fills
    (``lambda x, y=2.0: ...`` called with one value: ``('x',)``), else ``x1``..``xn``."""
    try:
        params = list(inspect.signature(f).parameters.values())
    except (TypeError, ValueError):
        params = []
    simple = []
    for p in params:
        if p.kind not in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            break
        simple.append(p.name)
    if len(simple) >= n:
        return tuple(simple[:n])
    return tuple(f"x{i}" for i in range(1, n + 1))


def grad(f: Callable[..., Any], *, names: Sequence[str] | None = None,
         max_ops: int = DEFAULT_METHOD_MAX_OPS, check: str = "auto",
         engine: str = "array") -> Callable[..., Any]:
    """Wrap ``f(x1, ..., xd) -> scalar`` so that calling it with floats returns a
    :class:`Result` (value, gradient, counts, checks), and calling it with arrays an
    :class:`ArrayResult`.

    With floats, ``f`` must compute with ``+ - * / **`` (integer constant exponents) and
    the counted functions of this module; inputs are named after ``f``'s parameters (or
    ``names``, or ``x1``..``xd``). With arrays (any argument a numpy array or a list),
    ``f`` is ordinary numpy code (see docs/arrays.md), run on counted arrays by
    ``engine``: ``"array"`` (numpy speed) or ``"scalar"`` (object arrays of counted
    scalars, the reference); both count the same ops.

    >>> import numpy as np
    >>> r = grad(lambda w, x: np.tanh(x @ w).sum())(np.ones(2), np.eye(2))
    >>> r.gradients["w"].round(4).tolist(), r.cost_f, r.check.passed
    ([0.42, 0.42], 9, True)

    The gradient check runs ``f`` again, uncounted, on plain numbers: on complex numbers
    for the complex step (the counted functions of this module accept them) when that
    reproduces f at the inputs, else on floats for central differences; only when
    neither runs is f evaluated on counted constants.

    Example::

        from cheapgrad.api import grad, exp
        r = grad(lambda a, b: a * exp(b) / (a + b))(1.0, 2.0)
        r.value, r.gradient, r.ratio, r.passed
    """

    def wrapped(*xs: Any) -> Any:
        if any(isinstance(x, (np.ndarray, list, tuple)) for x in xs):
            arrays = dict(zip(names, xs, strict=True)) if names is not None else list(xs)
            result = run_program(f, arrays, engine=engine,
                                 name=getattr(f, "__name__", "f"))
            return ArrayResult(**{k: getattr(result, k) for k in _PROGRAM_FIELDS})
        values = tuple(float(x) for x in xs)
        labels = tuple(names) if names is not None else _input_names(f, len(values))
        if len(labels) != len(values):
            raise ValueError(f"{len(labels)} names for {len(values)} inputs")

        def on_complex(z: np.ndarray) -> complex:
            out = f(*z.tolist())
            if isinstance(out, Num):  # a counted function met a float: not analytic here
                raise TypeError("not a complex evaluation")
            return complex(out)

        circuit = Circuit(
            name=getattr(f, "__name__", "f"), inputs=labels, values=values,
            fn=lambda ins: f(*ins),
            numpy_fn=lambda x: float(_plain_value(f(*x.tolist()))),
            complex_fn=on_complex,
        )
        return analyze(circuit, max_ops=max_ops, check=check)

    wrapped.__name__ = f"grad({getattr(f, '__name__', 'f')})"
    wrapped.__doc__ = f.__doc__
    return wrapped


_PROGRAM_FIELDS = tuple(ProgramResult.__dataclass_fields__)


def _array(x: Any) -> np.ndarray:
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise CheapgradError("x: expected numbers") from None


def _flat(f: Callable[..., Any], x: Any, engine: str | None
          ) -> tuple[Callable[[list[Num]], Any], np.ndarray, tuple[str, ...] | None]:
    """``f`` as a function of a flat list of counted scalars, the flat inputs, names."""
    if engine is None:
        values = np.asarray([float(e) for e in x], dtype=np.float64)
        return (lambda xs: f(*xs)), values, _input_names(f, len(values))
    if engine != "scalar":
        raise CheapgradError(f"unknown engine {engine!r}: choose array or scalar (or None "
                             "for a function of scalars)")
    arr = np.asarray(x, dtype=np.float64)
    return _derivatives.program_function(f, {"x": arr}), arr.ravel(), None


def hvp(f: Callable[..., Any], *, modes: Sequence[str] | None = None,
        engine: str | None = None, check: bool = True) -> Callable[..., Any]:
    """Wrap ``f`` so that ``hvp(f)(x, v)`` returns H(x)·v by every mode of ``modes``
    (forward over reverse, reverse over forward, reverse over reverse), each counted,
    with the checks: an :class:`~cheapgrad.analysis.derivatives.HvpReport` (``.hvp``,
    ``.results`` by mode with ``cost``, ``ratio_f``, ``ratio_grad``, ``.passed``).

    ``f`` takes scalars (``x`` the sequence of their values), or with ``engine="scalar"``
    one numpy array (``x`` that array; run on object arrays of counted scalars), or with
    ``engine="array"`` one numpy array run on counted arrays: forward over reverse only
    (the other modes, ``modes=`` naming them, stop with one line naming the scalar
    engine), counted exactly as the scalar engine counts that mode. ``modes`` defaults to
    every mode the engine runs; ``v`` to a seeded random vector.

    >>> r = hvp(lambda x, y: x * x * y + sin(y))([1.0, 2.0], [1.0, 0.0])
    >>> r.hvp.tolist(), [m.cost for m in r.results], r.passed
    ([4.0, 2.0], [19, 13, 21], True)
    >>> import numpy as np
    >>> r = hvp(lambda w: np.tanh(w).sum(), engine="scalar")(np.array([0.5, 1.0]), [1.0, 1.0])
    >>> [round(h, 6) for h in r.hvp.tolist()]
    [-0.726862, -0.6397]
    >>> a = hvp(lambda w: np.tanh(w).sum(), engine="array")(np.array([0.5, 1.0]), [1.0, 1.0])
    >>> a.hvp.tolist() == r.hvp.tolist(), a.results[0].cost == r.results[0].cost
    (True, True)
    """

    def wrapped(x: Any, v: Any = None) -> _derivatives.HvpReport:
        name = getattr(f, "__name__", "f")
        if engine == "array":
            _array_second.refuse_modes(_array_second.ARRAY_MODES if modes is None else modes)
            return _array_second.hvp_report(name, f, {"x": _array(x)}, v, check=check)
        fn, values, names = _flat(f, x, engine)
        return _derivatives.hvp_report(name, fn, values, v, inputs=names,
                                       modes=_derivatives.MODES if modes is None else modes,
                                       check=check)

    return wrapped


def hessian(f: Callable[..., Any], *, engine: str | None = None,
            check: bool = True) -> Callable[..., Any]:
    """Wrap ``f`` so that ``hessian(f)(x)`` returns its Hessian at ``x``: one
    forward-over-reverse pass per color of the gradient's sparsity pattern, beside one
    pass per input, counted and checked (a
    :class:`~cheapgrad.analysis.derivatives.HessianReport`: ``.matrix``, ``.colored``,
    ``.dense``, ``.passed``). ``f`` and ``x`` as for :func:`hvp`.

    >>> r = hessian(lambda x, y, z: x * x + y * z)([1.0, 2.0, 3.0])
    >>> r.matrix.tolist(), r.colored.passes, r.dense.passes
    ([[2.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]], 1, 3)
    """

    def wrapped(x: Any) -> _derivatives.HessianReport:
        if engine == "array":
            return _array_second.hessian_report(getattr(f, "__name__", "f"), f,
                                                {"x": _array(x)}, check=check)
        fn, values, names = _flat(f, x, engine)
        return _derivatives.hessian_report(getattr(f, "__name__", "f"), fn, values,
                                           inputs=names, check=check)

    return wrapped


def jacobian(f: Callable[..., Any], *, mode: str = "forward", engine: str | None = None,
             check: bool = True) -> Callable[..., Any]:
    """Wrap a vector function ``f`` (returning a list of counted numbers, or with
    ``engine="scalar"`` or ``engine="array"`` a numpy program of one array returning an
    array) so that ``jacobian(f)(x)`` returns its Jacobian: a
    :class:`~cheapgrad.analysis.derivatives.JacobianReport` with every mode counted
    (forward: n tangent passes, reverse: m adjoint passes, colored) and checked;
    ``.matrix`` is the one of ``mode``. The array engine counts what the scalar engine
    counts.

    >>> r = jacobian(lambda x, y: [x * y, x + y, y * y], mode="reverse")([2.0, 3.0])
    >>> r.matrix.tolist(), r.result("forward").passes, r.result("reverse").passes
    ([[3.0, 2.0], [1.0, 1.0], [0.0, 6.0]], 2, 3)
    >>> import numpy as np
    >>> a = jacobian(lambda x: np.tanh(x) * x.sum(), engine="array")(np.array([0.5, 2.0]))
    >>> s = jacobian(lambda x: np.tanh(x) * x.sum(), engine="scalar")(np.array([0.5, 2.0]))
    >>> bool(np.allclose(a.matrix, s.matrix)), a.results[0].cost == s.results[0].cost
    (True, True)
    """
    if mode not in ("forward", "reverse", "colored"):
        raise CheapgradError(f"unknown Jacobian mode {mode!r}: choose forward, reverse or "
                             "colored")

    def wrapped(x: Any) -> _derivatives.JacobianReport:
        if engine == "array":
            report = _array_jacobian.array_jacobian_report(
                getattr(f, "__name__", "F"), f, {"x": np.asarray(x, dtype=np.float64)},
                check=check)
            chosen = report.result(mode)
            report.results.remove(chosen)
            report.results.insert(0, chosen)
            return report
        fn, values, names = _flat(f, x, engine)
        report = _derivatives.jacobian_report(getattr(f, "__name__", "f"), fn, values,
                                              inputs=names, check=check)
        chosen = report.result(mode)
        report.results.remove(chosen)
        report.results.insert(0, chosen)
        return report

    return wrapped
