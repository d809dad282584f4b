"""Comparing runs: paired differences on common random numbers, unpaired otherwise."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import BORDER
from report_helpers import run_directory
from scipy import stats

import escalate
from escalate.analysis.compare import compare_runs, newcombe_unpaired
from escalate.analysis.inputs import resolve_runs
from escalate.cli import main
from escalate.montecarlo.stats import Z95
from escalate.report.comparereport import changes_sentence, comparison_json, method_sentence
from escalate.results.rundir import Indicators, RunData, run_data_from_result


@pytest.fixture
def pair(tmp_path: Path) -> tuple[Path, Path]:
    """The border scenario and a variant that differs only in the chance of retaliation."""
    base = tmp_path / "border.yaml"
    base.write_text(BORDER, encoding="utf-8")
    variant = tmp_path / "border-more-retaliation.yaml"
    variant.write_text(BORDER.replace("value: 0.35", "value: 0.45"), encoding="utf-8")
    return base, variant


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stop:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(stop.value.code or 0), out, err


def test_newcombe_unpaired_matches_the_published_example() -> None:
    # Newcombe (1998), independent proportions, example (a): 56/70 against 48/80.
    difference, low, high = newcombe_unpaired(48, 80, 56, 70)
    assert difference == pytest.approx(0.2)
    assert (low, high) == (pytest.approx(0.0524, abs=5e-5), pytest.approx(0.3339, abs=5e-5))


def test_identical_paired_outcomes_have_a_zero_difference_and_an_honest_interval(
        pair: tuple[Path, Path]) -> None:
    """No discordant replication is not certainty: the interval is 0 ± z²/(n + z²)."""
    runs = resolve_runs([pair[0], pair[0]], replications=2000, seed=3)
    (comparison,) = compare_runs(runs)
    half = Z95**2 / (2000 + Z95**2)
    for outcome in comparison.outcomes:
        assert outcome.method == "paired"
        assert outcome.difference == 0.0
        assert (outcome.low, outcome.high) == (pytest.approx(-half), pytest.approx(half))


@pytest.mark.slow
def test_paired_intervals_cover_a_slight_change_on_common_random_numbers(tmp_path: Path) -> None:
    """p_retaliate 0.35 -> 0.351: about 2 discordant replications in 2,000, on 1,000 seeds.

    The strike probability is p_retaliate (the horizon is never reached), so the
    true difference is 0.001.  If the coverage were 95%, fewer covering seeds
    than the 0.1% quantile of Binomial(1000, 0.95) would happen once in 1,000.
    """
    base = escalate.load(_write(tmp_path / "b.yaml", BORDER))
    variant = escalate.load(_write(tmp_path / "v.yaml",
                                   BORDER.replace("value: 0.35", "value: 0.351")))
    covered = 0
    for seed in range(1000):
        runs = [run_data_from_result(escalate.run(s, replications=2000, seed=seed), s.name, s)
                for s in (base, variant)]
        (comparison,) = compare_runs(runs)
        strike = next(o for o in comparison.outcomes if o.outcome == "strike")
        assert strike.method == "paired"
        covered += strike.low <= 0.001 <= strike.high
    assert covered >= stats.binom.ppf(0.001, 1000, 0.95)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_scenarios_differing_in_one_probability_give_a_narrower_paired_interval(
        pair: tuple[Path, Path]) -> None:
    runs = resolve_runs(pair, replications=2000, seed=11)
    (comparison,) = compare_runs(runs)
    assert comparison.method == "paired"
    strike = next(o for o in comparison.outcomes if o.outcome == "strike")
    assert strike.unpaired is not None
    paired_width = strike.high - strike.low
    unpaired_width = strike.unpaired[1] - strike.unpaired[0]
    assert paired_width < 0.6 * unpaired_width
    assert strike.difference > 0
    assert strike.distinguishable


def test_identical_scenarios_show_no_difference(pair: tuple[Path, Path]) -> None:
    runs = resolve_runs([pair[0], pair[0]], replications=500, seed=3)
    (comparison,) = compare_runs(runs)
    assert all(o.difference == 0 and not o.distinguishable for o in comparison.outcomes)


def test_runs_on_different_seeds_are_compared_unpaired_and_say_why(
        pair: tuple[Path, Path], tmp_path: Path) -> None:
    first = run_directory(tmp_path / "a", pair[0], replications=200, seed=1)
    second = run_directory(tmp_path / "b", pair[0], replications=200, seed=2)
    (comparison,) = compare_runs(resolve_runs([first, second]))
    assert comparison.method == "unpaired"
    assert "different seeds (1 and 2)" in comparison.reason
    assert all(o.method == "unpaired" and o.unpaired is None for o in comparison.outcomes)


def test_a_scenario_file_is_run_on_the_seed_of_a_run_directory_to_pair_with_it(
        pair: tuple[Path, Path], tmp_path: Path) -> None:
    directory = run_directory(tmp_path / "a", pair[0], replications=300, seed=9)
    runs = resolve_runs([directory, pair[1]])
    assert (runs[1].seed, runs[1].replications) == (9, 300)
    assert compare_runs(runs)[0].method == "paired"


@pytest.mark.parametrize("engine", ["reference", "batch"])
def test_a_scenario_file_runs_on_the_engine_of_a_run_directory_to_pair_with_it(
        pair: tuple[Path, Path], tmp_path: Path, engine: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The two engines draw differently, so a scenario file compared with a directory made on
    either engine runs on that engine and pairs with it; --engine says otherwise."""
    directory = run_directory(tmp_path / "a", pair[0], replications=300, seed=9, engine=engine)
    runs = resolve_runs([directory, pair[1]])
    assert runs[1].engine == engine
    assert compare_runs(runs)[0].method == "paired"
    other = "batch" if engine == "reference" else "reference"
    code, out, err = _cli(capsys, "compare", str(directory), str(pair[1]), "--engine", other,
                          "--format", "json")
    assert code == 0, err
    assert json.loads(out)[0]["method"] == "unpaired"


def test_fail_if_changed_exits_one_for_a_changed_model_and_zero_for_the_same(
        pair: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _cli(capsys, "compare", str(pair[0]), str(pair[1]), "-n", "2000",
                          "--fail-if-changed")
    assert code == 1
    assert "strike" in err
    assert "Paired" in out
    code, _, _ = _cli(capsys, "compare", str(pair[0]), str(pair[0]), "-n", "500",
                      "--fail-if-changed")
    assert code == 0


def test_compare_prints_json_markdown_and_html(pair: tuple[Path, Path],
                                               capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    code, out, _ = _cli(capsys, "compare", *map(str, pair), "-n", "300", "--format", "json")
    data = json.loads(out)
    assert code == 0
    assert data[0]["method"] == "paired"
    assert set(data[0]["outcomes"]["war"]) >= {"difference", "ci95", "distinguishable"}
    code, out, _ = _cli(capsys, "compare", *map(str, pair), "-n", "300", "--format", "md")
    assert "| outcome |" in out
    assert "Paired" in out
    code, _, _ = _cli(capsys, "compare", *map(str, pair), "-n", "300", "--format", "html",
                      "--out", str(tmp_path / "c.html"))
    html = (tmp_path / "c.html").read_text()
    assert code == 0
    assert 'class="comparison"' in html
    assert "data:image/svg+xml" in html


def test_compare_needs_two_inputs(pair: tuple[Path, Path],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "compare", str(pair[0]))
    assert code == 2
    assert "at least two inputs" in err
    assert "Traceback" not in err


# -- pairing needs the same engine; what unpaired intervals mean ---------------------------


def test_runs_on_different_engines_are_compared_unpaired_and_say_why(
        pair: tuple[Path, Path], tmp_path: Path) -> None:
    """The reference and batch engines draw differently, so one seed does not pair them."""
    first = run_directory(tmp_path / "a", pair[0], replications=300, seed=4, engine="reference")
    second = run_directory(tmp_path / "b", pair[1], replications=300, seed=4, engine="batch")
    (comparison,) = compare_runs(resolve_runs([first, second]))
    assert comparison.method == "unpaired"
    assert comparison.reason == "different engines (reference and batch)"
    assert all(o.method == "unpaired" for o in comparison.outcomes)


def _in_memory(text: str, tmp_path: Path, *, seed: int = 5, replications: int = 400,
               first: int = 0, uncertainty: bool = False) -> RunData:
    scenario = escalate.load(_write(tmp_path / f"s{seed}-{first}-{uncertainty}.yaml", text))
    result = escalate.run(scenario, replications=replications, seed=seed, first=first,
                          uncertainty=uncertainty)
    return run_data_from_result(result, scenario.name, scenario)


def _without(run: RunData, key: str) -> RunData:
    return dataclasses.replace(run, manifest={k: v for k, v in run.manifest.items() if k != key},
                               summary={k: v for k, v in run.summary.items() if k != key})


def _unpaired_cases(tmp_path: Path) -> dict[str, tuple[RunData, RunData]]:
    base = _in_memory(BORDER, tmp_path)
    flags = base.indicators()
    assert flags is not None
    shifted = Indicators(flags.replication + 1, flags.occurred)
    return {
        "seeds": (base, _in_memory(BORDER, tmp_path, seed=6)),
        "disjoint": (base, _in_memory(BORDER, tmp_path, first=400)),
        "overlapping": (base, _in_memory(BORDER, tmp_path, first=200)),
        "no file": (base, dataclasses.replace(base, indicators_in_memory=None)),
        "other replications": (base, dataclasses.replace(base, indicators_in_memory=shifted)),
        "no seed": (base, _without(base, "seed")),
        "no engine": (base, _without(base, "engine")),
        "uncertainty": (base, _in_memory(BORDER, tmp_path, uncertainty=True)),
    }


INDEPENDENT = "the runs are independent samples"
CONSERVATIVE = "conservative (wider than needed) when the shared draws correlate the runs"
UNMATCHED = "cannot be matched replication by replication, so they are treated as independent"

UNPAIRED_WORDING = {
    "seeds": ("different seeds (5 and 6)", INDEPENDENT),
    "disjoint": ("different replication ranges (0–399 and 400–799)", INDEPENDENT),
    "overlapping": ("different replication ranges (0–399 and 200–599)", CONSERVATIVE),
    "no file": ("a run kept no per-replication results (replications.csv)", CONSERVATIVE),
    "other replications": ("the runs hold different replications", CONSERVATIVE),
    "no seed": ("a run does not record its seed", UNMATCHED),
    "no engine": ("a run does not record its engine", UNMATCHED),
    "uncertainty": ("one run drew uncertain parameters and the other did not", UNMATCHED),
}


def test_each_reason_for_not_pairing_is_worded_by_what_it_implies(tmp_path: Path) -> None:
    """Only runs known to be independent are called independent; shared streams are conservative."""
    for case, (baseline, variant) in _unpaired_cases(tmp_path).items():
        (comparison,) = compare_runs([baseline, variant])
        reason, implication = UNPAIRED_WORDING[case]
        sentence = method_sentence(comparison)
        assert comparison.method == "unpaired", case
        assert all(o.method == "unpaired" for o in comparison.outcomes), case
        assert comparison.reason == reason, case
        assert sentence.startswith(f"Unpaired ({reason}): "), case
        assert implication in sentence, case
        others = {INDEPENDENT, CONSERVATIVE, UNMATCHED} - {implication}
        assert not any(other in sentence for other in others), case


# -- "changed": Holm over every outcome of every variant ------------------------------------


def _synthetic(label: str, flags: dict[str, np.ndarray]) -> RunData:
    """A paired-ready run whose outcomes occurred in the replications flagged."""
    replications = len(next(iter(flags.values())))
    outcomes: dict[str, Any] = {
        name: {"count": int(f.sum()), "probability": float(f.mean()), "ci95": [0.0, 1.0]}
        for name, f in flags.items()}
    summary = {"replications": replications, "seed": 1, "first_replication": 0,
               "uncertainty": False, "engine": "batch", "outcomes": outcomes}
    return RunData(label, {"engine": "batch", "seed": 1}, summary, None, None,
                   Indicators(np.arange(replications), flags))


def _moved(variant_only: int) -> list[RunData]:
    """Four outcomes over 2,000 replications; in the variant one occurs in more of them."""
    flags = {name: np.arange(2000) % 7 == k for k, name in enumerate(("a", "b", "c", "moved"))}
    moved = flags["moved"].copy()
    moved[np.flatnonzero(~moved)[:variant_only]] = True
    return [_synthetic("baseline", flags), _synthetic("variant", {**flags, "moved": moved})]


def test_a_95_interval_excluding_zero_is_not_a_change_among_four_outcomes() -> None:
    """6 discordant replications one way: p = 0.014 < 0.05, but above Holm's 0.05 / 4."""
    (comparison,) = compare_runs(_moved(6))
    moved = next(o for o in comparison.outcomes if o.outcome == "moved")
    assert moved.distinguishable
    assert moved.p_value == pytest.approx(0.0143, abs=1e-4)
    assert not moved.changed
    assert comparison.changed == ()
    assert comparison.family == 4
    assert changes_sentence(comparison) == (
        "No outcome changed at a family-wise error rate of 5% over the 4 differences compared "
        "(Holm's procedure), although one 95% interval excludes zero.")


def test_a_clear_change_is_called_a_change() -> None:
    """20 discordant replications one way: p = 8e-6, far below 0.05 / 4."""
    (comparison,) = compare_runs(_moved(20))
    assert [o.outcome for o in comparison.changed] == ["moved"]
    assert changes_sentence(comparison).endswith("(Holm's procedure): moved.")
    data = comparison_json([comparison])[0]
    assert data["family"] == 4
    assert data["outcomes"]["moved"]["changed"] is True
    assert data["outcomes"]["a"]["changed"] is False


def test_the_family_spans_every_variant(tmp_path: Path) -> None:
    """Two variants of four outcomes: Holm runs over 8 differences, not 4 per variant."""
    baseline, variant = _moved(20)
    comparisons = compare_runs([baseline, variant, dataclasses.replace(variant, label="again")])
    assert [c.family for c in comparisons] == [8, 8]
    # p = 8e-6 for "moved" in both; the smallest two pass 0.05/8 and 0.05/7.
    assert [[o.outcome for o in c.changed] for c in comparisons] == [["moved"], ["moved"]]


@pytest.mark.parametrize(("variant_only", "exit_code"), [(6, 0), (20, 1)])
def test_fail_if_changed_exits_by_the_family_wise_rule(
        variant_only: int, exit_code: int, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The exit status follows Holm's verdict, not whether some 95% interval excludes zero."""
    monkeypatch.setattr("escalate.analysis.inputs.resolve_runs",
                        lambda *args, **kwargs: _moved(variant_only))
    code, out, err = _cli(capsys, "compare", "baseline", "variant", "--fail-if-changed")
    assert code == exit_code
    assert "family-wise error rate of 5% over the 4 differences" in out
    assert ("variant: moved" in err) == (exit_code == 1)


@pytest.mark.slow
def test_models_that_behave_the_same_are_called_changed_at_most_5_percent_of_the_time(
        tmp_path: Path) -> None:
    """One model on five seeds (12 unpaired differences), 300 times.

    If the family-wise error were 5%, more flagged repetitions than the 99.9%
    quantile of Binomial(300, 0.05) would happen once in 1,000.  Testing each
    difference at 5% flags about a third of them.
    """
    scenario = escalate.load(_write(tmp_path / "b.yaml", BORDER))
    flagged = 0
    for repetition in range(300):
        runs = [run_data_from_result(escalate.run(scenario, replications=400,
                                                  seed=5 * repetition + k), str(k), scenario)
                for k in range(5)]
        flagged += any(c.changed for c in compare_runs(runs))
    assert flagged <= stats.binom.ppf(0.999, 300, 0.05)


def test_a_run_directory_without_replications_csv_is_compared_unpaired(
        pair: tuple[Path, Path], tmp_path: Path) -> None:
    first = run_directory(tmp_path / "a", pair[0], replications=200, seed=3)
    second = run_directory(tmp_path / "b", pair[0], replications=200, seed=3)
    (second / "replications.csv").unlink()
    (comparison,) = compare_runs(resolve_runs([first, second]))
    assert comparison.relation == "shared"
    assert CONSERVATIVE in method_sentence(comparison)
