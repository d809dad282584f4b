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
benchmarks.  Speeds are in CPU seconds of this process (``time.process_time``),
which a busy machine disturbs less than wall time; memory runs are timed by
the wall clock.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import escalate
from escalate.distributions import DELAY_UNIFORMS, delay_from_uniforms
from escalate.engine import ReferenceEngine, StreamKeys
from escalate.engine.batch import BatchEngine
from escalate.engine.batch import draws as draws_module
from escalate.engine.batch.chunk import Chunk
from escalate.montecarlo.runner import run

sys.path.insert(0, str(Path(__file__).resolve().parent))
import handwritten_simpy

ROOT = Path(__file__).resolve().parents[1]
# Bundled scenarios (``escalate: 1``); other records there, such as observations, are left out.
SCENARIOS = [path for path in sorted((ROOT / "scenarios").glob("*.yaml"))
             if "\nescalate: 1" in "\n" + path.read_text(encoding="utf-8")]
ARTICLE = ROOT / "scenarios" / "kursk-atacms-2024.yaml"
SEED = 20241117
REFERENCE_REPLICATIONS = 2_000
BATCH_REPLICATIONS = 2**18
# What each benchmark measured, for the ratios of the ones that follow it.
MEASURED: dict[tuple[str, str], float] = {}


def _load_or_skip(path: Path) -> escalate.Scenario:
    """The scenario at ``path``; the benchmark is skipped if it does not load."""
    try:
        return escalate.load(path)
    except escalate.ScenarioError:
        pytest.skip(f"{path.name} does not load")


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


@pytest.mark.benchmark(group="yardstick", timer=time.process_time)
def test_handwritten_simpy_model(benchmark: BenchmarkFixture) -> None:
    """The article scenario written by hand on simpy: the yardstick of the reference engine."""
    def replicate() -> int:
        return handwritten_simpy.run(SEED, REFERENCE_REPLICATIONS)[1]

    events = benchmark.pedantic(replicate, rounds=3, iterations=1, warmup_rounds=1)
    _report(benchmark, (ARTICLE.stem, "handwritten"), REFERENCE_REPLICATIONS, events)


@pytest.mark.benchmark(group="yardstick", timer=time.process_time)
def test_reference_engine_against_the_handwritten_model(benchmark: BenchmarkFixture) -> None:
    """The reference engine alone (streams, simulation, records) on the article scenario."""
    compiled = escalate.load(ARTICLE).compiled

    def replicate() -> int:
        return sum(record.events_fired
                   for record in ReferenceEngine(compiled).run(StreamKeys(SEED), 0, REFERENCE_REPLICATIONS))

    events = benchmark.pedantic(replicate, rounds=3, iterations=1, warmup_rounds=1)
    yardstick = MEASURED[(ARTICLE.stem, "handwritten")]
    slower = yardstick / (REFERENCE_REPLICATIONS / benchmark.stats.stats.min)
    _report(benchmark, (ARTICLE.stem, "reference engine alone"), REFERENCE_REPLICATIONS, events,
            slower_than_handwritten=round(slower, 2))


@pytest.mark.benchmark(group="engines", timer=time.process_time)
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_reference_engine(benchmark: BenchmarkFixture, path: Path) -> None:
    """Replications and events per second of ``run(engine="reference")``, aggregation included."""
    scenario = _load_or_skip(path)

    def replicate() -> int:
        result = run(scenario, replications=REFERENCE_REPLICATIONS, seed=SEED,
                     engine="reference", keep_replications=False)
        return result.aggregator.events_fired

    events = benchmark.pedantic(replicate, rounds=3, iterations=1, warmup_rounds=1)
    _report(benchmark, (path.stem, "reference"), REFERENCE_REPLICATIONS, events)


@pytest.mark.benchmark(group="engines", timer=time.process_time)
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_batch_engine(benchmark: BenchmarkFixture, path: Path) -> None:
    """Replications and events per second of ``run(engine="batch")``, and its speed-up."""
    scenario = _load_or_skip(path)

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


@pytest.mark.benchmark(group="engines", timer=time.process_time)
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_batch_engine_alone(benchmark: BenchmarkFixture, path: Path) -> None:
    """Events per second of ``BatchEngine.run`` alone: no paths, no aggregation."""
    scenario = _load_or_skip(path)
    engine = BatchEngine(scenario.compiled)

    def replicate() -> int:
        return sum(int(chunk.events_fired.sum())
                   for chunk in engine.run(StreamKeys(SEED), 0, BATCH_REPLICATIONS))

    events = benchmark.pedantic(replicate, rounds=3, iterations=1, warmup_rounds=1)
    _report(benchmark, (path.stem, "batch engine alone"), BATCH_REPLICATIONS, events)


def _draws_of_a_run(monkeypatch: pytest.MonkeyPatch) -> tuple[int, dict[tuple[Any, ...], int]]:
    """Count the uniforms a batch run of the article scenario deals and the delays it draws."""
    dealt = [0]
    delays: dict[tuple[Any, ...], int] = {}
    deal, transform = Chunk.deal, draws_module.delay_from_uniforms

    def counted_deal(chunk: Any, rows: np.ndarray, events: np.ndarray) -> None:
        deal(chunk, rows, events)
        dealt[0] += len(chunk.pool)

    def counted_transform(kind: str, args: Any, uniforms: np.ndarray) -> np.ndarray:
        key = (kind, *(float(np.ravel(a)[0]) for a in args))
        delays[key] = delays.get(key, 0) + uniforms.shape[1]
        return transform(kind, args, uniforms)

    monkeypatch.setattr(Chunk, "deal", counted_deal)
    monkeypatch.setattr(draws_module, "delay_from_uniforms", counted_transform)
    run(escalate.load(ARTICLE), replications=BATCH_REPLICATIONS, seed=SEED, engine="batch",
        keep_replications=False)
    monkeypatch.undo()
    return dealt[0], delays


@pytest.mark.benchmark(group="draws", timer=time.process_time)
def test_random_draws_alone(benchmark: BenchmarkFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """The random numbers of a batch run of the article scenario alone, without the simulation.

    The same count of uniforms, dealt in chunks as the engine does, and the same
    delays made from them: the floor under the batch engine's cost.
    """
    dealt, delays = _draws_of_a_run(monkeypatch)
    rng = np.random.default_rng(SEED)
    chunk = 2**16

    def draw() -> None:
        for start in range(0, dealt, chunk):
            rng.random(min(chunk, dealt - start))
        for (kind, *args), count in delays.items():
            for start in range(0, count, chunk):
                size = min(chunk, count - start)
                delay_from_uniforms(kind, args, rng.random((DELAY_UNIFORMS[kind], size)))

    benchmark.pedantic(draw, rounds=3, iterations=1, warmup_rounds=1)
    seconds = benchmark.stats.stats.min
    extra: dict[str, Any] = {"uniforms": dealt, "delays": sum(delays.values())}
    batch = MEASURED.get((ARTICLE.stem, "batch"))
    if batch is not None:
        extra["batch_engine_over_draws"] = round(BATCH_REPLICATIONS / batch / seconds, 1)
    _report(benchmark, (ARTICLE.stem, "draws alone"), BATCH_REPLICATIONS, 0, **extra)


# VmHWM, the peak RSS of this process image; ru_maxrss would count the forking
# parent's peak too.
PEAK_RSS = textwrap.dedent("""
    import json, sys, time
    import escalate
    replications = int(sys.argv[2])
    start = time.perf_counter()
    if replications:
        escalate.run(sys.argv[1], replications=replications, seed=1, engine="batch",
                     keep_replications=False)
    with open("/proc/self/status", encoding="ascii") as status:
        peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak / 1024}))
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
