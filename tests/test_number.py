"""The counted number, op by op: every op counts exactly one of its kind."""

from __future__ import annotations

import math

import pytest

from cheapgrad.core.counter import Counter
from cheapgrad.core.functions import cos, exp, log, sin, sqrt, tanh
from cheapgrad.core.number import Num, const, tracing, var
from cheapgrad.errors import DomainError


def counted(fn):  # type: ignore[no-untyped-def]
    """Run fn() in a fresh counter; return (result, nonzero counts, nonscalar)."""
    c = Counter()
    with c.scope("forward"):
        out = fn()
    t = c.totals()
    return out, t.nonzero(), t.nonscalar


X, Y = 3.0, -1.5


@pytest.mark.parametrize(
    ("fn", "kind", "expected"),
    [
        (lambda x, y: x + y, "add", X + Y),
        (lambda x, y: x - y, "sub", X - Y),
        (lambda x, y: x * y, "mul", X * Y),
        (lambda x, y: x / y, "div", X / Y),
        (lambda x, y: -x, "neg", -X),
        (lambda x, y: exp(y), "exp", math.exp(Y)),
        (lambda x, y: log(x), "log", math.log(X)),
        (lambda x, y: tanh(y), "tanh", math.tanh(Y)),
        (lambda x, y: sin(x), "sin", math.sin(X)),
        (lambda x, y: cos(x), "cos", math.cos(X)),
        (lambda x, y: sqrt(x), "sqrt", math.sqrt(X)),
        (lambda x, y: x**3, "pow", X**3),
    ],
)
def test_each_op_counts_one_of_its_kind(fn, kind, expected):  # type: ignore[no-untyped-def]
    x, y = var(X), var(Y)
    out, counts, _ = counted(lambda: fn(x, y))
    assert counts == {kind: 1}
    assert isinstance(out, Num)
    assert out.v == pytest.approx(expected, rel=1e-15)


@pytest.mark.parametrize(
    ("fn", "kind", "expected"),
    [
        (lambda x: 2 + x, "add", 2 + X),
        (lambda x: x + 2, "add", X + 2),
        (lambda x: 1.0 - x, "sub", 1.0 - X),
        (lambda x: x - 1.0, "sub", X - 1.0),
        (lambda x: 2 * x, "mul", 2 * X),
        (lambda x: x * 2, "mul", X * 2),
        (lambda x: 1 / x, "div", 1 / X),
        (lambda x: x / 4, "div", X / 4),
    ],
)
def test_mixed_arithmetic_with_python_numbers_counts(fn, kind, expected):  # type: ignore[no-untyped-def]
    out, counts, _ = counted(lambda: fn(var(X)))
    assert counts == {kind: 1}
    assert out.v == expected


def test_comparisons_count_cmp_and_return_bool():
    x = var(X)
    out, counts, _ = counted(lambda: [x > 0, x < 0, x >= 3.0, x <= 2.0])
    assert out == [True, False, True, False]
    assert counts == {"cmp": 4}


def test_sub_div_neg_are_real_ops_not_built_from_others():
    x, y = var(X), var(Y)
    _, counts, _ = counted(lambda: (x - y, x / y, -x))
    assert counts == {"sub": 1, "div": 1, "neg": 1}


def test_a_small_expression_counts_every_op():
    x = var(3.0)
    out, counts, _ = counted(lambda: 2 * x * x - 1.0)
    assert out.v == 17.0
    assert counts == {"mul": 2, "sub": 1}


def test_dependence_is_tracked_exactly():
    x, c = var(2.0), const(5.0)
    assert x.dep and not c.dep
    assert (x * c).dep and (c + x).dep
    assert not (c * c).dep and not (c - 1.0).dep
    assert not Num(1.0).dep and Num(1.0, dep=True).dep


def test_nonscalar_products_of_two_dependent_values_and_quotients_by_one():
    x, y, c = var(X), var(Y), const(2.0)
    _, counts, ns = counted(lambda: (x * y, x * c, 3 * x, x / y, x / c, c / c, c * c, c / x,
                                     1 / y))
    assert counts == {"mul": 4, "div": 5}
    assert ns == {"mul": 1, "div": 3, "pow": 0}


@pytest.mark.parametrize(("n", "nonscalar"), [(0, 0), (1, 0), (2, 1), (3, 2), (4, 2), (5, 3),
                                              (8, 3), (15, 6), (-1, 1), (-2, 2), (-3, 3)])
def test_integer_powers_are_nonscalar_by_repeated_squaring(n: int, nonscalar: int) -> None:
    # x**15: x², x³ (x²·x), x⁶, x⁷, x¹⁴, x¹⁵ is 6 multiplications; a negative power adds
    # the division 1/x^|n|. A constant base costs nothing nonscalar.
    x, c = var(1.1), const(1.1)
    _, counts, ns = counted(lambda: x**n)
    assert counts == {"pow": 1} and ns["pow"] == nonscalar
    _, _, ns_const = counted(lambda: c**n)
    assert ns_const["pow"] == 0


def test_scopes_keep_separate_buckets_and_restore_on_exit():
    c = Counter()
    x = var(1.0)
    with c.scope("forward", 1, "matvec"):
        x * x
        with c.scope("backward", 2, "grad"):
            x + x
            x + x
        x * x
    assert c.totals(phase="forward").nonzero() == {"mul": 2}
    assert c.totals(phase="backward").nonzero() == {"add": 2}
    assert c.totals(layer=2).nonzero() == {"add": 2}
    assert c.totals(part="matvec").nonzero() == {"mul": 2}
    assert c.keys() == [("forward", 1, "matvec"), ("backward", 2, "grad")]


def test_ops_outside_any_scope_are_not_counted_and_runs_do_not_mix():
    x = var(1.0)
    first, second = Counter(), Counter()
    with first.scope("forward"):
        x * x
    x * x * x  # outside any scope
    with second.scope("forward"):
        x + x
    assert first.totals().nonzero() == {"mul": 1}
    assert second.totals().nonzero() == {"add": 1}


def test_scope_restores_after_an_exception():
    c = Counter()
    x = var(1.0)
    with pytest.raises(RuntimeError), c.scope("forward"):
        raise RuntimeError("boom")
    x * x
    assert c.totals().total == 0


def test_division_by_zero_and_domain_errors_are_clear():
    x, zero = var(1.0), const(0.0)
    with pytest.raises(DomainError, match="division by zero"):
        x / zero
    with pytest.raises(DomainError, match="log"):
        log(const(-1.0))
    with pytest.raises(DomainError, match="sqrt"):
        sqrt(const(-4.0))
    with pytest.raises(DomainError, match="exp"):
        exp(const(1e6))


def test_pow_needs_a_constant_integer_exponent():
    x = var(2.0)
    with pytest.raises(TypeError):
        x**0.5
    with pytest.raises(TypeError):
        x ** var(2.0)
    assert (x**-2).v == 0.25


def test_non_numbers_are_rejected_in_counted_arithmetic():
    with pytest.raises(TypeError):
        var(1.0) + "1"  # type: ignore[operator]
    with pytest.raises(TypeError):
        var(1.0) * True


def test_tracing_records_op_and_parents_only_inside_the_block():
    x, y = var(2.0), var(3.0)
    plain = x * y
    assert plain.op is None and plain.parents == ()
    with tracing():
        traced = x * y + 1.0
        with tracing():  # nested: the outer block still traces after the inner one
            pass
        still = x - y
    after = x * y
    assert after.op is None and after.parents == ()
    assert still.op is not None and still.op.name == "sub" and still.parents == (x, y)
    assert traced.op is not None and traced.op.name == "add"
    prod = traced.parents[0]
    assert prod.op is not None and prod.op.name == "mul"
    assert prod.parents == (x, y)


def test_powers_and_elementary_functions_do_not_take_the_generic_path(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from cheapgrad.core import number

    def generic(*args: object) -> None:
        raise AssertionError("the generic apply path was taken")

    monkeypatch.setattr(number, "apply", generic)
    x = var(0.4)
    out, counts, nonscalar = counted(lambda: tanh(x) + exp(x) + log(x) + sin(x) + cos(x)
                                     + sqrt(x) + x**2 + x**-3)
    assert counts == {"add": 7, "exp": 1, "log": 1, "tanh": 1, "sin": 1, "cos": 1,
                      "sqrt": 1, "pow": 2}
    assert nonscalar["pow"] == 1 + 3


@pytest.mark.parametrize("n", [-3, -1, 0, 1, 2, 3, 7, 64])
@pytest.mark.parametrize("dep", [True, False])
def test_the_written_out_power_matches_the_generic_path(n: int, dep: bool) -> None:
    from cheapgrad.core.number import apply
    from cheapgrad.core.ops import POW

    x = var(1.3) if dep else const(1.3)
    fast = counted(lambda: x**n)
    generic = counted(lambda: apply(POW, x, n))
    assert fast[0].v == generic[0].v and fast[0].dep == generic[0].dep
    assert fast[1:] == generic[1:]
    with tracing():
        y, z = x**n, apply(POW, x, n)
    assert y.op is z.op and [p.v for p in y.parents] == [p.v for p in z.parents]


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sin", "cos", "sqrt"])
@pytest.mark.parametrize("v", [-1.0, 0.0, 0.5, 800.0])
def test_the_written_out_functions_match_the_generic_path(name: str, v: float) -> None:
    from cheapgrad.core import functions
    from cheapgrad.core.number import apply
    from cheapgrad.core.ops import OPS

    fn, op = getattr(functions, name), OPS[name]
    try:
        expected = counted(lambda: apply(op, var(v)))
    except DomainError as exc:
        with pytest.raises(DomainError) as info:
            fn(var(v))
        assert str(info.value) == str(exc)
        return
    got = counted(lambda: fn(var(v)))
    assert got[0].v == expected[0].v and got[1:] == expected[1:]
    with tracing():
        assert fn(var(v)).op is op
