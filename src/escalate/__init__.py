"""escalate: escalation scenarios as explicit assumptions, run as discrete-event Monte Carlo."""

from __future__ import annotations

from .errors import (
    Diagnostic,
    EscalateError,
    OutputError,
    ScenarioError,
    SimulationError,
    UsageError,
)
from .montecarlo.runner import RunResult, run
from .scenario import Scenario, load, loads

__version__ = "0.1.0"

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
    "loads",
    "run",
]
