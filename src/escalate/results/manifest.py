"""Manifests and the JSON files beside them: reading them, and writing them atomically.

Every output directory holds a manifest (:data:`~escalate.results.formats.MANIFEST`)
whose ``format`` says what the directory holds, and records when it was made
(:func:`now`) with what (:func:`versions`).  JSON files are written under a
temporary name and renamed into place (:func:`write_json`), so one that
exists is whole.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import OutputError
from ..spec.model import ScenarioSpec
from .formats import MANIFEST

__all__ = ["check_completed", "manifest_format", "now", "overwrite_json", "read_json",
           "read_manifest", "recorded_scenario", "versions", "write_json",
           "write_manifest_after"]


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
    text = _json_text(data)
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


def _json_text(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False,
                      default=str) + "\n"


def overwrite_json(path: Path, data: Any) -> None:
    """Write JSON into the space ``path`` already holds, for a disk too full for a new file.

    Not atomic, so only a last resort when :func:`write_json` failed: the text
    is written only if it fits in the blocks the file has already (padded with
    spaces, which JSON ignores, so nothing needs to be freed and allocated
    again).  Raises :class:`OutputError` if it does not fit or cannot be written.
    """
    text = _json_text(data).encode("utf-8")
    try:
        with open(path, "r+b") as handle:
            allocated = os.fstat(handle.fileno()).st_blocks * 512
            size = os.fstat(handle.fileno()).st_size
            if len(text) > allocated:
                raise OutputError(f"cannot write {path}: the disk is full and the new text "
                                  f"({len(text)} bytes) is larger than the file's space "
                                  f"({allocated} bytes)")
            handle.write(text + b" " * max(0, size - len(text)))
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


def write_manifest_after(path: Path, data: Any, stopped: BaseException) -> None:
    """Write a manifest after ``stopped`` ended the work, however full the disk is.

    Written atomically if it can be (:func:`write_json`), else into the old
    manifest's space (:func:`overwrite_json`); if neither can, a note on
    ``stopped`` says that the manifest could not be updated, and ``stopped``
    stays the error to report.
    """
    try:
        write_json(path, data)
        return
    except OutputError as exc:
        failure = exc
    try:
        overwrite_json(path, data)
    except OutputError:
        stopped.add_note(f"the manifest {path} could not be updated and still says "
                         f"`running` ({failure})")


def read_json(path: Path) -> Any:
    """The content of a JSON file of a result; raises :class:`OutputError` if missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError as exc:
        raise OutputError(f"{path} is missing") from exc
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OutputError(f"cannot read {path}: {exc}") from exc


def manifest_format(path: Path) -> str | None:
    """The ``format`` a manifest declares, or None if it declares none or cannot be read."""
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kind = manifest.get("format") if isinstance(manifest, dict) else None
    return kind if isinstance(kind, str) else None


def read_manifest(directory: Path) -> dict[str, Any] | None:
    """The manifest of an output directory, or None when there is none.

    Raises :class:`OutputError` when it exists but cannot be read.
    """
    path = directory / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise OutputError(f"cannot read {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise OutputError(f"{path} is not a manifest")
    return data


def check_completed(path: Path, manifest: Mapping[str, Any], what: str) -> None:
    """Raise :class:`OutputError` unless the manifest says the ``what`` completed.

    A failed, interrupted or killed one leaves only its manifest, which says why.
    """
    status = manifest.get("status", "completed")
    if status != "completed":
        reason = f": {manifest['error']}" if manifest.get("error") else ""
        raise OutputError(f"the {what} in {path} did not complete (status {status}{reason}); "
                          "there is nothing to report")


def recorded_scenario(manifest: Mapping[str, Any]) -> ScenarioSpec | None:
    """The scenario recorded in a manifest, or None if it is absent or no longer valid."""
    resolved = (manifest.get("scenario") or {}).get("resolved")
    if not isinstance(resolved, dict):
        return None
    try:
        return ScenarioSpec.model_validate(resolved)
    except ValidationError:
        return None
