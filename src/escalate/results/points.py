"""One sweep point's result: its row in memory, and its file in the sweep's ``points/`` folder.

A point's file (``points/00000042.json``, ``docs/outputs-sweep.md``) holds its
values, status, statistics, engine and time.  It is written under a temporary
name and renamed into place, so a file that exists is complete; the sweep
table is assembled from these files in point order.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputError
from .formats import POINTS, point_file_name

__all__ = [
    "OutcomeStats",
    "PointResult",
    "is_whole_point_file",
    "point_file",
    "read_results",
    "result_from_json",
    "result_to_json",
    "write_point",
]


@dataclass(frozen=True)
class OutcomeStats:
    """One outcome at one point: probability, 95% Wilson interval, time quantiles (days)."""

    probability: float
    low: float
    high: float
    median_day: float | None
    p05_day: float | None
    p95_day: float | None


@dataclass(frozen=True)
class PointResult:
    """The row of one point; ``error`` is set (and the statistics empty) when it failed."""

    point: int
    values: tuple[float, ...]
    replications: int
    outcomes: tuple[OutcomeStats, ...] = ()
    mean_max_level: float | None = None
    error: str = ""
    engine: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.error


def point_file(directory: Path, index: int) -> Path:
    """Where point ``index``'s result is kept (zero-padded, so names sort in point order)."""
    return directory / POINTS / point_file_name(index)


def result_to_json(result: PointResult, names: Sequence[str],
                   outcomes: Sequence[str]) -> dict[str, Any]:
    """The content of a point's checkpoint file."""
    return {
        "point": result.point,
        "values": dict(zip(names, result.values, strict=True)),
        "status": "ok" if result.ok else "failed",
        "error": result.error,
        "replications": result.replications,
        "outcomes": {} if not result.ok else {
            name: [s.probability, s.low, s.high, s.median_day, s.p05_day, s.p95_day]
            for name, s in zip(outcomes, result.outcomes, strict=True)},
        "mean_max_level": result.mean_max_level,
        "engine": result.engine,
        "seconds": round(result.seconds, 6),
    }


def result_from_json(data: dict[str, Any], names: Sequence[str]) -> PointResult:
    """Read back a checkpoint file's content; raises KeyError or TypeError when malformed."""
    return PointResult(
        point=int(data["point"]),
        values=tuple(float(data["values"][name]) for name in names),
        replications=int(data["replications"]),
        outcomes=tuple(OutcomeStats(*stats) for stats in data["outcomes"].values()),
        mean_max_level=data["mean_max_level"],
        error=str(data["error"]),
        engine=str(data["engine"]),
        seconds=float(data["seconds"]),
    )


def write_point(directory: Path, result: PointResult, names: Sequence[str],
                outcomes: Sequence[str]) -> None:
    """Keep one finished point's result in ``directory``, atomically.

    The file is written under a temporary name and renamed into place, so
    a process killed at any moment leaves either no file or a whole one.
    It is not flushed to disk one by one (that would cost more than small
    points do); :func:`is_whole_point_file` finds what a crash of the machine
    itself lost.  Raises :class:`OutputError` when it cannot be written.
    """
    path = point_file(directory, result.point)
    text = json.dumps(result_to_json(result, names, outcomes), ensure_ascii=False,
                      allow_nan=False) + "\n"
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def is_whole_point_file(path: Path, index: int) -> bool:
    """Whether ``path`` reads as point ``index``'s file (not empty or cut short by a crash)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("point") == index and "values" in data


def read_results(directory: Path, indices: Iterable[int], names: Sequence[str],
                 expected: np.ndarray) -> Iterator[PointResult]:
    """Read point files in the order of ``indices``; ``expected[j]`` holds point j's values.

    Raises :class:`OutputError` for a missing, unreadable or foreign point file.
    """
    for index in indices:
        path = point_file(directory, index)
        try:
            result = result_from_json(json.loads(path.read_text(encoding="utf-8")), names)
        except FileNotFoundError:
            raise OutputError(f"{path} is missing") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OutputError(f"cannot read {path} ({exc}); delete it and continue with "
                              "--resume to run that point again") from exc
        if result.point != index or result.values != tuple(float(v) for v in expected[index]):
            raise OutputError(f"{path} holds point {result.point} at {result.values}, not "
                              f"point {index} of this design")
        yield result
