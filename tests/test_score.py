"""Backtest scores: Brier and log scores of a run's window probabilities against what happened."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import SCENARIOS
from report_helpers import run_directory

from escalate.analysis.score import cumulative_probability, log_score, score_run
from escalate.errors import UsageError
from escalate.observations import Observations, load_observations
from escalate.results.reader import RunData, read_directory

OBSERVED = SCENARIOS / "observed-2025-11.yaml"


def _outcome(probability_by_day_10: float) -> dict[str, Any]:
    return {"label": "", "count": 0, "probability": probability_by_day_10, "ci95": [0, 1],
            "cumulative": {"days": [0.0, 10.0, 20.0],
                           "probability": [0.0, probability_by_day_10, 0.95]}}


def _run(**outcomes: float) -> RunData:
    summary = {"replications": 100, "start": "2030-01-01", "horizon_days": 20.0, "seed": 1,
               "outcomes": {name: _outcome(p) for name, p in outcomes.items()}}
    return RunData("hand", {}, summary, None)


def _observations(end: str = "2030-01-11", **occurred: bool) -> Observations:
    return Observations.model_validate({
        "observed": 1, "window": {"start": "2030-01-01", "end": end},
        "sources": [{"id": "news", "title": "News"}],
        "outcomes": {name: {"occurred": flag, "source": "news"} for name, flag in occurred.items()},
    })


def test_brier_and_log_scores_match_a_hand_computation() -> None:
    report = score_run(_run(talks=0.8, war=0.3, strike=0.0),
                       _observations(talks=True, war=False, strike=False))
    scores = {o.outcome: o for o in report.outcomes}
    assert scores["talks"].brier == pytest.approx(0.04)  # (0.8 - 1)^2
    assert scores["war"].brier == pytest.approx(0.09)  # (0.3 - 0)^2
    assert scores["strike"].brier == 0.0
    assert report.brier == pytest.approx((0.04 + 0.09 + 0.0) / 3)
    assert scores["talks"].log == pytest.approx(-math.log(0.8))
    assert scores["war"].log == pytest.approx(-math.log(0.7))
    assert scores["strike"].log == pytest.approx(-math.log(1 - 0.005))  # clipped: half of 1/100
    assert report.log == pytest.approx((-math.log(0.8) - math.log(0.7) - math.log(0.995)) / 3)


def test_the_window_probability_is_read_from_the_cumulative_curve_at_its_end() -> None:
    report = score_run(_run(talks=0.8), _observations(end="2030-01-16", talks=True))
    assert report.window_days == 15
    assert report.outcomes[0].probability == pytest.approx((0.8 + 0.95) / 2)


def test_a_probability_of_zero_for_what_happened_scores_finitely() -> None:
    assert log_score(0.0, True, 1000) == pytest.approx(-math.log(0.0005))
    assert math.isfinite(log_score(1.0, False, 10))


def test_cumulative_probability_interpolates_and_stops_at_the_ends() -> None:
    curve = {"days": [0.0, 1.0, 2.0], "probability": [0.0, 0.5, 0.7]}
    assert cumulative_probability(curve, 1.5) == pytest.approx(0.6)
    assert cumulative_probability(curve, 9.0) == 0.7


def test_a_window_that_does_not_start_at_the_scenario_start_is_refused() -> None:
    observations = Observations.model_validate({
        "observed": 1, "window": {"start": "2030-01-02", "end": "2030-01-05"},
        "sources": [{"id": "n", "title": "N"}], "outcomes": {"war": {"occurred": False,
                                                                     "source": "n"}}})
    with pytest.raises(UsageError, match="must start at the scenario's start"):
        score_run(_run(war=0.1), observations)


def test_a_window_beyond_the_horizon_is_refused() -> None:
    with pytest.raises(UsageError, match="after the run's horizon"):
        score_run(_run(war=0.1), _observations(end="2030-03-01", war=False))


def test_an_observations_file_citing_an_unknown_source_is_refused_with_its_position(
        tmp_path: Path) -> None:
    path = tmp_path / "observed.yaml"
    path.write_text("observed: 1\nwindow: {start: 2030-01-01, end: 2030-02-01}\n"
                    "sources: [{id: news, title: News}]\n"
                    "outcomes:\n  war: {occurred: true, date: 2030-03-01, source: newz}\n")
    with pytest.raises(UsageError, match=r"observed.yaml:5:.*unknown source 'newz'") as error:
        load_observations(path)
    assert "outside the window" in str(error.value)


def test_the_shipped_observations_score_the_article_scenario(tmp_path: Path) -> None:
    observations = load_observations(OBSERVED)
    assert observations.window.start.isoformat() == "2024-11-17"
    assert all(source.url for source in observations.sources)
    run = read_directory(run_directory(tmp_path / "run", SCENARIOS / "kursk-atacms-2024.yaml",
                                       replications=200))
    assert isinstance(run, RunData)
    report = score_run(run, observations)
    scored = {o.outcome: o.occurred for o in report.outcomes}
    assert scored["energy_strikes"]
    assert scored["still_fighting"]
    assert not scored["nato_territory_strike"]
    assert not scored["us_facility_strike"]
    assert not scored["nuclear_use"]
    assert not scored["ceasefire"]
    assert 0 <= report.brier <= 1


def _observations_file(tmp_path: Path, old: str, new: str) -> Path:
    """The shipped observations file with one mistake: ``old`` (found once) replaced by ``new``."""
    text = OBSERVED.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / "observed.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    """The lines of the error that loading ``path`` raises, after its heading."""
    with pytest.raises(UsageError) as error:
        load_observations(path)
    heading, *problems = str(error.value).splitlines()
    assert heading == "invalid observations file:"
    return problems


def test_a_misspelt_field_of_an_observation_is_one_problem_with_a_suggestion(
        tmp_path: Path) -> None:
    """`occured:` is reported once, as an unknown field naming `occurred`, not also as missing."""
    path = _observations_file(tmp_path, "  energy_strikes:\n    occurred: true",
                              "  energy_strikes:\n    occured: true")
    (problem,) = _problems(path)
    assert problem == (f"{path}:64:5: outcomes.energy_strikes.occured: unknown field 'occured' "
                       "(hint: did you mean `occurred`?)")


def test_a_value_that_is_not_true_or_false_says_what_to_write(tmp_path: Path) -> None:
    """`occurred: maybe` asks for true or false and says what each means."""
    path = _observations_file(tmp_path, "  energy_strikes:\n    occurred: true",
                              "  energy_strikes:\n    occurred: maybe")
    (problem,) = _problems(path)
    assert problem == (f"{path}:64:15: outcomes.energy_strikes.occurred: expected true or false, "
                       "found 'maybe' (hint: write `occurred: true` if it happened within the "
                       "window, `occurred: false` if not)")


def test_an_unknown_format_version_names_the_one_this_version_reads(tmp_path: Path) -> None:
    """`observed: 3` is an unsupported format, with the line to write instead."""
    path = _observations_file(tmp_path, "observed: 1", "observed: 3")
    (problem,) = _problems(path)
    assert problem == (f"{path}:12:11: observed: unsupported format version 3; this version "
                       "reads format 1 (hint: write `observed: 1`)")


def test_true_is_not_format_version_one(tmp_path: Path) -> None:
    """YAML's `true` equals 1 in Python; `observed: true` is refused as scenario files refuse
    `escalate: true`."""
    path = _observations_file(tmp_path, "observed: 1", "observed: true")
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:12:11: observed: ")
    assert "the format version is a number (`observed: 1`)" in problem


def test_a_misspelt_window_field_suggests_the_right_one(tmp_path: Path) -> None:
    """An unknown key in `window` is matched against the window's own fields."""
    path = _observations_file(tmp_path, "end: 2025-11-17}", "ending: 2025-11-17}")
    (problem,) = _problems(path)
    assert problem.endswith("window.ending: unknown field 'ending' (hint: did you mean `end`?)")


def test_a_source_of_the_wrong_kind_says_what_a_source_is(tmp_path: Path) -> None:
    """A number as `source:` asks for an id or a list of them."""
    path = _observations_file(tmp_path, "    source: dw-2024-11-22", "    source: 3")
    (problem,) = _problems(path)
    assert problem.endswith("outcomes.third_party_arming.source: expected text or a list, "
                            "found int 3 (hint: the id of an entry under `sources`, or a list "
                            "of ids)")


def test_an_empty_list_of_sources_says_what_to_list(tmp_path: Path) -> None:
    """`sources: []` needs at least one entry, and the hint says what an entry holds."""
    text = OBSERVED.read_text(encoding="utf-8")
    sources = text[text.index("sources:\n"):text.index("outcomes:\n")]
    path = _observations_file(tmp_path, sources, "sources: []\n\n")
    (problem,) = _problems(path)
    assert problem.startswith(f"{path}:20:10: sources: expected at least 1 value, found none")
    assert problem.endswith("(hint: list the reports the observations rest on, each with an "
                            "`id` and a `title`)")


def test_a_misspelt_optional_field_suggests_the_field(tmp_path: Path) -> None:
    """`notes:` on an observation is matched against the fields an observation has."""
    path = _observations_file(tmp_path, "    note: No nuclear weapon", "    notes: No nuclear weapon")
    (problem,) = _problems(path)
    assert problem.endswith("outcomes.nuclear_use.notes: unknown field 'notes' "
                            "(hint: did you mean `note`?)")


def test_an_observed_outcome_the_run_does_not_have_is_refused() -> None:
    """A misspelt outcome is refused with did-you-mean, not left out of the overall mean."""
    with pytest.raises(UsageError, match=r"not outcomes of the run: 'wr': did you mean `war`\?"):
        score_run(_run(talks=0.8, war=0.3), _observations(talks=True, wr=False))


def test_observations_checked_against_the_outcomes_place_a_misspelling(tmp_path: Path) -> None:
    """Loading with the run's outcomes puts an unknown one at its line, with did-you-mean."""
    path = _observations_file(tmp_path, "  nuclear_use:", "  nuclear_us:")
    outcomes = set(load_observations(OBSERVED).outcomes)
    with pytest.raises(UsageError) as error:
        load_observations(path, outcomes=outcomes)
    (problem,) = str(error.value).splitlines()[1:]
    assert re.search(r"observed.yaml:\d+:3: outcomes.nuclear_us: 'nuclear_us' is not an outcome "
                     r"of the run \(hint: did you mean `nuclear_use`\?\)$", problem), problem
