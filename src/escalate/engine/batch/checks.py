"""How a chunk of the batch engine evaluates and checks what its replications compute.

Each check finds the failing rows of a group.  If one of them was asked for,
the first such raises :class:`SimulationError`, with the message the whole
run would give; otherwise they are stopped where they fail and left out of
the group, which goes on without them (a replication not asked for never
fails a run it is no part of).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ...compile.compiled import CompiledEvent
from ...errors import SimulationError
from .lowering import ArrayEvaluationError
from .plan import ArrayFormula
from .state import ChunkState, Group

__all__ = ["ChunkChecks"]


class ChunkChecks(ChunkState):
    """A chunk's state with the evaluation of formulas and the checks of their values."""

    # -- errors ---------------------------------------------------------------------------------
    #
    # Each check finds the failing rows of a group.  If one of them was asked for, the first
    # such raises, with the message the whole run would give; otherwise they are stopped
    # where they fail and left out of the group, which goes on without them.

    def fail(self, row: int, event: CompiledEvent, message: str) -> SimulationError:
        return SimulationError(f"replication {self.first + row}, t = {self.now[row]:.4g} days, "
                               f"event {event.name!r}: {message}")

    def asked(self, rows: np.ndarray) -> np.ndarray:
        """Whether each of the chunk rows ``rows`` was asked for."""
        return (rows >= self.low) & (rows < self.high)

    def failing(self, group: Group, bad: Any) -> int | None:
        """The position in ``group`` of the first replication asked for where ``bad`` holds.

        Without one, the replications where ``bad`` holds are stopped, left out
        of ``group``, and None is returned.
        """
        bad = np.broadcast_to(bad, group.rows.shape)
        positions = np.flatnonzero(bad)
        asked = self.asked(group.rows.take(positions))
        if asked.any():
            return int(positions[int(asked.argmax())])
        self.stop(group, bad)
        return None

    def stop(self, group: Group, bad: np.ndarray) -> None:
        """Stop the replications of ``group`` where ``bad`` holds, and leave them out of it."""
        self.alive[group.local[bad]] = False
        self.stops += 1
        group.keep(np.flatnonzero(~bad))

    def unevaluable(self, exc: ArrayEvaluationError, group: Group) -> int | None:
        """The row that ``exc`` describes if it was asked for; else stop its rows not asked for."""
        failing = np.asarray(exc.rows)
        # exc's message describes its first row only: another must fail again to be named
        if self.asked(failing[:1]).any():
            return int(failing[0])
        self.stop(group, np.isin(group.rows, failing[~self.asked(failing)]))
        return None

    def evaluate(self, lowered: ArrayFormula, event: CompiledEvent, group: Group) -> Any:
        """``lowered`` in the rows of ``group`` (those where it cannot be evaluated stopped)."""
        while True:
            try:
                return lowered.evaluate(self.columns, group.rows)
            except ArrayEvaluationError as exc:
                row = self.unevaluable(exc, group)
                if row is not None:
                    formula = lowered.formula
                    raise self.fail(row, event, f"{formula.where}: cannot evaluate "
                                    f"{formula.text!r}: {exc}") from exc

    def truth(self, lowered: ArrayFormula, event: CompiledEvent, group: Group) -> np.ndarray:
        """``lowered`` in the rows of ``group`` as one bool per row."""
        value = self.evaluate(lowered, event, group)
        if np.ndim(value) == 0:
            return np.full(len(group.rows), bool(value))
        return np.asarray(value, dtype=bool)

    def check_conditions(self, conditions: Sequence[tuple[int, ArrayFormula]], group: Group) -> None:
        """Record the `when` outcomes that hold now and had not occurred yet."""
        for k, condition in conditions:
            recorded = self.outcome_times[k]
            while True:
                open_ = np.isnan(recorded.take(group.rows))
                if not open_.any():
                    break
                candidates = group.rows[open_]
                try:
                    value = condition.evaluate(self.columns, candidates)
                except ArrayEvaluationError as exc:
                    row = self.unevaluable(exc, group)
                    if row is not None:
                        raise SimulationError(f"replication {self.first + row}: outcome "
                                              f"{condition.formula.where}: {exc}") from exc
                    continue
                holds = np.broadcast_to(np.asarray(value, dtype=bool), candidates.shape)
                recorded[candidates[holds]] = group.times[open_][holds]
                break

    def check_finite(self, value: Any, name: str, event: CompiledEvent, group: Group) -> Any:
        """``value`` where it is finite (the replications where it is not stopped)."""
        numbers = np.asarray(value)
        if numbers.dtype == bool:
            return value
        bad = ~np.isfinite(numbers)
        if np.any(bad):
            return self.check_update(value, numbers, bad, name, "not a finite number", event,
                                     group)
        return value

    def check_whole(self, value: Any, name: str, event: CompiledEvent, group: Group) -> Any:
        """``value`` where it is a whole number (the replications where it is not stopped)."""
        numbers = np.asarray(value, dtype=float)
        bad = ~np.isfinite(numbers) | (numbers != np.round(numbers))
        if np.any(bad):
            return self.check_update(value, numbers, bad, name, "not a whole number", event,
                                     group)
        return value

    def check_update(self, value: Any, numbers: np.ndarray, bad: np.ndarray, name: str,
                     problem: str, event: CompiledEvent, group: Group) -> Any:
        """``value`` without the rows where ``bad`` holds, which fail."""
        bad = np.broadcast_to(bad, group.rows.shape)
        i = self.failing(group, bad)
        if i is not None:
            shown = float(numbers if numbers.ndim == 0 else numbers[i])
            raise self.fail(int(group.rows[i]), event, f"set {name}: {shown!r} is {problem}")
        return value if np.ndim(value) == 0 else np.asarray(value)[~bad]

    def check_level(self, event: CompiledEvent, group: Group) -> None:
        level = self.level.take(group.rows)
        top = len(self.scenario.ladder)
        bad = ~((level >= 0) & (level < top))
        if bad.any():
            i = self.failing(group, bad)
            if i is not None:
                raise self.fail(int(group.rows[i]), event, f"level {level[i]:g} is outside the "
                                f"ladder (0 to {top - 1})")
            level = level[~bad]
        self.max_level[group.rows] = np.maximum(self.max_level.take(group.rows),
                                                level.astype(np.int64))
