"""Choosing the engine of a run, handing replications back to the reference engine, and why.

This is the one place that dispatches between engines.  Every engine is
registered in :data:`ENGINE_CLASSES`, the reference engine first.  The
engines give a scenario the same meaning (the differential tests hold them
to it), so ``auto`` takes the last registered engine that can run the
scenario: the batch engine unless the run needs something only the
reference engine does.  Replications an engine hands back
(:class:`~escalate.engine.protocol.Overflow`) run on the reference engine,
and the reason recorded with the run says which and why.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from ..compile.compiled import CompiledScenario
from ..errors import UsageError
from .batch import BLOCK_SIZE, BatchEngine
from .protocol import Engine, Overflow, StreamKeys
from .records import ChunkRecords, ReplicationRecord
from .reference import ReferenceEngine

__all__ = ["ENGINES", "ENGINE_CLASSES", "EngineRun", "Fallback", "choose_engine",
           "fallback_note", "join_ranges", "trace"]

#: every engine by name: the reference engine (the oracle, which runs what others hand
#: back) first; ``auto`` prefers the last one that can run a scenario
ENGINE_CLASSES: dict[str, type[Engine]] = {engine.name: engine for engine in (
    ReferenceEngine,
    BatchEngine,
)}
#: the values ``run(engine=...)`` and ``--engine`` accept
ENGINES = ("auto", *ENGINE_CLASSES)
# replication ranges that ran on the reference engine listed in engine_reason at most
_FALLBACK_RANGES = 20


def choose_engine(scenario: CompiledScenario, requested: str = "auto", *,
                  keep_log: bool = False) -> tuple[str, str]:
    """Return the engine to run ``scenario`` with and why.

    Raises :class:`UsageError` for an unknown engine name, or when an engine
    is asked for that cannot run the scenario.
    """
    if requested not in ENGINES:
        raise UsageError(f"engine must be one of {', '.join(ENGINES)}, found {requested!r}")
    if requested != "auto":
        limitations = ENGINE_CLASSES[requested].limitations(scenario, keep_log=keep_log)
        if limitations:
            raise UsageError(f"the {requested} engine cannot run this: {limitations[0]} "
                             "(hint: use the reference engine, or auto)")
        return requested, "asked for"
    passed_over: list[str] = []
    for name, engine in reversed(ENGINE_CLASSES.items()):
        limitations = engine.limitations(scenario, keep_log=keep_log)
        if not limitations:
            if passed_over:
                return name, f"auto: {passed_over[0]}"
            return name, f"auto: the {name} engine supports every feature this scenario uses"
        passed_over.append(limitations[0])
    raise AssertionError("the reference engine runs every scenario")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class Fallback:
    """Replications ``first`` to ``stop - 1``, handed back and run on the reference engine.

    ``records`` yields their records, in order.
    """

    first: int
    stop: int
    records: Iterator[ReplicationRecord]


class EngineRun:
    """The engine chosen for a run of ``scenario``, with the replications it hands back.

    ``name`` and ``reason`` say which engine was chosen and why
    (:func:`choose_engine`); :meth:`run` yields the results and gathers in
    :attr:`fallback` the ranges that ran on the reference engine.  Raises
    :class:`UsageError` as :func:`choose_engine` does.
    """

    def __init__(self, scenario: CompiledScenario, requested: str = "auto", *,
                 uncertainty: bool = False, keep_log: bool = False) -> None:
        self.scenario = scenario
        self.uncertainty = uncertainty
        self.keep_log = keep_log
        self.name, self.reason = choose_engine(scenario, requested, keep_log=keep_log)
        #: the replication ranges ``[first, stop)`` that ran on the reference engine instead
        self.fallback: list[tuple[int, int]] = []

    def run(self, keys: StreamKeys, first: int,
            count: int) -> Iterator[ReplicationRecord | ChunkRecords | Fallback]:
        """Yield the results of replications ``first`` to ``first + count - 1``, in order.

        What the engine hands back comes as a :class:`Fallback`, run on the
        reference engine.
        """
        engine = ENGINE_CLASSES[self.name](self.scenario, uncertainty=self.uncertainty)
        reference: ReferenceEngine | None = None
        for piece in engine.run(keys, first, count, keep_log=self.keep_log):
            if not isinstance(piece, Overflow):
                yield piece
                continue
            if reference is None:
                reference = ReferenceEngine(self.scenario, uncertainty=self.uncertainty)
            yield Fallback(piece.first, piece.stop, reference.run(
                keys, piece.first, piece.stop - piece.first, keep_log=self.keep_log))
            self.fallback = join_ranges([*self.fallback, (piece.first, piece.stop)])

    def explained(self, count: int) -> str:
        """Why the run of ``count`` replications ran where it did: the reason and the fallback."""
        return self.reason + fallback_note(self.fallback, count)


def trace(scenario: CompiledScenario, keys: StreamKeys, replication: int,
          requested: str = "auto", *, uncertainty: bool = False) -> tuple[ReplicationRecord, str]:
    """Replication ``replication`` with its event log, and the engine that ran it.

    The engine is chosen as for a run, so the record is the one a run of the
    same scenario, keys and engine gives it; one handed back runs on the
    reference engine, as in a run.  Raises :class:`UsageError` as
    :func:`choose_engine` does, :class:`SimulationError` when it fails.
    """
    name, _ = choose_engine(scenario, requested)
    record = ENGINE_CLASSES[name](scenario, uncertainty=uncertainty).trace(keys, replication)
    if isinstance(record, Overflow):
        reference = ReferenceEngine(scenario, uncertainty=uncertainty)
        return reference.trace(keys, replication), reference.name
    return record, name


def join_ranges(ranges: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Ranges ``[first, stop)`` in order, those that touch joined into one."""
    joined: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if joined and joined[-1][1] == low:
            joined[-1] = (joined[-1][0], high)
        else:
            joined.append((low, high))
    return joined


def fallback_note(fallback: Sequence[tuple[int, int]], count: int) -> str:
    """What ran on the reference engine, for ``engine_reason`` (empty when nothing did)."""
    if not fallback:
        return ""
    shown = ", ".join(f"{low}-{high - 1}" for low, high in fallback[:_FALLBACK_RANGES])
    if len(fallback) > _FALLBACK_RANGES:
        shown += f", ... ({len(fallback):,} ranges)"
    moved = sum(high - low for low, high in fallback)
    return (f"; replications {shown} ran on the reference engine ({moved:,} of {count:,}: "
            f"their blocks of {BLOCK_SIZE:,} have a replication with more pending instances "
            "than the batch engine's table holds)")
