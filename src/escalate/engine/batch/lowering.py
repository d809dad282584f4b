"""Expressions lowered to arrays: evaluated for many replications at once, for the batch engine.

:func:`lower_to_arrays` turns a checked :class:`~escalate.spec.expressions.Expr`
into an array closure ``f(columns, rows)``.  ``columns`` holds one entry per slot of
the environment (:attr:`~escalate.compile.compiled.CompiledScenario.slots`): an array
with one value per replication of the chunk, or nothing for slots that are
the same in every replication, whose values were folded in when the expression was lowered.
``rows`` selects the replications to evaluate; the result is an array over
``rows``, or a plain value when it is the same for all of them.

The meaning is that of the scalar closures of
:func:`~escalate.spec.expressions.scalar_evaluator`: ``and``, ``or`` and ``if``
evaluate their later arguments only for the replications that need them, and
what raises there (division by zero, ``sqrt`` or ``log`` outside their
domain, ``exp`` and powers that overflow, powers that are not real numbers,
``floor`` of infinity) raises :class:`ArrayEvaluationError` here, naming the
rows that failed.  Callers run under ``np.errstate(all="ignore")``: every
failure is detected from the values, not from floating-point warnings.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ...spec.expressions import (
    OPERATORS,
    Expr,
    function_error_message,
    power_overflow_message,
    scalar_evaluator,
)

__all__ = ["ArrayEvaluationError", "ArrayEvaluator", "constant_value", "lower_to_arrays",
           "may_fail"]

ArrayEvaluator = Callable[[Sequence[Any], np.ndarray], Any]

# Division and powers are evaluated apart, to report the rows that fail.
_ARITHMETIC = {op: f for op, f in OPERATORS.items() if op not in ("/", "**")}
_FAILING_FUNCTIONS = {"floor", "ceil", "sqrt", "exp", "log"}


class ArrayEvaluationError(ArithmeticError):
    """An expression cannot be evaluated for some replications.

    ``rows`` are the failing rows (indices into the chunk); the message
    describes the first of them, as the scalar evaluator would have.
    """

    def __init__(self, message: str, rows: np.ndarray) -> None:
        super().__init__(message)
        self.rows = rows


def may_fail(expr: Expr) -> bool:
    """Whether evaluating ``expr`` can raise (so that short-circuits must be kept)."""
    if expr.kind == "op" and expr.value in ("/", "**"):
        return True
    if expr.kind == "call" and expr.value in _FAILING_FUNCTIONS:
        return True
    return any(may_fail(arg) for arg in expr.args)


def lower_to_arrays(expr: Expr, slots: Mapping[str, int],
                    constants: Mapping[int, Any]) -> ArrayEvaluator:
    """Lower ``expr`` to a closure over columns and rows.

    ``slots`` maps names to slot indices; ``constants`` gives the value of the
    slots shared by every replication (they are folded into the closure).
    """
    return _Lowering(slots, constants).lower(expr)


def constant_value(expr: Expr, slots: Mapping[str, int], constants: Mapping[int, Any]) -> Any:
    """The value of ``expr`` if it reads only ``constants`` and evaluates without error, else None."""
    folded = _Lowering(slots, constants).fold(expr)
    return None if folded is None else folded.value


class _Constant:
    """A folded value, kept apart from closures so that parents can fold too."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


_Node = ArrayEvaluator | _Constant


class _Lowering:
    """Lowers expressions to array closures, folding what reads only constant slots."""

    def __init__(self, slots: Mapping[str, int], constants: Mapping[int, Any]) -> None:
        self.slots = slots
        self.constants = constants

    def lower(self, expr: Expr) -> ArrayEvaluator:
        node = self.node(expr)
        if isinstance(node, _Constant):
            value = node.value
            return lambda columns, rows: value
        return node

    def node(self, expr: Expr) -> _Node:
        folded = self.fold(expr)
        if folded is not None:
            return folded
        kind = expr.kind
        if kind == "name":
            index = self.slots[expr.value]
            return lambda columns, rows: columns[index].take(rows)
        if kind == "neg":
            return self.unary(expr.args[0], operator.neg)
        if kind == "not":
            return self.unary(expr.args[0], np.logical_not)
        if kind == "op":
            return self.operation(expr)
        return self.call(expr)

    def fold(self, expr: Expr) -> _Constant | None:
        """Evaluate ``expr`` now if it reads only constant slots and cannot fail."""
        if expr.kind in ("num", "bool"):
            return _Constant(expr.value)
        names = expr.names()
        if any(self.slots[name] not in self.constants for name in names):
            return None
        values = [None] * (max(self.slots.values(), default=0) + 1)
        for name in names:
            values[self.slots[name]] = self.constants[self.slots[name]]
        try:
            return _Constant(scalar_evaluator(expr, self.slots)(values))
        except (ArithmeticError, ValueError, TypeError):
            return None  # left to fail at run time, where the error names the event

    def unary(self, arg: Expr, function: Callable[[Any], Any]) -> ArrayEvaluator:
        inner = self.lower(arg)
        return lambda columns, rows: function(inner(columns, rows))

    def operation(self, expr: Expr) -> ArrayEvaluator:
        op = expr.value
        left_expr, right_expr = expr.args
        left, right = self.lower(left_expr), self.lower(right_expr)
        if op in ("and", "or"):
            if may_fail(right_expr):
                return _short_circuit(left, right, op == "and")
            combine = np.logical_and if op == "and" else np.logical_or
            return lambda columns, rows: combine(left(columns, rows), right(columns, rows))
        if op == "/":
            return lambda columns, rows: _divide(left(columns, rows), right(columns, rows), rows)
        if op == "**":
            return lambda columns, rows: _power(left(columns, rows), right(columns, rows), rows)
        function = _ARITHMETIC[op]
        return lambda columns, rows: function(left(columns, rows), right(columns, rows))

    def call(self, expr: Expr) -> ArrayEvaluator:
        name = expr.value
        args = [self.lower(arg) for arg in expr.args]
        if name == "if":
            condition, then, other = args
            if may_fail(expr.args[1]) or may_fail(expr.args[2]):
                return _branching_if(condition, then, other)
            return lambda columns, rows: _where(condition(columns, rows), then(columns, rows),
                                                other(columns, rows), rows)
        if name in ("min", "max"):
            reduce = np.minimum if name == "min" else np.maximum
            if len(args) == 1:
                return args[0]
            return lambda columns, rows: _reduce(reduce, [a(columns, rows) for a in args])
        if name == "clip":
            x, low, high = args
            return lambda columns, rows: np.minimum(np.maximum(x(columns, rows), low(columns, rows)),
                                                    high(columns, rows))
        (only,) = args
        function = _FUNCTIONS[name]
        return lambda columns, rows: function(only(columns, rows), rows)


def _reduce(function: Any, values: list[Any]) -> Any:
    result = values[0]
    for value in values[1:]:
        result = function(result, value)
    return result


def _short_circuit(left: ArrayEvaluator, right: ArrayEvaluator, conjunction: bool) -> ArrayEvaluator:
    """``and``/``or`` whose right side is evaluated only where the left does not decide."""

    def evaluate(columns: Sequence[Any], rows: np.ndarray) -> Any:
        first = left(columns, rows)
        if np.ndim(first) == 0:
            if bool(first) != conjunction:
                return bool(first)
            return right(columns, rows)
        result = np.array(first, dtype=bool)
        undecided = result if conjunction else ~result
        if undecided.any():
            result[undecided] = right(columns, rows[undecided])
        return result

    return evaluate


def _branching_if(condition: ArrayEvaluator, then: ArrayEvaluator,
                  other: ArrayEvaluator) -> ArrayEvaluator:
    """``if(c, a, b)`` evaluating ``a`` only where ``c`` holds and ``b`` only where not."""

    def evaluate(columns: Sequence[Any], rows: np.ndarray) -> Any:
        chosen = condition(columns, rows)
        if np.ndim(chosen) == 0:
            return then(columns, rows) if chosen else other(columns, rows)
        chosen = np.asarray(chosen, dtype=bool)
        yes = then(columns, rows[chosen]) if chosen.any() else None
        no = other(columns, rows[~chosen]) if not chosen.all() else None
        kinds = [np.asarray(v).dtype for v in (yes, no) if v is not None]
        result = np.empty(len(rows), dtype=np.result_type(*kinds))
        if yes is not None:
            result[chosen] = yes
        if no is not None:
            result[~chosen] = no
        return result

    return evaluate


def _where(condition: Any, then: Any, other: Any, rows: np.ndarray) -> Any:
    if np.ndim(condition) == 0:
        return then if condition else other
    return np.where(condition, then, other)


def _failed(bad: Any, rows: np.ndarray) -> np.ndarray:
    """The failing rows, given a mask (or one flag for all rows)."""
    if np.ndim(bad) == 0:
        return rows if bad else rows[:0]
    failed: np.ndarray = rows[bad]
    return failed


def _first(value: Any, bad: Any) -> float:
    """The value at the first failing position (for the message)."""
    if np.ndim(value) == 0:
        return float(value)
    if np.ndim(bad) == 0:
        return float(value[0])
    return float(value[np.flatnonzero(bad)[0]])


def _divide(numerator: Any, denominator: Any, rows: np.ndarray) -> Any:
    zero = np.equal(denominator, 0)
    if np.any(zero):
        raise ArrayEvaluationError("float division by zero", _failed(zero, rows))
    return np.true_divide(numerator, denominator)


def _power(base: Any, exponent: Any, rows: np.ndarray) -> Any:
    result = np.power(np.asarray(base, dtype=float), exponent)
    finite = np.isfinite(base) & np.isfinite(exponent)
    zero_to_negative = np.equal(base, 0) & np.less(exponent, 0)
    if np.any(zero_to_negative):
        raise ArrayEvaluationError("0.0 cannot be raised to a negative power",
                                    _failed(zero_to_negative, rows))
    not_real = finite & np.less(base, 0) & np.not_equal(exponent, np.floor(exponent))
    if np.any(not_real):
        b, e = _first(base, not_real), _first(exponent, not_real)
        raise ArrayEvaluationError(f"{b:g} ** {e:g} is not a real number", _failed(not_real, rows))
    overflow = finite & ~np.isfinite(result)
    if np.any(overflow):
        b, e = _first(base, overflow), _first(exponent, overflow)
        raise ArrayEvaluationError(power_overflow_message(b, e), _failed(overflow, rows))
    return result if np.ndim(result) else float(result)


def _rounding(function: Any) -> Callable[[Any, np.ndarray], Any]:
    def evaluate(x: Any, rows: np.ndarray) -> Any:
        bad = ~np.isfinite(x)
        if np.any(bad):
            value = _first(x, bad)
            kind = "NaN" if math.isnan(value) else "infinity"
            raise ArrayEvaluationError(f"cannot convert float {kind} to integer", _failed(bad, rows))
        return function(x)

    return evaluate


def _outside_domain(name: str, function: Any, outside: Any) -> Callable[[Any, np.ndarray], Any]:
    """``function`` for arrays, raising for the rows where ``outside(x)`` holds, as math does."""

    def evaluate(x: Any, rows: np.ndarray) -> Any:
        bad = outside(x, 0)
        if np.any(bad):
            raise ArrayEvaluationError(function_error_message(name, _first(x, bad)),
                                       _failed(bad, rows))
        return function(x)

    return evaluate


_sqrt = _outside_domain("sqrt", np.sqrt, np.less)
_log = _outside_domain("log", np.log, np.less_equal)


def _exp(x: Any, rows: np.ndarray) -> Any:
    result = np.exp(x)
    bad = np.isfinite(x) & ~np.isfinite(result)
    if np.any(bad):
        raise ArrayEvaluationError(function_error_message("exp", _first(x, bad)),
                                   _failed(bad, rows))
    return result


_FUNCTIONS: dict[str, Callable[[Any, np.ndarray], Any]] = {
    "abs": lambda x, rows: np.abs(x),
    "floor": _rounding(np.floor),
    "ceil": _rounding(np.ceil),
    "sqrt": _sqrt,
    "exp": _exp,
    "log": _log,
}
