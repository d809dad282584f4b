"""Checking where an output goes before anything runs, so that a wrong ``--out`` costs nothing.

Every command that writes results checks its output path first.  A path that
is a file where a directory is wanted (or a directory where a file is), a
path under a regular file, and a directory that holds another kind of output
or files that are not an output at all are mistakes in what was asked:
:class:`~escalate.errors.UsageError` (exit 2), naming the path, what is there
and what to do.  Nothing has been written when it is raised.  An output that
fails while being written (a full disk, a permission denied) is an
:class:`~escalate.errors.OutputError` (exit 4), raised by the writers.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Sequence
from itertools import islice
from pathlib import Path
from typing import Any

from ..errors import OutputError, UsageError

__all__ = [
    "DEFAULT_REPORTS",
    "MANIFEST",
    "REPORT_STEM",
    "check_not_a_file",
    "check_output_directory",
    "check_output_file",
    "file_in_the_way",
    "manifest_format",
    "read_manifest",
    "remove_outputs",
]

#: the file whose ``format`` says what an output directory holds
MANIFEST = "manifest.json"

#: the name, less its suffix, of the report written into a result directory by default
REPORT_STEM = "report"
#: a result directory's default reports: HTML, Markdown, and the Markdown report's charts
DEFAULT_REPORTS = (f"{REPORT_STEM}.html", f"{REPORT_STEM}.md", f"{REPORT_STEM}_files")

#: the outputs by the family of their manifest's ``format``, as messages name them
_KINDS = {"escalate-run/": "run", "escalate-sweep/": "sweep",
          "escalate-sensitivity/": "sensitivity analysis"}

#: entries named when a directory that is not an output is refused
_SHOWN_ENTRIES = 3


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


def file_in_the_way(path: Path) -> Path | None:
    """The regular file among ``path``'s parents that keeps it from being made, if any.

    (``mkdir`` says only "File exists", which does not tell the user which.)
    """
    return next((parent for parent in path.parents if parent.is_file()), None)


def _named(path: Path, option: str) -> str:
    return f"{option} {path}" if option else str(path)


def check_not_a_file(path: str | Path, *, option: str = "--out") -> Path:
    """Refuse ``path`` as a directory to write when it is a file or lies under one.

    Returns the path.  Raises :class:`UsageError` naming the file.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{_named(path, option)} is a file, not a directory (hint: give the "
                         "name of a new directory; the file was left as it is)")
    blocker = file_in_the_way(path)
    if blocker is not None:
        raise UsageError(f"{_named(path, option)} cannot be made: {blocker} is a file, not a "
                         "directory (hint: choose a path outside it)")
    return path


def check_output_file(path: str | Path, *, option: str = "--out",
                      hint: str = "add the file's name to it", suffixes: Sequence[str] = (),
                      inputs: Sequence[Path] = ()) -> Path:
    """Refuse ``path`` as a file to write when it is a directory or lies under a regular file.

    An existing file is replaced only when it is none of the command's
    ``inputs``, no file of a result directory (its manifest, or a file the
    manifest lists), and its suffix is one of ``suffixes`` (any, when none are
    given): a report or comparison must not destroy a scenario or a result.
    Returns the path.  Raises :class:`UsageError`.
    """
    path = Path(path)
    if path.is_dir():
        raise UsageError(f"{_named(path, option)} is a directory; give the name of the file to "
                         f"write (hint: {hint})")
    blocker = file_in_the_way(path)
    if blocker is not None:
        raise UsageError(f"{_named(path, option)} cannot be written: {blocker} is a file, not a "
                         "directory (hint: choose a path outside it)")
    if path.exists():
        _check_replaceable(path, _named(path, option), suffixes, inputs)
    return path


def _check_replaceable(path: Path, named: str, suffixes: Sequence[str],
                       inputs: Sequence[Path]) -> None:
    kept = "the file was left as it is"
    if any(_same_file(path, source) for source in inputs):
        raise UsageError(f"{named} is one of the command's inputs: writing there would destroy "
                         f"it (hint: give another file; {kept})")
    found = manifest_format(path.parent / MANIFEST)
    if found is not None and (path.name == MANIFEST or path.name in _listed(path.parent)):
        kind = next((k for family, k in _KINDS.items() if found.startswith(family)), "output")
        raise UsageError(f"{named} is a file of the {kind} in {path.parent} (hint: write "
                         f"beside it under another name; {kept})")
    if suffixes and path.suffix.lower() not in suffixes:
        raise UsageError(f"{named} exists and is not a {' or '.join(suffixes)} file, so it is "
                         f"not a report to replace (hint: give a new file or one ending in "
                         f"{suffixes[0]}; {kept})")


def _same_file(path: Path, other: Path) -> bool:
    try:
        return path.samefile(other)
    except OSError:
        return False


def _listed(directory: Path) -> set[str]:
    """The files an output's manifest lists (folders with their trailing ``/`` removed)."""
    try:
        files = json.loads((directory / MANIFEST).read_text(encoding="utf-8")).get("files")
    except (OSError, ValueError, AttributeError):
        return set()
    return {name.rstrip("/") for name in files if isinstance(name, str)} if isinstance(
        files, list) else set()


def _what_it_holds(directory: Path, found: str | None, wanted: str) -> str:
    if found is not None:
        kind = next((k for family, k in _KINDS.items() if found.startswith(family)), None)
        what = f"a {kind}" if kind else "something else"
        return f"holds {what} (format {found!r}), not a {wanted}"
    if (directory / MANIFEST).exists():
        return f"is not empty and holds no {wanted}: its {MANIFEST} declares no escalate format"
    try:
        with os.scandir(directory) as entries:
            names = [entry.name for entry in islice(entries, _SHOWN_ENTRIES + 1)]
    except OSError as exc:
        raise OutputError(f"cannot list {directory}: {exc.strerror or exc}") from exc
    shown = ", ".join(sorted(names[:_SHOWN_ENTRIES])) + (", ..." if len(names) > _SHOWN_ENTRIES
                                                         else "")
    return f"is not empty and holds no {wanted}: it has {shown}"


def _empty(directory: Path) -> bool:
    with os.scandir(directory) as entries:
        return next(entries, None) is None


def check_output_directory(path: str | Path, format_: str, *, reuse: bool = True,
                           hint: str = "choose a new or empty directory",
                           option: str = "--out",
                           blank: Callable[[Path], bool] = _empty) -> str | None:
    """Refuse ``path`` as the directory of an output of manifest format ``format_``.

    A missing directory and an empty one (as ``blank`` judges it) are
    accepted, and return None.  A directory that holds an output of the same
    kind (its format of any version: ``escalate-run/1`` for ``escalate-run/2``)
    is accepted when ``reuse`` is true (the caller replaces or resumes it)
    and its format is returned.  Anything else raises
    :class:`UsageError` naming the path, what it holds and ``hint``: a file,
    a path under a file, a directory of another kind of output, or one of
    files that are no output.  Raises :class:`OutputError` when the directory
    cannot be listed.
    """
    path = check_not_a_file(path, option=option)
    try:
        if not path.is_dir() or blank(path):
            return None
    except OSError as exc:
        raise OutputError(f"cannot list {path}: {exc.strerror or exc}") from exc
    found = manifest_format(path / MANIFEST)
    family = format_.partition("/")[0] + "/"
    wanted = _KINDS.get(family, format_)
    if found is not None and found.startswith(family):
        if reuse:
            return found
        holds = f"already holds a {wanted} (format {found!r})"
    else:
        holds = _what_it_holds(path, found, wanted)
    raise UsageError(f"{_named(path, option)} {holds} (hint: {hint}; nothing in it was changed)")


def remove_outputs(directory: Path, names: tuple[str, ...]) -> None:
    """Remove the files ``names`` of an output being replaced, and the reports made from it.

    The default reports (:data:`DEFAULT_REPORTS`) describe the results they
    were made from, so they go with them rather than stay beside new ones.
    Raises :class:`OSError` when something cannot be removed.
    """
    for name in (*names, *DEFAULT_REPORTS):
        path = directory / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
