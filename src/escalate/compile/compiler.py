"""Compiling a scenario spec: resolve names, parse expressions, check the graph.

:func:`compile_scenario` is the one place where everything a user wrote is
checked beyond its shape.  It collects every problem before raising, so a
:class:`~escalate.errors.ScenarioError` lists all of them with their positions.
The steps, in the order their problems are reported: sources and actors, the
horizon, the ladder and state (:mod:`.state`), the parameters
(:mod:`.parameters`), the events (:mod:`.events`), the outcomes
(:mod:`.outcomes`) and, when all else is sound, the event graph (:mod:`.graph`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from ..errors import ScenarioError
from ..spec import model
from ..spec.quantities import to_days
from ..spec.source import SourceMap
from .compiled import NOW, RESERVED_TERMINALS, CompiledScenario
from .context import MAX_HORIZON_DAYS, CompileContext
from .events import compile_events, date_written
from .graph import check_graph
from .outcomes import check_column_names, compile_outcomes
from .parameters import compile_parameters
from .state import compile_ladder, compile_state

__all__ = ["compile_scenario"]


def compile_scenario(spec: model.ScenarioSpec, source_map: SourceMap | None = None,
                     overrides: Mapping[str, Any] | None = None, *,
                     broken: Mapping[str, set[str]] | None = None) -> CompiledScenario:
    """Check and compile a scenario, applying parameter ``overrides``.

    ``broken`` names entries (by section) that exist in the file but failed
    their shape checks; references to them are not reported again.
    Raises :class:`ScenarioError` listing every problem found.
    """
    context = CompileContext.begin(spec, source_map or SourceMap(), overrides or {}, broken or {})
    compiled = _compile(context)
    return replace(compiled, overrides=dict(overrides or {}))


def _check_sources_and_actors(context: CompileContext) -> None:
    """Refuse duplicate source ids, and actor names that are invalid or given twice."""
    spec = context.spec
    seen_ids: set[str] = set()
    for i, source in enumerate(spec.sources):
        if source.id in seen_ids:
            context.report(("sources", i, "id"), f"duplicate source id {source.id!r}")
        seen_ids.add(source.id)
    actor_names = [a if isinstance(a, str) else a.name for a in spec.actors]
    for i, actor in enumerate(actor_names):
        context.check_name(("actors", i), actor, "actor")
        if actor in actor_names[:i]:
            context.report(("actors", i), f"duplicate actor {actor!r}")


def _compile_horizon(context: CompileContext) -> float:
    """The horizon in days (NaN when it cannot be read), refused unless positive and in limits."""
    spec = context.spec
    horizon = math.nan
    try:
        horizon = to_days(spec.horizon, spec.start)
    except ValueError as exc:
        context.report(("horizon",), str(exc))
    else:
        date = date_written(spec.horizon)
        if date is not None and spec.start is not None and not horizon > 0:
            when = ("is the start date itself" if horizon == 0 else
                    f"is {-horizon:g} days before the start {spec.start.isoformat()}")
            context.report(("horizon",), f"the horizon {date.isoformat()} {when}; it must come "
                           "after the start",
                           "give a later date, a duration such as `180 days`, or an "
                           "earlier `start:`")
        elif not horizon > 0:
            context.report(("horizon",), f"the horizon must be positive, found {horizon:g} days")
        elif horizon > MAX_HORIZON_DAYS:
            context.report(("horizon",), f"a horizon of {horizon:g} days is beyond the limit "
                           "of 1,000,000 days", "see docs/limits.md")
    return horizon


def _compile(context: CompileContext) -> CompiledScenario:
    spec = context.spec
    _check_sources_and_actors(context)
    horizon = _compile_horizon(context)
    ladder = compile_ladder(context)
    context.ladder_size = len(ladder)
    state_names, state_initial, state_integer = compile_state(context, ladder)
    parameter_names, parameter_values, uncertainty = compile_parameters(context)
    names = [*state_names, *parameter_names, NOW]
    context.slots = {name: i for i, name in enumerate(names)}
    context.integer_slots = [*state_integer, *(False for _ in parameter_names), False]
    context.point = [*state_initial, *parameter_values, 0.0]
    context.parameter_names = frozenset(parameter_names)
    context.types[NOW] = "number"
    events = compile_events(context, spec.start, horizon)
    outcomes = compile_outcomes(context, events)
    check_column_names(context)
    roots = tuple(e.index for e in events if e.at is not None)
    if not context.problems and not any(context.broken.values()):
        context.problems.extend(check_graph(events, roots, context.source_map))
    if context.problems:
        raise ScenarioError(context.problems)
    terminals = tuple(dict.fromkeys(
        [*(e.end for e in events if e.end is not None), *RESERVED_TERMINALS]))
    return CompiledScenario(
        name=spec.name, start=spec.start, horizon=horizon,
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
