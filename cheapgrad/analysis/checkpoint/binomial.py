"""Binomial checkpointing's numbers (Griewank 1992; Griewank & Walther 2000, ACM TOMS
26(1), Algorithm 799 "revolve").

With ``s`` snapshots (the initial state counted as one) and ``r`` repetitions, at most
β(s, r) = C(s + r, s) steps can be reversed. The least number of forward steps run
*without* recording (untaped) to reverse ``l`` steps with ``s`` snapshots, every step
also taped once, is

    t(l, s) = r·l − C(s + r, s + 1)   for C(s + r − 1, s) < l ≤ C(s + r, s),

as revolve's ``numforw`` computes it. :func:`untaped_recursive` computes the same number
by dynamic programming over the first snapshot's position,
t(l, s) = min over 1 ≤ i < l of [i + t(i, s) + t(l − i, s − 1)] (the recursion of
firedrakeproject/checkpoint_schedules), an independent route the tests compare with.

Example::

    >>> untaped(100, 5), untaped(100, 10), untaped(1000, 10)
    (316, 222, 3636)
    >>> [untaped(l, 2) for l in range(1, 11)]
    [0, 1, 2, 4, 6, 8, 11, 14, 17, 20]
"""

from __future__ import annotations

from math import comb

__all__ = ["beta", "repetitions", "split", "untaped", "untaped_recursive"]


def beta(s: int, r: int) -> int:
    """β(s, r) = C(s + r, s): the most steps ``s`` snapshots reverse with ``r``
    repetitions (0 for a negative argument).

    >>> beta(2, 3), beta(1, 0), beta(3, -1)
    (10, 1, 0)
    """
    if s < 0 or r < 0:
        return 0
    return comb(s + r, s)


def repetitions(n: int, s: int) -> int:
    """The least ``r`` with β(s, r) ≥ n: how often the busiest step is run forward.

    >>> repetitions(10, 2), repetitions(1, 4)
    (3, 0)
    """
    _check(n, s)
    r = 0
    while beta(s, r) < n:
        r += 1
    return r


def untaped(n: int, s: int) -> int:
    """t(n, s): the least number of untaped step evaluations to reverse ``n`` steps
    with ``s`` snapshots (closed form).

    >>> untaped(1, 1), untaped(5, 1), untaped(5, 4)
    (0, 10, 4)
    """
    r = repetitions(n, s)
    return r * n - comb(s + r, s + 1)


def untaped_recursive(l_max: int, s_max: int) -> list[list[int]]:
    """``table[s][l]`` = t(l, s) for 1 ≤ l ≤ ``l_max``, 1 ≤ s ≤ ``s_max``, by the
    recursion over the first snapshot's position (row and column 0 unused, 0).

    >>> untaped_recursive(5, 2)[2][1:]
    [0, 1, 2, 4, 6]
    """
    table = [[0] * (l_max + 1) for _ in range(s_max + 1)]
    for n in range(1, l_max + 1):
        table[1][n] = n * (n - 1) // 2
    for s in range(2, s_max + 1):
        row, below = table[s], table[s - 1]
        for n in range(2, l_max + 1):
            row[n] = min(i + row[i] + below[n - i] for i in range(1, n))
    return table


def split(n: int, s: int) -> int:
    """Where to put the next snapshot when reversing ``n`` steps from a snapshot with
    ``s`` snapshots free (this one included): advance this many steps, store, reverse
    the rest with ``s − 1``, then the first part with ``s``. revolve's offline rule,
    from the binomials around β(s, r); the tests check that it reaches t(l, s).

    >>> split(10, 2), split(2, 2)
    (6, 1)
    """
    if n < 2 or s < 2:
        return max(1, n - 1)
    r = repetitions(n, s)
    b1 = beta(s, r - 1)
    b2 = beta(s - 1, r - 1)
    b3 = beta(s - 2, r - 1)
    b4 = beta(s, r - 2)
    b5 = beta(s - 3, r)
    if n <= b1 + b3:
        i = b4
    elif n >= beta(s, r) - b5:
        i = b1
    else:
        i = n - b2 - b3
    return min(max(i, 1), n - 1)


def _check(n: int, s: int) -> None:
    if n < 1 or s < 1:
        raise ValueError(f"steps and snapshots must be at least 1, got l={n}, s={s}")
