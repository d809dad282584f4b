"""Checking sweep points before anything runs: each problem names the point and its values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import BORDER
from hypothesis import assume, given
from strategies import number_expression, sweep_columns

import escalate
from escalate import ScenarioError
from escalate.scenario import Scenario
from escalate.sweeps.design import Design, build_design
from escalate.sweeps.points import (
    MAX_LISTED,
    fix_parameters,
    invalid_points,
    point_problems,
    validate_points,
)

#: the border scenario with a choice whose probabilities are parameters only
TWO_BRANCHES = BORDER.replace(
    "choose: {retaliation: p_retaliate, otherwise: talks_open}",
    "choose: {retaliation: p_retaliate, open_war: p_escalate, otherwise: talks_open}").replace(
    "  retaliation_delay: {value: 4 days, source: analyst}",
    "  retaliation_delay: {value: 4 days, source: analyst}\n"
    "  p_escalate: {value: 0.1, source: analyst}")


def test_a_value_outside_the_range_names_the_point_and_its_values() -> None:
    """p_retaliate = 1.5 is outside [0, 1]: the error gives the point index and every value."""
    scenario = escalate.loads(BORDER, "border.yaml")
    design = build_design("grid", {"p_retaliate": "0.5,1.5", "retaliation_delay": "2"})
    with pytest.raises(ScenarioError) as caught:
        validate_points(scenario, design)
    (problem,) = caught.value.diagnostics
    assert problem.message.startswith(
        "point 1 (p_retaliate=1.5, retaliation_delay=2.0): parameters.p_retaliate.value")
    assert "outside its range [0, 1]" in problem.message


def test_probabilities_that_sum_above_one_are_found_before_running() -> None:
    """A choice over parameters only is evaluated at each point, and its sum checked."""
    scenario = escalate.loads(TWO_BRANCHES, "border.yaml")
    design = build_design("grid", {"p_retaliate": "0.3,0.6", "p_escalate": "0.3,0.5"})
    with pytest.raises(ScenarioError, match=r"point 3 \(p_retaliate=0.6, p_escalate=0.5\): "
                                            r"events.south_decides.choose \(line \d+\): the "
                                            r"probabilities sum to 1.1, more than 1 \(with "
                                            r"p_escalate = 0.5, p_retaliate = 0.6\)"):
        validate_points(scenario, design)


def test_a_probability_outside_zero_one_is_found_before_running() -> None:
    """A branch probability of -0.2 (a parameter without a range) is refused."""
    scenario = escalate.loads(TWO_BRANCHES, "border.yaml")
    design = build_design("grid", {"p_escalate": "-0.2,0.2"})
    with pytest.raises(ScenarioError, match=r"point 0 \(p_escalate=-0.2\).*outside \[0, 1\]"):
        validate_points(scenario, design)


def test_a_negative_delay_is_found_before_running() -> None:
    """A delay given by a parameter is checked at each point's value."""
    scenario = escalate.loads(BORDER, "border.yaml")
    assert point_problems(scenario, {"retaliation_delay": 1.0}) == []
    (problem,) = point_problems(scenario, {"retaliation_delay": -1.0})
    assert problem.path == "events.retaliation.after"
    assert "cannot be negative" in problem.message


def test_invalid_points_are_listed_in_order_and_counted_beyond_twenty() -> None:
    """Past twenty invalid points the rest are counted, and the listed ones keep their order."""
    scenario = escalate.loads(BORDER, "border.yaml")
    design = build_design("grid", {"p_retaliate": "1.1:3:30"})
    with pytest.raises(ScenarioError) as caught:
        validate_points(scenario, design)
    messages = [d.message for d in caught.value.diagnostics]
    assert messages[0] == "30 of 30 points are invalid; the first 20 are listed"
    assert [m.split(" (")[0] for m in messages[1:]] == [f"point {j:>2}" for j in range(20)]


def test_only_parameters_can_be_varied() -> None:
    """A state variable, an unknown name or a true/false parameter cannot be varied."""
    scenario = escalate.loads(BORDER.replace("retaliation_delay: {value: 4 days",
                                             "flag: {value: true}\n  retaliation_delay: "
                                             "{value: 4 days"), "border.yaml")
    with pytest.raises(ScenarioError, match="cannot vary 'level': it is a state variable"):
        validate_points(scenario, build_design("grid", {"level": "1,2"}))
    with pytest.raises(ScenarioError, match="did you mean `p_retaliate`"):
        validate_points(scenario, build_design("grid", {"p_retaliat": "0.1,0.2"}))
    with pytest.raises(ScenarioError, match="'flag': it is true/false"):
        validate_points(scenario, build_design("grid", {"flag": "0,1"}))


def test_varied_parameters_are_not_redrawn_in_two_level_runs() -> None:
    """With uncertainty on, a varied parameter keeps its point value in every replication."""
    compiled = escalate.loads(BORDER).compiled
    assert compiled.parameter_uncertainty[0] is not None
    fixed = fix_parameters(compiled, ["p_retaliate"])
    assert fixed.parameter_uncertainty[0] is None
    result = escalate.run(fixed, replications=50, seed=1, uncertainty=True)
    assert result.arrays.get("param_p_retaliate") is None


# -- every point at once, as each point alone ---------------------------------------------------

#: a level set from a parameter, on a ladder of three rungs
LEVELS = """\
escalate: 1
name: Levels
horizon: 10
ladder: [calm, tense, war]
parameters:
  jump: {value: 1}
events:
  up: {at: 0, set: {level: jump}}
"""

#: a choice probability and a delay given by expressions over x and y (PROBABILITY and MEAN
#: are replaced), a bounded parameter with a 90% interval, read by a choice and a delay, and
#: updates of a whole-number variable and of the level behind a guard over y
PROBE = """\
escalate: 1
name: Probe
horizon: 100
parameters:
  x: {value: 0.5}
  y: {value: 1}
  flag: {value: true}
  bounded: {value: 0.5, range: [0, 1], ci90: [0.2, 0.8]}
state: {count: 0}
events:
  start: {at: 0, then: [decide, bump]}
  bump: {when: "y > 0.5", set: {level: "floor(y)", count: "x * 2"}}
  decide:
    after: {exponential: {mean: "MEAN"}}
    choose: {a: "PROBABILITY", b: bounded, otherwise: c}
    repeat: {every: {uniform: [bounded, "bounded + x"]}, max: 3}
  a: {}
  b: {}
  c: {}
"""


def _probe(probability: str, mean: str) -> Scenario:
    text = PROBE.replace("PROBABILITY", probability).replace("MEAN", mean)
    try:
        return escalate.loads(text, "probe.yaml")
    except ScenarioError:
        assume(False)  # a literal the compiler refuses already (such as a probability of 2.5)
        raise


def _one_by_one(scenario: Scenario, design: Design) -> list[bool]:
    return [bool(point_problems(scenario, design.point(i)))
            for i in range(design.points)]


@given(probability=number_expression(), mean=number_expression(),
       columns=sweep_columns(["x", "y", "bounded"]))
def test_all_points_at_once_get_the_verdict_of_each_point_alone(
        probability: str, mean: str, columns: dict[str, list[float]]) -> None:
    """invalid_points flags exactly the points whose own compilation and checks find a problem."""
    scenario = _probe(probability, mean)
    design = build_design("list", columns)
    fast = invalid_points(scenario, design)
    assert fast.tolist() == _one_by_one(scenario, design)


def test_values_that_are_not_finite_are_invalid_points() -> None:
    """A point holding NaN or an infinity is refused, as compiling it would refuse it."""
    scenario = escalate.loads(BORDER, "border.yaml")
    values = np.array([[0.2], [math.nan], [math.inf], [-math.inf], [0.4]])
    design = Design("list", ("retaliation_delay",), ("list",), values)
    assert invalid_points(scenario, design).tolist() == [False, True, True, True, False]
    assert invalid_points(scenario, design).tolist() == _one_by_one(scenario, design)


def test_a_formula_of_parameters_not_varied_is_refused_with_the_scenario() -> None:
    """A probability over parameters that no point varies is wrong at the scenario's own
    values: the scenario is refused when it is read, with the position and the values."""
    with pytest.raises(ScenarioError, match=r"border.yaml:\d+:\d+: events.south_decides.choose."
                                            r"open_war: probability 'p_escalate \* 20' = 2 is "
                                            r"outside \[0, 1\] \(with p_escalate = 0.1\)"):
        escalate.loads(TWO_BRANCHES.replace("open_war: p_escalate",
                                            'open_war: "p_escalate * 20"'), "border.yaml")


def test_updates_over_varied_parameters_are_checked_at_every_point() -> None:
    """`set: {level: jump}` with jump = 3 on a three-rung ladder, or a fraction for a whole
    number, is refused before the sweep runs, as --set would be; behind a false guard it is
    never evaluated, so it is fine."""
    scenario = escalate.loads(LEVELS, "levels.yaml")
    design = build_design("grid", {"jump": "0,1,2,3,1.5"})
    assert invalid_points(scenario, design).tolist() == [False, False, False, True, True]
    with pytest.raises(ScenarioError) as caught:
        validate_points(scenario, design)
    messages = [d.message for d in caught.value.diagnostics]
    assert "point 3 (jump=3.0): events.up.set.level" in messages[0]
    assert "level 'jump' = 3 (with jump = 3) is outside the ladder (0 to 2)" in messages[0]
    assert "level holds whole numbers, but 'jump' = 1.5 (with jump = 1.5) is not one" in messages[1]
    guarded = escalate.loads(LEVELS.replace("up: {at: 0,", 'up: {at: 0, when: "jump < 0",'),
                             "levels.yaml")
    assert not invalid_points(guarded, design).any()


def test_only_the_listed_invalid_points_are_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checking 2,000 points compiles none when all are valid, and only the listed invalid ones."""
    scenario = escalate.loads(TWO_BRANCHES, "border.yaml")
    compiled_points: list[object] = []
    compile_point = Scenario.compile

    def counting(self: Scenario, overrides: object = None) -> object:
        compiled_points.append(overrides)
        return compile_point(self, overrides)  # type: ignore[arg-type]

    monkeypatch.setattr(Scenario, "compile", counting)
    valid = build_design("grid", {"p_retaliate": "0:0.5:40", "p_escalate": "0:0.5:50"})
    validate_points(scenario, valid)
    assert compiled_points == []
    invalid = build_design("grid", {"p_retaliate": "0.6:0.9:40", "p_escalate": "0.6:0.9:50"})
    with pytest.raises(ScenarioError, match="2,000 of 2,000 points are invalid"):
        validate_points(scenario, invalid)
    assert len(compiled_points) == MAX_LISTED
