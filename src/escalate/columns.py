"""The column names of every table the package writes, and the names they take.

Outcome and parameter names become column names (``war``, ``war_day``,
``param_escalation_rate``, ``war_p``), next to the tables' own columns
(``max_level``, ``point``).  This module builds every header, so that
:mod:`escalate.results.formats` (which re-exports it) and the compiler, which
refuses names that would collide, read the same facts.  It imports nothing of
the package, so every layer may use it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "EVENT_COLUMNS",
    "OUTCOME_FIELDS",
    "REPLICATIONS",
    "REPLICATION_COLUMNS",
    "SAMPLES",
    "TABLE",
    "Clash",
    "find_clashes",
    "replication_columns",
    "sample_columns",
    "sweep_columns",
]

#: the tables whose columns outcome and parameter names become
REPLICATIONS = "replications.csv"
TABLE = "points.csv"
SAMPLES = "samples.csv"

#: the leading columns of ``replications.csv``, before the outcomes'
REPLICATION_COLUMNS = ("replication", "terminal", "end_day", "max_level", "final_level",
                       "events_fired", "events_skipped", "path_id")
#: the columns of ``events.csv``
EVENT_COLUMNS = ("replication", "day", "event", "actor", "status", "level", "detail")
#: per-outcome columns of the sweep table, by suffix: the probability, its 95% Wilson
#: interval, and the time of first occurrence where it occurred
OUTCOME_FIELDS = ("p", "lo", "hi", "median_day", "p05_day", "p95_day")


def replication_columns(outcomes: Sequence[str], uncertain: Sequence[str]) -> list[str]:
    """The header of ``replications.csv``: outcomes with their day, drawn parameters, the path."""
    header = list(REPLICATION_COLUMNS)
    for outcome in outcomes:
        header += [outcome, f"{outcome}_day"]
    header += [f"param_{name}" for name in uncertain]
    header.append("path")
    return header


def sweep_columns(names: Sequence[str], outcomes: Sequence[str]) -> list[str]:
    """The sweep table's column names, in order, for varied parameters ``names``."""
    header = ["point", *names, "status", "error", "replications"]
    for outcome in outcomes:
        header += [f"{outcome}_{suffix}" for suffix in OUTCOME_FIELDS]
    header.append("mean_max_level")
    return header


def sample_columns(names: Sequence[str], outcomes: Sequence[str]) -> list[str]:
    """The header of ``samples.csv``: the point, its parameter values, its probabilities."""
    return ["point", *names, *outcomes]


@dataclass(frozen=True)
class Clash:
    """A name whose column in ``table`` is also ``column`` of another source.

    ``other`` is ``None`` when the column is one of the table's own, else the
    ``(kind, name)`` of the outcome or parameter that gives it too.
    """

    kind: str
    name: str
    table: str
    column: str
    other: tuple[str, str] | None


def _headers(outcomes: Sequence[str], parameters: Sequence[str]) -> dict[str, list[str]]:
    # Every parameter may be drawn (a replications.csv column) and varied (a sweep column).
    return {REPLICATIONS: replication_columns(outcomes, parameters),
            TABLE: sweep_columns(parameters, outcomes),
            SAMPLES: sample_columns(parameters, outcomes)}


def find_clashes(outcomes: Sequence[str], parameters: Sequence[str]) -> list[Clash]:
    """The names that would give some table two columns of one name, each reported once.

    A name is blamed when one of its columns is a table's own; when two names
    meet, the later one (parameters first, then outcomes, each in order) is.
    """
    own = {table: Counter(header) for table, header in _headers([], []).items()}
    sources = [("parameter", name) for name in parameters] + [
        ("outcome", name) for name in outcomes]
    taken: dict[str, dict[str, tuple[str, str]]] = {table: {} for table in own}
    clashes: list[Clash] = []
    for kind, name in sources:
        single = _headers([name] if kind == "outcome" else [],
                          [name] if kind == "parameter" else [])
        found: Clash | None = None
        for table, header in single.items():
            columns = Counter(header) - own[table]
            for column in columns:
                if found is None and (column in own[table] or columns[column] > 1):
                    found = Clash(kind, name, table, column, None)
                elif found is None and column in taken[table]:
                    found = Clash(kind, name, table, column, taken[table][column])
                taken[table].setdefault(column, (kind, name))
        if found is not None:
            clashes.append(found)
    return clashes
