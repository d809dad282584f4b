"""Compiling the parameters: their values (with overrides), ranges, uncertainty and sources."""

from __future__ import annotations

import math
from typing import Any

from .. import distributions
from ..errors import Diagnostic
from ..spec import model
from ..spec.quantities import parse_duration, parse_percent
from ..spec.source import PathKey
from ..spec.suggest import did_you_mean
from .context import CompileContext

__all__ = ["compile_parameters", "parse_parameter_value"]


def compile_parameters(context: CompileContext) -> tuple[list[str], list[Any], list[Any]]:
    """Return the parameters' names, point values and uncertainty distributions (or None).

    Overrides replace the values written in the file, and hold those
    parameters at their values in two-level runs too; an override naming no
    parameter is reported at ``--set``.  A parameter whose value is refused
    joins the broken names, so that its uses are not reported again.
    """
    names: list[str] = []
    values: list[Any] = []
    uncertain: list[Any] = []
    for name, parameter in context.spec.parameters.items():
        path: PathKey = ("parameters", name)
        context.check_name(path, name, "parameter")
        if name in context.types:
            context.report(path, f"{name!r} is both a state variable and a parameter",
                           "rename one of them", key=True)
        # An overridden parameter is held at its value, also in two-level runs.
        overridden = name in context.overrides
        raw = context.overrides.pop(name, parameter.value)
        where = (*path, "value")
        value = parse_parameter_value(context, where, raw)
        if value is None:
            context.broken.setdefault("parameters", set()).add(name)
            values.append(0.0)
            uncertain.append(None)
            names.append(name)
            continue
        reported = len(context.problems)
        _check_range(context, path, name, value, parameter.range)
        wrong = len(context.problems) > reported
        # A value outside its range is not reported again as outside its 90% interval.
        uncertainty = _compile_uncertainty(context, path, parameter, value,
                                           held=overridden or wrong)
        if len(context.problems) > reported:
            context.out_of_range.add(name)  # reported once, not again where it is read
        uncertain.append(None if overridden else uncertainty)
        context.check_sources((*path, "source"), parameter.source)
        names.append(name)
        values.append(value)
        context.types[name] = "bool" if isinstance(value, bool) else "number"
    for name in context.overrides:
        context.problems.append(Diagnostic(
            f"cannot set {name!r}: no such parameter", path="--set", file=context.source_map.file,
            hint=did_you_mean(name, context.spec.parameters, kind="parameters")))
    return names, values, uncertain


def parse_parameter_value(context: CompileContext, path: PathKey, raw: Any) -> float | bool | None:
    """Read a parameter's value: a number, a percentage, a duration or true/false.

    Returns None after recording the problem when it is none of these.
    """
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            context.report(path, f"expected a finite number, found {raw!r}")
            return None
        return float(raw)
    if isinstance(raw, str):
        text = raw.strip()
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        try:
            number = parse_duration(text)
        except ValueError as exc:
            context.report(path, str(exc))
            return None
        if number is None:
            number = parse_percent(text)
        if number is None:
            try:
                number = float(text)
            except ValueError:
                number = None
        if number is not None and math.isfinite(number):
            return number
    context.report(path, f"expected a number, a percentage, a duration or true/false, "
                   f"found {raw!r}", "parameter values are constants, not expressions")
    return None


def _check_range(context: CompileContext, path: PathKey, name: str, value: Any,
                 bounds: tuple[float, float] | None) -> None:
    """Refuse an empty range, and a value outside its range."""
    if bounds is None:
        return
    low, high = bounds
    if low > high:
        context.report((*path, "range"), f"range [{low:g}, {high:g}] is empty")
    elif isinstance(value, bool) or not low <= value <= high:
        context.report((*path, "value"), f"{name} = {value!r} is outside its range "
                       f"[{low:g}, {high:g}]")


def _compile_uncertainty(context: CompileContext, path: PathKey, parameter: model.Parameter,
                         value: Any, *, held: bool = False
                         ) -> distributions.UncertainParameter | None:
    """The parameter's distribution, checked; ``held`` when its value need not lie in its
    90% interval (an override fixes it, or it was refused already)."""
    if parameter.ci90 is not None and parameter.uncertainty is not None:
        context.report(path, "give either `ci90` or `uncertainty`, not both")
        return None
    if isinstance(value, bool) and (parameter.ci90 or parameter.uncertainty):
        context.report(path, "a true/false parameter cannot have an uncertainty distribution")
        return None
    if parameter.ci90 is not None:
        low, high = (_parse_constant(context, (*path, "ci90", i), v)
                     for i, v in enumerate(parameter.ci90))
        if low is None or high is None:
            return None
        if not held and low < high and not low <= value <= high:
            context.report((*path, "value"), f"the value {value:g} lies outside its own 90% "
                           f"interval [{low:g}, {high:g}]",
                           "a 90% interval holds the most likely value: correct the value "
                           "or widen `ci90`")
            return None
        try:
            return distributions.fit_ci90(low, high, value)
        except ValueError as exc:
            context.report((*path, "ci90"), str(exc))
            return None
    if parameter.uncertainty is None:
        return None
    kind = next(iter(type(parameter.uncertainty).model_fields))
    inner = getattr(parameter.uncertainty, kind)
    where = (*path, "uncertainty", kind)
    if isinstance(inner, tuple):
        args = [_parse_constant(context, (*where, i), v) for i, v in enumerate(inner)]
    else:
        args = []
        for arg in distributions.UNCERTAINTY_ARGUMENTS[kind]:
            raw = getattr(inner, arg)
            args.append(math.nan if raw is None else _parse_constant(context, (*where, arg), raw))
    if any(a is None for a in args):
        return None
    numbers = tuple(float(a) for a in args if a is not None)
    message = distributions.check_uncertainty_arguments(kind, numbers)
    if message:
        context.report(where, message)
        return None
    return distributions.UncertainParameter(kind, numbers)


def _parse_constant(context: CompileContext, path: PathKey, raw: Any) -> float | None:
    """Read a number written as a parameter value would be (true/false refused)."""
    value = parse_parameter_value(context, path, raw)
    if isinstance(value, bool):
        context.report(path, f"expected a number, found {raw!r}")
        return None
    return value
