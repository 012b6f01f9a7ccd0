"""The one op table.

Every elementary operation cheapgrad knows is registered here exactly once, with

* its float forward function (what the counted number computes),
* its cost class (``arith`` for + - * / and negation, ``elementary`` for exp, log,
  tanh, sin, cos, sqrt and integer powers, ``compare`` for comparisons, ``declared``
  for the abstract units of a transfer function whose cost a spec declares),
* its reverse-mode rule (``vjp``): given the adjoint ``g`` of the output, the output
  itself and the operands, the adjoint contributions to each operand, and
* its forward-mode rule (``jvp``): given the operands, the output and the operands'
  tangents (``None`` for a zero tangent), the output's tangent (``None`` when zero).

Both rules are written with ordinary arithmetic on the operands, which are counted
numbers when the rules run, so the derivative work is measured by the same counter as
the function itself. This follows ``primitive_vjps`` in HIPS/autograd and
``primitive_jvps`` in JAX. Adding an op is one ``_register`` line (plus, for an op
with its own syntax, the operator method on :class:`cheapgrad.core.number.Num`).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

#: Cost classes, in display order.
COST_CLASSES = ("arith", "elementary", "compare", "declared")

Rule = Callable[..., Any]


@dataclass(frozen=True)
class Op:
    """One registered operation.

    ``index`` is its slot in every tally; ``arity`` the number of operands.
    ``vjp(g, out, *args)`` returns one adjoint contribution per operand (``None`` for
    an operand that gets none); ``jvp(out, args, tangents)`` returns the output's
    tangent or ``None``. Either rule may be ``None``: the op then has no derivative
    and differentiating through it is an error, never a silent zero.
    """

    name: str
    index: int
    arity: int
    cost_class: str
    forward: Callable[..., Any]
    vjp: Rule | None
    jvp: Rule | None
    symbol: str = ""


OPS: dict[str, Op] = {}
OP_LIST: list[Op] = []


def _register(
    name: str,
    arity: int,
    cost_class: str,
    forward: Callable[..., Any],
    vjp: Rule | None,
    jvp: Rule | None,
    symbol: str = "",
) -> Op:
    if name in OPS:
        raise ValueError(f"op {name!r} registered twice")
    if cost_class not in COST_CLASSES:
        raise ValueError(f"unknown cost class {cost_class!r}")
    op = Op(name, len(OP_LIST), arity, cost_class, forward, vjp, jvp, symbol)
    OPS[name] = op
    OP_LIST.append(op)
    return op


def _apply_unary(name: str) -> Callable[[Any], Any]:
    def fn(x: Any) -> Any:
        from cheapgrad.core.number import apply

        return apply(OPS[name], x)

    fn.__name__ = name
    return fn


# Counted elementary functions, used by the derivative rules above.
sin = _apply_unary("sin")
cos = _apply_unary("cos")


def _add_tangents(x: Any, y: Any) -> Any:
    """Sum of two tangents where ``None`` stands for zero (no op for a zero)."""
    if x is None:
        return y
    if y is None:
        return x
    return x + y


def _scale(t: Any, factor: Any) -> Any:
    return None if t is None else t * factor


def _jvp_sub(out: Any, args: tuple[Any, ...], ts: tuple[Any, ...]) -> Any:
    ta, tb = ts
    if tb is None:
        return ta
    if ta is None:
        return -tb
    return ta - tb


def _jvp_mul(out: Any, args: tuple[Any, ...], ts: tuple[Any, ...]) -> Any:
    a, b = args
    ta, tb = ts
    return _add_tangents(_scale(ta, b), _scale(tb, a))


def _vjp_div(g: Any, out: Any, a: Any, b: Any) -> tuple[Any, Any]:
    ga = g / b
    return ga, -(ga * out)


def _jvp_div(out: Any, args: tuple[Any, ...], ts: tuple[Any, ...]) -> Any:
    _, b = args
    ta, tb = ts
    if tb is None:
        return None if ta is None else ta / b
    num = -(out * tb) if ta is None else ta - out * tb
    return num / b


def _pow_forward(a: float, n: float) -> float:
    return a**n


def _vjp_pow(g: Any, out: Any, a: Any, n: Any) -> tuple[Any, None]:
    # d/da a**n = n * a**(n-1); the exponent is a constant and gets no adjoint.
    k = _const_value(n)
    if k == 0:  # a**0 is the constant 1 (and a**-1 would fail at a = 0)
        return None, None
    return g * (k * a ** (k - 1)), None


def _jvp_pow(out: Any, args: tuple[Any, ...], ts: tuple[Any, ...]) -> Any:
    a, n = args
    k = _const_value(n)
    if k == 0:
        return None
    return _scale(ts[0], k * a ** (k - 1))


def _const_value(n: Any) -> int:
    return int(getattr(n, "v", n))


def _unary(rule: Callable[[Any, Any], Any]) -> tuple[Rule, Rule]:
    """Build vjp and jvp for ``out = f(a)`` from ``rule(out, a) -> f'(a)``.

    For a scalar unary function both are a product with the local derivative.
    """

    def vjp(g: Any, out: Any, a: Any) -> tuple[Any]:
        return (g * rule(out, a),)

    def jvp(out: Any, args: tuple[Any, ...], ts: tuple[Any, ...]) -> Any:
        return _scale(ts[0], rule(out, args[0]))

    return vjp, jvp


_EXP = _unary(lambda out, a: out)
_LOG = _unary(lambda out, a: 1.0 / a)
_TANH = _unary(lambda out, a: 1.0 - out * out)
_SIN = _unary(lambda out, a: cos(a))
_COS = _unary(lambda out, a: -sin(a))
_SQRT = _unary(lambda out, a: 0.5 / out)


def _vjp_log(g: Any, out: Any, a: Any) -> tuple[Any]:
    return (g / a,)


def _vjp_sqrt(g: Any, out: Any, a: Any) -> tuple[Any]:
    return ((g * 0.5) / out,)


def _vjp_cos(g: Any, out: Any, a: Any) -> tuple[Any]:
    return (-(g * sin(a)),)


# name, arity, cost class, forward, vjp, jvp, symbol
ADD = _register("add", 2, "arith", operator.add,
                lambda g, out, a, b: (g, g),
                lambda out, args, ts: _add_tangents(*ts), "+")
SUB = _register("sub", 2, "arith", operator.sub,
                lambda g, out, a, b: (g, -g), _jvp_sub, "-")
MUL = _register("mul", 2, "arith", operator.mul,
                lambda g, out, a, b: (g * b, g * a), _jvp_mul, "*")
DIV = _register("div", 2, "arith", operator.truediv, _vjp_div, _jvp_div, "/")
NEG = _register("neg", 1, "arith", operator.neg,
                lambda g, out, a: (-g,),
                lambda out, args, ts: None if ts[0] is None else -ts[0], "-")
EXP = _register("exp", 1, "elementary", math.exp, *_EXP)
LOG = _register("log", 1, "elementary", math.log, _vjp_log, _LOG[1])
TANH = _register("tanh", 1, "elementary", math.tanh, *_TANH)
SIN = _register("sin", 1, "elementary", math.sin, *_SIN)
COS = _register("cos", 1, "elementary", math.cos, _vjp_cos, _COS[1])
SQRT = _register("sqrt", 1, "elementary", math.sqrt, _vjp_sqrt, _SQRT[1])
POW = _register("pow", 2, "elementary", _pow_forward, _vjp_pow, _jvp_pow, "**")
CMP = _register("cmp", 2, "compare", lambda a, b: a > b, None, None, ">")


# Declared cost units of the ``custom`` activation (see cheapgrad.models.activations). One ``h``
# op is one unit of the declared cost of h, one ``dh`` one unit of the declared cost of
# h'. Their values are tanh and its derivative, so a net using them computes a real
# function and its gradient can be checked; their rules are the exact derivatives.
def _dh_forward(a: float) -> float:
    t = math.tanh(a)
    return 1.0 - t * t


tanh = _apply_unary("tanh")


def _dh_slope(out: Any, a: Any) -> Any:
    # d/da (1 - tanh(a)^2) = -2 tanh(a) (1 - tanh(a)^2) = -2 tanh(a) * out
    return -2.0 * (tanh(a) * out)


_DH = _unary(_dh_slope)
H = _register("h", 1, "declared", math.tanh, *_TANH)
DH = _register("dh", 1, "declared", _dh_forward, *_DH)

#: Number of registered ops; a tally holds ``2 * N_OPS`` integers: the unit count of
#: each op, then (for mul and div) how many of them were nonscalar in Baur and Strassen's
#: model: a mul of two operands that both depend on the independent variables, a div
#: whose divisor does.
N_OPS = len(OP_LIST)
OP_NAMES: tuple[str, ...] = tuple(op.name for op in OP_LIST)

#: Functions a user may call by name in a circuit expression (op name -> op).
FUNCTIONS: dict[str, Op] = {
    op.name: op for op in OP_LIST if op.arity == 1 and op.cost_class == "elementary"
}


