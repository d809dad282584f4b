"""Every fact of the result formats, stated once: manifest format ids, file names, columns.

A run directory (``docs/outputs.md``)::

    manifest.json       how the run was made (format ``escalate-run/1``)
    summary.json        the aggregated results
    replications.csv    one row per replication (:func:`replication_columns`)
    events.csv          every event of every replication (:data:`EVENT_COLUMNS`)

A sweep directory (``docs/outputs-sweep.md``)::

    manifest.json         how the sweep was made, and how far it got (``escalate-sweep/1``)
    points/00000042.json  one file per finished point (:func:`point_file_name`)
    points.csv            the table, one row per point (:func:`sweep_columns`)
    points.parquet        the same table, when pyarrow is installed

A sensitivity directory: ``manifest.json`` (``escalate-sensitivity/1``),
``indices.json`` and ``samples.csv`` (:func:`sample_columns`).  Any of them
may hold the reports made from it (:data:`DEFAULT_REPORTS`).  The modules of
:mod:`escalate.results` write and read these; everything else takes the
names from here.
"""

from __future__ import annotations

import re

# The columns are built in a module every layer may import, so that the compiler
# refuses the names that would collide with them; they are part of this module's facts.
from ..columns import (
    EVENT_COLUMNS,
    OUTCOME_FIELDS,
    REPLICATION_COLUMNS,
    REPLICATIONS,
    SAMPLES,
    TABLE,
    find_clashes,
    replication_columns,
    sample_columns,
    sweep_columns,
)

__all__ = [
    "DEFAULT_REPORTS",
    "EVENTS",
    "EVENT_COLUMNS",
    "INDICES",
    "KINDS",
    "LOCK",
    "MANIFEST",
    "OUTCOME_FIELDS",
    "PARQUET",
    "POINTS",
    "POINT_FILE",
    "REPLICATIONS",
    "REPLICATION_COLUMNS",
    "REPORT_STEM",
    "RUN_FORMAT",
    "SAMPLES",
    "SENSITIVITY_FORMAT",
    "SUMMARY",
    "SWEEP_FORMAT",
    "TABLE",
    "chart_folder",
    "family",
    "find_clashes",
    "kind_of",
    "point_file_name",
    "replication_columns",
    "sample_columns",
    "sweep_columns",
]

#: the ``format`` a run directory's manifest declares
RUN_FORMAT = "escalate-run/1"
#: the ``format`` a sweep directory's manifest declares
SWEEP_FORMAT = "escalate-sweep/1"
#: the ``format`` a sensitivity directory's manifest declares
SENSITIVITY_FORMAT = "escalate-sensitivity/1"


def family(format_: str) -> str:
    """The family of a format id (its every version): ``escalate-run/`` for ``escalate-run/1``."""
    return format_.partition("/")[0] + "/"


#: the outputs by the family of their manifest's ``format``, as messages name them
KINDS = {family(RUN_FORMAT): "run", family(SWEEP_FORMAT): "sweep",
         family(SENSITIVITY_FORMAT): "sensitivity analysis"}


def kind_of(format_: str) -> str | None:
    """The kind of output (``run``, ``sweep``, ...) of a format id of any version, if ours."""
    return next((kind for prefix, kind in KINDS.items() if format_.startswith(prefix)), None)


#: the file whose ``format`` says what an output directory holds
MANIFEST = "manifest.json"

#: the name, less its suffix, of the report written into a result directory by default
REPORT_STEM = "report"


def chart_folder(stem: str) -> str:
    """The folder beside a Markdown report named ``stem`` that holds its charts."""
    return f"{stem}_files"


#: a result directory's default reports: HTML, Markdown, and the Markdown report's charts
DEFAULT_REPORTS = (f"{REPORT_STEM}.html", f"{REPORT_STEM}.md", chart_folder(REPORT_STEM))

# The run directory.
SUMMARY = "summary.json"
EVENTS = "events.csv"

# The sweep directory.
PARQUET = "points.parquet"
#: the folder of one file per finished point
POINTS = "points"
#: held while a process writes the sweep
LOCK = ".lock"
#: the name of a point's file (eight digits or more, so names sort in point order)
POINT_FILE = re.compile(r"^(\d{8,})\.json$")


def point_file_name(index: int) -> str:
    """The name of point ``index``'s file in the :data:`POINTS` folder (zero-padded)."""
    return f"{index:08d}.json"


# The sensitivity directory.
INDICES = "indices.json"
