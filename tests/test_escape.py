"""No silent escape from counting: every way out of the counted world inside a counting
scope is refused with one clear error, and works outside one; abs and c**x are counted;
numpy functions on counted numbers count or refuse; two threads count apart."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from cheapgrad.api import grad
from cheapgrad.core.counter import Counter
from cheapgrad.core.functions import exp, log, tanh
from cheapgrad.core.number import Num, tracing, var
from cheapgrad.core.state import UncountedOperation, counting
from cheapgrad.core.tape import backward
from cheapgrad.errors import CheapgradError, DomainError

ESCAPES: list[tuple[str, Callable[[Num], Any]]] = [
    ("float", float),
    ("math.tanh", math.tanh),
    ("math.exp", math.exp),
    ("math.floor", math.floor),
    ("math.trunc", math.trunc),
    ("int", int),
    ("round", round),
    ("round2", lambda x: round(x, 2)),
    ("truth", bool),
    ("if", lambda x: 1 if x else 0),
    ("format", lambda x: f"{x:.3f}"),
    ("np.float64", np.float64),
    ("np.asarray float", lambda x: np.asarray([x], dtype=float)),
]


@pytest.mark.parametrize(("name", "escape"), ESCAPES, ids=[n for n, _ in ESCAPES])
def test_every_exit_is_refused_inside_a_counter_scope(name: str, escape: Any) -> None:
    x, c = var(0.25), Counter()
    with c.scope("forward"), pytest.raises(UncountedOperation) as info:
        escape(x)
    assert isinstance(info.value, CheapgradError)
    assert "\n" not in str(info.value) and "counted" in str(info.value)


@pytest.mark.parametrize(("name", "escape"), ESCAPES, ids=[n for n, _ in ESCAPES])
def test_every_exit_is_refused_while_tracing(name: str, escape: Any) -> None:
    with tracing(), pytest.raises(UncountedOperation):
        escape(var(0.25))


def test_outside_a_scope_the_value_reads() -> None:
    x = var(0.25)
    assert not counting()
    assert float(x) == 0.25 and math.tanh(x) == math.tanh(0.25) and int(var(2.7)) == 2
    assert round(x, 1) == 0.2 and f"{x:.3f}" == "0.250" and bool(x) and not bool(var(0.0))
    assert f"{x}" == repr(x)


def test_math_tanh_names_the_replacement() -> None:
    with Counter().scope("forward"), pytest.raises(UncountedOperation, match="cheapgrad.tanh"):
        math.tanh(var(0.5))


def test_grad_refuses_a_function_that_leaves_the_counted_world() -> None:
    with pytest.raises(UncountedOperation, match="cheapgrad.tanh"):
        grad(lambda x: x * math.tanh(x))(0.5)  # type: ignore[arg-type]


def test_repr_and_plain_formatting_stay_allowed() -> None:
    with Counter().scope("forward"):
        assert repr(var(1.0)) == "Num(1.0, var)" and f"{var(1.0)}" == "Num(1.0, var)"


def _counted(fn: Callable[[], Any]) -> tuple[Any, dict[str, int]]:
    c = Counter()
    with c.scope("forward"):
        out = fn()
    return out, c.totals().nonzero()


@pytest.mark.parametrize(("v", "counts"), [(-2.0, {"neg": 1, "cmp": 1}), (2.0, {"cmp": 1}),
                                           (0.0, {"cmp": 1})])
def test_abs_is_a_counted_selection(v: float, counts: dict[str, int]) -> None:
    out, got = _counted(lambda: abs(var(v)))
    assert out.v == abs(v) and out.dep and got == counts


@pytest.mark.parametrize(("v", "slope"), [(-2.0, -1.0), (3.0, 1.0)])
def test_abs_differentiates(v: float, slope: float) -> None:
    r = grad(lambda x: abs(x) * x)(v)
    assert r.gradient.tolist() == [pytest.approx(2 * slope * v)] and r.passed


def test_constant_to_a_counted_power_is_exp_of_a_product() -> None:
    out, counts = _counted(lambda: 2.0 ** var(3.0))
    assert out.v == pytest.approx(8.0) and counts == {"mul": 1, "exp": 1, "log": 1}
    r = grad(lambda x: 2 ** x)(3.0)
    assert r.gradient[0] == pytest.approx(8.0 * math.log(2.0)) and r.passed


@pytest.mark.parametrize("c", [0.0, -2.0])
def test_constant_power_needs_a_positive_base(c: float) -> None:
    with pytest.raises(DomainError, match="c > 0"):
        c ** var(1.0)


def test_a_dependent_exponent_says_how_to_write_it() -> None:
    with pytest.raises(TypeError, match=r"exp\(y \* log\(x\)\)"):
        var(2.0) ** var(3.0)


def test_numpy_functions_on_a_counted_number_count() -> None:
    x = var(0.5)
    out, counts = _counted(lambda: np.tanh(x) + np.exp(x) * np.float64(2.0))
    assert isinstance(out, Num) and counts == {"add": 1, "mul": 1, "exp": 1, "tanh": 1}
    assert out.v == pytest.approx(math.tanh(0.5) + 2 * math.exp(0.5))


def test_numpy_functions_on_object_arrays_of_counted_numbers_count() -> None:
    xs = np.array([var(0.1), var(0.2), var(0.3)], dtype=object)
    out, counts = _counted(lambda: np.sum(np.tanh(xs) * 2.0 + np.sqrt(xs)))
    assert isinstance(out, Num)
    assert counts == {"add": 5, "mul": 3, "tanh": 3, "sqrt": 3}
    arr, counts = _counted(lambda: np.array([1.0, 2.0]) * var(3.0))
    assert [a.v for a in arr] == [3.0, 6.0] and counts == {"mul": 2}


@pytest.mark.parametrize("fn", [np.arctan, np.log10, np.cosh], ids=lambda f: f.__name__)
def test_numpy_functions_not_in_the_table_are_refused(fn: Any) -> None:
    with pytest.raises(UncountedOperation, match=fn.__name__):
        fn(var(0.5))
    with pytest.raises(UncountedOperation, match=fn.__name__):
        fn(np.array([var(0.5)], dtype=object))


def test_counted_functions_match_the_generic_path_when_tracing() -> None:
    x = var(0.3)
    with tracing():
        y = tanh(exp(x)) * log(x + 2.0) + x**3
    c = Counter()
    g = backward(y, [x], c)[0].v
    e = math.exp(0.3)
    expected = (1 - math.tanh(e) ** 2) * e * math.log(2.3) + math.tanh(e) / 2.3 + 3 * 0.09
    assert g == pytest.approx(expected) and y.op is not None and y.op.name == "add"


def test_pow_errors_and_nonscalar_counts_match_the_table() -> None:
    with pytest.raises(DomainError, match="pow"):
        var(0.0) ** -1
    with pytest.raises(DomainError, match="pow"):
        var(1e200) ** 2
    c = Counter()
    with c.scope("f"):
        var(1.1) ** 15
        var(1.1) ** 2.0
    assert c.totals().counts["pow"] == 2 and c.totals().nonscalar["pow"] == 6 + 1


def _work(kind: str, n: int, out: dict[str, dict[str, int]], start: threading.Barrier) -> None:
    c = Counter()
    x = var(1.0)
    start.wait()
    with c.scope("forward"):
        for _ in range(n):
            x = x + 1.0 if kind == "add" else x * 1.0
            if _ % 100 == 0:
                threading.Event().wait(0.0005)  # let the other thread run meanwhile
    out[kind] = c.totals().nonzero()


def test_two_threads_count_apart() -> None:
    out: dict[str, dict[str, int]] = {}
    start = threading.Barrier(2)
    threads = [threading.Thread(target=_work, args=(k, n, out, start))
               for k, n in (("add", 20_000), ("mul", 30_000))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert out == {"add": {"add": 20_000}, "mul": {"mul": 30_000}}


def test_a_thread_without_a_scope_is_not_counting_while_another_counts() -> None:
    seen: list[bool] = []
    c = Counter()
    with c.scope("forward"):
        t = threading.Thread(target=lambda: seen.append(counting() or float(var(2.0)) != 2.0))
        t.start()
        t.join()
        var(1.0) + 1.0
    assert seen == [False] and c.totals().nonzero() == {"add": 1}


def test_the_cli_reports_an_escape_in_one_line(cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from cheapgrad.cli.app import main
    from cheapgrad.models.circuit import Circuit
    from cheapgrad.models.circuits import builtins

    def leaky(n: int, seed: int) -> Circuit:
        return Circuit("leaky", ("x",), (0.5,), fn=lambda ins: ins[0] * math.tanh(ins[0]))

    leaked = dataclasses.replace(builtins.BUILTINS["product"], make=leaky)
    monkeypatch.setitem(builtins.BUILTINS, "product", leaked)
    result = cli.invoke(main, ["circuit", "product"])
    assert result.exit_code == 2 and result.exception is not None
    lines = [ln for ln in result.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "cheapgrad.tanh" in lines[0] and "Traceback" not in result.output
