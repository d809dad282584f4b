"""Evaluating a checked expression, one replication at a time, through nested closures."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping
from typing import Any

from .language import OPERATORS, Evaluator
from .tree import Expr

__all__ = ["function_error_message", "power_overflow_message", "scalar_evaluator"]


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
    "sqrt": lambda x: _checked_function("sqrt", math.sqrt, x),
    "exp": lambda x: _checked_function("exp", math.exp, x),
    "log": lambda x: _checked_function("log", math.log, x),
}


def scalar_evaluator(expr: Expr, slots: Mapping[str, int]) -> Evaluator:
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
        inner = scalar_evaluator(expr.args[0], slots)
        return lambda values: -inner(values)
    if kind == "not":
        inner = scalar_evaluator(expr.args[0], slots)
        return lambda values: not inner(values)
    if kind == "op":
        left = scalar_evaluator(expr.args[0], slots)
        right = scalar_evaluator(expr.args[1], slots)
        if expr.value == "and":
            return lambda values: left(values) and right(values)
        if expr.value == "or":
            return lambda values: left(values) or right(values)
        if expr.value == "**":
            return lambda values: _power(left(values), right(values))
        function = OPERATORS[expr.value]
        return lambda values: function(left(values), right(values))
    args = [scalar_evaluator(arg, slots) for arg in expr.args]
    if expr.value == "if":
        condition, then, other = args
        return lambda values: then(values) if condition(values) else other(values)
    function = _SCALAR_FUNCTIONS[expr.value]
    if len(args) == 1:
        (only,) = args
        return lambda values: function(only(values))
    return lambda values: function(*(arg(values) for arg in args))


def function_error_message(name: str, value: float) -> str:
    """The words for ``sqrt``, ``log`` or ``exp`` of a value it cannot take, shared by every engine.

    Python's own ("math domain error", "math range error") name neither the
    function nor the value.
    """
    if name == "sqrt":
        return f"sqrt({value:g}) is not a real number: sqrt needs a value of 0 or more"
    if name == "log":
        return f"log({value:g}) is not defined: log needs a value above 0"
    return (f"exp({value:g}) is too large: the result is beyond the largest number, "
            f"about {sys.float_info.max:.1e}")


def _checked_function(name: str, function: Callable[[float], float], value: float) -> float:
    try:
        return function(value)
    except ValueError as exc:
        raise ValueError(function_error_message(name, value)) from exc
    except OverflowError as exc:
        raise OverflowError(function_error_message(name, value)) from exc


def power_overflow_message(base: float, exponent: float) -> str:
    """The words for ``base ** exponent`` beyond the largest number, shared by every engine."""
    return (f"{base:g} ** {exponent:g} is too large: the result is beyond the largest "
            f"number, about {sys.float_info.max:.1e}")


def _power(base: float, exponent: float) -> float:
    # Python's own overflow error is an errno tuple, "(34, 'Numerical result out of range')".
    try:
        result = base**exponent
        if isinstance(result, complex):
            raise ValueError(f"{base:g} ** {exponent:g} is not a real number")
        return float(result)
    except OverflowError as exc:
        raise OverflowError(power_overflow_message(base, exponent)) from exc
