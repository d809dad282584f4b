"""What the batch engine does when each event fires, prepared once per scenario.

A :class:`ScenarioPlan` holds everything a chunk of replications needs from
the scenario: one :class:`EventPlan` per event, the ``when`` outcomes, the
terminals and the sizes of the tables.  An :class:`EventPlan` holds an
event's expressions as :class:`ArrayFormula` (lowered to arrays by
:mod:`~escalate.engine.batch.lowering`) and the layout of the uniform numbers
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

import numpy as np

from ...compile.compiled import NOW, CompiledEvent, CompiledScenario, Delay, Formula
from ...distributions import DELAY_UNIFORMS, check_delay_arguments
from .lowering import ArrayEvaluator, constant_value, lower_to_arrays

__all__ = ["ArrayFormula", "BranchPlan", "DelayPlan", "EventPlan", "ScenarioPlan", "SchedulePlan",
           "UpdatePlan", "build_plans", "plan_scenario"]


@dataclass(frozen=True, slots=True)
class ArrayFormula:
    """A formula with its array closure (:func:`~escalate.engine.batch.lowering.lower_to_arrays`)."""

    formula: Formula
    evaluate: ArrayEvaluator


@dataclass(frozen=True, slots=True)
class DelayPlan:
    """A delay distribution of ``event`` (whose name errors carry), ready to sample."""

    event: CompiledEvent
    kind: str
    args: tuple[ArrayFormula, ...]
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
    value: ArrayFormula
    integer: bool


@dataclass(frozen=True, slots=True)
class BranchPlan:
    """One alternative of a ``choose``; ``probability`` is None for ``otherwise``."""

    target: int | None
    probability: ArrayFormula | None


@dataclass(frozen=True, slots=True)
class EventPlan:
    event: CompiledEvent
    guard: ArrayFormula | None
    updates: tuple[UpdatePlan, ...]
    sets_level: bool
    outcomes: tuple[int, ...]  # `event` outcomes of this event
    conditions: tuple[tuple[int, ArrayFormula], ...]  # `when` outcomes its updates may make true
    then: tuple[SchedulePlan, ...]
    branches: tuple[BranchPlan, ...]
    choose_column: int
    chosen: Mapping[int, SchedulePlan]  # successor -> how the chosen one is scheduled
    repeat_every: DelayPlan | None
    repeat_column: int
    repeat_condition: ArrayFormula | None
    repeat_max: int | None
    uniforms: int  # columns this event uses


def build_plans(scenario: CompiledScenario, constants: Mapping[int, Any]) -> tuple[EventPlan, ...]:
    """Prepare every event of ``scenario``; ``constants`` are the slots shared by all replications."""
    slots = scenario.slots

    def lowered(formula: Formula) -> ArrayFormula:
        return ArrayFormula(formula, lower_to_arrays(formula.tree, slots, constants))

    def delay_plan(event: CompiledEvent, delay: Delay) -> DelayPlan:
        args = tuple(lowered(a) for a in delay.args)
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
        watched = tuple((k, lowered(c)) for k, c in conditions
                        if c.tree.names() & (written | {NOW}))
        plans.append(EventPlan(
            event=event,
            guard=lowered(event.guard) if event.guard is not None else None,
            updates=tuple(UpdatePlan(u.slot, u.name, lowered(u.formula), u.integer)
                          for u in event.updates),
            sets_level=any(u.slot == scenario.level_slot for u in event.updates),
            outcomes=tuple(k for k, o in enumerate(scenario.outcomes)
                           if o.kind == "event" and o.event == event.index),
            conditions=watched,
            then=tuple(then),
            branches=tuple(BranchPlan(b.target, lowered(b.probability)
                                      if b.probability is not None else None)
                           for b in event.branches),
            choose_column=choose_column,
            chosen=chosen,
            repeat_every=repeat_every,
            repeat_column=repeat_column,
            repeat_condition=(lowered(event.repeat.condition)
                              if event.repeat is not None and event.repeat.condition is not None
                              else None),
            repeat_max=event.repeat.max_count if event.repeat is not None else None,
            uniforms=column,
        ))
    return tuple(plans)


@dataclass(frozen=True, eq=False)
class ScenarioPlan:
    """Everything the chunks of a batch run need from a scenario, prepared once.

    ``events`` holds one plan per event; ``uniforms`` the uniform numbers each
    event's firing may use; ``conditions`` the ``when`` outcomes checked at
    the start; ``terminal_codes`` numbers the terminals and
    ``terminal_outcomes`` lists the outcomes each one makes true; ``counted``
    are the events whose occurrences are counted (for ``repeat.max``);
    ``capacity`` is the pending table's first size and ``order_dtype`` the
    type of its scheduling numbers.
    """

    scenario: CompiledScenario
    uncertainty: bool
    events: tuple[EventPlan, ...]
    uniforms: np.ndarray
    conditions: tuple[tuple[int, ArrayFormula], ...]
    terminal_codes: Mapping[str, int]
    terminal_outcomes: Mapping[int, tuple[int, ...]]
    counted: tuple[int, ...]
    capacity: int
    order_dtype: type[np.signedinteger[Any]]


def plan_scenario(scenario: CompiledScenario, *, uncertainty: bool = False) -> ScenarioPlan:
    """Prepare ``scenario`` for the batch engine (uncertain parameters drawn if ``uncertainty``).

    Parameters that are not drawn are the same in every replication, so they
    are folded into the array closures.
    """
    offset = scenario.parameter_offset
    varying = {offset + p for p in scenario.uncertain_parameters} if uncertainty else set()
    constants = {offset + i: value for i, value in enumerate(scenario.parameter_values)
                 if offset + i not in varying}
    events = build_plans(scenario, constants)
    conditions = tuple((k, ArrayFormula(o.condition, lower_to_arrays(
                           o.condition.tree, scenario.slots, constants)))
                       for k, o in enumerate(scenario.outcomes)
                       if o.kind == "when" and o.condition is not None)
    terminal_codes = {label: code for code, label in enumerate(scenario.terminals)}
    terminal_outcomes = {
        code: tuple(k for k, o in enumerate(scenario.outcomes)
                    if o.kind == "terminal" and o.terminal == label)
        for label, code in terminal_codes.items()}
    successors = max(len(e.then) + 2 for e in scenario.events)
    order_dtype: type[np.signedinteger[Any]] = (
        np.int32 if (scenario.max_events + 1) * successors + len(scenario.roots) < 2**31
        else np.int64)
    return ScenarioPlan(
        scenario=scenario, uncertainty=uncertainty, events=events,
        uniforms=np.array([plan.uniforms for plan in events], dtype=np.intp),
        conditions=conditions, terminal_codes=terminal_codes,
        terminal_outcomes=terminal_outcomes,
        counted=tuple(p.event.index for p in events if p.repeat_max is not None),
        capacity=max(4, len(scenario.roots) + 4), order_dtype=order_dtype)
