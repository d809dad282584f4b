"""The batch engine against the reference engine: the same meaning, proven statistically.

Each scenario runs on both engines with different random numbers; the two
samples must agree on every outcome probability (two-sample z-test), the
distribution of the maximum level and of terminals (chi-square tests of
homogeneity), and the distributions of outcome times and end times
(two-sample Kolmogorov-Smirnov tests).  Per scenario the family-wise error
rate is :data:`FWER` (Bonferroni over its tests), and the reference sample is
large enough that a real difference of one percentage point in a probability
near 1/2 (the hardest case) is caught with probability :data:`POWER` at least.
A test fails, with the failed checks listed, when any check rejects.

Scenarios whose delays are all fixed and whose probabilities are all 0 or 1
involve no chance at all: there both engines must give identical records,
replication by replication.  Mutants of the batch engine (which ignore
``cancels``, guards or ``repeat: max``, or mis-scale gamma delays) must fail
the same statistical comparison.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from pathlib import Path
from statistics import NormalDist
from typing import Any

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from strategies import runnable_scenario

import escalate
from escalate.compile.compiled import CompiledScenario
from escalate.engine.batch import BatchEngine
from escalate.engine.batch import draws as draws_module
from escalate.engine.batch import plan as plan_module
from escalate.engine.batch.pending import PendingTable
from escalate.engine.batch.plan import EventPlan
from escalate.engine.protocol import Overflow, StreamKeys
from escalate.engine.records import ReplicationRecord
from escalate.engine.reference import ReferenceEngine
from escalate.montecarlo.results import RunResult
from escalate.montecarlo.runner import run


def _is_scenario(path: Path) -> bool:
    """Whether a bundled file is a scenario (``escalate: 1``), not another kind of record."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return isinstance(data, dict) and "escalate" in data


SCENARIOS = [path for path in sorted(
    (Path(__file__).resolve().parents[1] / "scenarios").glob("*.yaml")) if _is_scenario(path)]
FWER = 0.01
POWER = 0.8
DIFFERENCE = 0.01
BATCH_REPLICATIONS = 400_000
SEED = 77


def reference_replications(tests: int, *, batch: int = BATCH_REPLICATIONS,
                           difference: float = DIFFERENCE) -> int:
    """Reference replications needed to catch ``difference`` at p = 1/2 with :data:`POWER`.

    Two-sided z-test at level FWER / tests:
    difference / sqrt(p (1 - p) (1/batch + 1/n)) >= z(1 - level / 2) + z(POWER).
    """
    z = NormalDist().inv_cdf(1 - FWER / tests / 2) + NormalDist().inv_cdf(POWER)
    room = (difference / z) ** 2 / 0.25 - 1 / batch
    assert room > 0, "the batch sample alone is too small for this difference"
    return math.ceil(1 / room)


def checks_count(scenario: CompiledScenario) -> int:
    """An upper bound on the number of checks :func:`differences` makes for ``scenario``."""
    return 2 * len(scenario.outcomes) + 3


def sample(scenario: CompiledScenario, engine: str, replications: int,
           uncertainty: bool = False) -> RunResult:
    return run(scenario, replications=replications, seed=SEED, engine=engine,
               uncertainty=uncertainty, keep_replications=True)


def differences(batch: RunResult, reference: RunResult) -> list[str]:
    """The checks on which the two samples disagree at family-wise error rate :data:`FWER`."""
    scenario = batch.scenario
    a, b = batch.arrays, reference.arrays
    p_values: list[tuple[str, float]] = []
    for outcome in scenario.outcomes:
        p_values.append((f"P({outcome.name})", _two_proportions(a[outcome.name], b[outcome.name])))
        times_a = a[f"{outcome.name}_day"][a[outcome.name]]
        times_b = b[f"{outcome.name}_day"][b[outcome.name]]
        if min(len(times_a), len(times_b)) >= 20:
            p_values.append((f"times of {outcome.name}", stats.ks_2samp(times_a, times_b).pvalue))
    p_values.append(("end times", stats.ks_2samp(a["end_day"], b["end_day"]).pvalue))
    p_values.append(("max level", _homogeneity(a["max_level"], b["max_level"])))
    p_values.append(("terminals", _homogeneity(a["terminal"], b["terminal"])))
    assert len(p_values) <= checks_count(scenario)
    level = FWER / checks_count(scenario)
    return [f"{name}: p = {p:.3g} < {level:.3g}" for name, p in p_values if p < level]


def _two_proportions(x: np.ndarray, y: np.ndarray) -> float:
    n, m = len(x), len(y)
    pooled = (x.sum() + y.sum()) / (n + m)
    if pooled in (0, 1):
        return 1.0
    z = (x.mean() - y.mean()) / math.sqrt(pooled * (1 - pooled) * (1 / n + 1 / m))
    return 2 * (1 - NormalDist().cdf(abs(z)))


def _homogeneity(x: np.ndarray, y: np.ndarray) -> float:
    """Chi-square test that two samples of categories come from one distribution.

    Categories with fewer than 10 expected in either sample are pooled together.
    """
    labels = sorted(set(x.tolist()) | set(y.tolist()), key=str)
    counts = np.array([[np.sum(x == c) for c in labels], [np.sum(y == c) for c in labels]])
    expected_small = counts.sum(axis=0) * min(len(x), len(y)) / (len(x) + len(y)) < 10
    table = counts[:, ~expected_small]
    if expected_small.any():
        table = np.column_stack([table, counts[:, expected_small].sum(axis=1)])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    return float(stats.chi2_contingency(table).pvalue)


@functools.cache
def reference_sample(path: Path) -> RunResult:
    """The reference engine's sample of a bundled scenario (shared by the tests below)."""
    scenario = escalate.load(path).compiled
    return sample(scenario, "reference", reference_replications(checks_count(scenario)))


# --- the bundled scenarios ----------------------------------------------------------------------

def test_the_bundled_scenarios_are_found() -> None:
    """The differential tests cover the scenarios directory (at least the article's scenario)."""
    assert any(path.name == "kursk-atacms-2024.yaml" for path in SCENARIOS)


@pytest.mark.slow
@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_the_engines_agree_on_each_bundled_scenario(path: Path) -> None:
    """Every probability, level and terminal distribution and time distribution agrees."""
    scenario = escalate.load(path).compiled
    batch = sample(scenario, "batch", BATCH_REPLICATIONS)
    assert differences(batch, reference_sample(path)) == []


def test_the_reference_sample_catches_one_percentage_point() -> None:
    """The power calculation: with these sample sizes a 1 pp shift at p = 1/2 is caught."""
    tests = 29
    n = reference_replications(tests)
    level = FWER / tests
    se = math.sqrt(0.25 * (1 / BATCH_REPLICATIONS + 1 / n))
    critical = NormalDist().inv_cdf(1 - level / 2)
    power = 1 - NormalDist().cdf(critical - DIFFERENCE / se)
    assert power >= POWER - 1e-9
    assert 40_000 < n < 80_000


# --- scenarios generated over the whole language -----------------------------------------------

GENERATED_REFERENCE = 3_000
GENERATED_BATCH = 60_000


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=runnable_scenario(), uncertainty=st.booleans())
def test_the_engines_agree_on_generated_scenarios(text: str, uncertainty: bool) -> None:
    """Random scenarios with choices, guards, repeats, cancels, updates and every delay.

    Smaller samples than for the bundled scenarios (a shift of about four
    percentage points is caught), so that many scenarios fit in the time.
    """
    scenario = escalate.loads(text).compiled
    batch = sample(scenario, "batch", GENERATED_BATCH, uncertainty)
    reference = sample(scenario, "reference", GENERATED_REFERENCE, uncertainty)
    assert differences(batch, reference) == [], text


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=runnable_scenario(deterministic=True))
def test_the_engines_give_identical_records_when_nothing_is_random(text: str) -> None:
    """Fixed delays and probabilities of 0 or 1: the same replications, field by field."""
    scenario = escalate.loads(text).compiled
    expected = [_comparable(r) for r in ReferenceEngine(scenario).run(StreamKeys(SEED), 0, 3)]
    (chunk,) = BatchEngine(scenario).run(StreamKeys(SEED), 0, 3)
    if isinstance(chunk, Overflow):
        # A block that outgrows the pending table is handed back whole: a run gives
        # these replications to the reference engine.
        assert (chunk.first, chunk.stop) == (0, 3), text
        return
    assert [_comparable(r) for r in chunk.records(scenario.terminals)] == expected, text


def _comparable(record: ReplicationRecord) -> tuple[Any, ...]:
    """The record's fields, with NaN (an outcome that never occurred) made equal to itself."""
    return tuple(tuple(None if math.isnan(t) else t for t in value) if name == "outcome_times" else value
                 for name, value in zip(record.__slots__, dataclasses.astuple(record), strict=True))


# --- mutants: broken batch engines must fail the comparison ------------------------------------

FEATURES = """\
escalate: 1
name: features
horizon: 40
ladder: [calm, tension, clash, strike, war]
state: {level: 0, armed: false, rounds: 0}
parameters:
  p_strike: {value: 0.4}
events:
  start: {at: 0, then: [talks, patrol, build_up]}
  talks:
    after: {gamma: {shape: 2, mean: 6}}
    choose: {deal: 0.5, otherwise: walkout}
  deal: {set: {level: 0}, cancels: [patrol, strike], then: [settled]}
  settled: {after: 10, end: peace}
  walkout: {set: {level: "max(level, 1)"}}
  build_up: {after: {exponential: {mean: 5}}, set: {armed: true}}
  patrol:
    after: 2
    when: armed
    set: {rounds: rounds + 1, level: "min(level + 1, 4)"}
    choose: {strike: p_strike}
    repeat: {every: {uniform: [1, 3]}, max: 6}
  strike: {after: {lognormal: {median: 1, sigma: 0.5}}, set: {level: 4}, end: war}
outcomes:
  war: {terminal: war}
  peace: {terminal: peace}
  clash: {when: level >= 2}
  patrols: {event: patrol}
"""
MUTANT_REFERENCE = 20_000


def _without(field: str, value: Any) -> Callable[[EventPlan], EventPlan]:
    return lambda plan: dataclasses.replace(plan, **{field: value})


def _ignore_cancels(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(PendingTable, "cancel", lambda self, columns, event: None)


def _ignore_guards(monkeypatch: pytest.MonkeyPatch) -> None:
    original = plan_module.build_plans
    monkeypatch.setattr(plan_module, "build_plans",
                        lambda *args: tuple(_without("guard", None)(p) for p in original(*args)))


def _ignore_repeat_max(monkeypatch: pytest.MonkeyPatch) -> None:
    original = plan_module.build_plans
    monkeypatch.setattr(plan_module, "build_plans",
                        lambda *args: tuple(_without("repeat_max", None)(p)
                                            for p in original(*args)))


def _gamma_scale_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    original = draws_module.delay_from_uniforms

    def mutated(kind: str, args: Any, uniforms: np.ndarray) -> np.ndarray:
        if kind == "gamma":
            args = [args[0], np.multiply(args[1], 1.2)]
        return original(kind, args, uniforms)

    monkeypatch.setattr(draws_module, "delay_from_uniforms", mutated)


MUTANTS = {
    "ignores cancels": _ignore_cancels,
    "ignores guards": _ignore_guards,
    "ignores repeat max": _ignore_repeat_max,
    "gamma delays 20% too long": _gamma_scale_wrong,
}


@functools.cache
def _features_reference() -> RunResult:
    return sample(escalate.loads(FEATURES).compiled, "reference", MUTANT_REFERENCE)


def test_the_correct_engine_passes_the_mutant_comparison() -> None:
    """The comparison the mutants fail is passed by the batch engine itself."""
    scenario = escalate.loads(FEATURES).compiled
    assert differences(sample(scenario, "batch", BATCH_REPLICATIONS), _features_reference()) == []


@pytest.mark.parametrize("mutant", MUTANTS)
def test_a_broken_batch_engine_fails_the_comparison(mutant: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Each deliberately broken batch engine is told apart from the reference engine."""
    MUTANTS[mutant](monkeypatch)
    scenario = escalate.loads(FEATURES).compiled
    found = differences(sample(scenario, "batch", BATCH_REPLICATIONS), _features_reference())
    assert found, f"the mutant that {mutant} went unnoticed"


@pytest.mark.slow
@pytest.mark.parametrize("mutant", ["ignores cancels", "ignores guards"])
def test_a_broken_batch_engine_fails_on_the_article_scenario(
        mutant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The article scenario alone is enough to catch the mutants of the features it uses."""
    path = next(p for p in SCENARIOS if p.name == "kursk-atacms-2024.yaml")
    MUTANTS[mutant](monkeypatch)
    batch = sample(escalate.load(path).compiled, "batch", BATCH_REPLICATIONS // 4)
    assert differences(batch, reference_sample(path)), f"the mutant that {mutant} went unnoticed"
