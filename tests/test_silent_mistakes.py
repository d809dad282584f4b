"""Mistakes that used to give a number without a word: each is now refused where it is written.

An outcome or parameter whose name would collide with an output column, a
duration unit that can be read two ways, a number that YAML 1.1 and YAML 1.2
read differently, and a boolean where a name is wanted.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import column_like_name
from sweep_helpers import escalate_cli, write_scenario

import escalate
from escalate.columns import find_clashes, replication_columns, sample_columns, sweep_columns
from escalate.observations import load_observations

SMALL = """\
escalate: 1
name: Small
horizon: {horizon}
parameters:
{parameters}
events:
  strike: {{at: 1, set: {{level: 1}}}}
outcomes:
{outcomes}
"""


def _small(outcomes: list[str], parameters: list[str], horizon: str = "30") -> str:
    return SMALL.format(
        horizon=horizon,
        parameters="\n".join(f"  {name}: {{value: 0.5, uncertainty: {{uniform: [0.1, 0.9]}}}}"
                             for name in parameters) or "  {}",
        outcomes="\n".join(f"  {name}: {{event: strike}}" for name in outcomes))


def _repeats(header: list[str]) -> list[str]:
    return [column for column, count in Counter(header).items() if count > 1]


@settings(max_examples=300, deadline=None)
@given(st.lists(column_like_name(), unique=True, max_size=4),
       st.lists(column_like_name(), unique=True, max_size=3))
def test_names_clash_exactly_when_some_output_would_repeat_a_column(
        outcomes: list[str], parameters: list[str]) -> None:
    """No clash found means every header is unique; a repeated column means a clash is found."""
    repeated = (_repeats(replication_columns(outcomes, parameters))
                + _repeats(sweep_columns(parameters, outcomes))
                + _repeats(sample_columns(parameters, outcomes)))

    assert bool(find_clashes(outcomes, parameters)) == bool(repeated)


@settings(max_examples=40, deadline=None)
@given(st.lists(column_like_name(), unique=True, min_size=1, max_size=3),
       st.lists(column_like_name(), unique=True, max_size=2))
def test_a_scenario_that_loads_keeps_every_column_of_its_run(
        outcomes: list[str], parameters: list[str]) -> None:
    """Whatever its names, a scenario that compiles gives a run with one array per column."""
    if set(outcomes) & set(parameters) or {"now", "level", "max", "min"} & {*outcomes,
                                                                          *parameters}:
        return  # refused for other reasons (one namespace, reserved words)
    text = _small(outcomes, parameters)
    if find_clashes(outcomes, parameters):
        with pytest.raises(escalate.ScenarioError, match="collides with an output column"):
            escalate.loads(text, "names.yaml")
        return
    scenario = escalate.loads(text, "names.yaml")
    result = escalate.run(scenario, replications=3, seed=1, uncertainty=True)

    arrays = result.arrays
    assert len(arrays) == 7 + 2 * len(outcomes) + len(parameters)
    assert sum(1 for column in arrays if column in outcomes) == len(outcomes)


def test_an_outcome_named_max_level_no_longer_overwrites_the_runs_column() -> None:
    """The issue's example: `max_level` as an outcome is refused, not merged into the run's column."""
    with pytest.raises(escalate.ScenarioError, match="'max_level' collides") as info:
        escalate.loads(_small(["max_level"], []), "names.yaml")

    assert info.value.diagnostics[0].hint.startswith("rename the outcome")


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        (_small(["war", "war_day"], []), ":10:3: outcomes.war_day:",
         "the outcome name 'war_day' collides with an output column"),
        (_small(["war"], [], horizon="6M"), ":3:10: horizon:",
         "the time unit 'M' is ambiguous (minutes or months?): write `6 months`"),
        (_small(["war"], [], horizon="0100"), ":3:10: horizon:",
         "the number 0100 has a leading zero"),
        (_small(["war"], [], horizon="3:00"), ":3:10: horizon:",
         "3:00 is the base-60 number 180 in YAML 1.1"),
        (_small(["war"], []).replace("at: 1,", "at: 1, actor: NO,") + "actors: [NO]\n",
         ":10:10: actors[0]:", "found `NO`, which YAML read as the boolean false"),
    ],
    ids=["column-collision", "ambiguous-unit", "leading-zero", "base-60", "boolean-name"],
)
def test_validate_refuses_each_with_exit_2_and_its_position(
        tmp_path: Path, text: str, where: str, words: str) -> None:
    """`escalate validate` exits 2 and prints file:line:column, the field and the reason."""
    path = write_scenario(tmp_path, text)

    completed = escalate_cli("validate", path)

    assert completed.returncode == 2, completed.stderr
    output = completed.stdout + completed.stderr
    assert f"{path}{where}" in output, output
    assert words in output, output


def test_run_refuses_a_leading_zero_before_running(tmp_path: Path) -> None:
    """`escalate run` refuses `max_events: 010` (YAML 1.1 reads 8) with exit 2, writing nothing."""
    path = write_scenario(tmp_path, _small(["war"], []) + "max_events: 010\n")

    completed = escalate_cli("run", path, "--replications", "10", "--out", tmp_path / "out")

    assert completed.returncode == 2
    assert f"{path}:10:13: max_events: the number 010 has a leading zero" in completed.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("unit", ["M", "m", "Days", "H", "MO"])
def test_a_unit_in_the_wrong_case_or_ambiguous_is_refused(unit: str) -> None:
    """`6M` (minutes or months?) and units not in lower case are refused, never guessed."""
    with pytest.raises(escalate.ScenarioError, match="horizon: "):
        escalate.loads(_small(["war"], [], horizon=f"6 {unit}"), "units.yaml")


def test_units_written_as_the_table_says_are_read_and_m_is_not() -> None:
    """Every spelling of the documented table is read; `m`, once minutes, is refused."""
    for horizon, days in [("6 months", 182.625), ("6 mo", 182.625), ("180 days", 180.0),
                          ("3000 min", 3000 / 1440), ("36h", 1.5), ("2 weeks", 14.0),
                          ("1 year", 365.25)]:
        scenario = escalate.loads(_small(["war"], [], horizon=horizon), "units.yaml")
        assert scenario.compiled.horizon == pytest.approx(days)
    with pytest.raises(escalate.ScenarioError, match="ambiguous"):
        escalate.loads(_small(["war"], [], horizon="3000 m"), "units.yaml")


def test_quoting_as_the_hints_say_makes_numbers_and_booleans_text() -> None:
    """Unquoted, `NO` is refused as a boolean; quoted as the hint says, it is the name NO."""
    text = _small(["war"], []).replace("at: 1,", "at: 1, actor: NO,") + "actors: [NO]\n"
    with pytest.raises(escalate.ScenarioError, match="quote it"):
        escalate.loads(text, "quoted.yaml")

    scenario = escalate.loads(text.replace("NO", "'NO'"), "quoted.yaml")

    assert scenario.compiled.horizon == 30.0


def test_an_observations_file_is_read_by_the_same_rules(tmp_path: Path) -> None:
    """Observation files refuse leading zeros and explain booleans where a name is wanted."""
    path = tmp_path / "observed.yaml"
    path.write_text("observed: 01\nwindow: {start: 2030-01-01, end: 2030-02-01}\n"
                    "sources: [{id: news, title: News}]\n"
                    "outcomes:\n  war: {occurred: true, source: NO}\n", encoding="utf-8")

    with pytest.raises(escalate.UsageError, match=r"observed\.yaml:1:11: .*leading zero"):
        load_observations(path)
    path.write_text(path.read_text(encoding="utf-8").replace("observed: 01", "observed: 1"),
                    encoding="utf-8")
    with pytest.raises(escalate.UsageError, match="which YAML read as the boolean false"):
        load_observations(path)
