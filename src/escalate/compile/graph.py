"""Checks on the event graph: something starts, everything is reachable, no zero-delay cycle."""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import Diagnostic
from ..spec.source import SourceMap
from .compiled import CompiledEvent

__all__ = ["check_graph"]


def check_graph(events: Sequence[CompiledEvent], roots: Sequence[int],
                source_map: SourceMap) -> list[Diagnostic]:
    """Return diagnostics for a graph that cannot start, has unreachable events or loops at once."""
    problems: list[Diagnostic] = []
    if not roots:
        problems.append(source_map.diagnostic(
            ("events",), "no event has `at:`, so nothing ever happens",
            hint="give the first event `at: 0` (or a date)"))
        return problems
    reached = set(roots)
    frontier = list(roots)
    while frontier:
        for successor in events[frontier.pop()].successors():
            if successor not in reached:
                reached.add(successor)
                frontier.append(successor)
    problems.extend(
        source_map.diagnostic(
            ("events", event.name), f"event {event.name!r} can never happen: no event "
            "schedules it and it has no `at:`",
            hint="name it in another event's `then` or `choose`, or give it `at:`", key=True)
        for event in events if event.index not in reached)
    cycle = _zero_delay_cycle(events)
    if cycle:
        names = " -> ".join(events[i].name for i in [*cycle, cycle[0]])
        problems.append(source_map.diagnostic(
            ("events", events[cycle[0]].name),
            f"zero-delay cycle {names}: these events would fire forever at the same instant",
            hint="give one of them a positive `after:` delay", key=True))
    return problems


def _is_immediate(event: CompiledEvent) -> bool:
    """Whether a successor can fire at the instant it is scheduled (no delay, or zero)."""
    return event.delay is None or event.delay.is_zero()


def _zero_delay_cycle(events: Sequence[CompiledEvent]) -> list[int]:
    """Return one cycle of events that can reschedule each other with no delay, if any."""
    def zero_successors(event: CompiledEvent) -> list[int]:
        found = [t for t in (*event.then, *(b.target for b in event.branches))
                 if t is not None and _is_immediate(events[t])]
        if event.repeat is not None and event.repeat.every.is_zero():
            found.append(event.index)
        return found

    white, grey, black = 0, 1, 2
    colour = [white] * len(events)
    for start in range(len(events)):
        if colour[start] != white:
            continue
        stack: list[tuple[int, list[int]]] = [(start, zero_successors(events[start]))]
        path = [start]
        colour[start] = grey
        while stack:
            node, successors = stack[-1]
            if successors:
                nxt = successors.pop()
                if colour[nxt] == grey:
                    return path[path.index(nxt):]
                if colour[nxt] == white:
                    colour[nxt] = grey
                    stack.append((nxt, zero_successors(events[nxt])))
                    path.append(nxt)
            else:
                colour[node] = black
                stack.pop()
                path.pop()
    return []
