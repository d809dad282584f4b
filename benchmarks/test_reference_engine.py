"""Throughput of the reference engine, in replications per second.

Run with ``pytest benchmarks --benchmark-only -k reference``; the default
pytest options skip benchmarks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import escalate
from escalate.engine import ReferenceEngine, StreamKeys

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "scenarios" / "kursk-atacms-2024.yaml"
REPLICATIONS = 500
SEED = 20241117


@pytest.fixture(scope="module")
def scenario() -> escalate.Scenario:
    """The bundled article scenario."""
    return escalate.load(ARTICLE)


@pytest.mark.benchmark(group="reference engine")
def test_reference_engine_replications(benchmark: BenchmarkFixture,
                                       scenario: escalate.Scenario) -> None:
    """Replications per second of the reference engine, with outcomes counted as a run does."""
    compiled = scenario.compiled

    def replicate() -> int:
        return sum(record.events_fired
                   for record in ReferenceEngine(compiled).run(StreamKeys(SEED), 0, REPLICATIONS))

    events = benchmark.pedantic(replicate, rounds=5, iterations=1, warmup_rounds=1)
    seconds = benchmark.stats.stats.median
    benchmark.extra_info.update(
        scenario=compiled.name,
        replications=REPLICATIONS,
        replications_per_second=round(REPLICATIONS / seconds),
        events_per_second=round(events / seconds),
    )
    assert events > 0
