"""The reference engine: a direct implementation of the semantics on simpy.

It is the definition of what a scenario means (``docs/semantics.md``); other
engines are tested against it.  One replication is one ``simpy.Environment``;
every scheduled event instance is a ``Timeout`` carrying the event's index
as its value, whose callback fires it, so events due at the same instant
fire in the order they were scheduled.
"""

from __future__ import annotations

import heapq
import math
import operator
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import simpy
from simpy.events import Timeout

from ..compile.compiled import NOW, CompiledEvent, CompiledScenario, Delay, Formula
from ..distributions import check_delay_arguments, draw_delay, draw_uncertain
from ..errors import SimulationError
from .protocol import StreamKeys
from .records import LogEntry, ReplicationRecord
from .streams import replication_rng

__all__ = ["ReferenceEngine", "draw_parameters"]

_TOLERANCE = 1e-9

#: At most this many occurrences may be pending (scheduled, not yet due, not withdrawn)
#: in one replication; each holds about 1 KB until it is due.
MAX_PENDING = 100_000
# Withdrawn occurrences are dropped from simpy's queue once there are this many and
# more than there are pending ones, so withdrawing keeps memory bounded too.
_COMPACT_AFTER = 1_000


class _Stop(Exception):
    """Raised inside a callback to end the replication (a terminal or a runaway)."""


def draw_parameters(scenario: CompiledScenario, rng: np.random.Generator,
                    values: list[Any]) -> tuple[float, ...]:
    """Draw every uncertain parameter into ``values``; return the draws in parameter order.

    Draws are clipped to the parameter's declared ``range``.
    """
    drawn = []
    offset = scenario.parameter_offset
    for p in scenario.uncertain_parameters:
        uncertainty = scenario.parameter_uncertainty[p]
        assert uncertainty is not None
        value = float(draw_uncertain(uncertainty, rng))
        bounds = scenario.parameter_ranges[p]
        if bounds is not None:
            value = min(max(value, bounds[0]), bounds[1])
        values[offset + p] = value
        drawn.append(value)
    return tuple(drawn)


class ReferenceEngine:
    """Runs replications of a compiled scenario one at a time on simpy.

    Replication ``i`` draws from its own stream
    (:func:`~escalate.engine.streams.replication_rng`); with
    ``uncertainty`` it first draws every uncertain parameter from it
    (two-level Monte Carlo), then runs.
    """

    name: ClassVar[str] = "reference"

    def __init__(self, scenario: CompiledScenario, *, uncertainty: bool = False) -> None:
        self.scenario = scenario
        self.uncertainty = uncertainty
        self._event_outcomes: dict[int, list[int]] = {}
        self._condition_outcomes: list[tuple[int, Formula]] = []
        self._terminal_outcomes: list[tuple[int, str]] = []
        for k, outcome in enumerate(scenario.outcomes):
            if outcome.kind == "event" and outcome.event is not None:
                self._event_outcomes.setdefault(outcome.event, []).append(k)
            elif outcome.kind == "when" and outcome.condition is not None:
                self._condition_outcomes.append((k, outcome.condition))
            elif outcome.terminal is not None:
                self._terminal_outcomes.append((k, outcome.terminal))
        # Per event, the `when` outcomes its firing may make true: those reading what it
        # sets, or the time.  The others were false when last checked and still are.
        self._watched = [[(k, c) for k, c in self._condition_outcomes
                          if c.tree.names() & ({u.name for u in event.updates} | {NOW})]
                         for event in scenario.events]
        # Only the targets of a `cancels` need their pending occurrences listed.
        self._cancellable = sorted({target for event in scenario.events for target in event.cancels})
        delays = [d for e in scenario.events for d in (e.delay, e.repeat.every if e.repeat else None)
                  if d is not None]
        parameters = set(scenario.parameter_names)
        # Arguments that read nothing but parameters cannot change during a replication:
        # they are evaluated and checked once per replication (by id of their Delay), and
        # so are the probabilities of a choice that reads nothing but parameters.  Runs
        # whose parameters are the very same objects share what they found.
        self._fixed_per_replication = {id(d) for d in delays
                                       if all(a.tree.names() <= parameters for a in d.args)}
        self._fixed_choices = {event.index for event in scenario.events if event.branches and all(
            b.probability is None or b.probability.tree.names() <= parameters
            for b in event.branches)}
        # Delays whose arguments are literals were checked when the scenario was compiled,
        # and their values are the same in every replication.
        self._constant_arguments = {id(d): args for d in delays
                                    if (args := d.constant_args()) is not None}
        self._parameter_slots = slice(scenario.parameter_offset, scenario.now_slot)
        # (parameters, arguments, probabilities), replaced as a whole, so that engines
        # shared between threads never pair one parameter set with another's tables
        self._shared: tuple[list[Any], dict[int, tuple[float, ...]], dict[int, list[float]]] = (
            [], self._constant_arguments.copy(), {})

    def _fixed_values(self, values: list[Any]) -> tuple[dict[int, tuple[float, ...]],
                                                          dict[int, list[float]]]:
        """Where a replication with ``values`` keeps its fixed delay arguments and probabilities.

        Without uncertainty every replication holds the same parameter objects (the point
        values), and they all share one pair of tables; other replications start afresh.
        """
        parameters = values[self._parameter_slots]
        shared = self._shared
        if len(parameters) != len(shared[0]) or not all(map(operator.is_, parameters, shared[0])):
            shared = self._shared = (parameters, self._constant_arguments.copy(), {})
        return shared[1], shared[2]

    @classmethod
    def limitations(cls, scenario: CompiledScenario, *, keep_log: bool = False) -> list[str]:
        """Nothing keeps the reference engine from running a scenario: an empty list."""
        return []

    def run(self, keys: StreamKeys, first: int, count: int, *,
            keep_log: bool = False) -> Iterator[ReplicationRecord]:
        """Yield the records of replications ``first`` to ``first + count - 1``, in order.

        ``keep_log`` keeps each record's event log.  Raises
        :class:`SimulationError` when a replication fails.
        """
        scenario = self.scenario
        seed, point, uncertainty = keys.seed, keys.point, self.uncertainty
        for index in range(first, first + count):
            rng = replication_rng(seed, index, point)
            values = scenario.initial_values()
            drawn = draw_parameters(scenario, rng, values) if uncertainty else ()
            yield self.replicate(index, rng, values, keep_log=keep_log, parameters=drawn)

    def trace(self, keys: StreamKeys, replication: int) -> ReplicationRecord:
        """Replication ``replication`` with its event log, as any run gives it."""
        return next(self.run(keys, replication, 1, keep_log=True))

    def replicate(self, index: int, rng: np.random.Generator, values: list[Any], *,
                  keep_log: bool = False, parameters: tuple[float, ...] = ()) -> ReplicationRecord:
        """Run replication ``index`` with environment ``values`` and random stream ``rng``.

        Raises :class:`SimulationError` when an expression or distribution fails at
        run time (for example probabilities that sum above one).
        """
        run = _Run(self, index, rng, values, keep_log)
        return run.execute(parameters)


class _Run:
    """The mutable state of one replication."""

    def __init__(self, engine: ReferenceEngine, index: int, rng: np.random.Generator,
                 values: list[Any], keep_log: bool) -> None:
        scenario = engine.scenario
        self.engine = engine
        self.scenario = scenario
        self.events = scenario.events
        self.index = index
        self.rng = rng
        self.values = values
        self.env = simpy.Environment()
        # One bound method for every timeout's callback, rather than one per timeout.
        self.callback = self.fire
        self.live = 0
        # Withdrawn occurrences still in simpy's queue, until they are due or compacted away.
        self.withdrawn: set[simpy.Event] = set()
        # Per event that a `cancels` names, its pending occurrences as an insertion-ordered
        # set (firing removes one in constant time); None for the others.
        self.pending: list[dict[simpy.Event, None] | None] = [None] * len(scenario.events)
        for target in engine._cancellable:
            self.pending[target] = {}
        self.occurrences = [0] * len(scenario.events)
        self.total = 0
        self.fired = 0
        self.skipped = 0
        self.path: list[int] = []
        self.seen: set[int] = set()
        self.outcome_times = [math.nan] * len(scenario.outcomes)
        self.event_outcomes = engine._event_outcomes
        self.watched = engine._watched
        self.level_slot = scenario.level_slot
        self.now_slot = scenario.now_slot
        self.max_events = scenario.max_events
        self.rungs = len(scenario.ladder)
        # Checked delay arguments and choice probabilities that hold for the whole replication.
        self.arguments, self.probabilities = engine._fixed_values(values)
        self.max_level = int(values[self.level_slot])
        self.terminal = ""
        self.log: list[LogEntry] | None = [] if keep_log else None

    # -- helpers -----------------------------------------------------------------------------

    def fail(self, event: CompiledEvent, message: str) -> SimulationError:
        return SimulationError(
            f"replication {self.index}, t = {self.env.now:.4g} days, event {event.name!r}: {message}"
        )

    def evaluate(self, formula: Formula, event: CompiledEvent) -> Any:
        try:
            return formula.evaluate(self.values)
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise self.fail(event, f"{formula.where}: cannot evaluate {formula.text!r}: {exc}") from exc

    def draw(self, delay: Delay, event: CompiledEvent) -> float:
        args = self.arguments.get(id(delay))
        if args is None:
            args = self.delay_arguments(delay, event)
        return float(draw_delay(delay.kind, args, self.rng))

    def delay_arguments(self, delay: Delay, event: CompiledEvent) -> tuple[float, ...]:
        """Evaluate and check the arguments of ``delay``; keep them if they cannot change."""
        formulas = delay.args
        try:
            # most delays have one argument: no comprehension for them
            args = ((float(formulas[0].evaluate(self.values)),) if len(formulas) == 1
                    else tuple(float(a.evaluate(self.values)) for a in formulas))
        except (ArithmeticError, ValueError, TypeError):
            # evaluate() again, one by one, for the error naming the argument that failed
            args = tuple(float(self.evaluate(a, event)) for a in formulas)
        problem = check_delay_arguments(delay.kind, args)
        if problem:
            raise self.fail(event, f"delay: {problem}")
        if id(delay) in self.engine._fixed_per_replication:
            self.arguments[id(delay)] = args
        return args

    def record(self, event: CompiledEvent, status: str, detail: str = "") -> None:
        if self.log is not None:
            self.log.append(LogEntry(self.env.now, event.name, event.actor, status,
                                     int(self.values[self.level_slot]), detail))

    def schedule(self, target: int, source: CompiledEvent, delay: float | None = None) -> None:
        if self.live >= MAX_PENDING:
            # A graph that fans out faster than it fires would otherwise fill memory.
            self.terminal = "max_events"
            self.record(self.events[target], "stopped",
                        f"more than {MAX_PENDING:,} occurrences pending")
            raise _Stop
        if delay is None:
            event = self.events[target]
            if event.at is not None:
                delay = max(0.0, event.at - self.env.now)
            elif event.delay is not None:
                # `now` in the delay's arguments: fire() has set it to the current time
                delay = self.draw(event.delay, source if event.delay is None else event)
            else:
                delay = 0.0
        timeout = Timeout(self.env, delay, target)
        pending = self.pending[target]
        if pending is not None:
            pending[timeout] = None
        self.live += 1
        timeout.callbacks.append(self.callback)

    def check_conditions(self, conditions: list[tuple[int, Formula]]) -> None:
        now = self.env.now
        for k, condition in conditions:
            if math.isnan(self.outcome_times[k]):
                try:
                    holds = condition.evaluate(self.values)
                except (ArithmeticError, ValueError, TypeError) as exc:
                    raise SimulationError(f"replication {self.index}: outcome "
                                          f"{condition.where}: {exc}") from exc
                if holds:
                    self.outcome_times[k] = now

    # -- the semantics -------------------------------------------------------------------------

    def compact(self) -> None:
        """Drop withdrawn occurrences from simpy's queue, which has no public way to do it."""
        queue = self.env._queue
        # Entries are (time, priority, id, event); the ids keep the order of scheduling,
        # so filtering and rebuilding the heap changes nothing but memory.
        queue[:] = [entry for entry in queue if entry[3] not in self.withdrawn]
        heapq.heapify(queue)
        self.withdrawn.clear()

    def fire(self, timeout: simpy.Event) -> None:
        """Fire the occurrence ``timeout`` stands for (its callback; its value is the event)."""
        withdrawn = self.withdrawn
        if withdrawn and timeout in withdrawn:
            withdrawn.discard(timeout)
            return
        self.live -= 1
        index: int = timeout._value
        pending = self.pending[index]
        if pending is not None:
            del pending[timeout]
        event = self.events[index]
        self.total += 1
        if self.total > self.max_events:
            self.terminal = "max_events"
            self.record(event, "stopped", f"more than {self.max_events} events")
            raise _Stop
        self.occurrences[index] += 1
        values = self.values
        now = values[self.now_slot] = self.env.now
        # The guard and the updates call their closures directly (this is the hot path);
        # a failure is evaluated again by evaluate(), which raises the error naming it.
        formula = event.guard
        try:
            if formula is not None and not formula.evaluate(values):
                self.skipped += 1
                if self.log is not None:
                    self.record(event, "skipped", f"when {formula.text} is false")
                if event.repeat is not None:
                    self.repeat(event)
                return
            self.fired += 1
            for update in event.updates:
                formula = update.formula
                value = formula.evaluate(values)
                if update.integer:
                    if isinstance(value, bool) or not math.isfinite(value) or value != round(value):
                        raise self.fail(event, f"set {update.name}: {value!r} is not a whole number")
                    value = float(round(value))
                elif not isinstance(value, bool) and not math.isfinite(value):
                    raise self.fail(event, f"set {update.name}: {value!r} is not a finite number")
                values[update.slot] = value
        except (ArithmeticError, ValueError, TypeError):
            assert formula is not None
            self.evaluate(formula, event)
            raise
        level = values[self.level_slot]
        if not 0 <= level < self.rungs:
            raise self.fail(event, f"level {level:g} is outside the ladder "
                            f"(0 to {self.rungs - 1})")
        if level > self.max_level:
            self.max_level = int(level)
        if index not in self.seen:
            self.seen.add(index)
            self.path.append(index)
            for k in self.event_outcomes.get(index, ()):
                self.outcome_times[k] = now
        watched = self.watched[index]
        if watched:
            self.check_conditions(watched)
        if event.cancels:
            self.cancel(event)
        if withdrawn and len(withdrawn) > max(_COMPACT_AFTER, self.live):
            self.compact()
        if event.end is not None:
            self.terminal = event.end
            self.record(event, "fired", f"end: {event.end}")
            raise _Stop
        for target in event.then:
            self.schedule(target, event)
        if event.branches:
            chosen = self.choose(event)
            if chosen is not None:
                self.schedule(chosen, event)
        if self.log is not None:
            self.record(event, "fired", "" if not event.branches else
                        f"chose {self.events[chosen].name if chosen is not None else 'nothing'}")
        if event.repeat is not None:
            self.repeat(event)

    def cancel(self, event: CompiledEvent) -> None:
        """Withdraw every pending occurrence of the events that ``event`` cancels."""
        for target in event.cancels:
            pending = self.pending[target]
            assert pending is not None
            for withdrawn in pending:
                self.live -= 1
                self.withdrawn.add(withdrawn)
                self.record(self.events[target], "cancelled", f"by {event.name}")
            self.pending[target] = {}

    def choose(self, event: CompiledEvent) -> int | None:
        probabilities = self.probabilities.get(event.index)
        if probabilities is None:
            probabilities = self.branch_probabilities(event)
        u = self.rng.random()
        cumulative = 0.0
        for branch, p in zip(event.branches, probabilities, strict=True):
            if branch.probability is None:
                return branch.target
            cumulative += p
            if u < cumulative:
                return branch.target
        return None

    def branch_probabilities(self, event: CompiledEvent) -> list[float]:
        """Evaluate and check the probabilities of a choice; keep them if they cannot change."""
        total = 0.0
        probabilities = []
        for branch in event.branches:
            if branch.probability is None:
                probabilities.append(math.nan)
                continue
            p = float(self.evaluate(branch.probability, event))
            if not -_TOLERANCE <= p <= 1 + _TOLERANCE:
                raise self.fail(event, f"probability {branch.probability.text!r} = {p:g} is "
                                "outside [0, 1]")
            probabilities.append(p)
            total += p
        if total > 1 + _TOLERANCE:
            shown = ", ".join(f"{self.events[b.target].name}={p:.4g}"
                              for b, p in zip(event.branches, probabilities, strict=True)
                              if b.probability is not None and b.target is not None)
            raise self.fail(event, f"choice probabilities sum to {total:.6g} > 1 ({shown})")
        if event.index in self.engine._fixed_choices:
            self.probabilities[event.index] = probabilities
        return probabilities

    def repeat(self, event: CompiledEvent) -> None:
        rule = event.repeat
        if rule is None:
            return
        if rule.max_count is not None and self.occurrences[event.index] >= rule.max_count:
            return
        condition = rule.condition
        if condition is not None:
            try:
                holds = condition.evaluate(self.values)
            except (ArithmeticError, ValueError, TypeError):
                holds = self.evaluate(condition, event)  # raises the error naming it
            if not holds:
                return
        self.schedule(event.index, event, self.draw(rule.every, event))

    def execute(self, parameters: tuple[float, ...]) -> ReplicationRecord:
        scenario = self.scenario
        horizon = scenario.horizon
        env = self.env
        peek, step = env.peek, env.step
        self.check_conditions(self.engine._condition_outcomes)
        end_time = horizon
        try:
            for root in scenario.roots:
                self.schedule(root, self.events[root], scenario.events[root].at)
            while True:
                if self.live == 0:
                    self.terminal = "exhausted"
                    end_time = env.now
                    break
                if peek() >= horizon:
                    self.terminal = "horizon"
                    break
                step()
        except _Stop:
            end_time = env.now
        for k, label in self.engine._terminal_outcomes:
            if label == self.terminal:
                self.outcome_times[k] = end_time
        return ReplicationRecord(
            index=self.index,
            terminal=self.terminal,
            end_time=end_time,
            max_level=self.max_level,
            final_level=int(self.values[self.level_slot]),
            outcome_times=tuple(self.outcome_times),
            events_fired=self.fired,
            events_skipped=self.skipped,
            path=tuple(self.path),
            parameters=parameters,
            log=tuple(self.log) if self.log is not None else None,
        )
