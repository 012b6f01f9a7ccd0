"""Vector-output built-ins F: ℝⁿ → ℝᵐ, for Jacobians, each with its closed-form Jacobian.

============  =============================================  =========================
name          F                                              Jacobian
============  =============================================  =========================
axx           F(x) = (aᵀx)·x, O(n) to compute                 (aᵀx)·I + x·aᵀ: dense n×n
banded        Fᵢ = x_{i−1}·xᵢ − x_{i+1} + sin(xᵢ) (x₀ =       tridiagonal: 3 colors for
              x_{n+1} = 0)                                   any n ≥ 3
wide          (Σ xᵢ², Σ xᵢ·sin xᵢ): 2 outputs of n inputs    2 × n: reverse wins
============  =============================================  =========================

Example::

    >>> F = vector_builtin("axx", 3)
    >>> F.name, len(F.inputs), F.outputs
    ('axx-3', 3, 3)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from cheapgrad.core.functions import sin
from cheapgrad.core.number import Num
from cheapgrad.errors import CheapgradError

VectorFunction = Callable[[Sequence[Num]], list[Num]]


@dataclass(frozen=True)
class VectorCircuit:
    """A function of named scalar inputs with ``outputs`` counted outputs.

    ``fn`` takes the inputs (counted numbers) and returns a list of counted numbers;
    ``jacobian``, when given, is an independent closed form of its Jacobian in numpy.
    """

    name: str
    inputs: tuple[str, ...]
    values: tuple[float, ...]
    outputs: int
    fn: VectorFunction
    description: str = ""
    jacobian: Callable[[np.ndarray], np.ndarray] | None = None


def axx(n: int = 10, seed: int = 0) -> VectorCircuit:
    """F(x) = (aᵀx)·x: 2n ops, but every output depends on every input."""
    rng = np.random.default_rng(seed)
    a, x0 = rng.standard_normal(n), rng.standard_normal(n)
    coeffs = a.tolist()

    def fn(xs: Sequence[Num]) -> list[Num]:
        s = xs[0] * coeffs[0]
        for c, x in zip(coeffs[1:], xs[1:], strict=True):
            s = s + x * c
        return [s * x for x in xs]

    return VectorCircuit(
        name=f"axx-{n}", inputs=tuple(f"x{i}" for i in range(1, n + 1)),
        values=tuple(x0.tolist()), outputs=n, fn=fn,
        description=f"F(x) = (aᵀx)·x on {n} inputs: cheap F, dense Jacobian",
        jacobian=lambda x: float(a @ x) * np.eye(n) + np.outer(x, a),
    )


def banded(n: int = 10, seed: int = 0) -> VectorCircuit:
    """Fᵢ = x_{i−1}·xᵢ − x_{i+1} + sin(xᵢ): a tridiagonal Jacobian."""
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-1.0, 1.0, n)

    def fn(xs: Sequence[Num]) -> list[Num]:
        out = []
        for i in range(n):
            f = sin(xs[i])
            if i > 0:
                f = f + xs[i - 1] * xs[i]
            if i < n - 1:
                f = f - xs[i + 1]
            out.append(f)
        return out

    def jacobian(x: np.ndarray) -> np.ndarray:
        j = np.diag(np.cos(x))
        for i in range(n):
            if i > 0:
                j[i, i - 1] = x[i]
                j[i, i] += x[i - 1]
            if i < n - 1:
                j[i, i + 1] = -1.0
        return j

    return VectorCircuit(
        name=f"banded-{n}", inputs=tuple(f"x{i}" for i in range(1, n + 1)),
        values=tuple(x0.tolist()), outputs=n, fn=fn,
        description=f"a tridiagonal F on {n} inputs (3 colors whatever n)",
        jacobian=jacobian,
    )


def wide(n: int = 10, seed: int = 0) -> VectorCircuit:
    """Two outputs of n inputs, (Σ xᵢ², Σ sin(xᵢ)·xᵢ): reverse mode's case (m ≪ n)."""
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-1.0, 1.0, n)

    def fn(xs: Sequence[Num]) -> list[Num]:
        s, t = xs[0] * xs[0], sin(xs[0]) * xs[0]
        for x in xs[1:]:
            s = s + x * x
            t = t + sin(x) * x
        return [s, t]

    return VectorCircuit(
        name=f"wide-{n}", inputs=tuple(f"x{i}" for i in range(1, n + 1)),
        values=tuple(x0.tolist()), outputs=2, fn=fn,
        description=f"2 outputs of {n} inputs (Σ xᵢ², Σ xᵢ·sin xᵢ)",
        jacobian=lambda x: np.vstack([2 * x, np.sin(x) + x * np.cos(x)]),
    )


#: The vector built-ins: name → (maker, default n, smallest n, largest n, summary).
VECTOR_BUILTINS: dict[str, tuple[Callable[[int, int], VectorCircuit], int, int, int, str]] = {
    "axx": (axx, 10, 1, 2_000, "F(x) = (aᵀx)·x: O(n) to compute, dense n×n Jacobian"),
    "banded": (banded, 10, 3, 100_000, "tridiagonal F: 3 colors whatever n"),
    "wide": (wide, 10, 1, 100_000, "2 outputs of n inputs: reverse mode's case"),
}


def vector_builtin(name: str, n: int | None = None, seed: int = 0) -> VectorCircuit:
    """The vector built-in ``name`` of size ``n`` (a one-line error when out of range)."""
    make, default, lowest, highest, _ = VECTOR_BUILTINS[name]
    size = default if n is None else n
    if not lowest <= size <= highest:
        raise CheapgradError(f"--n for {name} must be between {lowest} and {highest:,}, "
                             f"got {size:,}")
    return make(size, seed)
