"""The self-describing run directory: writing it as a run goes, and reading it back.

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

:func:`read_run` reads a finished run back as a :class:`RunData` (what
reports and comparisons use), and :func:`run_data_from_result` wraps a run
made in memory the same way.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import math
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import numpy as np

from ..compile import CompiledScenario, compile_scenario
from ..engine.records import ReplicationRecord
from ..errors import EscalateError, OutputError
from ..spec.model import ScenarioSpec
from .destination import check_output_directory, remove_outputs
from .formats import (
    EVENT_COLUMNS,
    EVENTS,
    MANIFEST,
    REPLICATION_COLUMNS,
    REPLICATIONS,
    RUN_FORMAT,
    SUMMARY,
    replication_columns,
)
from .manifest import (
    check_completed,
    now,
    read_json,
    read_manifest,
    recorded_scenario,
    versions,
    write_json,
    write_manifest_after,
)

__all__ = ["EventLogWriter", "Indicators", "ReplicationWriter", "RunData", "RunDirectory",
           "read_run", "run_data_from_result"]


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
        self.handle = handle
        self._write(replication_columns([outcome.name for outcome in scenario.outcomes],
                                        self.uncertain))

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
            self.writer.writerow(EVENT_COLUMNS)
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
        (:func:`~escalate.results.destination.check_output_directory`).
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
        self._streamed: list[Path] = []
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
        self._streamed.append(self.path / name)
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
            # Keep the error that stopped the run (and its exit code) rather than this one,
            # and say that the manifest still says `running`.
            self._finish_on_a_full_disk(status, error)

    def _finish_on_a_full_disk(self, status: str, error: BaseException) -> None:
        """Record the end of a run when even the manifest cannot be written.

        On a full disk the partial rows of this run are what fills it: they
        are removed (a run that did not complete is no result) and the
        manifest written again, into the old manifest's space if it must be
        (:func:`~escalate.results.manifest.write_manifest_after`); when that
        fails too, a note on ``error`` says that the manifest could not be updated.
        """
        removed = []
        for path in self._streamed:
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path.name)
        if removed:
            self.manifest["removed"] = removed
            # The file list changed; if it cannot be listed again, the old one is kept.
            with contextlib.suppress(OutputError):
                self._update_manifest(status)
        write_manifest_after(self.path / MANIFEST, self.manifest, error)

    def _write_manifest(self, status: str) -> None:
        self._update_manifest(status)
        write_json(self.path / MANIFEST, self.manifest)

    def _update_manifest(self, status: str) -> None:
        """Record ``status``, the times, the command, the versions and the files written."""
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

    def write_summary(self, summary: dict[str, Any]) -> None:
        """Write ``summary.json`` once every streamed row is on disk; it marks the run complete."""
        self.close_files()
        write_json(self.path / SUMMARY, summary)


# Reading a run directory back.


@dataclass(frozen=True)
class Indicators:
    """Per-replication outcome flags: which replications, and for each outcome whether it occurred."""

    replication: np.ndarray
    occurred: Mapping[str, np.ndarray]


def _compile(spec: ScenarioSpec | None) -> CompiledScenario | None:
    if spec is None:
        return None
    try:
        return compile_scenario(spec)
    except EscalateError:
        return None


@dataclass(frozen=True)
class RunData:
    """A finished run: how it was made, its summary, and where its replications are."""

    label: str
    manifest: Mapping[str, Any]
    summary: Mapping[str, Any]
    spec: ScenarioSpec | None
    path: Path | None = None
    indicators_in_memory: Indicators | None = field(default=None, repr=False)

    @property
    def seed(self) -> int | None:
        seed = self.summary.get("seed", self.manifest.get("seed"))
        return int(seed) if seed is not None else None

    @property
    def replications(self) -> int:
        return int(self.summary["replications"])

    @property
    def first_replication(self) -> int:
        return int(self.summary.get("first_replication", 0))

    @property
    def engine(self) -> str | None:
        """The engine that ran (``reference`` or ``batch``), if the run records it."""
        engine = self.summary.get("engine", self.manifest.get("engine"))
        return str(engine) if engine is not None else None

    @property
    def uncertainty(self) -> bool:
        return bool(self.summary.get("uncertainty", self.manifest.get("uncertainty", False)))

    @property
    def outcomes(self) -> Mapping[str, Any]:
        return self.summary["outcomes"]  # type: ignore[no-any-return]

    def compiled(self) -> CompiledScenario | None:
        """The recorded scenario compiled again (for its event graph), or None if not recorded."""
        return _compile(self.spec)

    def indicators(self) -> Indicators | None:
        """Per-replication outcome flags from ``replications.csv`` (None if it was not kept).

        Raises :class:`OutputError` if the file exists but cannot be read.
        """
        if self.indicators_in_memory is not None:
            return self.indicators_in_memory
        if self.path is None or not (self.path / REPLICATIONS).exists():
            return None
        return _read_indicators(self.path / REPLICATIONS, list(self.outcomes))


def _read_indicators(path: Path, outcomes: list[str]) -> Indicators:
    replication: list[int] = []
    occurred: dict[str, list[bool]] = {name: [] for name in outcomes}
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            index = header.index(REPLICATION_COLUMNS[0])
            columns = {name: header.index(name) for name in outcomes if name in header}
            for row in reader:
                replication.append(int(row[index]))
                for name, column in columns.items():
                    occurred[name].append(row[column] == "1")
    except (OSError, StopIteration, ValueError, IndexError) as exc:
        raise OutputError(f"cannot read {path}: {exc or 'empty file'}") from exc
    return Indicators(np.asarray(replication, dtype=np.int64),
                      {name: np.asarray(flags, dtype=bool) for name, flags in occurred.items()
                       if name in columns})


def read_run(path: Path, manifest: Mapping[str, Any] | None = None) -> RunData:
    """Read a run directory; raises :class:`OutputError` if it is incomplete or failed."""
    if manifest is None:
        manifest = read_manifest(path)
        if manifest is None:
            raise OutputError(f"{path / MANIFEST} is missing")
    check_completed(path, manifest, "run")
    summary = read_json(path / SUMMARY)
    if not isinstance(summary, dict) or "outcomes" not in summary:
        raise OutputError(f"{path / SUMMARY} is not a run summary")
    problem = _summary_problem(summary)
    if problem:
        raise OutputError(f"{path / SUMMARY} is not a complete run summary: {problem} "
                          "(hint: run the scenario again into this directory)")
    return RunData(path.name or str(path), manifest, summary, recorded_scenario(manifest), path)


def _summary_problem(summary: Mapping[str, Any]) -> str:
    """What is missing from a summary for reports and comparisons to read it ("" if nothing)."""
    replications = summary.get("replications")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        return f"`replications` should be a whole number, found {replications!r}"
    outcomes = summary["outcomes"]
    if not isinstance(outcomes, dict):
        return f"`outcomes` should map names to results, found {type(outcomes).__name__}"
    for name, entry in outcomes.items():
        if not isinstance(entry, dict):
            return f"outcomes.{name} should be a mapping, found {type(entry).__name__}"
        for key in ("count", "probability"):
            number = entry.get(key)
            if isinstance(number, bool) or not isinstance(number, int | float):
                return f"outcomes.{name}.{key} should be a number, found {number!r}"
        interval = entry.get("ci95")
        if not (isinstance(interval, list) and len(interval) == 2
                and all(isinstance(v, int | float) for v in interval)):
            return f"outcomes.{name}.ci95 should be two numbers, found {interval!r}"
    return ""


def run_data_from_result(result: Any, label: str, scenario: Any = None) -> RunData:
    """Wrap an in-memory :class:`~escalate.montecarlo.results.RunResult` as a :class:`RunData`.

    The result must have kept its per-replication arrays (``keep_replications=True``).
    """
    arrays = result.arrays
    outcomes = [outcome.name for outcome in result.scenario.outcomes]
    indicators = Indicators(arrays["replication"], {name: arrays[name] for name in outcomes})
    manifest: dict[str, Any] = {
        "format": RUN_FORMAT, "seed": result.seed, "replications": result.replications,
        "uncertainty": result.uncertainty, "engine": result.engine, "status": "completed",
        "scenario": {"path": str(scenario.path) if scenario is not None and scenario.path else None,
                     "name": result.scenario.name,
                     "sha256": scenario.sha256 if scenario is not None else None},
    }
    spec = ScenarioSpec.model_validate(result.scenario.document)
    return RunData(label, manifest, result.summary, spec, None, indicators)
