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

from ..compiled import CompiledEvent
from ..distributions import (
    check_delay_arguments,
    delay_from_uniforms,
    draw_uncertain,
    invalid_delay_arguments,
)
from ..errors import SimulationError
from .pending import PendingTable
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
    """The mutable state of one chunk of replications (one column per replication)."""

    def __init__(self, engine: BatchEngine, streams: BlockStreamSource, block: int,
                 blocks: int, *, log_row: int | None = None) -> None:
        scenario = engine.scenario
        count = blocks * BLOCK_SIZE
        self.engine = engine
        self.scenario = scenario
        self.plans = engine.plans
        self.streams = streams
        self.block = block
        self.first = block * BLOCK_SIZE
        self.count = count
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
        self.alive = np.ones(count, dtype=bool)  # per table column: still running
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
            bounds = scenario.spec.parameters[scenario.parameter_names[p]].range
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

    def fail(self, row: int, event: CompiledEvent, message: str) -> SimulationError:
        return SimulationError(f"replication {self.first + row}, t = {self.now[row]:.4g} days, "
                               f"event {event.name!r}: {message}")

    def evaluate(self, compiled: Compiled, event: CompiledEvent, rows: np.ndarray) -> Any:
        try:
            return compiled.evaluate(self.columns, rows)
        except VectorEvaluationError as exc:
            formula = compiled.formula
            raise self.fail(int(exc.rows[0]), event, f"{formula.where}: cannot evaluate "
                            f"{formula.text!r}: {exc}") from exc

    def truth(self, compiled: Compiled, event: CompiledEvent, rows: np.ndarray) -> np.ndarray:
        value = self.evaluate(compiled, event, rows)
        if np.ndim(value) == 0:
            return np.full(len(rows), bool(value))
        return np.asarray(value, dtype=bool)

    def check_conditions(self, conditions: Sequence[tuple[int, Compiled]], rows: np.ndarray,
                         times: np.ndarray) -> None:
        """Record the `when` outcomes that hold now and had not occurred yet."""
        for k, condition in conditions:
            recorded = self.outcome_times[k]
            open_ = np.isnan(recorded.take(rows))
            if not open_.any():
                continue
            candidates = rows[open_]
            try:
                value = condition.evaluate(self.columns, candidates)
            except VectorEvaluationError as exc:
                row = int(exc.rows[0])
                raise SimulationError(f"replication {self.first + row}: outcome "
                                      f"{condition.formula.where}: {exc}") from exc
            holds = np.broadcast_to(np.asarray(value, dtype=bool), candidates.shape)
            recorded[candidates[holds]] = times[open_][holds]

    # -- the loop -------------------------------------------------------------------------------

    def run(self) -> ChunkRecords:
        scenario = self.scenario
        everyone = np.arange(self.count)
        with np.errstate(all="ignore"):
            self.check_conditions(self.engine.conditions, everyone, self.now)
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
            self.fire_all(active, firing, times, events, alive)
        running = int(np.count_nonzero(alive))
        if running < 0.75 * len(active):
            self.pending.keep(alive)
            active = active[alive]
            self.alive = np.ones(running, dtype=bool)
        return active if running else active[:0]

    def fire_all(self, active: np.ndarray, firing: np.ndarray, times: np.ndarray,
                 events: np.ndarray, alive: np.ndarray) -> None:
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
            self.fire(self.plans[event], cells[start:end], local[start:end], rows[start:end],
                      due[start:end], alive)
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
                self.pending.push(columns, times, event)
            else:
                self.pending.push(np.concatenate([e[0] for e in entries]),
                                  np.concatenate([e[1] for e in entries]),
                                  np.concatenate([np.full(len(e[0]), e[2], dtype=dtype)
                                                  for e in entries]))

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

    def fire(self, plan: EventPlan, cells: np.ndarray, local: np.ndarray, rows: np.ndarray,
             times: np.ndarray, alive: np.ndarray) -> None:
        """Fire ``plan``'s event in ``rows``, due at ``times``.

        ``local`` are the rows' columns in the pending table and ``cells`` their
        columns in this iteration's uniforms.
        """
        event = plan.event
        self.now[rows] = times
        counter = self.occurrences.get(event.index)
        if counter is not None:
            counter[rows] += 1
        if plan.guard is not None:
            holds = self.truth(plan.guard, event, rows)
            if not holds.all():
                skip = np.flatnonzero(~holds)
                skipped_rows = rows.take(skip)
                self.skipped[skipped_rows] += 1
                if self.log is not None and (at := self.logged(skipped_rows)) is not None:
                    assert event.guard is not None
                    self.record(event.index, float(times[skip[at]]), "skipped",
                                f"when {event.guard.text} is false")
                if plan.repeat_every is not None:
                    self.repeat(plan, *_select(skip, cells, local, rows, times))
                cells, local, rows, times = _select(np.flatnonzero(holds), cells, local, rows,
                                                    times)
                if not len(rows):
                    return
        for update in plan.updates:
            value = self.evaluate(update.value, event, rows)
            if update.integer:
                self.check_whole(value, update.name, event, rows)
            else:
                self.check_finite(value, update.name, event, rows)
            self.columns[update.slot][rows] = value
        if plan.sets_level:
            self.check_level(event, rows)
        self.record_first(plan, rows, times)
        if plan.conditions:
            self.check_conditions(plan.conditions, rows, times)
        logged = self.logged(rows) if self.log is not None else None
        if event.cancels:
            if logged is not None:
                self.log_cancels(event, int(local[logged]), float(times[logged]))
            self.pending.cancel(local, event.cancels)
        if event.end is not None:
            self.finish(rows, event.end, times, fired=True)
            alive[local] = False
            if logged is not None:
                self.record(event.index, float(times[logged]), "fired", f"end: {event.end}")
            return
        for place, schedule in enumerate(plan.then):
            self.schedule(local, self.due(schedule, cells, rows, times), schedule.target, place)
        chosen = self.choose(plan, cells, local, rows, times) if plan.branches else None
        if logged is not None:
            detail = ""
            if chosen is not None:
                target = int(chosen[logged])
                detail = "chose " + (self.scenario.events[target].name if target >= 0
                                     else "nothing")
            self.record(event.index, float(times[logged]), "fired", detail)
        if plan.repeat_every is not None:
            self.repeat(plan, cells, local, rows, times)

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

    def check_finite(self, value: Any, name: str, event: CompiledEvent, rows: np.ndarray) -> None:
        numbers = np.asarray(value)
        if numbers.dtype == bool:
            return
        bad = ~np.isfinite(numbers)
        if np.any(bad):
            i = int(np.flatnonzero(np.broadcast_to(bad, rows.shape))[0])
            shown = float(numbers if numbers.ndim == 0 else numbers[i])
            raise self.fail(int(rows[i]), event, f"set {name}: {shown!r} is not a finite number")

    def check_whole(self, value: Any, name: str, event: CompiledEvent, rows: np.ndarray) -> None:
        numbers = np.asarray(value, dtype=float)
        bad = ~np.isfinite(numbers) | (numbers != np.round(numbers))
        if np.any(bad):
            i = int(np.flatnonzero(np.broadcast_to(bad, rows.shape))[0])
            shown = float(numbers if numbers.ndim == 0 else numbers[i])
            raise self.fail(int(rows[i]), event, f"set {name}: {shown!r} is not a whole number")

    def check_level(self, event: CompiledEvent, rows: np.ndarray) -> None:
        level = self.level.take(rows)
        top = len(self.scenario.ladder)
        bad = ~((level >= 0) & (level < top))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise self.fail(int(rows[i]), event, f"level {level[i]:g} is outside the ladder "
                            f"(0 to {top - 1})")
        self.max_level[rows] = np.maximum(self.max_level.take(rows), level.astype(np.int64))

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

    def due(self, schedule: SchedulePlan, cells: np.ndarray, rows: np.ndarray,
            times: np.ndarray) -> np.ndarray:
        """The due times of ``schedule.target`` scheduled now in ``rows``."""
        if schedule.at is not None:
            return times + np.maximum(0.0, schedule.at - times)
        if schedule.delay is None:
            return times
        due: np.ndarray = times + self.draw(schedule.delay, schedule.column, cells, rows)
        return due

    def draw(self, delay: DelayPlan, column: int, cells: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Delays for ``rows`` from this iteration's uniforms at ``column`` onwards."""
        args = [self.evaluate(a, delay.event, rows) for a in delay.args]
        if not delay.constant:
            bad = invalid_delay_arguments(delay.kind, args)
            if np.any(bad):
                i = int(np.flatnonzero(np.broadcast_to(bad, rows.shape))[0])
                values = [float(a if np.ndim(a) == 0 else a[i]) for a in args]
                problem = check_delay_arguments(delay.kind, values)
                raise self.fail(int(rows[i]), delay.event, f"delay: {problem}")
        starts = self.offsets.take(cells) + column
        uniforms = self.pool.take(starts + np.arange(delay.uniforms)[:, None])
        delays = delay_from_uniforms(delay.kind, args, uniforms)
        if delay.kind == "gamma":
            for i in np.flatnonzero(np.isnan(delays)).tolist():
                # Both tries of the rejection sampler failed (rare): more uniforms
                # from the same block's stream, until one is accepted.
                values = [a if np.ndim(a) == 0 else a[i] for a in args]
                generator = self.generators[int(rows[i]) // BLOCK_SIZE]
                while np.isnan(delays[i]):
                    fresh = generator.random((delay.uniforms, 1))
                    delays[i] = delay_from_uniforms("gamma", values, fresh)[0]
        return delays

    def choose(self, plan: EventPlan, cells: np.ndarray, local: np.ndarray, rows: np.ndarray,
               times: np.ndarray) -> np.ndarray:
        """Choose a branch in each of ``rows`` and schedule it; return the events chosen (-1: none)."""
        event = plan.event
        probabilities: list[Any] = []
        total: Any = 0.0
        for branch in plan.branches:
            if branch.probability is None:
                probabilities.append(None)
                continue
            p = self.evaluate(branch.probability, event, rows)
            bad = np.logical_not((p >= -_TOLERANCE) & (p <= 1 + _TOLERANCE))
            if np.any(bad):
                i = int(np.flatnonzero(np.broadcast_to(bad, rows.shape))[0])
                shown = float(p if np.ndim(p) == 0 else p[i])
                raise self.fail(int(rows[i]), event, f"probability "
                                f"{branch.probability.formula.text!r} = {shown:g} is outside [0, 1]")
            probabilities.append(p)
            total = total + p
        over = total > 1 + _TOLERANCE
        if np.any(over):
            i = int(np.flatnonzero(np.broadcast_to(over, rows.shape))[0])
            listed = ", ".join(
                f"{self.scenario.events[b.target].name}={float(p if np.ndim(p) == 0 else p[i]):.4g}"
                for b, p in zip(plan.branches, probabilities, strict=True)
                if p is not None and b.target is not None)
            value = float(total if np.ndim(total) == 0 else total[i])
            raise self.fail(int(rows[i]), event,
                            f"choice probabilities sum to {value:.6g} > 1 ({listed})")
        u = self.pool.take(self.offsets.take(cells) + plan.choose_column)
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
            chosen = np.full(len(rows), -1, dtype=np.intp)
            undecided = np.ones(len(rows), dtype=bool)
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
                cells_, local_, rows_, times_ = _select(picked, cells, local, rows, times)
                self.schedule(local_, self.due(schedule, cells_, rows_, times_), target,
                              len(plan.then))
        return chosen

    def repeat(self, plan: EventPlan, cells: np.ndarray, local: np.ndarray, rows: np.ndarray,
               times: np.ndarray) -> None:
        event = plan.event
        if plan.repeat_max is not None:
            again = self.occurrences[event.index].take(rows) < plan.repeat_max
            if not again.all():
                cells, local, rows, times = _select(np.flatnonzero(again), cells, local, rows,
                                                    times)
        if plan.repeat_condition is not None and len(rows):
            again = self.truth(plan.repeat_condition, event, rows)
            if not again.all():
                cells, local, rows, times = _select(np.flatnonzero(again), cells, local, rows,
                                                    times)
        if len(rows):
            assert plan.repeat_every is not None
            delays = self.draw(plan.repeat_every, plan.repeat_column, cells, rows)
            self.schedule(local, times + delays, event.index,
                          len(plan.then) + bool(plan.branches))


def _select(positions: np.ndarray, *arrays: np.ndarray) -> tuple[np.ndarray, ...]:
    """The entries at ``positions`` of each array (one index computation for them all)."""
    return tuple(array.take(positions) for array in arrays)
