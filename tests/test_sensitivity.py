"""Sensitivity analysis: indices over the uncertain parameters, with replication noise measured."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from conftest import BORDER

import escalate
from escalate.cli import main
from escalate.distributions import UncertainParameter, draw_uncertain
from escalate.errors import UsageError
from escalate.report.sensitivity import quantile, sensitivity_analysis

# The border scenario with a second influential parameter and one that nothing uses.
SENSITIVE = BORDER.replace(
    "  retaliation_delay: {value: 4 days, source: analyst}",
    "  retaliation_delay: {value: 4 days, source: analyst}\n"
    "  p_war: {value: 0.2, ci90: [0.05, 0.5], range: [0, 1], source: analyst}\n"
    "  unused: {value: 3, uncertainty: {uniform: [1, 5]}, source: analyst}",
).replace("choose: {open_war: 0.2, otherwise: talks_open}",
          "choose: {open_war: p_war, otherwise: talks_open}")


@pytest.fixture
def sensitive(tmp_path: Path) -> Path:
    path = tmp_path / "sensitive.yaml"
    path.write_text(SENSITIVE, encoding="utf-8")
    return path


@pytest.mark.parametrize("spec", [
    UncertainParameter("beta", (2.0, 5.0)), UncertainParameter("uniform", (1.0, 3.0)),
    UncertainParameter("triangular", (0.0, 1.0, 4.0)), UncertainParameter("pert", (0.0, 2.0, 10.0)),
    UncertainParameter("lognormal", (3.0, 0.4)), UncertainParameter("normal", (1.0, 2.0)),
    UncertainParameter("logitnormal", (-1.0, 0.5)),
    UncertainParameter("truncnormal", (0.0, 1.0, -0.5, math.nan)),
])
def test_quantiles_agree_with_the_distribution_the_runs_draw_from(spec: UncertainParameter) -> None:
    draws = np.asarray(draw_uncertain(spec, np.random.default_rng(0), 40_000))
    probabilities = np.array([0.1, 0.5, 0.9])
    assert quantile(spec, probabilities) == pytest.approx(np.quantile(draws, probabilities),
                                                          rel=0.03, abs=0.02)


def test_sobol_ranks_the_parameter_that_matters_first_and_gives_an_unused_one_nothing(
        sensitive: Path) -> None:
    result = sensitivity_analysis(escalate.load(sensitive), method="sobol", samples=16,
                                  replications=150, seed=4)
    strike = result.data["outcomes"]["strike"]
    assert strike["ranking"][0] == "p_retaliate"
    # Common random numbers: a parameter that changes no replication changes no estimate.
    assert strike["indices"]["unused"]["ST"] == 0.0
    assert strike["indices"]["unused"]["S1"] == 0.0
    assert result.data["outcomes"]["war"]["ranking"][-1] == "unused"
    assert result.data["points"] == 16 * (3 + 2)
    noise = strike["noise"]
    assert 0 < noise["share"] < 0.2
    assert noise["sd"] == pytest.approx(math.sqrt(0.3 * 0.7 / 149), rel=0.35)


def test_morris_screening_ranks_the_parameters(sensitive: Path) -> None:
    result = sensitivity_analysis(escalate.load(sensitive), method="morris", samples=4,
                                  replications=100, seed=2)
    war = result.data["outcomes"]["war"]
    assert set(war["ranking"]) == {"p_retaliate", "p_war", "unused"}
    assert war["indices"]["unused"]["mu_star"] == 0.0
    assert war["ranking"][-1] == "unused"


def test_a_scenario_without_uncertain_parameters_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "certain.yaml"
    path.write_text(BORDER.replace(", ci90: [0.15, 0.55]", ""), encoding="utf-8")
    with pytest.raises(UsageError, match="no uncertain parameter"):
        sensitivity_analysis(escalate.load(path))


def test_sobol_needs_a_power_of_two(sensitive: Path) -> None:
    with pytest.raises(UsageError, match="power of two"):
        sensitivity_analysis(escalate.load(sensitive), samples=12)


def test_the_command_prints_the_ranking_and_writes_a_directory_with_its_report(
        sensitive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["sensitivity", str(sensitive), "--outcome", "war", "--samples", "8", "-n", "80",
              "--out", str(tmp_path / "sens"), "-q"])
    out, _ = capsys.readouterr()
    assert stop.value.code == 0
    assert "Sensitivity of war (sobol)" in out
    assert "p_war" in out
    assert "Replication noise" in out
    html = (tmp_path / "sens" / "report.html").read_text()
    assert 'id="figure-tornado-war"' in html
    assert 'class="ranking"' in html
    assert "tornado-strike" not in html
    with pytest.raises(SystemExit) as stop:
        main(["report", str(tmp_path / "sens"), "--format", "md"])
    assert stop.value.code == 0
    assert (tmp_path / "sens" / "report_files" / "tornado-war.svg").exists()


def test_an_unknown_outcome_is_named(sensitive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["sensitivity", str(sensitive), "--outcome", "peace"])
    _, err = capsys.readouterr()
    assert stop.value.code == 2
    assert "unknown outcome 'peace'" in err
