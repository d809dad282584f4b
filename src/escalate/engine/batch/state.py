"""What one chunk of the batch engine holds: a column per replication, and its trace log.

:class:`ChunkState` is the base of :class:`~escalate.engine.batch.chunk.Chunk`:
the arrays of a chunk's replications (state columns, outcomes, path ranks,
terminals, the pending table), the instances scheduled in the current
iteration, and the log of the one replication a trace follows.  A
:class:`Group` is the replications firing one event together.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...compile.compiled import CompiledEvent
from ..records import LogEntry
from .blocks import BLOCK_SIZE, BlockStreamSource
from .pending import PendingTable
from .plan import ScenarioPlan

__all__ = ["ChunkState", "Group"]


class ChunkState:
    """The mutable state of one chunk of replications (one column per replication).

    ``asked`` is the range of chunk rows whose records are wanted (all of them
    by default): only their failures raise.  ``log_row`` is the row whose
    event log is kept, for a trace.
    """

    def __init__(self, plan: ScenarioPlan, streams: BlockStreamSource, block: int,
                 blocks: int, *, asked: tuple[int, int] | None = None,
                 log_row: int | None = None) -> None:
        scenario = plan.scenario
        count = blocks * BLOCK_SIZE
        self.plan = plan
        self.scenario = scenario
        self.plans = plan.events
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
        # without uncertainty (ChunkDraws draws them otherwise)
        self.parameters = np.empty((count, 0))
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
        self.occurrences = {event: np.zeros(count, dtype=np.int64) for event in plan.counted}
        self.pending = PendingTable(count, capacity=plan.capacity,
                                    event_dtype=np.int16 if len(scenario.events) < 2**15
                                    else np.int32, order_dtype=plan.order_dtype)
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

    def schedule(self, local: np.ndarray, times: np.ndarray, event: int, place: int) -> None:
        """Schedule ``event`` at ``times`` in the table columns ``local``, at the iteration's end.

        ``place`` orders a firing's schedulings: then-successors by position, then
        the chosen one, then the repetition.
        """
        if np.ndim(times) == 0:
            times = np.full(len(local), float(times))
        self.scheduled.append((local, times, event, place))

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


class Group:
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

    def select(self, positions: np.ndarray) -> Group:
        """The replications at ``positions``, as a group of their own."""
        return Group(self.cells.take(positions), self.local.take(positions),
                      self.rows.take(positions), self.times.take(positions))

    def keep(self, positions: np.ndarray) -> None:
        """Keep only the replications at ``positions``."""
        self.cells = self.cells.take(positions)
        self.local = self.local.take(positions)
        self.rows = self.rows.take(positions)
        self.times = self.times.take(positions)
