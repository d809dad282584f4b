"""Property tests: however a scenario is broken, loading it fails only with a ScenarioError.

The strategies in :mod:`strategies` damage valid scenarios; the run size comes
from the Hypothesis profile chosen in ``conftest.py`` (``HYPOTHESIS_PROFILE=large``
for a long run).
"""

from __future__ import annotations

import re

import pytest
from hypothesis import example, given
from strategies import VALID_SCENARIOS, mutated_scenario, mutated_text, scenario_text

import escalate

FILE = "fuzz.yaml"
#: What YAML counts as a line break (a lone carriage return is one).
LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


def _check_outcome(text: str) -> None:
    """Load ``text``: a Scenario, or a ScenarioError whose every diagnostic is placed and worded."""
    try:
        scenario = escalate.loads(text, FILE)
    except escalate.ScenarioError as exc:
        error = exc
    else:
        assert isinstance(scenario, escalate.Scenario)
        assert scenario.compiled is not None
        return
    assert error.diagnostics, "a ScenarioError must carry at least one diagnostic"
    line_count = len(LINE_BREAK.split(text))
    for diagnostic in error.diagnostics:
        assert diagnostic.message.strip(), diagnostic
        assert diagnostic.file == FILE, diagnostic
        assert FILE in str(diagnostic)
        if diagnostic.line is not None:
            assert 1 <= diagnostic.line <= line_count, diagnostic
        if diagnostic.column is not None:
            assert diagnostic.column >= 1, diagnostic


@pytest.mark.parametrize("text", VALID_SCENARIOS, ids=["border", "strait"])
def test_mutations_start_from_valid_scenarios(text: str) -> None:
    """Every scenario the strategies damage is valid to begin with."""
    assert escalate.loads(text, FILE).compiled.events


@given(text=mutated_scenario())
@example(text="escalate: 1\nname: x\nhorizon: 1\nevents: {a: {at: 0}}\n")
def test_changed_data_gives_a_scenario_or_a_scenario_error(text: str) -> None:
    """Deleted, renamed and retyped keys and odd values never escape as another exception."""
    _check_outcome(text)


@given(text=mutated_text())
@example(text="")
@example(text="escalate: 1\nname: \x00\n")
@example(text="\r0")
def test_damaged_text_gives_a_scenario_or_a_scenario_error(text: str) -> None:
    """Truncated text and stray characters never escape as another exception."""
    _check_outcome(text)


@given(text=scenario_text())
def test_any_broken_scenario_gives_a_scenario_or_a_scenario_error(text: str) -> None:
    """Any mix of data and text damage is either a valid scenario or a ScenarioError."""
    _check_outcome(text)
