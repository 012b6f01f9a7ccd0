"""Jacobians of numpy programs on the array engine: n tangent passes, m reverse sweeps or
one tangent pass per color, counted as the scalar engine counts them.

F(*arrays) -> array is recorded once on counted arrays (phase ``forward``), then:

* ``forward``: one tangent pass per input element (:func:`cheapgrad.core.array_forward.passes`),
  dense (every element seeded, zeros included) or sparse (a zero tangent costs nothing);
* ``colored``: one dense tangent pass per color of a greedy column coloring
  (:mod:`cheapgrad.analysis.coloring`) of the structural pattern, read off uncounted
  sparse passes (where each seed's tangent reaches);
* ``reverse``: one reverse sweep (:func:`cheapgrad.core.array_sweep.backward`) per output
  element, dense (seeded on every output element, the others' zeros included, as
  :func:`cheapgrad.core.tape.backward_many` seeds) or sparse (from that element alone).

The counts equal those of :func:`cheapgrad.analysis.jacobian.jacobian` on the scalar
engine (``tests/test_array_jacobian.py``).

Example::

    >>> import numpy as np
    >>> r = array_jacobian(lambda w: np.sin(w) * w[::-1], {"w": np.array([1.0, 2.0])})
    >>> r.matrix.round(4).tolist(), r.passes, r.counter.totals("tangent").nonzero()
    ([[1.0806, 0.8415], [0.9093, -0.4161]], 2, {'add': 4, 'mul': 12, 'cos': 4})
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from cheapgrad.analysis import coloring, secondcheck
from cheapgrad.analysis.derivatives import JacobianReport, program_function
from cheapgrad.analysis.jacobian import JacobianResult
from cheapgrad.core.array import CArray
from cheapgrad.core.array_forward import passes
from cheapgrad.core.array_masks import tracing
from cheapgrad.core.array_sweep import backward
from cheapgrad.core.counter import Counter
from cheapgrad.errors import CheapgradError

#: The modes of an array-engine Jacobian report: (mode, dense).
ARRAY_MODES = (("forward", True), ("reverse", True), ("colored", True), ("forward", False),
               ("reverse", False))


def _split(flat: np.ndarray, arrays: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    parts, i = [], 0
    for a in arrays.values():
        parts.append(flat[i:i + a.size].reshape(a.shape))
        i += a.size
    return parts


def array_jacobian(f: Callable[..., Any], arrays: Mapping[str, np.ndarray],
                   mode: str = "forward", *, dense: bool = True) -> JacobianResult:
    """The Jacobian of the numpy program ``f`` at ``arrays`` on the array engine (rows:
    the output's elements in order, columns: the inputs' elements in order)."""
    if mode not in ("forward", "reverse", "colored"):
        raise CheapgradError(f"unknown Jacobian mode {mode!r}: choose forward, reverse or "
                             "colored")
    counter = Counter()
    xs = [CArray(np.asarray(a, dtype=np.float64), dep=True) for a in arrays.values()]
    n = sum(x.size for x in xs)
    with tracing(), counter.scope("forward"):
        out = f(*xs)
    if not isinstance(out, CArray):
        raise CheapgradError("F must return a counted array computed from its inputs, got "
                             f"{type(out).__name__}")
    m = out.size
    colors: list[int] = []
    if mode == "reverse":
        rows = []
        for i in range(m):
            if dense:  # one sweep seeded on every output element, the others' zeros too
                grads = backward(out, xs, counter, seed=np.eye(m)[i])
            else:
                with tracing():
                    yi = out.reshape(-1)[i]
                grads = backward(yi, xs, counter)
            rows.append(np.concatenate([g.ravel() for g in grads]))
        matrix = np.array(rows).reshape(m, n)
        count = m
    else:
        pattern: list[set[int]] = []
        if mode == "colored":
            pattern = [set() for _ in range(m)]
            for j in range(n):
                _, reach = passes([out], xs, _split(np.eye(n)[j], arrays), Counter())[0]
                for i in np.flatnonzero(reach.ravel()).tolist():
                    pattern[i].add(j)
            colors = coloring.greedy_coloring(pattern, n)
        else:
            colors = list(range(n))
        cols = [passes([out], xs, _split(seed, arrays), counter, dense=dense)[0][0].ravel()
                for seed in coloring.seeds(colors)]
        compressed = np.array(cols).T.reshape(m, len(cols))
        matrix = (coloring.recover(compressed, pattern, colors, n) if mode == "colored"
                  else compressed)
        count = len(cols)
    return JacobianResult(mode, dense, out.v.ravel().copy(), matrix, counter, count, colors)


def array_jacobian_report(name: str, f: Callable[..., Any], arrays: Mapping[str, np.ndarray],
                          *, check: bool = True) -> JacobianReport:
    """Every mode of :data:`ARRAY_MODES`, checked as the scalar engine's report is (the
    modes against one another, central differences of F)."""
    inputs = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    x = np.concatenate([a.ravel() for a in inputs.values()]) if inputs else np.zeros(0)
    if x.size == 0:
        raise CheapgradError("the function needs at least one input")
    results = [array_jacobian(f, inputs, mode, dense=dense) for mode, dense in ARRAY_MODES]
    report = JacobianReport(name, tuple(f"x{i}" for i in range(1, x.size + 1)), x, results)
    if check:
        by_mode = {f"{r.mode}{'' if r.dense else ' (sparse)'}": r.matrix for r in results}
        report.checks = secondcheck.jacobian_checks(program_function(f, inputs), x, by_mode)
    return report
