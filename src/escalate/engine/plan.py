"""What the batch engine does when each event fires, prepared once per scenario.

A :class:`EventPlan` holds an event's expressions compiled for arrays
(:mod:`~escalate.engine.vectorized`) and the layout of the uniform numbers
its firing may use, which the engine deals each firing replication as one
run: one column range per delay drawn for a ``then`` successor, one column
for the ``choose`` draw followed by the range of the chosen successor's delay
(only one successor is chosen, so they share it), and the range of the
``repeat`` delay.  ``uniforms`` is the length of the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..compile.compiled import NOW, CompiledEvent, CompiledScenario, Delay, Formula
from ..distributions import DELAY_UNIFORMS, check_delay_arguments
from .vectorized import VectorEvaluator, compile_vectorized, constant_value

__all__ = ["BranchPlan", "DelayPlan", "EventPlan", "SchedulePlan", "UpdatePlan", "build_plans"]


@dataclass(frozen=True, slots=True)
class Compiled:
    """A formula with its array closure."""

    formula: Formula
    evaluate: VectorEvaluator


@dataclass(frozen=True, slots=True)
class DelayPlan:
    """A delay distribution of ``event`` (whose name errors carry), ready to sample."""

    event: CompiledEvent
    kind: str
    args: tuple[Compiled, ...]
    constant: bool  # the same valid arguments in every replication: no need to check them
    uniforms: int


@dataclass(frozen=True, slots=True)
class SchedulePlan:
    """Scheduling ``target``: at its absolute time, after its delay, or at once."""

    target: int
    at: float | None
    delay: DelayPlan | None
    column: int  # the first uniform column of the delay


@dataclass(frozen=True, slots=True)
class UpdatePlan:
    slot: int
    name: str
    value: Compiled
    integer: bool


@dataclass(frozen=True, slots=True)
class BranchPlan:
    """One alternative of a ``choose``; ``probability`` is None for ``otherwise``."""

    target: int | None
    probability: Compiled | None


@dataclass(frozen=True, slots=True)
class EventPlan:
    event: CompiledEvent
    guard: Compiled | None
    updates: tuple[UpdatePlan, ...]
    sets_level: bool
    outcomes: tuple[int, ...]  # `event` outcomes of this event
    conditions: tuple[tuple[int, Compiled], ...]  # `when` outcomes its updates may make true
    then: tuple[SchedulePlan, ...]
    branches: tuple[BranchPlan, ...]
    choose_column: int
    chosen: Mapping[int, SchedulePlan]  # successor -> how the chosen one is scheduled
    repeat_every: DelayPlan | None
    repeat_column: int
    repeat_condition: Compiled | None
    repeat_max: int | None
    uniforms: int  # columns this event uses


def build_plans(scenario: CompiledScenario, constants: Mapping[int, Any]) -> tuple[EventPlan, ...]:
    """Prepare every event of ``scenario``; ``constants`` are the slots shared by all replications."""
    slots = scenario.slots

    def compiled(formula: Formula) -> Compiled:
        return Compiled(formula, compile_vectorized(formula.tree, slots, constants))

    def delay_plan(event: CompiledEvent, delay: Delay) -> DelayPlan:
        args = tuple(compiled(a) for a in delay.args)
        values = [constant_value(a.tree, slots, constants) for a in delay.args]
        fixed = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
        # Arguments that are the same everywhere and valid need no check when drawn;
        # invalid ones are left to fail when drawn, as in the reference engine.
        checked = fixed and check_delay_arguments(delay.kind, [float(v) for v in values]) is None
        uniforms = DELAY_UNIFORMS[delay.kind]
        if delay.kind == "gamma" and checked and float(values[0]).is_integer():
            # a whole shape up to the usual count is a sum of that many exponentials
            uniforms = min(uniforms, int(values[0]))
        return DelayPlan(event, delay.kind, args, checked, uniforms)

    def schedule(target: int, column: int) -> SchedulePlan:
        event = scenario.events[target]
        delay = None
        if event.at is None and event.delay is not None:
            delay = delay_plan(event, event.delay)
        return SchedulePlan(target, event.at, delay, column)

    def width(plan: SchedulePlan) -> int:
        return plan.delay.uniforms if plan.delay is not None else 0

    conditions = [(k, o.condition) for k, o in enumerate(scenario.outcomes)
                  if o.kind == "when" and o.condition is not None]
    plans = []
    for event in scenario.events:
        column = 0
        then = []
        for target in event.then:
            plan = schedule(target, column)
            then.append(plan)
            column += width(plan)
        choose_column = column
        chosen: dict[int, SchedulePlan] = {}
        if event.branches:
            column += 1
            for branch in event.branches:
                if branch.target is not None:
                    chosen[branch.target] = schedule(branch.target, column)
            column += max((width(p) for p in chosen.values()), default=0)
        repeat_every = None
        repeat_column = column
        if event.repeat is not None:
            repeat_every = delay_plan(event, event.repeat.every)
            column += repeat_every.uniforms
        written = {u.name for u in event.updates}
        # A condition can only become true when something it reads changes: these
        # updates, or the time.  Others were false when last checked and still are.
        watched = tuple((k, compiled(c)) for k, c in conditions
                        if c.tree.names() & (written | {NOW}))
        plans.append(EventPlan(
            event=event,
            guard=compiled(event.guard) if event.guard is not None else None,
            updates=tuple(UpdatePlan(u.slot, u.name, compiled(u.formula), u.integer)
                          for u in event.updates),
            sets_level=any(u.slot == scenario.level_slot for u in event.updates),
            outcomes=tuple(k for k, o in enumerate(scenario.outcomes)
                           if o.kind == "event" and o.event == event.index),
            conditions=watched,
            then=tuple(then),
            branches=tuple(BranchPlan(b.target, compiled(b.probability)
                                      if b.probability is not None else None)
                           for b in event.branches),
            choose_column=choose_column,
            chosen=chosen,
            repeat_every=repeat_every,
            repeat_column=repeat_column,
            repeat_condition=(compiled(event.repeat.condition)
                              if event.repeat is not None and event.repeat.condition is not None
                              else None),
            repeat_max=event.repeat.max_count if event.repeat is not None else None,
            uniforms=column,
        ))
    return tuple(plans)
