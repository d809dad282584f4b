"""One chunk of replications of the batch engine, advanced together as numpy arrays.

A :class:`Chunk` gives a scenario the meaning that the reference engine
(:mod:`~escalate.engine.reference`, ``docs/semantics.md``) defines, for many
replications at once.  Each replication owns a column of a
:class:`~escalate.engine.batch.pending.PendingTable`.  Every iteration pops the
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

Randomness: a chunk is made of whole blocks of
:data:`~escalate.engine.batch.streams.BLOCK_SIZE` replications, and every
block has its own streams (``engine.streams.BlockStreams``); how they are
drawn from is :mod:`~escalate.engine.batch.draws`.  What a chunk holds is
:mod:`~escalate.engine.batch.state`, how it checks what its replications
compute :mod:`~escalate.engine.batch.checks`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..records import ChunkRecords
from .blocks import BLOCK_SIZE
from .draws import ChunkDraws
from .pending import CapacityError
from .plan import EventPlan
from .state import Group

__all__ = ["Chunk"]


class Chunk(ChunkDraws):
    """One chunk of replications, run together to their ends (:meth:`run`): the event loop."""

    def run(self) -> ChunkRecords:
        scenario = self.scenario
        everyone = np.arange(self.count)
        with np.errstate(all="ignore"):
            self.check_conditions(self.plan.conditions,
                                  Group(everyone, everyone, everyone, self.now))
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
            self.fire(self.plans[event], Group(cells[start:end], local[start:end],
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

    def finish(self, rows: np.ndarray, label: str, end_time: Any, *, fired: bool = False) -> None:
        """Stop ``rows`` with terminal ``label``; ``fired`` if this iteration's firing ended them."""
        code = self.plan.terminal_codes[label]
        self.terminal[rows] = code
        self.end_time[rows] = end_time
        self.popped[rows] = self.iteration + fired
        for k in self.plan.terminal_outcomes[code]:
            self.outcome_times[k][rows] = end_time

    # -- one event, for a group of replications ------------------------------------------------------

    def fire(self, plan: EventPlan, group: Group) -> None:
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
