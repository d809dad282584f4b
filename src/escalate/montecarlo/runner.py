"""Running a scenario many times: keyed streams in, streamed records out.

:func:`run` is the library's main entry point, and its ``engine`` argument
the one switch between engines (:func:`~escalate.engine.selection.choose_engine`).
On the reference engine each replication gets its own random stream
(:func:`~escalate.montecarlo.seeding.replication_rng`); with ``uncertainty``
it first draws every uncertain parameter from that stream (two-level Monte
Carlo), then runs.  The batch engine runs chunks of replications on streams
keyed by block (:class:`~escalate.montecarlo.seeding.BlockStreams`).  Results
go to the :class:`~escalate.montecarlo.aggregate.Aggregator` and to optional
sinks as they come, so nothing grows with the number of replications unless
``keep_replications`` asks for the per-replication arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..compile.compiled import CompiledScenario
from ..distributions import draw_uncertain
from ..engine.batch import BLOCK_SIZE, BatchEngine, Overflow
from ..engine.records import ChunkRecords, ReplicationRecord
from ..engine.reference import ReferenceEngine
from ..engine.selection import choose_engine
from ..errors import UsageError
from ..scenario import Scenario, load
from ..spec.suggest import did_you_mean
from .aggregate import Aggregator
from .seeding import (
    BlockStreams,
    SeedLike,
    check_stream_keys,
    is_whole_number,
    normalize_seed,
    replication_rng,
)

__all__ = ["RecordSink", "ReplicationTable", "RunResult", "check_callback", "check_flag",
           "check_replications", "check_scenario", "check_sinks", "iter_records",
           "normalize_overrides", "run"]

MAX_REPLICATIONS = 10**9
# replication ranges that ran on the reference engine listed in engine_reason at most
_FALLBACK_RANGES = 20


class RecordSink(Protocol):
    """Anything that takes replication records as they are produced (a CSV writer, say)."""

    def write(self, record: ReplicationRecord) -> None: ...


class ReplicationTable:
    """Per-replication results as numpy columns (kept only when asked for).

    Columns are kept as numpy blocks, about ``8 * (7 + outcomes + uncertain
    parameters)`` bytes per replication (the paths are in ``replications.csv``
    only): a chunk of the batch engine is added
    as arrays; the reference engine's records are gathered a few thousand at
    a time and packed into a block.
    """

    _PACK = 4096  # records of the reference engine held as Python objects at most

    def __init__(self, scenario: CompiledScenario) -> None:
        self.scenario = scenario
        self._codes = {label: code for code, label in enumerate(scenario.terminals)}
        self._blocks: list[tuple[np.ndarray, ...]] = []
        self._records: list[ReplicationRecord] = []

    def __len__(self) -> int:
        return sum(len(block[0]) for block in self._blocks) + len(self._records)

    def append(self, record: ReplicationRecord) -> None:
        self._records.append(record)
        if len(self._records) >= self._PACK:
            self._pack()

    def extend(self, chunk: ChunkRecords) -> None:
        """Append the replications of a chunk of the batch engine."""
        self._pack()
        self._add(np.arange(chunk.first, chunk.first + len(chunk)), chunk.terminal,
                  chunk.end_time, chunk.max_level, chunk.final_level, chunk.events_fired,
                  chunk.events_skipped, chunk.outcome_times, chunk.parameters)

    def _pack(self) -> None:
        """Turn the reference engine's records gathered so far into a block."""
        records, self._records = self._records, []
        if records:
            self._add([r.index for r in records], [self._codes[r.terminal] for r in records],
                      [r.end_time for r in records], [r.max_level for r in records],
                      [r.final_level for r in records], [r.events_fired for r in records],
                      [r.events_skipped for r in records], [r.outcome_times for r in records],
                      [r.parameters for r in records])

    def _add(self, index: Any, terminal: Any, end_time: Any, max_level: Any, final_level: Any,
             events_fired: Any, events_skipped: Any, outcome_times: Any,
             parameters: Any) -> None:
        """Add one block of columns (arrays or lists, one entry per replication)."""
        count = len(index)
        self._blocks.append((
            np.asarray(index, dtype=np.int64), np.asarray(terminal, dtype=np.intp),
            np.asarray(end_time, dtype=float), np.asarray(max_level, dtype=np.int64),
            np.asarray(final_level, dtype=np.int64), np.asarray(events_fired, dtype=np.int64),
            np.asarray(events_skipped, dtype=np.int64),
            np.asarray(outcome_times, dtype=float).reshape(count, len(self.scenario.outcomes)),
            np.asarray(parameters, dtype=float).reshape(count, -1)))

    def arrays(self) -> dict[str, np.ndarray]:
        """Columns by name: one per field, and ``<outcome>`` (bool) and ``<outcome>_day``."""
        self._pack()
        scenario = self.scenario
        if self._blocks:
            index, terminal, end, top, final, fired, skipped, times, drawn = (
                np.concatenate(parts) for parts in zip(*self._blocks, strict=True))
        else:
            index, terminal, top, final, fired, skipped = (np.zeros(0, dtype=np.int64)
                                                           for _ in range(6))
            end = np.zeros(0)
            times = np.zeros((0, len(scenario.outcomes)))
            drawn = np.zeros((0, 0))
        columns: dict[str, np.ndarray] = {
            "replication": index,
            "terminal": np.asarray(scenario.terminals, dtype=object)[terminal],
            "end_day": end,
            "max_level": top,
            "final_level": final,
            "events_fired": fired,
            "events_skipped": skipped,
        }
        for k, outcome in enumerate(scenario.outcomes):
            columns[outcome.name] = ~np.isnan(times[:, k])
            columns[f"{outcome.name}_day"] = times[:, k]
        uncertain = scenario.uncertain_parameters
        if uncertain and drawn.shape[1]:
            for j, p in enumerate(uncertain):
                columns[f"param_{scenario.parameter_names[p]}"] = drawn[:, j]
        return columns


@dataclass
class RunResult:
    """What :func:`run` returns: the summary, and per-replication arrays when kept."""

    scenario: CompiledScenario
    seed: int
    replications: int
    first: int
    uncertainty: bool
    engine: str
    aggregator: Aggregator
    table: ReplicationTable | None = None
    engine_reason: str = ""
    #: the replication ranges ``[first, stop)`` that ran on the reference engine instead
    #: of the batch engine (blocks that outgrew its table), in order
    fallback: tuple[tuple[int, int], ...] = ()
    #: how an adaptive run (:func:`~escalate.montecarlo.precision.run_to_precision`) ended
    precision: dict[str, Any] | None = None

    def __repr__(self) -> str:
        # Short, for a notebook cell: the run and its outcomes' probabilities.
        counts = self.aggregator.outcome_counts
        shown = ", ".join(f"{o.name}={counts[k] / self.replications:.4g}"
                          for k, o in enumerate(self.scenario.outcomes))
        return (f"RunResult(scenario={self.scenario.name!r}, replications={self.replications}, "
                f"seed={self.seed}, engine={self.engine!r}, uncertainty={self.uncertainty}, "
                f"probabilities: {shown})")

    @property
    def summary(self) -> dict[str, Any]:
        """The run summary (probabilities with 95% Wilson intervals, times, levels, paths).

        An adaptive run adds its ``precision`` block: target, half-width reached, outcome.
        """
        data = self.aggregator.summary()
        data.update(seed=self.seed, first_replication=self.first, uncertainty=self.uncertainty,
                    engine=self.engine, engine_reason=self.engine_reason,
                    overrides=dict(self.scenario.overrides))
        if self.precision is not None:
            data["precision"] = dict(self.precision)
        return data

    def probability(self, outcome: str) -> float:
        """The estimated probability of ``outcome``; raises UsageError for an unknown name."""
        names = [o.name for o in self.scenario.outcomes]
        if not isinstance(outcome, str):
            raise UsageError(f"an outcome is given by its name, one of {', '.join(names)}; "
                             f"found {outcome!r}")
        if outcome not in names:
            raise UsageError(f"no outcome {outcome!r} in this run ("
                             f"{did_you_mean(outcome, names, kind='outcomes')})")
        index = names.index(outcome)
        return float(self.aggregator.outcome_counts[index]) / self.replications

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """Per-replication columns; raises UsageError if the run did not keep them."""
        if self.table is None:
            raise UsageError("this run did not keep per-replication arrays "
                             "(pass keep_replications=True)")
        return self.table.arrays()


def check_scenario(scenario: object, *, compiled: bool = True) -> None:
    """Raise :class:`UsageError` unless ``scenario`` is a Scenario, a file path (or compiled)."""
    kinds = (Scenario, str, Path, CompiledScenario) if compiled else (Scenario, str, Path)
    if not isinstance(scenario, kinds):
        also = ", a CompiledScenario" if compiled else ""
        raise UsageError(
            "scenario must be a Scenario (escalate.load(path) or escalate.loads(yaml_text))"
            f"{also} or the path of a scenario file, found {_described(scenario)}")


def normalize_overrides(overrides: object) -> dict[str, Any]:
    """Return ``overrides`` as a dict of parameter names to Python values.

    Numpy scalars become the Python numbers and bools they hold, so they are
    taken (and recorded) as those would be.  Raises :class:`UsageError` for
    anything but a mapping with string keys; the values are checked when the
    scenario is compiled.
    """
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise UsageError("overrides must be a mapping of parameter names to values, such as "
                         f"{{'p_retaliate': 0.1}}, found {_described(overrides)}")
    plain: dict[str, Any] = {}
    for name, value in overrides.items():
        if not isinstance(name, str):
            raise UsageError(f"overrides: a parameter is named by a string, found {name!r}")
        plain[name] = value.item() if isinstance(value, np.generic) else value
    return plain


def _described(value: object) -> str:
    """``value``'s repr, or its type when that is long."""
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def _compiled(scenario: Scenario | CompiledScenario | str | Path,
              overrides: Mapping[str, Any] | None) -> CompiledScenario:
    check_scenario(scenario)
    plain = normalize_overrides(overrides)
    if isinstance(scenario, str | Path):
        scenario = load(scenario)
    if isinstance(scenario, Scenario):
        return scenario.compile(plain)
    if plain:
        raise UsageError("apply overrides when compiling: Scenario.compile(overrides)")
    return scenario


def draw_parameters(scenario: CompiledScenario, rng: np.random.Generator,
                    values: list[Any]) -> tuple[float, ...]:
    """Draw every uncertain parameter into ``values``; return the draws in parameter order.

    Draws are clipped to the parameter's declared ``range``.
    """
    drawn = []
    offset = scenario.parameter_offset
    for p in scenario.uncertain_parameters:
        uncertainty = scenario.parameter_uncertainty[p]
        assert uncertainty is not None
        value = float(draw_uncertain(uncertainty, rng))
        bounds = scenario.parameter_ranges[p]
        if bounds is not None:
            value = min(max(value, bounds[0]), bounds[1])
        values[offset + p] = value
        drawn.append(value)
    return tuple(drawn)


def iter_records(scenario: CompiledScenario, seed: int, first: int, count: int, *,
                 uncertainty: bool = False, point: int | None = None,
                 keep_log: bool = False) -> Iterator[ReplicationRecord]:
    """Yield the records of replications ``first`` to ``first + count - 1`` on the reference engine."""
    engine = ReferenceEngine(scenario)
    for index in range(first, first + count):
        rng = replication_rng(seed, index, point)
        values = scenario.initial_values()
        drawn = draw_parameters(scenario, rng, values) if uncertainty else ()
        yield engine.run(index, rng, values, keep_log=keep_log, parameters=drawn)


def check_replications(replications: object) -> int:
    """Return ``replications`` as an int; raise :class:`UsageError` unless a whole number in range."""
    if not is_whole_number(replications) or not 1 <= replications <= MAX_REPLICATIONS:
        raise UsageError(f"replications must be a whole number from 1 to {MAX_REPLICATIONS:,}, "
                         f"found {replications!r}")
    return int(replications)


def check_callback(value: object, name: str) -> None:
    """Raise :class:`UsageError` unless ``value`` is None or can be called."""
    if value is not None and not callable(value):
        raise UsageError(f"{name} must be a function (or None), found {_described(value)}")


def check_sinks(sinks: object) -> None:
    """Raise :class:`UsageError` unless ``sinks`` is a sequence of objects with ``write``."""
    if isinstance(sinks, str | bytes) or not isinstance(sinks, Sequence):
        raise UsageError(f"sinks must be a list of record sinks, found {_described(sinks)}")
    for sink in sinks:
        if not callable(getattr(sink, "write", None)):
            raise UsageError(f"sinks: each sink needs a write(record) method, found "
                             f"{_described(sink)}")


def check_flag(value: object, name: str) -> bool:
    """Return ``value`` as a bool; raise :class:`UsageError` unless it is one (or numpy's).

    A string such as ``"no"`` is refused rather than read as true.
    """
    if not isinstance(value, bool | np.bool_):
        raise UsageError(f"{name} must be True or False, found {value!r}")
    return bool(value)


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
    ``"reference"`` or ``"batch"``; the result says which ran and why.  The
    engines give the same distributions but not the same numbers.
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
    compiled = _compiled(scenario, overrides)
    seed_value = normalize_seed(seed)
    name, reason = choose_engine(compiled, engine, keep_log=keep_log)
    aggregator = Aggregator(compiled)
    table = ReplicationTable(compiled) if keep_replications else None
    if name == "batch":
        fallback = _run_batch(compiled, seed_value, first, replications, point, uncertainty,
                              aggregator, table, sinks, progress)
        return RunResult(compiled, seed_value, replications, first, uncertainty, name,
                         aggregator, table, reason + fallback_note(fallback, replications),
                         fallback=tuple(fallback))
    step = max(1, min(10_000, replications // 100))
    done = 0
    for record in iter_records(compiled, seed_value, first, replications, point=point,
                               uncertainty=uncertainty, keep_log=keep_log):
        aggregator.add(record)
        if table is not None:
            table.append(record)
        for sink in sinks:
            sink.write(record)
        done += 1
        if progress is not None and done % step == 0:
            progress(step)
    if progress is not None and done % step:
        progress(done % step)
    return RunResult(compiled, seed_value, replications, first, uncertainty, "reference",
                     aggregator, table, reason)


def _run_batch(compiled: CompiledScenario, seed: int, first: int, count: int,
               point: int | None, uncertainty: bool, aggregator: Aggregator,
               table: ReplicationTable | None, sinks: Sequence[RecordSink],
               progress: Callable[[int], None] | None) -> list[tuple[int, int]]:
    """Run replications on the batch engine into ``aggregator``; return the ranges that fell back.

    The replications of a block that outgrows the batch engine's pending table
    run on the reference engine instead (recorded in the note), never dropped;
    the other blocks run on the batch engine, whatever the range asked for.
    """
    engine = BatchEngine(compiled, uncertainty=uncertainty)
    streams = BlockStreams(seed, point)
    fallback: list[tuple[int, int]] = []
    for piece in engine.run(streams, first, count):
        if isinstance(piece, Overflow):
            for record in iter_records(compiled, seed, piece.first, piece.stop - piece.first,
                                       point=point, uncertainty=uncertainty):
                aggregator.add(record)
                if table is not None:
                    table.append(record)
                for sink in sinks:
                    sink.write(record)
            if progress is not None:
                progress(piece.stop - piece.first)
            fallback = join_ranges([*fallback, (piece.first, piece.stop)])
            continue
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
        if progress is not None:
            progress(len(piece))
    return fallback


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


def merge(results: Sequence[RunResult]) -> Aggregator:
    """Merge the aggregates of runs over disjoint replication ranges of one scenario."""
    if not results:
        raise UsageError("nothing to merge")
    merged = Aggregator(results[0].scenario)
    for result in sorted(results, key=lambda r: r.first):
        merged.merge(result.aggregator)
    return merged

