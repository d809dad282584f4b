"""Compiling the events: times, delays, guards, updates, choices, repeats, cancels and ends."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from ..spec import model
from ..spec.quantities import looks_like_quantity, to_days
from ..spec.source import PathKey
from ..spec.suggest import did_you_mean
from .compiled import RESERVED_TERMINALS, Branch, CompiledEvent, Formula, Repeat, Update
from .context import MAX_HORIZON_DAYS, CompileContext
from .formulas import check_update, compile_delay, format_reading, parse_formula, value_at_point

__all__ = ["compile_events", "date_written", "resolve_reference"]

_TOLERANCE = 1e-9  # the engines' tolerance on probabilities


def date_written(value: object) -> dt.date | None:
    """The date ``value`` is written as (a YAML date or ISO text), or None for a number or duration.

    Messages about a time written as a date name the date, not a count of days
    the user never wrote.
    """
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def compile_events(context: CompileContext, start: dt.date | None,
                   horizon: float) -> list[CompiledEvent]:
    """Compile every event in the order written; an event's index is its position."""
    index = {name: i for i, name in enumerate(context.spec.events)}
    actors = [a if isinstance(a, str) else a.name for a in context.spec.actors]
    compiled = []
    for i, (name, event) in enumerate(context.spec.events.items()):
        path: PathKey = ("events", name)
        context.check_name(path, name, "event")
        compiled.append(_compile_event(context, i, name, event, path, index, actors,
                                       start, horizon))
    return compiled


def resolve_reference(context: CompileContext, path: PathKey, target: str,
                      index: Mapping[str, int]) -> int | None:
    """The index of the event named ``target``, or None (reported unless that event is broken)."""
    if target in context.broken.get("events", ()):
        return None
    if target not in index:
        context.report(path, f"unknown event {target!r}",
                       did_you_mean(target, index, kind="events"))
        return None
    return index[target]


def _resolve_references(context: CompileContext, path: PathKey, targets: list[str] | str,
                        index: Mapping[str, int]) -> tuple[int, ...]:
    """The indices of the events named (one name or a list), leaving out the unknown ones."""
    items = [targets] if isinstance(targets, str) else targets
    found = []
    for k, target in enumerate(items):
        where = path if isinstance(targets, str) else (*path, k)
        ref = resolve_reference(context, where, target, index)
        if ref is not None:
            found.append(ref)
    return tuple(found)


def _compile_event(context: CompileContext, i: int, name: str, event: model.Event,
                   path: PathKey, index: Mapping[str, int], actors: list[str],
                   start: dt.date | None, horizon: float) -> CompiledEvent:
    if event.actor is not None and event.actor not in actors:
        context.report((*path, "actor"), f"unknown actor {event.actor!r}",
                       did_you_mean(event.actor, actors, kind="actors")
                       or "declare it under `actors:`")
    context.check_sources((*path, "source"), event.source)
    at = None
    if event.at is not None:
        if event.after is not None:
            context.report(path, "give either `at` (a time) or `after` (a delay), not both")
        try:
            at = to_days(event.at, start)
        except ValueError as exc:
            context.report((*path, "at"), str(exc))
        else:
            if at < 0:
                date = date_written(event.at)
                if date is not None and start is not None:
                    context.report((*path, "at"), f"`at` is {date.isoformat()}, "
                                   f"{-at:g} days before the start {start.isoformat()}",
                                   "give a date on or after `start:`, or move `start:` earlier")
                else:
                    context.report((*path, "at"), f"`at` is {at:g} days, before the start",
                                   "times count days from the start: 0 is the start")
            elif 0 < horizon <= MAX_HORIZON_DAYS and at >= horizon:  # (else reported)
                context.report((*path, "at"), f"`at` is day {at:g}, not before the horizon "
                               f"(day {horizon:g}), so the event would never happen",
                               "move it before the horizon, or lengthen `horizon`")
    delay = (compile_delay(context, (*path, "after"), event.after)
             if event.after is not None else None)
    guard = None
    if event.when is not None:
        guard = parse_formula(context, (*path, "when"), event.when, "bool")
    # A guard over parameters alone that is false (or cannot be evaluated, reported
    # then) keeps the event's updates and choice from ever being evaluated.
    fires = guard is None or value_at_point(context, (*path, "when"), guard) is not False
    updates = _compile_updates(context, path, event, fires=fires)
    then = _resolve_references(context, (*path, "then"), event.then, index)
    branches = []
    if event.choose is not None:
        branches = _compile_branches(context, (*path, "choose"), event.choose, index,
                                     fires=fires)
    repeat = None
    if event.repeat is not None:
        rpath = (*path, "repeat")
        every = compile_delay(context, (*rpath, "every"), event.repeat.every)
        condition = None
        if event.repeat.while_ is not None:
            condition = parse_formula(context, (*rpath, "while"), event.repeat.while_, "bool")
        if every is not None:
            repeat = Repeat(every, condition, event.repeat.max)
    cancels = _resolve_references(context, (*path, "cancels"), event.cancels, index)
    if event.end is not None:
        if event.end in RESERVED_TERMINALS:
            context.report((*path, "end"), f"the terminal label {event.end!r} is reserved",
                           "the engine uses " + ", ".join(RESERVED_TERMINALS))
        if then or branches or repeat:
            context.report(path, "an event with `end` stops the replication, so it cannot "
                           "also have `then`, `choose` or `repeat`")
    return CompiledEvent(i, name, event.label or name, event.actor, at, delay, guard,
                         tuple(updates), then, tuple(branches), repeat, cancels, event.end)


def _compile_updates(context: CompileContext, path: PathKey, event: model.Event, *,
                     fires: bool) -> list[Update]:
    """The event's ``set`` entries, checked at the point values when the event ``fires``."""
    updates = []
    spec = context.spec
    for variable, value in event.set.items():
        where = (*path, "set", variable)
        if variable not in context.slots or variable in spec.parameters:
            message = (f"{variable!r} is a parameter, which cannot be changed"
                       if variable in spec.parameters
                       else f"unknown state variable {variable!r}")
            context.report(where, message,
                           did_you_mean(variable, spec.state, kind="state variables")
                           if variable not in spec.parameters
                           else "declare a state variable under `state:`", key=True)
            continue
        want = context.types[variable]
        formula = parse_formula(context, where, value, want)
        if formula is not None:
            integer = context.integer_slots[context.slots[variable]]
            if fires:
                check_update(context, where, variable, formula, integer)
            updates.append(Update(context.slots[variable], variable, formula, integer))
    return updates


def _compile_branches(context: CompileContext, path: PathKey, choose: Mapping[str, Any],
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
        ref = resolve_reference(context, where, target, index)
        formula = parse_formula(context, where, probability, "number")
        if formula is None or ref is None:
            continue
        value = formula.constant()
        if value is not None:
            if not 0 <= value <= 1:
                context.report(where, f"probability {value:g} is outside [0, 1]",
                               "write probabilities as 0.3 or '30%'")
                out_of_range = True
            constant_total += value
        elif fires:
            known = value_at_point(context, where, formula)
            if isinstance(known, float):
                over_parameters.append(formula)
                if not -_TOLERANCE <= known <= 1 + _TOLERANCE:
                    context.report(where, f"probability {formula.text!r} = {known:g} is "
                                   f"outside [0, 1]{format_reading(context, [formula])}",
                                   "check the parameters' values (and any --set)")
                    out_of_range = True
                constant_total += known
            elif known is not None:
                out_of_range = True
        branches.append(Branch(ref, formula))
    if constant_total > 1 + _TOLERANCE and not out_of_range:
        if over_parameters:
            context.report(path, f"the probabilities sum to {constant_total:.6g}, more than 1"
                           f"{format_reading(context, over_parameters)}",
                           "lower the parameters' values (and any --set), or let "
                           "`otherwise` take the remainder")
        else:
            context.report(path, f"the probabilities sum to {constant_total:g}, more than 1",
                           "lower them, or let `otherwise` take the remainder")
    if "otherwise" in choose:
        target = choose["otherwise"]
        if not isinstance(target, str) or looks_like_quantity(target):
            context.report((*path, "otherwise"),
                           f"`otherwise` names the event taken with the remaining "
                           f"probability, found {target!r}")
        else:
            ref = resolve_reference(context, (*path, "otherwise"), target, index)
            if ref is not None:
                branches.append(Branch(ref, None))
    if not choose:  # alternatives that are wrong have been reported one by one
        context.report(path, "`choose` needs at least one alternative")
    return branches
