"""Streaming aggregation of replication records into a run summary.

Memory does not depend on the number of replications: counts, fixed-width
time histograms and a bounded table of paths.  Everything is integer counts,
so aggregating replications in any grouping and merging gives exactly the
same summary as one pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..compile.compiled import CompiledScenario
from ..engine.records import ReplicationRecord
from .stats import histogram_quantile, wilson_interval

__all__ = ["MAX_PATHS", "Aggregator", "time_bins"]

#: distinct paths counted exactly; beyond that, new paths are counted together as "other"
MAX_PATHS = 20_000
#: paths listed in a summary
TOP_PATHS = 10
_MAX_BINS = 16_000
_BINS_PER_DAY = 8


def time_bins(horizon: float) -> tuple[int, float]:
    """Return the number and width (days) of the time-histogram bins for a horizon.

    Bins are an eighth of a day wide while that needs no more than 16,000 bins,
    so that daily cumulative probabilities fall on bin edges exactly.
    """
    if horizon * _BINS_PER_DAY <= _MAX_BINS:
        bins = max(1, math.ceil(horizon * _BINS_PER_DAY))
        return bins, 1.0 / _BINS_PER_DAY
    return _MAX_BINS, horizon / _MAX_BINS


class Aggregator:
    """Accumulates replication records of one scenario; :meth:`summary` reports them."""

    def __init__(self, scenario: CompiledScenario) -> None:
        self.scenario = scenario
        self.bins, self.width = time_bins(scenario.horizon)
        outcomes = len(scenario.outcomes)
        levels = len(scenario.ladder)
        self.replications = 0
        self.outcome_counts = np.zeros(outcomes, dtype=np.int64)
        self.outcome_times = np.zeros((outcomes, self.bins), dtype=np.int64)
        # The extreme values seen in each bin: quantiles interpolate between them.
        self.outcome_lows = np.full((outcomes, self.bins), np.inf)
        self.outcome_highs = np.full((outcomes, self.bins), -np.inf)
        self.max_levels = np.zeros(levels, dtype=np.int64)
        self.final_levels = np.zeros(levels, dtype=np.int64)
        self.terminals = dict.fromkeys(scenario.terminals, 0)
        self.end_times = np.zeros(self.bins, dtype=np.int64)
        self.end_lows = np.full(self.bins, np.inf)
        self.end_highs = np.full(self.bins, -np.inf)
        self.events_fired = 0
        self.events_fired_max = 0
        self.events_skipped = 0
        self.paths: dict[tuple[int, ...], int] = {}
        self.other_paths = 0

    def _bin(self, time: float) -> int:
        return min(int(time / self.width), self.bins - 1)

    def add(self, record: ReplicationRecord) -> None:
        """Count one replication."""
        self.replications += 1
        for k, time in enumerate(record.outcome_times):
            if not math.isnan(time):
                b = self._bin(time)
                self.outcome_counts[k] += 1
                self.outcome_times[k, b] += 1
                self.outcome_lows[k, b] = min(self.outcome_lows[k, b], time)
                self.outcome_highs[k, b] = max(self.outcome_highs[k, b], time)
        self.max_levels[record.max_level] += 1
        self.final_levels[record.final_level] += 1
        self.terminals[record.terminal] += 1
        b = self._bin(record.end_time)
        self.end_times[b] += 1
        self.end_lows[b] = min(self.end_lows[b], record.end_time)
        self.end_highs[b] = max(self.end_highs[b], record.end_time)
        self.events_fired += record.events_fired
        self.events_fired_max = max(self.events_fired_max, record.events_fired)
        self.events_skipped += record.events_skipped
        self._count_path(record.path, 1)

    def add_arrays(self, *, outcome_times: np.ndarray, max_levels: np.ndarray,
                   final_levels: np.ndarray, terminals: np.ndarray, end_times: np.ndarray,
                   events_fired: np.ndarray, events_skipped: np.ndarray,
                   paths: Sequence[tuple[int, ...]] = (),
                   path_counts: Sequence[tuple[tuple[int, ...], int]] = ()) -> None:
        """Count a block of replications given as arrays (for engines that run in blocks).

        ``outcome_times`` has one row per replication and NaN where an outcome did
        not occur; ``terminals`` holds indices into the scenario's terminal labels.
        Paths come either one per replication (``paths``) or already counted
        (``path_counts``: each distinct path with its count, in order of first appearance).
        """
        count = len(max_levels)
        self.replications += count
        occurred = ~np.isnan(outcome_times)
        self.outcome_counts += occurred.sum(axis=0)
        for k in range(outcome_times.shape[1]):
            times = outcome_times[occurred[:, k], k]
            bins = self._bins(times)
            self.outcome_times[k] += np.bincount(bins, minlength=self.bins)
            np.minimum.at(self.outcome_lows[k], bins, times)
            np.maximum.at(self.outcome_highs[k], bins, times)
        levels = len(self.scenario.ladder)
        self.max_levels += np.bincount(max_levels, minlength=levels)
        self.final_levels += np.bincount(final_levels, minlength=levels)
        for label, n in zip(self.scenario.terminals,
                            np.bincount(terminals, minlength=len(self.scenario.terminals)),
                            strict=True):
            self.terminals[label] += int(n)
        bins = self._bins(end_times)
        self.end_times += np.bincount(bins, minlength=self.bins)
        np.minimum.at(self.end_lows, bins, end_times)
        np.maximum.at(self.end_highs, bins, end_times)
        self.events_fired += int(events_fired.sum())
        if count:
            self.events_fired_max = max(self.events_fired_max, int(events_fired.max()))
        self.events_skipped += int(events_skipped.sum())
        for path in paths:
            self._count_path(path, 1)
        for path, n in path_counts:
            self._count_path(path, n)

    def _bins(self, times: np.ndarray) -> np.ndarray:
        return np.minimum((times / self.width).astype(np.int64), self.bins - 1)

    def _count_path(self, path: tuple[int, ...], count: int) -> None:
        if path in self.paths:
            self.paths[path] += count
        elif len(self.paths) < MAX_PATHS:
            self.paths[path] = count
        else:
            self.other_paths += count

    def merge(self, other: Aggregator) -> None:
        """Add the counts of ``other`` (replications of the same scenario) to these."""
        self.replications += other.replications
        self.outcome_counts += other.outcome_counts
        self.outcome_times += other.outcome_times
        np.minimum(self.outcome_lows, other.outcome_lows, out=self.outcome_lows)
        np.maximum(self.outcome_highs, other.outcome_highs, out=self.outcome_highs)
        self.max_levels += other.max_levels
        self.final_levels += other.final_levels
        for label, n in other.terminals.items():
            self.terminals[label] += n
        self.end_times += other.end_times
        np.minimum(self.end_lows, other.end_lows, out=self.end_lows)
        np.maximum(self.end_highs, other.end_highs, out=self.end_highs)
        self.events_fired += other.events_fired
        self.events_fired_max = max(self.events_fired_max, other.events_fired_max)
        self.events_skipped += other.events_skipped
        for path, n in sorted(other.paths.items()):
            self._count_path(path, n)
        self.other_paths += other.other_paths

    # -- reporting ---------------------------------------------------------------------------

    def _proportion(self, count: int) -> dict[str, Any]:
        n = self.replications
        low, high = wilson_interval(count, n)
        return {"count": int(count), "probability": count / n if n else math.nan,
                "ci95": [low, high]}

    def _times(self, counts: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> dict[str, Any]:
        quantiles = {name: histogram_quantile(counts, self.width, q, lows, highs)
                     for name, q in (("p05", 0.05), ("median", 0.5), ("p95", 0.95))}
        result: dict[str, Any] = {"days": {k: _finite(v) for k, v in quantiles.items()}}
        if self.scenario.start is not None:
            result["dates"] = {k: _date(self.scenario, v) for k, v in quantiles.items()}
        return result

    def cumulative(self, k: int) -> dict[str, list[float]]:
        """Probability that outcome ``k`` has occurred by each day (or each of 400 steps)."""
        n = max(self.replications, 1)
        step = round(1 / self.width) if self.width < 1 else math.ceil(self.bins / 400)
        edges = [*range(step, self.bins, step), self.bins]
        counts = np.cumsum(self.outcome_times[k])
        return {"days": [0.0, *(edge * self.width for edge in edges)],
                "probability": [0.0, *(int(counts[edge - 1]) / n for edge in edges)]}

    def summary(self) -> dict[str, Any]:
        """Return the summary as JSON-ready data (see ``docs/outputs.md``)."""
        scenario = self.scenario
        n = self.replications
        outcomes = {}
        for k, outcome in enumerate(scenario.outcomes):
            entry = {"label": outcome.label, "kind": outcome.kind,
                     **self._proportion(int(self.outcome_counts[k]))}
            entry["time"] = self._times(self.outcome_times[k], self.outcome_lows[k],
                                       self.outcome_highs[k])
            entry["cumulative"] = self.cumulative(k)
            outcomes[outcome.name] = entry
        levels = []
        at_least = []
        tail = int(self.max_levels.sum())
        for level, name in enumerate(scenario.ladder):
            levels.append({"level": level, "name": name,
                           **self._proportion(int(self.max_levels[level]))})
            at_least.append({"level": level, "name": name, **self._proportion(tail)})
            tail -= int(self.max_levels[level])
        mean_level = float(np.dot(np.arange(len(scenario.ladder)), self.max_levels)) / n if n else math.nan
        paths = sorted(self.paths.items(), key=lambda item: (-item[1], item[0]))[:TOP_PATHS]
        names = [event.name for event in scenario.events]
        return {
            "scenario": scenario.name,
            "replications": n,
            "horizon_days": scenario.horizon,
            "start": scenario.start.isoformat() if scenario.start else None,
            "time_resolution_days": self.width,
            "outcomes": outcomes,
            "max_level": {"mean": mean_level, "distribution": levels, "at_least": at_least},
            "final_level": [{"level": i, "name": name, **self._proportion(int(c))}
                            for i, (name, c) in enumerate(zip(scenario.ladder, self.final_levels,
                                                               strict=True))],
            "terminals": {label: self._proportion(count) for label, count in self.terminals.items()},
            "end_time": self._times(self.end_times, self.end_lows, self.end_highs),
            "runaway": int(self.terminals.get("max_events", 0)),
            "events": {"fired_mean": self.events_fired / n if n else math.nan,
                       "fired_max": self.events_fired_max,
                       "skipped_mean": self.events_skipped / n if n else math.nan},
            "paths": [{"events": [names[i] for i in path], **self._proportion(count)}
                      for path, count in paths],
            "distinct_paths": len(self.paths) + (1 if self.other_paths else 0),
            "other_paths": self.other_paths,
        }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _date(scenario: CompiledScenario, days: float) -> str | None:
    date = scenario.date_of(days)
    return date.isoformat() if date else None
