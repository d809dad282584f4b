"""Throughput of a 200-point sweep of the article scenario: one process against two workers.

Run with ``pytest benchmarks --benchmark-only -k sweep -s``; the default pytest
options skip benchmarks.  It prints (and stores in the benchmark's
``extra_info``) the replications per second of a serial sweep and of
``workers=2``, and the parallel efficiency: the speed-up divided by the
number of workers.  Wall times include starting the worker processes.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import escalate
from escalate.sweeps.executors import available_cores

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "scenarios" / "kursk-atacms-2024.yaml"
POINTS = 200
REPLICATIONS = 100
SEED = 20241117
#: a Latin hypercube over two of the article's assumptions
ARTICLE_VARY = {"p_hub_strike": "dist", "p_intensify": "0.1:0.5"}


@pytest.fixture(scope="module")
def scenario() -> tuple[escalate.Scenario, dict[str, str]]:
    """The bundled article scenario and the parameters the sweep varies."""
    return escalate.load(ARTICLE), ARTICLE_VARY


def _sweep(scenario: escalate.Scenario, vary: dict[str, str], workers: int) -> float:
    started = time.perf_counter()
    table = escalate.sweep(scenario, vary, design="lhs", points=POINTS,
                           replications=REPLICATIONS, seed=SEED, workers=workers)
    assert (table["status"] == "ok").all()
    return time.perf_counter() - started


@pytest.mark.benchmark(group="sweep")
def test_sweep_serial_against_two_workers(
        benchmark: BenchmarkFixture, scenario: tuple[escalate.Scenario, dict[str, str]]) -> None:
    """Replications per second of a 200-point LHS sweep, serial and with two workers."""
    compiled, vary = scenario
    serial_seconds = _sweep(compiled, vary, workers=1)
    benchmark.pedantic(_sweep, args=(compiled, vary, 2), rounds=1, iterations=1)
    parallel_seconds = benchmark.stats.stats.median
    replications = POINTS * REPLICATIONS
    serial_rate = replications / serial_seconds
    parallel_rate = replications / parallel_seconds
    efficiency = parallel_rate / serial_rate / 2
    benchmark.extra_info.update(
        scenario=compiled.name, points=POINTS, replications_per_point=REPLICATIONS,
        cores_available=available_cores(),
        serial_seconds=round(serial_seconds, 2), parallel_seconds=round(parallel_seconds, 2),
        serial_replications_per_second=round(serial_rate),
        parallel_replications_per_second=round(parallel_rate),
        parallel_efficiency=round(efficiency, 3))
    print(f"\n{compiled.name}: {POINTS} points x {REPLICATIONS} replications; "
          f"serial {serial_seconds:.1f} s ({serial_rate:,.0f} replications/s), "
          f"--workers 2 {parallel_seconds:.1f} s ({parallel_rate:,.0f} replications/s), "
          f"parallel efficiency {efficiency:.0%} on {available_cores()} cores available")
