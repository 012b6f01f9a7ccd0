"""The counted functions' plain complex forms, for the complex-step gradient check.

:func:`cheapgrad.core.number.exp` and its siblings count one op on a counted number; on
a plain ``complex`` they return :func:`on_complex`'s plain complex result, uncounted
(no counted number is involved). That lets the gradient check run a user's function on
complex input, f(θ + i·h·e_k), and take its derivative by the complex step. The domain
is the real function's, judged on the real part, and refused with the same
:class:`~cheapgrad.errors.DomainError` as the counted op.

:data:`COMPLEX_OPS` gives every differentiable op of the table its plain complex form
too, so a recorded circuit (the gradient's included) can be evaluated on complex
inputs: the complex-step check of Hessian-vector products
(:func:`cheapgrad.core.forward.complex_values`).

Example::

    >>> round(on_complex("sin", 0.5 + 1e-30j).imag / 1e-30, 12)
    0.87758256189
    >>> COMPLEX_OPS["pow"](1.0 + 1e-30j, 3).imag / 1e-30
    3.0
"""

from __future__ import annotations

import cmath
import operator
from collections.abc import Callable
from typing import Any

from cheapgrad.errors import DomainError

#: name -> (the complex function, whether a real part lies outside the real domain).
COMPLEX_FORMS: dict[str, tuple[Callable[[complex], complex], Callable[[float], bool]]] = {
    "exp": (cmath.exp, lambda r: False),
    "log": (cmath.log, lambda r: r <= 0),
    "tanh": (cmath.tanh, lambda r: False),
    "sin": (cmath.sin, lambda r: False),
    "cos": (cmath.cos, lambda r: False),
    "sqrt": (cmath.sqrt, lambda r: r < 0),
}


def on_complex(name: str, z: complex) -> complex:
    """The function ``name`` at the plain complex number ``z`` (uncounted)."""
    fn, outside = COMPLEX_FORMS[name]
    if outside(z.real):
        raise DomainError(name, (z.real,), "math domain error")
    try:
        return fn(z)
    except (ValueError, OverflowError) as exc:
        raise DomainError(name, (z.real,), str(exc)) from None


def _dh(z: complex) -> complex:
    t = cmath.tanh(z)
    return 1.0 - t * t


def _named(name: str) -> Callable[[complex], complex]:
    return lambda z: on_complex(name, z)


def _power(a: complex, n: Any) -> complex:
    return complex(a ** int(getattr(n, "real", n)))


#: Every differentiable op of the table by name -> its plain complex function (the
#: comparison has none: a circuit never records one).
COMPLEX_OPS: dict[str, Callable[..., complex]] = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul,
    "div": operator.truediv, "neg": operator.neg, "pow": _power,
    **{name: _named(name) for name in COMPLEX_FORMS},
    "h": cmath.tanh, "dh": _dh,
}
