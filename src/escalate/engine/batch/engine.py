"""The batch engine: many replications advanced together as numpy arrays.

:class:`BatchEngine` prepares a scenario once (each event's expressions
lowered to arrays, :mod:`~escalate.engine.batch.plan`) and runs the
replications asked for in chunks of :data:`CHUNK_BLOCKS` blocks, each a
:class:`~escalate.engine.batch.chunk.Chunk` that applies the semantics to all its
replications at once, so memory stays flat whatever the number of
replications.

Randomness: replication ``r`` belongs to block ``r // BLOCK_SIZE``, and
every block has its own streams (``engine.streams.BlockStreams``).
Blocks are always simulated whole, the replications not asked for being
dropped from the results, so that a replication's numbers depend on the
seed, its index and the scenario only, never on how a run is split into
chunks, workers or shards.  They are not the reference engine's numbers,
which come from streams keyed by replication.  For the same reason, what
cannot run on the batch engine is decided per block: only a replication
asked for can fail a run (one that is not is stopped where it fails), and a
block one of whose replications outgrows the pending table is handed back
as an :class:`~escalate.engine.protocol.Overflow`, whatever chunk it is in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import ClassVar

from ...compile.compiled import CompiledScenario
from ...errors import UsageError
from ..protocol import Overflow, StreamKeys
from ..records import ChunkRecords, ReplicationRecord
from ..streams import BlockStreams
from .blocks import BLOCK_SIZE
from .chunk import Chunk
from .pending import MAX_CAPACITY
from .plan import ScenarioPlan, plan_scenario

__all__ = ["CHUNK_BLOCKS", "BatchEngine"]

#: blocks simulated together: memory stays flat whatever the number of replications
CHUNK_BLOCKS = 64
_MAX_EVENTS = 2**15 - 1
_NO_LOGS = "event logs (--events, trace) are kept by the reference engine only"


class BatchEngine:
    """Runs chunks of replications of a compiled scenario with numpy."""

    name: ClassVar[str] = "batch"

    def __init__(self, scenario: CompiledScenario, *, uncertainty: bool = False,
                 chunk_blocks: int = CHUNK_BLOCKS) -> None:
        self.scenario = scenario
        self.uncertainty = uncertainty
        self.chunk_blocks = chunk_blocks
        self.plan: ScenarioPlan = plan_scenario(scenario, uncertainty=uncertainty)

    @classmethod
    def limitations(cls, scenario: CompiledScenario, *, keep_log: bool = False) -> list[str]:
        """What keeps the batch engine from running ``scenario`` (empty when nothing does)."""
        found = []
        if keep_log:
            found.append(_NO_LOGS)
        if len(scenario.events) > _MAX_EVENTS:
            found.append(f"the scenario has {len(scenario.events):,} events; the batch engine "
                         f"handles at most {_MAX_EVENTS:,}")
        for event in scenario.events:
            fan_out = len(event.then) + bool(event.branches) + (event.repeat is not None)
            if fan_out > MAX_CAPACITY // 2:
                found.append(f"event {event.name!r} schedules {fan_out} occurrences at once; "
                             f"the batch engine keeps at most {MAX_CAPACITY} pending per "
                             "replication")
                break
        return found

    def run(self, keys: StreamKeys, first: int, count: int, *,
            keep_log: bool = False) -> Iterator[ChunkRecords | Overflow]:
        """Yield the results of replications ``first`` to ``first + count - 1``, in order.

        Whole blocks are simulated, a chunk at a time, and the replications
        outside the range left out of the records.  The replications of a
        block that outgrows the pending table come as an :class:`Overflow`
        between the records of the others.  Raises :class:`SimulationError`
        when a replication of the range fails, naming the first failing one of
        its chunk, and :class:`UsageError` for ``keep_log`` (event logs are
        kept in traces only).
        """
        if keep_log:
            raise UsageError(f"the batch engine cannot run this: {_NO_LOGS}")
        streams = BlockStreams(keys.seed, keys.point)
        stop = first + count
        block = first // BLOCK_SIZE
        last = (stop - 1) // BLOCK_SIZE
        while block <= last:
            blocks = min(self.chunk_blocks, last + 1 - block)
            start = block * BLOCK_SIZE
            low, high = max(first, start) - start, min(stop, start + blocks * BLOCK_SIZE) - start
            chunk = Chunk(self.plan, streams, block, blocks, asked=(low, high))
            records = chunk.run()
            if not chunk.overflowed:
                yield records if (low, high) == (0, len(records)) else records.select(low, high)
            else:
                yield from _pieces(records, low, high, chunk.overflowed)
            block += blocks

    def trace(self, keys: StreamKeys, replication: int) -> ReplicationRecord | Overflow:
        """Replication ``replication`` with its event log: the same numbers as in any run.

        Its block is simulated whole, as in a run, and the log kept for it
        alone.  Returns the block as an :class:`Overflow` when it outgrows the
        pending table (a run gives it to the reference engine).  Raises
        :class:`SimulationError` when the replication fails.
        """
        block = replication // BLOCK_SIZE
        row = replication - block * BLOCK_SIZE
        chunk = Chunk(self.plan, BlockStreams(keys.seed, keys.point), block, 1,
                      asked=(row, row + 1), log_row=row)
        records = chunk.run()
        if chunk.overflowed:
            return Overflow(block * BLOCK_SIZE, (block + 1) * BLOCK_SIZE)
        (record,) = records.select(row, row + 1).records(self.scenario.terminals)
        return dataclasses.replace(record, log=tuple(chunk.log or ()))


def _pieces(records: ChunkRecords, low: int, high: int,
            overflowed: set[int]) -> Iterator[ChunkRecords | Overflow]:
    """Rows ``low`` to ``high - 1`` of a chunk's records, without the blocks that overflowed.

    Consecutive blocks of one kind come together: records for those that ran,
    an :class:`Overflow` for those that did not.
    """
    first = records.first
    position = low
    while position < high:
        overflowing = (first + position) // BLOCK_SIZE in overflowed
        end = position
        while end < high and ((first + end) // BLOCK_SIZE in overflowed) == overflowing:
            end = min(high, (end // BLOCK_SIZE + 1) * BLOCK_SIZE)
        yield (Overflow(first + position, first + end) if overflowing
               else records.select(position, end))
        position = end
