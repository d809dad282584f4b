"""Checking the points of a 100,000-point sweep of the article scenario before it runs.

Run with ``pytest benchmarks/test_sweep_points.py --benchmark-only -s``; the
default pytest options skip benchmarks.  The design is a Latin hypercube over
three of the article's assumptions (two choice probabilities and the delay
between Russia's decisions), so every point has values of its own and no
check is shared between points.  It prints (and stores in ``extra_info``)
the seconds and the points per second, in CPU time of this process
(``time.process_time``), which a busy machine disturbs less than wall time.
On the shared 2-core machine of ``docs/performance.md`` it takes 0.5 s;
compiling each point, as the checks did before, took 215 s of CPU there.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

import escalate
from escalate.montecarlo.seeding import design_rng
from escalate.sweeps.design import Design, ParameterInfo, build_design
from escalate.sweeps.points import validate_points

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "scenarios" / "kursk-atacms-2024.yaml"
POINTS = 100_000
SEED = 20241117
#: two of Russia's per-decision probabilities and the days between its decisions
ARTICLE_VARY = {"p_hub_strike": "0:0.05", "p_intensify": "0.1:0.6",
                "reconsider_interval": "20:120"}


@pytest.fixture(scope="module")
def sweep_points() -> tuple[escalate.Scenario, Design]:
    """The article scenario and a 100,000-point Latin hypercube over three of its parameters."""
    scenario = escalate.load(ARTICLE)
    compiled = scenario.compiled
    parameters = {name: ParameterInfo(uncertainty, scenario.spec.parameters[name].range)
                  for name, uncertainty in zip(compiled.parameter_names,
                                               compiled.parameter_uncertainty, strict=True)}
    design = build_design("lhs", ARTICLE_VARY, points=POINTS, rng=design_rng(SEED),
                          parameters=parameters)
    return scenario, design


def _validate(scenario: escalate.Scenario, design: Design) -> float:
    started = time.process_time()
    validate_points(scenario, design)
    return time.process_time() - started


@pytest.mark.benchmark(group="sweep")
def test_checking_100000_points(benchmark: BenchmarkFixture,
                                sweep_points: tuple[escalate.Scenario, Design]) -> None:
    """CPU seconds to check every point of a 100,000-point LHS design of the article scenario."""
    scenario, design = sweep_points
    seconds = benchmark.pedantic(_validate, args=(scenario, design), rounds=3, iterations=1)
    benchmark.extra_info.update(scenario=scenario.name, points=POINTS,
                                varied=list(ARTICLE_VARY), cpu_seconds=round(seconds, 3),
                                points_per_second=round(POINTS / seconds))
    print(f"\n{scenario.name}: {POINTS:,} points checked in {seconds:.2f} s CPU "
          f"({POINTS / seconds:,.0f} points/s)")
