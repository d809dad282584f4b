"""Reading any result directory: telling a run, a sweep and a sensitivity analysis apart.

Reports and comparisons read only what was written: ``manifest.json``
(including the resolved scenario), ``summary.json`` and ``replications.csv``
for a run (:func:`~.rundir.read_run`); ``manifest.json`` and ``points.csv``
for a sweep (:func:`~.sweepdir.read_sweep`); ``manifest.json`` and
``indices.json`` for a sensitivity analysis
(:func:`~.sensitivitydir.read_sensitivity`).  Nothing is re-run.  A path that
is no result directory at all is a :class:`~escalate.errors.UsageError` (a
mistake in what was asked); every problem with a result directory is an
:class:`OutputError` that says which file is missing, unreadable or
incomplete.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from .formats import MANIFEST, RUN_FORMAT, SENSITIVITY_FORMAT, SUMMARY, SWEEP_FORMAT
from .manifest import read_manifest
from .rundir import RunData, read_run
from .sensitivitydir import SensitivityData, read_sensitivity
from .sweepdir import SweepData, read_sweep

#: what :func:`read_directory` returns, by kind of directory
__all__ = ["RunData", "SensitivityData", "SweepData", "read_directory"]


def read_directory(path: str | Path) -> RunData | SweepData | SensitivityData:
    """Read a run, sweep or sensitivity directory, telling them apart by their manifest.

    Raises :class:`UsageError` for a path that is none of these (a mistake in
    what was asked, exit 2) and :class:`OutputError` for one that is damaged or
    did not complete (exit 4).
    """
    path = Path(path)
    if not path.is_dir():
        hint = (f" (hint: run it first: escalate run {path} --out DIR)"
                if path.suffix in (".yaml", ".yml") else "")
        raise UsageError(f"{path} is not a directory (expected a run, sweep or sensitivity "
                          "directory)"
                          + hint)
    manifest = read_manifest(path)
    if manifest is None:
        raise UsageError(f"{path} is not a run, sweep or sensitivity directory: it has no "
                          f"{MANIFEST} (make one with `escalate run FILE --out DIR`, "
                          "`escalate sweep` or `escalate sensitivity`)")
    kind = manifest.get("format")
    if kind == SWEEP_FORMAT:
        return read_sweep(path, manifest)
    if kind == SENSITIVITY_FORMAT:
        return read_sensitivity(path, manifest)
    if kind == RUN_FORMAT or (kind is None and (path / SUMMARY).exists()):
        return read_run(path, manifest)
    raise UsageError(f"{path} is not a run, sweep or sensitivity directory: its manifest has "
                      f"format {kind!r}, expected {RUN_FORMAT!r}, {SWEEP_FORMAT!r} or "
                      f"{SENSITIVITY_FORMAT!r}")
