"""Combining the shards of a sweep (``--shard I/N`` runs) into one sweep directory.

Shards merge only when they are the same sweep (scenario, design, seed and
options, by :func:`~escalate.sweeps.checkpoint.identity`), split the same way,
each finished, and together cover every shard ``1..N`` exactly once.  The
merged table is assembled in point order from the shards' point files, so it
is byte-identical to the table of the same sweep run in one piece.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputError, UsageError
from ..results.destination import check_output_directory
from ..results.formats import MANIFEST, PARQUET, POINTS, SWEEP_FORMAT, TABLE
from ..results.manifest import now, read_manifest, write_json
from ..results.points import PointResult, point_file, result_from_json
from ..results.sweepdir import write_table
from .checkpoint import identity, package_versions

__all__ = ["merge_shards"]


def _shard_label(manifest: dict[str, Any]) -> str:
    shard = manifest["shard"]
    return f"{shard['index']}/{shard['count']}"


def _read_shards(directories: Sequence[Path]) -> list[tuple[Path, dict[str, Any]]]:
    shards = []
    for directory in directories:
        manifest = read_manifest(directory)
        if manifest is None or manifest.get("format") != SWEEP_FORMAT:
            raise UsageError(f"{directory} is not a sweep directory")
        if not manifest.get("shard"):
            raise UsageError(f"{directory} holds a whole sweep, not a shard; only shards "
                             "(--shard I/N) are merged")
        shards.append((directory, manifest))
    return shards


def _check_same_sweep(shards: list[tuple[Path, dict[str, Any]]]) -> None:
    first_dir, first = shards[0]
    reference = identity(first)
    names = {"scenario": "scenario (sha256 of its file)", "design": "design", "seed": "seed"}
    for directory, manifest in shards[1:]:
        found = identity(manifest)
        differences = [f"  {names.get(key, key)}: {first_dir} has {reference[key]!r}, "
                       f"{directory} has {found[key]!r}"
                       for key in reference if found[key] != reference[key]]
        if differences:
            raise UsageError(f"cannot merge: {directory} is a shard of a different sweep than "
                             f"{first_dir}\n" + "\n".join(differences))
        if manifest["shard"]["count"] != first["shard"]["count"]:
            raise UsageError(f"cannot merge: {first_dir} is shard {_shard_label(first)} but "
                             f"{directory} is shard {_shard_label(manifest)}; shards of one "
                             "merge split the points the same way")


def _check_cover(shards: list[tuple[Path, dict[str, Any]]]) -> int:
    count = shards[0][1]["shard"]["count"]
    seen: dict[int, Path] = {}
    for directory, manifest in shards:
        index = manifest["shard"]["index"]
        if index in seen:
            raise UsageError(f"cannot merge: shard {index}/{count} is given twice "
                             f"({seen[index]} and {directory}); they overlap")
        seen[index] = directory
    missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in seen]
    if missing:
        raise UsageError(f"cannot merge: shard{'s' if len(missing) > 1 else ''} "
                         f"{', '.join(missing)} missing; give every shard of the sweep")
    for directory, manifest in shards:
        expected = manifest["shard"]["points"]
        if manifest.get("status") != "completed" or manifest.get("points_done") != expected:
            raise UsageError(f"cannot merge: shard {_shard_label(manifest)} in {directory} is "
                             f"not finished (status {manifest.get('status')}, "
                             f"{manifest.get('points_done', 0)} of {expected} points); continue "
                             "it with `escalate sweep ... --shard "
                             f"{_shard_label(manifest)} --resume`")
    return int(count)


def _results(shards: dict[int, Path], count: int, points: int, names: Sequence[str],
             digest: Any) -> Iterator[PointResult]:
    for index in range(points):
        directory = shards[index % count + 1]
        path = point_file(directory, index)
        try:
            result = result_from_json(json.loads(path.read_text(encoding="utf-8")), names)
        except FileNotFoundError:
            raise OutputError(f"{path} is missing: shard {index % count + 1}/{count} is "
                              "incomplete") from None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise OutputError(f"cannot read {path} ({exc})") from exc
        if result.point != index:
            raise OutputError(f"{path} holds point {result.point}, not {index}")
        digest.update(np.asarray(result.values, dtype="<f8").tobytes())
        yield result


def merge_shards(directories: Sequence[str | Path], out: str | Path) -> dict[str, Any]:
    """Merge the shard directories into the sweep directory ``out``; return its manifest.

    Raises :class:`UsageError` for an ``out`` that is not new or empty
    (checked first), and naming the shards at fault when they are of different
    sweeps or splits, overlap, leave points out or are unfinished;
    :class:`OutputError` when a file cannot be read or written.
    """
    started = time.perf_counter()
    if not directories:
        raise UsageError("give the shard directories to merge")
    check_output_directory(out, SWEEP_FORMAT, reuse=False, hint="merge into a new or empty directory")
    paths = [Path(d) for d in directories]
    shards = _read_shards(paths)
    _check_same_sweep(shards)
    count = _check_cover(shards)
    out = Path(out)
    try:
        (out / POINTS).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create {out}: {exc.strerror or exc}") from exc
    first = shards[0][1]
    by_index = {manifest["shard"]["index"]: directory for directory, manifest in shards}
    names = list(first["design"]["vary"])
    points = int(first["design"]["points"])
    manifest = {key: value for key, value in first.items()
                if key not in ("shard", "executor", "timings", "command", "status", "files",
                               "resumed", "error")}
    ordered = sorted(shards, key=lambda shard: int(shard[1]["shard"]["index"]))
    manifest["executor"] = {"kind": "shards", "shards": [
        {"shard": _shard_label(m), "path": str(d), "executor": m.get("executor"),
         "versions": m.get("versions")} for d, m in ordered]}
    manifest.update(versions=package_versions(), command=sys.argv,
                    timings={"started": now()}, status="running")
    try:
        digest = hashlib.sha256("\0".join(names).encode("utf-8"))
        tally = write_table(_results(by_index, count, points, names, digest), out, names,
                            first["outcomes"], manifest)
        if digest.hexdigest() != first["design"]["sha256"]:
            for name in (TABLE, PARQUET):
                (out / name).unlink(missing_ok=True)
            raise OutputError("the shards' point values do not match their design; a point "
                              "file was changed or comes from another sweep")
        for index in range(points):
            shutil.copyfile(point_file(by_index[index % count + 1], index),
                            point_file(out, index))
        manifest["timings"]["point_seconds"] = round(tally.seconds, 3)
        manifest["status"] = "completed"
    except BaseException as exc:
        manifest["status"] = "failed"
        manifest["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        manifest["timings"].update(finished=now(),
                                   wall_seconds=round(time.perf_counter() - started, 3))
        write_json(out / MANIFEST, manifest)
    return manifest
