"""What the expression language contains: its types, functions, keywords, operators and limits."""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any, Literal

__all__ = [
    "FUNCTIONS",
    "KEYWORDS",
    "MAX_CONSTANT_EXPONENT",
    "MAX_EXPRESSION_CHARS",
    "MAX_EXPRESSION_DEPTH",
    "OPERATORS",
    "Evaluator",
    "Type",
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
