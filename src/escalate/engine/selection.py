"""Choosing the engine of a run: the batch engine when it can, the reference engine otherwise.

Both engines give a scenario the same meaning (the differential tests hold
them to it), so ``auto`` takes the faster batch engine unless the run needs
something only the reference engine does; the reason is recorded with the run.
"""

from __future__ import annotations

from ..compile.compiled import CompiledScenario
from ..errors import UsageError
from .pending import MAX_CAPACITY

__all__ = ["ENGINES", "batch_limitations", "choose_engine"]

#: the values ``run(engine=...)`` and ``--engine`` accept
ENGINES = ("auto", "reference", "batch")
_MAX_EVENTS = 2**15 - 1


def batch_limitations(scenario: CompiledScenario, *, keep_log: bool = False) -> list[str]:
    """What keeps the batch engine from running ``scenario`` (empty when nothing does)."""
    found = []
    if keep_log:
        found.append("event logs (--events, trace) are kept by the reference engine only")
    if len(scenario.events) > _MAX_EVENTS:
        found.append(f"the scenario has {len(scenario.events):,} events; the batch engine "
                     f"handles at most {_MAX_EVENTS:,}")
    for event in scenario.events:
        fan_out = len(event.then) + bool(event.branches) + (event.repeat is not None)
        if fan_out > MAX_CAPACITY // 2:
            found.append(f"event {event.name!r} schedules {fan_out} occurrences at once; the "
                         f"batch engine keeps at most {MAX_CAPACITY} pending per replication")
            break
    return found


def choose_engine(scenario: CompiledScenario, requested: str = "auto", *,
                  keep_log: bool = False) -> tuple[str, str]:
    """Return the engine to run ``scenario`` with and why.

    Raises :class:`UsageError` for an unknown engine name, or when the batch
    engine is asked for but cannot run the scenario.
    """
    if requested not in ENGINES:
        raise UsageError(f"engine must be one of {', '.join(ENGINES)}, found {requested!r}")
    if requested == "reference":
        return "reference", "asked for"
    limitations = batch_limitations(scenario, keep_log=keep_log)
    if requested == "batch":
        if limitations:
            raise UsageError(f"the batch engine cannot run this: {limitations[0]} "
                             "(hint: use the reference engine, or auto)")
        return "batch", "asked for"
    if limitations:
        return "reference", f"auto: {limitations[0]}"
    return "batch", "auto: the batch engine supports every feature this scenario uses"
