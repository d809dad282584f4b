"""Both engines side by side, the reference engine against a hand-written model, and memory.

For each bundled scenario: replications and events per second of the
reference engine and of the batch engine, and their ratio; on the article
scenario, the reference engine against the same scenario written by hand on
simpy (``handwritten_simpy.py``); the batch engine's peak memory (RSS, in a
subprocess) at 10^6 and 10^7 replications.  Targets: batch >= 30x reference
on the article scenario, >= 10 million events per second, peak memory below
300 MB at 10^7 replications, reference no more than 2x slower than the
hand-written model.  The figures go into ``extra_info`` (``--benchmark-json``)
and are printed; ``docs/performance.md`` reads them.

Run with ``pytest benchmarks --benchmark-only -s``; the default options skip
benchmarks.  Measure on an otherwise idle machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import escalate
from escalate.montecarlo.runner import run

sys.path.insert(0, str(Path(__file__).resolve().parent))
import handwritten_simpy

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))
ARTICLE = ROOT / "scenarios" / "kursk-atacms-2024.yaml"
SEED = 20241117
REFERENCE_REPLICATIONS = 2_000
BATCH_REPLICATIONS = 2**18
# What each benchmark measured, for the ratios of the ones that follow it.
MEASURED: dict[tuple[str, str], float] = {}


def _loadable(path: Path) -> escalate.Scenario | None:
    try:
        return escalate.load(path)
    except escalate.ScenarioError:
        return None


def _report(benchmark: BenchmarkFixture, key: tuple[str, str], replications: int,
            events: int, **extra: Any) -> float:
    seconds = benchmark.stats.stats.min
    per_second = replications / seconds
    MEASURED[key] = per_second
    benchmark.extra_info.update(scenario=key[0], engine=key[1], replications=replications,
                                replications_per_second=round(per_second),
                                events_per_second=round(events / seconds), **extra)
    print(f"\n{key[1]:>12} on {key[0]}: {per_second:,.0f} replications/s, "
          f"{events / seconds:,.0f} events/s", *(f"{k} {v}" for k, v in extra.items()))
    return per_second


@pytest.mark.benchmark(group="yardstick")
def test_handwritten_simpy_model(benchmark: BenchmarkFixture) -> None:
    """The article scenario written by hand on simpy: the yardstick of the reference engine."""
    def replicate() -> int:
        return handwritten_simpy.run(SEED, REFERENCE_REPLICATIONS)[1]

    events = benchmark.pedantic(replicate, rounds=3, iterations=1, warmup_rounds=1)
    _report(benchmark, (ARTICLE.stem, "handwritten"), REFERENCE_REPLICATIONS, events)


@pytest.mark.benchmark(group="engines")
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_reference_engine(benchmark: BenchmarkFixture, path: Path) -> None:
    """Replications and events per second of the reference engine."""
    scenario = _loadable(path)
    if scenario is None:
        pytest.skip(f"{path.name} does not load")

    def replicate() -> int:
        result = run(scenario, replications=REFERENCE_REPLICATIONS, seed=SEED,
                     engine="reference", keep_replications=False)
        return result.aggregator.events_fired

    events = benchmark.pedantic(replicate, rounds=3, iterations=1, warmup_rounds=1)
    extra = {}
    yardstick = MEASURED.get((path.stem, "handwritten"))
    if yardstick is not None:
        extra["slower_than_handwritten"] = round(yardstick / (
            REFERENCE_REPLICATIONS / benchmark.stats.stats.min), 2)
    _report(benchmark, (path.stem, "reference"), REFERENCE_REPLICATIONS, events, **extra)


@pytest.mark.benchmark(group="engines")
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_batch_engine(benchmark: BenchmarkFixture, path: Path) -> None:
    """Replications and events per second of the batch engine, and its speed-up."""
    scenario = _loadable(path)
    if scenario is None:
        pytest.skip(f"{path.name} does not load")

    def replicate() -> int:
        result = run(scenario, replications=BATCH_REPLICATIONS, seed=SEED, engine="batch",
                     keep_replications=False)
        return result.aggregator.events_fired

    events = benchmark.pedantic(replicate, rounds=3, iterations=1, warmup_rounds=1)
    extra = {}
    reference = MEASURED.get((path.stem, "reference"))
    if reference is not None:
        extra["speedup"] = round(BATCH_REPLICATIONS / benchmark.stats.stats.min / reference, 1)
    _report(benchmark, (path.stem, "batch"), BATCH_REPLICATIONS, events, **extra)


PEAK_RSS = textwrap.dedent("""
    import json, resource, sys, time
    import escalate
    replications = int(sys.argv[2])
    start = time.perf_counter()
    if replications:
        escalate.run(sys.argv[1], replications=replications, seed=1, engine="batch",
                     keep_replications=False)
    print(json.dumps({"seconds": time.perf_counter() - start,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
""")


def _peak(replications: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", PEAK_RSS, str(ARTICLE), str(replications)],
                          capture_output=True, text=True, check=True)
    return dict(json.loads(done.stdout))


@pytest.mark.benchmark(group="memory")
@pytest.mark.parametrize("replications", [10**6, 10**7])
def test_batch_engine_peak_memory(benchmark: BenchmarkFixture, replications: int) -> None:
    """Peak RSS of a process running the article scenario: flat in the number of replications."""
    baseline = _peak(0)["peak_mb"]
    measured = benchmark.pedantic(_peak, args=(replications,), rounds=1, iterations=1)
    benchmark.extra_info.update(replications=replications, peak_mb=round(measured["peak_mb"]),
                                after_imports_mb=round(baseline))
    print(f"\npeak RSS at {replications:,} replications: {measured['peak_mb']:.0f} MB "
          f"({baseline:.0f} MB after imports), {measured['seconds']:.0f} s")
    assert measured["peak_mb"] < 300
