"""Generic reverse mode over a traced circuit (the lecture's section 3.2).

Inside :func:`cheapgrad.core.number.tracing` every counted result records its op and its
operands; the output of a computation is then the root of its circuit. :func:`backward`
walks that circuit from the output to the inputs in a topological order found without
recursion (child counting, as ``toposort`` in HIPS/autograd), and applies each op's
reverse rule (``vjp``) from the one op table :mod:`cheapgrad.core.ops`. The rules run on
counted numbers inside ``counter.scope("backward", None, op.name)``, so the reverse
sweep is measured by the same counter as the function, and broken down by the op kind
that caused it.

Conventions (they fix the counts): the adjoint of the output is seeded with the constant
1 (no op); the first contribution to a node's adjoint is assigned (no op) and every
later one is added (one ``add``, charged to the op that made the contribution); only
nodes that depend on the inputs (``dep``) get adjoints, and no adjoint is computed for a
constant operand: when one operand of a binary op is constant, its one-sided rule
(:data:`ONE_SIDED`) runs instead of the table's rule.

Example::

    >>> from cheapgrad.core.counter import Counter
    >>> from cheapgrad.core.number import tracing, var
    >>> x, y = var(3.0), var(4.0)
    >>> c = Counter()
    >>> with tracing(), c.scope("forward"):
    ...     f = x * y + x
    >>> [g.v for g in backward(f, [x, y], c)]
    [5.0, 3.0]
    >>> c.totals("backward").nonzero()
    {'add': 1, 'mul': 2}
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager

from cheapgrad.core.counter import Counter
from cheapgrad.core.number import Num, const
from cheapgrad.core.ops import Op, Rule
from cheapgrad.errors import CheapgradError


class DifferentiationError(CheapgradError):
    """The circuit cannot be differentiated: an op without a rule, an untraced value."""


#: One-sided reverse rules of the binary ops whose table rule computes something for
#: each operand: ``ONE_SIDED[name] = (rule for the first operand only, rule for the
#: second only)``, used when the other operand is a constant (its adjoint is not
#: computed). The array engine (:mod:`cheapgrad.core.array_rules`) uses them too.
ONE_SIDED: dict[str, tuple[Rule, Rule]] = {
    "sub": (lambda g, out, a, b: (g, None), lambda g, out, a, b: (None, -g)),
    "mul": (lambda g, out, a, b: (g * b, None), lambda g, out, a, b: (None, g * a)),
    "div": (lambda g, out, a, b: (g / b, None), lambda g, out, a, b: (None, -((g / b) * out))),
}


def rule_for(op: Op, needs: tuple[bool, ...]) -> Rule | None:
    """The reverse rule of ``op`` when only the operands flagged in ``needs`` need an
    adjoint: the table's rule, or a one-sided rule of :data:`ONE_SIDED`.

    >>> from cheapgrad.core.ops import OPS
    >>> rule_for(OPS["mul"], (True, True)) is OPS["mul"].vjp
    True
    >>> rule_for(OPS["mul"], (False, True)) is ONE_SIDED["mul"][1]
    True
    """
    if len(needs) == 2 and not all(needs) and op.name in ONE_SIDED:
        return ONE_SIDED[op.name][0 if needs[0] else 1]
    return op.vjp


def toposort(end: Num, *, dep_only: bool = True) -> Iterator[Num]:
    """Nodes reachable from ``end``, each after every node that uses it (``end`` first).

    Iterative: first count each node's children (its uses inside the circuit), then
    yield a node once all its children have been yielded. With ``dep_only`` only nodes
    that depend on the independent variables are visited.
    """
    child_counts: dict[Num, int] = {}
    stack = [end]
    while stack:
        node = stack.pop()
        if node in child_counts:
            child_counts[node] += 1
        else:
            child_counts[node] = 1
            stack.extend(p for p in node.parents if p.dep or not dep_only)
    ready = [end]
    while ready:
        node = ready.pop()
        yield node
        for p in node.parents:
            if dep_only and not p.dep:
                continue
            if child_counts[p] == 1:
                ready.append(p)
            else:
                child_counts[p] -= 1


def backward(output: Num, inputs: Sequence[Num], counter: Counter,
             phase: str = "backward", discarded: dict[str, int] | None = None) -> list[Num]:
    """The adjoints ∂output/∂input for every input, computed by the reverse sweep.

    Every op of the sweep is counted in ``counter`` under ``(phase, None, op.name)``
    where ``op`` is the forward op whose rule ran. An input the output does not depend
    on gets a constant 0 (no op). When ``discarded`` is given, it receives, per op
    kind, how many contributions a rule computed for an operand that needs no adjoint
    (a constant) with ops of their own, and that were thrown away: none since one-sided
    rules run for constant operands (the count stays as a check). Raises
    :class:`DifferentiationError` for an op whose rule is missing and for a value that
    depends on the variables but was computed outside :func:`~cheapgrad.core.number.tracing`
    (its circuit is unknown).
    """
    if not isinstance(output, Num):
        raise DifferentiationError(
            f"the function must return a counted number, got {type(output).__name__}")

    def charge(node: Num, stage: str) -> AbstractContextManager[None]:
        assert node.op is not None
        return counter.scope(phase, None, node.op.name)

    return sweep(output, inputs, charge, discarded)


#: How :func:`sweep` counts one node's work: ``charge(node, stage)`` is the context in
#: which the node's rule runs (stage ``"rule"``) and then its contributions are summed
#: into its operands' adjoints (stage ``"accumulate"``).
Charge = Callable[[Num, str], AbstractContextManager[None]]


def sweep(output: Num, inputs: Sequence[Num], charge: Charge,
          discarded: dict[str, int] | None = None,
          rank: Callable[[Num], int] | None = None) -> list[Num]:
    """The reverse sweep itself, for :func:`backward` and for every sweep that charges
    its ops differently (the scalar engine of array programs, by source line): the same
    walk, rules and accumulation, each node's work counted where ``charge`` says.

    Without ``rank`` a contribution is summed into its operand's adjoint when the walk
    makes it (the first assigned, each later one an ``add`` charged to the node that
    made it: which one is "later" is the walk's order). With ``rank`` the contributions
    to a node wait until the walk reaches it and are summed in ``rank`` order of the
    nodes that made them: the lowest-ranked is assigned and every other contribution's
    ``add`` is charged to the node that made it, whatever order the walk took."""
    adjoint: dict[Num, Num] = {}
    if output.dep:
        adjoint[output] = const(1.0)
    return _walk(adjoint, toposort(output) if output.dep else (), inputs, charge, discarded,
                 rank)


def backward_many(seeds: Sequence[tuple[Num, Num]], inputs: Sequence[Num], counter: Counter,
                  phase: str = "backward") -> list[Num]:
    """The adjoints of ``Σ wₖ·outputₖ`` for ``seeds = [(outputₖ, wₖ), ...]`` (wₖ counted
    numbers, a zero included: a dense sweep propagates it), in one reverse sweep over
    the circuit of every output, counted as :func:`backward` counts.

    >>> from cheapgrad.core.number import tracing, var
    >>> x, y = var(3.0), var(4.0)
    >>> with tracing():
    ...     f, g = x * y, x + y
    >>> c = Counter()
    >>> [a.v for a in backward_many([(f, const(1.0)), (g, const(0.0))], [x, y], c)]
    [4.0, 3.0]
    >>> c.totals().nonzero()
    {'add': 2, 'mul': 2}
    """
    adjoint: dict[Num, Num] = {}
    with counter.scope(phase, "accumulate", "seed"):  # an output seeded twice: one add
        for out, w in seeds:
            if out.dep:
                previous = adjoint.get(out)
                adjoint[out] = w if previous is None else previous + w
    order = dep_order([out for out, _ in seeds])
    order.reverse()

    def charge(node: Num, stage: str) -> AbstractContextManager[None]:
        assert node.op is not None
        return counter.scope(phase, None, node.op.name)

    return _walk(adjoint, order, inputs, charge)


def dep_order(outputs: Sequence[Num]) -> list[Num]:
    """The nodes the ``outputs`` depend on through the variables (``dep``), operands
    before results: one topological order for several outputs, found without recursion.

    >>> from cheapgrad.core.number import tracing, var
    >>> x = var(2.0)
    >>> with tracing():
    ...     y, z = x * x, x + 1.0
    >>> [n.op.name if n.op else "x" for n in dep_order([y, z])]
    ['x', 'mul', 'add']
    """
    order: list[Num] = []
    done: set[Num] = set()
    for out in outputs:
        if not out.dep or out in done:
            continue
        stack: list[tuple[Num, bool]] = [(out, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if node in done:
                continue
            done.add(node)
            stack.append((node, True))
            stack.extend((p, False) for p in reversed(node.parents) if p.dep and p not in done)
    return order


def _walk(adjoint: dict[Num, Num], nodes: Iterable[Num], inputs: Sequence[Num],
          charge: Charge, discarded: dict[str, int] | None = None,
          rank: Callable[[Num], int] | None = None) -> list[Num]:
    """The loop of every reverse sweep: ``nodes`` results before operands, each node's
    adjoint (from ``adjoint``, seeded) pushed to its operands by its rule (summed at
    once, or with ``rank`` when the walk reaches the operand: see :func:`sweep`)."""
    input_set = set(inputs)
    leaves: dict[Num, Num] = {}
    pending: dict[Num, list[tuple[int, Num, Num]]] = {}
    for node in nodes:
        waiting = pending.pop(node, None)
        if waiting:
            waiting.sort(key=lambda w: w[0])  # stable: a node's own contributions in order
            total = waiting[0][2]
            for _, who, c in waiting[1:]:
                with charge(who, "accumulate"):
                    total = total + c
            adjoint[node] = total
        g = adjoint.pop(node, None)
        if g is None:  # every rule gave it no contribution (e.g. x**0): a zero adjoint
            continue
        op = node.op
        if op is None:
            if node not in input_set:
                raise DifferentiationError(
                    "the output depends on a value whose circuit was not recorded: a "
                    "variable that is not an input, or a result computed outside tracing()")
            leaves[node] = g
            continue
        if op.vjp is None:
            raise DifferentiationError(
                f"op '{op.name}' has no derivative rule: the function is not differentiable "
                "through it (comparisons and branches have no derivative)")
        parents = node.parents
        rule = op.vjp if len(parents) != 2 else rule_for(op, (parents[0].dep, parents[1].dep))
        assert rule is not None
        with charge(node, "rule"):
            contributions = rule(g, node, *parents)
        with charge(node, "accumulate"):
            for parent, c in zip(parents, contributions, strict=True):
                if c is None:
                    continue
                if not parent.dep:
                    if discarded is not None and c is not g:
                        discarded[op.name] = discarded.get(op.name, 0) + 1
                    continue
                if rank is not None:
                    pending.setdefault(parent, []).append((rank(node), node, c))
                    continue
                previous = adjoint.get(parent)
                adjoint[parent] = c if previous is None else previous + c
    return [leaves.get(x, const(0.0)) for x in inputs]


def circuit_nodes(output: Num) -> list[Num]:
    """Every value of the recorded circuit (inputs, constants and op results), in an
    order in which they can be computed (operands before results)."""
    order = list(toposort(output, dep_only=False))
    order.reverse()
    return order


def memory(output: Num, inputs: Sequence[Num]) -> dict[str, int]:
    """Values held by reverse mode against the values a forward pass alone needs.

    ``tape``: values of the recorded circuit that reverse mode keeps until its sweep
    (every op result, constant operand and input reachable from the output).
    ``ops``: recorded op results among them. ``forward_peak``: the most values alive at
    once when the same circuit is evaluated forward in a topological order, the inputs
    held throughout and every other value dropped after its last use.
    """
    order = circuit_nodes(output)
    input_set = set(inputs)
    last_use: dict[Num, int] = {}
    for i, node in enumerate(order):
        for p in node.parents:
            last_use[p] = i
    releases: dict[int, int] = {}
    for node, i in last_use.items():
        if node not in input_set and node is not output:
            releases[i] = releases.get(i, 0) + 1
    live = len(input_set)
    peak = live
    for i, node in enumerate(order):
        if node not in input_set:
            live += 1
            peak = max(peak, live)
        live -= releases.get(i, 0)
    n_ops = sum(1 for node in order if node.op is not None)
    tape = len(order) + len(input_set - set(order))
    return {"tape": tape, "ops": n_ops, "forward_peak": peak}
