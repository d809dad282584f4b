"""`escalate sweep` and `escalate merge` as a user types them (subprocesses)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BORDER
from sweep_helpers import (
    GRID,
    RUNTIME_FAILURE,
    WIDE_FAN_OUT_REFUSED,
    escalate_cli,
    table_bytes,
    with_wide_fan_out,
    write_scenario,
)


@pytest.mark.slow
def test_serial_workers_and_merged_shards_give_identical_tables(border_file: Path,
                                                                tmp_path: Path) -> None:
    """One process, two worker processes, and four shards merged: byte-identical tables."""
    common = [border_file, *GRID, "-n", "200", "--seed", "11", "--quiet"]
    serial = escalate_cli("sweep", *common, "--workers", "1", "--out", tmp_path / "serial")
    assert serial.returncode == 0, serial.stderr
    parallel = escalate_cli("sweep", *common, "--workers", "2", "--out", tmp_path / "parallel")
    assert parallel.returncode == 0, parallel.stderr
    shards = []
    for i in range(1, 5):
        shard = tmp_path / f"shard{i}"
        done = escalate_cli("sweep", *common, "--workers", "1", "--shard", f"{i}/4",
                            "--out", shard)
        assert done.returncode == 0, done.stderr
        assert f"(shard {i}/4)" in done.stdout
        shards.append(shard)
    merged = escalate_cli("merge", *shards, "--out", tmp_path / "merged")
    assert merged.returncode == 0, merged.stderr
    assert "merged 4 shards: 6 points" in merged.stdout
    expected = table_bytes(tmp_path / "serial")
    assert expected.count(b"\n") == 7
    for other in ("parallel", "merged"):
        assert table_bytes(tmp_path / other) == expected, other
    assert json.loads((tmp_path / "parallel" / "manifest.json").read_text())["executor"] == {
        "kind": "processes", "workers": 2}


def test_a_finished_sweep_prints_where_its_table_is(border_file: Path, tmp_path: Path) -> None:
    """Exit 0, a summary line on standard output, and the progress lines on standard error."""
    done = escalate_cli("sweep", border_file, *GRID, "-n", "50", "--workers", "1",
                        "--out", tmp_path / "sweep")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (f"6 points; 300 replications; sweep directory: "
                                   f"{tmp_path / 'sweep'}")
    # Not a terminal: plain log lines for batch logs, the last one at the end.
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "sweep: 6 points"
    assert lines[-1].startswith("sweep: 6/6 points, ")
    assert "replications/s" in lines[-1]
    assert "ETA 0:00:00" in lines[-1]
    assert (tmp_path / "sweep" / "points.csv").exists()
    assert (tmp_path / "sweep" / "points.parquet").exists()


def test_quiet_prints_no_progress(border_file: Path, tmp_path: Path) -> None:
    """--quiet leaves standard error empty."""
    done = escalate_cli("sweep", border_file, *GRID, "-n", "20", "--workers", "1", "--quiet",
                        "--out", tmp_path / "sweep")
    assert done.returncode == 0
    assert done.stderr == ""


def test_failed_points_exit_3_and_are_listed(tmp_path: Path) -> None:
    """A point whose simulation fails is reported; the others run; the exit status is 3."""
    scenario = write_scenario(tmp_path, RUNTIME_FAILURE)
    done = escalate_cli("sweep", scenario, "--vary", "p_retaliate=0.2,0.7,0.9,0.4", "-n", "30",
                        "--workers", "1", "--out", tmp_path / "sweep")
    assert done.returncode == 3, done.stderr
    assert "4 points, 2 failed;" in done.stdout
    assert "  point 1: SimulationError: replication 0" in done.stdout
    assert "sweep: point 2 failed: SimulationError" in done.stderr
    rows = table_bytes(tmp_path / "sweep").decode().splitlines()[1:]
    assert [row.split(",")[2] for row in rows] == ["ok", "failed", "failed", "ok"]
    manifest = json.loads((tmp_path / "sweep" / "manifest.json").read_text())
    assert manifest["status"] == "completed"
    assert manifest["failures"] == 2


@pytest.mark.parametrize(("arguments", "message"), [
    (["--vary", "p_retaliate=0.5,1.5"], "point 1 (p_retaliate=1.5): parameters.p_retaliate"),
    (["--vary", "p_retaliat=0.1"], "did you mean `p_retaliate`?"),
    (["--vary", "p_retaliate"], "--vary expects NAME=SPEC"),
    (["--vary", "p_retaliate=dist"], "needs --design lhs or sobol"),
    (["--vary", "p_retaliate=0:1", "--design", "lhs"], "the lhs design needs --points N"),
    (["--vary", "p_retaliate=0.1", "--shard", "3/2"], "--shard expects I/N"),
    (["--vary", "p_retaliate=0.1", "--precision", "0.7"], "precision is a 95% half-width"),
    (["--vary", "p_retaliate=0.1", "--workers", "2", "--dask-local", "2"], "--workers sets"),
])
def test_bad_input_exits_2_before_anything_runs(border_file: Path, tmp_path: Path,
                                                arguments: list[str], message: str) -> None:
    """Bad options or invalid points exit 2 with a message and no traceback; nothing is written."""
    done = escalate_cli("sweep", border_file, *arguments, "-n", "10", "--out", tmp_path / "out")
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()


def test_lhs_sobol_and_list_designs_from_the_command_line(border_file: Path,
                                                          tmp_path: Path) -> None:
    """--design lhs/sobol with --points and --design list with --points-file all run."""
    for design in ("lhs", "sobol"):
        done = escalate_cli("sweep", border_file, "--vary", "p_retaliate=dist",
                            "--vary", "retaliation_delay=1:6", "--design", design,
                            "--points", "5", "-n", "20", "--workers", "1", "-q",
                            "--out", tmp_path / design)
        assert done.returncode == 0, done.stderr
        assert "5 points;" in done.stdout
    points = tmp_path / "points.csv"
    points.write_text("p_retaliate,retaliation_delay\n0.2,3\n0.25,1.5\n", encoding="utf-8")
    done = escalate_cli("sweep", border_file, "--design", "list", "--points-file", points,
                        "-n", "20", "--workers", "1", "-q", "--out", tmp_path / "list")
    assert done.returncode == 0, done.stderr
    header, first, second = table_bytes(tmp_path / "list").decode().splitlines()
    assert header.startswith("point,p_retaliate,retaliation_delay,status")
    assert first.startswith("0,0.2,3.0,ok")
    assert second.startswith("1,0.25,1.5,ok")


def test_merge_names_the_missing_shard(border_file: Path, tmp_path: Path) -> None:
    """`escalate merge` with a shard left out exits 2 and says which."""
    for i in (1, 3):
        done = escalate_cli("sweep", border_file, *GRID, "-n", "10", "--workers", "1", "-q",
                            "--shard", f"{i}/3", "--out", tmp_path / f"s{i}")
        assert done.returncode == 0, done.stderr
    done = escalate_cli("merge", tmp_path / "s1", tmp_path / "s3", "--out", tmp_path / "m")
    assert done.returncode == 2
    assert "shard 2/3 missing" in done.stderr


def test_run_precision_records_the_replications_needed(border_file: Path,
                                                       tmp_path: Path) -> None:
    """`escalate run --precision` runs blocks of -n until the intervals are narrow enough."""
    done = escalate_cli("run", border_file, "--precision", "0.03", "-n", "400", "--quiet",
                        "--out", tmp_path / "run", "--format", "json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["precision"]["reached"] is True
    assert manifest["replications"] == summary["replications"]
    assert summary["replications"] % 400 == 0
    widest = max((o["ci95"][1] - o["ci95"][0]) / 2 for o in summary["outcomes"].values())
    assert widest <= 0.03


@pytest.mark.parametrize("engine", ["reference", "batch"])
def test_engine_choice_reaches_every_point(border_file: Path, tmp_path: Path,
                                           engine: str) -> None:
    """--engine is passed to every point's run, and the manifest records which engine ran."""
    done = escalate_cli("sweep", border_file, *GRID, "-n", "50", "--workers", "1", "--quiet",
                        "--engine", engine, "--out", tmp_path / "sweep")
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "sweep" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["engines"] == [engine]


def test_an_engine_that_cannot_run_the_scenario_exits_2_before_anything_runs(
        tmp_path: Path) -> None:
    """`--engine batch` on a fan-out the batch engine cannot hold is refused once, up front."""
    path = write_scenario(tmp_path, with_wide_fan_out(BORDER))
    done = escalate_cli("sweep", path, *GRID, "-n", "10", "--workers", "1", "--quiet",
                        "--engine", "batch", "--out", tmp_path / "sweep")
    assert done.returncode == 2, done.stderr
    assert WIDE_FAN_OUT_REFUSED in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "sweep").exists()
