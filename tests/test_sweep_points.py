"""Checking sweep points before anything runs: each problem names the point and its values."""

from __future__ import annotations

import pytest
from conftest import BORDER

import escalate
from escalate import ScenarioError
from escalate.sweeps.design import build_design
from escalate.sweeps.points import fix_parameters, point_problems, validate_points

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
                                            r"events.south_decides.choose: the choice "
                                            r"probabilities sum to 1.1 > 1"):
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
    compiled = escalate.loads(BORDER).compile({"p_retaliate": 0.2})
    assert compiled.parameter_uncertainty[0] is not None
    fixed = fix_parameters(compiled, ["p_retaliate"])
    assert fixed.parameter_uncertainty[0] is None
    result = escalate.run(fixed, replications=50, seed=1, uncertainty=True)
    assert result.arrays.get("param_p_retaliate") is None
