"""The package's public API: ``escalate.__all__`` is exactly what the package offers."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest
from conftest import BORDER

import escalate

ROOT = Path(__file__).resolve().parent.parent


def _defined_in_escalate(value: object) -> bool:
    if not (inspect.isclass(value) or inspect.isfunction(value)):
        return False
    module = getattr(value, "__module__", "") or ""
    return module == "escalate" or module.startswith("escalate.")


def test_every_public_function_and_class_is_exported() -> None:
    """Each public function or class of escalate reachable from the package is in __all__."""
    public = {name for name, value in vars(escalate).items()
              if not name.startswith("_") and _defined_in_escalate(value)}
    missing = public - set(escalate.__all__)
    assert not missing, f"public but not in escalate.__all__: {sorted(missing)}"


def test_everything_exported_exists() -> None:
    """Every name in __all__ is an attribute of the package."""
    absent = [name for name in escalate.__all__ if not hasattr(escalate, name)]
    assert not absent, f"in escalate.__all__ but not defined: {absent}"


def test_exports_are_listed_once() -> None:
    """No name appears twice in __all__."""
    assert len(escalate.__all__) == len(set(escalate.__all__))


def test_exports_are_the_package_own_objects() -> None:
    """Everything exported (apart from __version__) is a function or class defined in escalate."""
    foreign = [name for name in escalate.__all__
               if name != "__version__" and not _defined_in_escalate(getattr(escalate, name))]
    assert not foreign, f"exported but not escalate's own function or class: {foreign}"


def test_exported_objects_are_documented() -> None:
    """Every exported function and class has a docstring."""
    undocumented = [name for name in escalate.__all__
                    if name != "__version__" and not inspect.getdoc(getattr(escalate, name))]
    assert not undocumented, f"exported without a docstring: {undocumented}"


def test_version_is_exported_as_text() -> None:
    """__version__ is exported and is a dotted version string."""
    assert "__version__" in escalate.__all__
    assert all(part.isdigit() for part in escalate.__version__.split(".")[:2])


def test_the_notebook_entry_points_are_exported() -> None:
    """load, loads and run, with the errors they raise, are part of the public API."""
    expected = {"load", "loads", "run", "RunResult", "Scenario", "EscalateError",
                "ScenarioError", "SimulationError", "UsageError", "OutputError"}
    assert expected <= set(escalate.__all__)


def test_run_is_callable_as_documented() -> None:
    """escalate.run(scenario, replications=..., seed=..., overrides=...) returns a RunResult."""
    result = escalate.run(escalate.loads(BORDER), replications=50, seed=1,
                          overrides={"p_retaliate": 1.0})
    assert isinstance(result, escalate.RunResult)
    assert result.replications == 50
    assert result.probability("strike") == 1.0


def test_scenarios_and_results_show_briefly_in_a_notebook() -> None:
    """The reprs say what a scenario and a run are in one short line, not their whole content."""
    scenario = escalate.load(ROOT / "scenarios" / "tutorial.yaml")
    shown = repr(scenario)
    assert shown.startswith("Scenario(name='Strait standoff', path=")
    assert f"sha256={scenario.sha256[:12]!r}" in shown
    assert len(shown) < 300
    result = escalate.run(scenario, replications=200, seed=1)
    shown = repr(result)
    assert len(shown) < 400
    for outcome in result.summary["outcomes"]:
        assert f"{outcome}={result.probability(outcome):.4g}" in shown


def test_scenarios_hash_as_they_compare() -> None:
    """Equal scenarios (same text and path) hash alike, so they can key a dict or a cache."""
    path = ROOT / "scenarios" / "tutorial.yaml"
    first, second = escalate.load(path), escalate.load(path)
    assert first == second
    assert {first: 1}[second] == 1
    assert hash(escalate.loads(first.text)) != hash(first)


@pytest.mark.parametrize(("call", "words"), [
    (lambda: escalate.load(None), "load() takes the path of a scenario file"),
    (lambda: escalate.load(3), "found int"),
    (lambda: escalate.loads(ROOT / "scenarios" / "tutorial.yaml"), "for a file use load()"),
    (lambda: escalate.loads(b"escalate: 1"), "found bytes"),
])
def test_load_and_loads_refuse_the_other_kind_of_argument(call: Any, words: str) -> None:
    with pytest.raises(escalate.UsageError, match=re.escape(words)):
        call()
