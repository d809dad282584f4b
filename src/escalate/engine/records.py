"""What one replication leaves behind, whichever engine ran it."""

from __future__ import annotations

from dataclasses import dataclass


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
