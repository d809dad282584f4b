"""Sweeps on a real Dask cluster, started locally on the loopback interface only."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import BORDER
from sweep_helpers import GRID, escalate_cli, table_bytes

import escalate
from escalate import UsageError
from escalate.sweeps import SweepProgress
from escalate.sweeps.executors import DaskExecutor

distributed = pytest.importorskip("distributed")

VARY = {"p_retaliate": "0.1,0.3,0.5", "retaliation_delay": "1,2,4"}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two single-threaded worker processes on 127.0.0.1, without a dashboard."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.slow
def test_a_dask_cluster_gives_the_serial_table(client: Any) -> None:
    """Points submitted to a running scheduler give exactly the rows of a serial sweep."""
    border = escalate.loads(BORDER, "border.yaml")
    serial = escalate.sweep(border, VARY, replications=150, seed=4)
    on_dask = escalate.sweep(border, VARY, replications=150, seed=4,
                             scheduler=client.scheduler.address)
    pd.testing.assert_frame_equal(on_dask, serial)
    assert on_dask.attrs["manifest"]["executor"]["kind"] == "dask"


@pytest.mark.slow
def test_a_worker_dying_mid_sweep_does_not_change_the_results(client: Any) -> None:
    """SIGKILL one worker after the first points finish: Dask reruns its points elsewhere and
    the table is unchanged."""
    border = escalate.loads(BORDER, "border.yaml")
    serial = escalate.sweep(border, VARY, replications=600, seed=8)
    pids = client.run(os.getpid)
    killed: list[int] = []

    def kill_one(update: SweepProgress) -> None:
        if update.done >= 2 and not killed:
            victim = min(pids.values())
            os.kill(victim, signal.SIGKILL)
            killed.append(victim)

    on_dask = escalate.sweep(border, VARY, replications=600, seed=8, scheduler=client,
                             progress=kill_one)
    assert killed
    pd.testing.assert_frame_equal(on_dask, serial)
    client.wait_for_workers(2, timeout=60)


@pytest.mark.slow
def test_dask_local_from_the_command_line(border_file: Path, tmp_path: Path) -> None:
    """`--dask-local 2` starts its own loopback cluster and gives the serial table."""
    common = [border_file, *GRID, "-n", "100", "--quiet"]
    serial = escalate_cli("sweep", *common, "--workers", "1", "--out", tmp_path / "serial")
    assert serial.returncode == 0, serial.stderr
    on_dask = escalate_cli("sweep", *common, "--dask-local", "2", "--out", tmp_path / "dask")
    assert on_dask.returncode == 0, on_dask.stderr
    assert table_bytes(tmp_path / "dask") == table_bytes(tmp_path / "serial")


def test_an_unreachable_scheduler_is_a_usage_error() -> None:
    """A scheduler address nothing listens on is a UsageError naming the address."""
    executor = DaskExecutor("tcp://127.0.0.1:9", connect_seconds=1)
    with pytest.raises(UsageError, match=r"cannot reach the Dask scheduler at tcp://127\.0\.0\.1:9"):
        executor.__enter__()


def _free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _assert_unreachable(done: subprocess.CompletedProcess[str], address: str) -> None:
    """Exit 2 with one message naming the address, the time waited and what to do."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert re.search(rf"cannot reach the Dask scheduler at {re.escape(address)} \(--scheduler\): "
                     r"gave up after \d+\.\d s", done.stderr), done.stderr
    assert "hint: start one with `dask scheduler" in done.stderr
    assert "--dask-local N" in done.stderr


def test_an_unreachable_scheduler_exits_2_and_leaves_no_directory(border_file: Path,
                                                                  tmp_path: Path) -> None:
    """`--scheduler tcp://127.0.0.1:PORT` with nothing listening: exit 2 and no sweep directory."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "sweep"
    started = time.monotonic()
    done = escalate_cli("sweep", border_file, *GRID, "-n", "100", "-q", "--scheduler", address,
                        "--connect-timeout", "1", "--out", out)
    _assert_unreachable(done, address)
    assert not out.exists()
    # The time-out asked for, not Dask's default of 30 s (start-up takes a few seconds).
    assert time.monotonic() - started < 20


def test_an_unreachable_scheduler_leaves_a_resumed_sweep_as_it_was(border_file: Path,
                                                                   tmp_path: Path) -> None:
    """`--resume --scheduler` with nothing listening: exit 2, the directory unchanged to the byte."""
    out = tmp_path / "sweep"
    done = escalate_cli("sweep", border_file, *GRID, "-n", "100", "-q", "--workers", "1",
                        "--out", out)
    assert done.returncode == 0, done.stderr
    (out / "points.csv").unlink()  # as if killed before the table was written
    before = {p.relative_to(out): (p.read_bytes(), p.stat().st_mtime_ns)
              for p in sorted(out.rglob("*")) if p.is_file()}
    address = f"tcp://127.0.0.1:{_free_port()}"
    done = escalate_cli("sweep", border_file, *GRID, "-n", "100", "-q", "--scheduler", address,
                        "--connect-timeout", "1", "--resume", "--out", out)
    _assert_unreachable(done, address)
    after = {p.relative_to(out): (p.read_bytes(), p.stat().st_mtime_ns)
             for p in sorted(out.rglob("*")) if p.is_file()}
    assert after == before


def test_an_unreachable_scheduler_stops_a_sensitivity_analysis_before_its_directory(
        border_file: Path, tmp_path: Path) -> None:
    """`sensitivity --scheduler` with nothing listening: exit 2, the same message, no --out."""
    pytest.importorskip("SALib")
    address = f"tcp://127.0.0.1:{_free_port()}"
    out = tmp_path / "sensitivity"
    done = escalate_cli("sensitivity", border_file, "--samples", "4", "-n", "20", "-q",
                        "--scheduler", address, "--connect-timeout", "1", "--out", out)
    _assert_unreachable(done, address)
    assert not out.exists()


def test_the_connection_time_out_is_short_and_checked() -> None:
    """The default wait for a scheduler is 5 s; a wait that is not a positive number is refused."""
    assert DaskExecutor("tcp://127.0.0.1:9").connect_seconds == 5.0
    for seconds in (0, -1, float("nan"), 7200):
        with pytest.raises(UsageError, match="--connect-timeout must be a number of seconds"):
            DaskExecutor("tcp://127.0.0.1:9", connect_seconds=seconds)


def _children(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while being read
        if int(fields[1]) == pid:
            found.add(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its exit status is left to collect


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def test_a_killed_dask_local_sweep_leaves_no_process_behind(border_file: Path,
                                                            tmp_path: Path) -> None:
    """SIGKILL of a `--dask-local` sweep: its cluster's worker processes end by themselves."""
    process = subprocess.Popen(
        [sys.executable, "-m", "escalate", "sweep", str(border_file), "--vary",
         "p_retaliate=0.05:0.95:400", "-n", "4000", "--dask-local", "2", "--quiet",
         "--out", str(tmp_path / "sweep")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        children: set[int] = set()
        # Killed once points are being finished: the cluster's processes are all up.
        while time.monotonic() < deadline and not list((tmp_path / "sweep").glob("points/*.json")):
            children |= _children(process.pid)
            assert process.poll() is None, "the sweep ended before it could be killed"
            time.sleep(0.2)
        children |= _children(process.pid)
        assert len(children) >= 2, "the cluster's worker processes were not found"
    finally:
        process.kill()
        process.wait(timeout=30)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(_alive(pid) for pid in children):
        time.sleep(0.5)
    left = [pid for pid in children if _alive(pid)]
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left running after the sweep was killed: {left}"
