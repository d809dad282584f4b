"""Sweeps on a real Dask cluster, started locally on the loopback interface only."""

from __future__ import annotations

import os
import signal
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
