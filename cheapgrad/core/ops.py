"""The one op table.

Every elementary operation cheapgrad knows is registered here exactly once, by one
:func:`_register` call that states everything the package needs to know about it:

* ``forward``: its float function (what the counted number computes);
* ``vjp``: its reverse-mode rule: given the adjoint ``g`` of the output, the output
  itself and the operands, the adjoint contributions to each operand;
* ``jvp``: its forward-mode rule: given the output, the operands and the operands'
  tangents (``None`` for a zero tangent), the output's tangent (``None`` when zero);
* ``cost_class``: ``arith`` for + - * / and negation, ``elementary`` for exp, log,
  tanh, sin, cos, sqrt and integer powers, ``compare`` for comparisons, ``declared``
  for the abstract units of a transfer function whose cost a spec declares;
* ``weight``: its default cost in the ``weighted`` cost model, relative to an add;
* ``stores``: the values its result stores (1, or 0 for a comparison, whose result
  steers control flow); with its ``arity`` operands fetched, ``stores`` gives the
  ``moves`` of Griewank's memory model;
* ``nonscalar``: its policy in Baur and Strassen's model, a function of the operands
  giving how many nonscalar operations one execution is (:func:`never`,
  :func:`if_both_depend`, :func:`if_divisor_depends`, :func:`by_repeated_squaring`);
* ``summary``: what it computes, in words (the docstring of its counted function).

Every argument is required: an op without a weight or a policy does not import. A rule
is ``None`` only on purpose: the op then has no derivative and differentiating through
it is an error, never a silent zero.

Both rules are written with ordinary arithmetic on the operands, which are counted
numbers when the rules run, so the derivative work is measured by the same counter as
the function itself (``primitive_vjps`` in HIPS/autograd, ``primitive_jvps`` in JAX). An
elementary function inside a rule (the cosine in the sine's rule) is applied through
the operand, ``a.apply(COS)``, so this module imports no number type: the counted number
(:mod:`cheapgrad.core.number`) depends on the table, never the reverse. Adding an op is
one ``_register`` call here, plus the operator method on
:class:`cheapgrad.core.number.Num` for an op with its own syntax, or one line generating
its counted function in :mod:`cheapgrad.core.functions` for a function users call by name.

Example::

    >>> from cheapgrad.core.ops import OPS
    >>> div = OPS["div"]
    >>> div.arity, div.cost_class, div.weight, div.moves, div.nonscalar.__name__
    (2, 'arith', 5.5, 3, 'if_divisor_depends')
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: Cost classes, in display order.
COST_CLASSES = ("arith", "elementary", "compare", "declared")

Rule = Callable[..., Any]
#: A nonscalar policy: the operands (counted numbers, with ``dep`` and ``v``) of one
#: execution -> how many nonscalar operations it is in Baur and Strassen's model.
Nonscalar = Callable[[Sequence[Any]], int]


@dataclass(frozen=True, slots=True)
class Op:
    """One registered operation (see the module docstring for each attribute).

    ``index`` is its slot in every tally. ``vjp(g, out, *args)`` returns one adjoint
    contribution per operand (``None`` for an operand that gets none);
    ``jvp(out, args, tangents)`` returns the output's tangent or ``None``.
    """

    name: str
    index: int
    arity: int
    cost_class: str
    forward: Callable[..., Any]
    vjp: Rule | None
    jvp: Rule | None
    weight: float
    stores: int
    nonscalar: Nonscalar
    summary: str

    @property
    def fetches(self) -> int:
        """Values one execution reads: its operands."""
        return self.arity

    @property
    def moves(self) -> int:
        """Values one execution reads and writes (Griewank's MOVES)."""
        return self.arity + self.stores


OPS: dict[str, Op] = {}
OP_LIST: list[Op] = []


def _register(
    name: str,
    *,
    arity: int,
    cost_class: str,
    forward: Callable[..., Any],
    vjp: Rule | None,
    jvp: Rule | None,
    weight: float,
    stores: int,
    nonscalar: Nonscalar,
    summary: str,
) -> Op:
    if name in OPS:
        raise ValueError(f"op {name!r} registered twice")
    if cost_class not in COST_CLASSES:
        raise ValueError(f"op {name!r}: unknown cost class {cost_class!r}")
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) \
            or not 0 <= weight < math.inf:
        raise ValueError(f"op {name!r}: weight must be a finite number >= 0, got {weight!r}")
    if stores not in (0, 1):
        raise ValueError(f"op {name!r}: stores must be 0 or 1, got {stores!r}")
    if not callable(nonscalar) or not summary:
        raise ValueError(f"op {name!r}: needs a nonscalar policy and a summary")
    op = Op(name, len(OP_LIST), arity, cost_class, forward, vjp, jvp, float(weight), stores,
            nonscalar, summary)
    OPS[name] = op
    OP_LIST.append(op)
    return op


# --- nonscalar policies (Baur and Strassen 1983) ------------------------------------------


def never(args: Sequence[Any]) -> int:
    """Never nonscalar: additions, subtractions, negations, functions outside the model."""
    return 0


def if_both_depend(args: Sequence[Any]) -> int:
    """A product is nonscalar when both factors depend on the independent variables (a
    scaling by a constant is free)."""
    return 1 if args[0].dep and args[1].dep else 0


def if_divisor_depends(args: Sequence[Any]) -> int:
    """A quotient is nonscalar when its divisor depends on the variables (1/x is)."""
    return 1 if args[1].dep else 0


def by_repeated_squaring(args: Sequence[Any]) -> int:
    """x**n of a dependent x costs the operations of repeated squaring
    (:func:`power_chain`); a constant base costs none."""
    return power_chain(int(args[1].v)) if args[0].dep else 0


def power_chain(n: int) -> int:
    """Nonscalar operations of x**n in Baur and Strassen's model: the multiplications of
    repeated squaring, ⌊log2 |n|⌋ + popcount(|n|) − 1, and for n < 0 one division.

    >>> [power_chain(n) for n in (0, 1, 2, 3, 15, -1)]
    [0, 0, 1, 2, 6, 1]
    """
    m = abs(n)
    if m <= 1:
        return 1 if n < 0 else 0
    return m.bit_length() - 1 + bin(m).count("1") - 1 + (1 if n < 0 else 0)


# --- derivative rules ----------------------------------------------------------------------


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


# Elementary functions inside a rule are applied through the operand (``a.apply(COS)``),
# the counted number's own method; the ops are looked up when the rule runs.
_EXP = _unary(lambda out, a: out)
_LOG = _unary(lambda out, a: 1.0 / a)
_TANH = _unary(lambda out, a: 1.0 - out * out)
_SQRT = _unary(lambda out, a: 0.5 / out)


def _sin_slope(out: Any, a: Any) -> Any:
    return a.apply(COS)


def _cos_slope(out: Any, a: Any) -> Any:
    return -a.apply(SIN)


_SIN = _unary(_sin_slope)
_COS = _unary(_cos_slope)


def _vjp_log(g: Any, out: Any, a: Any) -> tuple[Any]:
    return (g / a,)


def _vjp_sqrt(g: Any, out: Any, a: Any) -> tuple[Any]:
    return ((g * 0.5) / out,)


def _vjp_cos(g: Any, out: Any, a: Any) -> tuple[Any]:
    return (-(g * a.apply(SIN)),)


# Declared cost units of the ``custom`` activation (see cheapgrad.models.activations). One
# ``h`` op is one unit of the declared cost of h, one ``dh`` one unit of the declared cost
# of h'. Their values are tanh and its derivative, so a net using them computes a real
# function and its gradient can be checked; their rules are the exact derivatives.
def _dh_forward(a: float) -> float:
    t = math.tanh(a)
    return 1.0 - t * t


def _dh_slope(out: Any, a: Any) -> Any:
    # d/da (1 - tanh(a)^2) = -2 tanh(a) (1 - tanh(a)^2) = -2 tanh(a) * out
    return -2.0 * (a.apply(TANH) * out)


_DH = _unary(_dh_slope)


# --- the table -----------------------------------------------------------------------------
#
# Weights, relative to an add: the scalar latency of each op on a CPU, as the
# counted-float package (version 2.8.0, PyPI, Apache-2.0) ships them: consensus weights
# from its own benchmarks (dependent chains compiled with numba, differenced against an
# add chain), spec sheets and third-party instruction tables (Agner Fog, uops.info) over
# x86 and ARM cores: mul 1.4, div 5.5, sqrt 7, exp 16, log 18, tanh 50, sin and cos 30,
# neg 0.45. Latency, not numpy's throughput, because cheapgrad counts scalar ops that run
# one after another (docs/costmodels.md compares the two and `cheapgrad calibrate`
# measures both on your machine). The ops counted-float does not list follow a rule:
# sub is an add; cmp is one add-like instruction (a compare has an add's latency); pow,
# an integer power x**n, is priced as x**3 by repeated squaring, two multiplications
# (2 × 1.4); a declared unit (``h``, ``dh``) is already in the spec's own units, one
# add each. A spec's ``cost_weights`` or ``--weights FILE`` overrides them.

ADD = _register("add", arity=2, cost_class="arith", forward=operator.add,
                vjp=lambda g, out, a, b: (g, g),
                jvp=lambda out, args, ts: _add_tangents(*ts),
                weight=1.0, stores=1, nonscalar=never, summary="sum")
SUB = _register("sub", arity=2, cost_class="arith", forward=operator.sub,
                vjp=lambda g, out, a, b: (g, -g), jvp=_jvp_sub,
                weight=1.0, stores=1, nonscalar=never, summary="difference")
MUL = _register("mul", arity=2, cost_class="arith", forward=operator.mul,
                vjp=lambda g, out, a, b: (g * b, g * a), jvp=_jvp_mul,
                weight=1.4, stores=1, nonscalar=if_both_depend, summary="product")
DIV = _register("div", arity=2, cost_class="arith", forward=operator.truediv,
                vjp=_vjp_div, jvp=_jvp_div,
                weight=5.5, stores=1, nonscalar=if_divisor_depends, summary="quotient")
NEG = _register("neg", arity=1, cost_class="arith", forward=operator.neg,
                vjp=lambda g, out, a: (-g,),
                jvp=lambda out, args, ts: None if ts[0] is None else -ts[0],
                weight=0.45, stores=1, nonscalar=never, summary="negation")
EXP = _register("exp", arity=1, cost_class="elementary", forward=math.exp,
                vjp=_EXP[0], jvp=_EXP[1],
                weight=16.0, stores=1, nonscalar=never, summary="e**x")
LOG = _register("log", arity=1, cost_class="elementary", forward=math.log,
                vjp=_vjp_log, jvp=_LOG[1],
                weight=18.0, stores=1, nonscalar=never, summary="natural logarithm")
TANH = _register("tanh", arity=1, cost_class="elementary", forward=math.tanh,
                 vjp=_TANH[0], jvp=_TANH[1],
                 weight=50.0, stores=1, nonscalar=never, summary="hyperbolic tangent")
SIN = _register("sin", arity=1, cost_class="elementary", forward=math.sin,
                vjp=_SIN[0], jvp=_SIN[1],
                weight=30.0, stores=1, nonscalar=never, summary="sine")
COS = _register("cos", arity=1, cost_class="elementary", forward=math.cos,
                vjp=_vjp_cos, jvp=_COS[1],
                weight=30.0, stores=1, nonscalar=never, summary="cosine")
SQRT = _register("sqrt", arity=1, cost_class="elementary", forward=math.sqrt,
                 vjp=_vjp_sqrt, jvp=_SQRT[1],
                 weight=7.0, stores=1, nonscalar=never, summary="square root")
POW = _register("pow", arity=2, cost_class="elementary", forward=_pow_forward,
                vjp=_vjp_pow, jvp=_jvp_pow,
                weight=2.8, stores=1, nonscalar=by_repeated_squaring,
                summary="integer power x**n")
CMP = _register("cmp", arity=2, cost_class="compare", forward=lambda a, b: a > b,
                vjp=None, jvp=None,  # no derivative: a comparison only steers control flow
                weight=1.0, stores=0, nonscalar=never, summary="comparison")
H = _register("h", arity=1, cost_class="declared", forward=math.tanh,
              vjp=_TANH[0], jvp=_TANH[1],
              weight=1.0, stores=1, nonscalar=never, summary="declared unit of h")
DH = _register("dh", arity=1, cost_class="declared", forward=_dh_forward,
               vjp=_DH[0], jvp=_DH[1],
               weight=1.0, stores=1, nonscalar=never, summary="declared unit of h'")

#: Number of registered ops; a tally holds ``TALLY_SIZE = 2 * N_OPS`` integers: the unit
#: count of each op, then how many of them were nonscalar in Baur and Strassen's model
#: (nonzero only for the ops whose ``nonscalar`` policy is not :func:`never`).
N_OPS = len(OP_LIST)
TALLY_SIZE = 2 * N_OPS
OP_NAMES: tuple[str, ...] = tuple(op.name for op in OP_LIST)
#: The op kinds with a nonscalar tally: those whose policy is not :func:`never`.
NONSCALAR_KINDS: tuple[str, ...] = tuple(op.name for op in OP_LIST if op.nonscalar is not never)

#: Functions a user may call by name in a circuit expression (op name -> op).
FUNCTIONS: dict[str, Op] = {
    op.name: op for op in OP_LIST if op.arity == 1 and op.cost_class == "elementary"
}
