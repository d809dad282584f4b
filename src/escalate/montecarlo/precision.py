"""Adaptive precision: run replications in blocks until the intervals are narrow enough.

Blocks have a fixed size and the stopping rule is checked after each one, so
the number of replications needed depends only on the scenario, the seed and
the options: never on timing, workers or where the blocks ran.  Block ``b``
covers replications ``[b * block, (b + 1) * block)``, so a run that needed
``n`` replications gives exactly the numbers of a plain run of ``n``.

The result's ``precision`` block says whether the target was reached, with
the widest half-width and its outcome.  Stopping on the intervals makes the
estimates slightly biased, most for rare outcomes (a block with few
occurrences has a narrow interval, so the run stops sooner after one); a
fixed number of replications does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..compile.compiled import CompiledScenario
from ..engine.selection import fallback_note, join_ranges
from ..errors import UsageError
from ..scenario import Scenario
from .aggregate import Aggregator
from .arguments import MAX_REPLICATIONS
from .results import RunResult
from .runner import RecordSink, run
from .seeding import SeedLike, is_whole_number, normalize_seed
from .stats import wilson_interval

__all__ = ["DEFAULT_MAX_REPLICATIONS", "check_precision", "half_width", "run_to_precision",
           "widest_interval"]

#: the bound on replications of an adaptive run when none is given
DEFAULT_MAX_REPLICATIONS = 100_000


def widest_interval(aggregator: Aggregator) -> tuple[str | None, float]:
    """The outcome with the widest 95% half-width, and that half-width (None, 0 when none)."""
    widest: tuple[str | None, float] = (None, 0.0)
    for outcome, count in zip(aggregator.scenario.outcomes, aggregator.outcome_counts,
                              strict=True):
        low, high = wilson_interval(int(count), aggregator.replications)
        if (high - low) / 2 > widest[1]:
            widest = (outcome.name, (high - low) / 2)
    return widest


def half_width(aggregator: Aggregator) -> float:
    """The widest 95% half-width among the scenario's outcomes (0 when it has none)."""
    return widest_interval(aggregator)[1]


def check_precision(precision: object, block: object,
                    max_replications: object) -> tuple[float, int, int]:
    """Return the three options as Python numbers, checked to make a usable stopping rule.

    Numpy numbers are taken as Python ones.  Raises :class:`UsageError`.
    """
    if isinstance(precision, bool | np.bool_) or not isinstance(
            precision, int | float | np.integer | np.floating) or not (
            0 < precision < 0.5 and math.isfinite(precision)):
        raise UsageError(f"--precision: precision is a 95% half-width between 0 and 0.5 "
                         f"(e.g. 0.01), found {precision!r}")
    if not is_whole_number(block) or block < 1:
        raise UsageError(f"the block size must be a whole number of at least 1, found {block!r}")
    if not is_whole_number(max_replications) or not (
            block <= max_replications <= MAX_REPLICATIONS):
        raise UsageError(f"--max-replications: max_replications must be a whole number from "
                         f"the block size (-n, {block:,}) to {MAX_REPLICATIONS:,}, found "
                         f"{max_replications!r}")
    return float(precision), int(block), int(max_replications)


def run_to_precision(
    scenario: Scenario | CompiledScenario | str | Path,
    *,
    precision: float,
    block: int,
    max_replications: int,
    seed: SeedLike = None,
    overrides: Mapping[str, Any] | None = None,
    uncertainty: bool = False,
    point: int | None = None,
    sinks: Sequence[RecordSink] = (),
    progress: Callable[[int], None] | None = None,
    **options: Any,
) -> RunResult:
    """Run blocks of replications until every outcome's 95% half-width is at most ``precision``.

    Blocks hold ``block`` replications each.  Stops after ``max_replications``
    at the latest (the last block is cut short to fit); the result's
    ``precision`` (also in its summary) says whether the target was reached:
    ``target``, ``achieved`` (the widest half-width), ``outcome`` (whose it is),
    ``reached``, ``replications``, ``block`` and ``max_replications``.
    Other ``options`` go to
    :func:`~escalate.montecarlo.runner.run` unchanged.  Raises what
    :func:`~escalate.montecarlo.runner.run` raises, and :class:`UsageError`
    for a bad stopping rule.
    """
    precision, block, max_replications = check_precision(precision, block, max_replications)
    seed_value = normalize_seed(seed)
    options.update(seed=seed_value, uncertainty=uncertainty, point=point,
                   keep_replications=False, sinks=sinks, progress=progress)
    first_block = run(scenario, replications=block, overrides=overrides, **options)
    total = Aggregator(first_block.scenario)
    total.merge(first_block.aggregator)
    fallback = list(first_block.fallback)
    done = block
    while done < max_replications and half_width(total) > precision:
        size = min(block, max_replications - done)
        # Later blocks run exactly the scenario the first one compiled.
        result = run(first_block.scenario, replications=size, first=done, **options)
        total.merge(result.aggregator)
        fallback += result.fallback
        done += size
    outcome, widest = widest_interval(total)
    report = {"target": precision, "achieved": widest, "outcome": outcome,
              "reached": widest <= precision, "replications": done, "block": block,
              "max_replications": max_replications}
    # The first block's reason, with what fell back in every block rather than in it alone.
    chosen = first_block.engine_reason.removesuffix(fallback_note(first_block.fallback, block))
    joined = join_ranges(fallback)
    return RunResult(first_block.scenario, seed_value, done, 0, uncertainty, first_block.engine,
                     total, engine_reason=chosen + fallback_note(joined, done),
                     fallback=tuple(joined), precision=report)
