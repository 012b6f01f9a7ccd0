"""One number format per quantity, used by every renderer: ratios to four places, counts
with thousands separators, times in ms or s, rates in ops/s with an SI prefix.

Example::

    >>> ratio(2.338095), ratio(None), count(1234567)
    ('2.3381', '–', '1,234,567')
    >>> seconds(0.0404011), seconds(3.25), seconds(0.0000004), seconds(0.00002)
    ('40.4 ms', '3.25 s', '< 0.01 ms', '0.02 ms')
    >>> rate(27.2e9), rate(950.0), bound(5.0), limit(2.5)
    ('27.2 G ops/s', '950 ops/s', '5', '2.5000')
    >>> relative(-0.33730), relative(0.0), relative(None)
    ('−33.7 %', 'exact', '–')
"""

from __future__ import annotations

import math
from fractions import Fraction

#: Places after the point of every ratio (measured, predicted, limit).
RATIO_PLACES = 4
#: Shown for a value that does not exist (a model under which f costs nothing).
MISSING = "–"


def ratio(x: float | None) -> str:
    """A ratio cost(f, ∇f) / cost(f) (or any ratio of costs or times), four places;
    ``undefined (0/0)`` for the NaN of a free f and a free gradient.

    Example::

        >>> ratio(491 / 210), ratio(float("nan")), ratio(None)
        ('2.3381', 'undefined (0/0)', '–')
    """
    if x is None:
        return MISSING
    if math.isnan(x):
        return "undefined (0/0)"
    return f"{x:.{RATIO_PLACES}f}"


def limit(x: float | Fraction | None) -> str:
    """A closed-form limit of a ratio: a ratio, so four places too."""
    return ratio(None if x is None else float(x))


def relative(x: float | None) -> str:
    """A relative error, estimate / measured − 1, in percent to one place (a true minus
    sign); ``exact`` when it is exactly 0.

    Example::

        >>> relative(0.2726), relative(0.00085), relative(-0.00001)
        ('+27.3 %', '+0.1 %', '−0.0 %')
    """
    if x is None:
        return MISSING
    if x == 0:
        return "exact"
    return f"{x * 100:+.1f} %".replace("-", "−")


def bound(x: float | None) -> str:
    """A bound as stated (5, 5.5): the shortest exact form."""
    return MISSING if x is None else f"{x:g}"


def count(n: int | None) -> str:
    """An op count, a number of parameters or nodes: thousands separators."""
    return MISSING if n is None else f"{n:,}"


def seconds(s: float) -> str:
    """A time: ms below one second (never µs), s above; tiny times as ``< 0.01 ms``."""
    if s >= 1.0:
        return f"{s:,.2f} s"
    ms = s * 1e3
    if ms < 0.01:
        return "< 0.01 ms"
    if ms < 1:
        return f"{ms:.2f} ms"
    return f"{ms:,.1f} ms"


def rate(per_second: float | None, unit: str = "ops/s") -> str:
    """A rate with an SI prefix and three significant figures: ``27.2 G ops/s``."""
    if per_second is None:
        return MISSING
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if per_second >= factor:
            return f"{per_second / factor:.3g} {prefix} {unit}"
    return f"{per_second:.3g} {unit}"


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 cell``, ``2 cells`` (``many`` for an irregular plural)."""
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def json_number(x: float | None) -> float | None:
    """A float for JSON: ``None`` (null) for a missing, infinite or nan value.

    >>> json_number(2.5), json_number(float("nan")), json_number(None)
    (2.5, None, None)
    """
    return x if x is not None and math.isfinite(x) else None
