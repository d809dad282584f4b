"""Soak: a sweep killed with SIGKILL at twenty moments, resumed after each, loses nothing.

The moments are drawn from a fixed seed across the whole life of a sweep
session, start-up included: before the manifest exists, while points are
being written, while the table is being written.  Each session is resumed
with ``--resume`` (on one worker or two, drawn too), and the final table must
be byte-identical to that of a sweep run once without interruption, with
every point there exactly once.
"""

from __future__ import annotations

import csv
import io
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from process_helpers import escalate_command
from sweep_helpers import table_bytes

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")]

KILLS = 20
MOMENT_SEED = 20241117
# 800 points of 500 replications: a few seconds of work, so twenty kills land all over it.
SWEEP = ["--vary", "p_retaliate=0.01:0.99:200", "--vary", "retaliation_delay=1,2,4,8",
         "-n", "500", "--seed", "11", "--quiet"]
POINTS = 800


def _sweep(scenario: Path, out: Path, workers: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([*escalate_command(), "sweep", str(scenario), *SWEEP,
                             "--workers", workers, "--out", str(out), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _finish(process: subprocess.Popen[bytes]) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=120)
    return process.returncode, stderr.decode(errors="replace")


def test_a_sweep_killed_twenty_times_resumes_to_the_uninterrupted_table(
        border_file: Path, tmp_path: Path) -> None:
    """Twenty SIGKILLs at seeded moments, each followed by --resume: same bytes, no point lost."""
    started = time.perf_counter()
    status, stderr = _finish(_sweep(border_file, tmp_path / "whole", "1"))
    assert status == 0, stderr
    whole_seconds = time.perf_counter() - started
    # Start-up as a resumed session sees it: resuming the finished sweep does no work.
    started = time.perf_counter()
    status, stderr = _finish(_sweep(border_file, tmp_path / "whole", "1", "--resume"))
    startup_seconds = time.perf_counter() - started
    assert status == 0, stderr
    work_seconds = max(whole_seconds - startup_seconds, 0.5)

    moments = random.Random(MOMENT_SEED)
    out = tmp_path / "killed"
    killed_while_running = 0
    progress = [0]
    for _ in range(KILLS):
        workers = moments.choice(["1", "2"])
        # From half-way through start-up to a fiftieth of the work beyond it: twenty runs,
        # even on two workers, then do less than the whole sweep, so every kill can land.
        moment = moments.uniform(0.5 * startup_seconds, startup_seconds + work_seconds / 50)
        process = _sweep(border_file, out, workers, "--resume")
        time.sleep(moment)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed_while_running += 1
        status, stderr = _finish(process)
        assert status in (0, -signal.SIGKILL), stderr
        # A pool worker being spawned when its parent is killed cannot read its start-up
        # data and says so on the shared stderr; any other traceback is a defect.
        orphaned_worker = status != 0 and "multiprocessing/spawn.py" in stderr
        assert "Traceback" not in stderr or orphaned_worker, stderr
        progress.append(len(list((out / "points").glob("*.json"))) if out.exists() else 0)
    # A kill never takes away a finished point.
    assert progress == sorted(progress), progress
    assert killed_while_running >= KILLS // 2, "most kills should land while the sweep runs"
    assert any(0 < done < POINTS for done in progress), f"no kill landed mid-sweep: {progress}"

    status, stderr = _finish(_sweep(border_file, out, "2", "--resume"))
    assert status == 0, stderr
    assert table_bytes(out) == table_bytes(tmp_path / "whole")
    rows = list(csv.DictReader(io.StringIO(table_bytes(out).decode("utf-8"))))
    assert [int(row["point"]) for row in rows] == list(range(POINTS))
    assert sorted(p.name for p in (out / "points").glob("*.json")) == [
        f"{index:08d}.json" for index in range(POINTS)]
    assert not list(out.rglob(".*.tmp"))
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "completed"
    assert manifest["points_done"] == POINTS
