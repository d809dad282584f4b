"""Compiling what a replication carries from event to event: the ladder's level and the state."""

from __future__ import annotations

from typing import Any

from .context import CompileContext

__all__ = ["COMPACT_LADDER", "compile_ladder", "compile_state"]

#: The built-in ladder used when a scenario does not define its own.
COMPACT_LADDER = (
    "no crisis",
    "crisis and signalling",
    "conventional strikes",
    "strikes beyond the theatre",
    "direct NATO-Russia clash",
    "nuclear threat",
    "nuclear use",
)


def compile_ladder(context: CompileContext) -> tuple[str, ...]:
    """Return the names of the ladder's levels, refusing a ladder too short or with duplicates."""
    ladder = context.spec.ladder
    if ladder == "compact":
        return COMPACT_LADDER
    names = tuple(item if isinstance(item, str) else item.name for item in ladder)
    if len(names) < 2:
        context.report(("ladder",), "the ladder needs at least two levels",
                       "or leave `ladder` out to use the built-in compact ladder")
    for i, name in enumerate(names):
        if name in names[:i]:
            context.report(("ladder", i), f"duplicate ladder level {name!r}")
    return names


def compile_state(context: CompileContext,
                  ladder: tuple[str, ...]) -> tuple[list[str], list[Any], list[bool]]:
    """Return the state variables' names, initial values and whether each holds whole numbers.

    ``level`` is always among them (0 unless declared), and must start on a rung of ``ladder``.
    """
    names, initial, integer = [], [], []
    declared = dict(context.spec.state)
    declared.setdefault("level", 0)
    for name, value in declared.items():
        context.check_name(("state", name), name, "state variable")
        names.append(name)
        initial.append(float(value) if isinstance(value, int | float) and not isinstance(
            value, bool) else value)
        integer.append(isinstance(value, int) and not isinstance(value, bool))
        context.types[name] = "bool" if isinstance(value, bool) else "number"
    level = declared["level"]
    if isinstance(level, bool) or not isinstance(level, int):
        context.report(("state", "level"), f"`level` is a whole-number rung of the ladder, "
                       f"found {level!r}")
    elif not 0 <= level < len(ladder):
        context.report(("state", "level"), f"initial level {level} is outside the ladder "
                       f"(0 to {len(ladder) - 1})")
    integer[names.index("level")] = True
    # `level` is a number even when its initial value is wrong, so that one
    # mistake there is not reported again at every use of `level`.
    context.types["level"] = "number"
    return names, initial, integer
