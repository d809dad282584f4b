"""escalate.sweep and escalate.load_sweep from Python: tables, executors, shards, failures."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
import pytest
from conftest import BORDER
from sweep_helpers import (
    RUNTIME_FAILURE,
    WIDE_FAN_OUT_REFUSED,
    kill_a_worker_process,
    with_wide_fan_out,
)

import escalate
from escalate import OutputError, SimulationError, UsageError
from escalate.results.formats import OUTCOME_FIELDS
from escalate.sweeps import merge_shards
from escalate.sweeps.executors import (
    ProcessExecutor,
    SerialExecutor,
    parse_shard,
    shard_points,
)
from escalate.sweeps.runner import SweepProgress, run_sweep

VARY = {"p_retaliate": "0.1,0.4", "retaliation_delay": "2,5"}


@pytest.fixture(scope="module")
def border() -> escalate.Scenario:
    return escalate.loads(BORDER, "border.yaml")


def test_sweep_returns_one_row_per_point_with_the_documented_columns(
        border: escalate.Scenario) -> None:
    """The table has point, the varied parameters, status, error, replications, then per outcome
    p, lo, hi and three day quantiles, and mean_max_level."""
    table = escalate.sweep(border, VARY, replications=100, seed=1)
    outcome_columns = [f"{o}_{f}" for o in ("strike", "war", "talks") for f in OUTCOME_FIELDS]
    assert list(table.columns) == ["point", "p_retaliate", "retaliation_delay", "status", "error",
                                   "replications", *outcome_columns, "mean_max_level"]
    assert table["point"].tolist() == [0, 1, 2, 3]
    assert table[["p_retaliate", "retaliation_delay"]].values.tolist() == [
        [0.1, 2], [0.1, 5], [0.4, 2], [0.4, 5]]
    assert (table["status"] == "ok").all()
    assert (table["replications"] == 100).all()


def test_a_point_equals_a_run_keyed_by_its_index(border: escalate.Scenario) -> None:
    """Point j's row is what run(point=j) gives with the point's values as overrides."""
    table = escalate.sweep(border, VARY, replications=200, seed=9)
    run = escalate.run(border, replications=200, seed=9, point=2,
                       overrides={"p_retaliate": 0.4, "retaliation_delay": 2.0})
    summary = run.summary["outcomes"]["strike"]
    row = table.iloc[2]
    assert row["strike_p"] == summary["probability"]
    assert [row["strike_lo"], row["strike_hi"]] == summary["ci95"]
    assert row["strike_median_day"] == summary["time"]["days"]["median"]
    assert row["mean_max_level"] == run.summary["max_level"]["mean"]


def test_load_sweep_reads_back_exactly_what_the_sweep_returned(
        border: escalate.Scenario, tmp_path: Path) -> None:
    """A sweep written to a directory reads back (Parquet and CSV) equal to the in-memory table."""
    in_memory = escalate.sweep(border, VARY, replications=100, seed=3)
    written = escalate.sweep(border, VARY, replications=100, seed=3, out=tmp_path / "sweep")
    pd.testing.assert_frame_equal(written, in_memory)
    (tmp_path / "sweep" / "points.parquet").unlink()
    pd.testing.assert_frame_equal(escalate.load_sweep(tmp_path / "sweep"), in_memory)
    assert written.attrs["manifest"]["format"] == "escalate-sweep/1"


def test_the_manifest_describes_the_sweep(border: escalate.Scenario, tmp_path: Path) -> None:
    """manifest.json records scenario, design, seed, executor, versions, timings and status."""
    escalate.sweep(border, VARY, replications=50, seed=4, out=tmp_path / "sweep")
    manifest = json.loads((tmp_path / "sweep" / "manifest.json").read_text())
    assert manifest["scenario"]["sha256"] == border.sha256
    assert manifest["scenario"]["resolved"]["name"] == "Border incident"
    assert manifest["design"]["kind"] == "grid"
    assert manifest["design"]["vary"] == {"p_retaliate": "0.1,0.4", "retaliation_delay": "2.0,5.0"}
    assert manifest["design"]["points"] == 4
    assert manifest["seed"] == 4
    assert manifest["replications"] == 50
    assert manifest["executor"] == {"kind": "serial", "workers": 1}
    assert {"python", "escalate", "numpy", "scipy"} <= set(manifest["versions"])
    assert manifest["status"] == "completed"
    assert manifest["failures"] == 0
    assert manifest["points_done"] == 4
    assert manifest["timings"]["wall_seconds"] >= 0


def test_results_do_not_depend_on_the_number_of_workers(border: escalate.Scenario) -> None:
    """Two worker processes give exactly the table of one process."""
    serial = escalate.sweep(border, VARY, replications=100, seed=5, workers=1)
    parallel = escalate.sweep(border, VARY, replications=100, seed=5, workers=2)
    pd.testing.assert_frame_equal(parallel, serial)


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(tmp_path: Path) -> None:
    """A run-time probability error fails its point only; the row holds the error."""
    scenario = escalate.loads(RUNTIME_FAILURE, "failing.yaml")
    table = escalate.sweep(scenario, {"p_retaliate": "0.2,0.7,0.3"}, replications=50, seed=1,
                           out=tmp_path / "sweep")
    assert table["status"].tolist() == ["ok", "failed", "ok"]
    failed = table.iloc[1]
    assert failed["error"].startswith("SimulationError: replication 0")
    assert "is outside [0, 1]" in failed["error"]
    assert np.isnan(failed["strike_p"])
    manifest = table.attrs["manifest"]
    assert manifest["failures"] == 1
    assert manifest["failed_points"] == [{"point": 1, "error": failed["error"]}]


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("kept", [True, False])
def test_a_lost_worker_process_offers_a_resume_only_for_a_sweep_kept_on_disk(
        border: escalate.Scenario, tmp_path: Path, kept: bool) -> None:
    """With --out the finished points are kept and --resume continues; without, nothing is."""
    def kill_once(update: SweepProgress) -> None:
        if update.done == 1:
            kill_a_worker_process()

    out = tmp_path / "sweep" if kept else None
    with pytest.raises(SimulationError, match="a worker process died") as failure:
        run_sweep(border, {"p_retaliate": "0.1:0.5:20"}, replications=50, seed=1, out=out,
                  executor=ProcessExecutor(2), progress=kill_once)
    if kept:
        assert f"the finished points are kept in {out}: continue with --resume" in str(
            failure.value)
    else:
        assert "resume" not in str(failure.value)


def test_a_script_without_a_main_guard_is_told_what_its_workers_need(
        border_file: Path, tmp_path: Path) -> None:
    """Spawned workers import the user's script; without `if __name__ == "__main__":` they
    die starting, and the error says why, naming the script."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import escalate\n"
        f"scenario = escalate.load({str(border_file)!r})\n"
        "try:\n"
        "    escalate.sweep(scenario, {'p_retaliate': '0.1,0.3,0.5'}, replications=20, seed=1,"
        " workers=2)\n"
        "except escalate.EscalateError as error:\n"
        "    print(error)\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, check=False)
    assert "a worker process died" in done.stdout, done.stderr[-2000:]
    assert ("workers are started afresh and import unguarded.py; a script that runs a sweep "
            'with workers must do so under `if __name__ == "__main__":`') in done.stdout


def test_shards_partition_the_points() -> None:
    """Shard I of N takes every N-th point from I - 1; together the shards cover each point once."""
    parts = [list(shard_points(10, (i, 3))) for i in (1, 2, 3)]
    assert parts == [[0, 3, 6, 9], [1, 4, 7], [2, 5, 8]]
    assert parse_shard("2/3") == (2, 3)
    for text in ("0/3", "4/3", "a/b", "3"):
        with pytest.raises(UsageError, match="I/N"):
            parse_shard(text)


def test_merged_shards_equal_the_whole_sweep(border: escalate.Scenario, tmp_path: Path) -> None:
    """Three shards merged give the bytes of the unsharded table, and the same manifest totals."""
    whole = tmp_path / "whole"
    escalate.sweep(border, VARY, replications=80, seed=2, out=whole)
    shards = [tmp_path / f"shard{i}" for i in (1, 2, 3)]
    for i, directory in enumerate(shards, start=1):
        part = escalate.sweep(border, VARY, replications=80, seed=2, shard=f"{i}/3",
                              out=directory)
        assert part["point"].tolist() == list(range(i - 1, 4, 3))
    manifest = merge_shards(shards, tmp_path / "merged")
    for name in ("points.csv", "points.parquet"):
        assert (tmp_path / "merged" / name).read_bytes() == (whole / name).read_bytes()
    assert manifest["executor"]["kind"] == "shards"
    assert manifest["points_done"] == 4


def test_merge_refuses_shards_of_different_sweeps(border: escalate.Scenario,
                                                  tmp_path: Path) -> None:
    """Shards of different seeds, designs or splits are refused, naming what differs."""
    one = tmp_path / "one"
    escalate.sweep(border, VARY, replications=20, seed=2, shard="1/2", out=one)
    other_seed = tmp_path / "other_seed"
    escalate.sweep(border, VARY, replications=20, seed=3, shard="2/2", out=other_seed)
    with pytest.raises(UsageError, match=r"(?s)different sweep.*seed: .*one has 2, .*has 3"):
        merge_shards([one, other_seed], tmp_path / "m1")
    other_design = tmp_path / "other_design"
    escalate.sweep(border, {"p_retaliate": "0.1,0.2"}, replications=20, seed=2, shard="2/2",
                   out=other_design)
    with pytest.raises(UsageError, match=r"(?s)different sweep.*design"):
        merge_shards([one, other_design], tmp_path / "m2")
    other_split = tmp_path / "other_split"
    escalate.sweep(border, VARY, replications=20, seed=2, shard="2/3", out=other_split)
    with pytest.raises(UsageError, match=r"shard 1/2 but .* is shard 2/3"):
        merge_shards([one, other_split], tmp_path / "m3")


def test_merge_refuses_overlapping_missing_or_unfinished_shards(
        border: escalate.Scenario, tmp_path: Path) -> None:
    """A shard given twice, a shard left out or an unfinished shard is named in the refusal."""
    shards = [tmp_path / f"s{i}" for i in (1, 2, 3)]
    for i, directory in enumerate(shards, start=1):
        escalate.sweep(border, VARY, replications=20, seed=2, shard=f"{i}/3", out=directory)
    with pytest.raises(UsageError, match=r"shard 1/3 is given twice .*; they overlap"):
        merge_shards([shards[0], shards[0], shards[1], shards[2]], tmp_path / "m1")
    with pytest.raises(UsageError, match=r"shard 2/3 missing"):
        merge_shards([shards[0], shards[2]], tmp_path / "m2")
    manifest_path = shards[1] / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest.update(status="running", points_done=0)
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(UsageError, match=r"shard 2/3 in .*s2 is not finished .*--resume"):
        merge_shards(shards, tmp_path / "m3")
    escalate.sweep(border, VARY, replications=20, seed=2, out=tmp_path / "whole")
    with pytest.raises(UsageError, match="holds a whole sweep, not a shard"):
        merge_shards([tmp_path / "whole"], tmp_path / "m4")


def test_an_occupied_directory_is_refused(border: escalate.Scenario, tmp_path: Path) -> None:
    """A directory that holds a sweep needs resume; one that holds other files is refused."""
    escalate.sweep(border, VARY, replications=20, seed=2, out=tmp_path / "sweep")
    with pytest.raises(UsageError, match=r"already holds a sweep .*pass --resume"):
        escalate.sweep(border, VARY, replications=20, seed=2, out=tmp_path / "sweep")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty and holds no sweep"):
        escalate.sweep(border, VARY, replications=20, seed=2, out=tmp_path / "other")


def test_resume_refuses_a_different_sweep(border: escalate.Scenario, tmp_path: Path) -> None:
    """Resuming with another seed or replication count says what differs."""
    escalate.sweep(border, VARY, replications=20, seed=2, out=tmp_path / "sweep")
    with pytest.raises(UsageError, match=r"(?s)made differently.*replications: the directory "
                                         r"has 20, this sweep 30"):
        escalate.sweep(border, VARY, replications=30, seed=2, out=tmp_path / "sweep",
                       resume=True)


def test_a_different_sweep_is_refused_before_its_executor_starts(border: escalate.Scenario,
                                                                 tmp_path: Path) -> None:
    """Resuming a sweep made differently is refused before any worker or cluster is started."""
    escalate.sweep(border, VARY, replications=20, seed=2, out=tmp_path / "sweep")

    class NeverStarted(SerialExecutor):
        def __enter__(self) -> Self:
            raise AssertionError("the executor was started")

    with pytest.raises(UsageError, match="made differently"):
        run_sweep(border, VARY, replications=30, seed=2, out=tmp_path / "sweep", resume=True,
                  executor=NeverStarted())


def test_load_sweep_explains_an_unfinished_directory(tmp_path: Path) -> None:
    """Loading a directory without a table says how far the sweep got and how to finish it."""
    with pytest.raises(OutputError, match="holds no sweep"):
        escalate.load_sweep(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps(
        {"format": "escalate-sweep/1", "status": "running", "points_done": 3}))
    with pytest.raises(OutputError, match=r"no points table yet \(status running, 3 points "
                                          r"done\).*--resume"):
        escalate.load_sweep(tmp_path)


def test_two_level_sweeps_fix_the_varied_parameter(border: escalate.Scenario) -> None:
    """With uncertainty, the varied parameter stays at its point value: p = 0 means no strike."""
    table = escalate.sweep(border, {"p_retaliate": "0,1"}, replications=200, seed=1,
                           uncertainty=True)
    assert table["strike_p"].tolist() == [0.0, 1.0]


def test_importing_escalate_needs_no_sweep_extras() -> None:
    """`import escalate` imports neither scipy, pandas, pyarrow nor dask."""
    code = ("import sys, escalate; heavy = [m for m in ('scipy', 'pandas', 'pyarrow', 'dask', "
            "'distributed') if m in sys.modules]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]"


def test_an_engine_that_cannot_run_the_scenario_is_refused_before_anything_runs(
        tmp_path: Path) -> None:
    """engine="batch" on a fan-out the batch engine cannot hold raises UsageError, writing
    nothing, rather than failing every point."""
    wide = escalate.loads(with_wide_fan_out(BORDER), "wide.yaml")
    with pytest.raises(UsageError, match=re.escape(WIDE_FAN_OUT_REFUSED)):
        escalate.sweep(wide, VARY, replications=10, engine="batch", out=tmp_path / "sweep")
    assert not (tmp_path / "sweep").exists()


def test_operations_on_a_table_share_its_manifest_rather_than_copy_it(
        border: escalate.Scenario, tmp_path: Path) -> None:
    """pandas copies attrs deeply into every result; the manifest (tens of kilobytes) is
    shared instead, and stays a JSON-ready dict."""
    for table in (escalate.sweep(border, {"p_retaliate": "0.1,0.3"}, replications=20, seed=1),
                  escalate.sweep(border, {"p_retaliate": "0.1,0.3"}, replications=20, seed=1,
                                 out=tmp_path / "sweep"),
                  escalate.load_sweep(tmp_path / "sweep")):
        manifest = table.attrs["manifest"]
        derived = table[table["strike_p"] >= 0].head(1)
        assert derived.attrs["manifest"] is manifest
        assert copy.deepcopy(table.attrs)["manifest"] is manifest
        assert json.loads(json.dumps(manifest))["format"] == "escalate-sweep/1"
