"""One chunk of replications of the batch engine, advanced together as numpy arrays.

A :class:`Chunk` gives a scenario the meaning that the reference engine
(:mod:`~escalate.engine.reference`, ``docs/semantics.md``) defines, for many
replications at once.  Each replication owns a column of a
:class:`~escalate.engine.pending.PendingTable`.  Every iteration pops the
next instance of every running replication, groups the replications by the
event that fires, and applies that event to each group with masks, step for
step as ``_Run.fire`` does for one replication: the ``max_events`` guard,
the ``when`` guard (a skipped firing only repeats), updates in order with the
whole-number check, the ladder check, path and outcome records, ``when``
outcomes, cancels, ``end``, ``then``, ``choose`` (probabilities checked per
replication) and ``repeat``.  A replication stops at a terminal, when nothing
is pending, at the horizon, or at the runaway guard.

A chunk simulates whole blocks but reports only the rows asked for.  A run-time
error in a replication asked for raises :class:`SimulationError`; one in a
replication not asked for stops that replication where it fails, whether or
not it is asked for elsewhere, so that it never fails a run it is no part of
and the other replications of its block see the same stream either way.  A
block one of whose replications has more pending instances than the table
holds is stopped whole and listed in :attr:`Chunk.overflowed`, for its
replications to run another way.

Randomness: a chunk is made of whole blocks of :data:`BLOCK_SIZE`
replications, and every block has its own streams
(``montecarlo.seeding.BlockStreams``).  At each iteration a block's stream
deals the uniform numbers its firing replications may need, in replication
order; delays are drawn from them by
:func:`~escalate.distributions.delay_from_uniforms`.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..compile.compiled import CompiledEvent
from ..distributions import (
    check_delay_arguments,
    delay_from_uniforms,
    draw_uncertain,
    invalid_delay_arguments,
)
from ..errors import SimulationError
from .pending import CapacityError, PendingTable
from .plan import Compiled, DelayPlan, EventPlan, SchedulePlan
from .records import ChunkRecords, LogEntry
from .vectorized import VectorEvaluationError

if TYPE_CHECKING:
    from .batch import BatchEngine

__all__ = ["BLOCK_SIZE", "BlockStreamSource", "Chunk"]

#: replications per block: the unit that random streams are keyed by and
#: that is simulated whole
BLOCK_SIZE = 1024
_TOLERANCE = 1e-9


class BlockStreamSource(Protocol):
    """Where the batch engine's random streams come from (``montecarlo.seeding.BlockStreams``)."""

    def events(self, block: int) -> np.random.Generator: ...

    def parameters(self, block: int) -> np.random.Generator: ...


class Chunk:
    """The mutable state of one chunk of replications (one column per replication).

    ``asked`` is the range of chunk rows whose records are wanted (all of them
    by default): only their failures raise.
    """

    def __init__(self, engine: BatchEngine, streams: BlockStreamSource, block: int,
                 blocks: int, *, asked: tuple[int, int] | None = None,
                 log_row: int | None = None) -> None:
        scenario = engine.scenario
        count = blocks * BLOCK_SIZE
        self.engine = engine
        self.scenario = scenario
        self.plans = engine.plans
        self.streams = streams
        self.block = block
        self.first = block * BLOCK_SIZE
        self.count = count
        self.low, self.high = (0, count) if asked is None else asked
        self.generators = [streams.events(b) for b in range(block, block + blocks)]
        self.block_starts = np.arange(blocks + 1) * BLOCK_SIZE  # chunk rows
        self.columns: list[Any] = [None] * (scenario.now_slot + 1)
        for slot, value in enumerate(scenario.state_initial):
            self.columns[slot] = np.full(count, value, dtype=bool if isinstance(value, bool)
                                         else float)
        self.parameters = (self.draw_parameters(blocks) if engine.uncertainty
                           else np.empty((count, 0)))
        self.now = self.columns[scenario.now_slot] = np.zeros(count)
        self.level = self.columns[scenario.level_slot]
        self.max_level = self.level.astype(np.int64)
        self.outcome_times = np.full((len(scenario.outcomes), count), np.nan)
        self.ranks = np.full((len(scenario.events), count), -1, dtype=np.int16)
        self.distinct = np.zeros(count, dtype=np.int16)
        self.terminal = np.zeros(count, dtype=np.intp)
        self.end_time = np.zeros(count)
        self.popped = np.zeros(count, dtype=np.int64)
        self.skipped = np.zeros(count, dtype=np.int64)
        self.occurrences = {event: np.zeros(count, dtype=np.int64) for event in engine.counted}
        self.pending = PendingTable(count, capacity=engine.capacity,
                                    event_dtype=np.int16 if len(scenario.events) < 2**15
                                    else np.int32, order_dtype=engine.order_dtype)
        self.iteration = 0
        self.pool = np.empty(0)
        self.offsets = np.empty(0, dtype=np.intp)
        self.active = np.arange(count)  # per table column: its chunk row
        self.alive = np.ones(count, dtype=bool)  # per table column: still running
        self.stops = 0  # times failing replications not asked for were stopped
        #: blocks stopped because a replication outgrew the pending table
        self.overflowed: set[int] = set()
        # Instances scheduled during an iteration go into the table together at its end
        # (no firing can see them before), grouped by their place in a firing's sequence
        # of schedulings, so that each replication's go in in order.
        self.scheduled: list[tuple[np.ndarray, np.ndarray, int, int]] = []
        # The event log of one replication (chunk row `log_row`), for a trace.
        self.log_row = log_row
        self.log: list[LogEntry] | None = None if log_row is None else []

    def draw_parameters(self, blocks: int) -> np.ndarray:
        """Each block's uncertain parameters from its stream, clipped to their ranges."""
        scenario = self.scenario
        drawn = np.empty((self.count, len(scenario.uncertain_parameters)))
        for b in range(blocks):
            rng = self.streams.parameters(self.block + b)
            for j, p in enumerate(scenario.uncertain_parameters):
                uncertainty = scenario.parameter_uncertainty[p]
                assert uncertainty is not None
                drawn[b * BLOCK_SIZE:(b + 1) * BLOCK_SIZE, j] = draw_uncertain(uncertainty, rng,
                                                                               BLOCK_SIZE)
        for j, p in enumerate(scenario.uncertain_parameters):
            bounds = scenario.parameter_ranges[p]
            if bounds is not None:
                np.clip(drawn[:, j], bounds[0], bounds[1], out=drawn[:, j])
            self.columns[scenario.parameter_offset + p] = np.ascontiguousarray(drawn[:, j])
        return drawn

    def deal(self, rows: np.ndarray, events: np.ndarray) -> None:
        """Draw the uniforms that ``rows`` (firing ``events``) may need in this iteration.

        Each block's stream deals its firing replications, in order, as many
        numbers as their event may use; ``offsets`` says where each one's start.
        """
        need = self.engine.uniforms.take(events)
        ends = np.cumsum(need)
        self.offsets = ends - need
        self.pool = np.empty(int(ends[-1]) if len(ends) else 0)
        if not len(self.pool):
            return
        # rows are in order, so each block's replications are one run of them
        bounds = np.searchsorted(rows, self.block_starts)
        limits = np.append(self.offsets, len(self.pool)).take(bounds).tolist()
        for b, generator in enumerate(self.generators):
            if limits[b + 1] > limits[b]:
                generator.random(out=self.pool[limits[b]:limits[b + 1]])

    # -- errors ---------------------------------------------------------------------------------
    #
    # Each check finds the failing rows of a group.  If one of them was asked for, the first
    # such raises, with the message the whole run would give; otherwise they are stopped
    # where they fail and left out of the group, which goes on without them.

    def fail(self, row: int, event: CompiledEvent, message: str) -> SimulationError:
        return SimulationError(f"replication {self.first + row}, t = {self.now[row]:.4g} days, "
                               f"event {event.name!r}: {message}")

    def asked(self, rows: np.ndarray) -> np.ndarray:
        """Whether each of the chunk rows ``rows`` was asked for."""
        return (rows >= self.low) & (rows < self.high)

    def failing(self, group: _Group, bad: Any) -> int | None:
        """The position in ``group`` of the first replication asked for where ``bad`` holds.

        Without one, the replications where ``bad`` holds are stopped, left out
        of ``group``, and None is returned.
        """
        bad = np.broadcast_to(bad, group.rows.shape)
        positions = np.flatnonzero(bad)
        asked = self.asked(group.rows.take(positions))
        if asked.any():
            return int(positions[int(asked.argmax())])
        self.stop(group, bad)
        return None

    def stop(self, group: _Group, bad: np.ndarray) -> None:
        """Stop the replications of ``group`` where ``bad`` holds, and leave them out of it."""
        self.alive[group.local[bad]] = False
        self.stops += 1
        group.keep(np.flatnonzero(~bad))

    def unevaluable(self, exc: VectorEvaluationError, group: _Group) -> int | None:
        """The row that ``exc`` describes if it was asked for; else stop its rows not asked for."""
        failing = np.asarray(exc.rows)
        # exc's message describes its first row only: another must fail again to be named
        if self.asked(failing[:1]).any():
            return int(failing[0])
        self.stop(group, np.isin(group.rows, failing[~self.asked(failing)]))
        return None

    def evaluate(self, compiled: Compiled, event: CompiledEvent, group: _Group) -> Any:
        """``compiled`` in the rows of ``group`` (those where it cannot be evaluated stopped)."""
        while True:
            try:
                return compiled.evaluate(self.columns, group.rows)
            except VectorEvaluationError as exc:
                row = self.unevaluable(exc, group)
                if row is not None:
                    formula = compiled.formula
                    raise self.fail(row, event, f"{formula.where}: cannot evaluate "
                                    f"{formula.text!r}: {exc}") from exc

    def truth(self, compiled: Compiled, event: CompiledEvent, group: _Group) -> np.ndarray:
        value = self.evaluate(compiled, event, group)
        if np.ndim(value) == 0:
            return np.full(len(group.rows), bool(value))
        return np.asarray(value, dtype=bool)

    def check_conditions(self, conditions: Sequence[tuple[int, Compiled]], group: _Group) -> None:
        """Record the `when` outcomes that hold now and had not occurred yet."""
        for k, condition in conditions:
            recorded = self.outcome_times[k]
            while True:
                open_ = np.isnan(recorded.take(group.rows))
                if not open_.any():
                    break
                candidates = group.rows[open_]
                try:
                    value = condition.evaluate(self.columns, candidates)
                except VectorEvaluationError as exc:
                    row = self.unevaluable(exc, group)
                    if row is not None:
                        raise SimulationError(f"replication {self.first + row}: outcome "
                                              f"{condition.formula.where}: {exc}") from exc
                    continue
                holds = np.broadcast_to(np.asarray(value, dtype=bool), candidates.shape)
                recorded[candidates[holds]] = group.times[open_][holds]
                break

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> ChunkRecords:
        scenario = self.scenario
        everyone = np.arange(self.count)
        with np.errstate(all="ignore"):
            self.check_conditions(self.engine.conditions,
                                  _Group(everyone, everyone, everyone, self.now))
            for place, root in enumerate(scenario.roots):
                at = scenario.events[root].at
                assert at is not None
                self.schedule(everyone, np.full(self.count, 0.0 + at), root, place)
            self.flush()
            active = everyone
            while len(active):
                active = self.step(active)
                self.iteration += 1
        return ChunkRecords(
            first=self.first, terminal=self.terminal, end_time=self.end_time,
            max_level=self.max_level, final_level=self.level.astype(np.int64),
            outcome_times=self.outcome_times.T, events_fired=self.popped - self.skipped,
            events_skipped=self.skipped, ranks=self.ranks, parameters=self.parameters)

    def step(self, active: np.ndarray) -> np.ndarray:
        """Pop and fire the next instance of every running replication; return those still running.

        ``active`` holds the chunk row of each column of the pending table;
        columns of replications that stopped are dropped once they are many.
        """
        self.active = active
        times, events = self.pending.pop()
        horizon = self.scenario.horizon
        alive = self.alive
        due = times < horizon  # +inf, nothing pending, is not due
        stopping = alive & ~due
        if stopping.any():
            stopped = np.flatnonzero(stopping)
            rows = active.take(stopped)
            exhausted = times.take(stopped) == np.inf
            self.finish(rows[exhausted], "exhausted", self.now.take(rows[exhausted]))
            self.finish(rows[~exhausted], "horizon", horizon)
            alive[stopped] = False
        firing = np.flatnonzero(due & alive)
        if len(firing) and self.iteration >= self.scenario.max_events:
            # This would be firing number max_events + 1: a runaway, stopped here.
            stopped_rows = active.take(firing)
            self.finish(stopped_rows, "max_events", times.take(firing))
            if self.log is not None:
                at = self.logged(stopped_rows)
                if at is not None:
                    self.record(int(events[firing[at]]), float(times[firing[at]]), "stopped",
                                f"more than {self.scenario.max_events} events")
            alive[firing] = False
        elif len(firing):
            self.fire_all(active, firing, times, events)
        running = int(np.count_nonzero(alive))
        if running < 0.75 * len(active):
            self.pending.keep(alive)
            active = active[alive]
            self.alive = np.ones(running, dtype=bool)
        return active if running else active[:0]

    def fire_all(self, active: np.ndarray, firing: np.ndarray, times: np.ndarray,
                 events: np.ndarray) -> None:
        """Group the firing replications by event and fire each group."""
        fired = events.take(firing)
        counts = np.bincount(fired, minlength=len(self.plans))
        present = np.flatnonzero(counts)
        self.deal(active.take(firing), fired)
        # Sorted by event once, each group is a slice (in row order, the sort being stable).
        cells = np.argsort(fired, kind="stable") if len(present) > 1 else np.arange(len(firing))
        local = firing.take(cells)
        rows = active.take(local)
        due = times.take(local)
        start = 0
        for event in present.tolist():
            end = start + int(counts[event])
            self.fire(self.plans[event], _Group(cells[start:end], local[start:end],
                                                rows[start:end], due[start:end]))
            start = end
        self.flush()

    def flush(self) -> None:
        """Put the instances scheduled in this iteration into the pending table."""
        places: dict[int, list[tuple[np.ndarray, np.ndarray, int, int]]] = {}
        for entry in self.scheduled:
            places.setdefault(entry[3], []).append(entry)
        self.scheduled = []
        dtype = self.pending.events.dtype
        for place in sorted(places):
            entries = places[place]
            if len(entries) == 1:
                columns, times, event, _ = entries[0]
                self.push(columns, times, event)
            else:
                self.push(np.concatenate([e[0] for e in entries]),
                          np.concatenate([e[1] for e in entries]),
                          np.concatenate([np.full(len(e[0]), e[2], dtype=dtype)
                                          for e in entries]))

    def push(self, columns: np.ndarray, times: np.ndarray, event: int | np.ndarray) -> None:
        """Put instances into the table; stop the blocks of replications that have no room left."""
        try:
            self.pending.push(columns, times, event)
        except CapacityError:
            full = self.pending.free.take(columns) == 0
            # The block is stopped whole, so that it runs elsewhere whatever the chunk.
            overflowing = self.active.take(columns[full & self.alive.take(columns)])
            for block in np.unique(overflowing // BLOCK_SIZE).tolist():
                low, high = np.searchsorted(self.active, self.block_starts[block:block + 2])
                self.alive[low:high] = False
                self.overflowed.add(self.block + block)
            room = np.flatnonzero(~full)
            self.pending.push(columns.take(room), times.take(room),
                              event if np.ndim(event) == 0 else np.take(event, room))

    def schedule(self, local: np.ndarray, times: np.ndarray, event: int, place: int) -> None:
        """Schedule ``event`` at ``times`` in the table columns ``local``, at the iteration's end.

        ``place`` orders a firing's schedulings: then-successors by position, then
        the chosen one, then the repetition.
        """
        if np.ndim(times) == 0:
            times = np.full(len(local), float(times))
        self.scheduled.append((local, times, event, place))

    def finish(self, rows: np.ndarray, label: str, end_time: Any, *, fired: bool = False) -> None:
        """Stop ``rows`` with terminal ``label``; ``fired`` if this iteration's firing ended them."""
        code = self.engine.terminal_codes[label]
        self.terminal[rows] = code
        self.end_time[rows] = end_time
        self.popped[rows] = self.iteration + fired
        for k in self.engine.terminal_outcomes[code]:
            self.outcome_times[k][rows] = end_time

    # -- one event, for a group of replications ------------------------------------------------------

    def fire(self, plan: EventPlan, group: _Group) -> None:
        """Fire ``plan``'s event in the replications of ``group``."""
        event = plan.event
        self.now[group.rows] = group.times
        counter = self.occurrences.get(event.index)
        if counter is not None:
            counter[group.rows] += 1
        if plan.guard is not None:
            holds = self.truth(plan.guard, event, group)
            if not holds.all():
                skipped = group.select(np.flatnonzero(~holds))
                self.skipped[skipped.rows] += 1
                if self.log is not None and (at := self.logged(skipped.rows)) is not None:
                    assert event.guard is not None
                    self.record(event.index, float(skipped.times[at]), "skipped",
                                f"when {event.guard.text} is false")
                if plan.repeat_every is not None:
                    self.repeat(plan, skipped)
                group.keep(np.flatnonzero(holds))
                if not len(group.rows):
                    return
        for update in plan.updates:
            value = self.evaluate(update.value, event, group)
            if update.integer:
                value = self.check_whole(value, update.name, event, group)
            else:
                value = self.check_finite(value, update.name, event, group)
            self.columns[update.slot][group.rows] = value
        if plan.sets_level:
            self.check_level(event, group)
        if not len(group.rows):
            return
        self.record_first(plan, group.rows, group.times)
        if plan.conditions:
            self.check_conditions(plan.conditions, group)
            if not len(group.rows):
                return
        logged = self.logged(group.rows) if self.log is not None else None
        if event.cancels:
            if logged is not None:
                self.log_cancels(event, int(group.local[logged]), float(group.times[logged]))
            self.pending.cancel(group.local, event.cancels)
        if event.end is not None:
            self.finish(group.rows, event.end, group.times, fired=True)
            self.alive[group.local] = False
            if logged is not None:
                self.record(event.index, float(group.times[logged]), "fired", f"end: {event.end}")
            return
        for place, schedule in enumerate(plan.then):
            due = self.due(schedule, group)
            self.schedule(group.local, due, schedule.target, place)
        chosen = self.choose(plan, group) if plan.branches else None
        if self.log is not None and (logged := self.logged(group.rows)) is not None:
            detail = ""
            if chosen is not None:
                target = int(chosen[logged])
                detail = "chose " + (self.scenario.events[target].name if target >= 0
                                     else "nothing")
            self.record(event.index, float(group.times[logged]), "fired", detail)
        if plan.repeat_every is not None and len(group.rows):
            self.repeat(plan, group)

    # -- the log of one replication (traces) -----------------------------------------------------

    def logged(self, rows: np.ndarray) -> int | None:
        """The position of the logged replication in ``rows`` (ascending), if it is there."""
        row = self.log_row
        assert row is not None
        at = int(np.searchsorted(rows, row))
        return at if at < len(rows) and rows[at] == row else None

    def record(self, event: int, time: float, status: str, detail: str) -> None:
        """Add an entry to the log, as the reference engine words it."""
        assert self.log is not None
        assert self.log_row is not None
        spec = self.scenario.events[event]
        self.log.append(LogEntry(time, spec.name, spec.actor, status,
                                 int(self.level[self.log_row]), detail))

    def log_cancels(self, event: CompiledEvent, column: int, time: float) -> None:
        """Log the instances that ``event`` withdraws from table column ``column``."""
        table = self.pending
        pending = np.isfinite(table.times[:, column])
        for target in event.cancels:
            # one entry per instance, all alike: their order among themselves does not show
            withdrawn = np.count_nonzero(pending & (table.events[:, column] == target))
            for _ in range(withdrawn):
                self.record(target, time, "cancelled", f"by {event.name}")

    def check_finite(self, value: Any, name: str, event: CompiledEvent, group: _Group) -> Any:
        """``value`` where it is finite (the replications where it is not stopped)."""
        numbers = np.asarray(value)
        if numbers.dtype == bool:
            return value
        bad = ~np.isfinite(numbers)
        if np.any(bad):
            return self.check_update(value, numbers, bad, name, "not a finite number", event,
                                     group)
        return value

    def check_whole(self, value: Any, name: str, event: CompiledEvent, group: _Group) -> Any:
        """``value`` where it is a whole number (the replications where it is not stopped)."""
        numbers = np.asarray(value, dtype=float)
        bad = ~np.isfinite(numbers) | (numbers != np.round(numbers))
        if np.any(bad):
            return self.check_update(value, numbers, bad, name, "not a whole number", event,
                                     group)
        return value

    def check_update(self, value: Any, numbers: np.ndarray, bad: np.ndarray, name: str,
                     problem: str, event: CompiledEvent, group: _Group) -> Any:
        """``value`` without the rows where ``bad`` holds, which fail."""
        bad = np.broadcast_to(bad, group.rows.shape)
        i = self.failing(group, bad)
        if i is not None:
            shown = float(numbers if numbers.ndim == 0 else numbers[i])
            raise self.fail(int(group.rows[i]), event, f"set {name}: {shown!r} is {problem}")
        return value if np.ndim(value) == 0 else np.asarray(value)[~bad]

    def check_level(self, event: CompiledEvent, group: _Group) -> None:
        level = self.level.take(group.rows)
        top = len(self.scenario.ladder)
        bad = ~((level >= 0) & (level < top))
        if bad.any():
            i = self.failing(group, bad)
            if i is not None:
                raise self.fail(int(group.rows[i]), event, f"level {level[i]:g} is outside the "
                                f"ladder (0 to {top - 1})")
            level = level[~bad]
        self.max_level[group.rows] = np.maximum(self.max_level.take(group.rows),
                                                level.astype(np.int64))

    def record_first(self, plan: EventPlan, rows: np.ndarray, times: np.ndarray) -> None:
        """Add the event to the path of replications firing it for the first time."""
        rank = self.ranks[plan.event.index]
        new = rank.take(rows) < 0
        if not new.any():
            return
        first, when = (rows, times) if new.all() else (rows[new], times[new])
        rank[first] = self.distinct.take(first)
        self.distinct[first] += 1
        for k in plan.outcomes:
            self.outcome_times[k][first] = when

    def due(self, schedule: SchedulePlan, group: _Group) -> np.ndarray:
        """The due times of ``schedule.target`` scheduled now in the replications of ``group``."""
        if schedule.at is not None:
            return group.times + np.maximum(0.0, schedule.at - group.times)
        if schedule.delay is None:
            return group.times
        delays = self.draw(schedule.delay, schedule.column, group)
        due: np.ndarray = group.times + delays
        return due

    def draw(self, delay: DelayPlan, column: int, group: _Group) -> np.ndarray:
        """Delays for ``group`` from this iteration's uniforms at ``column`` onwards."""
        size = -1
        while size != len(group.rows):  # evaluated again if a failing replication was stopped
            size = len(group.rows)
            args = [self.evaluate(a, delay.event, group) for a in delay.args]
        if not delay.constant:
            bad = invalid_delay_arguments(delay.kind, args)
            if np.any(bad):
                bad = np.broadcast_to(bad, group.rows.shape)
                i = self.failing(group, bad)
                if i is not None:
                    values = [float(a if np.ndim(a) == 0 else a[i]) for a in args]
                    problem = check_delay_arguments(delay.kind, values)
                    raise self.fail(int(group.rows[i]), delay.event, f"delay: {problem}")
                args = [a if np.ndim(a) == 0 else a[~bad] for a in args]
        starts = self.offsets.take(group.cells) + column
        uniforms = self.pool.take(starts + np.arange(delay.uniforms)[:, None])
        delays = delay_from_uniforms(delay.kind, args, uniforms)
        if delay.kind == "gamma":
            for i in np.flatnonzero(np.isnan(delays)).tolist():
                # Both tries of the rejection sampler failed (rare): more uniforms
                # from the same block's stream, until one is accepted.
                values = [a if np.ndim(a) == 0 else a[i] for a in args]
                generator = self.generators[int(group.rows[i]) // BLOCK_SIZE]
                while np.isnan(delays[i]):
                    fresh = generator.random((delay.uniforms, 1))
                    delays[i] = delay_from_uniforms("gamma", values, fresh)[0]
        return delays

    def probabilities(self, plan: EventPlan, group: _Group) -> tuple[list[Any], Any] | None:
        """The probabilities of ``plan``'s branches in ``group`` (None: ``otherwise``) and their sum.

        Returns None when failing replications were stopped: the others are evaluated again.
        """
        event = plan.event
        size = len(group.rows)
        probabilities: list[Any] = []
        total: Any = 0.0
        for branch in plan.branches:
            if branch.probability is None:
                probabilities.append(None)
                continue
            p = self.evaluate(branch.probability, event, group)
            if len(group.rows) != size:
                return None
            bad = np.logical_not((p >= -_TOLERANCE) & (p <= 1 + _TOLERANCE))
            if np.any(bad):
                i = self.failing(group, bad)
                if i is None:
                    return None
                shown = float(p if np.ndim(p) == 0 else p[i])
                raise self.fail(int(group.rows[i]), event, f"probability "
                                f"{branch.probability.formula.text!r} = {shown:g} is outside [0, 1]")
            probabilities.append(p)
            total = total + p
        over = total > 1 + _TOLERANCE
        if np.any(over):
            i = self.failing(group, over)
            if i is None:
                return None
            listed = ", ".join(
                f"{self.scenario.events[b.target].name}={float(p if np.ndim(p) == 0 else p[i]):.4g}"
                for b, p in zip(plan.branches, probabilities, strict=True)
                if p is not None and b.target is not None)
            value = float(total if np.ndim(total) == 0 else total[i])
            raise self.fail(int(group.rows[i]), event,
                            f"choice probabilities sum to {value:.6g} > 1 ({listed})")
        return probabilities, total

    def choose(self, plan: EventPlan, group: _Group) -> np.ndarray:
        """Choose a branch in each replication of ``group`` and schedule it; return the events
        chosen (-1: none)."""
        stops = self.stops
        weighed = self.probabilities(plan, group)
        while weighed is None:
            weighed = self.probabilities(plan, group)
        probabilities = weighed[0]
        u = self.pool.take(self.offsets.take(group.cells) + plan.choose_column)
        targets = [-1 if b.target is None else b.target for b in plan.branches]
        weighted = [p for p in probabilities if p is not None]
        if all(np.ndim(p) == 0 for p in weighted):
            # The same probabilities everywhere: the first branch whose running sum
            # exceeds u, found by bisection (sums added in the same order).
            bounds = np.array(list(itertools.accumulate(weighted)), dtype=float)
            index = np.searchsorted(bounds, u, side="right")
            remainder = targets[-1] if probabilities[-1] is None else -1
            chosen = np.array([*targets[:len(weighted)], remainder], dtype=np.intp).take(index)
        else:
            chosen = np.full(len(group.rows), -1, dtype=np.intp)
            undecided = np.ones(len(group.rows), dtype=bool)
            cumulative: Any = 0.0
            for target, p in zip(targets, probabilities, strict=True):
                if p is None:
                    chosen[undecided] = target
                    break
                cumulative = cumulative + p
                taken = undecided & (u < cumulative)
                chosen[taken] = target
                undecided &= ~taken
        for target, schedule in plan.chosen.items():
            picked = np.flatnonzero(chosen == target)
            if len(picked):
                branch = group.select(picked)
                due = self.due(schedule, branch)
                self.schedule(branch.local, due, target, len(plan.then))
        if self.stops != stops:
            # Failing delays of the chosen successors stopped some: the rest goes on without them.
            kept = np.flatnonzero(self.alive.take(group.local))
            group.keep(kept)
            chosen = chosen.take(kept)
        return chosen

    def repeat(self, plan: EventPlan, group: _Group) -> None:
        event = plan.event
        if plan.repeat_max is not None:
            again = self.occurrences[event.index].take(group.rows) < plan.repeat_max
            if not again.all():
                group = group.select(np.flatnonzero(again))
        if plan.repeat_condition is not None and len(group.rows):
            again = self.truth(plan.repeat_condition, event, group)
            if not again.all():
                group = group.select(np.flatnonzero(again))
        if len(group.rows):
            assert plan.repeat_every is not None
            delays = self.draw(plan.repeat_every, plan.repeat_column, group)
            self.schedule(group.local, group.times + delays, event.index,
                          len(plan.then) + bool(plan.branches))


class _Group:
    """Replications firing one event together.

    ``cells`` are their columns in the iteration's uniforms, ``local`` their
    columns in the pending table, ``rows`` their chunk rows (ascending) and
    ``times`` the due times of the instances that fire.
    """

    __slots__ = ("cells", "local", "rows", "times")

    def __init__(self, cells: np.ndarray, local: np.ndarray, rows: np.ndarray,
                 times: np.ndarray) -> None:
        self.cells = cells
        self.local = local
        self.rows = rows
        self.times = times

    def select(self, positions: np.ndarray) -> _Group:
        """The replications at ``positions``, as a group of their own."""
        return _Group(self.cells.take(positions), self.local.take(positions),
                      self.rows.take(positions), self.times.take(positions))

    def keep(self, positions: np.ndarray) -> None:
        """Keep only the replications at ``positions``."""
        self.cells = self.cells.take(positions)
        self.local = self.local.take(positions)
        self.rows = self.rows.take(positions)
        self.times = self.times.take(positions)
