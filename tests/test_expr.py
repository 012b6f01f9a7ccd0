"""The whitelist expression parser: valid expressions, hostile ones, limits."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import pytest

import cheapgrad.models.circuits
import cheapgrad.models.expr
from cheapgrad.core.counter import Counter
from cheapgrad.core.number import Num, const, var
from cheapgrad.models.expr import MAX_DEPTH, MAX_EXPONENT, MAX_LENGTH, ExprError, parse


def ev(text: str, **env: float) -> float:
    return parse(text).evaluate({k: var(v) for k, v in env.items()}).v


@pytest.mark.parametrize("text, expected", [
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("2 - 3 - 4", -5.0),
    ("8 / 4 / 2", 1.0),
    ("-x**2", -4.0),
    ("(-x)**2", 4.0),
    ("x**-1", 0.5),
    ("x**(-2)", 0.25),
    ("- - x", 2.0),
    ("2*-x", -4.0),
    ("x ** 3 / x", 4.0),
    (".5e1 + 1.", 6.0),
    ("1E-3 * 1000", 1.0),
    ("exp(0) + log(1) + sqrt(x*8) + tanh(0)", 5.0),
    ("sin(0) + cos(0)", 1.0),
    ("  x\n + 1 ", 3.0),
])
def test_valid_expressions(text: str, expected: float) -> None:
    assert math.isclose(ev(text, x=2.0), expected, rel_tol=1e-15)


def test_names_in_order_and_columns() -> None:
    e = parse("b*a + sin(b) - c_2")
    assert e.names == ("b", "a", "c_2")
    assert e.column_of("a") == 3
    assert e.column_of("c_2") == 16


def test_every_op_is_counted_once() -> None:
    c = Counter()
    env = {"x": var(1.5), "y": var(-0.3), "z": var(2.0)}
    with c.scope("forward"):
        parse("x*y + sin(z) / (1 + exp(-x)) - y**2").evaluate(env)
    assert c.totals().nonzero() == {"add": 2, "sub": 1, "mul": 1, "div": 1, "neg": 1,
                                    "exp": 1, "sin": 1, "pow": 1}


def test_long_sum_evaluates_without_recursion() -> None:
    n = 4000
    text = "+".join(["x"] * n)
    assert len(text) <= MAX_LENGTH
    assert ev(text, x=1.0) == n


def test_unknown_name_at_evaluation_has_column() -> None:
    with pytest.raises(ExprError) as info:
        parse("x + yy").evaluate({"x": const(1.0)})
    assert info.value.column == 5
    assert "unknown name 'yy'" in str(info.value)


@pytest.mark.parametrize("text, column, words", [
    ("__import__('os')", 12, "quotes"),
    ("__import__(x)", 1, "unknown function '__import__'"),
    ("x.__class__", 2, "attribute access"),
    ("os.system(x)", 3, "attribute access"),
    ("lambda: 1", 1, "'lambda' is not allowed"),
    ("(lambda x: x)(1)", 2, "'lambda' is not allowed"),
    ("x if y else z", 3, "'if' is not allowed"),
    ("x[0]", 2, "'[' is not allowed"),
    ("{x}", 1, "'{' is not allowed"),
    ("sin(x, y)", 6, "exactly one argument"),
    ("x ^ 2", 3, "'^' is not an operator"),
    ("x == 1", 3, "unexpected character '='"),
    ("x; y", 2, "unexpected character ';'"),
    ("2x", 2, "unexpected name 'x'"),
    ("sin x", 1, "'sin' is a function"),
    ("exp + 1", 1, "'exp' is a function"),
    ("(x + 1", 7, "ends too early"),
    ("x + 1)", 6, "unexpected ')'"),
    ("x *", 4, "ends too early"),
    ("+x", 1, "unary '+'"),
    ("x ** y", 6, "exponent of ** must be an integer"),
    ("x ** 2.5", 6, "exponent of ** must be an integer"),
    ("x ** 1000000000", 6, f"at most {MAX_EXPONENT}"),
    ("9**9**9", 5, "chained powers"),
    ("1e999", 1, "too large"),
    ("x·y", 2, "unexpected character"),
])
def test_hostile_and_invalid_inputs_are_rejected_with_a_column(
        text: str, column: int, words: str) -> None:
    with pytest.raises(ExprError) as info:
        parse(text)
    assert info.value.column == column, str(info.value)
    assert words in str(info.value)


def test_deep_nesting_is_rejected_not_a_recursion_error() -> None:
    ok = "(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    assert ev(ok, x=3.0) == 3.0
    for text in ("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1),
                 "(" * 4000 + "x" + ")" * 4000,
                 "-" * 9000 + "x",
                 "sin(" * 1500 + "x" + ")" * 1500):
        with pytest.raises(ExprError, match="nested more than"):
            parse(text)


def test_length_and_empty_limits() -> None:
    with pytest.raises(ExprError, match="characters long"):
        parse("x+" * MAX_LENGTH + "x")
    with pytest.raises(ExprError, match="empty"):
        parse("   ")
    with pytest.raises(ExprError, match="must be text"):
        parse(3)  # type: ignore[arg-type]


def test_division_by_zero_is_a_domain_error() -> None:
    from cheapgrad.errors import DomainError

    with pytest.raises(DomainError, match="division by zero"):
        ev("1 / (x - x)", x=2.0)


@pytest.mark.parametrize("module", [cheapgrad.models.expr, cheapgrad.models.circuits])
def test_parser_never_calls_eval_exec_or_compile(module: object) -> None:
    tree = ast.parse(Path(module.__file__).read_text("utf-8"))  # type: ignore[attr-defined]
    called = {node.func.id for node in ast.walk(tree)
              if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not called & {"eval", "exec", "compile", "__import__"}
    imported = {alias.name for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    assert "literal_eval" not in imported


def test_result_is_a_counted_number() -> None:
    assert isinstance(parse("2").evaluate({}), Num)
