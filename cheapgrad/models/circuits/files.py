"""YAML circuit files, and the examples bundled with cheapgrad.

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

Example::

    >>> c = circuit_from_yaml("circuit: {inputs: {x: 2.0}, output: x*x}", "sq.yaml")
    >>> c.name, c.inputs, c.values
    ('sq', ('x',), (2.0,))
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from cheapgrad.core import ops as _ops
from cheapgrad.core.number import Num
from cheapgrad.errors import DomainError, SpecError
from cheapgrad.models.bundled import circuit_names, circuit_text
from cheapgrad.models.circuit import Circuit
from cheapgrad.models.expr import ExprError, Expression, parse
from cheapgrad.models.yamlio import line_of, name_and_description, parse_yaml, read_text, shown

#: Most inputs (and most let bindings) a YAML circuit may have.
MAX_NAMES = 100_000
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


#: The bundled example circuits (the same functions as :mod:`cheapgrad.models.bundled`'s).
bundled_names = circuit_names
bundled_text = circuit_text


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

    def mapping(self, field: str, raw: Any, what: str, items: str,
                empty_ok: bool = True) -> dict[str, Any]:
        """``raw`` checked to be a mapping of ``what`` with at most :data:`MAX_NAMES`
        ``items`` (and, unless ``empty_ok``, at least one)."""
        if not isinstance(raw, dict) or not (raw or empty_ok):
            got = "an empty mapping" if raw == {} else shown(raw)
            raise self.fail(field, f"must be a mapping of {what}, got {got}")
        if len(raw) > MAX_NAMES:
            raise self.fail(field, f"at most {MAX_NAMES:,} {items}")
        return raw

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
            if "circuit" not in data and key in ("input_dim", "hidden", "activation"):
                raise ld.fail(key, "this is an MLP spec, not a circuit file: run it with "
                              "'cheapgrad run FILE' (or 'cheapgrad circuit mlp --spec FILE')")
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

    raw_inputs = ld.mapping("circuit.inputs", body["inputs"], "input names to numbers, "
                            "e.g. {x: 1.5, y: -0.3}", "inputs", empty_ok=False)
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

    raw_let = ld.mapping("circuit.let", body.get("let") or {}, "names to expressions",
                         "bindings")
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

    def evaluated(place: str, expr: Expression, env: dict[str, Any], plain: bool) -> Any:
        """One expression, counted or (``plain``) uncounted on plain numbers or arrays
        (:meth:`~cheapgrad.models.expr.Expression.evaluate_plain`); a failure names
        ``place``, the binding."""
        try:
            return expr.evaluate_plain(env) if plain else expr.evaluate(env)
        except EvaluationError:
            raise
        except DomainError as exc:
            raise EvaluationError(place, exc) from None

    def run(ins: Sequence[Any], plain: bool) -> Any:
        env = dict(zip(input_names, ins, strict=True))
        for key in order:
            env[key] = evaluated(where[key], lets[key], env, plain)
        return evaluated(out_where, output, env, plain)

    def fn(ins: Sequence[Num]) -> Num:
        return run(ins, False)

    def plain(ins: Sequence[Any]) -> Any:
        """f uncounted on plain numbers or arrays (one per input)."""
        return run(ins, True)

    def batch(points: np.ndarray) -> np.ndarray:
        return np.broadcast_to(plain(list(points.T)), points.shape[:1])

    return Circuit(name=name, inputs=input_names, values=tuple(inputs.values()), fn=fn,
                   description=description, source=source,
                   numpy_fn=lambda x: float(plain(x.tolist())),
                   complex_fn=lambda z: complex(plain(z.tolist())), batch_fn=batch)


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
