"""What every engine is: a compiled scenario and stream keys in, replication records out.

An engine is made from a compiled scenario (and whether uncertain parameters
are drawn), says what keeps it from running a scenario
(:meth:`Engine.limitations`), runs a range of replications
(:meth:`Engine.run`) and tells one with its event log (:meth:`Engine.trace`).
Every random number it uses comes from streams keyed by :class:`StreamKeys`
and the replication, so that any range of replications gives the same
records wherever and in whatever pieces it runs.

An engine may hand replications back (an :class:`Overflow`), for the
reference engine to run instead: :mod:`~escalate.engine.selection` chooses
the engine, hands back and records why, the one place that does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar, Protocol, TypeAlias

from ..compile.compiled import CompiledScenario
from .records import ChunkRecords, ReplicationRecord

__all__ = ["Engine", "Overflow", "Piece", "StreamKeys"]


@dataclass(frozen=True, slots=True)
class StreamKeys:
    """What a run's random streams are keyed by, besides the replication.

    ``seed`` is the run's seed, ``point`` the index of its sweep point (None
    outside a sweep).
    """

    seed: int
    point: int | None = None


@dataclass(frozen=True, slots=True)
class Overflow:
    """Replications ``first`` to ``stop - 1``, which an engine hands back unrun.

    The batch engine hands back the blocks that hold a replication with more
    pending instances than its table holds
    (:data:`~escalate.engine.batch.pending.MAX_CAPACITY`); the caller runs
    them on the reference engine.
    """

    first: int
    stop: int


#: what :meth:`Engine.run` yields, in replication order: one replication's
#: record, the records of consecutive replications as arrays, or replications
#: handed back
Piece: TypeAlias = ReplicationRecord | ChunkRecords | Overflow


class Engine(Protocol):
    """The interface every engine satisfies (and registers in :mod:`~escalate.engine.selection`)."""

    #: the engine's name, as ``run(engine=...)`` and ``--engine`` take it
    name: ClassVar[str]

    def __init__(self, scenario: CompiledScenario, *, uncertainty: bool = False) -> None:
        """Prepare ``scenario``; with ``uncertainty`` each replication draws the uncertain
        parameters first (two-level Monte Carlo)."""

    @classmethod
    def limitations(cls, scenario: CompiledScenario, *, keep_log: bool = False) -> list[str]:
        """What keeps the engine from running ``scenario`` (empty when nothing does).

        ``keep_log``: whether the run keeps each replication's event log.
        """
        ...

    def run(self, keys: StreamKeys, first: int, count: int, *,
            keep_log: bool = False) -> Iterator[Piece]:
        """Yield the results of replications ``first`` to ``first + count - 1``, in order.

        ``keep_log`` keeps each record's event log.  Raises
        :class:`~escalate.errors.SimulationError` when a replication fails.
        """
        ...

    def trace(self, keys: StreamKeys, replication: int) -> ReplicationRecord | Overflow:
        """Replication ``replication`` with its event log, as any run gives it.

        Returns an :class:`Overflow` covering it when the engine hands it back.
        """
        ...
