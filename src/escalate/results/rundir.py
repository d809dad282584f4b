"""The self-describing run directory: manifest, summary, one row per replication.

Layout (``docs/outputs.md``)::

    manifest.json       how the run was made: scenario hash and content, seed, versions, timings
    summary.json        the aggregated results (identical bytes for identical runs)
    replications.csv    one row per replication, written as the replications finish
    events.csv          every event of every replication (only with ``--events``)

The manifest is written when the run starts (status ``running``) and again
when it ends, also when it fails or is interrupted; ``summary.json`` appears
only for a completed run, after every row is safely on disk.  A path that
cannot hold a run (a file, or a directory of something else) is refused
before the run starts with a :class:`~escalate.errors.UsageError`; a file
that cannot be written (a full disk, a file too large, a read-only
directory) is an :class:`~escalate.errors.OutputError` naming the file.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import json
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from ..compiled import CompiledScenario
from ..engine.records import ReplicationRecord
from ..errors import OutputError
from .destination import MANIFEST, check_output_directory, remove_outputs

__all__ = ["RUN_FORMAT", "EventLogWriter", "ReplicationWriter", "RunDirectory", "now", "versions",
           "write_json"]

#: the ``format`` a run directory's manifest declares
RUN_FORMAT = "escalate-run/1"
SUMMARY = "summary.json"
REPLICATIONS = "replications.csv"
EVENTS = "events.csv"


def now() -> str:
    """The current UTC time as every manifest records it (ISO 8601, to the second)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def versions(extras: Sequence[str] = ()) -> dict[str, str]:
    """Versions of Python and the packages that decide the numbers.

    The packages every run uses are always listed (``unknown`` when their
    version cannot be found); the optional ``extras`` a result also depends
    on are listed when installed.
    """
    found = {"python": platform.python_version()}
    for package in ("escalate", "numpy", "simpy", "pydantic", *extras):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            if package not in extras:
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
        temporary.unlink(missing_ok=True)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _write_failed(handle: IO[str], exc: OSError) -> OutputError:
    name = getattr(handle, "name", "an output file")
    return OutputError(f"cannot write {name}: {exc.strerror or exc}")


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
        self.handle = handle
        self._write(header)

    def _write(self, row: list[Any]) -> None:
        try:
            self.writer.writerow(row)
        except OSError as exc:
            raise _write_failed(self.handle, exc) from exc

    def write(self, record: ReplicationRecord) -> None:
        path = [self.names[i] for i in record.path]
        row: list[Any] = [record.index, record.terminal, _number(record.end_time),
                          record.max_level, record.final_level, record.events_fired,
                          record.events_skipped, path_id(path)]
        for time_ in record.outcome_times:
            occurred = not math.isnan(time_)
            row += [int(occurred), _number(time_) if occurred else ""]
        row += [_number(v) for v in record.parameters]
        row.append(">".join(path))
        self._write(row)


class EventLogWriter:
    """Streams every logged event of every replication (for ``--events``)."""

    def __init__(self, handle: IO[str]) -> None:
        self.handle = handle
        self.writer = csv.writer(handle, lineterminator="\n")
        try:
            self.writer.writerow(["replication", "day", "event", "actor", "status", "level",
                                  "detail"])
        except OSError as exc:
            raise _write_failed(handle, exc) from exc

    def write(self, record: ReplicationRecord) -> None:
        try:
            for entry in record.log or ():
                self.writer.writerow([record.index, _number(entry.time), entry.event,
                                      entry.actor or "", entry.status, entry.level,
                                      entry.detail])
        except OSError as exc:
            raise _write_failed(self.handle, exc) from exc


def _number(value: float) -> str:
    return repr(float(value))


class RunDirectory:
    """Creates a run directory and records the run in it, whatever happens.

    Use as a context manager: the manifest is written on entry with the status
    ``running`` and on exit with ``completed``, ``failed`` (with the error) or
    ``interrupted``.  Raises :class:`UsageError` before anything is written
    when the path is a file, lies under one, or is a directory that holds
    anything but a run (:meth:`check`), and :class:`OutputError` when the
    directory or one of its files cannot be written.

    Other kinds of output recorded the same way (a sensitivity analysis)
    subclass it, setting the class attributes below.
    """

    #: the manifest ``format`` of the output kept in such a directory
    format = RUN_FORMAT
    #: the files of an earlier output that replacing it removes first (with its default reports)
    outputs: tuple[str, ...] = (SUMMARY, REPLICATIONS, EVENTS)
    #: the optional packages whose versions the manifest records besides a run's
    packages: tuple[str, ...] = ()
    #: what to do about a path that cannot hold this output
    hint = "choose a new or empty directory, or the directory of a run to replace"

    @classmethod
    def check(cls, path: str | Path, *, overwrite: bool = True) -> str | None:
        """Refuse a path that cannot hold this output; return the format of one it holds.

        Writes nothing.  Raises :class:`UsageError` for a file, a path under
        one, or a directory of anything else
        (:func:`~escalate.output.destination.check_output_directory`).
        """
        return check_output_directory(path, cls.format, reuse=overwrite, hint=cls.hint)

    def __init__(self, path: str | Path, *, overwrite: bool = True,
                 started: float | None = None) -> None:
        """Check ``path`` and make the directory.

        The wall time runs from ``started``, a :func:`time.perf_counter`
        reading, when the work began before its directory could be made.
        """
        self.path = Path(path)
        self.manifest: dict[str, Any] = {}
        self.files: list[IO[str]] = []
        self._started = time.perf_counter() if started is None else started
        # Every mistake in the path is found here, before the run starts (exit 2).
        found = self.check(self.path, overwrite=overwrite)
        try:
            if found is not None:
                remove_outputs(self.path, self.outputs)
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {self.path}: {exc.strerror or exc}") from exc

    def open(self, name: str) -> IO[str]:
        """Open a file of the run for streaming text output."""
        try:
            # Kept open while replications stream in; closed in __exit__.
            handle = open(self.path / name, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise OutputError(f"cannot write {self.path / name}: {exc.strerror or exc}") from exc
        self.files.append(handle)
        return handle

    def __enter__(self) -> Self:
        self.manifest["started"] = now()
        return self

    def record_start(self) -> None:
        """Write the manifest with the status ``running``, once its fields are set.

        A run killed outright (``SIGKILL``, a power cut) leaves this behind, so
        the directory still says what it holds and may be run into again.
        """
        self._write_manifest("running")

    def close_files(self) -> None:
        """Flush the streamed files to disk and close them; raise OutputError if that fails."""
        failure: tuple[IO[str], OSError] | None = None
        for handle in self.files:
            try:
                if failure is None:
                    handle.flush()
                    os.fsync(handle.fileno())
                handle.close()
            except OSError as exc:
                failure = failure or (handle, exc)
                # The buffer that cannot be written is dropped with the handle.
                with contextlib.suppress(OSError):
                    handle.close()
        self.files.clear()
        if failure is not None:
            raise _write_failed(*failure) from failure[1]

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if error is None:
            try:
                self.close_files()
            except OutputError as exc:
                self._finish(exc)
                raise
        else:
            for handle in self.files:
                # The run has failed already; its error is the one to report.
                with contextlib.suppress(OSError):
                    handle.close()
        self._finish(error)

    def _finish(self, error: BaseException | None) -> None:
        status = "completed"
        if isinstance(error, KeyboardInterrupt):
            status = "interrupted"
        elif error is not None:
            status = "failed"
            self.manifest["error"] = f"{type(error).__name__}: {error}"
        try:
            self._write_manifest(status)
        except OutputError:
            if error is None:
                raise
            # Keep the error that stopped the run (and its exit code) rather than this one.

    def _write_manifest(self, status: str) -> None:
        self.manifest.update(
            status=status,
            finished=now() if status != "running" else None,
            wall_seconds=round(time.perf_counter() - self._started, 3),
            command=sys.argv,
            versions=versions(self.packages),
        )
        try:
            names = [p.name for p in self.path.iterdir()]
        except OSError as exc:
            raise OutputError(f"cannot list {self.path}: {exc.strerror or exc}") from exc
        kept = sorted(name for name in names if not name.startswith(".") and name != MANIFEST)
        self.manifest["files"] = [*kept, MANIFEST]
        write_json(self.path / MANIFEST, self.manifest)

    def write_summary(self, summary: dict[str, Any]) -> None:
        """Write ``summary.json`` once every streamed row is on disk; it marks the run complete."""
        self.close_files()
        write_json(self.path / SUMMARY, summary)
