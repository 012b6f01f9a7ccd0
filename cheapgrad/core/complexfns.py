"""The counted functions' plain complex forms, for the complex-step gradient check.

:func:`cheapgrad.core.number.exp` and its siblings count one op on a counted number; on
a plain ``complex`` they return :func:`on_complex`'s plain complex result, uncounted
(no counted number is involved). That lets the gradient check run a user's function on
complex input, f(θ + i·h·e_k), and take its derivative by the complex step. The domain
is the real function's, judged on the real part, and refused with the same
:class:`~cheapgrad.errors.DomainError` as the counted op.

Example::

    >>> round(on_complex("sin", 0.5 + 1e-30j).imag / 1e-30, 12)
    0.87758256189
"""

from __future__ import annotations

import cmath
from collections.abc import Callable

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
