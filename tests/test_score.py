"""Backtest scores: Brier and log scores of a run's window probabilities against what happened."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from conftest import SCENARIOS
from report_helpers import run_directory

from escalate.errors import UsageError
from escalate.report.rundata import RunData, read_directory
from escalate.report.score import (
    Observations,
    cumulative_probability,
    load_observations,
    log_score,
    score_run,
)

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
    assert report.missing == ()
    scored = {o.outcome: o.occurred for o in report.outcomes}
    assert scored["energy_strikes"]
    assert scored["still_fighting"]
    assert not scored["nato_territory_strike"]
    assert not scored["us_facility_strike"]
    assert not scored["nuclear_use"]
    assert not scored["ceasefire"]
    assert 0 <= report.brier <= 1
