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

from ..errors import OutputError, UsageError
from .formats import DEFAULT_REPORTS, KINDS, MANIFEST, family, kind_of
from .manifest import manifest_format

__all__ = [
    "check_not_a_file",
    "check_output_directory",
    "check_output_file",
    "file_in_the_way",
    "remove_outputs",
]

#: entries named when a directory that is not an output is refused
_SHOWN_ENTRIES = 3


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

    A report or comparison must not destroy a scenario or a result, so the
    file's name must end in one of ``suffixes`` (any, when none are given),
    it must not be one of the command's ``inputs``, and it must not belong to
    a result directory (its manifest, or a file or folder the manifest
    lists).  Returns the path.  Raises :class:`UsageError`.
    """
    path = Path(path)
    named = _named(path, option)
    if path.is_dir():
        raise UsageError(f"{named} is a directory; give the name of the file to write "
                         f"(hint: {hint})")
    blocker = file_in_the_way(path)
    if blocker is not None:
        raise UsageError(f"{named} cannot be written: {blocker} is a file, not a directory "
                         "(hint: choose a path outside it)")
    kept = " the file was left as it is;" if path.exists() else ""
    if suffixes and path.suffix.lower() not in suffixes:
        raise UsageError(f"{named} does not end in {' or '.join(suffixes)}, as this format's "
                         f"files do (hint:{kept} name it such as "
                         f"{path.with_suffix(suffixes[0]).name})")
    if any(_same_file(path, source) for source in inputs):
        raise UsageError(f"{named} is one of the command's inputs: writing there would destroy "
                         f"it (hint:{kept} give another file)")
    owner = _result_holding(path)
    if owner is not None:
        directory, kind = owner
        raise UsageError(f"{named} belongs to the {kind} in {directory} (hint:{kept} write "
                         "beside the result's files under a name of its own)")
    return path


def _result_holding(path: Path) -> tuple[Path, str] | None:
    """The result directory whose manifest, or a file or folder it lists, holds ``path``."""
    for directory in path.absolute().parents:
        found = manifest_format(directory / MANIFEST)
        if found is None:
            if (directory / MANIFEST).exists():
                return None  # a manifest of no output: nothing of ours to protect
            continue
        first = path.absolute().relative_to(directory).parts[0]
        if first in DEFAULT_REPORTS:
            return None  # its reports, written again at will
        if first == MANIFEST or first in _listed(directory):
            return directory, kind_of(found) or "output"
        return None
    return None


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
        kind = kind_of(found)
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
    prefix = family(format_)
    wanted = KINDS.get(prefix, format_)
    if found is not None and found.startswith(prefix):
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
