"""Helpers shared by the sweep tests: the CLI as a user runs it, and scenario variants."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path

from conftest import BORDER

#: the border scenario with a retaliation probability that leaves [0, 1] at run time when
#: p_retaliate > 0.5 (it depends on the state, so no check can see it before the run)
RUNTIME_FAILURE = BORDER.replace("retaliation: p_retaliate,",
                                 'retaliation: "p_retaliate * (level + 1)",')
assert RUNTIME_FAILURE != BORDER

#: the message of the batch engine refusing a scenario made by :func:`with_wide_fan_out`
WIDE_FAN_OUT_REFUSED = ("the batch engine cannot run this: event 'clash' schedules 41 "
                        "occurrences at once")


def with_wide_fan_out(text: str) -> str:
    """The border scenario (or a variant) whose first event schedules more occurrences at once
    than the batch engine holds, so only the reference engine can run it."""
    wide = text.replace("then: [south_decides]}",
                        "then: [south_decides" + ", aside" * 40 + "]}\n"
                        "  aside: {after: 1 day}")
    assert wide != text
    return wide


#: a small grid of the border scenario (3 x 2 points)
GRID = ("--vary", "p_retaliate=0.1,0.3,0.5", "--vary", "retaliation_delay=1,4")


def escalate_cli(*args: str | Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run ``python -m escalate ARGS`` as a user would, and capture its output."""
    return subprocess.run([sys.executable, "-m", "escalate", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, check=False)


def kill_a_worker_process() -> None:
    """SIGKILL one of this process's worker processes, as an out-of-memory killer would."""
    workers = multiprocessing.active_children()
    assert workers, "no worker process to kill"
    os.kill(workers[0].pid, signal.SIGKILL)  # type: ignore[arg-type]


def write_scenario(directory: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def table_bytes(directory: Path) -> bytes:
    """The bytes of a sweep directory's CSV table."""
    return (directory / "points.csv").read_bytes()
