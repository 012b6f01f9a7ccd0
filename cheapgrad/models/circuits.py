"""Circuits to differentiate: the built-ins and YAML circuit files.

Built-ins (``cheapgrad circuit NAME --n N --seed S``), with their input names:

============  =======================================================  ===================
name          f                                                        inputs
============  =======================================================  ===================
product       Speelpenning's x1·x2·…·xn (xi log-normal around 1)       x1 … xn
horner        c0 + c1·x + … + cn·xⁿ by Horner's rule                   c0 … cn, x
det           det A by Gaussian elimination without pivoting (A an    a_1_1 … a_n_n
              n×n diagonally dominant random matrix, I + U(−1,1)/n)    (row-major)
softmax-ce    −log softmax(z)_1 = log Σ exp(zj) − z1 (target class 1)  z1 … zn
mlp           the squared loss of an MLP spec, as ``cheapgrad run``    w{l}_{j}_{i},
              counts it; gradient w.r.t. every weight                  b{l}_{j}
============  =======================================================  ===================

Each built-in carries an independent reference: the gradient in closed form in numpy
(product, horner, det by Jacobi's formula det(A)·A⁻ᵀ, softmax-ce) or, for ``mlp``, the
hand-written backprop of :func:`cheapgrad.analysis.run.run` and central differences of the
numpy loss.

A YAML circuit names its inputs and defines values by expressions
(:mod:`cheapgrad.models.expr`, never ``eval``)::

    name: logistic            # optional
    description: ...          # optional
    circuit:
      inputs: {x: 1.5, y: -0.3, z: 2.0}
      let:                    # optional; any order, no cycles
        t: x*y + sin(z)
        f: t / (1 + exp(-t))
      output: f               # a name or an expression

Every error names the file, the line, the field and, for an expression, the column.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from cheapgrad.analysis.circuit import Circuit, CircuitResult, max_rel_error
from cheapgrad.analysis.theory import predict, predicted_total
from cheapgrad.core import ops as _ops
from cheapgrad.core.number import Num, const, exp, log
from cheapgrad.errors import CheapgradError, DomainError, SpecError, TooLargeError
from cheapgrad.models.activations import ACTIVATIONS
from cheapgrad.models.expr import ExprError, Expression, parse
from cheapgrad.models.spec import Spec
from cheapgrad.models.yamlio import line_of, name_and_description, parse_yaml, read_text, shown

#: Most inputs (and most let bindings) a YAML circuit may have.
MAX_NAMES = 100_000
#: The traced MLP keeps every value; specs predicted to need more ops are refused.
MLP_MAX_OPS = 3_000_000
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class EvaluationError(DomainError):
    """A YAML circuit could not be evaluated (division by zero, log of a negative...);
    the message names the file, line and binding."""

    def __init__(self, where: str, exc: DomainError) -> None:
        super().__init__(exc.op, exc.args_values, exc.reason)
        self.where = where
        self.args = (f"{where}: cannot be evaluated: {exc}",)

    def __str__(self) -> str:
        return str(self.args[0])


# --- built-ins ---------------------------------------------------------------------------


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

    return Circuit(
        name=f"product-{n}", inputs=tuple(f"x{i}" for i in range(1, n + 1)),
        values=tuple(values.tolist()), fn=_prod,
        description=f"Speelpenning's product of {n} numbers",
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
        reference=reference, reference_name="Jacobi's formula det(A)·A⁻ᵀ (numpy)",
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


def mlp_input_names(spec: Spec) -> tuple[str, ...]:
    """w{l}_{j}_{i} for w_ji^(l) (1-based, layer by layer, row-major), then b{l}_{j};
    the order of :meth:`cheapgrad.models.mlp.Params.flat`."""
    w = spec.widths
    names = [f"w{lay}_{j}_{i}" for lay in range(1, len(w))
             for j in range(1, w[lay] + 1) for i in range(1, w[lay - 1] + 1)]
    if spec.bias:
        names += [f"b{lay}_{j}" for lay in range(1, len(w)) for j in range(1, w[lay] + 1)]
    return tuple(names)


def mlp(spec: Spec) -> Circuit:
    """The squared loss of ``spec``'s MLP (same weights, inputs and targets as
    ``cheapgrad run``), traced, with a comparison against the hand-written backprop."""
    from cheapgrad.models.mlp import init_params, numpy_loss, numpy_loss_complex

    total = predicted_total(predict(spec))
    if total > MLP_MAX_OPS:
        raise TooLargeError(
            f"{spec.name}: the traced MLP would record about {total:,} ops (all kept in "
            f"memory); the circuit command takes at most {MLP_MAX_OPS:,}: use a smaller spec")
    params = init_params(spec)
    shapes = [w.shape for w in params.W]
    n_weights = sum(r * c for r, c in shapes)
    acts = [ACTIVATIONS[a] for a in spec.activations]
    xs = params.x.tolist()
    ys = params.y.tolist()

    def fn(ins: Sequence[Num]) -> Num:
        W, pos = [], 0
        for rows, cols in shapes:
            W.append([list(ins[pos + r * cols:pos + (r + 1) * cols]) for r in range(rows)])
            pos += rows * cols
        b: list[list[Num]] | None = None
        if spec.bias:
            b, pos = [], n_weights
            for rows, _ in shapes:
                b.append(list(ins[pos:pos + rows]))
                pos += rows
        squares = []
        yhats = []
        for e in range(len(xs)):
            z = [const(v) for v in xs[e]]
            for lay, Wl in enumerate(W):
                a = [_dot(row, z) for row in Wl]
                if b is not None:
                    a = [aj + bj for aj, bj in zip(a, b[lay], strict=True)]
                z = [acts[lay].forward(aj) for aj in a] if lay < len(acts) else a
            yhats.append(z)
        for e in range(len(xs)):
            for yk, yhk in zip(ys[e], yhats[e], strict=True):
                r = const(yk) - yhk
                squares.append(r * r)
        s = squares[0]
        for q in squares[1:]:
            s = s + q
        return 0.5 * s

    def numpy_fn(theta: np.ndarray) -> float:
        return numpy_loss(spec, params.with_flat(theta))

    def complex_fn(theta: np.ndarray) -> complex:
        return numpy_loss_complex(spec, params.with_flat(theta))

    return Circuit(
        name=f"mlp-{spec.name}", inputs=mlp_input_names(spec),
        values=tuple(params.flat().tolist()), fn=fn,
        description=f"squared loss of the MLP {' → '.join(map(str, spec.widths))} "
                    f"({', '.join(spec.activations) or 'linear'}), as `cheapgrad run` has it",
        numpy_fn=numpy_fn, complex_fn=complex_fn, source=spec.source,
        compare=lambda result: compare_backprop(result, spec),
    )


def _dot(row: list[Num], z: list[Num]) -> Num:
    s = row[0] * z[0]
    for wi, zi in zip(row[1:], z[1:], strict=True):
        s = s + wi * zi
    return s


def compare_backprop(result: CircuitResult, spec: Spec) -> bool:
    """Put the hand-written backprop's counts and gradient beside generic reverse mode
    (``result.extra["backprop"]``); True when the two gradients agree to 1e-9."""
    from cheapgrad.analysis.run import run

    bp = run(spec, "scalar")
    bp_grad = bp.output.grads.flat()
    err = max_rel_error(result.gradient, bp_grad)
    bp_forward = bp.measured("forward") + bp.measured("loss")
    bp_backward = bp.measured("backward")
    generic_forward = result.counter.totals("forward")
    generic_backward = result.counter.totals("backward")
    diff = {k: generic_backward.counts[k] - bp_backward.counts[k]
            for k in generic_backward.counts
            if generic_backward.counts[k] != bp_backward.counts[k]}
    thrown = result.discarded.get("mul", 0)
    first_layer = widths_product(spec)
    why = [
        "Both differentiate the same forward pass "
        + ("(identical forward counts)." if generic_forward.counts == bp_forward.counts
           else "(forward counts DIFFER)."),
        "Each weight costs the same in both: its mul w·z gives the weight's gradient g·z "
        "(δ_j·z_i) and g·w, a term of Σ_k w_kj·δ_k; a z used by several units gets one "
        "add per extra use.",
        f"The table's rules compute every operand's adjoint, even a constant's: {thrown:,} "
        f"mul contributions were computed and thrown away, the {first_layer:,} muls w·x "
        "of layer 1 (the input x is a constant; backprop has no δ for it) and the "
        "constant 0.5 of the loss.",
        "Backprop starts from δ = ŷ − y (one sub per output); the generic sweep "
        "differentiates the loss itself: 0.5·s (two muls, one thrown away), each r·r "
        "(two muls and an add) and each r = y − ŷ (a neg).",
        "An activation costs what its rules cost: tanh's g·(1 − z·z) is three ops, as "
        "backprop's h' and product; sigmoid, built from neg, exp, add and div, goes "
        "through four rules where backprop uses z·(1 − z).",
    ]
    result.extra["backprop"] = {
        "cost_f": bp.cost_f,
        "cost_f_and_grad": bp.cost_f_and_grad,
        "ratio": bp.ratio,
        "holds": bp.holds,
        "forward": bp_forward.nonzero(),
        "backward": bp_backward.nonzero(),
        "generic_backward": generic_backward.nonzero(),
        "backward_difference": diff,
        "forward_counts_equal": generic_forward.counts == bp_forward.counts,
        "gradient_max_rel_difference": err,
        "gradients_agree": err <= 1e-9,
        "why": why,
    }
    return err <= 1e-9 and bp.passed


def widths_product(spec: Spec) -> int:
    """Muls w·x of the first layer over the batch: B·d1·d0."""
    return spec.batch * spec.widths[0] * spec.widths[1]


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
    )
}


def builtin(name: str, n: int | None = None, seed: int = 0) -> Circuit:
    """The built-in ``name`` (not ``mlp``: see :func:`mlp`) of size ``n``."""
    b = BUILTINS[name]
    size = b.default_n if n is None else n
    if name == "mlp":
        raise CheapgradError("the mlp circuit is built from a spec, not from n")
    lowest = 1 if name != "horner" else 0
    if not lowest <= size <= b.max_n:
        raise CheapgradError(f"--n for {name} must be between {lowest} and {b.max_n:,}, "
                             f"got {size:,}")
    return b.make(size, seed)


# --- bundled examples ----------------------------------------------------------------------


def bundled_names() -> list[str]:
    """Names of the example circuit files shipped inside the package."""
    folder = resources.files("cheapgrad") / "configs" / "circuits"
    if not folder.is_dir():
        return []
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def bundled_text(name: str) -> str:
    """The text of a bundled example circuit."""
    return (resources.files("cheapgrad") / "configs" / "circuits" / f"{name}.yaml").read_text(
        "utf-8")


# --- YAML circuits ----------------------------------------------------------------------


def load_circuit(path: str | Path) -> Circuit:
    """Read and validate a YAML circuit file."""
    return circuit_from_yaml(read_text(path), str(path))


def circuit_from_yaml(text: str, source: str | None = None) -> Circuit:
    """Validate a YAML circuit given as text (see the module docstring)."""
    data, lines = parse_yaml(text, source)
    return circuit_from_dict(data, source, lines, _value_marks(text), text)


def _value_marks(text: str) -> dict[str, tuple[int, int, str]]:
    """For circuit.let.NAME and circuit.output: (line, column, style) of the value,
    0-based, where the YAML text is well formed (errors come from parse_yaml)."""
    marks: dict[str, tuple[int, int, str]] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return marks
    if not isinstance(root, yaml.MappingNode):
        return marks
    for k, v in root.value:
        if k.value != "circuit" or not isinstance(v, yaml.MappingNode):
            continue
        for k2, v2 in v.value:
            if k2.value == "output" and isinstance(v2, yaml.ScalarNode):
                marks["circuit.output"] = (v2.start_mark.line, v2.start_mark.column,
                                           v2.style or "")
            if k2.value == "let" and isinstance(v2, yaml.MappingNode):
                for k3, v3 in v2.value:
                    if isinstance(v3, yaml.ScalarNode):
                        marks[f"circuit.let.{k3.value}"] = (
                            v3.start_mark.line, v3.start_mark.column, v3.style or "")
    return marks


def _article(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


class _Loader:
    def __init__(self, source: str | None, lines: dict[str, int],
                 marks: dict[str, tuple[int, int, str]], text_lines: list[str]) -> None:
        self.source = source
        self.lines = lines
        self.marks = marks
        self.text_lines = text_lines

    def line(self, field: str) -> int | None:
        return line_of(self.lines, field)

    def fail(self, field: str, message: str) -> SpecError:
        return SpecError(message, path=self.source, line=self.line(field), field=field)

    def expr_fail(self, field: str, err: ExprError, text: str) -> SpecError:
        line = self.line(field)
        if err.column is None:
            return SpecError(err.reason, path=self.source, line=line, field=field)
        mark = self.marks.get(field)
        if mark is not None and mark[2] in ("", "'", '"'):
            row, col0, style = mark
            start = col0 + (1 if style else 0)
            src = self.text_lines[row] if row < len(self.text_lines) else ""
            if src[start:start + len(text)] == text:
                return SpecError(f"column {start + err.column}: {err.reason}", path=self.source,
                                 line=row + 1, field=field)
        return SpecError(f"column {err.column} of the expression: {err.reason}",
                         path=self.source, line=line, field=field)

    def expression(self, field: str, raw: Any) -> Expression:
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise self.fail(field, f"must be an expression (text or a number), got {shown(raw)}")
        text = raw if isinstance(raw, str) else repr(raw)
        try:
            return parse(text)
        except ExprError as err:
            raise self.expr_fail(field, err, text) from None

    def name(self, field: str, name: str, what: str) -> None:
        if not _NAME.match(name):
            raise self.fail(field, f"'{name}' is not a valid {what} name (letters, digits and "
                                   "_, not starting with a digit)")
        if name in _ops.FUNCTIONS:
            raise self.fail(field, f"'{name}' is a function name and cannot be the name "
                                   f"of {_article(what)}")
        import keyword

        if keyword.iskeyword(name):
            raise self.fail(field, f"'{name}' is a reserved word and cannot be the name "
                                   f"of {_article(what)}")


def circuit_from_dict(data: Any, source: str | None = None,
                      lines: dict[str, int] | None = None,
                      marks: dict[str, tuple[int, int, str]] | None = None,
                      text: str = "") -> Circuit:
    """Validate plain data (as loaded from YAML) into a
    :class:`~cheapgrad.analysis.circuit.Circuit`."""
    ld = _Loader(source, lines or {}, marks or {}, text.splitlines())
    if data is None:
        raise SpecError("the circuit file is empty", path=source)
    if not isinstance(data, dict):
        raise SpecError(f"a circuit file must be a mapping with a 'circuit' key, got "
                        f"{shown(data)}", path=source, line=1)
    for key in data:
        if key not in ("name", "description", "circuit"):
            raise ld.fail(key, "unknown key; known keys: name, description, circuit")
    if "circuit" not in data:
        raise SpecError("missing required key 'circuit'", path=source, field="circuit")
    name, description = name_and_description(data, source, "circuit", ld.fail)
    body = data["circuit"]
    if not isinstance(body, dict):
        raise ld.fail("circuit", f"must be a mapping with inputs, let and output, got "
                                 f"{shown(body)}")
    for key in body:
        if key not in ("inputs", "let", "output"):
            raise ld.fail(f"circuit.{key}", "unknown key; known keys: inputs, let, output")
    for required in ("inputs", "output"):
        if required not in body:
            raise ld.fail("circuit", f"missing required key '{required}'")

    raw_inputs = body["inputs"]
    if not isinstance(raw_inputs, dict) or not raw_inputs:
        got = "an empty mapping" if raw_inputs == {} else shown(raw_inputs)
        raise ld.fail("circuit.inputs", "must be a mapping of input names to numbers, e.g. "
                                        f"{{x: 1.5, y: -0.3}}, got {got}")
    if len(raw_inputs) > MAX_NAMES:
        raise ld.fail("circuit.inputs", f"at most {MAX_NAMES:,} inputs")
    inputs: dict[str, float] = {}
    for key, value in raw_inputs.items():
        field = f"circuit.inputs.{key}"
        ld.name(field, key, "input")
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ld.fail(field, f"must be a number, got {shown(value)}")
        try:
            number = float(value)
        except OverflowError:
            raise ld.fail(field, "is too large for a float64") from None
        if not math.isfinite(number):
            raise ld.fail(field, f"must be a finite number, got {value}")
        inputs[key] = number

    raw_let = body.get("let") or {}
    if not isinstance(raw_let, dict):
        raise ld.fail("circuit.let", f"must be a mapping of names to expressions, got "
                                     f"{shown(raw_let)}")
    if len(raw_let) > MAX_NAMES:
        raise ld.fail("circuit.let", f"at most {MAX_NAMES:,} bindings")
    lets: dict[str, Expression] = {}
    for key, raw in raw_let.items():
        field = f"circuit.let.{key}"
        ld.name(field, key, "let")
        if key in inputs:
            raise ld.fail(field, f"'{key}' is already an input")
        lets[key] = ld.expression(field, raw)
    output = ld.expression("circuit.output", body["output"])

    known = set(inputs) | set(lets)
    for key, e in [*lets.items(), ("", output)]:
        field = f"circuit.let.{key}" if key else "circuit.output"
        for used in e.names:
            if used not in known:
                err = ExprError(f"unknown name '{used}'; known: "
                                + ", ".join(list(inputs) + list(lets)), e.column_of(used))
                raise ld.expr_fail(field, err, e.text)
    order = _let_order(lets, output, ld)
    input_names = tuple(inputs)
    where = {key: _where(ld, f"circuit.let.{key}") for key in order}
    out_where = _where(ld, "circuit.output")

    def fn(ins: Sequence[Num]) -> Num:
        env = dict(zip(input_names, ins, strict=True))
        for key in order:
            try:
                env[key] = lets[key].evaluate(env)
            except EvaluationError:
                raise
            except DomainError as exc:
                raise EvaluationError(where[key], exc) from None
        try:
            return output.evaluate(env)
        except DomainError as exc:
            raise EvaluationError(out_where, exc) from None

    return Circuit(name=name, inputs=input_names, values=tuple(inputs.values()), fn=fn,
                   description=description, source=source)


def _where(ld: _Loader, field: str) -> str:
    line = ld.line(field)
    place = ld.source or ""
    if line is not None:
        place = f"{place}:{line}" if place else f"line {line}"
    return f"{place}: {field}" if place else field


def _let_order(lets: dict[str, Expression], output: Expression, ld: _Loader) -> list[str]:
    """The bindings the output needs, each after those it uses; a cycle anywhere in
    ``let`` is an error naming it."""
    deps = {k: [u for u in e.names if u in lets] for k, e in lets.items()}
    state: dict[str, int] = {}
    for root in lets:
        if root in state:
            continue
        state[root] = 1
        path = [root]
        stack = [iter(deps[root])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                state[path.pop()] = 2
                continue
            s = state.get(nxt, 0)
            if s == 1:
                cycle = path[path.index(nxt):] + [nxt]
                raise ld.fail(f"circuit.let.{nxt}", "cycle in let: " + " -> ".join(cycle))
            if s == 0:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(deps[nxt]))
    # Needed bindings in dependency order (iterative post-order from the output).
    order: list[str] = []
    done: set[str] = set()
    for root in [u for u in output.names if u in lets]:
        if root in done:
            continue
        work: list[tuple[str, bool]] = [(root, False)]
        while work:
            key, expanded = work.pop()
            if key in done:
                continue
            if expanded:
                done.add(key)
                order.append(key)
                continue
            work.append((key, True))
            work.extend((u, False) for u in reversed(deps[key]) if u not in done)
    return order


# --- resolving a name or a path ------------------------------------------------------------


def resolve(target: str, *, n: int | None = None, seed: int | None = None,
            spec: Spec | None = None) -> Circuit:
    """A circuit from a built-in name, a YAML file, or a bundled example's name.

    ``n`` and ``seed`` apply to built-ins (``seed`` also to ``mlp``, replacing the
    spec's); ``spec`` is the MLP spec of the ``mlp`` built-in (required for it).
    """
    if target in BUILTINS:
        if target == "mlp":
            if spec is None:
                raise CheapgradError("the mlp circuit needs a spec")
            if n is not None:
                raise CheapgradError("--n does not apply to mlp: its size comes from the "
                                     "spec (--spec)")
            if seed is not None:
                spec = dataclasses.replace(spec, seed=seed)
            return mlp(spec)
        return builtin(target, n, 0 if seed is None else seed)
    path = Path(target)
    stem = path.name.rsplit(".", 1)[0]
    if not path.exists() and target.endswith((".yaml", ".yml")) and stem in bundled_names():
        raise CheapgradError(f"{target}: no such file (a bundled example is named '{stem}': "
                             "use that name)")
    if path.exists() or target.endswith((".yaml", ".yml")):
        circuit = load_circuit(path)
    elif target in bundled_names():
        circuit = circuit_from_yaml(bundled_text(target), f"{target} (bundled)")
    else:
        import difflib

        close = difflib.get_close_matches(target, [*BUILTINS, *bundled_names()], n=1,
                                          cutoff=0.6)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        raise CheapgradError(
            f"no circuit '{target}'{hint}: not a file, a built-in ({', '.join(BUILTINS)}) "
            f"or a bundled example ({', '.join(bundled_names()) or 'none'})")
    if n is not None or seed is not None:
        raise CheapgradError("--n and --seed apply to built-in circuits only; a circuit "
                             "file gives its own input values")
    return circuit

