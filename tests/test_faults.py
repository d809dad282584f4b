"""Faults: a full disk, an unwritable output directory, Ctrl-C and SIGKILL.

Whatever goes wrong, nothing partial is presented as complete: a run
directory has a ``summary.json`` only when every row is on disk, its manifest
says ``failed`` or ``interrupted`` otherwise, and the exit status says which
(4 for output errors, 130 for Ctrl-C).  A full disk is simulated in the
child with ``RLIMIT_FSIZE`` and ``SIGXFSZ`` ignored, so writes past the limit
fail with ``EFBIG`` as they would with ``ENOSPC``.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from process_helpers import Measured, _watched_pid, escalate_command, run_measured
from sweep_helpers import table_bytes

import escalate
from escalate.results import rundir
from escalate.workflow import run_to_directory

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and limits")

# Sets a file-size limit and execs the command: writes past the limit fail with EFBIG.
_LIMITED = """\
import os, resource, signal, sys
limit = int(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
os.execvp(sys.argv[2], sys.argv[2:])
"""


def _with_file_size_limit(limit_bytes: int) -> list[str]:
    return [sys.executable, "-c", _LIMITED, str(limit_bytes), *escalate_command()]


def _manifest(directory: Path) -> dict[str, object]:
    return dict(json.loads((directory / "manifest.json").read_text(encoding="utf-8")))


def _assert_output_error(measured: Measured, file: Path) -> None:
    """Exit 4 with a message naming ``file``, and no traceback."""
    assert measured.returncode == 4, measured.stderr[-2000:]
    assert "Traceback" not in measured.stderr, measured.stderr[-2000:]
    assert f"OutputError: cannot write {file}: File too large" in measured.stderr


def _assert_nothing_presented_as_complete(directory: Path, file: Path) -> None:
    """No summary, no temporary left behind, and a manifest that says the run failed."""
    assert not (directory / "summary.json").exists()
    assert not list(directory.glob(".*.tmp"))
    manifest = _manifest(directory)
    assert manifest["status"] == "failed"
    assert str(file) in str(manifest["error"])


# -- a full disk ------------------------------------------------------------------------------

def test_rows_that_fill_the_disk_end_in_exit_4_and_a_failed_manifest(
        border_file: Path, tmp_path: Path) -> None:
    """replications.csv outgrows the disk: exit 4 naming it, no summary, manifest `failed`."""
    out = tmp_path / "run"
    measured = run_measured(["run", str(border_file), "-n", "5000", "--out", str(out), "--quiet"],
                            prefix=_with_file_size_limit(64 * 1024))
    _assert_output_error(measured, out / "replications.csv")
    _assert_nothing_presented_as_complete(out, out / "replications.csv")


def test_an_event_log_that_fills_the_disk_ends_in_exit_4(border_file: Path,
                                                         tmp_path: Path) -> None:
    """events.csv outgrows the disk: exit 4 naming it, no summary, manifest `failed`."""
    out = tmp_path / "run"
    measured = run_measured(["run", str(border_file), "-n", "2000", "--out", str(out), "--events",
                             "--quiet"], prefix=_with_file_size_limit(64 * 1024))
    _assert_output_error(measured, out / "events.csv")
    _assert_nothing_presented_as_complete(out, out / "events.csv")


def test_a_summary_that_cannot_be_written_leaves_none(border_file: Path, tmp_path: Path) -> None:
    """The rows fit but summary.json does not: exit 4, and no summary, whole or partial."""
    out = tmp_path / "run"
    measured = run_measured(["run", str(border_file), "-n", "10", "--out", str(out), "--quiet"],
                            prefix=_with_file_size_limit(16 * 1024))
    _assert_output_error(measured, out / "summary.json")
    _assert_nothing_presented_as_complete(out, out / "summary.json")


def test_rows_lost_when_flushed_to_disk_fail_the_run(
        border_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A disk that reports ENOSPC only when the rows are synced still fails the run."""
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc to tell which file a descriptor belongs to")
    real_fsync = os.fsync

    def fsync(descriptor: int) -> None:
        if os.readlink(f"/proc/self/fd/{descriptor}").endswith("replications.csv"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(descriptor)

    monkeypatch.setattr(rundir.os, "fsync", fsync)
    out = tmp_path / "run"
    with pytest.raises(escalate.OutputError,
                       match=r"cannot write .*replications\.csv: No space left on device"):
        run_to_directory(escalate.load(border_file), out, replications=100, seed=1)
    assert not (out / "summary.json").exists()
    assert _manifest(out)["status"] == "failed"


def test_a_sweep_table_that_fills_the_disk_ends_in_exit_4(border_file: Path,
                                                           tmp_path: Path) -> None:
    """points.csv outgrows the disk: exit 4 naming it, no table, manifest `failed`."""
    out = tmp_path / "sweep"
    measured = run_measured(["sweep", str(border_file), "--vary", "p_retaliate=0.01:0.99:100",
                             "-n", "20", "--workers", "1", "--quiet", "--out", str(out)],
                            prefix=_with_file_size_limit(20 * 1024), timeout=60)
    assert measured.returncode == 4, measured.stderr[-2000:]
    assert "Traceback" not in measured.stderr
    assert f"cannot write the table {out / 'points.csv'}: File too large" in measured.stderr
    assert not (out / "points.csv").exists()
    assert _manifest(out)["status"] == "failed"


# -- an unwritable output directory -----------------------------------------------------------

def test_an_output_directory_under_a_regular_file_is_invalid_input(
        border_file: Path, tmp_path: Path) -> None:
    """`--out FILE/run` cannot be made: exit 2 naming the file, before the run (as for root)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory\n", encoding="utf-8")
    measured = run_measured(["run", str(border_file), "-n", "10", "--quiet",
                             "--out", str(blocker / "run")])
    assert measured.returncode == 2, measured.stderr
    assert (f"UsageError: --out {blocker / 'run'} cannot be made: {blocker} is a file, not a "
            "directory") in measured.stderr


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes into read-only directories; see the case under a file")
def test_a_read_only_output_directory_is_an_output_error(border_file: Path,
                                                         tmp_path: Path) -> None:
    """An empty directory without write permission: exit 4 naming the file it could not write."""
    out = tmp_path / "read-only"
    out.mkdir()
    out.chmod(0o555)
    try:
        measured = run_measured(["run", str(border_file), "-n", "10", "--quiet",
                                 "--out", str(out)])
    finally:
        out.chmod(0o755)
    assert measured.returncode == 4, measured.stderr
    assert "Permission denied" in measured.stderr
    assert not (out / "summary.json").exists()


def test_an_output_path_that_is_a_file_is_invalid_input(border_file: Path,
                                                        tmp_path: Path) -> None:
    """`--out` naming an existing file is refused with exit 2 and the file left alone."""
    target = tmp_path / "results.txt"
    target.write_text("precious\n", encoding="utf-8")
    measured = run_measured(["run", str(border_file), "-n", "10", "--quiet", "--out", str(target)])
    assert measured.returncode == 2
    assert "is a file, not a directory" in measured.stderr
    assert target.read_text(encoding="utf-8") == "precious\n"


# -- Ctrl-C and SIGKILL -----------------------------------------------------------------------

def _once_rows_appear(out: Path, signal_number: int,
                      rows_file: str = "replications.csv", minimum_bytes: int = 50_000,
                      ) -> Callable[[subprocess.Popen[bytes], Path], None]:
    """Signal the child once it has written ``minimum_bytes`` of rows."""

    def send(process: subprocess.Popen[bytes], _folder: Path) -> None:
        rows = out / rows_file
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if rows.exists() and rows.stat().st_size >= minimum_bytes:
                process.send_signal(signal_number)
                return
            time.sleep(0.005)
        raise AssertionError("the run ended or stalled before it wrote rows")

    return send


@pytest.mark.parametrize("engine", ["reference", "auto"])
def test_ctrl_c_during_a_run_exits_130_and_leaves_it_interrupted(
        engine: str, border_file: Path, tmp_path: Path) -> None:
    """SIGINT mid-run: exit 130, manifest `interrupted`, no summary; the same command then works."""
    out = tmp_path / "run"
    arguments = ["run", str(border_file), "--out", str(out), "--quiet", "--engine", engine]
    measured = run_measured([*arguments, "-n", "100000000"], timeout=60,
                            while_running=_once_rows_appear(out, signal.SIGINT))
    assert measured.returncode == 130, measured.stderr[-2000:]
    assert "interrupted" in measured.stderr
    assert "Traceback" not in measured.stderr
    assert _manifest(out)["status"] == "interrupted"
    assert not (out / "summary.json").exists()
    again = run_measured([*arguments, "-n", "200"], timeout=60)
    assert again.returncode == 0, again.stderr
    assert _manifest(out)["status"] == "completed"
    assert json.loads((out / "summary.json").read_text())["replications"] == 200
    assert len((out / "replications.csv").read_text().splitlines()) == 201


def _cpu_seconds(pid: int) -> float:
    """The CPU time process ``pid`` has used so far (0 before it can be read)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    # utime and stime are the 14th and 15th fields, the 12th and 13th after the name
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_ctrl_c_during_a_run_without_a_directory_exits_130(border_file: Path) -> None:
    """SIGINT while only the terminal summary is wanted still stops cleanly with 130."""

    def interrupt(process: subprocess.Popen[bytes], folder: Path) -> None:
        # Nothing is written to tell that the replications have begun, so wait for the
        # command to have used more CPU than starting up takes (about 1 s): a fixed sleep
        # lands in the imports on a loaded machine.
        deadline = time.monotonic() + 50
        while _cpu_seconds(_watched_pid(process, folder)) < 2.5 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)

    measured = run_measured(["run", str(border_file), "-n", "100000000", "--quiet",
                             "--engine", "reference"], timeout=60, while_running=interrupt)
    assert measured.returncode == 130, measured.stderr[-2000:]
    assert "Traceback" not in measured.stderr


def test_a_run_killed_outright_says_running_and_can_be_run_again(
        border_file: Path, tmp_path: Path) -> None:
    """SIGKILL mid-run leaves the manifest `running` and no summary; the next run replaces it."""
    out = tmp_path / "run"
    arguments = ["run", str(border_file), "--out", str(out), "--quiet", "--engine", "reference"]
    measured = run_measured([*arguments, "-n", "100000000"], timeout=60,
                            while_running=_once_rows_appear(out, signal.SIGKILL))
    assert measured.returncode == -signal.SIGKILL
    assert _manifest(out)["status"] == "running"
    assert not (out / "summary.json").exists()
    again = run_measured([*arguments, "-n", "100"], timeout=60)
    assert again.returncode == 0, again.stderr
    assert _manifest(out)["status"] == "completed"


SWEEP = ["--vary", "p_retaliate=0.01:0.99:30", "--vary", "retaliation_delay=1,4",
         "-n", "20000", "--seed", "7", "--quiet"]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_during_a_sweep_exits_130_and_resumes_to_the_same_table(
        workers: str, border_file: Path, tmp_path: Path) -> None:
    """SIGINT mid-sweep: exit 130 and no table; --resume then gives the uninterrupted table."""
    whole = tmp_path / "whole"
    done = run_measured(["sweep", str(border_file), *SWEEP, "--workers", workers,
                         "--out", str(whole)], timeout=120)
    assert done.returncode == 0, done.stderr

    out = tmp_path / "interrupted"
    arguments = ["sweep", str(border_file), *SWEEP, "--workers", workers, "--out", str(out)]

    def interrupt(process: subprocess.Popen[bytes], _folder: Path) -> None:
        points = out / "points"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if points.is_dir() and len(list(points.glob("*.json"))) >= 5:
                process.send_signal(signal.SIGINT)
                return
            time.sleep(0.005)
        raise AssertionError("the sweep ended or stalled before five points were done")

    measured = run_measured(arguments, timeout=60, while_running=interrupt)
    assert measured.returncode == 130, measured.stderr[-2000:]
    assert "Traceback" not in measured.stderr
    assert _manifest(out)["status"] == "interrupted"
    assert not (out / "points.csv").exists()
    kept = len(list((out / "points").glob("*.json")))
    assert 5 <= kept < 60
    resumed = run_measured([*arguments, "--resume"], timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert table_bytes(out) == table_bytes(whole)


def test_ctrl_c_during_a_sensitivity_analysis_exits_130_and_leaves_it_interrupted(
        border_file: Path, tmp_path: Path) -> None:
    """SIGINT while the points run: exit 130, manifest `interrupted`, no indices or samples."""
    out = tmp_path / "sens"

    def interrupt(process: subprocess.Popen[bytes], _folder: Path) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if (out / "manifest.json").exists() and _manifest(out)["status"] == "running":
                time.sleep(0.5)  # inside the first point's replications
                process.send_signal(signal.SIGINT)
                return
            time.sleep(0.005)
        raise AssertionError("the analysis ended or stalled before its manifest was written")

    measured = run_measured(["sensitivity", str(border_file), "--samples", "2", "-n", "10000000",
                             "--workers", "1", "--engine", "reference", "--quiet",
                             "--out", str(out)], timeout=60, while_running=interrupt)
    assert measured.returncode == 130, measured.stderr[-2000:]
    assert "Traceback" not in measured.stderr
    assert _manifest(out)["status"] == "interrupted"
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]
