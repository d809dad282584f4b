"""Reading run, sweep and sensitivity directories into typed objects.

Reports and comparisons read only what a run wrote: ``manifest.json``
(including the resolved scenario), ``summary.json`` and ``replications.csv``
for a run; ``manifest.json`` and ``points.csv`` for a sweep;
``manifest.json`` and ``indices.json`` for a sensitivity analysis.  Nothing is
re-run.  A path that is no result directory at all is a
:class:`~escalate.errors.UsageError` (a mistake in what was asked); every
problem with a result directory is an :class:`OutputError` that says which
file is missing, unreadable or incomplete.
"""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from ..compiled import CompiledScenario
from ..compiler import compile_scenario
from ..errors import EscalateError, OutputError, UsageError
from ..output.destination import MANIFEST, read_manifest
from ..output.rundir import RUN_FORMAT
from ..spec.model import ScenarioSpec

__all__ = [
    "RUN_FORMAT",
    "SENSITIVITY_FORMAT",
    "SWEEP_FORMAT",
    "Indicators",
    "RunData",
    "SensitivityData",
    "SweepData",
    "SweepPoint",
    "read_directory",
    "read_run",
]

SWEEP_FORMAT = "escalate-sweep/1"
SENSITIVITY_FORMAT = "escalate-sensitivity/1"

#: per-outcome columns of a sweep's points.csv, by suffix
SWEEP_OUTCOME_COLUMNS = ("p", "lo", "hi", "median_day", "p05_day", "p95_day")


@dataclass(frozen=True)
class Indicators:
    """Per-replication outcome flags: which replications, and for each outcome whether it occurred."""

    replication: np.ndarray
    occurred: Mapping[str, np.ndarray]


def _read_json(path: Path) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError as exc:
        raise OutputError(f"{path} is missing") from exc
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise OutputError(f"cannot read {path}: {exc}") from exc


def _scenario_spec(manifest: Mapping[str, Any]) -> ScenarioSpec | None:
    """The scenario recorded in a manifest, or None if it is absent or no longer valid."""
    resolved = (manifest.get("scenario") or {}).get("resolved")
    if not isinstance(resolved, dict):
        return None
    try:
        return ScenarioSpec.model_validate(resolved)
    except ValidationError:
        return None


def _compile(spec: ScenarioSpec | None) -> CompiledScenario | None:
    if spec is None:
        return None
    try:
        return compile_scenario(spec)
    except EscalateError:
        return None


@dataclass(frozen=True)
class RunData:
    """A finished run: how it was made, its summary, and where its replications are."""

    label: str
    manifest: Mapping[str, Any]
    summary: Mapping[str, Any]
    spec: ScenarioSpec | None
    path: Path | None = None
    indicators_in_memory: Indicators | None = field(default=None, repr=False)

    @property
    def seed(self) -> int | None:
        seed = self.summary.get("seed", self.manifest.get("seed"))
        return int(seed) if seed is not None else None

    @property
    def replications(self) -> int:
        return int(self.summary["replications"])

    @property
    def first_replication(self) -> int:
        return int(self.summary.get("first_replication", 0))

    @property
    def engine(self) -> str | None:
        """The engine that ran (``reference`` or ``batch``), if the run records it."""
        engine = self.summary.get("engine", self.manifest.get("engine"))
        return str(engine) if engine is not None else None

    @property
    def uncertainty(self) -> bool:
        return bool(self.summary.get("uncertainty", self.manifest.get("uncertainty", False)))

    @property
    def outcomes(self) -> Mapping[str, Any]:
        return self.summary["outcomes"]  # type: ignore[no-any-return]

    def compiled(self) -> CompiledScenario | None:
        """The recorded scenario compiled again (for its event graph), or None if not recorded."""
        return _compile(self.spec)

    def indicators(self) -> Indicators | None:
        """Per-replication outcome flags from ``replications.csv`` (None if it was not kept).

        Raises :class:`OutputError` if the file exists but cannot be read.
        """
        if self.indicators_in_memory is not None:
            return self.indicators_in_memory
        if self.path is None or not (self.path / "replications.csv").exists():
            return None
        return _read_indicators(self.path / "replications.csv", list(self.outcomes))


def _read_indicators(path: Path, outcomes: list[str]) -> Indicators:
    replication: list[int] = []
    occurred: dict[str, list[bool]] = {name: [] for name in outcomes}
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader)
            index = header.index("replication")
            columns = {name: header.index(name) for name in outcomes if name in header}
            for row in reader:
                replication.append(int(row[index]))
                for name, column in columns.items():
                    occurred[name].append(row[column] == "1")
    except (OSError, StopIteration, ValueError, IndexError) as exc:
        raise OutputError(f"cannot read {path}: {exc or 'empty file'}") from exc
    return Indicators(np.asarray(replication, dtype=np.int64),
                      {name: np.asarray(flags, dtype=bool) for name, flags in occurred.items()
                       if name in columns})


@dataclass(frozen=True)
class SweepPoint:
    """One row of a sweep's ``points.csv``."""

    index: int
    values: Mapping[str, float]
    status: str
    error: str
    replications: int
    #: outcome -> {"p", "lo", "hi", "median_day", "p05_day", "p95_day"} (NaN where empty)
    outcomes: Mapping[str, Mapping[str, float]]
    mean_max_level: float

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class SweepData:
    """A sweep: its design, the scenario and one row per point."""

    label: str
    manifest: Mapping[str, Any]
    spec: ScenarioSpec | None
    parameters: tuple[str, ...]
    outcome_names: tuple[str, ...]
    points: tuple[SweepPoint, ...]
    path: Path | None = None

    @property
    def design_kind(self) -> str:
        return str((self.manifest.get("design") or {}).get("kind", "unknown"))

    @property
    def vary(self) -> Mapping[str, Any]:
        vary: Mapping[str, Any] = (self.manifest.get("design") or {}).get("vary") or {}
        return vary

    def ok_points(self) -> list[SweepPoint]:
        return [point for point in self.points if point.ok]

    def is_grid(self) -> bool:
        """Whether the points (finished or not) form a full grid over the varied parameters."""
        points = list(self.points)
        if not points:
            return False
        levels = [sorted({p.values[name] for p in points}) for name in self.parameters]
        combinations = {tuple(p.values[name] for name in self.parameters) for p in points}
        return len(combinations) == math.prod(len(level) for level in levels) == len(points)


def _number(text: str) -> float:
    try:
        return float(text) if text not in ("", None) else math.nan
    except ValueError:
        lowered = text.strip().lower()
        if lowered in ("true", "false"):
            return 1.0 if lowered == "true" else 0.0
        return math.nan


def _read_points(path: Path, parameters: tuple[str, ...],
                 outcomes: tuple[str, ...]) -> tuple[SweepPoint, ...]:
    points = []
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in ("point", "status", *parameters) if c not in (reader.fieldnames or [])]
            if missing:
                raise OutputError(f"{path} lacks the column(s) {', '.join(missing)}")
            for row in reader:
                estimates = {
                    name: {suffix: _number(row.get(f"{name}_{suffix}", "")) for suffix in
                           SWEEP_OUTCOME_COLUMNS}
                    for name in outcomes}
                replications = _number(row.get("replications", ""))
                points.append(SweepPoint(
                    index=int(row["point"]),
                    values={name: _number(row[name]) for name in parameters},
                    status=row["status"].strip(),
                    error=row.get("error") or "",
                    replications=0 if math.isnan(replications) else int(replications),
                    outcomes=estimates,
                    mean_max_level=_number(row.get("mean_max_level", "")),
                ))
    except FileNotFoundError as exc:
        raise OutputError(f"{path} is missing") from exc
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise OutputError(f"cannot read {path}: {exc}") from exc
    return tuple(sorted(points, key=lambda p: p.index))


def _sweep_outcomes(spec: ScenarioSpec | None, path: Path) -> tuple[str, ...]:
    if spec is not None:
        return tuple(spec.outcomes)
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
    except (OSError, StopIteration) as exc:
        raise OutputError(f"cannot read {path}: {exc or 'empty file'}") from exc
    return tuple(c[:-2] for c in header if c.endswith("_p") and f"{c[:-2]}_lo" in header)


@dataclass(frozen=True)
class SensitivityData:
    """A sensitivity analysis written by ``escalate sensitivity --out``."""

    label: str
    manifest: Mapping[str, Any]
    spec: ScenarioSpec | None
    result: Mapping[str, Any]
    path: Path | None = None


def _check_completed(path: Path, manifest: Mapping[str, Any], what: str) -> None:
    """Raise :class:`OutputError` unless the manifest says the ``what`` completed.

    A failed, interrupted or killed one leaves only its manifest, which says why.
    """
    status = manifest.get("status", "completed")
    if status != "completed":
        reason = f": {manifest['error']}" if manifest.get("error") else ""
        raise OutputError(f"the {what} in {path} did not complete (status {status}{reason}); "
                          "there is nothing to report")


def read_run(path: Path, manifest: Mapping[str, Any] | None = None) -> RunData:
    """Read a run directory; raises :class:`OutputError` if it is incomplete or failed."""
    if manifest is None:
        manifest = read_manifest(path)
        if manifest is None:
            raise OutputError(f"{path / MANIFEST} is missing")
    _check_completed(path, manifest, "run")
    summary = _read_json(path / "summary.json")
    if not isinstance(summary, dict) or "outcomes" not in summary:
        raise OutputError(f"{path / 'summary.json'} is not a run summary")
    problem = _summary_problem(summary)
    if problem:
        raise OutputError(f"{path / 'summary.json'} is not a complete run summary: {problem} "
                          "(hint: run the scenario again into this directory)")
    return RunData(path.name or str(path), manifest, summary, _scenario_spec(manifest), path)


def _summary_problem(summary: Mapping[str, Any]) -> str:
    """What is missing from a summary for reports and comparisons to read it ("" if nothing)."""
    replications = summary.get("replications")
    if isinstance(replications, bool) or not isinstance(replications, int) or replications < 1:
        return f"`replications` should be a whole number, found {replications!r}"
    outcomes = summary["outcomes"]
    if not isinstance(outcomes, dict):
        return f"`outcomes` should map names to results, found {type(outcomes).__name__}"
    for name, entry in outcomes.items():
        if not isinstance(entry, dict):
            return f"outcomes.{name} should be a mapping, found {type(entry).__name__}"
        for key in ("count", "probability"):
            number = entry.get(key)
            if isinstance(number, bool) or not isinstance(number, int | float):
                return f"outcomes.{name}.{key} should be a number, found {number!r}"
        interval = entry.get("ci95")
        if not (isinstance(interval, list) and len(interval) == 2
                and all(isinstance(v, int | float) for v in interval)):
            return f"outcomes.{name}.ci95 should be two numbers, found {interval!r}"
    return ""


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
                          "manifest.json (make one with `escalate run FILE --out DIR`, "
                          "`escalate sweep` or `escalate sensitivity`)")
    kind = manifest.get("format")
    if kind == SWEEP_FORMAT:
        spec = _scenario_spec(manifest)
        design = manifest.get("design") or {}
        if not isinstance(design, dict) or not isinstance(design.get("vary") or {}, dict):
            raise OutputError(f"{path / 'manifest.json'} is not a complete sweep manifest: "
                              f"`design` should map `vary` to the parameters, found {design!r}")
        parameters = tuple(design.get("vary") or {})
        outcomes = _sweep_outcomes(spec, path / "points.csv")
        points = _read_points(path / "points.csv", parameters, outcomes)
        return SweepData(path.name, manifest, spec, parameters, outcomes, points, path)
    if kind == SENSITIVITY_FORMAT:
        _check_completed(path, manifest, "sensitivity analysis")
        return SensitivityData(path.name, manifest, _scenario_spec(manifest),
                               _read_json(path / "indices.json"), path)
    if kind == RUN_FORMAT or (kind is None and (path / "summary.json").exists()):
        return read_run(path, manifest)
    raise UsageError(f"{path} is not a run, sweep or sensitivity directory: its manifest has "
                      f"format {kind!r}, expected {RUN_FORMAT!r}, {SWEEP_FORMAT!r} or "
                      f"{SENSITIVITY_FORMAT!r}")


def run_data_from_result(result: Any, label: str, scenario: Any = None) -> RunData:
    """Wrap an in-memory :class:`~escalate.montecarlo.runner.RunResult` as a :class:`RunData`.

    The result must have kept its per-replication arrays (``keep_replications=True``).
    """
    arrays = result.arrays
    outcomes = [outcome.name for outcome in result.scenario.outcomes]
    indicators = Indicators(arrays["replication"], {name: arrays[name] for name in outcomes})
    manifest: dict[str, Any] = {
        "format": RUN_FORMAT, "seed": result.seed, "replications": result.replications,
        "uncertainty": result.uncertainty, "engine": result.engine, "status": "completed",
        "scenario": {"path": str(scenario.path) if scenario is not None and scenario.path else None,
                     "name": result.scenario.name,
                     "sha256": scenario.sha256 if scenario is not None else None},
    }
    return RunData(label, manifest, result.summary, result.scenario.spec, None, indicators)
