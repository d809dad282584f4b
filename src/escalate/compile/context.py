"""What compiling one scenario has learned so far: its problems, names, types and point values.

Every step of the compile stage reads and extends one :class:`CompileContext`,
so that each problem is recorded where it is found, all of them are reported
at once, and a name that was refused once is not reported again at each use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import Diagnostic
from ..spec import model
from ..spec.expressions import FUNCTIONS, KEYWORDS, ExpressionError, Type
from ..spec.source import PathKey, SourceMap, format_path
from ..spec.suggest import did_you_mean
from .compiled import NOW

__all__ = ["MAX_HORIZON_DAYS", "CompileContext", "path_text"]

MAX_HORIZON_DAYS = 1e6  # docs/limits.md

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED_NAMES = set(FUNCTIONS) | KEYWORDS | {NOW}


def path_text(path: PathKey) -> str:
    """The field path as a message shows it, such as ``events.talks.when``."""
    return format_path(path)


@dataclass
class CompileContext:
    """The scenario being compiled, the problems found in it and what its formulas may read."""

    spec: model.ScenarioSpec
    source_map: SourceMap
    #: parameter values given for this compilation, taken out as they are applied
    overrides: dict[str, Any]
    #: names (by section) that exist but are broken: their uses are not reported again
    broken: dict[str, set[str]]
    problems: list[Diagnostic] = field(default_factory=list)
    types: dict[str, Type] = field(default_factory=dict)
    slots: dict[str, int] = field(default_factory=dict)
    integer_slots: list[bool] = field(default_factory=list)
    # The values a formula over parameters alone takes in every replication of a run
    # (the parameters' point values with overrides applied), known once they are read.
    point: list[Any] = field(default_factory=list)
    parameter_names: frozenset[str] = frozenset()
    #: parameters whose value was refused (reported once, not again where they are read)
    out_of_range: set[str] = field(default_factory=set)
    ladder_size: int = 0

    @classmethod
    def begin(cls, spec: model.ScenarioSpec, source_map: SourceMap,
              overrides: Mapping[str, Any], broken: Mapping[str, set[str]]) -> CompileContext:
        """Start compiling ``spec``, copying what compiling will change."""
        # A copy: parameters whose value is wrong join it, so that their uses are not reported too.
        return cls(spec, source_map, dict(overrides),
                   {section: set(names) for section, names in broken.items()})

    def report(self, path: PathKey, message: str, hint: str = "", *, key: bool = False) -> None:
        """Record a problem at ``path`` (at its key rather than its value when ``key``)."""
        self.problems.append(self.source_map.diagnostic(path, message, hint=hint, key=key))

    def report_expression_error(self, path: PathKey, error: ExpressionError, text: str) -> None:
        """Record a mistake inside an expression, positioned at its character in the file."""
        line, column = self.source_map.locate_offset(path, text, error.offset)
        shown = text if len(text) <= 80 else text[:77] + "..."
        message = f"{error.message} in expression {shown!r}" if text.strip() else error.message
        self.problems.append(Diagnostic(
            message, path=path_text(path), file=self.source_map.file,
            line=line, column=column, hint=error.hint))

    def check_name(self, path: PathKey, name: str, kind: str) -> None:
        """Refuse a name that is not an identifier or that the expression language reserves."""
        if not _IDENTIFIER.match(name):
            self.report(path, f"{kind} name {name!r} is not a valid name",
                        "use letters, digits and underscores, starting with a letter", key=True)
        elif name in _RESERVED_NAMES:
            self.report(path, f"{kind} name {name!r} is reserved", "choose another name", key=True)

    def check_sources(self, path: PathKey, refs: str | list[str] | None) -> None:
        """Refuse source references that name no entry of ``sources``."""
        known = [s.id for s in self.spec.sources]
        for i, ref in enumerate([refs] if isinstance(refs, str) else refs or []):
            if ref not in known:
                where = path if isinstance(refs, str) else (*path, i)
                self.report(where, f"unknown source {ref!r}",
                            did_you_mean(ref, known, kind="sources"))
