"""The compile stage: a checked ScenarioSpec in, a self-sufficient CompiledScenario out.

The compiled scenario (:mod:`.compiled`) is all an engine, an aggregator or a
report needs: names become indices, expressions checked trees with their
closures, parameters a table of values, ranges, labels and draws.  It keeps
no reference to the spec.  The compiler is split by concept: the context
every step shares (:mod:`.context`), formulas (:mod:`.formulas`), the ladder
and state (:mod:`.state`), parameters (:mod:`.parameters`), events
(:mod:`.events`), outcomes (:mod:`.outcomes`) and graph checks (:mod:`.graph`),
run in order by :func:`compile_scenario` (:mod:`.compiler`).
"""

from __future__ import annotations

from .compiled import CompiledScenario
from .compiler import compile_scenario
from .state import COMPACT_LADDER

__all__ = ["COMPACT_LADDER", "CompiledScenario", "compile_scenario"]
