"""Stored values, measured: how many floats a structure of caches holds.

Used by both engines to report what reverse mode with everything stored keeps for its
backward sweep, and by the checkpointing schedules (:mod:`cheapgrad.analysis.checkpoint`)
for snapshots and tapes. A vector is one stored block: a numpy array holds its size, so
does a counted array (:mod:`cheapgrad.core.array`, :mod:`cheapgrad.core.numarray`), a
list of counted numbers (:class:`~cheapgrad.core.number.Num`, the scalar engine's
vectors) its length, a lone counted number one value. A block reached twice (the output
of one layer is the cache of the next) is counted once; other items (ints, ``None``)
hold none. Blocks, not numbers, are what is shared, as in the array engine: relu's
output is stored beside its input even where the two are equal.

Example::

    >>> import numpy as np
    >>> from cheapgrad.core.number import const
    >>> a, z = np.zeros((3, 2)), [const(1.0), const(2.0)]
    >>> stored_values([(a, 2), [a, z, z], None])
    8
    >>> from cheapgrad.core.array import CArray
    >>> stored_values([CArray([1.0, 2.0, 3.0])])
    3
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from cheapgrad.core.array_front import Front
from cheapgrad.core.number import Num


def blocks(obj: Any) -> Iterator[tuple[int, int]]:
    """``(id, size)`` of every stored block inside nested lists and tuples, found
    without recursion (repeats included)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, Num):
            yield id(item), 1
        elif isinstance(item, np.ndarray):
            yield id(item), item.size
        elif isinstance(item, Front):
            yield id(item), item.v.size
        elif isinstance(item, list) and item and isinstance(item[0], Num):
            yield id(item), len(item)
        elif isinstance(item, (list, tuple)):
            stack.extend(item)


def stored_values(obj: Any) -> int:
    """The values ``obj`` holds, each block once (see the module docstring)."""
    return sum(dict(blocks(obj)).values())
