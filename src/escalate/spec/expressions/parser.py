"""Parsing expression text into a tree, refusing what could not be evaluated safely."""

from __future__ import annotations

import math
from collections.abc import Callable

from ..quantities import DURATION_UNITS
from .language import FUNCTIONS, MAX_CONSTANT_EXPONENT, MAX_EXPRESSION_CHARS, MAX_EXPRESSION_DEPTH
from .tokens import duration_error, tokenize
from .tree import Expr, ExpressionError

__all__ = ["parse"]


class _Parser:
    """A recursive-descent parser of one expression (grammar: the package docstring)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0
        self.depth = 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.index]

    def take(self) -> tuple[str, str, int]:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, value: str) -> None:
        kind, text, offset = self.take()
        if text != value or kind == "end":
            found = "the end of the expression" if kind == "end" else repr(text)
            raise ExpressionError(f"expected {value!r}, found {found}", offset)

    def parse(self) -> Expr:
        expr = self.or_()
        kind, text, offset = self.peek()
        if kind != "end":
            hint = {
                ")": "there is a `)` without its `(`",
                "%": "write percentages right after the number (30%); there is no modulo",
            }.get(text, "join conditions with `and`/`or`")
            raise ExpressionError(f"unexpected {text!r} after a complete expression", offset, hint)
        return expr

    def _nest(self) -> None:
        self.depth += 1
        if self.depth > MAX_EXPRESSION_DEPTH:
            raise ExpressionError(
                f"expression nested more than {MAX_EXPRESSION_DEPTH} levels deep", self.peek()[2]
            )

    def binary(self, words: set[str], next_: Callable[[], Expr]) -> Expr:
        left = next_()
        while self.peek()[1] in words and self.peek()[0] in ("op", "name"):
            _, op, offset = self.take()
            right = next_()
            left = Expr("op", offset, op, (left, right))
        return left

    def or_(self) -> Expr:
        return self.binary({"or"}, self.and_)

    def and_(self) -> Expr:
        return self.binary({"and"}, self.not_)

    def not_(self) -> Expr:
        kind, text, offset = self.peek()
        if kind == "name" and text == "not":
            self.take()
            self._nest()
            inner = self.not_()
            self.depth -= 1
            return Expr("not", offset, None, (inner,))
        return self.compare()

    def compare(self) -> Expr:
        left = self.sum()
        kind, text, offset = self.peek()
        if kind == "op" and text in ("<", "<=", ">", ">=", "==", "!="):
            self.take()
            right = self.sum()
            if self.peek()[1] in ("<", "<=", ">", ">=", "==", "!="):
                raise ExpressionError("chained comparisons are not allowed", self.peek()[2],
                                      "write `a < b and b < c`")
            return Expr("op", offset, text, (left, right))
        return left

    def sum(self) -> Expr:
        return self.binary({"+", "-"}, self.term)

    def term(self) -> Expr:
        return self.binary({"*", "/"}, self.unary)

    def unary(self) -> Expr:
        kind, text, offset = self.peek()
        if kind == "op" and text in ("-", "+"):
            self.take()
            self._nest()
            inner = self.unary()
            self.depth -= 1
            return inner if text == "+" else Expr("neg", offset, None, (inner,))
        return self.power()

    def power(self) -> Expr:
        base = self.atom()
        kind, text, offset = self.peek()
        if kind == "op" and text == "**":
            self.take()
            self._nest()
            exponent = self.unary()
            self.depth -= 1
            return Expr("op", offset, "**", (base, exponent))
        return base

    def atom(self) -> Expr:
        kind, text, offset = self.take()
        if kind == "number":
            value = float(text)
            if self.peek()[1] == "%" and self.peek()[2] == offset + len(text):
                self.take()
                value /= 100.0
            if not math.isfinite(value):
                shown = text if len(text) <= 20 else text[:17] + "..."
                raise ExpressionError(f"the number {shown} is too large", offset)
            unit_kind, unit, _ = self.peek()
            if unit_kind == "name" and unit.lower() in DURATION_UNITS:
                raise duration_error(self.text, offset)
            return Expr("num", offset, value)
        if kind == "name":
            if text in ("true", "false"):
                return Expr("bool", offset, text == "true")
            if text in ("and", "or", "not"):
                raise ExpressionError(f"{text!r} needs a value before it", offset)
            if self.peek()[1] == "(":
                return self.call(text, offset)
            return Expr("name", offset, text)
        if text == "(":
            self._nest()
            inner = self.or_()
            self.depth -= 1
            self.expect(")")
            return inner
        if kind == "end":
            raise ExpressionError("the expression ends too early", offset)
        raise ExpressionError(f"unexpected {text!r}", offset)

    def call(self, name: str, offset: int) -> Expr:
        if name not in FUNCTIONS:
            raise ExpressionError(f"unknown function {name!r}", offset,
                                  "functions: " + ", ".join(sorted(FUNCTIONS)))
        self.take()  # "("
        self._nest()
        args: list[Expr] = []
        if self.peek()[1] != ")":
            args.append(self.or_())
            while self.peek()[1] == ",":
                self.take()
                args.append(self.or_())
        self.expect(")")
        self.depth -= 1
        low, high = FUNCTIONS[name]
        if len(args) < low or (high is not None and len(args) > high):
            wanted = str(low) if low == high else f"at least {low}"
            raise ExpressionError(f"{name}() takes {wanted} argument(s), got {len(args)}", offset)
        return Expr("call", offset, name, tuple(args))


def parse(text: str) -> Expr:
    """Parse expression text; raise :class:`ExpressionError` with the offset of a mistake."""
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionError(
            f"expression of {len(text):,} characters; the limit is {MAX_EXPRESSION_CHARS:,}", 0
        )
    if not text.strip():
        raise ExpressionError("the expression is empty", 0)
    expr = _Parser(text).parse()
    _check_tree_depth(expr)
    _check_constant_powers(expr)
    return expr


def _check_tree_depth(expr: Expr) -> None:
    """Refuse trees deeper than the limit, long operator chains included.

    ``a + a + ... + a`` parses in a loop but makes a left-leaning tree as deep
    as it is long, and everything after parsing walks trees recursively.  The
    walk here is iterative, so it cannot itself run out of stack.
    """
    stack = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_EXPRESSION_DEPTH:
            raise ExpressionError(
                f"the expression is more than {MAX_EXPRESSION_DEPTH} operations deep",
                node.offset, "split it, or use a parameter for part of it")
        stack.extend((arg, depth + 1) for arg in node.args)


def _check_constant_powers(expr: Expr) -> None:
    """Refuse literal powers that overflow (``10**10**10``) before anything runs."""
    for arg in expr.args:
        _check_constant_powers(arg)
    if expr.kind == "op" and expr.value == "**":
        exponent = _fold(expr.args[1])
        base = _fold(expr.args[0])
        if exponent is not None and abs(exponent) > MAX_CONSTANT_EXPONENT:
            raise ExpressionError(f"the exponent {exponent:g} is too large", expr.offset)
        if base is not None and exponent is not None:
            shown = f"({base:g}) ** {exponent:g}" if base < 0 else f"{base:g} ** {exponent:g}"
            try:
                result = float(base) ** float(exponent)
            except (OverflowError, ZeroDivisionError) as exc:
                raise ExpressionError(f"{shown} cannot be computed", expr.offset) from exc
            if isinstance(result, complex):
                raise ExpressionError(f"{shown} is not a real number", expr.offset)
            if not math.isfinite(result):
                raise ExpressionError(f"{shown} is not a finite number", expr.offset)


def _fold(expr: Expr) -> float | None:
    constant = expr.constant()
    if constant is not None and not isinstance(constant, bool):
        return float(constant)
    if expr.kind == "op" and expr.value == "**":
        base, exponent = _fold(expr.args[0]), _fold(expr.args[1])
        if base is not None and exponent is not None:
            try:
                result = base**exponent
            except (OverflowError, ZeroDivisionError):
                return math.inf
            return result if isinstance(result, float) else math.inf
    return None

