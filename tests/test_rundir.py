"""Run directories: the manifest, summary and per-replication files a run leaves behind."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import textwrap
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

import escalate
from escalate.results.manifest import versions
from escalate.workflow import run_to_directory

SEED = 314159
REPLICATIONS = 250

#: fails at run time: the probability `2 * x` is 1.4 when the decision fires
FAILING = textwrap.dedent("""
    escalate: 1
    name: failing
    horizon: 30
    state: {x: 0.7}
    events:
      start: {at: 0, then: [decide]}
      decide: {after: 2, choose: {strike: "2 * x"}}
      strike: {}
""")


@pytest.fixture
def border(border_file: Path) -> escalate.Scenario:
    return escalate.load(border_file)


@pytest.fixture
def completed(border: escalate.Scenario, tmp_path: Path) -> Path:
    """A run directory of the border scenario written by run_to_directory."""
    out = tmp_path / "run"
    run_to_directory(border, out, replications=REPLICATIONS, seed=SEED)
    return out


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or ()), rows


# -- a completed run ---------------------------------------------------------------------------


def test_completed_run_writes_the_documented_files(completed: Path) -> None:
    """A completed run holds manifest.json, summary.json and replications.csv, and nothing else."""
    assert sorted(p.name for p in completed.iterdir()) == [
        "manifest.json", "replications.csv", "summary.json"]
    assert read_json(completed / "manifest.json")["files"] == [
        "replications.csv", "summary.json", "manifest.json"]


def test_manifest_records_the_scenario(completed: Path, border: escalate.Scenario,
                                       border_file: Path) -> None:
    """The manifest holds the scenario's path, name, sha256 of its text and resolved content."""
    manifest = read_json(completed / "manifest.json")
    assert manifest["format"] == "escalate-run/1"
    scenario = manifest["scenario"]
    assert scenario["path"] == str(border_file)
    assert scenario["name"] == "Border incident"
    assert scenario["sha256"] == hashlib.sha256(border_file.read_bytes()).hexdigest()
    assert scenario["resolved"] == border.resolved()
    assert scenario["resolved"]["parameters"]["p_retaliate"]["value"] == 0.35


def test_manifest_records_how_the_run_was_made(completed: Path) -> None:
    """The manifest holds seed, replications, options, versions and the command line."""
    manifest = read_json(completed / "manifest.json")
    assert manifest["seed"] == SEED
    assert manifest["replications"] == REPLICATIONS
    assert manifest["uncertainty"] is False
    assert manifest["overrides"] == {}
    assert manifest["engine"] == "batch"
    assert manifest["engine_reason"].startswith("auto:")
    assert {"python", "escalate", "numpy", "simpy", "pydantic"} <= set(manifest["versions"])
    assert manifest["versions"]["escalate"] == escalate.__version__
    assert isinstance(manifest["command"], list)
    assert manifest["command"]


def test_versions_list_the_extras_installed_and_leave_out_the_others() -> None:
    """An optional package a result may depend on is listed only when it is installed."""
    found = versions(("scipy", "no-such-package-installed"))
    assert found["scipy"] == metadata.version("scipy")
    assert "no-such-package-installed" not in found
    assert found["escalate"] == escalate.__version__


def test_manifest_records_status_and_timings(completed: Path) -> None:
    """A completed run's manifest has status completed, ISO start/finish times and wall time."""
    manifest = read_json(completed / "manifest.json")
    assert manifest["status"] == "completed"
    assert "error" not in manifest
    started = dt.datetime.fromisoformat(manifest["started"])
    finished = dt.datetime.fromisoformat(manifest["finished"])
    assert started.tzinfo is not None
    assert started <= finished
    assert manifest["wall_seconds"] >= 0


def test_summary_reports_probabilities_with_intervals(completed: Path) -> None:
    """summary.json has replications, seed and per outcome a probability inside its 95% interval."""
    summary = read_json(completed / "summary.json")
    assert summary["replications"] == REPLICATIONS
    assert summary["seed"] == SEED
    assert set(summary["outcomes"]) == {"strike", "war", "talks"}
    for outcome in summary["outcomes"].values():
        low, high = outcome["ci95"]
        assert 0.0 <= low <= outcome["probability"] <= high <= 1.0
        assert outcome["probability"] == outcome["count"] / REPLICATIONS


def test_summary_equals_the_returned_result(border: escalate.Scenario, tmp_path: Path) -> None:
    """The summary written is the summary of the result returned."""
    result = run_to_directory(border, tmp_path / "run", replications=60, seed=SEED)
    assert read_json(tmp_path / "run" / "summary.json") == result.summary


def test_replications_csv_has_the_documented_header(completed: Path) -> None:
    """replications.csv has the documented columns, in order."""
    header, _ = read_csv(completed / "replications.csv")
    assert header == ["replication", "terminal", "end_day", "max_level", "final_level",
                      "events_fired", "events_skipped", "path_id",
                      "strike", "strike_day", "war", "war_day", "talks", "talks_day", "path"]


def test_replications_csv_has_one_row_per_replication(completed: Path) -> None:
    """replications.csv has one row per replication, in index order."""
    _, rows = read_csv(completed / "replications.csv")
    assert [int(row["replication"]) for row in rows] == list(range(REPLICATIONS))


def test_replications_csv_agrees_with_the_summary(completed: Path) -> None:
    """Outcome flags in replications.csv add up to the summary's counts; days only when occurred."""
    _, rows = read_csv(completed / "replications.csv")
    summary = read_json(completed / "summary.json")
    for name, outcome in summary["outcomes"].items():
        assert sum(int(row[name]) for row in rows) == outcome["count"]
        for row in rows:
            assert (row[f"{name}_day"] != "") == (row[name] == "1")
    for row in rows:
        assert row["path"].startswith("clash>south_decides")


@pytest.mark.parametrize("precision", [None, 0.05])
def test_rows_go_to_disk_and_are_not_kept_in_memory(border: escalate.Scenario, tmp_path: Path,
                                                    precision: float | None) -> None:
    """A run into a directory streams its rows to replications.csv and keeps none of them.

    This is what bounds a run's memory whatever its size (docs/outputs.md): the
    result holds the counts of the summary, not a table of replications.
    """
    result = run_to_directory(border, tmp_path / "run", replications=REPLICATIONS, seed=SEED,
                              precision=precision)
    assert result.table is None
    with pytest.raises(escalate.UsageError, match="keep_replications=True"):
        _ = result.arrays
    _, rows = read_csv(tmp_path / "run" / "replications.csv")
    assert len(rows) == result.replications


def test_uncertain_run_writes_parameter_columns(border: escalate.Scenario, tmp_path: Path) -> None:
    """With uncertainty, replications.csv gains a param_ column per uncertain parameter."""
    out = tmp_path / "run"
    run_to_directory(border, out, replications=40, seed=SEED, uncertainty=True)
    header, rows = read_csv(out / "replications.csv")
    assert header[-2:] == ["param_p_retaliate", "path"]
    draws = [float(row["param_p_retaliate"]) for row in rows]
    assert len(set(draws)) == 40
    assert read_json(out / "manifest.json")["uncertainty"] is True


def test_overrides_are_recorded(border: escalate.Scenario, tmp_path: Path) -> None:
    """Overrides go into the manifest and the summary, and change the results."""
    out = tmp_path / "run"
    run_to_directory(border, out, replications=40, seed=SEED, overrides={"p_retaliate": 0.0})
    assert read_json(out / "manifest.json")["overrides"] == {"p_retaliate": 0.0}
    summary = read_json(out / "summary.json")
    assert summary["overrides"] == {"p_retaliate": 0.0}
    assert summary["outcomes"]["strike"]["count"] == 0


def test_events_option_writes_the_event_log(border: escalate.Scenario, tmp_path: Path) -> None:
    """events=True writes events.csv with every event of every replication."""
    out = tmp_path / "run"
    run_to_directory(border, out, replications=30, seed=SEED, events=True)
    header, rows = read_csv(out / "events.csv")
    assert header == ["replication", "day", "event", "actor", "status", "level", "detail"]
    assert {int(row["replication"]) for row in rows} == set(range(30))
    _, replications = read_csv(out / "replications.csv")
    fired = sum(int(row["events_fired"]) for row in replications)
    assert sum(row["status"] == "fired" for row in rows) == fired
    assert "events.csv" in read_json(out / "manifest.json")["files"]


def test_no_event_log_without_the_events_option(completed: Path) -> None:
    """Without events=True, no events.csv is written."""
    assert not (completed / "events.csv").exists()


# -- failures and refusals ---------------------------------------------------------------------------


def test_failed_run_records_the_error_in_the_manifest(tmp_path: Path) -> None:
    """A run failing at run time still writes a manifest with status failed and the error."""
    scenario = escalate.loads(FAILING)
    out = tmp_path / "run"
    with pytest.raises(escalate.SimulationError, match="event 'decide'"):
        run_to_directory(scenario, out, replications=10, seed=SEED)
    manifest = read_json(out / "manifest.json")
    assert manifest["status"] == "failed"
    assert manifest["error"].startswith("SimulationError: ")
    assert "event 'decide'" in manifest["error"]
    assert "1.4" in manifest["error"]
    assert manifest["seed"] == SEED
    assert "finished" in manifest


def test_failed_run_writes_no_summary(tmp_path: Path) -> None:
    """A failed run leaves no summary.json, so it cannot be mistaken for a result."""
    out = tmp_path / "run"
    with pytest.raises(escalate.SimulationError):
        run_to_directory(escalate.loads(FAILING), out, replications=10, seed=SEED)
    assert not (out / "summary.json").exists()
    assert "summary.json" not in read_json(out / "manifest.json")["files"]


def test_non_empty_directory_without_a_run_is_refused(border: escalate.Scenario,
                                                      tmp_path: Path) -> None:
    """A non-empty directory that holds no run is refused with UsageError, and left untouched."""
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(escalate.UsageError, match=r"not empty and holds no run: it has notes\.txt"):
        run_to_directory(border, out, replications=10, seed=SEED)
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_a_file_in_place_of_the_directory_is_refused(border: escalate.Scenario,
                                                     tmp_path: Path) -> None:
    """An existing file at the output path is refused with UsageError."""
    out = tmp_path / "taken"
    out.write_text("", encoding="utf-8")
    with pytest.raises(escalate.UsageError, match="is a file, not a directory"):
        run_to_directory(border, out, replications=10, seed=SEED)


def test_a_previous_run_directory_is_replaced(border: escalate.Scenario, completed: Path) -> None:
    """Running again into a run directory replaces its files with the new run's."""
    run_to_directory(border, completed, replications=20, seed=SEED + 1)
    assert read_json(completed / "summary.json")["replications"] == 20
    assert read_json(completed / "manifest.json")["seed"] == SEED + 1
    _, rows = read_csv(completed / "replications.csv")
    assert len(rows) == 20


def test_same_seed_gives_byte_identical_summaries(border: escalate.Scenario,
                                                  tmp_path: Path) -> None:
    """Two runs with the same scenario, seed and replications write identical summary.json bytes."""
    for name in ("a", "b"):
        run_to_directory(border, tmp_path / name, replications=80, seed=SEED)
    assert (tmp_path / "a" / "summary.json").read_bytes() == \
        (tmp_path / "b" / "summary.json").read_bytes()
    assert (tmp_path / "a" / "replications.csv").read_bytes() == \
        (tmp_path / "b" / "replications.csv").read_bytes()
