"""Run, sweep and sensitivity directories are read into typed objects, or refused clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BORDER
from report_helpers import make_sweep_directory, run_directory

from escalate.errors import OutputError, UsageError
from escalate.results.reader import RunData, SweepData, read_directory


@pytest.fixture
def border(tmp_path: Path) -> Path:
    path = tmp_path / "border.yaml"
    path.write_text(BORDER, encoding="utf-8")
    return path


def test_a_run_directory_reads_as_a_run_with_its_scenario_and_replications(
        tmp_path: Path, border: Path) -> None:
    data = read_directory(run_directory(tmp_path / "run", border, replications=50))
    assert isinstance(data, RunData)
    assert data.spec is not None
    assert data.spec.name == "Border incident"
    assert (data.seed, data.replications, data.uncertainty) == (5, 50, False)
    flags = data.indicators()
    assert flags is not None
    assert flags.replication.tolist() == list(range(50))
    assert int(flags.occurred["war"].sum()) == data.outcomes["war"]["count"]


def test_a_sweep_directory_reads_as_points_with_estimates(tmp_path: Path, border: Path) -> None:
    out = make_sweep_directory(tmp_path / "sweep", border,
                               {"p_retaliate": [0.2, 0.6], "retaliation_delay": [2, 8]},
                               replications=20, failed=[3])
    data = read_directory(out)
    assert isinstance(data, SweepData)
    assert data.parameters == ("p_retaliate", "retaliation_delay")
    assert data.outcome_names == ("strike", "war", "talks")
    assert [p.ok for p in data.points] == [True, True, True, False]
    assert data.is_grid()
    assert 0 <= data.points[0].outcomes["strike"]["lo"] <= data.points[0].outcomes["strike"]["p"]


def test_a_directory_without_a_manifest_is_no_result(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"not a run, sweep or sensitivity directory: it has no "
                       r"manifest\.json"):
        read_directory(tmp_path)


def test_an_unknown_manifest_format_names_the_three_kinds(tmp_path: Path) -> None:
    """A manifest of another format is refused, naming every format a report reads."""
    (tmp_path / "manifest.json").write_text('{"format": "elsewhere/1"}', encoding="utf-8")
    with pytest.raises(UsageError, match=r"format 'elsewhere/1', expected 'escalate-run/.*', "
                       r"'escalate-sweep/.*' or 'escalate-sensitivity/.*'"):
        read_directory(tmp_path)


def test_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="is not a directory"):
        read_directory(tmp_path / "nowhere")


def test_an_unknown_manifest_format_is_named(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "something/9"}))
    with pytest.raises(UsageError, match="'something/9'"):
        read_directory(tmp_path)


def test_a_failed_run_has_nothing_to_report(tmp_path: Path, border: Path) -> None:
    out = run_directory(tmp_path / "run", border, replications=10)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.update(status="failed", error="SimulationError: boom")
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(OutputError, match=r"did not complete.*boom"):
        read_directory(out)
