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

from .language import (
    FUNCTIONS,
    KEYWORDS,
    MAX_CONSTANT_EXPONENT,
    MAX_EXPRESSION_CHARS,
    MAX_EXPRESSION_DEPTH,
    OPERATORS,
    Evaluator,
    Type,
)
from .parser import parse
from .scalar import function_error_message, power_overflow_message, scalar_evaluator
from .tree import Expr, ExpressionError
from .typecheck import infer_type

__all__ = [
    "FUNCTIONS",
    "KEYWORDS",
    "MAX_CONSTANT_EXPONENT",
    "MAX_EXPRESSION_CHARS",
    "MAX_EXPRESSION_DEPTH",
    "OPERATORS",
    "Evaluator",
    "Expr",
    "ExpressionError",
    "Type",
    "function_error_message",
    "infer_type",
    "parse",
    "power_overflow_message",
    "scalar_evaluator",
]
