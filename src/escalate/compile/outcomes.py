"""Compiling the outcomes: an event that happens, a condition that holds, or a terminal label."""

from __future__ import annotations

from ..columns import find_clashes
from ..spec.source import PathKey
from ..spec.suggest import did_you_mean
from .compiled import RESERVED_TERMINALS, CompiledEvent, CompiledOutcome
from .context import CompileContext
from .events import resolve_reference
from .formulas import parse_formula

__all__ = ["check_column_names", "compile_outcomes"]


def compile_outcomes(context: CompileContext,
                     events: list[CompiledEvent]) -> list[CompiledOutcome]:
    """Compile every outcome, each of exactly one kind, against the compiled ``events``."""
    index = {e.name: e.index for e in events}
    terminals = {e.end for e in events if e.end} | set(RESERVED_TERMINALS)
    compiled = []
    for name, outcome in context.spec.outcomes.items():
        path: PathKey = ("outcomes", name)
        context.check_name(path, name, "outcome")
        kinds = [k for k in ("event", "when", "terminal") if getattr(outcome, k) is not None]
        if len(kinds) != 1:
            context.report(path, "an outcome needs exactly one of `event`, `when` or "
                           f"`terminal`, found {len(kinds)}",
                           "for example `{event: nato_strike}`")
            continue
        label = outcome.label or name
        if outcome.event is not None:
            ref = resolve_reference(context, (*path, "event"), outcome.event, index)
            if ref is not None:
                compiled.append(CompiledOutcome(name, label, "event", event=ref))
        elif outcome.when is not None:
            formula = parse_formula(context, (*path, "when"), outcome.when, "bool")
            if formula is not None:
                compiled.append(CompiledOutcome(name, label, "when", condition=formula))
        elif outcome.terminal is not None:
            if outcome.terminal in context.broken.get("terminals", ()):
                continue  # an event with a shape error ends with it (reported there)
            if outcome.terminal not in terminals:
                context.report((*path, "terminal"), f"no event ends with {outcome.terminal!r}",
                               did_you_mean(outcome.terminal, terminals, kind="terminals"))
                continue
            compiled.append(CompiledOutcome(name, label, "terminal",
                                            terminal=outcome.terminal))
    return compiled


def check_column_names(context: CompileContext) -> None:
    """Refuse outcome and parameter names that would give an output two columns of one name.

    Outcomes become columns ``<outcome>`` and ``<outcome>_day`` of
    ``replications.csv``, parameters ``param_<name>`` there and columns of the
    sweep and sensitivity tables; a name meeting a table's own column (an
    outcome ``max_level``) or another name's (``war_day`` beside ``war``) would
    make one column hide the other.
    """
    spec = context.spec
    for clash in find_clashes(list(spec.outcomes), list(spec.parameters)):
        if clash.other is None:
            found = f"{clash.table} has a column {clash.column!r} of its own"
        else:
            kind, name = clash.other
            found = f"the {kind} {name!r} gives {clash.table} a column {clash.column!r} too"
        context.report(
            (f"{clash.kind}s", clash.name),
            f"the {clash.kind} name {clash.name!r} collides with an output column: {found}",
            f"rename the {clash.kind} (for example {clash.name + '_x'!r}); "
            "outcome and parameter names must not repeat or extend the names of columns",
            key=True)
