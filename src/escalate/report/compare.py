"""Comparing runs outcome by outcome: each probability, their difference and its 95% interval.

Runs that share random streams (same seed, same replication indices, both
with or both without drawn parameters) are compared on paired replications:
common random numbers make the difference far more precise than the two
intervals suggest.  Otherwise the runs are independent samples.  Both
intervals are Newcombe's hybrid score intervals built from the Wilson
intervals of the two proportions (Newcombe 1998, Statistics in Medicine 17,
"Interval estimation for the difference between independent proportions",
method 10, and "Improved confidence intervals for the difference between
binomial proportions based on paired data", method 10); the paired one
corrects for the correlation of the paired outcomes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import UsageError
from ..montecarlo.stats import wilson_interval
from .rundata import RunData

__all__ = [
    "Comparison",
    "OutcomeDifference",
    "compare_runs",
    "newcombe_paired",
    "newcombe_unpaired",
    "shares_streams",
]

Method = Literal["paired", "unpaired"]


def newcombe_unpaired(successes_a: int, trials_a: int, successes_b: int,
                      trials_b: int) -> tuple[float, float, float]:
    """Difference ``p_b - p_a`` of independent proportions with its 95% hybrid score interval."""
    p_a, p_b = successes_a / trials_a, successes_b / trials_b
    low_a, high_a = wilson_interval(successes_a, trials_a)
    low_b, high_b = wilson_interval(successes_b, trials_b)
    difference = p_b - p_a
    below = math.sqrt((p_b - low_b) ** 2 + (high_a - p_a) ** 2)
    above = math.sqrt((high_b - p_b) ** 2 + (p_a - low_a) ** 2)
    return difference, max(-1.0, difference - below), min(1.0, difference + above)


def newcombe_paired(a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """Difference ``mean(b) - mean(a)`` of paired binary outcomes with its 95% interval.

    ``a`` and ``b`` are boolean arrays over the same replications.  The
    correlation correction uses the phi coefficient of the 2x2 table (taken
    as 0 when a margin is empty), as in Newcombe's method 10.
    """
    if a.shape != b.shape or a.size == 0:
        raise UsageError("paired outcomes need two arrays of the same, non-zero length")
    n = a.size
    both = int(np.count_nonzero(a & b))
    only_a = int(np.count_nonzero(a & ~b))
    only_b = int(np.count_nonzero(~a & b))
    neither = n - both - only_a - only_b
    count_a, count_b = both + only_a, both + only_b
    p_a, p_b = count_a / n, count_b / n
    low_a, high_a = wilson_interval(count_a, n)
    low_b, high_b = wilson_interval(count_b, n)
    margins = float(count_a) * (n - count_a) * count_b * (n - count_b)
    phi = (both * neither - only_a * only_b) / math.sqrt(margins) if margins > 0 else 0.0
    difference = p_b - p_a
    below_sq = ((p_b - low_b) ** 2 - 2 * phi * (p_b - low_b) * (high_a - p_a)
                + (high_a - p_a) ** 2)
    above_sq = ((high_b - p_b) ** 2 - 2 * phi * (high_b - p_b) * (p_a - low_a)
                + (p_a - low_a) ** 2)
    below, above = math.sqrt(max(0.0, below_sq)), math.sqrt(max(0.0, above_sq))
    return difference, max(-1.0, difference - below), min(1.0, difference + above)


def shares_streams(a: RunData, b: RunData) -> tuple[bool, str]:
    """Whether two runs used the same random streams replication by replication, and why not."""
    if a.seed is None or b.seed is None:
        return False, "a run does not record its seed"
    if a.seed != b.seed:
        return False, f"different seeds ({a.seed} and {b.seed})"
    if a.replications != b.replications or a.first_replication != b.first_replication:
        return False, "different replication ranges"
    if a.uncertainty != b.uncertainty:
        return False, "one run drew uncertain parameters and the other did not"
    return True, ""


@dataclass(frozen=True)
class OutcomeDifference:
    """One outcome in a baseline and a variant run."""

    outcome: str
    label: str
    baseline: tuple[float, float, float]  # probability, low, high
    variant: tuple[float, float, float]
    difference: float
    low: float
    high: float
    method: Method
    #: the unpaired interval too, when the paired one was used (to show what pairing gained)
    unpaired: tuple[float, float] | None = None

    @property
    def distinguishable(self) -> bool:
        """Whether the 95% interval of the difference excludes zero."""
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class Comparison:
    """A variant run compared with the baseline, outcome by outcome."""

    baseline: str
    variant: str
    method: Method
    reason: str  # why the comparison is unpaired ("" when paired)
    outcomes: tuple[OutcomeDifference, ...]
    only_baseline: tuple[str, ...]
    only_variant: tuple[str, ...]

    @property
    def changed(self) -> tuple[OutcomeDifference, ...]:
        """Outcomes whose difference is distinguishable from zero."""
        return tuple(o for o in self.outcomes if o.distinguishable)


def _estimate(entry: Mapping[str, Any]) -> tuple[float, float, float]:
    low, high = entry["ci95"]
    return float(entry["probability"]), float(low), float(high)


def _pair(baseline: RunData, variant: RunData) -> Comparison:
    paired, reason = shares_streams(baseline, variant)
    flags_a = flags_b = None
    if paired:
        flags_a, flags_b = baseline.indicators(), variant.indicators()
        if flags_a is None or flags_b is None:
            paired, reason = False, "a run kept no per-replication results (replications.csv)"
        elif not np.array_equal(flags_a.replication, flags_b.replication):
            paired, reason = False, "the runs hold different replications"
    names_a, names_b = list(baseline.outcomes), list(variant.outcomes)
    common = [name for name in names_a if name in names_b]
    results = []
    for name in common:
        entry_a, entry_b = baseline.outcomes[name], variant.outcomes[name]
        count_a, count_b = int(entry_a["count"]), int(entry_b["count"])
        unpaired = newcombe_unpaired(count_a, baseline.replications, count_b,
                                     variant.replications)
        label = str(entry_a.get("label") or name)
        if (paired and flags_a is not None and flags_b is not None
                and name in flags_a.occurred and name in flags_b.occurred):
            difference, low, high = newcombe_paired(flags_a.occurred[name], flags_b.occurred[name])
            results.append(OutcomeDifference(name, label, _estimate(entry_a), _estimate(entry_b),
                                             difference, low, high, "paired",
                                             (unpaired[1], unpaired[2])))
        else:
            results.append(OutcomeDifference(name, label, _estimate(entry_a), _estimate(entry_b),
                                             *unpaired, "unpaired"))
    method: Method = "paired" if paired else "unpaired"
    return Comparison(baseline.label, variant.label, method, reason, tuple(results),
                      tuple(n for n in names_a if n not in names_b),
                      tuple(n for n in names_b if n not in names_a))


def compare_runs(runs: Sequence[RunData]) -> list[Comparison]:
    """Compare every run after the first with the first (the baseline).

    Raises :class:`UsageError` for fewer than two runs or runs with no outcome in common.
    """
    if len(runs) < 2:
        raise UsageError(f"compare needs at least two runs, found {len(runs)}")
    comparisons = [_pair(runs[0], variant) for variant in runs[1:]]
    for comparison in comparisons:
        if not comparison.outcomes:
            raise UsageError(f"{comparison.baseline} and {comparison.variant} have no outcome "
                             "in common; compare runs of related scenarios")
    return comparisons
