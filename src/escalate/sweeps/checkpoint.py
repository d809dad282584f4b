"""Crash-safe sweep directories: one atomic file per finished point, and resuming.

Layout (``docs/outputs-sweep.md``)::

    manifest.json       how the sweep was made, and how far it got
    points/00000042.json  one file per finished point, written atomically
    points.csv          the table, assembled in point order once every point is done
    points.parquet      the same table, when pyarrow is installed

A point's file is written under a temporary name and renamed into place, so
a file that exists is complete: a sweep killed at any moment loses at most
the points that were running.  Resuming checks that the directory was made by
the same sweep (scenario, design, seed, options), skips every finished point
and recomputes nothing; since a point's result depends only on its task, the
final table is byte-identical to an uninterrupted run's.  The names, the
point files and the table are :mod:`escalate.results`'s; this module keeps
the lock and decides what may be resumed.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import OutputError, UsageError
from ..results.destination import check_output_directory
from ..results.formats import LOCK, MANIFEST, POINT_FILE, POINTS, SWEEP_FORMAT
from ..results.manifest import read_manifest, versions, write_json, write_manifest_after
from ..results.points import PointResult, is_whole_point_file, read_results, write_point

__all__ = [
    "MemoryStore",
    "SweepDirectory",
    "check_resumable",
    "check_sweep_directory",
    "identity",
    "package_versions",
]


def package_versions() -> dict[str, str]:
    """The versions a run directory records, and those of the sweep extras installed.

    scipy draws the ``lhs`` and ``sobol`` designs; pandas and pyarrow write
    the table; Dask runs the points.
    """
    return versions(("scipy", "pandas", "pyarrow", "dask", "distributed"))


def identity(manifest: dict[str, Any]) -> dict[str, Any]:
    """The fields that say which sweep a directory holds: equal for resumable or mergeable runs."""
    design = manifest.get("design") or {}
    precision = manifest.get("precision")
    return {
        "format": manifest.get("format"),
        "scenario": (manifest.get("scenario") or {}).get("sha256"),
        "design": {key: design.get(key) for key in ("kind", "vary", "points", "sha256")},
        "seed": manifest.get("seed"),
        "replications": manifest.get("replications"),
        "uncertainty": manifest.get("uncertainty"),
        "precision": None if precision is None else {
            key: precision.get(key) for key in ("half_width", "block", "max_replications")},
        "engine": manifest.get("engine"),
    }


def _differences(found: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    return [f"{key}: the directory has {found[key]!r}, this sweep {wanted[key]!r}"
            for key in wanted if found.get(key) != wanted[key]]


def check_sweep_directory(path: str | Path, *, resume: bool) -> dict[str, Any] | None:
    """Refuse ``path`` as a sweep directory unless it is new, empty, or a sweep to resume.

    Returns the manifest of the sweep it holds (to be compared with the new
    one's), or None.  Cheap and writes nothing, so it runs before the design
    is built.  Raises :class:`UsageError` for a file, a path under a file, a
    directory of something else, or a sweep without ``resume``;
    :class:`OutputError` when the directory or its manifest cannot be read.
    """
    path = Path(path)
    found = check_output_directory(
        path, SWEEP_FORMAT, blank=_blank,
        hint="choose a new or empty directory, or that of a sweep to resume with --resume")
    if found is None:
        return None
    previous = read_manifest(path)
    if previous is None:  # removed since it was checked
        return None
    if found != SWEEP_FORMAT:
        raise UsageError(f"--out {path} holds a sweep of format {found!r}, which this version "
                         f"of escalate ({SWEEP_FORMAT}) cannot continue (hint: choose a new directory)")
    if not resume:
        raise UsageError(f"--out {path} already holds a sweep (status "
                         f"{previous.get('status')}) (hint: pass --resume to continue it, or "
                         "choose a new directory)")
    return previous


def check_resumable(path: str | Path, manifest: dict[str, Any], *,
                    resume: bool) -> dict[str, Any] | None:
    """:func:`check_sweep_directory`, and refuse to resume a sweep made differently from
    ``manifest``'s (its identity and shard).  Returns the previous manifest, or None.
    """
    path = Path(path)
    previous = check_sweep_directory(path, resume=resume)
    if previous is None:
        return None
    wanted = {**identity(manifest), "shard": manifest.get("shard")}
    found = {**identity(previous), "shard": previous.get("shard")}
    if wanted["shard"] is not None:
        wanted["shard"] = {k: wanted["shard"][k] for k in ("index", "count")}
    if found["shard"] is not None:
        found["shard"] = {k: found["shard"].get(k) for k in ("index", "count")}
    differences = _differences(found, wanted)
    if differences:
        raise UsageError(f"cannot resume the sweep in {path}: it was made differently\n"
                         + "\n".join(f"  {d}" for d in differences))
    return previous


class SweepDirectory:
    """A sweep's directory on disk; holds a lock on it while open.

    Creating one for a directory that already holds a sweep is refused unless
    ``resume`` is true and the sweep is the same one (same identity and
    shard); an empty or missing directory starts a new sweep either way.
    """

    def __init__(self, path: str | Path, manifest: dict[str, Any], *, resume: bool) -> None:
        self.path = Path(path)
        self.manifest = manifest
        self._lock: IO[str] | None = None
        previous = check_resumable(self.path, manifest, resume=resume)
        try:
            (self.path / POINTS).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create {self.path}: {exc.strerror or exc}") from exc
        self._acquire_lock()
        self.resumed = previous is not None
        if previous is not None:
            manifest["resumed"] = int(previous.get("resumed", 0)) + 1
        self._remove_temporaries()

    def _acquire_lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # not on a POSIX system: no lock, as before
            return
        handle = open(self.path / LOCK, "w", encoding="utf-8")  # noqa: SIM115 (held while open)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise OutputError(f"{self.path} is in use by another sweep process") from None
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock = handle

    def _remove_temporaries(self) -> None:
        # Left by a process killed while writing; never read as results.
        for entry in os.scandir(self.path / POINTS):
            if entry.name.startswith(".") and entry.name.endswith(".tmp"):
                Path(entry.path).unlink(missing_ok=True)

    def close(self) -> None:
        """Release the lock (the directory stays)."""
        if self._lock is not None:
            self._lock.close()
            self._lock = None
            (self.path / LOCK).unlink(missing_ok=True)

    def write_manifest(self, stopped: BaseException | None = None) -> None:
        """Write the manifest; raises :class:`OutputError` if it cannot be written.

        When the sweep was ``stopped`` by an error (a full disk), the manifest
        is written into its old space if it must be, since the finished points
        it describes are kept; if even that fails, a note on ``stopped`` says
        that the manifest could not be updated, and ``stopped`` stays the error.
        """
        if stopped is None:
            write_json(self.path / MANIFEST, self.manifest)
        else:
            write_manifest_after(self.path / MANIFEST, self.manifest, stopped)

    def finished(self, points: int, *, check: bool = False) -> np.ndarray:
        """A mask of the points whose result file exists.

        With ``check``, each file is read too: one that a crash of the whole
        machine left empty or cut short is removed, so that its point runs again.
        """
        done = np.zeros(points, dtype=bool)
        for entry in os.scandir(self.path / POINTS):
            match = POINT_FILE.match(entry.name)
            if not match or int(match.group(1)) >= points:
                continue
            index = int(match.group(1))
            if check and not is_whole_point_file(Path(entry.path), index):
                Path(entry.path).unlink(missing_ok=True)
                continue
            done[index] = True
        return done

    def record(self, result: PointResult, names: Sequence[str], outcomes: Sequence[str]) -> None:
        """Keep one finished point's result, atomically.

        See :func:`~escalate.results.points.write_point`; after a crash of the machine itself, ``finished(check=True)`` finds what was lost.
        """
        write_point(self.path, result, names, outcomes)

    def results(self, indices: Iterable[int], names: Sequence[str],
                expected: np.ndarray) -> Iterator[PointResult]:
        """Read the results of ``indices`` in order, checking each against its design values."""
        return read_results(self.path, indices, names, expected)


def _blank(directory: Path) -> bool:
    # What a sweep killed before writing its first manifest leaves counts as empty:
    # the lock, an empty points folder, and a manifest cut short while being written.
    for entry in directory.iterdir():
        if entry.name == POINTS and entry.is_dir() and not any(entry.iterdir()):
            continue
        if entry.name == f".{MANIFEST}.tmp":
            continue
        if entry.name != LOCK:
            return False
    return True


class MemoryStore:
    """Keeps results in memory, for sweeps run without a directory (the Python API)."""

    def __init__(self) -> None:
        self.rows: dict[int, PointResult] = {}

    def finished(self, points: int, *, check: bool = False) -> np.ndarray:
        return np.zeros(points, dtype=bool)

    def record(self, result: PointResult, names: Sequence[str], outcomes: Sequence[str]) -> None:
        self.rows[result.point] = result

    def results(self, indices: Iterable[int], names: Sequence[str],
                expected: np.ndarray) -> Iterator[PointResult]:
        return (self.rows[index] for index in indices)
