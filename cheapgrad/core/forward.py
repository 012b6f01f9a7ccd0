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
from functools import partial
from typing import Any

from cheapgrad.core import functions, ops
from cheapgrad.core.complexfns import COMPLEX_OPS
from cheapgrad.core.counter import Counter
from cheapgrad.core.number import Num, apply, const
from cheapgrad.core.tape import DifferentiationError, circuit_nodes, dep_order

#: Each op's counted fast path (the operator or function written out for it, which counts
#: exactly what :func:`~cheapgrad.core.number.apply` counts); other ops go through apply.
_FAST: dict[ops.Op, Callable[..., Num]] = {
    ops.ADD: operator.add, ops.SUB: operator.sub, ops.MUL: operator.mul,
    ops.DIV: operator.truediv, ops.NEG: operator.neg, ops.POW: operator.pow,
    ops.EXP: functions.exp, ops.LOG: functions.log, ops.TANH: functions.tanh,
    ops.SIN: functions.sin, ops.COS: functions.cos, ops.SQRT: functions.sqrt,
}


def _no_rule(op: ops.Op) -> DifferentiationError:
    return DifferentiationError(
        f"op '{op.name}' has no derivative rule: the function is not "
        "differentiable through it (comparisons and branches have no derivative)")


def _check_leaves(nodes: Sequence[Num], index: dict[Num, int]) -> None:
    """Every leaf that depends on the variables must be an input."""
    for node in nodes:
        if node.op is None and node.dep and node not in index:
            raise DifferentiationError(
                "the output depends on a value whose circuit was not recorded: a "
                "variable that is not an input, or a result computed outside tracing()")


def _power(k: int) -> Callable[[Num, Num], Num]:
    """``a ** k`` for the recorded constant exponent, read once (the same counted op)."""
    def power(a: Num, _exponent: Num) -> Num:
        return a ** k

    return power


def _step(node: Num) -> Callable[..., Num]:
    """The counted function that recomputes ``node`` from its operands."""
    op = node.op
    assert op is not None
    if op is ops.POW:
        n = node.parents[1]
        if not n.dep and float(n.v).is_integer():
            return _power(int(n.v))
    return _FAST.get(op) or partial(apply, op)


class _Graph:
    """Each node's position in ``nodes`` and its children, built once per circuit."""

    __slots__ = ("children", "pos", "program")

    def __init__(self, nodes: Sequence[Num]) -> None:
        self.pos = {node: i for i, node in enumerate(nodes)}
        self.children: dict[Num, list[Num]] = {}
        for node in nodes:
            for p in node.parents:
                self.children.setdefault(p, []).append(node)
        # The value pass as a straight-line program: each op's counted function (its
        # fast path, else apply) and the positions of its operands.
        self.program: list[tuple[Callable[..., Num], list[int]] | None] = [
            None if node.op is None else (_step(node), [self.pos[p] for p in node.parents])
            for node in nodes]

    def values(self, nodes: Sequence[Num]) -> list[Num]:
        """Every node's value, recomputed by its counted op (leaves are themselves)."""
        vals: list[Num] = list(nodes)
        for i, step in enumerate(self.program):
            if step is not None:
                fn, args = step
                if len(args) == 2:
                    vals[i] = fn(vals[args[0]], vals[args[1]])
                else:
                    vals[i] = fn(*[vals[j] for j in args])
        return vals


def _reached(graph: _Graph, start: Num) -> list[Num]:
    """The nodes a tangent seeded at ``start`` can reach, operands before results: the
    only nodes whose tangent can be non-zero."""
    children, pos = graph.children, graph.pos
    seen = {start}
    stack = [start]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return sorted(seen, key=pos.__getitem__)


def tangent(output: Num, inputs: Sequence[Num], seed: int, counter: Counter,
            phase: str = "forward_mode", order: list[Num] | None = None,
            reach: Sequence[Num] | None = None,
            graph: _Graph | None = None) -> tuple[Num, Num]:
    """One dual-number pass: (value, ∂output/∂inputs[seed]), counted in ``counter``.

    Values are counted under ``(phase, seed, "value")`` and tangents under
    ``(phase, seed, "tangent")``. Every value is recomputed; a tangent is computed only
    where it can be non-zero (``reach``: the nodes the seed reaches, found when not
    given), which counts exactly the same ops as visiting every node.
    """
    nodes = circuit_nodes(output) if order is None else order
    graph = _Graph(nodes) if graph is None else graph
    tan: dict[Num, Any] = {}
    index = {x: i for i, x in enumerate(inputs)}
    if reach is None:
        _check_leaves(nodes, index)
        reach = _reached(graph, inputs[seed])
    # The values first (they do not depend on the tangents), then the tangents: two
    # counting scopes per pass, not two per node.
    with counter.scope(phase, seed, "value"):
        vals = graph.values(nodes)
    pos = graph.pos
    with counter.scope(phase, seed, "tangent"):
        for node in reach:
            op = node.op
            if op is None:
                if index.get(node) == seed:
                    tan[node] = const(1.0)
                continue
            ts = tuple(tan.get(p) for p in node.parents)
            if all(t is None for t in ts):
                continue
            if op.jvp is None:
                raise _no_rule(op)
            tan[node] = op.jvp(vals[pos[node]], tuple(vals[pos[p]] for p in node.parents), ts)
    t = tan.get(output)
    value = vals[pos[output]] if output in pos else output
    return value, (const(0.0) if t is None else t)


def gradient(output: Num, inputs: Sequence[Num], counter: Counter,
             phase: str = "forward_mode") -> list[Num]:
    """The gradient by forward mode: one dual-number pass per input, all counted."""
    order = circuit_nodes(output)
    _check_leaves(order, {x: i for i, x in enumerate(inputs)})
    graph = _Graph(order)
    return [tangent(output, inputs, i, counter, phase, order, _reached(graph, x), graph)[1]
            for i, x in enumerate(inputs)]


def directional(outputs: Sequence[Num], inputs: Sequence[Num], direction: Any,
                counter: Counter, phase: str = "tangent",
                order: list[Num] | None = None, dense: bool = False) -> list[Num]:
    """One tangent pass over a recorded circuit with several outputs: the directional
    derivatives J·direction of every output, counted under ``(phase, None, "tangent")``.

    Unlike :func:`tangent`, the values are not recomputed: the pass reads the values the
    tape holds (the recorded nodes), so it counts only the tangent ops, as a dual-number
    pass run together with the function would count beyond the function. An input with
    a zero direction gets no tangent (``None``, no op), unless ``dense``: then every
    input is seeded, zeros included, and every node's tangent is computed, as a pass
    with a dense tangent vector does. The seeds are constants, so run
    inside :func:`~cheapgrad.core.number.tracing` the tangents are recorded as a circuit
    that reverse mode can differentiate again.

    >>> from cheapgrad.core.number import tracing, var
    >>> x, y = var(3.0), var(4.0)
    >>> with tracing():
    ...     f = x * y + x
    >>> c = Counter()
    >>> [t.v for t in directional([f], [x, y], [1.0, 2.0], c)]
    [11.0]
    >>> c.totals().nonzero()
    {'add': 2, 'mul': 2}
    """
    nodes = dep_order(outputs) if order is None else order
    index = {x: i for i, x in enumerate(inputs)}
    _check_leaves(nodes, index)
    tan: dict[Num, Any] = {}
    with counter.scope(phase, None, "tangent"):
        for node in nodes:
            op = node.op
            if op is None:
                d = direction[index[node]]
                if d != 0.0 or dense:
                    tan[node] = const(float(d))
                continue
            ts = tuple(tan.get(p) for p in node.parents)
            if all(t is None for t in ts):
                continue
            if op.jvp is None:
                raise _no_rule(op)
            t = op.jvp(node, node.parents, ts)
            if t is not None:
                tan[node] = t
    return [tan.get(out, const(0.0)) if isinstance(out, Num) else const(0.0)
            for out in outputs]


def complex_values(outputs: Sequence[Num], inputs: Sequence[Num],
                   z: Sequence[complex]) -> list[complex]:
    """The recorded circuit of ``outputs`` evaluated on the complex inputs ``z``
    (uncounted, plain complex numbers): every recorded op, constant ones included, by
    its complex form (:data:`cheapgrad.core.complexfns.COMPLEX_OPS`), operands before
    results. With z = x + i·h·v and a tiny h, Im(output)/h is the directional derivative
    of each output along v to rounding (the complex step): an exact route independent
    of the forward rules. Raises :class:`DifferentiationError` for a leaf that depends
    on the variables but is not an input, and the plain errors of complex arithmetic
    (:class:`~cheapgrad.errors.DomainError`, ``ZeroDivisionError``, ``OverflowError``).

    >>> from cheapgrad.core.number import tracing, var
    >>> x = var(3.0)
    >>> with tracing():
    ...     y = x * x * x
    >>> complex_values([y], [x], [3.0 + 2.0 ** -60 * 1j])[0].imag / 2.0 ** -60
    27.0
    """
    index = {x: i for i, x in enumerate(inputs)}
    vals: dict[Num, complex] = {}
    for out in outputs:
        stack: list[tuple[Num, bool]] = [(out, False)]
        while stack:
            node, expanded = stack.pop()
            if node in vals:
                continue
            if node.op is None:
                if node in index:
                    vals[node] = complex(z[index[node]])
                elif node.dep:
                    raise DifferentiationError(
                        "the output depends on a value whose circuit was not recorded")
                else:
                    vals[node] = complex(node.v)
                continue
            if expanded:
                vals[node] = COMPLEX_OPS[node.op.name](*(vals[p] for p in node.parents))
                continue
            stack.append((node, True))
            stack.extend((p, False) for p in node.parents if p not in vals)
    return [vals[out] for out in outputs]
