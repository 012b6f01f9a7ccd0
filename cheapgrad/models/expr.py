"""A whitelist parser for circuit expressions: never ``eval``, never ``exec``.

The grammar is the arithmetic of the op table and nothing else::

    expr   := term (("+" | "-") term)*
    term   := unary (("*" | "/") unary)*
    unary  := "-" unary | power
    power  := atom ("**" exponent)?
    atom   := NUMBER | NAME | FUNCTION "(" expr ")" | "(" expr ")"
    exponent := ["-"] INTEGER | "(" ["-"] INTEGER ")"

``FUNCTION`` is one of :data:`cheapgrad.core.ops.FUNCTIONS` (exp, log, tanh, sin, cos,
sqrt). As in Python, ``-x**2`` is ``-(x**2)``. A minus before a bare number
(``-1.5``, ``-(2)``) makes a negative constant, not a counted ``neg``. The exponent of
``**`` must be an integer literal of size at most :data:`MAX_EXPONENT`: the op table's
``pow`` takes a constant integer exponent. Anything else (strings, attribute access, subscripts,
commas, keywords such as ``lambda``, unknown functions) is rejected with its column.

Parsing produces postfix code that :meth:`Expression.evaluate` runs with an explicit
stack on counted numbers, so a long sum does not recurse; the parser itself recurses
only on nesting, which is limited to :data:`MAX_DEPTH` levels.
:meth:`Expression.evaluate_plain` runs the same code, uncounted, on plain numbers:
floats, complex numbers or numpy arrays of either (many points at once), for the
gradient check's reference derivatives.

Example::

    >>> from cheapgrad.core.number import var
    >>> e = parse("x*y + sin(z)")
    >>> e.names
    ('x', 'y', 'z')
    >>> round(e.evaluate({"x": var(1.5), "y": var(-0.3), "z": var(0.0)}).v, 12)
    -0.45
    >>> complex(e.evaluate_plain({"x": 1.5, "y": -0.3 + 1e-30j, "z": 0.0})).imag / 1e-30
    1.5
"""

from __future__ import annotations

import keyword
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cheapgrad.core import ops as _ops
from cheapgrad.core.number import Num, apply, const
from cheapgrad.errors import CheapgradError
from cheapgrad.models.plainexpr import evaluate_code

#: Longest expression accepted, in characters.
MAX_LENGTH = 10_000
#: Deepest nesting of parentheses, calls and unary minus.
MAX_DEPTH = 64
#: Largest absolute integer exponent of ``**``.
MAX_EXPONENT = 64

_OPERATORS = ("**", "+", "-", "*", "/", "(", ")")
_BINARY = {"+": "add", "-": "sub", "*": "mul", "/": "div"}


class ExprError(CheapgradError):
    """An expression is invalid. ``column`` is 1-based within the expression text."""

    def __init__(self, reason: str, column: int | None = None) -> None:
        self.reason = reason
        self.column = column
        where = f"column {column}: " if column is not None else ""
        super().__init__(f"{where}{reason}")


@dataclass(frozen=True)
class _Token:
    kind: str  # "num", "name", "op", "end"
    text: str
    column: int  # 1-based


# One instruction of the postfix code: (opcode, argument, column).
Instr = tuple[str, object, int]


def _allowed() -> str:
    return ("numbers, names, + - * / **, parentheses and the functions "
            + ", ".join(_ops.FUNCTIONS))


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        col = i + 1
        if ch in " \t\r\n":
            i += 1
            continue
        if ch.isascii() and (ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit())):
            j = i
            while j < n and text[j].isascii() and text[j].isdigit():
                j += 1
            if j < n and text[j] == ".":
                j += 1
                while j < n and text[j].isascii() and text[j].isdigit():
                    j += 1
            if j < n and text[j] in "eE":
                k = j + 1
                if k < n and text[k] in "+-":
                    k += 1
                if k < n and text[k].isascii() and text[k].isdigit():
                    while k < n and text[k].isascii() and text[k].isdigit():
                        k += 1
                    j = k
            tokens.append(_Token("num", text[i:j], col))
            i = j
            continue
        if ch.isascii() and (ch.isalpha() or ch == "_"):
            j = i
            while j < n and text[j].isascii() and (text[j].isalnum() or text[j] == "_"):
                j += 1
            if keyword.iskeyword(text[i:j]):
                raise ExprError(f"'{text[i:j]}' is not allowed; only " + _allowed(), col)
            tokens.append(_Token("name", text[i:j], col))
            i = j
            continue
        if text.startswith("**", i):
            tokens.append(_Token("op", "**", col))
            i += 2
            continue
        if ch in "+-*/()":
            tokens.append(_Token("op", ch, col))
            i += 1
            continue
        if ch == ".":
            raise ExprError("attribute access ('.') is not allowed; only " + _allowed(), col)
        if ch in "'\"":
            raise ExprError("text (quotes) is not allowed; only " + _allowed(), col)
        if ch in "[]{}":
            raise ExprError(f"'{ch}' is not allowed; only " + _allowed(), col)
        if ch == ",":
            raise ExprError("',' is not allowed: functions take exactly one argument", col)
        if ch == "^":
            raise ExprError("'^' is not an operator here; write x**2 for a power", col)
        raise ExprError(f"unexpected character {ch!r}; only " + _allowed(), col)
    tokens.append(_Token("end", "", n + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.pos = 0
        self.depth = 0
        self.code: list[Instr] = []

    @property
    def tok(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        t = self.tokens[self.pos]
        self.pos += 1
        return t

    def enter(self, column: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"nested more than {MAX_DEPTH} levels deep", column)

    def unexpected(self, expected: str) -> ExprError:
        t = self.tok
        if t.kind == "end":
            return ExprError(f"the expression ends too early; expected {expected}", t.column)
        if t.kind == "name" and keyword.iskeyword(t.text):
            return ExprError(f"'{t.text}' is not allowed; only " + _allowed(), t.column)
        what = {"num": "number", "name": "name", "op": ""}[t.kind]
        shown = f"{what} '{t.text}'".strip()
        return ExprError(f"unexpected {shown}; expected {expected}", t.column)

    def parse(self) -> list[Instr]:
        self.expr()
        if self.tok.kind != "end":
            raise self.unexpected("an operator (+ - * / **) or the end")
        return self.code

    def expr(self) -> None:
        self.term()
        while self.tok.kind == "op" and self.tok.text in "+-":
            t = self.advance()
            self.term()
            self.code.append((_BINARY[t.text], None, t.column))

    def term(self) -> None:
        self.unary()
        while self.tok.kind == "op" and self.tok.text in ("*", "/"):
            t = self.advance()
            self.unary()
            self.code.append((_BINARY[t.text], None, t.column))

    def unary(self) -> None:
        if self.tok.kind == "op" and self.tok.text == "-":
            t = self.advance()
            self.enter(t.column)
            start = len(self.code)
            self.unary()
            self.depth -= 1
            if len(self.code) == start + 1 and self.code[-1][0] == "const":
                # A negated literal (-1.5, -(2)) is a constant, not a counted neg.
                self.code[-1] = ("const", -float(self.code[-1][1]), t.column)  # type: ignore[arg-type]
            else:
                self.code.append(("neg", None, t.column))
            return
        if self.tok.kind == "op" and self.tok.text == "+":
            raise ExprError("unary '+' is not allowed; write the operand alone", self.tok.column)
        self.power()

    def power(self) -> None:
        self.atom()
        if self.tok.kind == "op" and self.tok.text == "**":
            t = self.advance()
            self.code.append(("pow", self.exponent(), t.column))

    def exponent(self) -> int:
        paren = self.tok.kind == "op" and self.tok.text == "("
        if paren:
            self.advance()
        sign = 1
        if self.tok.kind == "op" and self.tok.text == "-":
            sign = -1
            self.advance()
        t = self.tok
        if t.kind != "num" or not t.text.isdigit():
            raise ExprError(
                "the exponent of ** must be an integer written out, e.g. x**2 or x**-1", t.column)
        k = int(t.text) if len(t.text) <= 6 else MAX_EXPONENT + 1
        if k > MAX_EXPONENT:
            raise ExprError(f"the exponent of ** must be at most {MAX_EXPONENT} in size, "
                            f"got {t.text if len(t.text) <= 20 else t.text[:20] + '...'}",
                            t.column)
        self.advance()
        if paren:
            if not (self.tok.kind == "op" and self.tok.text == ")"):
                raise self.unexpected("')' closing the exponent")
            self.advance()
        if self.tok.kind == "op" and self.tok.text == "**":
            raise ExprError("chained powers (a**b**c) are not allowed; use parentheses",
                            self.tok.column)
        return sign * k

    def atom(self) -> None:
        t = self.tok
        if t.kind == "num":
            self.advance()
            value = float(t.text)
            if not math.isfinite(value):
                raise ExprError(f"the number {t.text[:20]} is too large", t.column)
            self.code.append(("const", value, t.column))
            return
        if t.kind == "name":
            if keyword.iskeyword(t.text):
                raise ExprError(f"'{t.text}' is not allowed; only " + _allowed(), t.column)
            self.advance()
            if self.tok.kind == "op" and self.tok.text == "(":
                if t.text not in _ops.FUNCTIONS:
                    raise ExprError(f"unknown function '{t.text}'; functions: "
                                    + ", ".join(_ops.FUNCTIONS), t.column)
                self.advance()
                self.enter(t.column)
                self.expr()
                self.depth -= 1
                if not (self.tok.kind == "op" and self.tok.text == ")"):
                    raise self.unexpected(f"')' closing {t.text}(")
                self.advance()
                self.code.append(("call", t.text, t.column))
                return
            if t.text in _ops.FUNCTIONS:
                raise ExprError(f"'{t.text}' is a function: call it, e.g. {t.text}(x)",
                                t.column)
            self.code.append(("name", t.text, t.column))
            return
        if t.kind == "op" and t.text == "(":
            self.advance()
            self.enter(t.column)
            self.expr()
            self.depth -= 1
            if not (self.tok.kind == "op" and self.tok.text == ")"):
                raise self.unexpected("')'")
            self.advance()
            return
        raise self.unexpected("a number, a name, a function call or '('")


@dataclass(frozen=True)
class Expression:
    """A parsed expression: its text and postfix code (see :func:`parse`)."""

    text: str
    code: tuple[Instr, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """The variable names used, in order of first use, each once."""
        seen: dict[str, None] = {}
        for op, arg, _ in self.code:
            if op == "name":
                seen.setdefault(str(arg), None)
        return tuple(seen)

    def column_of(self, name: str) -> int | None:
        """The column of the first use of ``name``."""
        for op, arg, col in self.code:
            if op == "name" and arg == name:
                return col
        return None

    def evaluate(self, env: Mapping[str, Num]) -> Num:
        """Run the expression on counted numbers (every op counted where it runs).

        Raises :class:`ExprError` for an unknown name and lets
        :class:`~cheapgrad.errors.DomainError` (division by zero, log of a negative
        number) through.
        """
        stack: list[Num] = []
        for op, arg, col in self.code:
            if op == "const":
                stack.append(const(float(arg)))  # type: ignore[arg-type]
            elif op == "name":
                value = env.get(str(arg))
                if value is None:
                    raise ExprError(f"unknown name '{arg}'", col)
                stack.append(value)
            elif op == "neg":
                stack.append(-stack.pop())
            elif op == "call":
                stack.append(apply(_ops.FUNCTIONS[str(arg)], stack.pop()))
            elif op == "pow":
                stack.append(stack.pop() ** int(arg))  # type: ignore[call-overload]
            else:
                b = stack.pop()
                a = stack.pop()
                if op == "add":
                    stack.append(a + b)
                elif op == "sub":
                    stack.append(a - b)
                elif op == "mul":
                    stack.append(a * b)
                else:
                    stack.append(a / b)
        return stack[0]

    def evaluate_plain(self, env: Mapping[str, Any]) -> Any:
        """Run the expression uncounted on plain numbers: floats, complex numbers, or
        numpy arrays of either (one value per point, all points at once).

        Independent of the counted evaluation (no counted number, no op table), it gives
        the gradient check its reference derivatives; it refuses what the counted ops
        refuse, with the same :class:`~cheapgrad.errors.DomainError` (judging the domain
        of ``log`` and ``sqrt`` on the real part, as a complex step needs).
        """
        for name in self.names:
            if name not in env:
                raise ExprError(f"unknown name '{name}'", self.column_of(name))
        return evaluate_code(self.code, env)


def parse(text: str) -> Expression:
    """Parse ``text`` into an :class:`Expression`; :class:`ExprError` when invalid."""
    if not isinstance(text, str):
        raise ExprError(f"an expression must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExprError(f"the expression is {len(text):,} characters long; "
                        f"at most {MAX_LENGTH:,} are allowed")
    if not text.strip():
        raise ExprError("the expression is empty")
    return Expression(text, tuple(_Parser(text).parse()))
