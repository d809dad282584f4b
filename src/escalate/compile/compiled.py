"""The compiled form of a scenario that both engines execute.

Names have become integer indices and expressions checked closures (with
their parsed trees kept for engines that evaluate them differently).  The
environment of a replication is one flat list of values: the state variables,
then the parameters, then the current time ``now`` (see :attr:`CompiledScenario.slots`).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from ..distributions import UncertainParameter
from ..spec.expressions import Evaluator, Expr

__all__ = [
    "RESERVED_TERMINALS",
    "Branch",
    "CompiledEvent",
    "CompiledOutcome",
    "CompiledScenario",
    "Delay",
    "Formula",
    "Repeat",
    "Update",
]

#: Terminal labels the engine gives by itself: still running at the horizon,
#: nothing left to happen, and stopped for exceeding ``max_events``.
RESERVED_TERMINALS = ("horizon", "exhausted", "max_events")
NOW = "now"


@dataclass(frozen=True, slots=True)
class Formula:
    """An expression with its source text, parsed tree and scalar closure."""

    text: str
    tree: Expr
    evaluate: Evaluator
    where: str

    def constant(self) -> Any:
        return self.tree.constant()


@dataclass(frozen=True, slots=True)
class Delay:
    """A delay distribution; ``args`` are formulas (constants or over parameters and state)."""

    kind: str
    args: tuple[Formula, ...]

    def constant_args(self) -> tuple[float, ...] | None:
        values = [a.constant() for a in self.args]
        if any(v is None or isinstance(v, bool) for v in values):
            return None
        return tuple(float(v) for v in values)

    def is_zero(self) -> bool:
        return self.kind == "fixed" and self.constant_args() == (0.0,)


@dataclass(frozen=True, slots=True)
class Update:
    """One ``set`` entry: write the value of ``formula`` into state slot ``slot``."""

    slot: int
    name: str
    formula: Formula
    integer: bool


@dataclass(frozen=True, slots=True)
class Branch:
    """One alternative of a ``choose``; ``probability`` is None for ``otherwise``."""

    target: int | None
    probability: Formula | None


@dataclass(frozen=True, slots=True)
class Repeat:
    every: Delay
    condition: Formula | None
    max_count: int | None


@dataclass(frozen=True, slots=True)
class CompiledEvent:
    index: int
    name: str
    label: str
    actor: str | None
    at: float | None
    delay: Delay | None
    guard: Formula | None
    updates: tuple[Update, ...]
    then: tuple[int, ...]
    branches: tuple[Branch, ...]
    repeat: Repeat | None
    cancels: tuple[int, ...]
    end: str | None

    def successors(self) -> tuple[int, ...]:
        """Events this one can schedule (``then``, ``choose`` and itself when it repeats)."""
        chosen = tuple(b.target for b in self.branches if b.target is not None)
        return self.then + chosen + ((self.index,) if self.repeat else ())


@dataclass(frozen=True, slots=True)
class CompiledOutcome:
    name: str
    label: str
    kind: Literal["event", "when", "terminal"]
    event: int | None = None
    condition: Formula | None = None
    terminal: str | None = None


@dataclass(frozen=True)
class CompiledScenario:
    """A validated, resolved scenario ready for an engine.

    Self-sufficient: engines, aggregators and reports read it, never the spec it came from
    (``document`` holds that spec as JSON-ready data for provenance).
    """

    name: str
    start: dt.date | None
    horizon: float
    max_events: int
    ladder: tuple[str, ...]
    state_names: tuple[str, ...]
    state_initial: tuple[Any, ...]
    state_integer: tuple[bool, ...]
    level_slot: int
    parameter_names: tuple[str, ...]
    parameter_values: tuple[Any, ...]
    parameter_uncertainty: tuple[UncertainParameter | None, ...]
    #: each parameter's admissible ``(low, high)``, to which draws are clipped, or None
    parameter_ranges: tuple[tuple[float, float] | None, ...]
    #: each parameter's label (its name when the file gives none)
    parameter_labels: tuple[str, ...]
    events: tuple[CompiledEvent, ...]
    roots: tuple[int, ...]
    outcomes: tuple[CompiledOutcome, ...]
    terminals: tuple[str, ...]
    overrides: dict[str, Any] = field(default_factory=dict)
    #: the resolved scenario as JSON-ready data (defaults filled in), as manifests record it;
    #: for reports and provenance, never read by an engine
    document: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def slots(self) -> dict[str, int]:
        """Index of every name in a replication's value list."""
        names = (*self.state_names, *self.parameter_names, NOW)
        return {name: i for i, name in enumerate(names)}

    @property
    def now_slot(self) -> int:
        return len(self.state_names) + len(self.parameter_names)

    @property
    def parameter_offset(self) -> int:
        return len(self.state_names)

    @property
    def uncertain_parameters(self) -> tuple[int, ...]:
        """Indices (into the parameters) of those with an uncertainty distribution."""
        return tuple(i for i, u in enumerate(self.parameter_uncertainty) if u is not None)

    def initial_values(self) -> list[Any]:
        """A fresh value list for one replication, holding the point values of parameters."""
        return [*self.state_initial, *self.parameter_values, 0.0]

    def event_index(self) -> dict[str, int]:
        return {event.name: event.index for event in self.events}

    def date_of(self, days: float) -> dt.date | None:
        """The calendar date ``days`` after the start, if the scenario has a start date."""
        if self.start is None or math.isnan(days):
            return None
        return self.start + dt.timedelta(days=int(days // 1))
