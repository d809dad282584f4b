"""How a chunk of the batch engine draws: uniforms dealt per block, delays, choices, repeats.

At each iteration a block's stream deals the uniform numbers its firing
replications may need, in replication order (:meth:`ChunkDraws.deal`);
delays are drawn from them by
:func:`~escalate.distributions.delay_from_uniforms`, choices compare one of
them with the running sums of the branches' probabilities.  Uncertain
parameters are drawn from each block's own parameter stream when the chunk
is made.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ...distributions import (
    check_delay_arguments,
    delay_from_uniforms,
    draw_uncertain,
    invalid_delay_arguments,
)
from .blocks import BLOCK_SIZE, BlockStreamSource
from .checks import ChunkChecks
from .plan import DelayPlan, EventPlan, ScenarioPlan, SchedulePlan
from .state import Group

__all__ = ["ChunkDraws"]

_TOLERANCE = 1e-9


class ChunkDraws(ChunkChecks):
    """A chunk's state and checks with the drawing of delays, choices and repetitions."""

    def __init__(self, plan: ScenarioPlan, streams: BlockStreamSource, block: int,
                 blocks: int, *, asked: tuple[int, int] | None = None,
                 log_row: int | None = None) -> None:
        super().__init__(plan, streams, block, blocks, asked=asked, log_row=log_row)
        if plan.uncertainty:
            self.parameters = self.draw_parameters(blocks)

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
        need = self.plan.uniforms.take(events)
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

    def due(self, schedule: SchedulePlan, group: Group) -> np.ndarray:
        """The due times of ``schedule.target`` scheduled now in the replications of ``group``."""
        if schedule.at is not None:
            return group.times + np.maximum(0.0, schedule.at - group.times)
        if schedule.delay is None:
            return group.times
        delays = self.draw(schedule.delay, schedule.column, group)
        due: np.ndarray = group.times + delays
        return due

    def draw(self, delay: DelayPlan, column: int, group: Group) -> np.ndarray:
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

    def probabilities(self, plan: EventPlan, group: Group) -> tuple[list[Any], Any] | None:
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

    def choose(self, plan: EventPlan, group: Group) -> np.ndarray:
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

    def repeat(self, plan: EventPlan, group: Group) -> None:
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

