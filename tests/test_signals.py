"""SIGTERM, SIGHUP and a real full disk, as a user meets them, in a subprocess.

SIGTERM (a service manager, ``kill``) and SIGHUP (a closed terminal) stop a
command as Ctrl-C does: the manifest says ``interrupted``, stderr says which
signal, the exit status is 128 + the signal number (143, 129), and the work
can be resumed.  A full disk is a real one, a small tmpfs mounted for the
test (root only): the manifest says ``failed`` and the message names the file.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from process_helpers import run_measured
from sweep_helpers import table_bytes

import escalate
from escalate.cli.signals import Terminated, stop_on_termination
from escalate.errors import OutputError
from escalate.results import manifest as manifest_module
from escalate.results import rundir

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and mounts")

Send = Callable[[subprocess.Popen[bytes], Path], None]


def _manifest(directory: Path) -> dict[str, object]:
    return dict(json.loads((directory / "manifest.json").read_text(encoding="utf-8")))


def _when(ready: Callable[[], bool], signal_number: int, what: str) -> Send:
    """Send ``signal_number`` once ``ready()`` holds (the machine may be slow: no fixed sleep)."""

    def send(process: subprocess.Popen[bytes], _folder: Path) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            with contextlib.suppress(OSError, ValueError):
                if ready():
                    process.send_signal(signal_number)
                    return
            time.sleep(0.005)
        raise AssertionError(f"the command ended or stalled before {what}")

    return send


def _rows_written(out: Path, minimum_bytes: int = 50_000) -> Callable[[], bool]:
    return lambda: (out / "replications.csv").stat().st_size >= minimum_bytes


def _points_done(out: Path, minimum: int = 5) -> Callable[[], bool]:
    return lambda: len(list((out / "points").glob("*.json"))) >= minimum


def _children(pid: int) -> list[int]:
    return [int(child) for child in
            Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")  # a zombie no one has reaped yet has stopped too


def _assert_interrupted_by(measured_returncode: int, stderr: str, name: str) -> None:
    number = int(getattr(signal, name))
    assert measured_returncode == 128 + number, stderr[-2000:]
    assert f"interrupted: terminated by {name}" in stderr
    assert "Traceback" not in stderr


# -- SIGTERM and SIGHUP -----------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP"])
def test_a_termination_signal_during_a_run_leaves_it_interrupted(
        name: str, border_file: Path, tmp_path: Path) -> None:
    """SIGTERM or SIGHUP mid-run: exit 128 + N, manifest `interrupted`; the run can be replaced."""
    out = tmp_path / "run"
    arguments = ["run", str(border_file), "--out", str(out), "--quiet", "--engine", "reference"]
    measured = run_measured([*arguments, "-n", "100000000"], timeout=60,
                            while_running=_when(_rows_written(out), getattr(signal, name),
                                                "it wrote rows"))
    _assert_interrupted_by(measured.returncode, measured.stderr, name)
    assert _manifest(out)["status"] == "interrupted"
    assert not (out / "summary.json").exists()
    again = run_measured([*arguments, "-n", "200"], timeout=60)
    assert again.returncode == 0, again.stderr
    assert _manifest(out)["status"] == "completed"


SWEEP = ["--vary", "p_retaliate=0.01:0.99:30", "--vary", "retaliation_delay=1,4",
         "-n", "20000", "--seed", "7", "--quiet", "--workers", "2"]


@pytest.mark.slow
def test_sigterm_during_a_sweep_stops_its_workers_and_resumes_to_the_same_table(
        border_file: Path, tmp_path: Path) -> None:
    """SIGTERM mid-sweep: exit 143, no worker left running; --resume gives the whole table."""
    whole = tmp_path / "whole"
    done = run_measured(["sweep", str(border_file), *SWEEP, "--out", str(whole)], timeout=120)
    assert done.returncode == 0, done.stderr

    out = tmp_path / "terminated"
    arguments = ["sweep", str(border_file), *SWEEP, "--out", str(out)]
    workers: list[int] = []

    def send(process: subprocess.Popen[bytes], folder: Path) -> None:
        def ready() -> bool:
            workers[:] = _children(process.pid)
            return _points_done(out)() and len(workers) >= 2

        _when(ready, signal.SIGTERM, "five points were done")(process, folder)

    measured = run_measured(arguments, timeout=60, while_running=send)
    _assert_interrupted_by(measured.returncode, measured.stderr, "SIGTERM")
    assert _manifest(out)["status"] == "interrupted"
    assert not (out / "points.csv").exists()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(_gone(pid) for pid in workers):
        time.sleep(0.05)
    assert workers
    assert all(_gone(pid) for pid in workers), workers
    resumed = run_measured([*arguments, "--resume"], timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert table_bytes(out) == table_bytes(whole)


@pytest.mark.slow
def test_sigterm_during_a_sensitivity_analysis_leaves_it_interrupted(
        border_file: Path, tmp_path: Path) -> None:
    """SIGTERM while the points run: exit 143, manifest `interrupted`, nothing else kept."""
    out = tmp_path / "sens"
    measured = run_measured(
        ["sensitivity", str(border_file), "--samples", "2", "-n", "10000000", "--workers", "1",
         "--engine", "reference", "--quiet", "--out", str(out)], timeout=60,
        while_running=_when(lambda: _manifest(out)["status"] == "running", signal.SIGTERM,
                            "its manifest was written"))
    _assert_interrupted_by(measured.returncode, measured.stderr, "SIGTERM")
    assert _manifest(out)["status"] == "interrupted"


def test_the_library_installs_no_signal_handler(border_file: Path) -> None:
    """`escalate.run` in a program leaves that program's SIGTERM and SIGHUP handlers alone."""
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)
    escalate.run(escalate.load(border_file), replications=50, seed=1)
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGHUP)) == before


def test_the_command_line_handlers_raise_terminated_and_are_restored() -> None:
    """Inside `stop_on_termination` SIGTERM raises Terminated (exit 143); outside, as before."""
    before = signal.getsignal(signal.SIGTERM)

    def terminate_self() -> None:
        with stop_on_termination():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)  # the handler runs before this ends

    with pytest.raises(Terminated, match="SIGTERM") as caught:
        terminate_self()
    assert caught.value.exit_status == 143
    assert signal.getsignal(signal.SIGTERM) == before


# -- a real full disk -------------------------------------------------------------------------

@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 256 KiB tmpfs, unmounted afterwards; skipped unless the tests run as root."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root (the tests run as root in CI)")
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_run_that_fills_a_real_disk_leaves_a_failed_manifest(
        border_file: Path, small_disk: Path) -> None:
    """ENOSPC on replications.csv: exit 4 naming it; its rows make room for a `failed` manifest."""
    out = small_disk / "run"
    measured = run_measured(["run", str(border_file), "-n", "100000", "--out", str(out),
                             "--quiet"], timeout=60)
    assert measured.returncode == 4, measured.stderr[-2000:]
    assert (f"OutputError: cannot write {out / 'replications.csv'}: No space left on device"
            in measured.stderr)
    assert "Traceback" not in measured.stderr
    manifest = _manifest(out)
    assert manifest["status"] == "failed"
    assert "No space left on device" in str(manifest["error"])
    assert manifest["removed"] == ["replications.csv"]
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]


def test_a_sweep_that_fills_a_real_disk_leaves_a_failed_manifest_and_resumes(
        border_file: Path, small_disk: Path, tmp_path: Path) -> None:
    """ENOSPC on a point file: exit 4 naming it, manifest `failed`; with room, --resume ends it."""
    arguments = ["sweep", str(border_file), "--vary", "p_retaliate=0.01:0.99:400", "-n", "20",
                 "--seed", "7", "--quiet", "--workers", "1"]
    whole = tmp_path / "whole"
    assert run_measured([*arguments, "--out", str(whole)], timeout=120).returncode == 0
    out = small_disk / "sweep"
    measured = run_measured([*arguments, "--out", str(out)], timeout=120)
    assert measured.returncode == 4, measured.stderr[-2000:]
    assert "No space left on device" in measured.stderr
    assert f"cannot write {out / 'points'}" in measured.stderr
    assert "Traceback" not in measured.stderr
    manifest = _manifest(out)
    assert manifest["status"] == "failed"
    assert 0 < int(str(manifest["points_done"])) < 400
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_disk)], check=True)
    resumed = run_measured([*arguments, "--out", str(out), "--resume"], timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert table_bytes(out) == table_bytes(whole)


def test_a_manifest_that_cannot_be_updated_is_named_in_the_error(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """When neither a new manifest nor the old one's space can be written, the error says so."""
    def full(path: Path, _data: object) -> None:
        raise OutputError(f"cannot write {path}: No space left on device")

    # Every way a manifest is written: the run directory's own, and the last resorts.
    monkeypatch.setattr(rundir, "write_json", full)
    monkeypatch.setattr(manifest_module, "write_json", full)
    monkeypatch.setattr(manifest_module, "overwrite_json", full)
    stopped = OutputError("cannot write replications.csv: No space left on device")

    def fail_the_run() -> None:
        with rundir.RunDirectory(tmp_path / "run") as run:
            run.open("replications.csv")
            raise stopped

    with pytest.raises(OutputError) as caught:
        fail_the_run()
    assert caught.value is stopped
    assert any("could not be updated and still says `running`" in note
               for note in caught.value.__notes__)
