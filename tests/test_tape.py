"""Generic reverse mode over the traced circuit: order, counts, errors, memory, and
forward mode on the same circuit."""

from __future__ import annotations

import math
from typing import Any

import pytest

from cheapgrad.core import forward as forward_mode
from cheapgrad.core.counter import Counter
from cheapgrad.core.functions import sin
from cheapgrad.core.number import Num, const, tracing, var
from cheapgrad.core.tape import DifferentiationError, backward, circuit_nodes, memory, toposort


def _trace(f, *values: float) -> tuple[Num, list[Num], Counter]:  # noqa: ANN001
    xs = [var(v) for v in values]
    c = Counter()
    with tracing(), c.scope("forward"):
        out = f(*xs)
    return out, xs, c


def test_toposort_puts_every_node_after_its_users() -> None:
    out, xs, _ = _trace(lambda x, y: (x * y + sin(x)) * (x - y), 0.3, 0.8)
    order = list(toposort(out))
    assert order[0] is out
    position = {node: i for i, node in enumerate(order)}
    for node in order:
        for p in node.parents:
            if p.dep:
                assert position[p] > position[node]
    assert set(xs) <= set(order)
    assert len(order) == len(set(order))


def test_long_chain_needs_no_recursion() -> None:
    n = 60_000
    x = var(1.0)
    c = Counter()
    with tracing(), c.scope("forward"):
        s = x
        for _ in range(n):
            s = s + x
    (g,) = backward(s, [x], c)
    assert g.v == n + 1
    # add's rule costs nothing; x receives n + 1 contributions: n adds.
    assert c.totals("backward").nonzero() == {"add": n}


def test_counts_seed_assign_and_accumulate() -> None:
    out, (x,), c = _trace(lambda x: x * x, 3.0)
    (g,) = backward(out, [x], c)
    assert g.v == 6.0
    # the seed 1 is a constant (no op); g*x twice, then one add for the second use.
    assert c.totals("backward").nonzero() == {"add": 1, "mul": 2}
    assert c.totals("backward", part="mul").nonzero() == {"add": 1, "mul": 2}


def test_product_costs_two_muls_per_mul() -> None:
    def prod(*xs: Num) -> Num:
        p = xs[0]
        for v in xs[1:]:
            p = p * v
        return p

    values = [1.1, 0.9, 1.3, 0.7, 1.2]
    out, xs, c = _trace(prod, *values)
    grads = [g.v for g in backward(out, xs, c)]
    total = math.prod(values)
    for v, g in zip(values, grads, strict=True):
        assert math.isclose(g, total / v, rel_tol=1e-12)
    assert c.totals("forward").nonzero() == {"mul": 4}
    assert c.totals("backward").nonzero() == {"mul": 8}


def test_input_the_output_does_not_use_gets_zero() -> None:
    out, (x, y), c = _trace(lambda x, y: x * 2.0, 1.0, 5.0)
    gx, gy = backward(out, [x, y], c)
    assert (gx.v, gy.v) == (2.0, 0.0)


def test_output_equal_to_an_input() -> None:
    out, (x,), c = _trace(lambda x: x, 4.0)
    assert backward(out, [x], c)[0].v == 1.0
    assert c.totals().total == 0


def test_constant_operands_get_no_adjoint_computed() -> None:
    out, (x,), c = _trace(lambda x: x * 3.0, 2.0)
    thrown: dict[str, int] = {}
    (g,) = backward(out, [x], c, discarded=thrown)
    assert g.v == 3.0
    assert thrown == {}  # the one-sided rule computes g*3 only, not g*x for the constant
    assert c.totals("backward").nonzero() == {"mul": 1}


@pytest.mark.parametrize(("fn", "expected"), [
    (lambda x: 3.0 / x, {"div": 1, "mul": 1, "neg": 1}),
    (lambda x: x / 3.0, {"div": 1}),
    (lambda x: 3.0 - x, {"neg": 1}),
    (lambda x: x - 3.0, {}),
])
def test_one_sided_rules(fn: Any, expected: dict[str, int]) -> None:
    out, (x,), c = _trace(fn, 2.0)
    (g,) = backward(out, [x], c)
    assert c.totals("backward").nonzero() == expected
    assert abs(g.v - (fn(2.0 + 1e-6) - fn(2.0 - 1e-6)) / 2e-6) < 1e-6


def test_untraced_value_is_an_error() -> None:
    x = var(1.0)
    y = x * x  # not traced: no circuit
    with pytest.raises(DifferentiationError, match="not recorded"):
        backward(y, [x], Counter())
    other = var(2.0)
    with tracing():
        z = x * other
    with pytest.raises(DifferentiationError, match="not an input"):
        backward(z, [x], Counter())


def test_non_number_output_is_an_error() -> None:
    with pytest.raises(DifferentiationError, match="counted number"):
        backward(3.0, [var(1.0)], Counter())  # type: ignore[arg-type]


def test_memory_of_a_chain() -> None:
    n = 50

    def prod(*xs: Num) -> Num:
        p = xs[0]
        for v in xs[1:]:
            p = p * v
        return p

    out, xs, _ = _trace(prod, *([1.01] * n))
    m = memory(out, xs)
    assert m["ops"] == n - 1
    assert m["tape"] == 2 * n - 1
    # The inputs, plus the running product and the next one.
    assert m["forward_peak"] == n + 2
    assert len(circuit_nodes(out)) == 2 * n - 1


def test_forward_mode_one_pass_per_input() -> None:
    out, xs, c = _trace(lambda x, y, z: x * y * z + const(2.0) * x, 1.5, -2.0, 0.5)
    rev = [g.v for g in backward(out, xs, c)]
    fc = Counter()
    fwd = [t.v for t in forward_mode.gradient(out, xs, fc)]
    assert fwd == pytest.approx(rev, rel=1e-14)
    assert sorted({layer for (_, layer, _) in fc.buckets}) == [0, 1, 2]
    # Each pass recomputes f (x·y·z + 2·x: three muls and an add) before its tangent.
    assert fc.totals(part="value").total == 3 * c.totals("forward").total
