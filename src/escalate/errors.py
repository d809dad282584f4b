"""The exceptions `escalate` raises.

Every error a user can cause is an :class:`EscalateError`; the command line
catches that base class only, prints the message and exits with its code::

    EscalateError                       exit 1
    ├── ScenarioError (ValueError)      exit 2  the scenario or its overrides are wrong
    ├── UsageError (ValueError)         exit 2  a bad option value outside the scenario
    ├── SimulationError (RuntimeError)  exit 3  the scenario failed while running
    └── OutputError (OSError)           exit 4  a result could not be written or read

Stopping is not an error: Ctrl-C (:class:`KeyboardInterrupt`) exits 130, and
SIGTERM and SIGHUP, which the command line turns into
:class:`escalate.cli.signals.Terminated` (a :class:`KeyboardInterrupt`), exit
with 128 + the signal number (143 and 129); each leaves its output ``interrupted``.

A :class:`ScenarioError` carries every :class:`Diagnostic` found, so a user
sees all the problems of a file at once rather than one per attempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "Diagnostic",
    "EscalateError",
    "OutputError",
    "ScenarioError",
    "SimulationError",
    "UsageError",
]


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a scenario, with where it is and what would fix it."""

    message: str
    path: str = ""
    file: str = ""
    line: int | None = None
    column: int | None = None
    hint: str = ""

    def location(self) -> str:
        """Return ``file:line:column`` (the parts that are known)."""
        where = self.file or "<scenario>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return where

    def __str__(self) -> str:
        text = f"{self.location()}: "
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.hint:
            text += f" (hint: {self.hint})"
        return text

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line or 0, self.column or 0, self.message)


class EscalateError(Exception):
    """Base class of every error that a user's input or environment can cause."""

    exit_code = 1


class ScenarioError(EscalateError, ValueError):
    """The scenario (or an override of it) is invalid; holds every problem found."""

    exit_code = 2

    def __init__(self, diagnostics: Iterable[Diagnostic] | str) -> None:
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(diagnostics)]
        self.diagnostics: Sequence[Diagnostic] = sorted(
            dict.fromkeys(diagnostics), key=Diagnostic.sort_key
        )
        count = len(self.diagnostics)
        heading = f"{count} problem{'s' if count != 1 else ''} found"
        super().__init__("\n".join([heading, *(str(d) for d in self.diagnostics)]))


class UsageError(EscalateError, ValueError):
    """An option given to a command or function is invalid."""

    exit_code = 2


class SimulationError(EscalateError, RuntimeError):
    """A replication could not proceed (for example a probability left [0, 1])."""

    exit_code = 3


class OutputError(EscalateError, OSError):
    """A result could not be written or read back."""

    exit_code = 4
