"""The sweep directory's table: writing it, one row per point, and reading it back.

Columns (``docs/outputs-sweep.md``, :func:`~escalate.results.formats.sweep_columns`):
``point``, one column per varied parameter, ``status`` (``ok`` or ``failed``),
``error``, ``replications``, then per outcome ``<outcome>_p``, ``_lo``, ``_hi``
(the probability and its 95% Wilson interval) and ``_median_day``,
``_p05_day``, ``_p95_day`` (the time of first occurrence where it occurred),
and finally ``mean_max_level``.  Floats are written with ``repr`` so they read
back exactly; a missing value is an empty cell (CSV) or null (Parquet).  Rows
are written as they are given, so memory does not depend on the number of
points.

A sweep directory is read back in two forms: :func:`load_sweep`, the pandas
table of the Python API (from Parquet when it can), and :func:`read_sweep`,
the typed :class:`SweepData` that reports use (from the CSV table, without
pandas).
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from ..errors import OutputError, UsageError
from ..spec.model import ScenarioSpec
from .formats import (
    MANIFEST,
    OUTCOME_FIELDS,
    PARQUET,
    POINTS,
    SWEEP_FORMAT,
    TABLE,
    family,
    sweep_columns,
)
from .manifest import recorded_scenario
from .points import PointResult

__all__ = [
    "SharedManifest",
    "SweepData",
    "SweepPoint",
    "TableWriter",
    "Tally",
    "load_sweep",
    "read_sweep",
    "row_values",
    "write_table",
]

_BATCH = 8192


class SharedManifest(dict[str, Any]):
    """A sweep's manifest as a table's ``DataFrame.attrs["manifest"]`` holds it.

    pandas copies ``attrs`` deeply into the result of every operation on the
    table; a manifest (some 30 KB with the resolved scenario) made each one
    several times slower.  Copies of this dict are the dict itself, shared by
    the table and everything derived from it: treat it as read-only.
    """

    def __copy__(self) -> SharedManifest:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedManifest:
        return self


def _statistics(result: PointResult, outcomes: int) -> list[float | None]:
    if not result.ok:
        return [None] * (len(OUTCOME_FIELDS) * outcomes + 1)
    values: list[float | None] = []
    for stats in result.outcomes:
        values += [stats.probability, stats.low, stats.high, stats.median_day, stats.p05_day,
                   stats.p95_day]
    values.append(result.mean_max_level)
    return values


def row_values(result: PointResult, outcomes: int) -> list[Any]:
    """The row of one point as Python values (None where a value is missing)."""
    return [result.point, *result.values, "ok" if result.ok else "failed", result.error,
            result.replications, *_statistics(result, outcomes)]


def _cell(value: float | None) -> str:
    return "" if value is None else repr(float(value))


class TableWriter:
    """Writes ``points.csv`` (and ``points.parquet`` when pyarrow is installed) row by row.

    Both are written under temporary names and renamed into place on a clean
    exit, so a table that exists is always complete.
    """

    def __init__(self, directory: Path, names: Sequence[str], outcomes: Sequence[str],
                 *, parquet: bool = True) -> None:
        self.directory = directory
        self.names = list(names)
        self.outcomes = list(outcomes)
        self.header = sweep_columns(names, outcomes)
        self.files: list[str] = []
        self._csv: IO[str] | None = None
        self._rows: Any = None
        self._parquet: Any = None
        self._batch: list[list[Any]] = [[] for _ in self.header]
        self._want_parquet = parquet and _pyarrow() is not None

    def __enter__(self) -> Self:
        try:
            self._csv = open(self._temporary(TABLE), "w", encoding="utf-8", newline="")
        except OSError as exc:
            raise OutputError(f"cannot write {self.directory / TABLE}: "
                              f"{exc.strerror or exc}") from exc
        self._rows = csv.writer(self._csv, lineterminator="\n")
        self._rows.writerow(self.header)
        if self._want_parquet:
            pa, pq = _pyarrow()  # type: ignore[misc]
            self._parquet = pq.ParquetWriter(str(self._temporary(PARQUET)), self._schema(pa))
        return self

    def _temporary(self, name: str) -> Path:
        return self.directory / f".{name}.tmp"

    def _schema(self, pa: Any) -> Any:
        fields = [pa.field("point", pa.int64(), nullable=False)]
        fields += [pa.field(name, pa.float64(), nullable=False) for name in self.names]
        fields += [pa.field("status", pa.string(), nullable=False),
                   pa.field("error", pa.string(), nullable=False),
                   pa.field("replications", pa.int64(), nullable=False)]
        fields += [pa.field(name, pa.float64()) for name in self.header[len(fields):]]
        return pa.schema(fields)

    def add(self, result: PointResult) -> None:
        """Append one point's row (rows must come in point order)."""
        assert self._rows is not None, "use TableWriter as a context manager"
        row = row_values(result, len(self.outcomes))
        width = len(self.names)
        # Point, status, error and replications as text; every other value a float or empty.
        self._rows.writerow([str(v) if k == 0 or width < k <= width + 3 else _cell(v)
                             for k, v in enumerate(row)])
        if self._parquet is not None:
            for column, value in zip(self._batch, row, strict=True):
                column.append(value)
            if len(self._batch[0]) >= _BATCH:
                self._flush()

    def _flush(self) -> None:
        if self._batch[0]:
            pa, _ = _pyarrow()  # type: ignore[misc]
            self._parquet.write_table(pa.Table.from_pydict(
                dict(zip(self.header, self._batch, strict=True)), schema=self._parquet.schema))
            self._batch = [[] for _ in self.header]

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._csv is not None:
            self._csv.close()
        if self._parquet is not None:
            if error is None:
                self._flush()
            self._parquet.close()
        written = [TABLE] + ([PARQUET] if self._parquet is not None else [])
        for name in written:
            if error is None:
                try:
                    os.replace(self._temporary(name), self.directory / name)
                except OSError as exc:
                    raise OutputError(f"cannot write {self.directory / name}: "
                                      f"{exc.strerror or exc}") from exc
            else:
                self._temporary(name).unlink(missing_ok=True)
        self.files = written if error is None else []


#: failed points listed in a manifest; the rest are counted
LISTED_FAILURES = 20


@dataclass
class Tally:
    """Totals over a sweep's rows, recorded in its manifest."""

    failed: int = 0
    replications: int = 0
    seconds: float = 0.0
    points: int = 0
    engines: set[str] = field(default_factory=set)
    failures: list[dict[str, Any]] = field(default_factory=list)
    # Replications of the successful points, kept as running totals so memory stays flat.
    needed_min: int | None = None
    needed_max: int = 0
    needed_total: int = 0
    needed_counts: dict[int, int] = field(default_factory=dict)

    def add(self, result: PointResult) -> None:
        self.points += 1
        self.replications += result.replications
        self.seconds += result.seconds
        if result.ok:
            self.engines.add(result.engine)
            needed = result.replications
            self.needed_min = needed if self.needed_min is None else min(self.needed_min, needed)
            self.needed_max = max(self.needed_max, needed)
            self.needed_total += needed
            # Few distinct counts: multiples of the block size up to the bound.
            self.needed_counts[needed] = self.needed_counts.get(needed, 0) + 1
            return
        self.failed += 1
        if len(self.failures) < LISTED_FAILURES:
            self.failures.append({"point": result.point, "error": result.error})

    def record(self, manifest: dict[str, Any]) -> None:
        """Write the totals into ``manifest`` (see ``docs/outputs-sweep.md``)."""
        manifest.update(points_done=self.points, failures=self.failed,
                        failed_points=self.failures, engines=sorted(self.engines),
                        replications_total=self.replications)
        manifest.setdefault("timings", {})["point_seconds"] = round(self.seconds, 3)
        precision = manifest.get("precision")
        if precision is not None and self.needed_min is not None:
            bound = precision["max_replications"]
            precision["replications"] = {
                "min": self.needed_min, "max": self.needed_max, "total": self.needed_total,
                "at_bound": sum(count for needed, count in self.needed_counts.items()
                                if needed >= bound)}


def write_table(results: Iterable[PointResult], directory: Path, names: Sequence[str],
                outcomes: Sequence[str], manifest: dict[str, Any]) -> Tally:
    """Write the table of ``results`` (in point order) into ``directory``; record the totals.

    Raises :class:`OutputError` when the table cannot be written (a full disk, say).
    """
    tally = Tally()
    try:
        with TableWriter(directory, names, outcomes) as writer:
            for result in results:
                tally.add(result)
                writer.add(result)
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write the table {directory / TABLE}: "
                          f"{exc.strerror or exc}") from exc
    manifest["files"] = [*writer.files, f"{POINTS}/", MANIFEST]
    tally.record(manifest)
    return tally


def _pyarrow() -> tuple[Any, Any] | None:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return None
    return pa, pq


def load_sweep(directory: str | Path) -> Any:
    """Return a sweep directory's table as a pandas DataFrame (one row per point).

    Reads ``points.parquet`` when it and pyarrow are there, ``points.csv``
    otherwise (floats read back exactly either way); ``DataFrame.attrs["manifest"]``
    holds the manifest.  Raises :class:`OutputError` when the directory holds
    no finished sweep table, :class:`UsageError` when pandas is missing.
    """
    try:
        import pandas as pd
    except ImportError as exc:
        raise UsageError("load_sweep needs pandas: pip install 'escalate[sweep]'") from exc
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"{directory} holds no sweep (no {MANIFEST})") from None
    except (OSError, ValueError) as exc:
        raise OutputError(f"cannot read {manifest_path}: {exc}") from exc
    if not str(manifest.get("format", "")).startswith(family(SWEEP_FORMAT)):
        raise OutputError(f"{directory} is not a sweep directory "
                          f"(format {manifest.get('format')!r})")
    parquet, table = directory / PARQUET, directory / TABLE
    if parquet.exists() and _pyarrow() is not None:
        frame = pd.read_parquet(parquet)
    elif table.exists():
        # pandas 3 parses floats exactly by default and deprecates asking for it.
        exact = {} if int(pd.__version__.split(".")[0]) >= 3 else {
            "float_precision": "round_trip"}
        frame = pd.read_csv(table, dtype={"status": str, "error": str}, **exact)
        frame["error"] = frame["error"].fillna("")
    else:
        done = manifest.get("points_done", "?")
        raise OutputError(f"{directory} holds no points table yet (status "
                          f"{manifest.get('status')}, {done} points done); finish the sweep "
                          "with `escalate sweep ... --resume`")
    frame.attrs["manifest"] = SharedManifest(manifest)
    return frame


# Reading the table back for reports.


@dataclass(frozen=True)
class SweepPoint:
    """One row of a sweep's ``points.csv``."""

    index: int
    values: Mapping[str, float]
    status: str
    error: str
    replications: int
    #: outcome -> {"p", "lo", "hi", "median_day", "p05_day", "p95_day"} (NaN where empty)
    outcomes: Mapping[str, Mapping[str, float]]
    mean_max_level: float

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class SweepData:
    """A sweep: its design, the scenario and one row per point."""

    label: str
    manifest: Mapping[str, Any]
    spec: ScenarioSpec | None
    parameters: tuple[str, ...]
    outcome_names: tuple[str, ...]
    points: tuple[SweepPoint, ...]
    path: Path | None = None

    @property
    def design_kind(self) -> str:
        return str((self.manifest.get("design") or {}).get("kind", "unknown"))

    @property
    def vary(self) -> Mapping[str, Any]:
        vary: Mapping[str, Any] = (self.manifest.get("design") or {}).get("vary") or {}
        return vary

    def ok_points(self) -> list[SweepPoint]:
        return [point for point in self.points if point.ok]

    def is_grid(self) -> bool:
        """Whether the points (finished or not) form a full grid over the varied parameters."""
        points = list(self.points)
        if not points:
            return False
        levels = [sorted({p.values[name] for p in points}) for name in self.parameters]
        combinations = {tuple(p.values[name] for name in self.parameters) for p in points}
        return len(combinations) == math.prod(len(level) for level in levels) == len(points)


def _number(text: str) -> float:
    try:
        return float(text) if text not in ("", None) else math.nan
    except ValueError:
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            return 1.0 if lowered == "true" else 0.0
        return math.nan


def _read_points(path: Path, parameters: tuple[str, ...],
                 outcomes: tuple[str, ...]) -> tuple[SweepPoint, ...]:
    points = []
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in ("point", "status", *parameters) if c not in (reader.fieldnames or [])]
            if missing:
                raise OutputError(f"{path} lacks the column(s) {', '.join(missing)}")
            for row in reader:
                estimates = {
                    name: {suffix: _number(row.get(f"{name}_{suffix}", "")) for suffix in
                           OUTCOME_FIELDS}
                    for name in outcomes}
                replications = _number(row.get("replications", ""))
                points.append(SweepPoint(
                    index=int(row["point"]),
                    values={name: _number(row[name]) for name in parameters},
                    status=row["status"].strip(),
                    error=row.get("error") or "",
                    replications=0 if math.isnan(replications) else int(replications),
                    outcomes=estimates,
                    mean_max_level=_number(row.get("mean_max_level", "")),
                ))
    except FileNotFoundError as exc:
        raise OutputError(f"{path} is missing") from exc
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise OutputError(f"cannot read {path}: {exc}") from exc
    return tuple(sorted(points, key=lambda p: p.index))


def _sweep_outcomes(spec: ScenarioSpec | None, path: Path) -> tuple[str, ...]:
    if spec is not None:
        return tuple(spec.outcomes)
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
    except (OSError, StopIteration) as exc:
        raise OutputError(f"cannot read {path}: {exc or 'empty file'}") from exc
    return tuple(c[:-2] for c in header if c.endswith("_p") and f"{c[:-2]}_lo" in header)


def read_sweep(path: Path, manifest: Mapping[str, Any]) -> SweepData:
    """Read the sweep directory ``path`` whose ``manifest`` has been read.

    Raises :class:`OutputError` when the manifest or the table is incomplete
    or unreadable.
    """
    spec = recorded_scenario(manifest)
    design = manifest.get("design") or {}
    if not isinstance(design, dict) or not isinstance(design.get("vary") or {}, dict):
        raise OutputError(f"{path / MANIFEST} is not a complete sweep manifest: "
                          f"`design` should map `vary` to the parameters, found {design!r}")
    parameters = tuple(design.get("vary") or {})
    outcomes = _sweep_outcomes(spec, path / TABLE)
    points = _read_points(path / TABLE, parameters, outcomes)
    return SweepData(path.name, manifest, spec, parameters, outcomes, points, path)
