"""Parsing what a user wrote for a value into a Formula, and checking it at the point values.

A value may be a number, a boolean, a percentage, a duration or an
expression; :func:`parse_formula` turns any of them into a checked
:class:`~escalate.compile.compiled.Formula`.  A formula over parameters alone
takes one value in every replication of a run, so delays, updates and
probabilities that no replication could use are refused while compiling
(:func:`value_at_point`), each message saying which parameter values it read.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from .. import distributions
from ..spec.expressions import ExpressionError, infer_type, parse, scalar_evaluator
from ..spec.quantities import looks_like_quantity, parse_duration, parse_percent
from ..spec.source import PathKey
from ..spec.suggest import did_you_mean
from .compiled import Delay, Formula
from .context import CompileContext, path_text

__all__ = ["check_update", "compile_delay", "format_reading", "parse_formula", "value_at_point"]

#: delay arguments that are not times (so may be written as percentages)
_SCALE_FREE_ARGUMENTS = ("shape", "sigma")


def parse_formula(context: CompileContext, path: PathKey, value: Any, want: str) -> Formula | None:
    """Parse a number, boolean, percentage, duration or expression into a Formula.

    ``want`` is the type the value must have (``"number"`` or ``"bool"``).
    Returns None after recording the problem, or silently when the
    expression reads a parameter that is broken (reported already).
    """
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float):
        if not math.isfinite(value):
            context.report(path, f"expected a finite number, found {value!r}")
            return None
        text = repr(float(value))
    elif isinstance(value, str):
        text = value
        if looks_like_quantity(value):
            try:
                number = parse_duration(value)
            except ValueError as exc:
                context.report(path, str(exc))
                return None
            number = parse_percent(value) if number is None else number
            text = repr(number)
    else:
        context.report(path, f"expected {want}, found {value!r}")
        return None
    try:
        tree = parse(text)
        if tree.names() & context.broken.get("parameters", set()):
            return None
        found = infer_type(tree, context.types)
    except ExpressionError as exc:
        if exc.message.startswith("unknown name"):
            name = exc.message.split("'")[1]
            exc.hint = exc.hint or did_you_mean(
                name, [*context.types], kind="parameters or state variables")
        context.report_expression_error(path, exc, text)
        return None
    if found != want:
        context.report(path, f"expected {'a condition' if want == 'bool' else 'a number'}, "
                       f"but {text!r} is a {found}")
        return None
    return Formula(text, tree, scalar_evaluator(tree, context.slots), path_text(path))


def compile_delay(context: CompileContext, path: PathKey, value: Any) -> Delay | None:
    """Compile a delay (a time, or a distribution of times), checking its arguments.

    Arguments that are constants, or over parameters alone, are checked now
    against what the distribution accepts.  Returns None after recording a problem.
    """
    if isinstance(value, int | float | str):
        kind, raw, arg_paths = "fixed", [value], [path]
    else:
        kind = next(iter(type(value).model_fields))
        inner = getattr(value, kind)
        if kind == "fixed":
            raw, arg_paths = [inner], [(*path, kind)]
        elif isinstance(inner, tuple | list):
            raw = list(inner)
            arg_paths = [(*path, kind, i) for i in range(len(raw))]
        else:
            names = distributions.DELAY_ARGUMENTS[kind]
            raw = [getattr(inner, name) for name in names]
            arg_paths = [(*path, kind, name) for name in names]
    percentages = [(p, v) for p, v in zip(arg_paths, raw, strict=True)
                   if isinstance(v, str) and parse_percent(v.strip()) is not None
                   and p[-1] not in _SCALE_FREE_ARGUMENTS]
    for where, written in percentages:
        context.report(where, f"{written!r} is a percentage, not a time",
                       "delays are in days: write a number of days or a duration such as "
                       "`3 days` or `12 hours`")
    if percentages:
        return None
    args = [parse_formula(context, p, v, "number") for p, v in zip(arg_paths, raw, strict=True)]
    if any(a is None for a in args):
        return None
    result = Delay(kind, tuple(a for a in args if a is not None))
    constants = result.constant_args()
    if constants is not None:
        message = distributions.check_delay_arguments(kind, constants)
        if message:
            context.report(path, message, "delays are in days and cannot be negative")
            return None
        return result
    values = [value_at_point(context, path, a) for a in result.args]
    if all(isinstance(v, float) for v in values):
        message = distributions.check_delay_arguments(kind, values)  # type: ignore[arg-type]
        if message:
            context.report(path, f"{message}{format_reading(context, result.args)}",
                           "delays are in days and cannot be negative: check the "
                           "parameters' values (and any --set)")
            return None
    return result


def check_update(context: CompileContext, path: PathKey, variable: str, formula: Formula,
                 integer: bool) -> None:
    """Refuse an update over parameters alone whose value the variable cannot take."""
    value = value_at_point(context, path, formula)
    if not isinstance(value, float) or isinstance(formula.constant(), bool):
        return
    shown = (f"{formula.text!r} = {value:g}{format_reading(context, [formula])}"
             if formula.tree.names() else f"{value:g}")
    if not math.isfinite(value):
        context.report(path, f"set {variable}: {shown} is not a finite number",
                       "check the parameters' values (and any --set)")
    elif integer and value != round(value):
        context.report(path, f"{variable} holds whole numbers, but {shown} is not one",
                       "levels are the ladder's rungs: whole numbers from 0"
                       if variable == "level"
                       else "round it, or start the variable at a decimal such as 0.0")
    elif variable == "level" and not 0 <= value < context.ladder_size:
        context.report(path, f"level {shown} is outside the ladder (0 to "
                       f"{context.ladder_size - 1})", "levels are the ladder's rungs, from 0")


def value_at_point(context: CompileContext, path: PathKey,
                   formula: Formula) -> float | bool | None:
    """The value of a formula over parameters alone, at their values (None otherwise).

    Such a formula takes that value in every replication of a plain run,
    so a value no replication could use is reported now rather than by
    the first replication that reaches it; a formula that cannot be
    evaluated there is reported too (as ``False``).
    """
    names = formula.tree.names()
    if not names <= context.parameter_names or names & context.out_of_range or not context.point:
        return None
    try:
        value = formula.evaluate(context.point)
    except (ArithmeticError, ValueError, TypeError) as exc:
        context.report(path, f"cannot evaluate {formula.text!r}"
                       f"{format_reading(context, [formula])}: {exc}",
                       "check the parameters' values (and any --set)")
        return False
    return value if isinstance(value, bool) else float(value)


def format_reading(context: CompileContext, formulas: Sequence[Formula]) -> str:
    """`` (with p = 0.3, q = 2)`` for the parameters the formulas read ("" for none)."""
    names = sorted(set().union(*(f.tree.names() for f in formulas)))
    shown = ", ".join(f"{name} = {context.point[context.slots[name]]:g}" for name in names)
    return f" (with {shown})" if names else ""
