"""The counted elementary functions: :func:`exp`, :func:`log`, :func:`tanh`,
:func:`sin`, :func:`cos` and :func:`sqrt`, generated from their registrations in the op
table (:mod:`cheapgrad.core.ops`).

Each is :func:`cheapgrad.core.number.apply` written out for one unary op, the hot path
of networks and circuits: the table's float function, its slot of the tally, its
``DomainError``, and its node when tracing; the nonscalar policy of each is ``never``
(checked on import), so none adds to a nonscalar slot. The counts, the tracing and the
errors are the same as through ``apply`` (``tests/test_number.py`` checks it). Given a
plain ``complex`` number, each returns its plain complex value, uncounted
(:mod:`cheapgrad.core.complexfns`): the complex-step check of a user's function.

Example::

    >>> from cheapgrad.core.counter import Counter
    >>> from cheapgrad.core.number import var
    >>> c = Counter()
    >>> with c.scope("forward"):
    ...     y = tanh(var(0.5)) * exp(var(0.0))
    >>> round(y.v, 6), c.totals().nonzero()
    (0.462117, {'mul': 1, 'exp': 1, 'tanh': 1})
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cheapgrad.core import number as _number
from cheapgrad.core import ops as _ops
from cheapgrad.core.complexfns import on_complex
from cheapgrad.core.number import Num, _coerce
from cheapgrad.core.state import TALLY
from cheapgrad.errors import DomainError

__all__ = ["cos", "exp", "log", "sin", "sqrt", "tanh"]

_new = object.__new__
_tally = TALLY.get


def _counted_function(name: str) -> Callable[[Any], Num]:
    """The counted function of unary op ``name``: ``apply`` written out for it (the
    table's float function, slot and tracing; its policy must be ``never``), with a
    docstring made from the op's."""
    op = _ops.FUNCTIONS[name]
    f, k = op.forward, op.index
    if op.nonscalar is not _ops.never:
        raise ImportError(f"op {name!r}: its counted function inlines the policy never")

    def fn(x: Any) -> Num:
        if type(x) is not Num:
            if type(x) is complex:  # the complex-step check's plain evaluation: uncounted
                return on_complex(name, x)  # type: ignore[return-value]
            x = _coerce(x)
        try:
            v = f(x.v)
        except (ValueError, OverflowError) as exc:
            raise DomainError(name, (x.v,), str(exc)) from None
        _tally()[k] += 1
        r = _new(Num)
        r.v = v
        r.dep = x.dep
        if _number._tracing:
            r.op = op
            r.parents = (x,)
        else:
            r.op = None
            r.parents = ()
        return r

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"""Counted {op.summary} (one ``{name}``).

    >>> from cheapgrad.core.counter import Counter
    >>> from cheapgrad.core.functions import {name}
    >>> from cheapgrad.core.number import var
    >>> c = Counter()
    >>> with c.scope("forward"):
    ...     y = {name}(var(2.0))
    >>> round(y.v, 6), c.totals().nonzero()
    ({round(op.forward(2.0), 6)!r}, {{'{name}': 1}})
    """
    return fn


exp = _counted_function("exp")
log = _counted_function("log")
tanh = _counted_function("tanh")
sin = _counted_function("sin")
cos = _counted_function("cos")
sqrt = _counted_function("sqrt")
# numpy's functions on object arrays call these methods of each element (x.tanh()).
Num.exp, Num.log, Num.tanh = exp, log, tanh  # type: ignore[attr-defined]
Num.sin, Num.cos, Num.sqrt = sin, cos, sqrt  # type: ignore[attr-defined]
