"""Type inference over a parsed expression: every name known, every operand of its kind."""

from __future__ import annotations

from collections.abc import Mapping

from .language import Type
from .tree import Expr, ExpressionError

__all__ = ["infer_type"]

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

