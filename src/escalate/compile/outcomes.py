"""Compiling the outcomes: an event that happens, a condition that holds, or a terminal label."""

from __future__ import annotations

from ..spec.source import PathKey
from ..spec.suggest import did_you_mean
from .compiled import RESERVED_TERMINALS, CompiledEvent, CompiledOutcome
from .context import CompileContext
from .events import resolve_reference
from .formulas import parse_formula

__all__ = ["compile_outcomes"]


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
