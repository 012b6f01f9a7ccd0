"""The op table is complete: every op states every attribute, a missing weight is an
error (never a free op), the hot path agrees with each op's nonscalar policy, and the
counted functions are generated from the registrations."""

from __future__ import annotations

import ast
import itertools
import math
import subprocess
import sys
from pathlib import Path

import pytest

import cheapgrad
from cheapgrad.analysis import weights
from cheapgrad.analysis.weights import (
    DEFAULT_WEIGHTS,
    FETCHES,
    MOVES,
    MissingWeightError,
    per_op_bound,
    weighted_cost,
    weights_with_defaults,
)
from cheapgrad.core import functions, ops
from cheapgrad.core.counter import Counter, OpCounts
from cheapgrad.core.number import apply, const, var

POLICIES = (ops.never, ops.if_both_depend, ops.if_divisor_depends, ops.by_repeated_squaring)
CORE = Path(ops.__file__).parent


@pytest.mark.parametrize("op", ops.OP_LIST, ids=lambda o: o.name)
def test_every_op_states_every_attribute(op: ops.Op) -> None:
    assert ops.OPS[op.name] is op and ops.OP_LIST[op.index] is op
    assert op.arity in (1, 2)
    assert callable(op.forward)
    assert op.cost_class in ops.COST_CLASSES
    # A rule is a function, or None on purpose: the op then has no derivative at all.
    assert (op.vjp is None) == (op.jvp is None), op.name
    assert op.vjp is None or callable(op.vjp)
    assert op.jvp is None or callable(op.jvp)
    if op.vjp is None:
        assert op.cost_class == "compare", f"{op.name} has no derivative rule"
    assert isinstance(op.weight, float) and 0 <= op.weight < math.inf
    assert op.nonscalar in POLICIES
    assert op.stores in (0, 1) and op.fetches == op.arity
    assert op.moves == op.arity + op.stores
    assert op.summary


def test_the_cost_models_read_weights_and_moves_from_the_table() -> None:
    assert {op.name: op.weight for op in ops.OP_LIST} == DEFAULT_WEIGHTS
    assert list(DEFAULT_WEIGHTS) == list(ops.OP_NAMES)
    assert {op.name: float(op.moves) for op in ops.OP_LIST} == MOVES
    assert {op.name: float(op.arity) for op in ops.OP_LIST} == FETCHES
    assert ops.NONSCALAR_KINDS == ("mul", "div", "pow")


def test_a_registration_without_a_weight_or_a_policy_fails_before_it_registers() -> None:
    before = list(ops.OP_LIST)
    common = dict(arity=1, cost_class="elementary", forward=math.atan, vjp=None, jvp=None,
                  stores=1, nonscalar=ops.never, summary="arc tangent")
    with pytest.raises(TypeError, match="weight"):
        ops._register("atan", **common)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'atan': weight"):
        ops._register("atan", **common, weight=None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="'atan': weight"):
        ops._register("atan", **common, weight=-1.0)  # type: ignore[arg-type]
    without_policy = {k: v for k, v in common.items() if k != "nonscalar"}
    with pytest.raises(TypeError, match="nonscalar"):
        ops._register("atan", **without_policy, weight=10.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="registered twice"):
        ops._register("sin", **common, weight=10.0)  # type: ignore[arg-type]
    assert before == ops.OP_LIST and "atan" not in ops.OPS


def _counts(**kinds: int) -> OpCounts:
    zero = OpCounts.zero()
    return OpCounts({k: kinds.get(k, 0) for k in zero.counts}, dict(zero.nonscalar))


def test_a_kind_that_was_executed_without_a_weight_is_an_error_not_free() -> None:
    counts = _counts(add=2, mul=3)
    assert weighted_cost(counts, {"add": 1.0, "mul": 2.0}) == 8.0  # unused kinds need none
    with pytest.raises(MissingWeightError, match="op 'mul' has no weight") as err:
        weighted_cost(counts, {"add": 1.0})
    assert err.value.kind == "mul"
    with pytest.raises(MissingWeightError, match="'div'"):
        per_op_bound({k: w for k, w in DEFAULT_WEIGHTS.items() if k != "div"})


def test_partial_spec_weights_still_merge_with_the_defaults() -> None:
    w = weights_with_defaults({"mul": 3, "tanh": 20.0})
    assert w == {**DEFAULT_WEIGHTS, "mul": 3.0, "tanh": 20.0}
    assert weights_with_defaults(None) == DEFAULT_WEIGHTS
    with pytest.raises(ValueError, match="unknown op kind 'mull'"):
        weights_with_defaults({"mull": 1.0})


def test_only_an_op_with_no_weight_anywhere_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    partial = {k: w for k, w in DEFAULT_WEIGHTS.items() if k != "tanh"}
    monkeypatch.setattr(weights, "DEFAULT_WEIGHTS", partial)
    with pytest.raises(MissingWeightError, match="op 'tanh' has no weight"):
        weights_with_defaults(None)
    with pytest.raises(MissingWeightError, match="'tanh'"):
        weights_with_defaults({"mul": 2.0})
    assert weights_with_defaults({"tanh": 7.0})["tanh"] == 7.0  # the spec gives it one


def _nonscalar_tally(fn) -> int:  # type: ignore[no-untyped-def]
    c = Counter()
    with c.scope("probe"):
        fn()
    return sum(c.totals().nonscalar.values())


# The written-out operator methods of Num, each with the op it executes.
HOT = {
    "add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
    "div": lambda a, b: a / b, "neg": lambda a, b: -a, "cmp": lambda a, b: a > b,
}


@pytest.mark.parametrize("name", HOT)
@pytest.mark.parametrize("deps", list(itertools.product((False, True), repeat=2)))
def test_the_hot_path_follows_each_ops_nonscalar_policy(name: str,
                                                        deps: tuple[bool, bool]) -> None:
    op = ops.OPS[name]
    args = [var(v) if d else const(v) for v, d in zip((1.5, -2.5), deps)][: op.arity]
    expected = op.nonscalar(args)
    hot = _nonscalar_tally(lambda: HOT[name](*args, *[None] * (2 - op.arity)))
    assert hot == expected, (name, deps)
    if op.vjp is not None:  # the generic path reads the same policy
        assert _nonscalar_tally(lambda: apply(op, *args)) == expected


@pytest.mark.parametrize(("n", "dep", "expected"), [(5, True, 3), (-2, True, 2),
                                                     (5, False, 0)])
def test_pow_follows_its_policy(n: int, dep: bool, expected: int) -> None:
    x = var(1.1) if dep else const(1.1)
    assert ops.POW.nonscalar([x, const(n)]) == expected
    assert _nonscalar_tally(lambda: x**n) == expected


@pytest.mark.parametrize("name", ops.FUNCTIONS)
def test_counted_functions_are_generated_from_the_registrations(name: str) -> None:
    fn = getattr(functions, name)
    op = ops.FUNCTIONS[name]
    assert fn.__name__ == name and fn.__module__ == "cheapgrad.core.functions"
    assert fn.__doc__ is not None and op.summary in fn.__doc__ and ">>>" in fn.__doc__
    assert getattr(cheapgrad, name) is fn
    c = Counter()
    with c.scope("forward"):
        y = fn(var(0.6))
    assert y.v == op.forward(0.6) and c.totals().nonzero() == {name: 1}


def _cheapgrad_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "cheapgrad.core":  # from cheapgrad.core import ops as _ops
                found.discard(node.module)
                found.update(f"cheapgrad.core.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("cheapgrad")}


def test_the_core_imports_form_no_cycle() -> None:
    # The table imports nothing (its rules apply an elementary function through the
    # operand); the per-thread state on the table; the number on both; the counter on
    # the table and the state.
    assert _cheapgrad_imports(CORE / "ops.py") == set()
    assert _cheapgrad_imports(CORE / "state.py") == {"cheapgrad.core.ops", "cheapgrad.errors"}
    assert _cheapgrad_imports(CORE / "number.py") == {"cheapgrad.core.ops", "cheapgrad.core.state",
                                                      "cheapgrad.errors"}
    assert _cheapgrad_imports(CORE / "counter.py") == {"cheapgrad.core.state",
                                                       "cheapgrad.core.ops"}
    code = ("import sys, cheapgrad.core.ops;"
            "assert 'cheapgrad.core.number' not in sys.modules;"
            "import cheapgrad.core.tape, cheapgrad.core.forward, cheapgrad.core.counter;"
            "sys.exit(1 if {'click', 'rich'} & set(sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_no_core_module_is_over_400_lines() -> None:
    for path in CORE.glob("*.py"):
        assert len(path.read_text("utf-8").splitlines()) <= 400, path.name
