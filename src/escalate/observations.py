"""An observations file: which outcomes occurred in a window of dates, each with its source.

Read by :func:`load_observations`, which checks every field and reports every
problem at once, positioned in the file; :mod:`escalate.analysis.score`
scores runs against it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import Diagnostic, ScenarioError, UsageError
from .spec.diagnose import diagnostics_from_validation
from .spec.source import FileKind, SourceMap, read_yaml_file
from .spec.suggest import did_you_mean

__all__ = ["Observation", "Observations", "ObservedSource", "Window", "load_observations"]

#: what the reader calls an observations file, and how one starts
OBSERVATIONS_FILE = FileKind("observations file", "an observations file starts with "
                             "`observed: 1`, then `window:` and `outcomes:`, as in "
                             "scenarios/observed-2025-11.yaml")

#: what to write in a field of an observations file that holds a value of the wrong kind
_HINTS = {
    "occurred": "write `occurred: true` if it happened within the window, `occurred: false` if not",
    "date": "the day it first happened, e.g. `date: 2025-05-16`",
    "source": "the id of an entry under `sources`, or a list of ids",
    "sources": "list the reports the observations rest on, each with an `id` and a `title`",
    "outcomes": "name each outcome of the scenario that was observed, with `occurred:` and "
                "`source:`",
}


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ObservedSource(_Strict):
    id: str
    title: str
    author: str | None = None
    publisher: str | None = None
    date: dt.date | None = None
    url: str | None = None


class Observation(_Strict):
    occurred: bool
    date: dt.date | None = Field(default=None, description="when it first happened")
    source: str | list[str]
    note: str = ""


class Window(_Strict):
    start: dt.date
    end: dt.date


class Observations(_Strict):
    """An observations file (format 1)."""

    observed: Literal[1]
    name: str = ""
    scenario: str | None = Field(default=None, description="the scenario file it was made for")
    description: str = ""
    window: Window
    sources: list[ObservedSource] = Field(min_length=1)
    outcomes: dict[str, Observation] = Field(min_length=1)

    @field_validator("observed", mode="before")
    @classmethod
    def _version_is_a_number(cls, value: Any) -> Any:
        # YAML's `true` equals 1 in Python; a format version is written as a number.
        if isinstance(value, bool):
            raise ValueError("the format version is a number (`observed: 1`)")
        return value


def _check(observations: Observations, source_map: SourceMap) -> list[Diagnostic]:
    problems = []
    window = observations.window
    if window.end <= window.start:
        problems.append(source_map.diagnostic(("window", "end"),
                                              f"the window must end after it starts "
                                              f"({window.start} to {window.end})"))
    known = {source.id for source in observations.sources}
    for name, observation in observations.outcomes.items():
        cited = [observation.source] if isinstance(observation.source, str) else observation.source
        problems.extend(source_map.diagnostic(
            ("outcomes", name, "source"), f"unknown source {ref!r}",
            hint=f"declare it under sources (known: {', '.join(sorted(known))})")
            for ref in cited if ref not in known)
        if observation.date is not None:
            if not observation.occurred:
                problems.append(source_map.diagnostic(
                    ("outcomes", name, "date"), "a date is given for an outcome that did not occur"))
            elif not window.start <= observation.date <= window.end:
                problems.append(source_map.diagnostic(
                    ("outcomes", name, "date"),
                    f"{observation.date} is outside the window {window.start} to {window.end}"))
    return problems


def _unknown_outcomes(observations: Observations, source_map: SourceMap,
                      outcomes: Collection[str]) -> list[Diagnostic]:
    """An observed outcome that the run does not have is a misspelling, never left unscored."""
    return [source_map.diagnostic(
        ("outcomes", name), f"{name!r} is not an outcome of the run",
        hint=did_you_mean(name, outcomes, kind="outcomes"), key=True)
        for name in observations.outcomes if name not in outcomes]


def load_observations(path: str | Path, outcomes: Collection[str] | None = None) -> Observations:
    """Read and check an observations file; raises :class:`UsageError` listing every problem.

    With ``outcomes`` (the names of a run's outcomes), an observed outcome
    not among them is a problem too, placed where the file names it.
    """
    if Path(path).is_dir():
        raise UsageError(f"--observed {path} is a directory, not an observations file")
    try:
        data, source_map = read_yaml_file(path, kind=OBSERVATIONS_FILE)
    except ScenarioError as exc:
        raise UsageError("invalid observations file:\n"
                         + "\n".join(map(str, exc.diagnostics))) from exc
    except OSError as exc:
        raise UsageError(f"cannot read the observations file {path}: {exc}") from exc
    try:
        observations = Observations.model_validate(data)
    except ValidationError as exc:
        problems = diagnostics_from_validation(exc, data, source_map, root=Observations,
                                               version_field="observed", hints=_HINTS)
        raise UsageError("invalid observations file:\n" + "\n".join(map(str, problems))) from exc
    problems = _check(observations, source_map)
    if outcomes is not None:
        problems.extend(_unknown_outcomes(observations, source_map, outcomes))
    if problems:
        raise UsageError("invalid observations file:\n" + "\n".join(map(str, problems)))
    return observations
