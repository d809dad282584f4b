"""Checked expressions as single Python functions, for an engine's hot path.

:func:`~escalate.spec.expressions.compile_expr` makes one closure per node of
an expression, so evaluating ``a and not b and c + d <= e`` costs eight
Python calls.  :func:`inline_expr` writes the whole expression as the body
of one ``lambda`` instead: the same operations on the same values in the
same order (``and``, ``or`` and ``if`` short-circuit alike), hence the same
results and the same exceptions, in one call.  Only the tree's structure
goes into the generated source: names become slot indices, and constants
and functions are bound by the names ``c0``, ``f1``, ... in the function's
namespace, so no text of the scenario is ever compiled.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import CodeType
from typing import Any

from .expressions import _SCALAR_FUNCTIONS, OPERATORS, Evaluator, Expr, _power, compile_expr

__all__ = ["inline_expr"]

# Operators written as themselves: each does what its function in OPERATORS does.
_INLINE_OPERATORS = frozenset({"+", "-", "*", "/", "<", "<=", ">", ">=", "==", "!=", "and", "or"})


def inline_expr(expr: Expr, slots: Mapping[str, int]) -> Evaluator:
    """Turn a checked expression into one function of the slot values.

    It computes what ``compile_expr(expr, slots)`` computes; should Python
    refuse to compile the source (it never should for a checked expression),
    that closure is returned instead.
    """
    namespace: dict[str, Any] = {}
    source = "lambda values: " + _source(expr, slots, namespace)
    try:
        code = _compiled(source)
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        return compile_expr(expr, slots)
    # the source holds slot indices and bound names only, never text of the scenario
    function: Evaluator = eval(code, namespace)
    return function


@functools.lru_cache(maxsize=4096)
def _compiled(source: str) -> CodeType:
    # Sweeps build an engine per point from the same formulas: compile each text once.
    return compile(source, "<expression>", "eval")


def _bind(namespace: dict[str, Any], prefix: str, value: Any) -> str:
    name = f"{prefix}{len(namespace)}"
    namespace[name] = value
    return name


def _source(expr: Expr, slots: Mapping[str, int], namespace: dict[str, Any]) -> str:
    kind = expr.kind
    if kind in ("num", "bool"):
        return _bind(namespace, "c", expr.value)
    if kind == "name":
        return f"values[{slots[expr.value]:d}]"
    if kind == "neg":
        return f"(-{_source(expr.args[0], slots, namespace)})"
    if kind == "not":
        return f"(not {_source(expr.args[0], slots, namespace)})"
    if kind == "op":
        left = _source(expr.args[0], slots, namespace)
        right = _source(expr.args[1], slots, namespace)
        if expr.value in _INLINE_OPERATORS:
            return f"({left} {expr.value} {right})"
        function = _power if expr.value == "**" else OPERATORS[expr.value]
        return f"{_bind(namespace, 'f', function)}({left}, {right})"
    args = [_source(arg, slots, namespace) for arg in expr.args]
    if expr.value == "if":
        condition, then, other = args
        return f"({then} if {condition} else {other})"
    return f"{_bind(namespace, 'f', _SCALAR_FUNCTIONS[expr.value])}({', '.join(args)})"
