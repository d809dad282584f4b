"""escalate: escalation scenarios as explicit assumptions, run as discrete-event Monte Carlo."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._version import __version__
from .errors import (
    Diagnostic,
    EscalateError,
    OutputError,
    ScenarioError,
    SimulationError,
    UsageError,
)
from .montecarlo.results import RunResult
from .montecarlo.runner import run
from .scenario import Scenario, load, loads

if TYPE_CHECKING:
    from .sweeps import load_sweep, sweep

__all__ = [
    "Diagnostic",
    "EscalateError",
    "OutputError",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "UsageError",
    "__version__",
    "load",
    "load_sweep",
    "loads",
    "run",
    "sweep",
]

_LAZY = {"sweep": "sweeps", "load_sweep": "sweeps"}


def __getattr__(name: str) -> Any:
    # Sweeps are imported on first use: `import escalate` stays light and needs none of
    # the sweep extras (scipy, pandas, pyarrow, dask), which those modules import lazily too.
    if name in _LAZY:
        from importlib import import_module

        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
