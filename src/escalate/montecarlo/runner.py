"""Running a scenario many times: keyed streams in, streamed records out.

:func:`run` is the library's main entry point.  Its ``engine`` argument goes
to :class:`~escalate.engine.selection.EngineRun`, which chooses the engine
and hands to the reference engine what the chosen one cannot run; the
records it yields, one replication's or a chunk's, go to the
:class:`~escalate.montecarlo.aggregate.Aggregator` and to optional sinks as
they come, so nothing grows with the number of replications unless
``keep_replications`` asks for the per-replication arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from ..compile.compiled import CompiledScenario
from ..engine.protocol import StreamKeys
from ..engine.records import ChunkRecords, ReplicationRecord
from ..engine.selection import EngineRun
from ..scenario import Scenario
from .aggregate import Aggregator
from .arguments import (
    check_callback,
    check_flag,
    check_replications,
    check_sinks,
    compiled_scenario,
)
from .results import ReplicationTable, RunResult
from .seeding import SeedLike, check_stream_keys, normalize_seed

__all__ = ["RecordSink", "run"]


class RecordSink(Protocol):
    """Anything that takes replication records as they are produced (a CSV writer, say)."""

    def write(self, record: ReplicationRecord) -> None: ...


def run(
    scenario: Scenario | CompiledScenario | str | Path,
    *,
    replications: int = 1000,
    seed: SeedLike = None,
    overrides: Mapping[str, Any] | None = None,
    uncertainty: bool = False,
    first: int = 0,
    point: int | None = None,
    keep_replications: bool = True,
    sinks: Sequence[RecordSink] = (),
    progress: Callable[[int], None] | None = None,
    keep_log: bool = False,
    engine: str = "auto",
) -> RunResult:
    """Run ``replications`` replications of a scenario and aggregate them.

    ``first`` offsets the replication indices, so two runs over ``[0, n)`` and
    ``[n, m)`` merge into exactly the run over ``[0, m)``; ``point`` (a sweep
    point's index) keys the streams by ``(seed, point, replication)``.  ``progress`` is
    called with the number of replications finished since the previous call;
    ``keep_log`` keeps each replication's event log on its record (for sinks).
    ``engine`` is ``"auto"`` (the batch engine when it can run the scenario),
    ``"reference"`` or ``"batch"`` (:mod:`~escalate.engine.selection`); the
    result says which ran and why.  The engines give the same distributions
    but not the same numbers.
    Raises :class:`ScenarioError` for bad overrides, :class:`SimulationError`
    when a replication fails, :class:`UsageError` for bad arguments.
    """
    replications = check_replications(replications)
    first, point = check_stream_keys(first, replications, point)
    uncertainty = check_flag(uncertainty, "uncertainty")
    keep_replications = check_flag(keep_replications, "keep_replications")
    keep_log = check_flag(keep_log, "keep_log")
    check_sinks(sinks)
    check_callback(progress, "progress")
    compiled = compiled_scenario(scenario, overrides)
    seed_value = normalize_seed(seed)
    chosen = EngineRun(compiled, engine, uncertainty=uncertainty, keep_log=keep_log)
    aggregator = Aggregator(compiled)
    table = ReplicationTable(compiled) if keep_replications else None
    # One replication's records are reported by the hundredth of the run, chunks and
    # what ran on the reference engine instead as they come.
    step = max(1, min(10_000, replications // 100))
    done = 0
    for piece in chosen.run(StreamKeys(seed_value, point), first, replications):
        if isinstance(piece, ReplicationRecord):
            aggregator.add(piece)
            if table is not None:
                table.append(piece)
            for sink in sinks:
                sink.write(piece)
            done += 1
            if progress is not None and done % step == 0:
                progress(step)
        elif isinstance(piece, ChunkRecords):
            _add_chunk(piece, compiled, aggregator, table, sinks)
            if progress is not None:
                progress(len(piece))
        else:
            for record in piece.records:
                aggregator.add(record)
                if table is not None:
                    table.append(record)
                for sink in sinks:
                    sink.write(record)
            if progress is not None:
                progress(piece.stop - piece.first)
    if progress is not None and done % step:
        progress(done % step)
    return RunResult(compiled, seed_value, replications, first, uncertainty, chosen.name,
                     aggregator, table, chosen.explained(replications),
                     fallback=tuple(chosen.fallback))


def _add_chunk(piece: ChunkRecords, compiled: CompiledScenario, aggregator: Aggregator,
               table: ReplicationTable | None, sinks: Sequence[RecordSink]) -> None:
    """Add a chunk's records to the aggregate, the table and the sinks."""
    paths, path_of, counts = piece.paths()
    aggregator.add_arrays(
        outcome_times=piece.outcome_times, max_levels=piece.max_level,
        final_levels=piece.final_level, terminals=piece.terminal,
        end_times=piece.end_time, events_fired=piece.events_fired,
        events_skipped=piece.events_skipped,
        path_counts=list(zip(paths, counts.tolist(), strict=True)))
    if table is not None:
        table.extend(piece)
    if sinks:
        for record in piece.records(compiled.terminals, (paths, path_of)):
            for sink in sinks:
                sink.write(record)
