"""Checking every point of a sweep before anything runs.

Each point is checked as if compiled with its values as overrides, exactly
as ``--set`` would be: a value outside its parameter's declared range or of
the wrong kind, and every choice probability, delay argument and update that
depends on parameters alone (not on state or time) evaluated at the point's
values (one that leaves [0, 1], choices summing above 1, a negative delay, a
fraction for a whole number or a level off the ladder would fail the first
replication that reaches it) are reported now, with the point's index and
values.  An event whose guard reads parameters alone and is false at the
point never evaluates its updates and choice, so they are not checked.  Uncertain parameters are checked at their point
values too, whether or not the sweep draws them per replication.

:func:`validate_points` reaches the same verdict for every point without
compiling each one (a sweep of 100,000 points would spend most of a minute
on that): a scenario's structure does not depend on its parameters' values,
so compiling a point can only fail for a value that is not finite or lies
outside its parameter's range, checked for all points at once with numpy,
or for a formula over parameters.  The checks of formulas are built once; a
check that reads no varied parameter runs once, the others once per
distinct combination of the values they read.  Only the invalid points
listed in the error are compiled, so that their problems read exactly as
:func:`point_problems` gives them.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..compile.compiled import CompiledScenario, Formula
from ..distributions import check_delay_arguments
from ..errors import Diagnostic, ScenarioError
from ..scenario import Scenario
from ..spec.suggest import did_you_mean
from .design import Design

__all__ = ["check_varied_names", "fix_parameters", "invalid_points", "point_problems",
           "validate_points"]

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


def _evaluate_truth(formula: Formula, values: list[Any]) -> tuple[bool, str]:
    try:
        return bool(formula.evaluate(values)), ""
    except (ArithmeticError, ValueError, TypeError) as exc:
        return False, f"cannot evaluate {formula.text!r}: {exc}"


def _evaluate(formula: Formula, values: list[Any]) -> tuple[float | None, str]:
    try:
        return float(formula.evaluate(values)), ""
    except (ArithmeticError, ValueError, TypeError) as exc:
        return None, f"cannot evaluate {formula.text!r}: {exc}"


@dataclasses.dataclass(frozen=True)
class _Check:
    """One check at a point's values: an event's choice probabilities, a delay's arguments,
    or an update's value, as compiling the scenario with those values checks them.

    ``formulas`` are those that depend on parameters alone (the others wait
    for the run); ``delay`` is the delay's kind for a delay; ``update`` the
    variable, whether it holds whole numbers and the ladder's size (``level``)
    for an update.  ``guard`` is the event's guard when it reads parameters
    alone: false at the point, the event's updates and choice are never
    evaluated, so they are not checked.
    """

    where: str
    formulas: tuple[Formula, ...]
    delay: str | None = None
    update: tuple[str, bool, int] | None = None
    guard: Formula | None = None

    @property
    def reads(self) -> frozenset[str]:
        """The names the formulas (and the guard) read."""
        return _reads((*self.formulas, *((self.guard,) if self.guard else ())))

    def problems(self, values: list[Any]) -> Iterator[tuple[str, str]]:
        """Each problem at ``values`` as ``(where, message)``."""
        if self.guard is not None:
            held, error = _evaluate_truth(self.guard, values)
            if error:
                yield self.guard.where, error
            if not held:
                return
        if self.delay is not None:
            yield from self._delay_problems(values)
        elif self.update is not None:
            yield from self._update_problems(values)
        else:
            yield from self._choice_problems(values)

    def _choice_problems(self, values: list[Any]) -> Iterator[tuple[str, str]]:
        total = 0.0
        for formula in self.formulas:
            p, error = _evaluate(formula, values)
            if p is None:
                yield formula.where, error
                continue
            if not -_TOLERANCE <= p <= 1 + _TOLERANCE:
                yield formula.where, f"probability {formula.text!r} = {p:g} is outside [0, 1]"
            total += p
        if total > 1 + _TOLERANCE:
            yield self.where, f"the choice probabilities sum to {total:.6g} > 1"

    def _delay_problems(self, values: list[Any]) -> Iterator[tuple[str, str]]:
        assert self.delay is not None
        args = []
        for formula in self.formulas:
            value, error = _evaluate(formula, values)
            if value is None:
                yield self.where, error
                return
            args.append(value)
        problem = check_delay_arguments(self.delay, args)
        if problem:
            yield self.where, f"delay: {problem}"

    def _update_problems(self, values: list[Any]) -> Iterator[tuple[str, str]]:
        assert self.update is not None
        variable, integer, ladder = self.update
        (formula,) = self.formulas
        value, error = _evaluate(formula, values)
        if value is None:
            yield self.where, error
        elif not math.isfinite(value):
            yield self.where, f"set {variable}: {value!r} is not a finite number"
        elif integer and value != round(value):
            yield self.where, f"{variable} holds whole numbers, but {value:g} is not one"
        elif variable == "level" and not 0 <= value < ladder:
            yield self.where, f"level {value:g} is outside the ladder (0 to {ladder - 1})"


def _checks(compiled: CompiledScenario, fixed: set[str]) -> list[_Check]:
    """Every check of formulas over the parameters in ``fixed``, in the order of the events."""
    checks = []
    ladder = len(compiled.ladder)
    for event in compiled.events:
        guard = event.guard if event.guard is not None and _constant_in(event.guard, fixed) \
            else None
        if guard is not None:
            # The guard alone: one that cannot be evaluated is a problem of every firing.
            checks.append(_Check(f"events.{event.name}.when", (), guard=guard))
        checks.extend(_Check(f"events.{event.name}.set.{update.name}", (update.formula,),
                             update=(update.name, update.integer, ladder), guard=guard)
                      for update in event.updates
                      if _constant_in(update.formula, fixed)
                      and not isinstance(update.formula.constant(), bool))
        formulas = tuple(branch.probability for branch in event.branches
                         if branch.probability is not None
                         and _constant_in(branch.probability, fixed))
        if formulas:
            checks.append(_Check(f"events.{event.name}.choose", formulas, guard=guard))
        delays = [(event.delay, f"events.{event.name}.after")]
        if event.repeat is not None:
            delays.append((event.repeat.every, f"events.{event.name}.repeat.every"))
        for delay, where in delays:
            # Literal delays were checked when the scenario was compiled.
            if delay is None or delay.constant_args() is not None:
                continue
            if all(_constant_in(a, fixed) for a in delay.args):
                # A delay is drawn when the event is scheduled, before any guard.
                checks.append(_Check(where, delay.args, delay=delay.kind))
    return checks


def _reads(formulas: Sequence[Formula]) -> frozenset[str]:
    return frozenset().union(*(formula.tree.names() for formula in formulas))


def _parameters(compiled: CompiledScenario) -> set[str]:
    # Every parameter, uncertain or not: its point value (or the point's) must be one that
    # every formula reading it can use, as compiling the scenario checks.
    return set(compiled.parameter_names)


def point_problems(scenario: Scenario, overrides: Mapping[str, float]) -> list[Diagnostic]:
    """Everything wrong with the scenario at these parameter values (empty when it is fine).

    Compiling with the values as overrides checks them all, formulas over
    parameters included (``docs/semantics.md``).
    """
    try:
        scenario.compile(overrides)
    except ScenarioError as exc:
        return list(exc.diagnostics)
    return []


def invalid_points(scenario: Scenario, design: Design) -> np.ndarray:
    """A mask of the points of ``design`` at which :func:`point_problems` finds a problem.

    The same verdict for every point, reached without compiling each one (see
    the module's docstring).  The names varied must be numeric parameters of
    the scenario (:func:`check_varied_names`).
    """
    compiled = scenario.compiled
    values = np.asarray(design.values, dtype=float).reshape(design.points, len(design.names))
    invalid = np.zeros(design.points, dtype=bool)
    # What compiling the point would refuse (compile/parameters.py: its value and range checks).
    for j, name in enumerate(design.names):
        column = values[:, j]
        fine = np.isfinite(column)
        bounds = scenario.spec.parameters[name].range
        if bounds is not None:
            fine &= (bounds[0] <= column) & (column <= bounds[1])
        invalid |= ~fine
    compiling = np.flatnonzero(~invalid)
    base = compiled.initial_values()
    slots = compiled.slots
    for check in _checks(compiled, _parameters(compiled)):
        read = [j for j, name in enumerate(design.names) if name in check.reads]
        if not read:
            # The same at every point: the varied values are not among those it reads.
            if next(check.problems(base), None) is not None:
                invalid[compiling] = True
            continue
        # Distinct cases by their bits, so that no two values a check could tell apart merge.
        bits = np.ascontiguousarray(values[compiling][:, read]).view(np.uint64)
        _, first, case_of = np.unique(bits, axis=0, return_index=True, return_inverse=True)
        bad_case = np.zeros(len(first), dtype=bool)
        targets = [slots[design.names[j]] for j in read]
        for case, row in enumerate(compiling[first]):
            point = list(base)
            for slot, j in zip(targets, read, strict=True):
                point[slot] = float(values[row, j])
            bad_case[case] = next(check.problems(point), None) is not None
        invalid[compiling[bad_case[case_of.reshape(-1)]]] = True
    return invalid


def _where(diagnostic: Diagnostic) -> str:
    line = f" (line {diagnostic.line})" if diagnostic.line is not None else ""
    return f"{diagnostic.path}{line}: " if diagnostic.path else ""


def _describe(values: Mapping[str, float]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in values.items())


def validate_points(scenario: Scenario, design: Design) -> None:
    """Check every point of ``design``; raise :class:`ScenarioError` listing the invalid ones.

    Each problem names the point's index and values; beyond ``MAX_LISTED``
    invalid points, the rest are counted.
    """
    check_varied_names(scenario, design.names)
    invalid = np.flatnonzero(invalid_points(scenario, design))
    if not len(invalid):
        return
    width = len(str(design.points - 1))
    listed: list[Diagnostic] = []
    for index in map(int, invalid[:MAX_LISTED]):
        values = design.point(index)
        # Compiled one by one, so that each problem reads as it does for --set.
        problems = point_problems(scenario, values)
        # Right-aligned indices first, so that sorted diagnostics keep the points' order.
        prefix = f"point {index:>{width}} ({_describe(values)})"
        listed += [Diagnostic(f"{prefix}: {_where(d)}{d.message}", file=_file(scenario),
                              hint=d.hint) for d in problems]
    if len(invalid) > MAX_LISTED:
        listed.append(Diagnostic(f"{len(invalid):,} of {design.points:,} points are invalid; "
                                 f"the first {MAX_LISTED} are listed", file=_file(scenario)))
    raise ScenarioError(listed)
