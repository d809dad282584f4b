"""Running ``escalate`` as a user would, in a subprocess, and measuring what it cost.

:func:`run_measured` reports the wall time, the CPU time and the peak resident
memory (``ru_maxrss`` from ``os.wait4``) of the child.  It kills a child that
outlives its deadline or grows past a memory ceiling, so a test that finds a
hang or a leak fails in seconds instead of hanging or swapping too.

Linux carries a process's peak memory across ``exec``: a child started
straight from a large parent (a pytest worker holding Hypothesis and pandas)
reports at least the parent's peak.  So by default the child is started by a
small Python process that reports its usage, and only the child's own peak
is measured.  Tests that signal the child start it directly (``isolate=False``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Measured", "escalate_command", "finish", "run_measured", "start"]

# Starts the command, notes its pid, waits for it and writes its exit status and usage.
_REPORTER = """\
import json, os, subprocess, sys
report, command = sys.argv[1], sys.argv[2:]
child = subprocess.Popen(command)
with open(report + ".pid", "w") as handle:
    handle.write(str(child.pid))
_, status, usage = os.wait4(child.pid, 0)
child.returncode = os.waitstatus_to_exitcode(status)
with open(report, "w") as handle:
    json.dump({"returncode": child.returncode, "maxrss_kb": usage.ru_maxrss,
               "cpu_seconds": usage.ru_utime + usage.ru_stime}, handle)
"""


def escalate_command() -> list[str]:
    """The ``escalate`` script on PATH, or ``python -m escalate`` when there is none."""
    found = shutil.which("escalate")
    return [found] if found else [sys.executable, "-m", "escalate"]


@dataclass(frozen=True)
class Measured:
    """How a finished child process ended and what it cost."""

    returncode: int
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float
    cpu_seconds: float
    timed_out: bool = False
    killed_for_memory: bool = False


def start(args: Sequence[str], *, cwd: Path | None = None,
          prefix: Sequence[str] | None = None,
          isolate: bool = True) -> tuple[subprocess.Popen[bytes], Path]:
    """Start ``escalate ARGS`` with its output going to files; return the process and the folder.

    ``prefix`` replaces the ``escalate`` command (say, by a wrapper that sets
    limits and then execs ``escalate``).  With ``isolate`` the process
    returned is the reporter that runs the command (see the module's docstring).
    """
    folder = Path(tempfile.mkdtemp(prefix="escalate-child-"))
    command = [*(prefix if prefix is not None else escalate_command()), *args]
    if isolate:
        command = [sys.executable, "-c", _REPORTER, str(folder / "usage.json"), *command]
    with open(folder / "stdout", "wb") as out, open(folder / "stderr", "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"},
                                   start_new_session=isolate)
    return process, folder


def _resident_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _watched_pid(process: subprocess.Popen[bytes], folder: Path) -> int:
    """The pid of the command itself: the reporter's child when there is a reporter."""
    try:
        return int((folder / "usage.json.pid").read_text())
    except (OSError, ValueError):
        return process.pid


def finish(process: subprocess.Popen[bytes], folder: Path, started: float,
           timeout: float, max_mb: float | None = None) -> Measured:
    """Wait for ``process`` and measure it; kill it after ``timeout`` s or above ``max_mb``."""
    deadline = started + timeout
    timed_out = killed_for_memory = False
    isolated = _is_reporter(process)
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        timed_out = time.perf_counter() > deadline
        killed_for_memory = (max_mb is not None
                             and _resident_mb(_watched_pid(process, folder)) > max_mb)
        if timed_out or killed_for_memory:
            if isolated:
                os.killpg(process.pid, signal.SIGKILL)  # the reporter and the command
            else:
                process.send_signal(signal.SIGKILL)
            _, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    # Reaped here, so tell Popen; otherwise it would warn that the child still runs.
    process.returncode = os.waitstatus_to_exitcode(status)
    returncode = process.returncode
    peak_kb, cpu_seconds = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    report = folder / "usage.json"
    if report.exists():
        found = json.loads(report.read_text())
        returncode, peak_kb, cpu_seconds = (found["returncode"], found["maxrss_kb"],
                                            found["cpu_seconds"])
    elif timed_out or killed_for_memory:
        returncode = -signal.SIGKILL
    stdout = (folder / "stdout").read_text(encoding="utf-8", errors="replace")
    stderr = (folder / "stderr").read_text(encoding="utf-8", errors="replace")
    shutil.rmtree(folder, ignore_errors=True)
    return Measured(returncode, stdout, stderr, seconds, peak_kb / 1024, cpu_seconds,
                    timed_out, killed_for_memory)


def _is_reporter(process: subprocess.Popen[bytes]) -> bool:
    arguments = process.args
    return isinstance(arguments, list) and len(arguments) > 2 and arguments[2] == _REPORTER


def run_measured(args: Sequence[str], *, timeout: float = 30.0, cwd: Path | None = None,
                 prefix: Sequence[str] | None = None, max_mb: float | None = None,
                 while_running: Callable[[subprocess.Popen[bytes], Path], None] | None = None,
                 ) -> Measured:
    """Run ``escalate ARGS`` to the end and measure its time and peak memory.

    The command is killed after ``timeout`` seconds or when its resident
    memory passes ``max_mb``.  ``while_running(process, folder)`` is called
    once it has started, for tests that signal it; then it is started
    directly, so that the signal reaches it, and its peak memory includes
    this process's.  ``folder`` holds its ``stdout`` and ``stderr`` files.
    """
    started = time.perf_counter()
    process, folder = start(args, cwd=cwd, prefix=prefix, isolate=while_running is None)
    try:
        if while_running is not None:
            while_running(process, folder)
    finally:
        measured = finish(process, folder, started, timeout, max_mb)
    return measured
