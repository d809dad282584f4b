"""What a run leaves: its summary (:class:`RunResult`) and, when kept, its per-replication columns.

:class:`ReplicationTable` gathers the records of either engine as numpy
blocks; :func:`merge` joins the aggregates of runs over disjoint replication
ranges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..compile.compiled import CompiledScenario
from ..engine.records import ChunkRecords, ReplicationRecord
from ..errors import UsageError
from ..spec.suggest import did_you_mean
from .aggregate import Aggregator

__all__ = ["ReplicationTable", "RunResult", "merge"]


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
    """What :func:`~escalate.montecarlo.runner.run` returns: the summary, and
    per-replication arrays when kept."""

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


def merge(results: Sequence[RunResult]) -> Aggregator:
    """Merge the aggregates of runs over disjoint replication ranges of one scenario."""
    if not results:
        raise UsageError("nothing to merge")
    merged = Aggregator(results[0].scenario)
    for result in sorted(results, key=lambda r: r.first):
        merged.merge(result.aggregator)
    return merged

