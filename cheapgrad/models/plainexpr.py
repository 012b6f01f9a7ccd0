"""Circuit expressions on plain numbers: floats, complex numbers and numpy arrays.

:meth:`cheapgrad.models.expr.Expression.evaluate_plain` runs an expression's postfix
code here, uncounted: no counted number and no op table, so the gradient check's
reference derivatives of a YAML circuit share nothing with what they check. Every
operation refuses what its counted op refuses, with the same
:class:`~cheapgrad.errors.DomainError`; the domains of ``log`` and ``sqrt`` are judged on
the real part, so a complex step never leaves the real function's domain. On arrays
(one entry per point) one pass evaluates every point of a check.

Example::

    >>> import numpy as np
    >>> PLAIN_FUNCTIONS["sqrt"](np.array([4.0, 9.0])).tolist()
    [2.0, 3.0]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from cheapgrad.errors import DomainError


def _first(x: Any, bad: Any) -> float:
    """The real part of the first value of ``x`` where ``bad`` holds (for the message)."""
    return float(np.real(np.asarray(x)[np.asarray(bad)].ravel()[0]))


def _domain(name: str, ufunc: Callable[[Any], Any], outside: Callable[[Any], Any],
            reason: str) -> Callable[[Any], Any]:
    """``ufunc`` refusing, as the counted op does, the values where ``outside`` holds
    (judged on the real part, so a complex step never leaves the real function's domain)."""

    def fn(x: Any) -> Any:
        bad = outside(np.real(x))
        if np.any(bad):
            raise DomainError(name, (_first(x, bad),), reason)
        with np.errstate(over="ignore", invalid="ignore"):
            y = ufunc(x)
        if not np.all(np.isfinite(y)):
            raise DomainError(name, (_first(x, ~np.isfinite(y)),), "math range error")
        return y

    return fn


#: The functions of :data:`cheapgrad.core.ops.FUNCTIONS` on plain numbers and arrays.
PLAIN_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "exp": _domain("exp", np.exp, lambda r: np.zeros_like(r, dtype=bool), ""),
    "log": _domain("log", np.log, lambda r: r <= 0, "math domain error"),
    "tanh": np.tanh,
    "sin": np.sin,
    "cos": np.cos,
    "sqrt": _domain("sqrt", np.sqrt, lambda r: r < 0, "math domain error"),
}


def _plain_div(a: Any, b: Any) -> Any:
    zero = np.asarray(b) == 0
    if np.any(zero):
        raise DomainError("div", (_first(np.broadcast_to(a, zero.shape), zero), 0.0),
                          "division by zero")
    return a / b


def _plain_pow(a: Any, k: int) -> Any:
    if k < 0:
        zero = np.asarray(a) == 0
        if np.any(zero):
            raise DomainError("pow", (0.0, float(k)), "division by zero")
    try:
        return a**k
    except OverflowError as exc:
        raise DomainError("pow", (float(np.real(a)), float(k)), str(exc)) from None


def evaluate_code(code: Sequence[tuple[str, object, int]], env: Mapping[str, Any]) -> Any:
    """Run an expression's postfix code (:mod:`cheapgrad.models.expr`) on plain values;
    every name it uses must be in ``env``.

    >>> evaluate_code((("name", "x", 1), ("const", 2.0, 3), ("mul", None, 2)), {"x": 1.5})
    3.0
    """
    stack: list[Any] = []
    push, pop = stack.append, stack.pop
    for op, arg, _ in code:
        if op == "name":
            push(env[str(arg)])
        elif op == "const":
            push(arg)
        elif op == "mul":
            b = pop()
            push(pop() * b)
        elif op == "add":
            b = pop()
            push(pop() + b)
        elif op == "sub":
            b = pop()
            push(pop() - b)
        elif op == "div":
            b = pop()
            push(_plain_div(pop(), b))
        elif op == "neg":
            push(-pop())
        elif op == "call":
            push(PLAIN_FUNCTIONS[str(arg)](pop()))
        else:  # pow
            push(_plain_pow(pop(), int(arg)))  # type: ignore[call-overload]
    return stack[0]
