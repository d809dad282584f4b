"""The self-describing run directory: manifest, summary, one row per replication.

Layout (``docs/outputs.md``)::

    manifest.json       how the run was made: scenario hash and content, seed, versions, timings
    summary.json        the aggregated results (identical bytes for identical runs)
    replications.csv    one row per replication, written as the replications finish
    events.csv          every event of every replication (only with ``--events``)

The manifest is written in a ``finally`` block, so a failed or interrupted
run is recorded too; ``summary.json`` appears only for a completed run.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from ..compiled import CompiledScenario
from ..engine.records import ReplicationRecord
from ..errors import OutputError

__all__ = ["EventLogWriter", "ReplicationWriter", "RunDirectory", "versions", "write_json"]

MANIFEST = "manifest.json"
SUMMARY = "summary.json"
REPLICATIONS = "replications.csv"
EVENTS = "events.csv"


def versions() -> dict[str, str]:
    """Versions of Python and the packages that decide the numbers."""
    found = {"python": platform.python_version()}
    for package in ("escalate", "numpy", "simpy", "pydantic"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "unknown"
    return found


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically: a temporary file renamed into place."""
    text = json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False,
                      default=str) + "\n"
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def path_id(names: Sequence[str]) -> str:
    """A short stable identifier of an escalation path."""
    return hashlib.blake2b(">".join(names).encode(), digest_size=5).hexdigest()


class ReplicationWriter:
    """Streams one CSV row per replication."""

    def __init__(self, handle: IO[str], scenario: CompiledScenario, uncertainty: bool) -> None:
        self.scenario = scenario
        self.names = [event.name for event in scenario.events]
        self.writer = csv.writer(handle, lineterminator="\n")
        self.uncertain = [scenario.parameter_names[p] for p in scenario.uncertain_parameters] \
            if uncertainty else []
        header = ["replication", "terminal", "end_day", "max_level", "final_level",
                  "events_fired", "events_skipped", "path_id"]
        for outcome in scenario.outcomes:
            header += [outcome.name, f"{outcome.name}_day"]
        header += [f"param_{name}" for name in self.uncertain]
        header.append("path")
        self.writer.writerow(header)

    def write(self, record: ReplicationRecord) -> None:
        path = [self.names[i] for i in record.path]
        row: list[Any] = [record.index, record.terminal, _number(record.end_time),
                          record.max_level, record.final_level, record.events_fired,
                          record.events_skipped, path_id(path)]
        for time_ in record.outcome_times:
            occurred = time_ == time_
            row += [int(occurred), _number(time_) if occurred else ""]
        row += [_number(v) for v in record.parameters]
        row.append(">".join(path))
        self.writer.writerow(row)


class EventLogWriter:
    """Streams every logged event of every replication (for ``--events``)."""

    def __init__(self, handle: IO[str]) -> None:
        self.writer = csv.writer(handle, lineterminator="\n")
        self.writer.writerow(["replication", "day", "event", "actor", "status", "level", "detail"])

    def write(self, record: ReplicationRecord) -> None:
        for entry in record.log or ():
            self.writer.writerow([record.index, _number(entry.time), entry.event,
                                  entry.actor or "", entry.status, entry.level, entry.detail])


def _number(value: float) -> str:
    return repr(float(value))


class RunDirectory:
    """Creates a run directory and records the run in it, whatever happens.

    Use as a context manager: the manifest is written on exit with the status
    ``completed``, ``failed`` (with the error) or ``interrupted``.
    """

    def __init__(self, path: str | Path, *, overwrite: bool = True) -> None:
        self.path = Path(path)
        self.manifest: dict[str, Any] = {}
        self.files: list[IO[str]] = []
        self._started = time.perf_counter()
        if self.path.exists() and not self.path.is_dir():
            raise OutputError(f"{self.path} exists and is not a directory")
        if self.path.is_dir() and any(self.path.iterdir()):
            if not (self.path / MANIFEST).exists():
                raise OutputError(f"{self.path} is not empty and holds no escalate run; "
                                  "choose a new directory")
            if not overwrite:
                raise OutputError(f"{self.path} already holds a run")
            for name in (SUMMARY, REPLICATIONS, EVENTS):
                (self.path / name).unlink(missing_ok=True)
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {self.path}: {exc.strerror or exc}") from exc

    def open(self, name: str) -> IO[str]:
        """Open a file of the run for streaming text output."""
        try:
            handle = open(self.path / name, "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise OutputError(f"cannot write {self.path / name}: {exc.strerror or exc}") from exc
        self.files.append(handle)
        return handle

    def __enter__(self) -> RunDirectory:
        self.manifest["started"] = _now()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        for handle in self.files:
            try:
                handle.close()
            except OSError:
                pass
        status = "completed"
        if isinstance(error, KeyboardInterrupt):
            status = "interrupted"
        elif error is not None:
            status = "failed"
            self.manifest["error"] = f"{type(error).__name__}: {error}"
        self.manifest.update(
            status=status,
            finished=_now(),
            wall_seconds=round(time.perf_counter() - self._started, 3),
            command=sys.argv,
            versions=versions(),
            files=sorted(p.name for p in self.path.iterdir() if not p.name.startswith(".")
                         and p.name != MANIFEST) + [MANIFEST],
        )
        write_json(self.path / MANIFEST, self.manifest)

    def write_summary(self, summary: dict[str, Any]) -> None:
        write_json(self.path / SUMMARY, summary)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
