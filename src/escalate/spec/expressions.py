"""The safe expression language used in guards, probabilities, delays and updates.

An expression is parsed once into a small tree (:class:`Expr`) that keeps the
offset of every token, type-checked against the scenario's names, and turned
into Python closures.  Nothing is ever handed to ``eval``: the grammar has no
attribute access, indexing, lambdas, comprehensions or calls other than the
functions in :data:`FUNCTIONS`.

Grammar (lowest precedence first)::

    expr    := or
    or      := and ("or" and)*
    and     := not ("and" not)*
    not     := "not" not | compare
    compare := sum (("<" | "<=" | ">" | ">=" | "==" | "!=") sum)?
    sum     := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary)*
    unary   := "-" unary | power
    power   := atom ("**" unary)?
    atom    := NUMBER ["%"] | "true" | "false" | NAME | NAME "(" args ")" | "(" expr ")"
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from .quantities import DURATION_UNITS

__all__ = [
    "FUNCTIONS",
    "OPERATORS",
    "Expr",
    "ExpressionError",
    "compile_expr",
    "infer_type",
    "parse",
]

Type = Literal["number", "bool"]
Evaluator = Callable[[Sequence[Any]], Any]

MAX_EXPRESSION_CHARS = 2_000
MAX_EXPRESSION_DEPTH = 64
MAX_CONSTANT_EXPONENT = 1_000.0

#: name -> (minimum arguments, maximum arguments or None); all take and return numbers
#: except ``if``, whose first argument is a condition.
FUNCTIONS: dict[str, tuple[int, int | None]] = {
    "min": (1, None),
    "max": (1, None),
    "clip": (3, 3),
    "abs": (1, 1),
    "floor": (1, 1),
    "ceil": (1, 1),
    "sqrt": (1, 1),
    "exp": (1, 1),
    "log": (1, 1),
    "if": (3, 3),
}
KEYWORDS = {"and", "or", "not", "true", "false"}
_FORBIDDEN_WORDS = {
    "lambda": "lambdas are not part of the expression language",
    "for": "comprehensions are not part of the expression language",
    "in": "membership tests are not part of the expression language",
    "is": "use == and != to compare",
    "import": "imports are not part of the expression language",
}


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


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|<=|>=|==|!=|[-+*/<>(),%])
  | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_BAD_CHARACTER_HINTS = {
    ".": "attribute access is not allowed; names are plain words",
    "[": "indexing is not allowed",
    "]": "indexing is not allowed",
    "=": "use == to compare; assignments belong in `set:`",
    "&": "write `and`",
    "|": "write `or`",
    "!": "write `not`",
    "^": "write ** for powers",
    "'": "strings are not part of the expression language",
    '"': "strings are not part of the expression language",
}


def _tokenize(text: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "bad"
        value = match.group()
        if kind == "space":
            continue
        if kind == "name":
            _check_word(value, match.start())
        if kind == "bad":
            raise ExpressionError(
                f"unexpected character {value!r}", match.start(), _BAD_CHARACTER_HINTS.get(value, "")
            )
        tokens.append((kind, value, match.start()))
    tokens.append(("end", "", len(text)))
    return tokens


def _check_word(word: str, offset: int) -> None:
    if word.startswith("__"):
        raise ExpressionError(f"the name {word!r} is not allowed", offset,
                              "names starting with __ are reserved")
    if word in _FORBIDDEN_WORDS:
        raise ExpressionError(f"{word!r} is not allowed", offset, _FORBIDDEN_WORDS[word])


#: how each length of time is named in a hint
_UNIT_NAMES = {365.25: "years", 30.4375: "months", 7.0: "weeks", 1.0: "days", 1 / 24: "hours",
               1 / 1440: "minutes"}
_NUMBER_AND_WORD = r"((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z_][A-Za-z0-9_]*)"
_NEXT_DURATION = re.compile(r"\s*" + _NUMBER_AND_WORD)
_ANY_DURATION = re.compile(r"(?<![\w.])" + _NUMBER_AND_WORD)


def _spell_days(days: float, factors: set[float]) -> list[str]:
    """Ways to write a length of time as one duration: in the units used, where they are exact."""
    spellings = []
    for factor in sorted(factors | {1.0}):
        amount = days / factor
        if abs(amount * 1000 - round(amount * 1000)) < 1e-6 * max(1.0, abs(amount)):
            spellings.append(f"{amount:.6g} {_UNIT_NAMES.get(factor, 'days')}")
    return spellings[:2] or [f"{days:.6g} days"]


def _duration_error(text: str, offset: int) -> ExpressionError:
    """Explain a duration (``2 days``) written at ``offset`` where a number of days is wanted.

    Several durations in a row (``2 days 3 hours``) are one length of time
    written in parts; a single one is a value that the expression language
    writes as its number of days, and the hint rewrites the expression so.
    """
    parts = []
    position = offset
    while (match := _NEXT_DURATION.match(text, position)) and match.group(2).lower() in (
            DURATION_UNITS):
        parts.append((float(match.group(1)), DURATION_UNITS[match.group(2).lower()]))
        position = match.end()
    total = sum(amount * factor for amount, factor in parts)
    alone = not text[:offset].strip() and not text[position:].strip()
    if len(parts) > 1 and alone:
        spellings = _spell_days(total, {factor for _, factor in parts})
        return ExpressionError(
            "durations cannot be added by writing them one after another", offset,
            "a duration is one number and one unit: write "
            + " or ".join(f"`{spelling}`" for spelling in spellings))

    def in_days(match: re.Match[str]) -> str:
        factor = DURATION_UNITS.get(match.group(2).lower())
        return match.group(0) if factor is None else f"{float(match.group(1)) * factor:.6g}"

    rewritten = (_ANY_DURATION.sub(in_days, text[:offset]) + f"{total:.6g}"
                 + _ANY_DURATION.sub(in_days, text[position:]))
    return ExpressionError(
        f"a duration ({text[offset:position].strip()!r}) where a number of days is wanted",
        offset, "a duration such as `2 days` is a value on its own; inside an expression "
        f"times are numbers of days: write `{rewritten.strip()}`")


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
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
                raise _duration_error(self.text, offset)
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


_ARITHMETIC = {"+", "-", "*", "/", "**"}
_ORDERING = {"<", "<=", ">", ">="}


def infer_type(expr: Expr, names: Mapping[str, Type]) -> Type:
    """Return the type of ``expr``; raise :class:`ExpressionError` on a type mistake.

    ``names`` maps every name the expression may read to its type.
    """
    kind = expr.kind
    if kind == "num":
        return "number"
    if kind == "bool":
        return "bool"
    if kind == "name":
        if expr.value not in names:
            raise ExpressionError(f"unknown name {expr.value!r}", expr.offset)
        return names[expr.value]
    if kind == "neg":
        _want(expr.args[0], names, "number", "-")
        return "number"
    if kind == "not":
        _want(expr.args[0], names, "bool", "not")
        return "bool"
    if kind == "op":
        op = expr.value
        if op in ("and", "or"):
            for arg in expr.args:
                _want(arg, names, "bool", op)
            return "bool"
        if op in _ARITHMETIC or op in _ORDERING:
            for arg in expr.args:
                _want(arg, names, "number", op)
            return "number" if op in _ARITHMETIC else "bool"
        left, right = (infer_type(arg, names) for arg in expr.args)
        if left != right:
            raise ExpressionError(f"{op} compares a {left} with a {right}", expr.offset)
        return "bool"
    assert kind == "call"
    if expr.value == "if":
        _want(expr.args[0], names, "bool", "if()")
        then, other = (infer_type(arg, names) for arg in expr.args[1:])
        if then != other:
            raise ExpressionError(f"if() gives a {then} in one branch and a {other} in the other",
                                  expr.offset)
        return then
    for arg in expr.args:
        _want(arg, names, "number", f"{expr.value}()")
    return "number"


def _want(expr: Expr, names: Mapping[str, Type], wanted: Type, where: str) -> None:
    found = infer_type(expr, names)
    if found != wanted:
        raise ExpressionError(f"{where} needs a {wanted}, but this is a {found}", expr.offset)


def _clip(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)


# Spelled out so that a single argument works: the builtins would iterate over it.
def _min(*values: float) -> float:
    return min(values)


def _max(*values: float) -> float:
    return max(values)


_SCALAR_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": _min,
    "max": _max,
    "clip": _clip,
    "abs": abs,
    "floor": math.floor,
    "ceil": math.ceil,
    "sqrt": math.sqrt,
    "exp": math.exp,
    "log": math.log,
}
#: The binary operators other than ``and``/``or``, as functions of two values.  Both
#: the scalar closures and the batch engine's array evaluator use them.
OPERATORS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "**": operator.pow,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}


def compile_expr(expr: Expr, slots: Mapping[str, int]) -> Evaluator:
    """Turn a checked expression into a closure over a list of slot values.

    ``slots`` maps each name to its index in the sequence the closure receives.
    Arithmetic errors (division by zero, overflow, log of a negative) surface as
    ``ArithmeticError`` or ``ValueError`` when the closure runs.
    """
    kind = expr.kind
    if kind in ("num", "bool"):
        constant = expr.value
        return lambda values: constant
    if kind == "name":
        index = slots[expr.value]
        return lambda values: values[index]
    if kind == "neg":
        inner = compile_expr(expr.args[0], slots)
        return lambda values: -inner(values)
    if kind == "not":
        inner = compile_expr(expr.args[0], slots)
        return lambda values: not inner(values)
    if kind == "op":
        left = compile_expr(expr.args[0], slots)
        right = compile_expr(expr.args[1], slots)
        if expr.value == "and":
            return lambda values: left(values) and right(values)
        if expr.value == "or":
            return lambda values: left(values) or right(values)
        if expr.value == "**":
            return lambda values: _power(left(values), right(values))
        function = OPERATORS[expr.value]
        return lambda values: function(left(values), right(values))
    args = [compile_expr(arg, slots) for arg in expr.args]
    if expr.value == "if":
        condition, then, other = args
        return lambda values: then(values) if condition(values) else other(values)
    function = _SCALAR_FUNCTIONS[expr.value]
    if len(args) == 1:
        (only,) = args
        return lambda values: function(only(values))
    return lambda values: function(*(arg(values) for arg in args))


def _power(base: float, exponent: float) -> float:
    result = base**exponent
    if isinstance(result, complex):
        raise ValueError(f"{base:g} ** {exponent:g} is not a real number")
    return float(result)
