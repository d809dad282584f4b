"""The batch engine: many replications advanced together as numpy arrays.

:class:`BatchEngine` prepares a scenario once (each event's expressions
compiled for arrays, :mod:`~escalate.engine.plan`) and runs the
replications asked for in chunks of :data:`CHUNK_BLOCKS` blocks, each a
:class:`~escalate.engine.chunk.Chunk` that applies the semantics to all its
replications at once, so memory stays flat whatever the number of
replications.

Randomness: replication ``r`` belongs to block ``r // BLOCK_SIZE``, and
every block has its own streams (``montecarlo.seeding.BlockStreams``).
Blocks are always simulated whole, the replications not asked for being
dropped from the results, so that a replication's numbers depend on the
seed, its index and the scenario only, never on how a run is split into
chunks, workers or shards.  They are not the reference engine's numbers,
which come from streams keyed by replication.  For the same reason, what
cannot run on the batch engine is decided per block: only a replication
asked for can fail a run (one that is not is stopped where it fails), and a
block one of whose replications outgrows the pending table is handed back
as an :class:`Overflow`, whatever chunk it is in.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..compile.compiled import CompiledScenario
from .chunk import BLOCK_SIZE, BlockStreamSource, Chunk
from .pending import MAX_CAPACITY, CapacityError
from .plan import Compiled, EventPlan, build_plans
from .records import ChunkRecords, ReplicationRecord
from .vectorized import compile_vectorized

__all__ = ["BLOCK_SIZE", "CHUNK_BLOCKS", "BatchEngine", "BlockStreamSource", "Overflow"]

#: blocks simulated together: memory stays flat whatever the number of replications
CHUNK_BLOCKS = 64


@dataclass(frozen=True, slots=True)
class Overflow:
    """Replications ``first`` to ``stop - 1``, which the batch engine could not run.

    Their blocks each hold a replication with more pending instances than the
    pending table holds (:data:`~escalate.engine.pending.MAX_CAPACITY`); the
    caller runs them another way.
    """

    first: int
    stop: int


class BatchEngine:
    """Runs chunks of replications of a compiled scenario with numpy."""

    name = "batch"

    def __init__(self, scenario: CompiledScenario, *, uncertainty: bool = False,
                 chunk_blocks: int = CHUNK_BLOCKS) -> None:
        self.scenario = scenario
        self.uncertainty = uncertainty
        self.chunk_blocks = chunk_blocks
        offset = scenario.parameter_offset
        varying = {offset + p for p in scenario.uncertain_parameters} if uncertainty else set()
        constants = {offset + i: value for i, value in enumerate(scenario.parameter_values)
                     if offset + i not in varying}
        self.plans: tuple[EventPlan, ...] = build_plans(scenario, constants)
        self.uniforms = np.array([plan.uniforms for plan in self.plans], dtype=np.intp)
        self.conditions = [(k, Compiled(o.condition, compile_vectorized(
                               o.condition.tree, scenario.slots, constants)))
                           for k, o in enumerate(scenario.outcomes)
                           if o.kind == "when" and o.condition is not None]
        self.terminal_codes = {label: code for code, label in enumerate(scenario.terminals)}
        self.terminal_outcomes = {
            code: tuple(k for k, o in enumerate(scenario.outcomes)
                        if o.kind == "terminal" and o.terminal == label)
            for label, code in self.terminal_codes.items()}
        self.counted = tuple(p.event.index for p in self.plans if p.repeat_max is not None)
        self.capacity = max(4, len(scenario.roots) + 4)
        successors = max(len(e.then) + 2 for e in scenario.events)
        self.order_dtype = (np.int32 if (scenario.max_events + 1) * successors + len(scenario.roots)
                            < 2**31 else np.int64)

    def run(self, streams: BlockStreamSource, first: int,
            count: int) -> Iterator[ChunkRecords | Overflow]:
        """Yield the results of replications ``first`` to ``first + count - 1``, in order.

        Whole blocks are simulated, a chunk at a time, and the replications
        outside the range left out of the records.  The replications of a
        block that outgrows the pending table come as an :class:`Overflow`
        between the records of the others.  Raises :class:`SimulationError`
        when a replication of the range fails, naming the first failing one of
        its chunk.
        """
        stop = first + count
        block = first // BLOCK_SIZE
        last = (stop - 1) // BLOCK_SIZE
        while block <= last:
            blocks = min(self.chunk_blocks, last + 1 - block)
            start = block * BLOCK_SIZE
            low, high = max(first, start) - start, min(stop, start + blocks * BLOCK_SIZE) - start
            chunk = Chunk(self, streams, block, blocks, asked=(low, high))
            records = chunk.run()
            if not chunk.overflowed:
                yield records if (low, high) == (0, len(records)) else records.select(low, high)
            else:
                yield from _pieces(records, low, high, chunk.overflowed)
            block += blocks

    def trace(self, streams: BlockStreamSource, replication: int) -> ReplicationRecord:
        """Replication ``replication`` with its event log: the same numbers as in any run.

        Its block is simulated whole, as in a run, and the log kept for it alone.
        Raises :class:`SimulationError` when it fails, and
        :class:`~escalate.engine.pending.CapacityError` when its block outgrows
        the pending table (a run gives it to the reference engine).
        """
        block = replication // BLOCK_SIZE
        row = replication - block * BLOCK_SIZE
        chunk = Chunk(self, streams, block, 1, asked=(row, row + 1), log_row=row)
        records = chunk.run()
        if chunk.overflowed:
            error = CapacityError(f"more than {MAX_CAPACITY} pending instances in a "
                                  f"replication of block {block}")
            error.stop = (block + 1) * BLOCK_SIZE
            raise error
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
