"""Numpy programs: the bundled examples and loading ``FILE.py:FUNC``.

A program is an ordinary numpy function ``f(**arrays) -> scalar`` and its inputs (a
dict: parameter name -> float array). The bundled ones (``cheapgrad circuit --list``)
are written here as a user would write them; :func:`load_program` runs a user's file
(it is Python code: it runs, like a test file) and takes ``FUNC`` and the file's
``inputs()`` (or arrays from an ``.npz`` file).

Example::

    >>> name, f, inputs = load_program("np-logistic")
    >>> sorted(inputs), inputs["X"].shape
    (['X', 'w', 'y'], (32, 8))
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from cheapgrad.errors import CheapgradError

Program = tuple[str, Callable[..., Any], dict[str, np.ndarray]]


def _rng() -> np.random.Generator:
    return np.random.default_rng(0)


def logistic(w: Any, X: Any, y: Any) -> Any:  # noqa: N803 - the data matrix
    """Logistic regression: mean log loss of sigmoid(X w) against labels y."""
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p)).mean()


def softmax_ce(W: Any, X: Any, Y: Any) -> Any:  # noqa: N803
    """Softmax cross-entropy of a linear classifier (Y one-hot)."""
    z = X @ W
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -(Y * logp).sum() / X.shape[0]


def mlp(W1: Any, b1: Any, W2: Any, b2: Any, X: Any, Y: Any) -> Any:  # noqa: N803
    """A 2-layer tanh MLP on a batch, squared loss."""
    h = np.tanh(X @ W1 + b1)
    out = h @ W2 + b2
    return 0.5 * np.square(out - Y).sum()


def layernorm(g: Any, b: Any, X: Any) -> Any:  # noqa: N803
    """Layer norm of each row, then a loss: sum of squares of the normalised output."""
    mu = X.mean(axis=-1, keepdims=True)
    var = np.square(X - mu).mean(axis=-1, keepdims=True)
    y = g * (X - mu) / np.sqrt(var + 1e-5) + b
    return np.square(y).sum()


def attention(Wq: Any, Wk: Any, Wv: Any, X: Any) -> Any:  # noqa: N803
    """One causal attention head, then the sum of squares of its output."""
    T, d = X.shape[0], Wq.shape[1]
    q, k, v = X @ Wq, X @ Wk, X @ Wv
    s = (q @ k.T) / np.sqrt(d)
    s = np.where(np.tril(np.ones((T, T))) > 0, s, -1e9)
    p = np.exp(s - s.max(axis=-1, keepdims=True))
    p = p / p.sum(axis=-1, keepdims=True)
    return np.square(p @ v).sum()


def _examples() -> dict[str, tuple[Callable[..., Any], Callable[[], dict[str, Any]]]]:
    def logistic_inputs() -> dict[str, Any]:
        r = _rng()
        return {"w": r.normal(size=8) * 0.3, "X": r.normal(size=(32, 8)),
                "y": (r.random(32) < 0.5).astype(float)}

    def softmax_inputs() -> dict[str, Any]:
        r = _rng()
        return {"W": r.normal(size=(10, 5)) * 0.3, "X": r.normal(size=(16, 10)),
                "Y": np.eye(5)[r.integers(0, 5, 16)]}

    def mlp_inputs() -> dict[str, Any]:
        r = _rng()
        return {"W1": r.normal(size=(8, 16)) * 0.3, "b1": np.zeros(16),
                "W2": r.normal(size=(16, 2)) * 0.3, "b2": np.zeros(2),
                "X": r.normal(size=(32, 8)), "Y": r.normal(size=(32, 2))}

    def layernorm_inputs() -> dict[str, Any]:
        r = _rng()
        return {"g": np.ones(16), "b": np.zeros(16), "X": r.normal(size=(8, 16))}

    def attention_inputs() -> dict[str, Any]:
        r = _rng()
        return {"Wq": r.normal(size=(16, 8)) * 0.3, "Wk": r.normal(size=(16, 8)) * 0.3,
                "Wv": r.normal(size=(16, 8)) * 0.3, "X": r.normal(size=(12, 16))}

    return {"np-logistic": (logistic, logistic_inputs),
            "np-softmax-ce": (softmax_ce, softmax_inputs),
            "np-mlp": (mlp, mlp_inputs), "np-layernorm": (layernorm, layernorm_inputs),
            "np-attention": (attention, attention_inputs)}


EXAMPLES = _examples()


def example_listing() -> list[tuple[str, str]]:
    """(name, summary) of each bundled program."""
    return [(n, (f.__doc__ or "").strip()) for n, (f, _) in EXAMPLES.items()]


def load_program(target: str, inputs_path: str | None = None) -> Program:
    """A bundled example by name, or ``FILE.py:FUNC`` (runs the file). Raises
    :class:`CheapgradError` with one line for every bad input."""
    if target in EXAMPLES:
        fn, build = EXAMPLES[target]
        data = _npz(inputs_path) if inputs_path else build()
        return target, fn, _arrays(data, target)
    path, _, func = target.rpartition(":")
    if not path:
        path, func = target, ""
    if not func:
        raise CheapgradError(f"{target}: name the function, as FILE.py:FUNC")
    if not os.path.isfile(path):
        raise CheapgradError(f"{path}: no such file")
    module = _run_file(path)
    f: Any = getattr(module, func, None)
    if not callable(f):
        raise CheapgradError(f"{path}: no function {func!r}")
    if inputs_path:
        arrays = _npz(inputs_path)
    else:
        make: Any = getattr(module, "inputs", None)
        if not callable(make):
            raise CheapgradError(f"{path}: no inputs() function (or give --inputs data.npz)")
        try:
            arrays = make()
        except Exception as exc:  # the user's code: any error is bad input
            raise CheapgradError(f"{path}: inputs() failed: {type(exc).__name__}: {exc}"
                                 ) from None
    return func, f, _arrays(arrays, f"{path}: inputs()")


def _run_file(path: str) -> Any:
    name = "cheapgrad_program_" + os.path.splitext(os.path.basename(path))[0].replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CheapgradError(f"{path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise CheapgradError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:  # the user's code: any error is bad input
        raise CheapgradError(f"{path}: running the file failed: {type(exc).__name__}: {exc}"
                             ) from None
    finally:
        sys.modules.pop(name, None)
    return module


def _npz(path: str) -> dict[str, Any]:
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except (OSError, ValueError) as exc:
        raise CheapgradError(f"{path}: cannot read as .npz: {exc}") from None


def _arrays(arrays: Any, where: str) -> dict[str, np.ndarray]:
    if not isinstance(arrays, dict) or not arrays:
        raise CheapgradError(f"{where}: expected a dict of parameter name -> array, got "
                             f"{type(arrays).__name__}")
    out = {}
    for k, a in arrays.items():
        arr = np.asarray(a)
        if arr.dtype.kind not in "fiu":
            raise CheapgradError(f"{where}: {k!r} is not an array of floats ({arr.dtype})")
        out[str(k)] = arr.astype(np.float64)
    return out
