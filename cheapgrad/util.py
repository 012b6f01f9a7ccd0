"""Small helpers every layer shares: did-you-mean hints and comma-separated lists.

They raise :class:`ListError` (a :class:`~cheapgrad.errors.CheapgradError`) and know
nothing of files or commands: the caller names the source (``--depths``,
``sweep.widths[1]``...) and the CLI turns the error into one line.

Example::

    >>> did_you_mean("tahn", ("tanh", "relu"))
    " (did you mean 'tanh'?)"
    >>> parse_int_list("4, 1,2", "--depths")
    (1, 2, 4)
    >>> parse_int_list("1,x", "--depths")
    Traceback (most recent call last):
    ...
    cheapgrad.util.ListError: --depths: 'x' is not a whole number (write e.g. 1,2,4)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from cheapgrad.errors import CheapgradError


class ListError(CheapgradError):
    """A comma-separated list (of a flag or a spec field) is invalid."""


def closest(word: object, choices: Iterable[str], cutoff: float = 0.6) -> str | None:
    """The choice ``word`` most likely meant, or ``None`` when none is close.

    Example::

        >>> closest("circut", ["circuit", "run"]), closest("zzz", ["run"])
        ('circuit', None)
    """
    match = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=cutoff)
    return match[0] if match else None


def did_you_mean(word: object, choices: Iterable[str], cutoff: float = 0.6) -> str:
    """`` (did you mean 'X'?)`` for the closest choice, else the empty string."""
    match = closest(word, choices, cutoff)
    return f" (did you mean '{match}'?)" if match else ""


#: Builds the error for item ``i`` of a list from a message.
Fail = Callable[[int, str], CheapgradError]


def check_ints(values: Sequence[Any], maximum: int, fail: Fail) -> tuple[int, ...]:
    """Distinct positive integers up to ``maximum``, sorted; ``fail(i, message)`` makes
    the error for item ``i``.

    Example::

        >>> check_ints([8, 2], 10, lambda i, m: ListError(f"[{i}]: {m}"))
        (2, 8)
    """
    seen: set[int] = set()
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, int):
            raise fail(i, f"must be a positive integer, got {v!r}")
        if v < 1:
            raise fail(i, f"must be a positive integer, got {v}")
        if v > maximum:
            raise fail(i, f"must be at most {maximum:,}, got {v:,}")
        if v in seen:
            raise fail(i, f"{v} is listed twice")
        seen.add(v)
    return tuple(sorted(values))


def split_list(text: str, option: str, example: str, what: str) -> list[str]:
    """The stripped items of a comma-separated ``text``; a comma inside parentheses (as in
    ``custom(10,50)``) does not split. Empty lists and empty items are errors."""
    items = [t.strip() for t in re.split(r",(?![^(]*\))", text)]
    if all(not t for t in items):
        raise ListError(f"{option}: must list at least one {what}, e.g. {example}")
    if any(not t for t in items):
        raise ListError(f"{option}: empty item in {text!r} (write e.g. {example})")
    return items


def parse_int_list(text: str, option: str, maximum: int = 10**12,
                   max_values: int | None = None) -> tuple[int, ...]:
    """Parse a comma-separated list of distinct positive integers such as ``"1,2,4"``
    (returned sorted). ``option`` names the source in error messages (e.g. ``--depths``);
    ``max_values`` caps how many values the list may hold."""
    values = []
    for item in split_list(text, option, "1,2,4", "positive integer"):
        try:
            values.append(int(item))
        except ValueError:
            raise ListError(
                f"{option}: {item!r} is not a whole number (write e.g. 1,2,4)") from None
    out = check_ints(values, maximum, lambda i, m: ListError(f"{option}: {m}"))
    if max_values is not None and len(out) > max_values:
        raise ListError(f"{option}: at most {max_values} values, got {len(out)}")
    return out
