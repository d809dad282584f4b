"""Compiling a scenario spec: resolve names, parse expressions, check the graph.

:func:`compile_scenario` is the one place where everything a user wrote is
checked beyond its shape.  It collects every problem before raising, so a
:class:`~escalate.errors.ScenarioError` lists all of them with their positions.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from . import distributions
from .compiled import (
    NOW,
    RESERVED_TERMINALS,
    Branch,
    CompiledEvent,
    CompiledOutcome,
    CompiledScenario,
    Delay,
    Formula,
    Repeat,
    Update,
)
from .errors import Diagnostic, ScenarioError
from .spec import model
from .spec.expressions import (
    FUNCTIONS,
    KEYWORDS,
    ExpressionError,
    Type,
    infer_type,
    parse,
    scalar_evaluator,
)
from .spec.graph import check_graph
from .spec.quantities import looks_like_quantity, parse_duration, parse_percent, to_days
from .spec.source import PathKey, SourceMap
from .spec.suggest import did_you_mean

__all__ = ["COMPACT_LADDER", "compile_scenario"]

#: The built-in ladder used when a scenario does not define its own.
COMPACT_LADDER = (
    "no crisis",
    "crisis and signalling",
    "conventional strikes",
    "strikes beyond the theatre",
    "direct NATO-Russia clash",
    "nuclear threat",
    "nuclear use",
)
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED_NAMES = set(FUNCTIONS) | KEYWORDS | {NOW}
_TOLERANCE = 1e-9  # the engines' tolerance on probabilities
_MAX_HORIZON = 1e6  # days (docs/limits.md)
#: delay arguments that are not times (so may be written as percentages)
_SCALE_FREE_ARGUMENTS = ("shape", "sigma")


class _Compiler:
    def __init__(self, spec: model.ScenarioSpec, source_map: SourceMap,
                 overrides: Mapping[str, Any], broken: Mapping[str, set[str]]) -> None:
        self.spec = spec
        # A copy: parameters whose value is wrong join it, so that their uses are not reported too.
        self.broken = {section: set(names) for section, names in broken.items()}
        self.map = source_map
        self.overrides = dict(overrides)
        self.problems: list[Diagnostic] = []
        self.types: dict[str, Type] = {}
        self.slots: dict[str, int] = {}
        # The values a formula over parameters alone takes in every replication of a run
        # (the parameters' point values with overrides applied), known once they are read.
        self.point: list[Any] = []
        self.parameter_names: frozenset[str] = frozenset()
        self.out_of_range: set[str] = set()
        self.ladder_size = 0

    # -- reporting -------------------------------------------------------------------------

    def problem(self, path: PathKey, message: str, hint: str = "", *, key: bool = False) -> None:
        self.problems.append(self.map.diagnostic(path, message, hint=hint, key=key))

    def expression_problem(self, path: PathKey, error: ExpressionError, text: str) -> None:
        line, column = self.map.locate_offset(path, text, error.offset)
        shown = text if len(text) <= 80 else text[:77] + "..."
        message = f"{error.message} in expression {shown!r}" if text.strip() else error.message
        self.problems.append(Diagnostic(
            message, path=_path_text(path), file=self.map.file,
            line=line, column=column, hint=error.hint))

    def check_name(self, path: PathKey, name: str, kind: str) -> None:
        if not _IDENTIFIER.match(name):
            self.problem(path, f"{kind} name {name!r} is not a valid name",
                         "use letters, digits and underscores, starting with a letter", key=True)
        elif name in _RESERVED_NAMES:
            self.problem(path, f"{kind} name {name!r} is reserved", "choose another name", key=True)

    # -- expressions -----------------------------------------------------------------------

    def formula(self, path: PathKey, value: Any, want: str) -> Formula | None:
        """Parse a number, boolean, percentage, duration or expression into a Formula."""
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, int | float):
            if not math.isfinite(value):
                self.problem(path, f"expected a finite number, found {value!r}")
                return None
            text = repr(float(value))
        elif isinstance(value, str):
            text = value
            if looks_like_quantity(value):
                try:
                    number = parse_duration(value)
                except ValueError as exc:
                    self.problem(path, str(exc))
                    return None
                number = parse_percent(value) if number is None else number
                text = repr(number)
        else:
            self.problem(path, f"expected {want}, found {value!r}")
            return None
        try:
            tree = parse(text)
            if tree.names() & self.broken.get("parameters", set()):
                return None
            found = infer_type(tree, self.types)
        except ExpressionError as exc:
            if exc.message.startswith("unknown name"):
                name = exc.message.split("'")[1]
                exc.hint = exc.hint or did_you_mean(
                    name, [*self.types], kind="parameters or state variables")
            self.expression_problem(path, exc, text)
            return None
        if found != want:
            self.problem(path, f"expected {'a condition' if want == 'bool' else 'a number'}, "
                         f"but {text!r} is a {found}")
            return None
        return Formula(text, tree, scalar_evaluator(tree, self.slots), _path_text(path))

    def delay(self, path: PathKey, value: Any) -> Delay | None:
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
            self.problem(where, f"{written!r} is a percentage, not a time",
                         "delays are in days: write a number of days or a duration such as "
                         "`3 days` or `12 hours`")
        if percentages:
            return None
        args = [self.formula(p, v, "number") for p, v in zip(arg_paths, raw, strict=True)]
        if any(a is None for a in args):
            return None
        result = Delay(kind, tuple(a for a in args if a is not None))
        constants = result.constant_args()
        if constants is not None:
            message = distributions.check_delay_arguments(kind, constants)
            if message:
                self.problem(path, message, "delays are in days and cannot be negative")
                return None
            return result
        values = [self.at_point(path, a) for a in result.args]
        if all(isinstance(v, float) for v in values):
            message = distributions.check_delay_arguments(kind, values)  # type: ignore[arg-type]
            if message:
                self.problem(path, f"{message}{self.reading(result.args)}",
                             "delays are in days and cannot be negative: check the "
                             "parameters' values (and any --set)")
                return None
        return result

    def check_update(self, path: PathKey, variable: str, formula: Formula,
                     integer: bool) -> None:
        """Refuse an update over parameters alone whose value the variable cannot take."""
        value = self.at_point(path, formula)
        if not isinstance(value, float) or isinstance(formula.constant(), bool):
            return
        shown = (f"{formula.text!r} = {value:g}{self.reading([formula])}"
                 if formula.tree.names() else f"{value:g}")
        if not math.isfinite(value):
            self.problem(path, f"set {variable}: {shown} is not a finite number",
                         "check the parameters' values (and any --set)")
        elif integer and value != round(value):
            self.problem(path, f"{variable} holds whole numbers, but {shown} is not one",
                         "levels are the ladder's rungs: whole numbers from 0"
                         if variable == "level"
                         else "round it, or start the variable at a decimal such as 0.0")
        elif variable == "level" and not 0 <= value < self.ladder_size:
            self.problem(path, f"level {shown} is outside the ladder (0 to "
                         f"{self.ladder_size - 1})", "levels are the ladder's rungs, from 0")

    def at_point(self, path: PathKey, formula: Formula) -> float | bool | None:
        """The value of a formula over parameters alone, at their values (None otherwise).

        Such a formula takes that value in every replication of a plain run,
        so a value no replication could use is reported now rather than by
        the first replication that reaches it; a formula that cannot be
        evaluated there is reported too (as ``False``).
        """
        names = formula.tree.names()
        if not names <= self.parameter_names or names & self.out_of_range or not self.point:
            return None
        try:
            value = formula.evaluate(self.point)
        except (ArithmeticError, ValueError, TypeError) as exc:
            self.problem(path, f"cannot evaluate {formula.text!r}"
                         f"{self.reading([formula])}: {exc}",
                         "check the parameters' values (and any --set)")
            return False
        return value if isinstance(value, bool) else float(value)

    def reading(self, formulas: Sequence[Formula]) -> str:
        """`` (with p = 0.3, q = 2)`` for the parameters the formulas read ("" for none)."""
        names = sorted(set().union(*(f.tree.names() for f in formulas)))
        shown = ", ".join(f"{name} = {self.point[self.slots[name]]:g}" for name in names)
        return f" (with {shown})" if names else ""

    # -- sections --------------------------------------------------------------------------

    def ladder(self) -> tuple[str, ...]:
        ladder = self.spec.ladder
        if ladder == "compact":
            return COMPACT_LADDER
        names = tuple(item if isinstance(item, str) else item.name for item in ladder)
        if len(names) < 2:
            self.problem(("ladder",), "the ladder needs at least two levels",
                         "or leave `ladder` out to use the built-in compact ladder")
        for i, name in enumerate(names):
            if name in names[:i]:
                self.problem(("ladder", i), f"duplicate ladder level {name!r}")
        return names

    def state(self, ladder: tuple[str, ...]) -> tuple[list[str], list[Any], list[bool]]:
        names, initial, integer = [], [], []
        declared = dict(self.spec.state)
        declared.setdefault("level", 0)
        for name, value in declared.items():
            self.check_name(("state", name), name, "state variable")
            names.append(name)
            initial.append(float(value) if isinstance(value, int | float) and not isinstance(
                value, bool) else value)
            integer.append(isinstance(value, int) and not isinstance(value, bool))
            self.types[name] = "bool" if isinstance(value, bool) else "number"
        level = declared["level"]
        if isinstance(level, bool) or not isinstance(level, int):
            self.problem(("state", "level"), f"`level` is a whole-number rung of the ladder, "
                         f"found {level!r}")
        elif not 0 <= level < len(ladder):
            self.problem(("state", "level"), f"initial level {level} is outside the ladder "
                         f"(0 to {len(ladder) - 1})")
        integer[names.index("level")] = True
        # `level` is a number even when its initial value is wrong, so that one
        # mistake there is not reported again at every use of `level`.
        self.types["level"] = "number"
        return names, initial, integer

    def parameters(self) -> tuple[list[str], list[Any], list[Any]]:
        names: list[str] = []
        values: list[Any] = []
        uncertain: list[Any] = []
        for name, parameter in self.spec.parameters.items():
            path: PathKey = ("parameters", name)
            self.check_name(path, name, "parameter")
            if name in self.types:
                self.problem(path, f"{name!r} is both a state variable and a parameter",
                             "rename one of them", key=True)
            # An overridden parameter is held at its value, also in two-level runs.
            overridden = name in self.overrides
            raw = self.overrides.pop(name, parameter.value)
            where = (*path, "value")
            value = self.parameter_value(where, raw)
            if value is None:
                self.broken.setdefault("parameters", set()).add(name)
                values.append(0.0)
                uncertain.append(None)
                names.append(name)
                continue
            reported = len(self.problems)
            self.check_range(path, name, value, parameter.range)
            wrong = len(self.problems) > reported
            # A value outside its range is not reported again as outside its 90% interval.
            uncertainty = self.uncertainty(path, parameter, value, held=overridden or wrong)
            if len(self.problems) > reported:
                self.out_of_range.add(name)  # reported once, not again where it is read
            uncertain.append(None if overridden else uncertainty)
            self.check_sources((*path, "source"), parameter.source)
            names.append(name)
            values.append(value)
            self.types[name] = "bool" if isinstance(value, bool) else "number"
        for name in self.overrides:
            self.problems.append(Diagnostic(
                f"cannot set {name!r}: no such parameter", path="--set", file=self.map.file,
                hint=did_you_mean(name, self.spec.parameters, kind="parameters")))
        return names, values, uncertain

    def parameter_value(self, path: PathKey, raw: Any) -> float | bool | None:
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int | float):
            if not math.isfinite(raw):
                self.problem(path, f"expected a finite number, found {raw!r}")
                return None
            return float(raw)
        if isinstance(raw, str):
            text = raw.strip()
            if text.lower() in ("true", "false"):
                return text.lower() == "true"
            try:
                number = parse_duration(text)
            except ValueError as exc:
                self.problem(path, str(exc))
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
        self.problem(path, f"expected a number, a percentage, a duration or true/false, "
                     f"found {raw!r}", "parameter values are constants, not expressions")
        return None

    def check_range(self, path: PathKey, name: str, value: Any,
                    bounds: tuple[float, float] | None) -> None:
        if bounds is None:
            return
        low, high = bounds
        if low > high:
            self.problem((*path, "range"), f"range [{low:g}, {high:g}] is empty")
        elif isinstance(value, bool) or not low <= value <= high:
            self.problem((*path, "value"), f"{name} = {value!r} is outside its range "
                         f"[{low:g}, {high:g}]")

    def uncertainty(self, path: PathKey, parameter: model.Parameter, value: Any, *,
                    held: bool = False) -> distributions.UncertainParameter | None:
        """The parameter's distribution, checked; ``held`` when its value need not lie in its
        90% interval (an override fixes it, or it was refused already)."""
        if parameter.ci90 is not None and parameter.uncertainty is not None:
            self.problem(path, "give either `ci90` or `uncertainty`, not both")
            return None
        if isinstance(value, bool) and (parameter.ci90 or parameter.uncertainty):
            self.problem(path, "a true/false parameter cannot have an uncertainty distribution")
            return None
        if parameter.ci90 is not None:
            low, high = (self.constant((*path, "ci90", i), v)
                         for i, v in enumerate(parameter.ci90))
            if low is None or high is None:
                return None
            if not held and low < high and not low <= value <= high:
                self.problem((*path, "value"), f"the value {value:g} lies outside its own 90% "
                             f"interval [{low:g}, {high:g}]",
                             "a 90% interval holds the most likely value: correct the value "
                             "or widen `ci90`")
                return None
            try:
                return distributions.fit_ci90(low, high, value)
            except ValueError as exc:
                self.problem((*path, "ci90"), str(exc))
                return None
        if parameter.uncertainty is None:
            return None
        kind = next(iter(type(parameter.uncertainty).model_fields))
        inner = getattr(parameter.uncertainty, kind)
        where = (*path, "uncertainty", kind)
        if isinstance(inner, tuple):
            args = [self.constant((*where, i), v) for i, v in enumerate(inner)]
        else:
            args = []
            for arg in distributions.UNCERTAINTY_ARGUMENTS[kind]:
                raw = getattr(inner, arg)
                args.append(math.nan if raw is None else self.constant((*where, arg), raw))
        if any(a is None for a in args):
            return None
        numbers = tuple(float(a) for a in args if a is not None)
        message = distributions.check_uncertainty_arguments(kind, numbers)
        if message:
            self.problem(where, message)
            return None
        return distributions.UncertainParameter(kind, numbers)

    def constant(self, path: PathKey, raw: Any) -> float | None:
        value = self.parameter_value(path, raw)
        if isinstance(value, bool):
            self.problem(path, f"expected a number, found {raw!r}")
            return None
        return value

    def check_sources(self, path: PathKey, refs: str | list[str] | None) -> None:
        known = [s.id for s in self.spec.sources]
        for i, ref in enumerate([refs] if isinstance(refs, str) else refs or []):
            if ref not in known:
                where = path if isinstance(refs, str) else (*path, i)
                self.problem(where, f"unknown source {ref!r}",
                             did_you_mean(ref, known, kind="sources"))

    def events(self, ladder: tuple[str, ...], start: dt.date | None,
               horizon: float) -> list[CompiledEvent]:
        index = {name: i for i, name in enumerate(self.spec.events)}
        actors = [a if isinstance(a, str) else a.name for a in self.spec.actors]
        compiled = []
        for i, (name, event) in enumerate(self.spec.events.items()):
            path: PathKey = ("events", name)
            self.check_name(path, name, "event")
            compiled.append(self.event(i, name, event, path, index, actors, start, horizon))
        return compiled

    def reference(self, path: PathKey, target: str, index: Mapping[str, int]) -> int | None:
        if target in self.broken.get("events", ()):
            return None
        if target not in index:
            self.problem(path, f"unknown event {target!r}", did_you_mean(target, index, kind="events"))
            return None
        return index[target]

    def references(self, path: PathKey, targets: list[str] | str,
                   index: Mapping[str, int]) -> tuple[int, ...]:
        items = [targets] if isinstance(targets, str) else targets
        found = []
        for k, target in enumerate(items):
            where = path if isinstance(targets, str) else (*path, k)
            ref = self.reference(where, target, index)
            if ref is not None:
                found.append(ref)
        return tuple(found)

    def event(self, i: int, name: str, event: model.Event, path: PathKey,
              index: Mapping[str, int], actors: list[str], start: dt.date | None,
              horizon: float) -> CompiledEvent:
        if event.actor is not None and event.actor not in actors:
            self.problem((*path, "actor"), f"unknown actor {event.actor!r}",
                         did_you_mean(event.actor, actors, kind="actors")
                         or "declare it under `actors:`")
        self.check_sources((*path, "source"), event.source)
        at = None
        if event.at is not None:
            if event.after is not None:
                self.problem(path, "give either `at` (a time) or `after` (a delay), not both")
            try:
                at = to_days(event.at, start)
            except ValueError as exc:
                self.problem((*path, "at"), str(exc))
            else:
                if at < 0:
                    self.problem((*path, "at"), f"`at` is {at:g} days, before the start")
                elif 0 < horizon <= _MAX_HORIZON and at >= horizon:  # (else reported)
                    self.problem((*path, "at"), f"`at` is day {at:g}, not before the horizon "
                                 f"(day {horizon:g}), so the event would never happen",
                                 "move it before the horizon, or lengthen `horizon`")
        delay = self.delay((*path, "after"), event.after) if event.after is not None else None
        guard = None
        if event.when is not None:
            guard = self.formula((*path, "when"), event.when, "bool")
        # A guard over parameters alone that is false (or cannot be evaluated, reported
        # then) keeps the event's updates and choice from ever being evaluated.
        fires = guard is None or self.at_point((*path, "when"), guard) is not False
        updates = []
        for variable, value in event.set.items():
            where = (*path, "set", variable)
            if variable not in self.slots or variable in self.spec.parameters:
                message = (f"{variable!r} is a parameter, which cannot be changed"
                           if variable in self.spec.parameters
                           else f"unknown state variable {variable!r}")
                self.problem(where, message,
                             did_you_mean(variable, self.spec.state, kind="state variables")
                             if variable not in self.spec.parameters
                             else "declare a state variable under `state:`", key=True)
                continue
            want = self.types[variable]
            formula = self.formula(where, value, want)
            if formula is not None:
                integer = self.integer_slots[self.slots[variable]]
                if fires:
                    self.check_update(where, variable, formula, integer)
                updates.append(Update(self.slots[variable], variable, formula, integer))
        then = self.references((*path, "then"), event.then, index)
        branches = []
        if event.choose is not None:
            branches = self.branches((*path, "choose"), event.choose, index, fires=fires)
        repeat = None
        if event.repeat is not None:
            rpath = (*path, "repeat")
            every = self.delay((*rpath, "every"), event.repeat.every)
            condition = None
            if event.repeat.while_ is not None:
                condition = self.formula((*rpath, "while"), event.repeat.while_, "bool")
            if every is not None:
                repeat = Repeat(every, condition, event.repeat.max)
        cancels = self.references((*path, "cancels"), event.cancels, index)
        if event.end is not None:
            if event.end in RESERVED_TERMINALS:
                self.problem((*path, "end"), f"the terminal label {event.end!r} is reserved",
                             "the engine uses " + ", ".join(RESERVED_TERMINALS))
            if then or branches or repeat:
                self.problem(path, "an event with `end` stops the replication, so it cannot "
                             "also have `then`, `choose` or `repeat`")
        return CompiledEvent(i, name, event.label or name, event.actor, at, delay, guard,
                             tuple(updates), then, tuple(branches), repeat, cancels, event.end)

    def branches(self, path: PathKey, choose: Mapping[str, Any],
                 index: Mapping[str, int], *, fires: bool = True) -> list[Branch]:
        """The alternatives, checked; ``fires`` False when the event never fires its body, so
        that probabilities over parameters alone are not evaluated."""
        branches = []
        constant_total = 0.0
        out_of_range = False
        over_parameters: list[Formula] = []
        for target, probability in choose.items():
            if target == "otherwise":
                continue
            where = (*path, target)
            ref = self.reference(where, target, index)
            formula = self.formula(where, probability, "number")
            if formula is None or ref is None:
                continue
            value = formula.constant()
            if value is not None:
                if not 0 <= value <= 1:
                    self.problem(where, f"probability {value:g} is outside [0, 1]",
                                 "write probabilities as 0.3 or '30%'")
                    out_of_range = True
                constant_total += value
            elif fires:
                known = self.at_point(where, formula)
                if isinstance(known, float):
                    over_parameters.append(formula)
                    if not -_TOLERANCE <= known <= 1 + _TOLERANCE:
                        self.problem(where, f"probability {formula.text!r} = {known:g} is "
                                     f"outside [0, 1]{self.reading([formula])}",
                                     "check the parameters' values (and any --set)")
                        out_of_range = True
                    constant_total += known
                elif known is not None:
                    out_of_range = True
            branches.append(Branch(ref, formula))
        if constant_total > 1 + _TOLERANCE and not out_of_range:
            if over_parameters:
                self.problem(path, f"the probabilities sum to {constant_total:.6g}, more than 1"
                             f"{self.reading(over_parameters)}",
                             "lower the parameters' values (and any --set), or let "
                             "`otherwise` take the remainder")
            else:
                self.problem(path, f"the probabilities sum to {constant_total:g}, more than 1",
                             "lower them, or let `otherwise` take the remainder")
        if "otherwise" in choose:
            target = choose["otherwise"]
            if not isinstance(target, str) or looks_like_quantity(target):
                self.problem((*path, "otherwise"),
                             f"`otherwise` names the event taken with the remaining "
                             f"probability, found {target!r}")
            else:
                ref = self.reference((*path, "otherwise"), target, index)
                if ref is not None:
                    branches.append(Branch(ref, None))
        if not choose:  # alternatives that are wrong have been reported one by one
            self.problem(path, "`choose` needs at least one alternative")
        return branches

    def outcomes(self, events: list[CompiledEvent]) -> list[CompiledOutcome]:
        index = {e.name: e.index for e in events}
        terminals = {e.end for e in events if e.end} | set(RESERVED_TERMINALS)
        compiled = []
        for name, outcome in self.spec.outcomes.items():
            path: PathKey = ("outcomes", name)
            self.check_name(path, name, "outcome")
            kinds = [k for k in ("event", "when", "terminal") if getattr(outcome, k) is not None]
            if len(kinds) != 1:
                self.problem(path, "an outcome needs exactly one of `event`, `when` or "
                             f"`terminal`, found {len(kinds)}",
                             "for example `{event: nato_strike}`")
                continue
            label = outcome.label or name
            if outcome.event is not None:
                ref = self.reference((*path, "event"), outcome.event, index)
                if ref is not None:
                    compiled.append(CompiledOutcome(name, label, "event", event=ref))
            elif outcome.when is not None:
                formula = self.formula((*path, "when"), outcome.when, "bool")
                if formula is not None:
                    compiled.append(CompiledOutcome(name, label, "when", condition=formula))
            elif outcome.terminal is not None:
                if outcome.terminal in self.broken.get("terminals", ()):
                    continue  # an event with a shape error ends with it (reported there)
                if outcome.terminal not in terminals:
                    self.problem((*path, "terminal"), f"no event ends with {outcome.terminal!r}",
                                 did_you_mean(outcome.terminal, terminals, kind="terminals"))
                    continue
                compiled.append(CompiledOutcome(name, label, "terminal",
                                                terminal=outcome.terminal))
        return compiled

    def compile(self) -> CompiledScenario:
        spec = self.spec
        seen_ids: set[str] = set()
        for i, source in enumerate(spec.sources):
            if source.id in seen_ids:
                self.problem(("sources", i, "id"), f"duplicate source id {source.id!r}")
            seen_ids.add(source.id)
        actor_names = [a if isinstance(a, str) else a.name for a in spec.actors]
        for i, actor in enumerate(actor_names):
            self.check_name(("actors", i), actor, "actor")
            if actor in actor_names[:i]:
                self.problem(("actors", i), f"duplicate actor {actor!r}")
        horizon = math.nan
        try:
            horizon = to_days(spec.horizon, spec.start)
        except ValueError as exc:
            self.problem(("horizon",), str(exc))
        else:
            if not horizon > 0:
                self.problem(("horizon",), f"the horizon must be positive, found {horizon:g} days")
            elif horizon > _MAX_HORIZON:
                self.problem(("horizon",), f"a horizon of {horizon:g} days is beyond the limit "
                             "of 1,000,000 days", "see docs/limits.md")
        ladder = self.ladder()
        self.ladder_size = len(ladder)
        state_names, state_initial, state_integer = self.state(ladder)
        parameter_names, parameter_values, uncertainty = self.parameters()
        names = [*state_names, *parameter_names, NOW]
        self.slots = {name: i for i, name in enumerate(names)}
        self.integer_slots = [*state_integer, *(False for _ in parameter_names), False]
        self.point = [*state_initial, *parameter_values, 0.0]
        self.parameter_names = frozenset(parameter_names)
        self.types[NOW] = "number"
        events = self.events(ladder, spec.start, horizon)
        outcomes = self.outcomes(events)
        roots = tuple(e.index for e in events if e.at is not None)
        if not self.problems and not any(self.broken.values()):
            self.problems.extend(check_graph(events, roots, self.map))
        if self.problems:
            raise ScenarioError(self.problems)
        terminals = tuple(dict.fromkeys(
            [*(e.end for e in events if e.end is not None), *RESERVED_TERMINALS]))
        return CompiledScenario(
            spec=spec, name=spec.name, start=spec.start, horizon=horizon,
            max_events=spec.max_events, ladder=ladder,
            state_names=tuple(state_names), state_initial=tuple(state_initial),
            state_integer=tuple(state_integer), level_slot=state_names.index("level"),
            parameter_names=tuple(parameter_names), parameter_values=tuple(parameter_values),
            parameter_uncertainty=tuple(uncertainty),
            parameter_ranges=tuple(
                (float(p.range[0]), float(p.range[1])) if p.range is not None else None
                for p in spec.parameters.values()),
            parameter_labels=tuple(p.label or name for name, p in spec.parameters.items()),
            events=tuple(events), roots=roots, outcomes=tuple(outcomes), terminals=terminals,
            document=json.loads(spec.model_dump_json(by_alias=True)),
        )


def _path_text(path: PathKey) -> str:
    from .spec.source import format_path

    return format_path(path)


def compile_scenario(spec: model.ScenarioSpec, source_map: SourceMap | None = None,
                     overrides: Mapping[str, Any] | None = None, *,
                     broken: Mapping[str, set[str]] | None = None) -> CompiledScenario:
    """Check and compile a scenario, applying parameter ``overrides``.

    ``broken`` names entries (by section) that exist in the file but failed
    their shape checks; references to them are not reported again.
    Raises :class:`ScenarioError` listing every problem found.
    """
    compiler = _Compiler(spec, source_map or SourceMap(), overrides or {}, broken or {})
    compiled = compiler.compile()
    return _with_overrides(compiled, overrides or {})


def _with_overrides(compiled: CompiledScenario, overrides: Mapping[str, Any]) -> CompiledScenario:
    from dataclasses import replace

    return replace(compiled, overrides=dict(overrides))
