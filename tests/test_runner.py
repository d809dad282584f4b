"""The Monte Carlo runner: reproducibility, keyed streams, uncertainty, overrides and statistics."""

from __future__ import annotations

import csv
import json
import math
import textwrap
from pathlib import Path
from statistics import NormalDist

import numpy as np
import pytest
from conftest import BORDER

import escalate
from escalate.engine import ReferenceEngine, StreamKeys
from escalate.montecarlo.aggregate import Aggregator
from escalate.montecarlo.results import ReplicationTable, RunResult, merge
from escalate.montecarlo.runner import run
from escalate.montecarlo.seeding import normalize_seed, replication_rng
from escalate.montecarlo.stats import histogram_quantile, wilson_interval

SEED = 8675309
#: two-sided 99.9% normal quantile
Z999 = NormalDist().inv_cdf(0.9995)


@pytest.fixture(scope="module")
def border() -> escalate.Scenario:
    return escalate.loads(BORDER)


def summary_bytes(result: RunResult) -> bytes:
    return json.dumps(result.summary, sort_keys=True, allow_nan=False).encode()


def aggregator_state(aggregator: Aggregator) -> dict[str, object]:
    """Every count an aggregator holds, as plain comparable data."""
    return {
        "replications": aggregator.replications,
        "outcome_counts": aggregator.outcome_counts.tolist(),
        "outcome_times": aggregator.outcome_times.tolist(),
        "max_levels": aggregator.max_levels.tolist(),
        "final_levels": aggregator.final_levels.tolist(),
        "terminals": dict(aggregator.terminals),
        "end_times": aggregator.end_times.tolist(),
        "events_fired": aggregator.events_fired,
        "events_fired_max": aggregator.events_fired_max,
        "events_skipped": aggregator.events_skipped,
        "paths": dict(aggregator.paths),
        "other_paths": aggregator.other_paths,
    }


# -- reproducibility and keyed streams ---------------------------------------------------------


def test_same_seed_gives_identical_summary_bytes(border: escalate.Scenario) -> None:
    """Two runs with the same seed produce byte-identical summaries."""
    first = run(border, replications=400, seed=SEED)
    second = run(border, replications=400, seed=SEED)
    assert summary_bytes(first) == summary_bytes(second)


def test_different_seeds_give_different_results(border: escalate.Scenario) -> None:
    """Runs with different seeds draw different numbers."""
    first = run(border, replications=400, seed=SEED)
    second = run(border, replications=400, seed=SEED + 1)
    assert summary_bytes(first) != summary_bytes(second)
    assert not np.array_equal(first.arrays["end_day"], second.arrays["end_day"])


def test_split_runs_merge_into_exactly_the_serial_run(border: escalate.Scenario) -> None:
    """Replications [0, 300) and [300, 500) merged equal the run over [0, 500), count for count."""
    whole = run(border, replications=500, seed=SEED)
    head = run(border, replications=300, seed=SEED, first=0)
    tail = run(border, replications=200, seed=SEED, first=300)
    merged = merge([tail, head])
    assert aggregator_state(merged) == aggregator_state(whole.aggregator)
    assert merged.summary()["outcomes"] == whole.summary["outcomes"]
    assert merged.summary() == whole.aggregator.summary()


def test_replication_arrays_depend_only_on_seed_and_index(border: escalate.Scenario) -> None:
    """Replication i has the same result whether run alone or inside a larger run."""
    whole = run(border, replications=50, seed=SEED).arrays
    part = run(border, replications=10, seed=SEED, first=20).arrays
    np.testing.assert_array_equal(part["replication"], np.arange(20, 30))
    np.testing.assert_array_equal(part["end_day"], whole["end_day"][20:30])
    np.testing.assert_array_equal(part["terminal"], whole["terminal"][20:30])


def test_sweep_point_keys_separate_streams(border: escalate.Scenario) -> None:
    """The same replications under different sweep points draw from different streams."""
    plain = run(border, replications=100, seed=SEED).arrays["end_day"]
    point = run(border, replications=100, seed=SEED, point=3).arrays["end_day"]
    assert not np.array_equal(plain, point)


def test_seed_may_be_given_as_seed_sequence(border: escalate.Scenario) -> None:
    """A root SeedSequence gives the same run as its integer entropy."""
    by_int = run(border, replications=100, seed=1234)
    by_sequence = run(border, replications=100, seed=np.random.SeedSequence(1234))
    assert by_sequence.seed == 1234
    assert summary_bytes(by_int) == summary_bytes(by_sequence)


# -- uncertainty and overrides -----------------------------------------------------------------


def test_uncertainty_draws_parameters_per_replication(border: escalate.Scenario) -> None:
    """With uncertainty on, each replication draws its own value of every uncertain parameter."""
    arrays = run(border, replications=500, seed=SEED, uncertainty=True).arrays
    drawn = arrays["param_p_retaliate"]
    assert drawn.shape == (500,)
    assert np.unique(drawn).size == 500
    # The 90% interval [0.15, 0.55] should hold about 90% of the draws.
    inside = int(np.count_nonzero((drawn >= 0.15) & (drawn <= 0.55)))
    low, high = wilson_interval(inside, drawn.size, z=Z999)
    assert low <= 0.9 <= high
    assert "param_retaliation_delay" not in arrays


def test_point_values_are_used_without_uncertainty(border: escalate.Scenario) -> None:
    """Without uncertainty there are no parameter columns: every replication uses point values."""
    arrays = run(border, replications=50, seed=SEED).arrays
    assert not any(name.startswith("param_") for name in arrays)


def test_uncertain_draws_are_clipped_to_the_declared_range() -> None:
    """Draws outside a parameter's `range` are clipped to its bounds."""
    scenario = escalate.loads(textwrap.dedent("""
        escalate: 1
        name: clipped
        horizon: 10
        parameters:
          p: {value: 0.5, uncertainty: {uniform: [0, 2]}, range: [0, 1]}
        events:
          a: {at: 0, choose: {b: p}}
          b: {}
    """))
    drawn = run(scenario, replications=2000, seed=SEED, uncertainty=True).arrays["param_p"]
    assert drawn.min() >= 0.0
    assert drawn.max() == 1.0
    at_bound = int(np.count_nonzero(drawn == 1.0))
    low, high = wilson_interval(at_bound, drawn.size, z=Z999)
    assert low <= 0.5 <= high


def test_overrides_change_the_results(border: escalate.Scenario) -> None:
    """Overriding a parameter changes the run: no retaliation means no strike and no war."""
    result = run(border, replications=300, seed=SEED, overrides={"p_retaliate": 0.0})
    assert result.probability("strike") == 0.0
    assert result.probability("war") == 0.0
    assert result.probability("talks") == 1.0
    assert result.summary["overrides"] == {"p_retaliate": 0.0}


@pytest.mark.parametrize("engine", ["reference", "batch"])
def test_an_override_holds_an_uncertain_parameter_in_two_level_runs(
        border: escalate.Scenario, engine: str) -> None:
    """With uncertainty on, an overridden parameter is not drawn: p_retaliate = 0 means no
    strike in any replication, and the run is that of the sweep point with the same value."""
    result = run(border, replications=400, seed=SEED, uncertainty=True, engine=engine,
                 overrides={"p_retaliate": 0.0})
    assert result.probability("strike") == 0.0
    assert "param_p_retaliate" not in result.arrays
    assert result.summary["overrides"] == {"p_retaliate": 0.0}
    table = escalate.sweep(border, {"p_retaliate": [0.0, 1.0]}, replications=400, seed=SEED,
                           uncertainty=True, engine=engine)
    pinned = run(border, replications=400, seed=SEED, uncertainty=True, engine=engine,
                 overrides={"p_retaliate": 1.0}, point=1)
    assert table["strike_p"].tolist() == [0.0, pinned.probability("strike")]


def test_unknown_override_is_a_scenario_error_with_a_hint(border: escalate.Scenario) -> None:
    """An override naming no parameter raises ScenarioError suggesting the close name."""
    with pytest.raises(escalate.ScenarioError,
                       match=r"cannot set 'p_retaliat'.*did you mean `p_retaliate`"):
        run(border, replications=10, seed=SEED, overrides={"p_retaliat": 0.2})


def test_override_outside_range_is_a_scenario_error(border: escalate.Scenario) -> None:
    """An override outside the parameter's declared range is refused before running."""
    with pytest.raises(escalate.ScenarioError, match=r"p_retaliate = 1\.5 is outside its range"):
        run(border, replications=10, seed=SEED, overrides={"p_retaliate": 1.5})


# -- per-replication arrays ----------------------------------------------------------------------


def test_kept_replication_arrays_have_one_row_per_replication(border: escalate.Scenario) -> None:
    """keep_replications gives one entry per replication in every documented column."""
    arrays = run(border, replications=120, seed=SEED, first=7).arrays
    expected = {"replication", "terminal", "end_day", "max_level", "final_level",
                "events_fired", "events_skipped", "strike", "strike_day", "war", "war_day",
                "talks", "talks_day"}
    assert set(arrays) == expected
    assert all(column.shape == (120,) for column in arrays.values())
    np.testing.assert_array_equal(arrays["replication"], np.arange(7, 127))
    assert arrays["war"].dtype == bool
    np.testing.assert_array_equal(np.isnan(arrays["war_day"]), ~arrays["war"])
    assert set(arrays["terminal"]) <= {"war", "talks", "horizon", "exhausted", "max_events"}


def test_reference_arrays_are_the_records_across_packed_blocks(border: escalate.Scenario) -> None:
    """Records gathered past a packed block of the table come out in order, field for field."""
    replications = ReplicationTable._PACK + 37
    arrays = run(border, replications=replications, seed=SEED, engine="reference").arrays
    compiled = border.compile()
    records = list(ReferenceEngine(compiled).run(StreamKeys(SEED), 0, replications))
    np.testing.assert_array_equal(arrays["replication"], [r.index for r in records])
    assert arrays["terminal"].tolist() == [r.terminal for r in records]
    np.testing.assert_array_equal(arrays["end_day"], [r.end_time for r in records])
    np.testing.assert_array_equal(arrays["max_level"], [r.max_level for r in records])
    np.testing.assert_array_equal(arrays["events_fired"], [r.events_fired for r in records])
    for k, outcome in enumerate(compiled.outcomes):
        np.testing.assert_array_equal(arrays[f"{outcome.name}_day"],
                                      [r.outcome_times[k] for r in records])


def test_kept_arrays_are_numpy_columns_not_python_objects(border: escalate.Scenario) -> None:
    """A kept table holds numpy blocks, so its memory is a few bytes per value."""
    result = run(border, replications=5000, seed=SEED, engine="batch")
    table = result.table
    assert table is not None
    assert len(table) == 5000
    assert all(isinstance(column, np.ndarray) for block in table._blocks for column in block)
    assert not table._records


def test_arrays_agree_with_the_summary(border: escalate.Scenario) -> None:
    """Counts from the arrays equal the counts in the summary."""
    result = run(border, replications=300, seed=SEED)
    arrays, summary = result.arrays, result.summary
    for outcome in ("strike", "war", "talks"):
        assert int(arrays[outcome].sum()) == summary["outcomes"][outcome]["count"]
    assert np.bincount(arrays["max_level"], minlength=5).tolist() == [
        level["count"] for level in summary["max_level"]["distribution"]]


def test_every_ladder_level_is_an_implicit_outcome(border: escalate.Scenario) -> None:
    """The summary's `at_least` gives P(max level >= k) for every rung, from the arrays' counts."""
    result = run(border, replications=300, seed=SEED)
    max_levels = result.arrays["max_level"]
    at_least = result.summary["max_level"]["at_least"]
    assert [entry["name"] for entry in at_least] == list(result.scenario.ladder)
    for entry in at_least:
        assert entry["count"] == int(np.count_nonzero(max_levels >= entry["level"]))
    assert at_least[0]["probability"] == 1.0


def test_arrays_are_refused_when_not_kept(border: escalate.Scenario) -> None:
    """Asking for arrays of a run that did not keep them raises UsageError."""
    result = run(border, replications=10, seed=SEED, keep_replications=False)
    with pytest.raises(escalate.UsageError, match="keep_replications=True"):
        _ = result.arrays


# -- argument checking -----------------------------------------------------------------------


@pytest.mark.parametrize("replications", [0, -5, 1.5, True, "100"])
def test_bad_replication_counts_are_usage_errors(border: escalate.Scenario,
                                                 replications: object) -> None:
    """A replication count that is not a positive whole number raises UsageError."""
    with pytest.raises(escalate.UsageError, match="replications must be a whole number"):
        run(border, replications=replications, seed=SEED)  # type: ignore[arg-type]


@pytest.mark.parametrize("seed", [-1, 1.5, "42", True, [1, 2]])
def test_bad_seeds_are_usage_errors(border: escalate.Scenario, seed: object) -> None:
    """A seed that is not a non-negative whole number, SeedSequence or Generator is refused."""
    with pytest.raises(escalate.UsageError, match="seed"):
        run(border, replications=10, seed=seed)  # type: ignore[arg-type]


def test_negative_first_replication_is_a_usage_error(border: escalate.Scenario) -> None:
    """A negative first replication index raises UsageError."""
    with pytest.raises(escalate.UsageError, match="first must be a non-negative"):
        run(border, replications=10, seed=SEED, first=-1)


def test_merging_nothing_is_a_usage_error() -> None:
    """merge() of no results raises UsageError."""
    with pytest.raises(escalate.UsageError, match="nothing to merge"):
        merge([])


# -- seeds ---------------------------------------------------------------------------------------


def test_normalize_seed_keeps_integers() -> None:
    """An integer seed (Python or numpy) is returned as the same Python int."""
    assert normalize_seed(42) == 42
    assert normalize_seed(np.int64(42)) == 42
    assert type(normalize_seed(np.int64(42))) is int


def test_normalize_seed_draws_fresh_entropy_for_none() -> None:
    """None gives a fresh non-negative seed each time."""
    first, second = normalize_seed(None), normalize_seed(None)
    assert first >= 0
    assert first != second


def test_normalize_seed_takes_a_root_seed_sequence_entropy() -> None:
    """A root SeedSequence is reduced to its entropy."""
    assert normalize_seed(np.random.SeedSequence(987654321)) == 987654321


def test_normalize_seed_refuses_a_spawned_seed_sequence() -> None:
    """A spawned child SeedSequence is refused: its key would be lost."""
    child = np.random.SeedSequence(5).spawn(1)[0]
    with pytest.raises(escalate.UsageError, match="root SeedSequence"):
        normalize_seed(child)


def test_normalize_seed_refuses_a_seed_sequence_with_several_words() -> None:
    """A SeedSequence whose entropy is a list of words raises UsageError, not TypeError."""
    with pytest.raises(escalate.UsageError, match="SeedSequence"):
        normalize_seed(np.random.SeedSequence([1, 2, 3]))


def test_normalize_seed_draws_from_a_generator_reproducibly() -> None:
    """Generators in the same state give the same seed; the seed is a valid non-negative int."""
    first = normalize_seed(np.random.default_rng(3))
    second = normalize_seed(np.random.default_rng(3))
    assert first == second
    assert 0 <= first < 2**63


def test_replication_streams_are_independent_of_each_other() -> None:
    """Streams of neighbouring replications and of sweep points differ."""
    draws = {key: replication_rng(SEED, *key).random(4).tolist()
             for key in [(0,), (1,), (0, 0), (0, 1)]}
    assert len({tuple(v) for v in draws.values()}) == 4
    assert replication_rng(SEED, 5).random(4).tolist() == replication_rng(SEED, 5).random(4).tolist()


# -- statistics -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("successes", "trials", "low", "high"), [
    # 95% Wilson score intervals, computed with scipy.stats.binomtest(...).proportion_ci
    (0, 10, 0.0, 0.2775327998628892),
    (5, 10, 0.236593090512564, 0.7634069094874361),
    (1, 20, 0.008881448800795402, 0.23613119344674205),
    (37, 1000, 0.026961180875554734, 0.05058239748206931),
])
def test_wilson_interval_matches_known_values(successes: int, trials: int, low: float,
                                              high: float) -> None:
    """The Wilson interval reproduces published values."""
    assert wilson_interval(successes, trials) == pytest.approx((low, high), abs=1e-12)


@pytest.mark.parametrize(("successes", "trials"), [(0, 7), (3, 7), (7, 7), (10, 10), (999, 1000)])
def test_wilson_interval_agrees_with_scipy(successes: int, trials: int) -> None:
    """The Wilson interval equals scipy's binomtest proportion_ci(method='wilson')."""
    stats = pytest.importorskip("scipy.stats")
    expected = stats.binomtest(successes, trials).proportion_ci(0.95, method="wilson")
    assert wilson_interval(successes, trials) == pytest.approx((expected.low, expected.high),
                                                               abs=1e-12)


@pytest.mark.parametrize(("successes", "trials"), [(0, 10), (10, 10), (0, 1), (1, 1), (49, 49)])
def test_wilson_interval_contains_the_estimate_at_the_extremes(successes: int,
                                                               trials: int) -> None:
    """At 0 or all successes the interval reaches exactly 0 or 1, so it holds the estimate."""
    low, high = wilson_interval(successes, trials)
    assert low <= successes / trials <= high
    assert (low == 0.0) if successes == 0 else (high == 1.0)


def test_wilson_interval_of_no_trials_is_uninformative() -> None:
    """With no trials, the interval is [0, 1]."""
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_histogram_quantile_interpolates_inside_a_bin() -> None:
    """All mass in one bin: the median lies halfway through that bin."""
    assert histogram_quantile(np.array([0, 10, 0]), 1.0, 0.5) == pytest.approx(1.5)


def test_histogram_quantile_of_uniform_counts() -> None:
    """Equal counts in 100 bins of 0.1 give quantiles q * 10 exactly."""
    counts = np.ones(100, dtype=np.int64)
    for q in (0.05, 0.25, 0.5, 0.95):
        assert histogram_quantile(counts, 0.1, q) == pytest.approx(10 * q)


def test_histogram_quantile_matches_sample_quantiles() -> None:
    """Quantiles from a fine histogram are within one bin width of the sample quantiles."""
    rng = np.random.default_rng(SEED)
    sample = rng.exponential(3.0, 20_000)
    width = 0.125
    counts = np.bincount((sample / width).astype(int))
    for q in (0.05, 0.5, 0.95):
        assert abs(histogram_quantile(counts, width, q) - np.quantile(sample, q)) <= width


def test_histogram_quantile_of_empty_counts_is_nan() -> None:
    """An empty histogram has no quantiles."""
    assert math.isnan(histogram_quantile(np.zeros(5, dtype=np.int64), 1.0, 0.5))


@pytest.mark.slow
def test_border_probabilities_match_closed_form(border: escalate.Scenario) -> None:
    """P(strike) = 0.35 and P(war) = 0.35 * 0.2 lie in 99.9% Wilson intervals of 20k replications."""
    result = run(border, replications=20_000, seed=SEED, keep_replications=False)
    counts = result.aggregator.outcome_counts
    names = [outcome.name for outcome in result.scenario.outcomes]
    for name, expected in (("strike", 0.35), ("war", 0.35 * 0.2), ("talks", 1 - 0.35 * 0.2)):
        low, high = wilson_interval(int(counts[names.index(name)]), 20_000, z=Z999)
        assert low <= expected <= high, f"{name}: [{low:.4f}, {high:.4f}] excludes {expected}"


OVERFLOW = """\
escalate: 1
name: Overflow
horizon: 100
state: {x: 1.0}
events:
  grow: {at: 0, set: {x: "x * 1e200"}, repeat: {every: 1}}
"""


@pytest.mark.parametrize("engine", ["reference", "batch"])
def test_an_update_that_overflows_stops_the_run(engine: str) -> None:
    """A state update whose value is not a finite number (here an overflow) is a run-time error."""
    with pytest.raises(escalate.SimulationError, match=r"set x: inf is not a finite number"):
        escalate.run(escalate.loads(OVERFLOW), replications=3, seed=1, engine=engine)


@pytest.mark.parametrize("engine", ["reference", "batch"])
def test_arrays_hold_the_columns_of_replications_csv(border: escalate.Scenario, engine: str,
                                                     tmp_path: Path) -> None:
    """Every numeric column of replications.csv is among the result's arrays, equal row by row
    (the path, text, is in the file only)."""
    from escalate.workflow import run_to_directory

    result = run_to_directory(border, tmp_path / "run", replications=300, seed=SEED,
                              engine=engine)
    arrays = run(border, replications=300, seed=SEED, engine=engine).arrays
    with open(tmp_path / "run" / "replications.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert result.replications == len(rows) == len(arrays["replication"])
    for column in ("replication", "max_level", "final_level", "events_fired", "events_skipped"):
        assert arrays[column].tolist() == [int(row[column]) for row in rows], column
    assert arrays["terminal"].tolist() == [row["terminal"] for row in rows]
