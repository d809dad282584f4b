"""The work of one sweep point: a pure function from a task to a result row.

Executors ship a :class:`SweepContext` (the scenario's text and the run
options, the same for every point) once per worker and a small
:class:`PointTask` per point, and call :func:`evaluate_point`.  The result
depends only on those two, so it is the same in any process, on any
machine, in any order.

Point ``j``'s replication ``i`` draws from the stream keyed by
``(seed, j, i)``; with ``common_random_numbers`` every point draws from the
streams keyed by ``(seed, i)`` instead, as a sensitivity analysis wants, so
that a parameter which changes no replication changes no estimate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ..montecarlo.aggregate import Aggregator
from ..montecarlo.precision import run_to_precision
from ..montecarlo.results import RunResult
from ..montecarlo.runner import run
from ..results.points import OutcomeStats, PointResult
from ..scenario import Scenario, loads
from .points import fix_parameters

__all__ = ["OutcomeStats", "PointResult", "PointTask", "SweepContext", "evaluate_point"]


@dataclass(frozen=True)
class SweepContext:
    """What every point of a sweep shares: the scenario and how to run it."""

    scenario_text: str
    scenario_name: str
    sha256: str
    names: tuple[str, ...]
    seed: int
    replications: int
    uncertainty: bool = False
    precision: float | None = None
    max_replications: int | None = None
    engine: str | None = None
    common_random_numbers: bool = False

    @classmethod
    def of(cls, scenario: Scenario, names: tuple[str, ...], **options: Any) -> SweepContext:
        return cls(scenario.text, str(scenario.path or scenario.source_map.file or "<scenario>"),
                   scenario.sha256, names, **options)


@dataclass(frozen=True)
class PointTask:
    """One point: its index in the design and its parameter values (in ``names`` order)."""

    point: int
    values: tuple[float, ...]


_cache: dict[str, Scenario] = {}


def _scenario(context: SweepContext) -> Scenario:
    # Parsing once per process: a worker evaluates many points of the same scenario.
    scenario = _cache.get(context.sha256)
    if scenario is None:
        _cache.clear()
        scenario = _cache[context.sha256] = loads(context.scenario_text, context.scenario_name)
    return scenario


def point_statistics(aggregator: Aggregator) -> tuple[tuple[OutcomeStats, ...], float]:
    """The per-outcome statistics and mean maximum level that a sweep row reports.

    Taken from the run summary itself, so a sweep row and ``escalate run`` agree to the bit.
    """
    summary = aggregator.summary()
    stats = []
    for outcome in summary["outcomes"].values():
        days = outcome["time"]["days"]
        low, high = outcome["ci95"]
        stats.append(OutcomeStats(outcome["probability"], low, high, days["median"],
                                  days["p05"], days["p95"]))
    return tuple(stats), summary["max_level"]["mean"]


def _run(context: SweepContext, task: PointTask) -> RunResult:
    scenario = _scenario(context)
    compiled = scenario.compile(dict(zip(context.names, task.values, strict=True)))
    if context.uncertainty:
        compiled = fix_parameters(compiled, context.names)
    # Passed only when chosen, so the runner's own default applies otherwise.
    options: dict[str, Any] = {} if context.engine is None else {"engine": context.engine}
    point = None if context.common_random_numbers else task.point
    if context.precision is None:
        return run(compiled, replications=context.replications, seed=context.seed,
                   uncertainty=context.uncertainty, point=point, keep_replications=False,
                   **options)
    return run_to_precision(compiled, precision=context.precision, block=context.replications,
                            max_replications=context.max_replications or context.replications,
                            seed=context.seed, uncertainty=context.uncertainty,
                            point=point, **options)


def evaluate_point(context: SweepContext, task: PointTask) -> PointResult:
    """Run one point's replications and return its row.

    A point whose simulation fails is returned with its error rather than
    raised, so that one bad corner of a design does not stop a sweep.
    """
    started = time.perf_counter()
    try:
        result = _run(context, task)
    # Any failure of the simulation, not just SimulationError: an unexpected one in one
    # corner of a design is recorded in that point's row, and the sweep goes on.
    except Exception as exc:  # noqa: BLE001
        return PointResult(task.point, task.values, 0, error=f"{type(exc).__name__}: {exc}",
                           seconds=time.perf_counter() - started)
    outcomes, mean_level = point_statistics(result.aggregator)
    return PointResult(task.point, task.values, result.replications, outcomes, mean_level,
                       engine=result.engine, seconds=time.perf_counter() - started)
