"""Values the scenario's own text makes impossible, refused when it is read.

Each case is :data:`test_validation_catalogue.BASE` with one mistake that no
replication could live with: a point value outside its own 90% interval, a
root event at or after the horizon, a constant level off the ladder, a
fraction for a whole-number variable.  Each gives one diagnostic, at its
position, with a hint, as the catalogue's cases do.
"""

from __future__ import annotations

import pytest
from test_validation_catalogue import BASE, broken

import escalate

CASES = [
    ("value-outside-its-ci90",
     broken("p_retaliate: {value: 0.35, ci90: [0.15, 0.55]",
            "p_retaliate: {value: 0.05, ci90: [0.15, 0.55]"),
     11, 24, "the value 0.05 lies outside its own 90% interval [0.15, 0.55]", "widen `ci90`"),
    ("root-at-the-horizon", broken("clash: {at: 0,", "clash: {at: 180 days,"),
     14, 15, "`at` is day 180, not before the horizon (day 180)", "lengthen `horizon`"),
    ("root-after-the-horizon", broken("clash: {at: 0,", "clash: {at: 2031-01-01,"),
     14, 15, "would never happen", "move it before the horizon"),
    ("constant-level-off-the-ladder",
     broken("open_war: {actor: north, set: {level: 4}", "open_war: {actor: north, set: {level: 7}"),
     28, 41, "level 7 is outside the ladder (0 to 4)", "the ladder's rungs"),
    ("fraction-for-a-whole-number", broken("set: {level: 1}", "set: {level: 1.5}"),
     14, 45, "level holds whole numbers, but 1.5 is not one", "the ladder's rungs"),
]


@pytest.mark.parametrize(("text", "line", "column", "words", "hint"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_an_impossible_value_is_refused_once_where_it_is(text: str, line: int, column: int,
                                                         words: str, hint: str) -> None:
    with pytest.raises(escalate.ScenarioError) as info:
        escalate.loads(text, "broken.yaml")
    (diagnostic,) = info.value.diagnostics
    assert (diagnostic.line, diagnostic.column) == (line, column), str(diagnostic)
    assert words in diagnostic.message, str(diagnostic)
    assert hint in diagnostic.hint, str(diagnostic)


def test_an_override_outside_the_interval_holds_the_parameter_and_is_accepted() -> None:
    """--set fixes a parameter's value, so its 90% interval need not contain it."""
    scenario = escalate.loads(BASE, "base.yaml")
    compiled = scenario.compile({"p_retaliate": 0.05})
    assert compiled.parameter_values[compiled.parameter_names.index("p_retaliate")] == 0.05


def test_a_broken_event_ending_a_terminal_does_not_make_its_outcome_an_error() -> None:
    """An event left out for a shape error still ends with its terminal: the outcome that
    names the terminal is not reported as having no event, so one mistake gives one message."""
    text = broken("talks_open: {after: 7 days,", "talks_open: {after: {empirical: []},")
    text = text.replace("  talks: {event: talks_open}", "  talks: {terminal: talks}")
    with pytest.raises(escalate.ScenarioError) as info:
        escalate.loads(text, "broken.yaml")
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.path == "events.talks_open.after.empirical"


GUARDED = """\
escalate: 1
name: guarded
horizon: 10
state: {x: 0.0}
parameters: {n: {value: 0}, k: {value: 1}}
events:
  start: {at: 0, when: n > 0, set: {x: k / n}, choose: {up: k / n}}
  up: {after: 1, set: {level: 1}}
"""


def test_formulas_behind_a_guard_that_is_false_are_not_evaluated() -> None:
    """`when: n > 0` with n = 0 keeps `k / n` from ever being evaluated, so it is no mistake;
    with n = 2 the guard holds and the same formulas are checked (and fine)."""
    scenario = escalate.loads(GUARDED, "guarded.yaml")
    assert scenario.compile({"n": 2}).parameter_values == (2.0, 1.0)
    with pytest.raises(escalate.ScenarioError) as info:
        scenario.compile({"n": 0.5})
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.path == "events.start.choose.up"
    assert "probability 'k / n' = 2 is outside [0, 1] (with k = 1, n = 0.5)" in \
        diagnostic.message


def test_a_value_outside_its_range_is_not_reported_again_against_its_interval() -> None:
    """One wrong value, one message: outside its range, not also outside its 90% interval."""
    text = broken("p_retaliate: {value: 0.35, ci90: [0.15, 0.55]",
                  "p_retaliate: {value: 150%, range: [0, 1], ci90: [0.15, 0.55]")
    with pytest.raises(escalate.ScenarioError) as info:
        escalate.loads(text, "broken.yaml")
    (diagnostic,) = info.value.diagnostics
    assert "outside its range [0, 1]" in diagnostic.message
