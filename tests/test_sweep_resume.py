"""Crash safety: a sweep killed with SIGKILL at any moment resumes to the same table."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_helpers import escalate_cli, table_bytes

# 24 points of about 0.05 s each: long enough to be killed part-way through.
SWEEP = ("--vary", "p_retaliate=0.05:0.6:12", "--vary", "retaliation_delay=1,4",
         "-n", "1000", "--seed", "5", "--quiet")

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")


def _point_files(directory: Path) -> list[Path]:
    points = directory / "points"
    return sorted(points.glob("*.json")) if points.is_dir() else []


def _kill_after(arguments: list[str | Path], directory: Path, finished: int) -> int:
    """Start a sweep, SIGKILL it once ``finished`` point files exist; return how many did."""
    process = subprocess.Popen([sys.executable, "-m", "escalate", "sweep", *map(str, arguments)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if (directory / "manifest.json").exists() and len(
                    _point_files(directory)) >= finished:
                break
            time.sleep(0.002)
        assert process.poll() is None, "the sweep finished before it could be killed"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=30)
    return len(_point_files(directory))


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The table of the sweep run once, without interruption."""
    directory = tmp_path_factory.mktemp("uninterrupted")
    scenario = directory / "border.yaml"
    from conftest import BORDER

    scenario.write_text(BORDER, encoding="utf-8")
    done = escalate_cli("sweep", scenario, *SWEEP, "--workers", "1", "--out", directory / "out")
    assert done.returncode == 0, done.stderr
    return table_bytes(directory / "out")


@pytest.mark.slow
@pytest.mark.parametrize(("finished", "workers"), [(0, "1"), (3, "1"), (15, "1"), (6, "2")])
def test_a_killed_sweep_resumes_to_the_uninterrupted_table(
        border_file: Path, tmp_path: Path, uninterrupted: bytes, finished: int,
        workers: str) -> None:
    """SIGKILL after k points (at the start, early, late; serial or two workers), then --resume:
    finished points are not recomputed and the table is byte-identical."""
    out = tmp_path / "out"
    arguments: list[str | Path] = [border_file, *SWEEP, "--workers", workers, "--out", out]
    kept = _kill_after(arguments, out, finished)
    assert kept >= finished
    assert not (out / "points.csv").exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "running"
    before = {path.name: path.stat().st_mtime_ns for path in _point_files(out)}
    done = escalate_cli("sweep", *arguments, "--resume")
    assert done.returncode == 0, done.stderr
    assert table_bytes(out) == uninterrupted
    after = {path.name: path.stat().st_mtime_ns for path in _point_files(out)}
    # Nothing finished was recomputed: every file kept from before is untouched.
    assert {name: after[name] for name in before} == before
    assert len(after) == 24
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "completed"
    assert manifest["resumed"] == 1


def test_half_written_files_are_never_read_as_results(border_file: Path, tmp_path: Path) -> None:
    """Temporaries left by a crash mid-write, and files cut short, are never read as results:
    resuming removes them and runs those points again."""
    out = tmp_path / "out"
    small = ["--vary", "p_retaliate=0.1,0.2,0.3", "-n", "20", "--quiet", "--workers", "1"]
    done = escalate_cli("sweep", border_file, *small, "--out", out)
    assert done.returncode == 0, done.stderr
    expected = table_bytes(out)
    # A crash while writing point 1 and while assembling the table would leave these behind.
    (out / "points" / "00000001.json").unlink()
    (out / "points" / ".00000001.json.tmp").write_text('{"point": 1, "val')
    (out / ".points.csv.tmp").write_text("point,p_ret")
    (out / "points.csv").unlink()
    # A crash of the machine could leave a renamed file whose content never reached the disk.
    (out / "points" / "00000002.json").write_text("")
    done = escalate_cli("sweep", border_file, *small, "--out", out, "--resume")
    assert done.returncode == 0, done.stderr
    assert table_bytes(out) == expected
    assert not list((out / "points").glob(".*.tmp"))


def test_resuming_a_finished_sweep_recomputes_nothing(border_file: Path, tmp_path: Path) -> None:
    """--resume on a completed sweep rewrites the same table from the kept points."""
    out = tmp_path / "out"
    small = ["--vary", "p_retaliate=0.1,0.2", "-n", "20", "--quiet", "--workers", "1"]
    assert escalate_cli("sweep", border_file, *small, "--out", out).returncode == 0
    before = {path.name: path.stat().st_mtime_ns for path in _point_files(out)}
    expected = table_bytes(out)
    done = escalate_cli("sweep", border_file, *small, "--out", out, "--resume")
    assert done.returncode == 0, done.stderr
    assert {path.name: path.stat().st_mtime_ns for path in _point_files(out)} == before
    assert table_bytes(out) == expected


def test_resume_with_other_options_is_refused(border_file: Path, tmp_path: Path) -> None:
    """--resume with a different seed exits 2 and names the difference."""
    out = tmp_path / "out"
    small = ["--vary", "p_retaliate=0.1,0.2", "-n", "20", "--quiet", "--workers", "1"]
    assert escalate_cli("sweep", border_file, *small, "--out", out).returncode == 0
    done = escalate_cli("sweep", border_file, *small, "--seed", "1", "--out", out, "--resume")
    assert done.returncode == 2
    assert "seed: the directory has 20241117, this sweep 1" in done.stderr


def test_a_sweep_killed_while_writing_its_first_manifest_starts_afresh(
        border_file: Path, tmp_path: Path) -> None:
    """A lock, an empty points folder and a half-written manifest count as an empty directory."""
    out = tmp_path / "sweep"
    (out / "points").mkdir(parents=True)
    (out / ".lock").write_text("1\n", encoding="utf-8")
    (out / ".manifest.json.tmp").write_text('{"format": "escalate-sw', encoding="utf-8")
    done = escalate_cli("sweep", border_file, "--vary", "p_retaliate=0.1,0.5", "-n", "20",
                        "--workers", "1", "--quiet", "--resume", "--out", out)
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["status"] == "completed"
