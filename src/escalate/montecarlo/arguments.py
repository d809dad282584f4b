"""The checks of the library's arguments, shared by runs, sweeps and the workflow functions.

Each raises :class:`UsageError` naming the argument, what it takes and what
it was given, before anything runs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..compile.compiled import CompiledScenario
from ..errors import UsageError
from ..scenario import Scenario, load
from .seeding import is_whole_number

__all__ = ["MAX_REPLICATIONS", "check_callback", "check_flag", "check_replications",
           "check_scenario", "check_sinks", "compiled_scenario", "normalize_overrides"]

MAX_REPLICATIONS = 10**9


def check_scenario(scenario: object, *, compiled: bool = True) -> None:
    """Raise :class:`UsageError` unless ``scenario`` is a Scenario, a file path (or compiled)."""
    kinds = (Scenario, str, Path, CompiledScenario) if compiled else (Scenario, str, Path)
    if not isinstance(scenario, kinds):
        also = ", a CompiledScenario" if compiled else ""
        raise UsageError(
            "scenario must be a Scenario (escalate.load(path) or escalate.loads(yaml_text))"
            f"{also} or the path of a scenario file, found {_described(scenario)}")


def normalize_overrides(overrides: object) -> dict[str, Any]:
    """Return ``overrides`` as a dict of parameter names to Python values.

    Numpy scalars become the Python numbers and bools they hold, so they are
    taken (and recorded) as those would be.  Raises :class:`UsageError` for
    anything but a mapping with string keys; the values are checked when the
    scenario is compiled.
    """
    if overrides is None:
        return {}
    if not isinstance(overrides, Mapping):
        raise UsageError("overrides must be a mapping of parameter names to values, such as "
                         f"{{'p_retaliate': 0.1}}, found {_described(overrides)}")
    plain: dict[str, Any] = {}
    for name, value in overrides.items():
        if not isinstance(name, str):
            raise UsageError(f"overrides: a parameter is named by a string, found {name!r}")
        plain[name] = value.item() if isinstance(value, np.generic) else value
    return plain


def _described(value: object) -> str:
    """``value``'s repr, or its type when that is long."""
    text = repr(value)
    return text if len(text) <= 60 else f"a {type(value).__name__}"


def compiled_scenario(scenario: Scenario | CompiledScenario | str | Path,
                      overrides: Mapping[str, Any] | None) -> CompiledScenario:
    """``scenario`` compiled with ``overrides`` (loaded first from a path).

    Raises :class:`UsageError` for a bad scenario or overrides argument, and
    for overrides given with a scenario compiled already.
    """
    check_scenario(scenario)
    plain = normalize_overrides(overrides)
    if isinstance(scenario, str | Path):
        scenario = load(scenario)
    if isinstance(scenario, Scenario):
        return scenario.compile(plain)
    if plain:
        raise UsageError("apply overrides when compiling: Scenario.compile(overrides)")
    return scenario


def check_replications(replications: object) -> int:
    """Return ``replications`` as an int; raise :class:`UsageError` unless a whole number in range."""
    if not is_whole_number(replications) or not 1 <= replications <= MAX_REPLICATIONS:
        raise UsageError(f"replications must be a whole number from 1 to {MAX_REPLICATIONS:,}, "
                         f"found {replications!r}")
    return int(replications)


def check_callback(value: object, name: str) -> None:
    """Raise :class:`UsageError` unless ``value`` is None or can be called."""
    if value is not None and not callable(value):
        raise UsageError(f"{name} must be a function (or None), found {_described(value)}")


def check_sinks(sinks: object) -> None:
    """Raise :class:`UsageError` unless ``sinks`` is a sequence of objects with ``write``."""
    if isinstance(sinks, str | bytes) or not isinstance(sinks, Sequence):
        raise UsageError(f"sinks must be a list of record sinks, found {_described(sinks)}")
    for sink in sinks:
        if not callable(getattr(sink, "write", None)):
            raise UsageError(f"sinks: each sink needs a write(record) method, found "
                             f"{_described(sink)}")


def check_flag(value: object, name: str) -> bool:
    """Return ``value`` as a bool; raise :class:`UsageError` unless it is one (or numpy's).

    A string such as ``"no"`` is refused rather than read as true.
    """
    if not isinstance(value, bool | np.bool_):
        raise UsageError(f"{name} must be True or False, found {value!r}")
    return bool(value)
