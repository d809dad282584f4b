"""Shared fixtures: paths to the bundled scenarios and a small scenario with known answers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"
#: The bundled scenario files (``observed-*.yaml`` records what happened, for scoring).
BUNDLED_SCENARIOS = sorted(p for p in SCENARIOS.glob("*.yaml")
                           if not p.name.startswith("observed-"))

settings.register_profile("ci", max_examples=200, deadline=None, derandomize=True)
settings.register_profile("large", max_examples=5000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

BORDER = """\
escalate: 1
name: Border incident
description: A patrol clash and the choices that follow it.
start: 2030-03-01
horizon: 180 days
sources:
  - {id: analyst, title: "Analyst judgement, workshop of 2030-02-20"}
ladder: [calm, incident, skirmish, limited strike, open war]
actors: [north, south]
state: {level: 0, talks: false}
parameters:
  p_retaliate: {value: 0.35, ci90: [0.15, 0.55], range: [0, 1], source: analyst}
  retaliation_delay: {value: 4 days, source: analyst}
events:
  clash:        {at: 0, actor: north, set: {level: 1}, then: [south_decides]}
  south_decides:
    actor: south
    after: {exponential: {mean: 2 days}}
    choose: {retaliation: p_retaliate, otherwise: talks_open}
  retaliation:  {actor: south, after: retaliation_delay, set: {level: "max(level, 3)"}, then: [north_decides]}
  north_decides:
    actor: north
    after: {triangular: [1 day, 3 days, 10 days]}
    choose: {open_war: 0.2, otherwise: talks_open}
  open_war:     {actor: north, set: {level: 4}, end: war}
  talks_open:   {after: 7 days, set: {talks: true}, end: talks}
outcomes:
  strike: {when: "level >= 3"}
  war: {event: open_war}
  talks: {event: talks_open}
"""


@pytest.fixture
def border_file(tmp_path: Path) -> Path:
    """A small valid scenario whose outcome probabilities are known in closed form."""
    path = tmp_path / "border.yaml"
    path.write_text(BORDER, encoding="utf-8")
    return path


@pytest.fixture
def scenarios_dir() -> Path:
    return SCENARIOS
