"""The built-in circuits, each with an independent reference gradient.

============  =======================================================  ===================
name          f                                                        inputs
============  =======================================================  ===================
product       Speelpenning's x1·x2·…·xn (xi log-normal around 1)       x1 … xn
horner        c0 + c1·x + … + cn·xⁿ by Horner's rule                   c0 … cn, x
det           det A by Gaussian elimination without pivoting (A an    a_1_1 … a_n_n
              n×n diagonally dominant random matrix, I + U(−1,1)/n)    (row-major)
softmax-ce    −log softmax(z)_1 = log Σ exp(zj) − z1 (target class 1)  z1 … zn
mlp           the squared loss of an MLP spec (:mod:`.mlp`)            w{l}_{j}_{i}, b{l}_{j}
rosen         Σ 100(x_{i+1} − x_i²)² + (1 − x_i)² (chained Rosenbrock)  x1 … xn
mlp2          a 2-layer tanh MLP's mean squared loss on 8 fixed        w1_j_i, b1_j, w2_j, b2
              points of 4 features, n hidden units
============  =======================================================  ===================

Example::

    >>> c = builtin("product", 3)
    >>> c.name, c.inputs
    ('product-3', ('x1', 'x2', 'x3'))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cheapgrad.core.functions import exp, log, tanh
from cheapgrad.core.number import Num
from cheapgrad.errors import CheapgradError
from cheapgrad.models.circuit import Circuit


@dataclass(frozen=True)
class Builtin:
    """A built-in circuit family: ``make(n, seed)`` builds the circuit of size n."""

    name: str
    summary: str
    inputs: str
    default_n: int
    max_n: int
    make: Callable[[int, int], Circuit]


def _prod(xs: Sequence[Num]) -> Num:
    p = xs[0]
    for x in xs[1:]:
        p = p * x
    return p


def product(n: int = 10, seed: int = 0) -> Circuit:
    """Speelpenning's product x1·…·xn; ∂f/∂xi = ∏_{j≠i} xj (prefix times suffix)."""
    rng = np.random.default_rng(seed)
    values = np.exp(0.05 * rng.standard_normal(n))

    def reference(x: np.ndarray) -> np.ndarray:
        before = np.concatenate(([1.0], np.cumprod(x[:-1])))
        after = np.concatenate((np.cumprod(x[::-1][:-1])[::-1], [1.0]))
        return np.asarray(before * after)

    def hessian(x: np.ndarray) -> np.ndarray:
        h = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                if i != j:
                    h[i, j] = np.prod(np.delete(x, [i, j]))
        return h

    return Circuit(
        name=f"product-{n}", inputs=tuple(f"x{i}" for i in range(1, n + 1)),
        values=tuple(values.tolist()), fn=_prod, hessian=hessian,
        description=f"Speelpenning's product of {n} number{'' if n == 1 else 's'}",
        reference=reference, reference_name="closed form ∏_{j≠i} xj",
        numpy_fn=lambda x: float(np.prod(x)),
        complex_fn=lambda x: complex(np.prod(x)),
    )


def horner(n: int = 10, seed: int = 0) -> Circuit:
    """p(x) = Σ_k c_k x^k by Horner's rule; gradient w.r.t. c0..cn and x."""
    rng = np.random.default_rng(seed)
    coeffs = rng.standard_normal(n + 1)
    x0 = float(rng.uniform(-1.0, 1.0))

    def fn(ins: Sequence[Num]) -> Num:
        c, x = ins[:-1], ins[-1]
        p = c[n]
        for k in range(n - 1, -1, -1):
            p = p * x + c[k]
        return p

    def reference(v: np.ndarray) -> np.ndarray:
        c, x = v[:-1], v[-1]
        powers = x ** np.arange(n + 1)
        dx = float(np.sum(np.arange(1, n + 1) * c[1:] * powers[:-1])) if n else 0.0
        return np.concatenate((powers, [dx]))

    def numpy_fn(v: np.ndarray) -> float:
        return float(np.polynomial.polynomial.polyval(v[-1], v[:-1]))

    def complex_fn(v: np.ndarray) -> complex:
        return complex(np.polynomial.polynomial.polyval(v[-1], v[:-1]))

    return Circuit(
        name=f"horner-{n}", inputs=tuple(f"c{k}" for k in range(n + 1)) + ("x",),
        values=tuple(coeffs.tolist()) + (x0,), fn=fn,
        description=f"a degree-{n} polynomial by Horner's rule",
        reference=reference, reference_name="closed form ∂p/∂ck = xᵏ, ∂p/∂x = p'(x)",
        numpy_fn=numpy_fn, complex_fn=complex_fn,
    )


def det(n: int = 5, seed: int = 0) -> Circuit:
    """det A by Gaussian elimination without pivoting; ∇ det = det(A)·A⁻ᵀ (Jacobi)."""
    rng = np.random.default_rng(seed)
    # I + U(-1, 1)/n: strictly diagonally dominant (so no pivot is zero) and det A of
    # order one, so that central differences of det in float64 stay accurate.
    a0 = np.eye(n) + rng.uniform(-1.0, 1.0, (n, n)) / n

    def fn(ins: Sequence[Num]) -> Num:
        a = [list(ins[i * n:(i + 1) * n]) for i in range(n)]
        d = a[0][0]
        for k in range(n):
            pivot = a[k][k]
            if k:
                d = d * pivot
            row_k = a[k]
            for i in range(k + 1, n):
                row_i = a[i]
                m = row_i[k] / pivot
                for j in range(k + 1, n):
                    row_i[j] = row_i[j] - m * row_k[j]
        return d

    def reference(v: np.ndarray) -> np.ndarray:
        m = v.reshape(n, n)
        return np.asarray(np.linalg.det(m) * np.linalg.inv(m).T).ravel()

    return Circuit(
        name=f"det-{n}",
        inputs=tuple(f"a_{i}_{j}" for i in range(1, n + 1) for j in range(1, n + 1)),
        values=tuple(a0.ravel().tolist()), fn=fn,
        description=f"determinant of a {n}×{n} matrix by Gaussian elimination",
        reference=reference, reference_name="closed form det(A)·A⁻ᵀ (Jacobi's formula, numpy)",
        numpy_fn=lambda v: float(np.linalg.det(v.reshape(n, n))),
        complex_fn=lambda v: complex(np.linalg.det(v.reshape(n, n))),
    )


def softmax_ce(n: int = 10, seed: int = 0) -> Circuit:
    """Cross-entropy of softmax(z) with target class 1: log Σ_j exp(zj) − z1."""
    rng = np.random.default_rng(seed)
    z0 = rng.standard_normal(n)

    def fn(ins: Sequence[Num]) -> Num:
        s = exp(ins[0])
        for z in ins[1:]:
            s = s + exp(z)
        return log(s) - ins[0]

    def reference(z: np.ndarray) -> np.ndarray:
        p = np.exp(z - np.max(z))
        p = p / np.sum(p)
        p[0] -= 1.0
        return np.asarray(p)

    def numpy_fn(z: np.ndarray) -> float:
        m = float(np.max(z))
        return float(m + np.log(np.sum(np.exp(z - m))) - z[0])

    def complex_fn(z: np.ndarray) -> complex:
        m = float(np.max(z.real))
        return complex(m + np.log(np.sum(np.exp(z - m))) - z[0])

    return Circuit(
        name=f"softmax-ce-{n}", inputs=tuple(f"z{i}" for i in range(1, n + 1)),
        values=tuple(z0.tolist()), fn=fn,
        description=f"softmax cross-entropy over {n} logits, target class 1",
        reference=reference, reference_name="closed form softmax(z) − e1",
        numpy_fn=numpy_fn, complex_fn=complex_fn,
    )


def rosenbrock(n: int = 10, seed: int = 0) -> Circuit:
    """Rosenbrock's Σ_{i<n} 100(x_{i+1} − x_i²)² + (1 − x_i)²: a tridiagonal Hessian."""
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(-1.0, 1.0, n)

    def fn(xs: Sequence[Num]) -> Num:
        total: Num | float = 0.0
        for a, b in zip(xs[:-1], xs[1:], strict=True):
            total = total + 100.0 * (b - a * a) ** 2 + (1.0 - a) ** 2
        return total if isinstance(total, Num) else xs[0] * 0.0

    def reference(x: np.ndarray) -> np.ndarray:
        g = np.zeros(n)
        r = x[1:] - x[:-1] ** 2
        g[:-1] += -400.0 * x[:-1] * r - 2.0 * (1.0 - x[:-1])
        g[1:] += 200.0 * r
        return g

    def hessian(x: np.ndarray) -> np.ndarray:
        h = np.zeros((n, n))
        for i in range(n - 1):
            h[i, i] += 1200.0 * x[i] ** 2 - 400.0 * x[i + 1] + 2.0
            h[i + 1, i + 1] += 200.0
            h[i, i + 1] = h[i + 1, i] = -400.0 * x[i]
        return h

    def plain(x: np.ndarray) -> Any:
        return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    return Circuit(
        name=f"rosen-{n}", inputs=tuple(f"x{i}" for i in range(1, n + 1)),
        values=tuple(x0.tolist()), fn=fn, hessian=hessian,
        description=f"Rosenbrock's function of {n} variables",
        reference=reference, reference_name="closed form",
        numpy_fn=lambda x: float(plain(x)), complex_fn=lambda x: complex(plain(x)),
    )


def mlp2(n: int = 4, seed: int = 0) -> Circuit:
    """Mean squared loss of y = w2·tanh(W1 x + b1) + b2 over 8 fixed points of 4
    features, n hidden units: the parameters are the inputs."""
    rng = np.random.default_rng(seed)
    d, k = 4, 8
    data, target = rng.standard_normal((k, d)), rng.standard_normal(k)
    theta = 0.5 * rng.standard_normal(n * d + 2 * n + 1)
    names = ([f"w1_{j}_{i}" for j in range(1, n + 1) for i in range(1, d + 1)]
             + [f"b1_{j}" for j in range(1, n + 1)] + [f"w2_{j}" for j in range(1, n + 1)]
             + ["b2"])

    def fn(ps: Sequence[Num]) -> Num:
        w1, b1 = ps[:n * d], ps[n * d:n * d + n]
        w2, b2 = ps[n * d + n:n * d + 2 * n], ps[-1]
        loss: Num | float = 0.0
        for row, t in zip(data.tolist(), target.tolist(), strict=True):
            y = b2
            for j in range(n):
                a = b1[j]
                for i in range(d):
                    a = a + w1[j * d + i] * row[i]
                y = y + w2[j] * tanh(a)
            loss = loss + (y - t) ** 2
        assert isinstance(loss, Num)
        return loss / float(k)

    def plain(p: np.ndarray) -> Any:
        w1, b1 = p[:n * d].reshape(n, d), p[n * d:n * d + n]
        w2, b2 = p[n * d + n:n * d + 2 * n], p[-1]
        return np.mean((np.tanh(data @ w1.T + b1) @ w2 + b2 - target) ** 2)

    return Circuit(
        name=f"mlp2-{n}", inputs=tuple(names), values=tuple(theta.tolist()), fn=fn,
        description=f"a 2-layer tanh MLP ({d} → {n} → 1), mean squared loss on {k} points",
        numpy_fn=lambda p: float(plain(p)), complex_fn=lambda p: complex(plain(p)),
    )


def _make_mlp(n: int, seed: int) -> Circuit:  # pragma: no cover - mlp takes a spec
    raise CheapgradError("the mlp circuit is built from a spec, not from n")


BUILTINS: dict[str, Builtin] = {
    b.name: b for b in (
        Builtin("product", "Speelpenning's product x1·x2·…·xn", "x1 … xn", 10, 100_000,
                product),
        Builtin("horner", "degree-n polynomial by Horner's rule", "c0 … cn, x", 10, 100_000,
                horner),
        Builtin("det", "determinant by Gaussian elimination (no pivoting)",
                "a_1_1 … a_n_n (row-major)", 5, 60, det),
        Builtin("softmax-ce", "softmax cross-entropy over n logits (target class 1)",
                "z1 … zn", 10, 100_000, softmax_ce),
        Builtin("mlp", "the squared loss of an MLP spec (--spec, default lecture)",
                "w{l}_{j}_{i}, b{l}_{j}", 0, 0, _make_mlp),
        Builtin("rosen", "Rosenbrock's function of n variables (chained)", "x1 … xn", 10,
                100_000, rosenbrock),
        Builtin("mlp2", "2-layer tanh MLP loss, n hidden units, 8 points of 4 features",
                "w1_j_i, b1_j, w2_j, b2", 4, 1_000, mlp2),
    )
}


def builtin(name: str, n: int | None = None, seed: int = 0) -> Circuit:
    """The built-in ``name`` (not ``mlp``: see :func:`mlp`) of size ``n``."""
    b = BUILTINS[name]
    size = b.default_n if n is None else n
    if name == "mlp":
        raise CheapgradError("the mlp circuit is built from a spec, not from n")
    lowest = {"horner": 0, "rosen": 2}.get(name, 1)
    if not lowest <= size <= b.max_n:
        raise CheapgradError(f"--n for {name} must be between {lowest} and {b.max_n:,}, "
                             f"got {size:,}")
    return b.make(size, seed)
