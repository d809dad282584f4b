"""The parsed form of an expression, and the error every step on it raises."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Expr", "ExpressionError"]


class ExpressionError(ValueError):
    """An expression could not be parsed or does not type-check.

    ``offset`` is the 0-based character position inside the expression text.
    """

    def __init__(self, message: str, offset: int, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Expr:
    """A node of a parsed expression: ``kind`` is num, bool, name, neg, not, op, call."""

    kind: str
    offset: int
    value: Any = None
    args: tuple[Expr, ...] = ()

    def names(self) -> set[str]:
        """Return every name the expression reads."""
        found = {self.value} if self.kind == "name" else set()
        for arg in self.args:
            found |= arg.names()
        return found

    def constant(self) -> float | bool | None:
        """Return the value if the expression is a literal, else None."""
        if self.kind in ("num", "bool"):
            return self.value  # type: ignore[no-any-return]
        if self.kind == "neg" and self.args[0].kind == "num":
            return -self.args[0].value  # type: ignore[no-any-return]
        return None

