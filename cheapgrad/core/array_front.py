"""The numpy face shared by the two counted array types.

:class:`Front` turns numpy calls and operators into a handful of backend methods that
:class:`cheapgrad.core.array.CArray` (counted arrays, array level) and
:class:`cheapgrad.core.numarray.NumArray` (object arrays of counted scalars, element by
element) implement: ``b_elementwise``, ``b_compare``, ``b_matmul``, ``b_reduce``,
``b_select``, ``b_abs``, ``b_move``. So one user program runs on both unchanged, and
whatever numpy call is not listed here raises :class:`UnsupportedOperation`.

Conventions fixed here, for both engines: ``np.square(x)`` is ``x * x``; ``x ** 0.5`` is
``np.sqrt(x)``; a mean is the sum divided by the count; ``np.einsum`` of two operands is
the broadcast product summed over the contracted indices (as a matmul counts), of one
operand the sum over the indices not kept, a repeated index taking that diagonal first
(free); ``np.dot`` is ``@`` up to 2-d, above it the product of a's rows and b's columns.

Example::

    >>> UnsupportedOperation("np.fft").args
    ('np.fft',)
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import Any, NoReturn

import numpy as np

from cheapgrad.core import ops as _ops
from cheapgrad.errors import CheapgradError


class UnsupportedOperation(CheapgradError):
    """A numpy function or method that counted arrays do not implement (never an
    uncounted result)."""


def _refuse(what: str) -> NoReturn:
    raise UnsupportedOperation(
        f"{what} is not supported on counted arrays (supported: elementwise + - * / ** "
        "exp log tanh sqrt sin cos square abs maximum minimum where, comparisons, @ dot "
        "einsum, sum mean max min, reshape transpose swapaxes indexing take concatenate "
        "stack split tril triu)")


_UNARY = {np.exp: "exp", np.log: "log", np.tanh: "tanh", np.sin: "sin", np.cos: "cos",
          np.sqrt: "sqrt", np.negative: "neg"}
_BINARY = {np.add: "add", np.subtract: "sub", np.multiply: "mul", np.divide: "div"}
_COMPARE = {np.less: np.less, np.less_equal: np.less_equal, np.greater: np.greater,
            np.greater_equal: np.greater_equal, np.equal: np.equal,
            np.not_equal: np.not_equal}


class Front:
    """Operators, methods and numpy dispatch of a counted array (see module docstring)."""

    __slots__ = ()
    __array_priority__ = 1000.0
    v: np.ndarray

    # backend (implemented by the array types)
    @classmethod
    def lift(cls, x: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def b_elementwise(cls, op: _ops.Op, *args: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def b_compare(cls, fn: Callable[..., Any], a: Any, b: Any) -> np.ndarray:
        raise NotImplementedError

    @classmethod
    def b_matmul(cls, a: Any, b: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def b_reduce(cls, kind: str, a: Any, axis: Any, keepdims: bool) -> Any:
        raise NotImplementedError

    @classmethod
    def b_select(cls, kind: str, a: Any, b: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def b_abs(cls, a: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def b_move(cls, fn: Callable[..., Any], args: list[Any], data: list[int],
               kwargs: dict[str, Any]) -> Any:
        raise NotImplementedError

    # shape
    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.v.shape)

    @property
    def ndim(self) -> int:
        return int(self.v.ndim)

    @property
    def size(self) -> int:
        return int(self.v.size)

    def __len__(self) -> int:
        return len(self.v)

    @property
    def T(self) -> Any:  # noqa: N802 - numpy's name
        return self.transpose()

    # arithmetic
    def __add__(self, o: Any) -> Any:
        return self.b_elementwise(_ops.ADD, self, o)

    def __radd__(self, o: Any) -> Any:
        return self.b_elementwise(_ops.ADD, o, self)

    def __sub__(self, o: Any) -> Any:
        return self.b_elementwise(_ops.SUB, self, o)

    def __rsub__(self, o: Any) -> Any:
        return self.b_elementwise(_ops.SUB, o, self)

    def __mul__(self, o: Any) -> Any:
        return self.b_elementwise(_ops.MUL, self, o)

    def __rmul__(self, o: Any) -> Any:
        return self.b_elementwise(_ops.MUL, o, self)

    def __truediv__(self, o: Any) -> Any:
        return self.b_elementwise(_ops.DIV, self, o)

    def __rtruediv__(self, o: Any) -> Any:
        return self.b_elementwise(_ops.DIV, o, self)

    def __neg__(self) -> Any:
        return self.b_elementwise(_ops.NEG, self)

    def __pos__(self) -> Any:
        return self

    def __pow__(self, n: Any) -> Any:
        if isinstance(n, (int, float, np.integer, np.floating)) and not isinstance(n, bool):
            if float(n) == 0.5:
                return self.b_elementwise(_ops.SQRT, self)
            if float(n).is_integer():
                return self.b_elementwise(_ops.POW, self, int(n))
        _refuse(f"x ** {n!r} (exponents: integer constants and 0.5)")

    def __rpow__(self, o: Any) -> NoReturn:
        _refuse("a counted exponent (c ** x)")

    def __matmul__(self, o: Any) -> Any:
        return self.b_matmul(self, o)

    def __rmatmul__(self, o: Any) -> Any:
        return self.b_matmul(o, self)

    def __abs__(self) -> Any:
        return self.b_abs(self)

    # comparisons: one cmp per element, a plain bool array
    def __lt__(self, o: Any) -> np.ndarray:
        return self.b_compare(np.less, self, o)

    def __le__(self, o: Any) -> np.ndarray:
        return self.b_compare(np.less_equal, self, o)

    def __gt__(self, o: Any) -> np.ndarray:
        return self.b_compare(np.greater, self, o)

    def __ge__(self, o: Any) -> np.ndarray:
        return self.b_compare(np.greater_equal, self, o)

    def __eq__(self, o: Any) -> np.ndarray:  # type: ignore[override]
        return self.b_compare(np.equal, self, o)

    def __ne__(self, o: Any) -> np.ndarray:  # type: ignore[override]
        return self.b_compare(np.not_equal, self, o)

    __hash__ = object.__hash__

    # leaving the counted world is refused
    def __float__(self) -> NoReturn:
        _refuse("float() of a counted array")

    def __int__(self) -> NoReturn:
        _refuse("int() of a counted array")

    def __bool__(self) -> NoReturn:
        _refuse("the truth value of a counted array (compare, then use np.where)")

    def item(self, *args: Any) -> NoReturn:
        _refuse(".item()")

    def tolist(self) -> NoReturn:
        _refuse(".tolist()")

    def __array__(self, *args: Any, **kwargs: Any) -> NoReturn:
        _refuse("converting a counted array to a plain ndarray")

    def __setitem__(self, key: Any, value: Any) -> NoReturn:
        _refuse("assignment into a counted array (build it with np.where or concatenate)")

    # data movement (free)
    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, Front) or (isinstance(key, tuple)
                                      and any(isinstance(k, Front) for k in key)):
            _refuse("indexing with a counted array")
        return self.b_move(operator.getitem, [self, key], [0], {})

    def __iter__(self) -> Iterator[Any]:
        for i in range(len(self)):
            yield self[i]

    def reshape(self, *shape: Any, **kw: Any) -> Any:
        s = shape[0] if len(shape) == 1 else shape
        return self.b_move(np.reshape, [self, s], [0], kw)

    def transpose(self, *axes: Any) -> Any:
        a = None if not axes else (axes[0] if len(axes) == 1 else axes)
        return self.b_move(np.transpose, [self, a], [0], {})

    def swapaxes(self, a: int, b: int) -> Any:
        return self.b_move(np.swapaxes, [self, a, b], [0], {})

    def squeeze(self, axis: Any = None) -> Any:
        return self.b_move(np.squeeze, [self, axis], [0], {})

    def ravel(self) -> Any:
        return self.b_move(np.ravel, [self], [0], {})

    flatten = ravel

    # reductions
    def sum(self, axis: Any = None, keepdims: bool = False) -> Any:
        return self.b_reduce("sum", self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Any:
        return self.b_reduce("max", self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Any:
        return self.b_reduce("min", self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Any:
        s = self.b_reduce("sum", self, axis, keepdims)
        k = self.size // max(1, s.size)
        return self.b_elementwise(_ops.DIV, s, float(k))

    # numpy dispatch
    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if method != "__call__" or kwargs:
            _refuse(f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
                    + (f" with {', '.join(kwargs)}=" if kwargs else ""))
        cls = type(self)
        if ufunc in _UNARY:
            return cls.b_elementwise(_ops.OPS[_UNARY[ufunc]], *inputs)
        if ufunc in _BINARY:
            return cls.b_elementwise(_ops.OPS[_BINARY[ufunc]], *inputs)
        if ufunc in _COMPARE:
            return cls.b_compare(_COMPARE[ufunc], *inputs)
        if ufunc is np.power:
            if not isinstance(inputs[0], Front):
                _refuse("a counted exponent (c ** x)")
            return inputs[0] ** inputs[1]
        if ufunc is np.square:
            x = cls.lift(inputs[0])
            return cls.b_elementwise(_ops.MUL, x, x)
        if ufunc is np.positive:
            return cls.lift(inputs[0])
        if ufunc is np.absolute:
            return cls.b_abs(inputs[0])
        if ufunc in (np.maximum, np.minimum):
            return cls.b_select("max" if ufunc is np.maximum else "min", *inputs)
        if ufunc is np.matmul:
            return cls.b_matmul(*inputs)
        _refuse(f"np.{ufunc.__name__}")

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        handler = _FUNCTIONS.get(func)
        if handler is None:
            _refuse(f"np.{getattr(func, '__name__', func)}")
        return handler(type(self), *args, **kwargs)


def _dot(cls: Any, a: Any, b: Any) -> Any:
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return cls.b_elementwise(_ops.MUL, a, b)
    if np.ndim(a) <= 2 and np.ndim(b) <= 2:
        return cls.b_matmul(a, b)
    # above 2-d: a sum product over a's last axis and b's second-to-last, as numpy's
    # dot; counted as the matrix product (a's rows) @ (b's columns)
    x, y = cls.lift(a), cls.lift(b)
    k = x.shape[-1]
    right = y if y.ndim == 1 else np.moveaxis(y, -2, 0).reshape(k, -1)
    out = cls.b_matmul(x.reshape(-1, k), right)
    return out.reshape(x.shape[:-1] + (y.shape[:-2] + y.shape[-1:] if y.ndim > 1 else ()))


def _diagonal(v: np.ndarray, spec: str) -> np.ndarray:
    """The elements of ``v`` whose indices agree wherever ``spec`` repeats a letter
    (``'ii'``: the diagonal), one axis per distinct letter: data movement."""
    letters = list(dict.fromkeys(spec))
    grid = np.indices([v.shape[spec.index(c)] for c in letters], sparse=True)
    return v[tuple(grid[letters.index(c)] for c in spec)]


def _einsum(cls: Any, spec: str, *operands: Any, **kw: Any) -> Any:
    spec = spec.replace(" ", "")
    if len(operands) not in (1, 2) or kw or "->" not in spec or "." in spec:
        _refuse("np.einsum except one or two operands with an explicit '->'")
    ins, out = spec.split("->")
    subs = ins.split(",")
    xs = [cls.lift(x) for x in operands]
    if len(subs) != len(xs) or any(len(s) != x.ndim for s, x in zip(subs, xs, strict=True)) \
            or not set(out) <= set(ins) or len(set(out)) != len(out):
        _refuse(f"np.einsum('{spec}') (unknown or repeated output indices)")
    for i, (s, x) in enumerate(zip(subs, xs, strict=True)):
        if len(set(s)) != len(s):  # a repeated index: take that diagonal first (free)
            xs[i] = cls.b_move(_diagonal, [x, s], [0], {})
            subs[i] = "".join(dict.fromkeys(s))
    if len(xs) == 1:  # one operand: no product, a sum over the indices not kept
        x, sx = xs[0], subs[0]
        order = list(out) + [c for c in sx if c not in out]
        x = x.transpose(*[sx.index(c) for c in order]) if len(sx) > 1 else x
        return x if len(order) == len(out) else cls.b_reduce(
            "sum", x, tuple(range(len(out), len(order))), False)
    (a, b), (sa, sb) = xs, subs
    contracted = [c for c in dict.fromkeys(sa + sb) if c not in out]
    full = list(out) + contracted

    def aligned(x: Any, s: str) -> Any:
        x = x.transpose(*[s.index(c) for c in full if c in s]) if len(s) > 1 else x
        shape = [x.shape[[c for c in full if c in s].index(c)] if c in s else 1 for c in full]
        return x.reshape(tuple(shape))

    prod = cls.b_elementwise(_ops.MUL, aligned(a, sa), aligned(b, sb))
    if not contracted:
        return prod
    return cls.b_reduce("sum", prod, tuple(range(len(out), len(full))), False)


def _where(cls: Any, cond: Any, x: Any = None, y: Any = None) -> Any:
    if x is None or y is None or isinstance(cond, Front):
        _refuse("np.where with one argument or a counted condition")
    return cls.b_move(np.where, [np.asarray(cond, dtype=bool), x, y], [1, 2], {})


def _mover(fn: Callable[..., Any], data: int = 0) -> Callable[..., Any]:
    def handler(cls: Any, *args: Any, **kw: Any) -> Any:
        return cls.b_move(fn, list(args), [data], kw)
    return handler


def _reducer(kind: str) -> Callable[..., Any]:
    def handler(cls: Any, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        x = cls.lift(a)
        return x.mean(axis, keepdims) if kind == "mean" else cls.b_reduce(kind, x, axis,
                                                                          keepdims)
    return handler


def _const_like(fn: Callable[..., Any]) -> Callable[..., Any]:
    def handler(cls: Any, a: Any, *args: Any, **kw: Any) -> Any:
        return fn(np.empty(a.shape), *args, **kw)  # a constant: its values ignore a's
    return handler


_FUNCTIONS: dict[Any, Callable[..., Any]] = {
    np.sum: _reducer("sum"), np.mean: _reducer("mean"), np.max: _reducer("max"),
    np.amax: _reducer("max"), np.min: _reducer("min"), np.amin: _reducer("min"),
    np.dot: _dot, np.einsum: _einsum, np.where: _where,
    np.reshape: _mover(np.reshape), np.transpose: _mover(np.transpose),
    np.swapaxes: _mover(np.swapaxes), np.take: _mover(np.take),
    np.concatenate: _mover(np.concatenate), np.stack: _mover(np.stack),
    np.split: _mover(np.split), np.tril: _mover(np.tril), np.triu: _mover(np.triu),
    np.broadcast_to: _mover(np.broadcast_to), np.expand_dims: _mover(np.expand_dims),
    np.squeeze: _mover(np.squeeze), np.moveaxis: _mover(np.moveaxis),
    np.ravel: _mover(np.ravel),
    np.shape: lambda cls, a: a.shape, np.ndim: lambda cls, a: a.ndim,
    np.size: lambda cls, a: a.size,
    np.zeros_like: _const_like(np.zeros_like), np.ones_like: _const_like(np.ones_like),
    np.full_like: _const_like(np.full_like),
}
