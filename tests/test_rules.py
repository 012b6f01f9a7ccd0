"""Every op's derivative rules against central differences (autograd's check_grads,
both modes, first and second order)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cheapgrad.core import forward as forward_mode
from cheapgrad.core import ops
from cheapgrad.core.counter import Counter
from cheapgrad.core.number import apply, tracing, var
from cheapgrad.core.tape import DifferentiationError, backward

# Points inside each op's domain, away from singularities.
POINTS = {
    "add": (0.7, -1.3), "sub": (0.7, -1.3), "mul": (0.7, -1.3), "div": (0.7, -1.3),
    "neg": (0.4,), "exp": (0.4,), "log": (1.7,), "tanh": (0.4,), "sin": (0.9,),
    "cos": (0.9,), "sqrt": (1.7,), "h": (0.4,), "dh": (0.4,),
}
EXPONENTS = (-3, -1, 0, 1, 2, 5)
DIFFERENTIABLE = [op for op in ops.OP_LIST if op.cost_class != "compare"]


def _point(op: ops.Op) -> tuple[float, ...]:
    """A point inside the op's domain (ops added later default to 0.6, 1.1, ...)."""
    return POINTS.get(op.name, tuple(0.6 + 0.5 * i for i in range(op.arity)))


def _fd(f, xs: tuple[float, ...], i: int, eps: float = 1e-6) -> float:
    plus, minus = list(xs), list(xs)
    plus[i] += eps
    minus[i] -= eps
    return (f(*plus) - f(*minus)) / (2 * eps)


def _close(a: float, b: float, tol: float = 1e-6) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def test_every_op_but_comparisons_has_both_rules() -> None:
    for op in ops.OP_LIST:
        if op.cost_class == "compare":
            assert op.vjp is None and op.jvp is None
        else:
            assert op.vjp is not None, op.name
            assert op.jvp is not None, op.name


@pytest.mark.parametrize("op", [o for o in DIFFERENTIABLE if o.name != "pow"],
                         ids=lambda o: o.name)
def test_rules_match_central_differences(op: ops.Op) -> None:
    xs = _point(op)
    inputs = [var(v) for v in xs]
    with tracing():
        out = apply(op, *inputs)
    rev = [g.v for g in backward(out, inputs, Counter())]
    fwd = [t.v for t in forward_mode.gradient(out, inputs, Counter())]
    for i in range(len(xs)):
        fd = _fd(op.forward, xs, i)
        assert _close(rev[i], fd), (op.name, i, rev[i], fd)
        assert _close(fwd[i], fd), (op.name, i, fwd[i], fd)


@pytest.mark.parametrize("k", EXPONENTS)
def test_integer_power_rules(k: int) -> None:
    x = var(0.8)
    with tracing():
        out = x ** k
    assert out.op is ops.POW
    rev = backward(out, [x], Counter())[0].v
    fwd = forward_mode.gradient(out, [x], Counter())[0].v
    fd = _fd(lambda a: a ** k, (0.8,), 0)
    assert _close(rev, fd) and _close(fwd, fd)


@pytest.mark.parametrize("op", [o for o in DIFFERENTIABLE if o.arity == 1],
                         ids=lambda o: o.name)
def test_second_derivative_by_differentiating_the_sweep(op: ops.Op) -> None:
    # The rules run on counted numbers, so tracing the reverse sweep records its
    # circuit and reverse mode applies again (autograd's check_grads order 2).
    a = _point(op)[0]
    x = var(a)
    with tracing():
        out = apply(op, x)
        (g,) = backward(out, [x], Counter())
    second = backward(g, [x], Counter())[0].v if g.dep else 0.0

    def first(v: float) -> float:
        y = var(v)
        with tracing():
            o = apply(op, y)
        return backward(o, [y], Counter())[0].v

    assert _close(second, _fd(first, (a,), 0, 1e-5), 1e-5), op.name


def test_reverse_counts_of_the_basic_rules() -> None:
    # One mul: two muls backward; one div: div, mul and neg; sub: one neg.
    expected = {"mul": {"mul": 2}, "div": {"div": 1, "mul": 1, "neg": 1},
                "sub": {"neg": 1}, "add": {}, "exp": {"mul": 1},
                "tanh": {"mul": 2, "sub": 1}, "cos": {"sin": 1, "mul": 1, "neg": 1}}
    for name, counts in expected.items():
        op = ops.OPS[name]
        inputs = [var(v) for v in POINTS[name]]
        with tracing():
            out = apply(op, *inputs)
        c = Counter()
        backward(out, inputs, c)
        assert c.totals("backward", part=name).nonzero() == counts, name


def test_comparison_has_no_derivative() -> None:
    x, y = var(1.0), var(2.0)
    with tracing():
        out = apply(ops.CMP, x, y) * x
    with pytest.raises(DifferentiationError, match="'cmp' has no derivative rule"):
        backward(out, [x, y], Counter())
    with pytest.raises(DifferentiationError, match="'cmp' has no derivative rule"):
        forward_mode.gradient(out, [x, y], Counter())


def test_composite_matches_numpy_and_both_modes_agree() -> None:
    rng = np.random.default_rng(3)
    vals = rng.uniform(0.5, 1.5, 3)

    def f(a, b, c):  # noqa: ANN001, ANN202 - works on floats and counted numbers
        return (a * b - c) / (1.0 + a * a) + b ** 3 * c

    inputs = [var(v) for v in vals]
    with tracing():
        out = f(*inputs)
    rev = [g.v for g in backward(out, inputs, Counter())]
    fwd = [t.v for t in forward_mode.gradient(out, inputs, Counter())]
    for i in range(3):
        fd = _fd(f, tuple(vals), i)
        assert _close(rev[i], fd) and _close(fwd[i], fd)
        assert math.isclose(rev[i], fwd[i], rel_tol=1e-12)


def test_pow_zero_has_a_zero_derivative_even_at_zero() -> None:
    from cheapgrad.api import grad

    r = grad(lambda x, y: x**0 * y + x)(0.0, 2.0)
    assert r.value == 2.0
    assert r.gradient_dict == {"x": 1.0, "y": 1.0}
    assert r.passed
