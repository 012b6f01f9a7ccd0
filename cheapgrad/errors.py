"""Errors raised by the core. The CLI turns each into one line and an exit code."""

from __future__ import annotations


class CheapgradError(Exception):
    """Base class of every error cheapgrad raises on bad input or impossible work."""


class SpecError(CheapgradError):
    """A spec (YAML file or dict) is invalid.

    ``str(err)`` is one line: ``FILE:LINE: FIELD: MESSAGE``, leaving out what is unknown.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.field = field
        super().__init__(self.format())

    def format(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path
            if self.line is not None:
                where += f":{self.line}"
            where += ": "
        elif self.line is not None:
            where = f"line {self.line}: "
        name = f"{self.field}: " if self.field else ""
        return f"{where}{name}{self.message}"


class TooLargeError(CheapgradError):
    """The requested work would take too long or too much memory to count."""


class DomainError(CheapgradError, ArithmeticError):
    """An op was applied outside its domain (division by zero, log of a negative...)."""

    def __init__(self, op: str, args: tuple[float, ...], reason: str) -> None:
        self.op = op
        self.args_values = args
        self.reason = reason
        shown = ", ".join(f"{a:g}" for a in args)
        super().__init__(f"{op}({shown}): {reason}")


class OutputExistsError(CheapgradError):
    """A file would be overwritten without permission."""


class NumericalError(DomainError):
    """A computation left float64's range (an overflow to inf, or nan)."""

    def __init__(self, message: str) -> None:
        CheapgradError.__init__(self, message)
        self.op = "float64"
        self.args_values = ()
        self.reason = message
