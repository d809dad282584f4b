"""A sensitivity analysis's directory: its manifest, ``indices.json`` and ``samples.csv``."""

from __future__ import annotations

import csv
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import OutputError
from ..output.rundir import RunDirectory, write_json
from ..report.rundata import SENSITIVITY_FORMAT

__all__ = [
    "INDICES",
    "SAMPLES",
    "SENSITIVITY_PACKAGES",
    "SensitivityDirectory",
    "write_sensitivity_results",
]

#: the packages besides a run's that decide the indices: SALib samples and analyses,
#: scipy gives the quantile functions
SENSITIVITY_PACKAGES = ("SALib", "scipy")
INDICES = "indices.json"
SAMPLES = "samples.csv"


class SensitivityDirectory(RunDirectory):
    """A sensitivity analysis's directory, recorded as a run's is, whatever happens.

    Holds ``manifest.json`` (status ``running``, then ``completed``,
    ``failed`` with the error, or ``interrupted``), and once the analysis is
    done ``indices.json`` and ``samples.csv``; the command adds ``report.html``.
    """

    format = SENSITIVITY_FORMAT
    outputs = (INDICES, SAMPLES)
    packages = SENSITIVITY_PACKAGES
    hint = "choose a new or empty directory, or that of a sensitivity analysis to replace"


def write_sensitivity_results(directory: SensitivityDirectory, data: Mapping[str, Any],
                              samples: np.ndarray, outputs: np.ndarray) -> None:
    """Write ``samples.csv`` (each point's values and probabilities) and ``indices.json``.

    ``data`` is the analysis's JSON-ready record (its ``parameters`` and
    ``outcomes`` name the columns), ``samples`` and ``outputs`` its points x
    parameters and points x outcomes arrays.  Raises :class:`OutputError` if
    either file cannot be written.
    """
    names = [p["name"] for p in data["parameters"]]
    handle = directory.open(SAMPLES)
    try:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["point", *names, *data["outcomes"]])
        for i, (row, y) in enumerate(zip(samples, outputs, strict=True)):
            writer.writerow([i, *map(repr, map(float, row)), *map(repr, map(float, y))])
    except OSError as exc:
        raise OutputError(f"cannot write {directory.path / SAMPLES}: "
                          f"{exc.strerror or exc}") from exc
    write_json(directory.path / INDICES, data)
