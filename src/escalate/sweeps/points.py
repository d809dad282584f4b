"""Checking every point of a sweep before anything runs.

Each point is compiled with its values as overrides, exactly as ``--set``
would be, so a value outside its parameter's declared range or of the wrong
kind is reported as the scenario reports it.  Then every choice probability
and delay argument that depends on parameters alone (not on state or time)
is evaluated at the point's values: one that leaves [0, 1], choices summing
above 1, or a negative delay would fail the first replication that reaches
it, so it is reported now, with the point's index and values.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ..compiled import CompiledEvent, CompiledScenario, Delay, Formula
from ..distributions import check_delay_arguments
from ..errors import Diagnostic, ScenarioError
from ..scenario import Scenario
from ..spec.suggest import did_you_mean
from .design import Design

__all__ = ["check_varied_names", "fix_parameters", "point_problems", "validate_points"]

#: invalid points listed in one error; the rest are counted
MAX_LISTED = 20
_TOLERANCE = 1e-9  # the reference engine's tolerance on probabilities


def check_varied_names(scenario: Scenario, names: Sequence[str]) -> None:
    """Raise :class:`ScenarioError` unless every name is a numeric parameter of the scenario."""
    compiled = scenario.compiled
    known = compiled.parameter_names
    problems = []
    for name in names:
        if name not in known:
            kind = "a state variable, not a parameter" if name in compiled.state_names \
                else "not a parameter of the scenario"
            problems.append(Diagnostic(f"cannot vary {name!r}: it is {kind}", path="--vary",
                                       file=_file(scenario),
                                       hint=did_you_mean(name, known, kind="parameters")))
        elif isinstance(compiled.parameter_values[known.index(name)], bool):
            problems.append(Diagnostic(f"cannot vary {name!r}: it is true/false; sweeps vary "
                                       "numeric parameters", path="--vary",
                                       file=_file(scenario)))
    if problems:
        raise ScenarioError(problems)


def fix_parameters(compiled: CompiledScenario, names: Sequence[str]) -> CompiledScenario:
    """Return ``compiled`` with parameters ``names`` held at their values in two-level runs.

    A varied parameter is the sweep's outer level: its value at a point must
    not be redrawn per replication from its uncertainty distribution.
    """
    uncertainty = tuple(None if name in names else u
                        for name, u in zip(compiled.parameter_names,
                                           compiled.parameter_uncertainty, strict=True))
    return dataclasses.replace(compiled, parameter_uncertainty=uncertainty)


def _file(scenario: Scenario) -> str:
    return str(scenario.path) if scenario.path else scenario.source_map.file


def _constant_in(formula: Formula, fixed: set[str]) -> bool:
    return formula.tree.names() <= fixed


def _evaluate(formula: Formula, values: list[Any]) -> tuple[float | None, str]:
    try:
        return float(formula.evaluate(values)), ""
    except (ArithmeticError, ValueError, TypeError) as exc:
        return None, f"cannot evaluate {formula.text!r}: {exc}"


def _choice_problems(event: CompiledEvent, values: list[Any],
                     fixed: set[str]) -> Iterator[tuple[str, str]]:
    total = 0.0
    for branch in event.branches:
        formula = branch.probability
        if formula is None or not _constant_in(formula, fixed):
            continue
        p, error = _evaluate(formula, values)
        if p is None:
            yield formula.where, error
            continue
        if not -_TOLERANCE <= p <= 1 + _TOLERANCE:
            yield formula.where, f"probability {formula.text!r} = {p:g} is outside [0, 1]"
        total += p
    if total > 1 + _TOLERANCE:
        yield f"events.{event.name}.choose", f"the choice probabilities sum to {total:.6g} > 1"


def _delay_problems(delay: Delay | None, where: str, values: list[Any],
                    fixed: set[str]) -> Iterator[tuple[str, str]]:
    if delay is None or delay.constant_args() is not None:
        return
    if not all(_constant_in(a, fixed) for a in delay.args):
        return
    args = []
    for formula in delay.args:
        value, error = _evaluate(formula, values)
        if value is None:
            yield where, error
            return
        args.append(value)
    problem = check_delay_arguments(delay.kind, args)
    if problem:
        yield where, f"delay: {problem}"


def point_problems(scenario: Scenario, overrides: Mapping[str, float],
                   uncertainty: bool = False) -> list[Diagnostic]:
    """Everything wrong with the scenario at these parameter values (empty when it is fine)."""
    try:
        compiled = scenario.compile(overrides)
    except ScenarioError as exc:
        return list(exc.diagnostics)
    # With two-level runs, parameters drawn per replication are not known in advance.
    fixed = {name for name, u in zip(compiled.parameter_names, compiled.parameter_uncertainty,
                                     strict=True)
             if not uncertainty or u is None or name in overrides}
    values = compiled.initial_values()
    found: list[tuple[str, str]] = []
    for event in compiled.events:
        found += _choice_problems(event, values, fixed)
        found += _delay_problems(event.delay, f"events.{event.name}.after", values, fixed)
        if event.repeat is not None:
            found += _delay_problems(event.repeat.every, f"events.{event.name}.repeat.every",
                                     values, fixed)
    return [Diagnostic(message, path=where, file=_file(scenario)) for where, message in found]


def _where(diagnostic: Diagnostic) -> str:
    line = f" (line {diagnostic.line})" if diagnostic.line is not None else ""
    return f"{diagnostic.path}{line}: " if diagnostic.path else ""


def _describe(values: Mapping[str, float]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in values.items())


def validate_points(scenario: Scenario, design: Design, uncertainty: bool = False) -> None:
    """Check every point of ``design``; raise :class:`ScenarioError` listing the invalid ones.

    Each problem names the point's index and values; beyond ``MAX_LISTED``
    invalid points, the rest are counted.
    """
    check_varied_names(scenario, design.names)
    width = len(str(design.points - 1))
    invalid = 0
    listed: list[Diagnostic] = []
    for index in range(design.points):
        values = design.point(index)
        problems = point_problems(scenario, values, uncertainty)
        if not problems:
            continue
        invalid += 1
        if invalid > MAX_LISTED:
            continue
        # Right-aligned indices first, so that sorted diagnostics keep the points' order.
        prefix = f"point {index:>{width}} ({_describe(values)})"
        listed += [Diagnostic(f"{prefix}: {_where(d)}{d.message}", file=_file(scenario),
                              hint=d.hint) for d in problems]
    if not invalid:
        return
    if invalid > MAX_LISTED:
        listed.append(Diagnostic(f"{invalid:,} of {design.points:,} points are invalid; "
                                 f"the first {MAX_LISTED} are listed", file=_file(scenario)))
    raise ScenarioError(listed)
