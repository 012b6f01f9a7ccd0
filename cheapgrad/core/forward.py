"""Forward mode: dual numbers on the counted type, one pass per input.

A dual number is a pair (value, tangent) of counted numbers. One pass seeds the tangent
of one input with 1 (the others with zero) and evaluates the recorded circuit again in a
topological order: every value is recomputed with its op's float function, through the
counted :func:`cheapgrad.core.number.apply`, and its tangent with the op's forward rule
(``jvp``) from :mod:`cheapgrad.core.ops`. The pass yields the value and one partial
derivative; the gradient needs one pass per input, which is the O(d) cost that reverse
mode avoids. A zero tangent is ``None`` and costs no op.

The passes replay the circuit recorded by :func:`cheapgrad.core.number.tracing` (the control
flow of the traced run is kept as it was, as in any tape-based forward mode): ops that
made no recorded value, such as comparisons in a branch, are not executed again.

Example::

    >>> from cheapgrad.core.counter import Counter
    >>> from cheapgrad.core.number import tracing, var
    >>> x, y = var(3.0), var(4.0)
    >>> with tracing():
    ...     f = x * y + x
    >>> c = Counter()
    >>> [g.v for g in gradient(f, [x, y], c)]
    [5.0, 3.0]
    >>> c.totals().nonzero()
    {'add': 3, 'mul': 4}
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

from cheapgrad.core import functions, ops
from cheapgrad.core.counter import Counter
from cheapgrad.core.number import Num, apply, const
from cheapgrad.core.tape import DifferentiationError, circuit_nodes

#: Each op's counted fast path (the operator or function written out for it, which counts
#: exactly what :func:`~cheapgrad.core.number.apply` counts); other ops go through apply.
_FAST: dict[ops.Op, Callable[..., Num]] = {
    ops.ADD: operator.add, ops.SUB: operator.sub, ops.MUL: operator.mul,
    ops.DIV: operator.truediv, ops.NEG: operator.neg, ops.POW: operator.pow,
    ops.EXP: functions.exp, ops.LOG: functions.log, ops.TANH: functions.tanh,
    ops.SIN: functions.sin, ops.COS: functions.cos, ops.SQRT: functions.sqrt,
}


def tangent(output: Num, inputs: Sequence[Num], seed: int, counter: Counter,
            phase: str = "forward_mode", order: list[Num] | None = None) -> tuple[Num, Num]:
    """One dual-number pass: (value, ∂output/∂inputs[seed]), counted in ``counter``.

    Values are counted under ``(phase, seed, "value")`` and tangents under
    ``(phase, seed, "tangent")``.
    """
    nodes = circuit_nodes(output) if order is None else order
    primal: dict[Num, Num] = {}
    tan: dict[Num, Any] = {}
    index = {x: i for i, x in enumerate(inputs)}
    # The values first (they do not depend on the tangents), then the tangents: two
    # counting scopes per pass, not two per node.
    with counter.scope(phase, seed, "value"):
        for node in nodes:
            if node.op is None:
                primal[node] = node
            else:
                fast = _FAST.get(node.op)
                args = [primal[p] for p in node.parents]
                primal[node] = fast(*args) if fast is not None else apply(node.op, *args)
    with counter.scope(phase, seed, "tangent"):
        for node in nodes:
            op = node.op
            if op is None:
                if node in index:
                    tan[node] = const(1.0) if index[node] == seed else None
                elif node.dep:
                    raise DifferentiationError(
                        "the output depends on a value whose circuit was not recorded: a "
                        "variable that is not an input, or a result computed outside tracing()")
                else:
                    tan[node] = None
                continue
            ts = tuple(tan[p] for p in node.parents)
            if all(t is None for t in ts):
                tan[node] = None
                continue
            if op.jvp is None:
                raise DifferentiationError(
                    f"op '{op.name}' has no derivative rule: the function is not "
                    "differentiable through it (comparisons and branches have no derivative)")
            tan[node] = op.jvp(primal[node], tuple(primal[p] for p in node.parents), ts)
    t = tan.get(output)
    return primal.get(output, output), (const(0.0) if t is None else t)


def gradient(output: Num, inputs: Sequence[Num], counter: Counter,
             phase: str = "forward_mode") -> list[Num]:
    """The gradient by forward mode: one dual-number pass per input, all counted."""
    order = circuit_nodes(output)
    return [tangent(output, inputs, i, counter, phase, order)[1] for i in range(len(inputs))]
