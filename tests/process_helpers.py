"""Running ``escalate`` as a user would, in a subprocess, and measuring what it cost.

:func:`run_measured` reports the wall time and the peak resident memory of the
child (``ru_maxrss`` from ``os.wait4``), and the CPU time it used.  It kills a child that outlives its
deadline or grows past a memory ceiling, so a test that finds a hang or a leak
fails in seconds instead of hanging or swapping too.
"""

from __future__ import annotations

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
          prefix: Sequence[str] | None = None) -> tuple[subprocess.Popen[bytes], Path]:
    """Start ``escalate ARGS`` with its output going to files; return the process and the folder.

    ``prefix`` replaces the ``escalate`` command (say, by a wrapper that sets
    limits and then execs ``escalate``).
    """
    folder = Path(tempfile.mkdtemp(prefix="escalate-child-"))
    command = [*(prefix if prefix is not None else escalate_command()), *args]
    with open(folder / "stdout", "wb") as out, open(folder / "stderr", "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, cwd=cwd,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return process, folder


def _resident_mb(pid: int) -> float:
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0.0
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def finish(process: subprocess.Popen[bytes], folder: Path, started: float,
           timeout: float, max_mb: float | None = None) -> Measured:
    """Wait for ``process`` and measure it; kill it after ``timeout`` s or above ``max_mb``."""
    deadline = started + timeout
    timed_out = killed_for_memory = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        timed_out = time.perf_counter() > deadline
        killed_for_memory = max_mb is not None and _resident_mb(process.pid) > max_mb
        if timed_out or killed_for_memory:
            process.send_signal(signal.SIGKILL)
            _, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.005)
    seconds = time.perf_counter() - started
    # Reaped here, so tell Popen; otherwise it would warn that the child still runs.
    process.returncode = os.waitstatus_to_exitcode(status)
    stdout = (folder / "stdout").read_text(encoding="utf-8", errors="replace")
    stderr = (folder / "stderr").read_text(encoding="utf-8", errors="replace")
    shutil.rmtree(folder, ignore_errors=True)
    return Measured(process.returncode, stdout, stderr, seconds, usage.ru_maxrss / 1024,
                    usage.ru_utime + usage.ru_stime, timed_out, killed_for_memory)


def run_measured(args: Sequence[str], *, timeout: float = 30.0, cwd: Path | None = None,
                 prefix: Sequence[str] | None = None, max_mb: float | None = None,
                 while_running: Callable[[subprocess.Popen[bytes], Path], None] | None = None,
                 ) -> Measured:
    """Run ``escalate ARGS`` to the end and measure its time and peak memory.

    The child is killed after ``timeout`` seconds or when its resident memory
    passes ``max_mb``.  ``while_running(process, folder)`` is called once the
    child has started, for tests that signal it; ``folder`` holds its
    ``stdout`` and ``stderr`` files.
    """
    started = time.perf_counter()
    process, folder = start(args, cwd=cwd, prefix=prefix)
    try:
        if while_running is not None:
            while_running(process, folder)
    finally:
        measured = finish(process, folder, started, timeout, max_mb)
    return measured
