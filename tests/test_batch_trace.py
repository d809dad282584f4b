"""Traces on the batch engine: the told replication is the one a run of the same seed made."""

from __future__ import annotations

import csv
import dataclasses
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import BUNDLED_SCENARIOS
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import runnable_scenario
from sweep_helpers import escalate_cli

import escalate
from escalate.engine.batch import BatchEngine
from escalate.engine.protocol import StreamKeys
from escalate.engine.records import ReplicationRecord
from escalate.workflow import trace

SEED = 424242


def _fields(record: ReplicationRecord) -> dict[str, object]:
    """A record's results without its log, NaN made comparable."""
    fields = dataclasses.asdict(record)
    fields.pop("log")
    fields["outcome_times"] = [None if math.isnan(t) else t for t in record.outcome_times]
    return fields


def _check_log_tells_the_record(scenario: escalate.Scenario, record: ReplicationRecord) -> None:
    """The log's entries account for the record: firings, skips, path, levels, event outcomes."""
    compiled = scenario.compile()
    log = record.log
    assert log is not None
    fired = [entry for entry in log if entry.status == "fired"]
    assert len(fired) == record.events_fired
    assert sum(entry.status == "skipped" for entry in log) == record.events_skipped
    first_firings = list(dict.fromkeys(entry.event for entry in fired))
    assert first_firings == [compiled.events[e].name for e in record.path]
    assert all(a.time <= b.time for a, b in itertools.pairwise(log))
    assert max([entry.level for entry in fired], default=0) <= record.max_level
    for k, outcome in enumerate(compiled.outcomes):
        if outcome.kind == "event" and outcome.event is not None:
            name = compiled.events[outcome.event].name
            first = next((entry.time for entry in fired if entry.event == name), math.nan)
            assert (math.isnan(first) and math.isnan(record.outcome_times[k])) or (
                first == record.outcome_times[k])


@pytest.mark.parametrize("path", BUNDLED_SCENARIOS, ids=lambda p: p.stem)
def test_a_batch_trace_is_the_row_of_a_batch_run(path: Path) -> None:
    """Replications told one by one equal those of the run, and their logs tell their records."""
    scenario = escalate.load(path)
    result = escalate.run(scenario, replications=1500, seed=SEED, engine="batch")
    arrays = result.arrays
    for index in (0, 1, 1023, 1024, 1499):
        record, seed, engine = trace(scenario, seed=SEED, replication=index, engine="batch")
        assert (seed, engine, record.index) == (SEED, "batch", index)
        assert record.terminal == arrays["terminal"][index]
        assert record.end_time == arrays["end_day"][index]
        assert record.max_level == arrays["max_level"][index]
        assert record.events_fired == arrays["events_fired"][index]
        _check_log_tells_the_record(scenario, record)


def test_a_batch_trace_with_uncertainty_uses_the_run_s_parameter_draws() -> None:
    """Under two-level Monte Carlo the traced replication has the run's drawn parameters."""
    scenario = escalate.load(BUNDLED_SCENARIOS[0])
    result = escalate.run(scenario, replications=1100, seed=SEED, engine="batch",
                          uncertainty=True)
    drawn = [name for name in result.arrays if name.startswith("param_")]
    assert drawn
    record, _, _ = trace(scenario, seed=SEED, replication=1050, engine="batch", uncertainty=True)
    assert list(record.parameters) == [result.arrays[name][1050] for name in drawn]
    assert record.end_time == result.arrays["end_day"][1050]


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=runnable_scenario(deterministic=True), replication=st.integers(0, 2))
def test_both_engines_tell_the_same_story_when_nothing_is_random(text: str,
                                                                 replication: int) -> None:
    """Fixed delays, probabilities 0 or 1: the two engines' logs agree entry by entry."""
    scenario = escalate.loads(text)
    batch, _, _ = trace(scenario, seed=SEED, replication=replication, engine="batch")
    reference, _, _ = trace(scenario, seed=SEED, replication=replication, engine="reference")
    assert batch.log == reference.log, text
    assert _fields(batch) == _fields(reference), text


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(text=runnable_scenario(), replication=st.integers(0, 1100))
def test_a_batch_trace_agrees_with_its_run_on_generated_scenarios(text: str,
                                                                  replication: int) -> None:
    """Over the whole language, the traced record is the run's record and its log tells it."""
    scenario = escalate.loads(text)
    record, _, engine = trace(scenario, seed=SEED, replication=replication, engine="batch")
    (chunk,) = BatchEngine(scenario.compile()).run(StreamKeys(SEED), replication, 1)
    (expected,) = chunk.records(scenario.compile().terminals)
    assert engine == "batch"
    assert _fields(record) == _fields(expected), text
    _check_log_tells_the_record(scenario, record)


def test_the_trace_command_tells_the_row_of_the_run_directory(tmp_path: Path) -> None:
    """`escalate run --out` then `escalate trace --replication I` describe the same replication."""
    scenario = BUNDLED_SCENARIOS[0]
    out = tmp_path / "run"
    done = escalate_cli("run", scenario, "-n", "1200", "--seed", "11", "--out", out, "-q")
    assert done.returncode == 0, done.stderr
    with (out / "replications.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    for index in (3, 1100):
        done = escalate_cli("trace", scenario, "--seed", "11", "--replication", str(index),
                            "--format", "json")
        assert done.returncode == 0, done.stderr
        told = json.loads(done.stdout)
        row = rows[index]
        assert told["engine"] == "batch"
        assert told["terminal"] == row["terminal"]
        assert np.isclose(told["end_day"], float(row["end_day"]), rtol=0, atol=1e-9)
        assert told["max_level"] == int(row["max_level"])
        assert sum(e["status"] == "fired" for e in told["events"]) == int(row["events_fired"])


def _row_matches(told: dict[str, object], row: dict[str, str]) -> None:
    assert told["terminal"] == row["terminal"]
    assert np.isclose(float(str(told["end_day"])), float(row["end_day"]), rtol=0, atol=1e-9)
    assert told["max_level"] == int(row["max_level"])
    events = told["events"]
    assert isinstance(events, list)
    assert sum(e["status"] == "fired" for e in events) == int(row["events_fired"])


@pytest.mark.parametrize("options", [
    ("--set", "p_intensify=0.5", "--uncertainty"),
    ("--engine", "reference", "--set", "p_intensify=0.5"),
], ids=["batch-with-overrides-and-uncertainty", "reference"])
def test_trace_of_a_run_directory_tells_its_rows(tmp_path: Path, options: tuple[str, ...]) -> None:
    """`escalate trace DIR` takes scenario, overrides, seed, uncertainty and engine from the run."""
    out = tmp_path / "run"
    done = escalate_cli("run", BUNDLED_SCENARIOS[0], "-n", "1100", "--seed", "13", *options,
                        "--out", out, "-q")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    with (out / "replications.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    for index in (0, 1099):
        done = escalate_cli("trace", out, "--replication", str(index), "--format", "json")
        assert done.returncode == 0, done.stderr
        told = json.loads(done.stdout)
        assert (told["seed"], told["engine"]) == (13, manifest["engine"])
        _row_matches(told, rows[index])


def test_trace_of_a_run_directory_refuses_what_the_manifest_fixes(tmp_path: Path) -> None:
    """Options the run fixed, and replications it did not make, are usage errors (exit 2)."""
    out = tmp_path / "run"
    assert escalate_cli("run", BUNDLED_SCENARIOS[0], "-n", "50", "--out", out, "-q").returncode == 0
    for options, words in [(("--seed", "3"), "--seed cannot be given with a run directory"),
                           (("--set", "p_intensify=0.5"), "--set cannot be given"),
                           (("--replication", "50"), "has 50 replications, numbered 0 to 49")]:
        done = escalate_cli("trace", out, *options)
        assert done.returncode == 2, done.stderr
        assert words in done.stderr
        assert "Traceback" not in done.stderr


def test_trace_of_a_directory_without_a_run_is_a_usage_error(tmp_path: Path) -> None:
    """A directory holding no run directory's manifest exits 2 and says what is missing."""
    done = escalate_cli("trace", tmp_path)
    assert done.returncode == 2, done.stderr
    assert "holds no run (no manifest.json)" in done.stderr
    (tmp_path / "manifest.json").write_text('{"format": "escalate-sweep/1"}', encoding="utf-8")
    done = escalate_cli("trace", tmp_path)
    assert done.returncode == 2, done.stderr
    assert "is not the manifest of a run" in done.stderr
