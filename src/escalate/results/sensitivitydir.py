"""The sensitivity directory: recorded as a run's is, and read back for its report.

Layout: ``manifest.json`` (status ``running``, then ``completed``, ``failed``
with the error, or ``interrupted``), and once the analysis is done
``indices.json`` (the indices, ranking and noise per outcome) and
``samples.csv`` (one row per sample point: its parameter values and outcome
probabilities); the command adds ``report.html``.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputError
from ..spec.model import ScenarioSpec
from .formats import INDICES, SAMPLES, SENSITIVITY_FORMAT, sample_columns
from .manifest import check_completed, read_json, recorded_scenario, write_json
from .rundir import RunDirectory

__all__ = ["SensitivityData", "SensitivityDirectory", "read_sensitivity", "write_sensitivity"]


class SensitivityDirectory(RunDirectory):
    """A sensitivity analysis's directory, recorded as a run's is, whatever happens."""

    format = SENSITIVITY_FORMAT
    outputs = (INDICES, SAMPLES)
    #: the packages besides a run's that decide the indices: SALib samples and analyses,
    #: scipy gives the quantile functions
    packages = ("SALib", "scipy")
    hint = "choose a new or empty directory, or that of a sensitivity analysis to replace"


def write_sensitivity(directory: SensitivityDirectory, data: Mapping[str, Any],
                      samples: np.ndarray, outputs: np.ndarray) -> None:
    """Write ``samples.csv`` and ``indices.json`` (``data``); raise OutputError if that fails.

    ``samples`` holds a row of parameter values per point, ``outputs`` its
    probability of each outcome of ``data``.
    """
    names = [p["name"] for p in data["parameters"]]
    handle = directory.open(SAMPLES)
    try:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(sample_columns(names, list(data["outcomes"])))
        for i, (row, y) in enumerate(zip(samples, outputs, strict=True)):
            writer.writerow([i, *map(repr, map(float, row)), *map(repr, map(float, y))])
    except OSError as exc:
        raise OutputError(f"cannot write {directory.path / SAMPLES}: "
                          f"{exc.strerror or exc}") from exc
    write_json(directory.path / INDICES, data)


@dataclass(frozen=True)
class SensitivityData:
    """A sensitivity analysis written by ``escalate sensitivity --out``."""

    label: str
    manifest: Mapping[str, Any]
    spec: ScenarioSpec | None
    result: Mapping[str, Any]
    path: Path | None = None


def read_sensitivity(path: Path, manifest: Mapping[str, Any]) -> SensitivityData:
    """Read the sensitivity directory ``path`` whose ``manifest`` has been read.

    Raises :class:`OutputError` when the analysis did not complete or its
    indices cannot be read.
    """
    check_completed(path, manifest, "sensitivity analysis")
    return SensitivityData(path.name, manifest, recorded_scenario(manifest),
                           read_json(path / INDICES), path)
