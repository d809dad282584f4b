"""A loaded scenario: its validated spec, where it came from, and how to compile it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from .compile import CompiledScenario, compile_scenario
from .errors import Diagnostic, ScenarioError, UsageError
from .spec.diagnose import diagnostics_from_validation
from .spec.model import ScenarioSpec
from .spec.source import DEFAULT_LIMITS, Limits, SourceMap, read_yaml_file, read_yaml_text

__all__ = ["Scenario", "load", "loads"]


@dataclass(frozen=True)
class Scenario:
    """A scenario file that has passed every check, ready to compile and run."""

    spec: ScenarioSpec
    source_map: SourceMap = field(repr=False, compare=False)
    text: str = field(repr=False)
    path: Path | None = None
    compiled: CompiledScenario = field(repr=False, compare=False, default=None)  # type: ignore[assignment]

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path else ""
        return (f"Scenario(name={self.name!r}{where}, sha256={self.sha256[:12]!r}, "
                f"events={len(self.spec.events)}, parameters={len(self.spec.parameters)}, "
                f"outcomes={len(self.spec.outcomes)})")

    def __hash__(self) -> int:
        # What equality compares, by its text (the spec is made of unhashable lists).
        return hash((self.text, self.path))

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def sha256(self) -> str:
        """The hash of the file's text, recorded in every run's manifest."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def compile(self, overrides: Mapping[str, Any] | None = None) -> CompiledScenario:
        """Return the compiled scenario with parameter ``overrides`` applied.

        Raises :class:`ScenarioError` when an override names no parameter or breaks a check.
        """
        if not overrides:
            return self.compiled
        return compile_scenario(self.spec, self.source_map, overrides)

    def resolved(self) -> dict[str, Any]:
        """The scenario as plain JSON-ready data, defaults filled in."""
        resolved: dict[str, Any] = json.loads(self.spec.model_dump_json(by_alias=True))
        return resolved

    def provenance(self) -> dict[str, Any]:
        """What an output's manifest records of the scenario: file, name, hash, resolved content."""
        return {"path": str(self.path) if self.path else None, "name": self.name,
                "sha256": self.sha256, "resolved": self.resolved()}


def _build(data: Any, source_map: SourceMap, text: str, path: Path | None) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError([source_map.diagnostic(
            (), f"a scenario is a mapping of fields, found {type(data).__name__}",
            hint="start with `escalate: 1` and `name: ...` on their own lines")])
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        problems = diagnostics_from_validation(exc, data, source_map)
        raise ScenarioError(problems + _problems_beyond(exc, data, source_map)) from exc
    compiled = compile_scenario(spec, source_map)
    return Scenario(spec, source_map, text, path, compiled)


_COLLECTIONS = ("events", "parameters", "outcomes")


def _problems_beyond(error: ValidationError, data: dict[str, Any],
                     source_map: SourceMap) -> list[Diagnostic]:
    """Find the problems that shape errors hide, so that all are reported at once.

    Entries of ``events``, ``parameters`` and ``outcomes`` that failed are left
    out, and so are top-level fields that are unknown or optional; the rest is
    validated and compiled, and the compiler is told which names exist but
    were broken so that it does not report them as missing.
    """
    broken: dict[str, set[str]] = {name: set() for name in _COLLECTIONS}
    pruned = dict(data)
    fields = ScenarioSpec.model_fields
    for item in error.errors(include_url=False):
        loc = item["loc"]
        top = str(loc[0]) if loc else ""
        if len(loc) >= 2 and top in _COLLECTIONS:
            broken[top].add(str(loc[1]))
        elif top not in fields or not fields[top].is_required():
            if top in ("sources", "state", "actors"):
                return []  # names defined there are referenced everywhere
            pruned.pop(top, None)
        else:
            return []
    events = data.get("events")
    if isinstance(events, dict):
        # The terminals those events end with exist, though the events are left out.
        broken["terminals"] = {event["end"] for name, event in events.items()
                               if name in broken["events"] and isinstance(event, dict)
                               and isinstance(event.get("end"), str)}
    for section, names in broken.items():
        if names and isinstance(data.get(section), dict):
            pruned[section] = {k: v for k, v in data[section].items() if k not in names}
    try:
        spec = ScenarioSpec.model_validate(pruned)
        compile_scenario(spec, source_map, broken=broken)
    except ValidationError:
        return []
    except ScenarioError as exc:
        return list(exc.diagnostics)
    return []


def load(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> Scenario:
    """Read, validate and compile a scenario file.

    Raises :class:`ScenarioError` with every problem found, each with its position.
    """
    if not isinstance(path, str | Path):
        raise UsageError(f"load() takes the path of a scenario file (str or Path), found "
                         f"{type(path).__name__}; for YAML text use loads()")
    path = Path(path)
    data, source_map = read_yaml_file(path, limits)
    text = path.read_text(encoding="utf-8")
    return _build(data, source_map, text, path)


def loads(text: str, name: str = "<string>", limits: Limits = DEFAULT_LIMITS) -> Scenario:
    """Validate and compile a scenario given as YAML text."""
    if not isinstance(text, str):
        hint = "; for a file use load()" if isinstance(text, Path) else ""
        raise UsageError(f"loads() takes the scenario's YAML text (str), found "
                         f"{type(text).__name__}{hint}")
    data, source_map = read_yaml_text(text, name, limits)
    return _build(data, source_map, text, None)
