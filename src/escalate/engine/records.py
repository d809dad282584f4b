"""What replications leave behind, whichever engine ran them: one record each, or arrays."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One step of a replication's story, kept only when a trace or event log is asked for."""

    time: float
    event: str
    actor: str | None
    status: str  # "fired", "skipped", "cancelled", "stopped"
    level: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ReplicationRecord:
    """The result of one replication.

    ``outcome_times`` holds, per outcome in scenario order, the time (days) it
    first occurred, or NaN; ``path`` the indices of the events fired, in the
    order of their first firing.
    """

    index: int
    terminal: str
    end_time: float
    max_level: int
    final_level: int
    outcome_times: tuple[float, ...]
    events_fired: int
    events_skipped: int
    path: tuple[int, ...]
    parameters: tuple[float, ...] = ()
    log: tuple[LogEntry, ...] | None = None

    @property
    def runaway(self) -> bool:
        """Whether the replication was stopped for exceeding ``max_events``."""
        return self.terminal == "max_events"


# Odd 64-bit multipliers that hash a replication's column of first-firing ranks.
_PATH_WEIGHTS = np.random.Generator(np.random.PCG64(0x70617468)).integers(
    1, 2**62, size=4096, dtype=np.int64) * 2 + 1


@dataclass(frozen=True, eq=False)
class ChunkRecords:
    """The results of consecutive replications as arrays, one entry per replication.

    ``terminal`` holds indices into the scenario's terminal labels,
    ``outcome_times`` one row per replication (NaN where an outcome did not
    occur), and ``ranks`` one row per event: the order (0, 1, ...) in which
    each replication first fired it, or -1.
    """

    first: int
    terminal: np.ndarray
    end_time: np.ndarray
    max_level: np.ndarray
    final_level: np.ndarray
    outcome_times: np.ndarray
    events_fired: np.ndarray
    events_skipped: np.ndarray
    ranks: np.ndarray
    parameters: np.ndarray

    def __len__(self) -> int:
        return len(self.terminal)

    def select(self, low: int, high: int) -> ChunkRecords:
        """The records of replications ``first + low`` to ``first + high - 1``."""
        return ChunkRecords(
            first=self.first + low, terminal=self.terminal[low:high],
            end_time=self.end_time[low:high], max_level=self.max_level[low:high],
            final_level=self.final_level[low:high], outcome_times=self.outcome_times[low:high],
            events_fired=self.events_fired[low:high], events_skipped=self.events_skipped[low:high],
            ranks=self.ranks[:, low:high], parameters=self.parameters[low:high])

    def paths(self) -> tuple[list[tuple[int, ...]], np.ndarray, np.ndarray]:
        """The distinct paths in order of first appearance, each replication's path number
        and the count of each path."""
        ranks = self.ranks
        if len(self) == 0:
            return [], np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
        events = len(ranks)
        weights = np.resize(_PATH_WEIGHTS, events)[:, None]
        keys = ((ranks.astype(np.int64) + 1) * weights).sum(axis=0)  # wraps around: a hash
        _, first, inverse, counts = np.unique(keys, return_index=True, return_inverse=True,
                                              return_counts=True)
        if not np.array_equal(ranks[:, first].take(inverse, axis=1), ranks):
            # Two paths share a hash: compare the rank columns themselves.
            _, first, inverse, counts = np.unique(ranks, axis=1, return_index=True,
                                                  return_inverse=True, return_counts=True)
        order = np.argsort(first, kind="stable")
        renumber = np.empty_like(order)
        renumber[order] = np.arange(len(order))
        # Each distinct path's events in the order of their first firing, those
        # that never fired sorted last and cut off.
        distinct = ranks[:, first[order]]
        fired = distinct >= 0
        by_rank = np.argsort(np.where(fired, distinct, events), axis=0, kind="stable")
        paths = [tuple(events_in_order[:length]) for events_in_order, length
                 in zip(by_rank.T.tolist(), fired.sum(axis=0).tolist(), strict=True)]
        return paths, renumber[inverse.reshape(-1)], counts[order]

    def records(self, terminals: tuple[str, ...],
                paths: tuple[list[tuple[int, ...]], np.ndarray] | None = None,
                ) -> Iterator[ReplicationRecord]:
        """One :class:`ReplicationRecord` per replication (without event logs).

        ``paths`` may pass on what :meth:`paths` returned (its first two parts).
        """
        distinct, path_of = paths if paths is not None else self.paths()[:2]
        parameters = [tuple(row) for row in self.parameters.tolist()]
        columns = zip(self.terminal.tolist(), self.end_time.tolist(), self.max_level.tolist(),
                      self.final_level.tolist(), self.outcome_times.tolist(),
                      self.events_fired.tolist(), self.events_skipped.tolist(),
                      path_of.tolist(), parameters, strict=True)
        for i, (terminal, end, top, final, times, fired, skipped, path, drawn) in enumerate(columns):
            yield ReplicationRecord(self.first + i, terminals[terminal], end, top, final,
                                    tuple(times), fired, skipped, distinct[path], drawn)
