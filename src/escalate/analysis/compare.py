"""Comparing runs outcome by outcome: each probability, their difference and its 95% interval.

Runs that share random streams (same seed, engine and replication indices,
both with or both without drawn parameters) are compared on paired
replications: common random numbers make the difference far more precise
than the two intervals suggest.  The paired interval is Tango's score
interval for the difference of paired proportions (Tango 1998, Statistics
in Medicine 17, "Equivalence test and confidence interval for the difference
in proportions for the paired-sample design"), which depends only on the
discordant replications and keeps its coverage when they are few, as they
are when a variant changes one probability slightly.  Otherwise the runs are
treated as independent samples, with Newcombe's hybrid score interval built
from the Wilson intervals of the two proportions (Newcombe 1998, Statistics
in Medicine 17, "Interval estimation for the difference between independent
proportions", method 10).  Treated so, runs that share some random streams
without being paired get a conservative interval when the common random
numbers correlate them positively, as they usually do.

Each difference also has the two-sided p-value of the test its interval
inverts.  An outcome counts as *changed* when Holm's step-down procedure
over every outcome of every variant rejects "no difference" at a
family-wise error rate of :data:`FAMILY_ERROR`: the chance that any
difference of models that behave the same is called a change is at most
about 5% (the tests are asymptotic), however many outcomes and variants are
compared.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import UsageError
from ..montecarlo.stats import Z95, wilson_interval
from ..results.formats import REPLICATIONS
from ..results.rundir import RunData

__all__ = [
    "FAMILY_ERROR",
    "Comparison",
    "OutcomeDifference",
    "compare_runs",
    "discordant_counts",
    "holm_rejections",
    "newcombe_unpaired",
    "newcombe_unpaired_p_value",
    "pairing_gain",
    "shares_streams",
    "stream_relation",
    "tango_paired",
    "tango_paired_p_value",
    "tango_score",
]

Method = Literal["paired", "unpaired"]
#: how the unpaired runs relate: "independent" (different seeds or disjoint replications),
#: "shared" (they share random streams, so treating them as independent is conservative
#: when the common random numbers correlate them positively), "unknown" (otherwise)
Relation = Literal["paired", "independent", "shared", "unknown"]

#: family-wise error rate of the "changed" verdicts over all outcomes and variants compared
FAMILY_ERROR = 0.05

#: bisection steps: enough to reach adjacent floating-point numbers on [-1, 1] or [0, 40]
_HALVINGS = 200


def newcombe_unpaired(successes_a: int, trials_a: int, successes_b: int, trials_b: int,
                      z: float = Z95) -> tuple[float, float, float]:
    """Difference ``p_b - p_a`` of independent proportions with its hybrid score interval.

    The interval is 95% by default (``z`` is the standard normal quantile).
    """
    difference = successes_b / trials_b - successes_a / trials_a
    below_a, above_a = _wilson_margins(successes_a, trials_a, z)
    below_b, above_b = _wilson_margins(successes_b, trials_b, z)
    below = math.sqrt(below_b**2 + above_a**2)
    above = math.sqrt(above_b**2 + below_a**2)
    return difference, max(-1.0, difference - below), min(1.0, difference + above)


def _wilson_margins(successes: int, trials: int, z: float) -> tuple[float, float]:
    """How far the Wilson interval reaches below and above the proportion."""
    low, high = wilson_interval(successes, trials, z)
    proportion = successes / trials
    return proportion - low, high - proportion


def newcombe_unpaired_p_value(successes_a: int, trials_a: int, successes_b: int,
                              trials_b: int) -> float:
    """Two-sided p-value of no difference, from the intervals of :func:`newcombe_unpaired`.

    It is the smallest ``alpha`` at which the ``1 - alpha`` interval excludes zero
    (the intervals widen with their level), so a p-value below ``alpha`` and an
    interval at that level that excludes zero say the same thing.
    """
    difference = successes_b / trials_b - successes_a / trials_a
    if difference == 0:
        return 1.0

    def distance(z: float) -> float:  # how far the interval at this z reaches towards zero
        below_b, above_b = _wilson_margins(successes_b, trials_b, z)
        below_a, above_a = _wilson_margins(successes_a, trials_a, z)
        if difference > 0:
            return math.sqrt(below_b**2 + above_a**2)
        return math.sqrt(above_b**2 + below_a**2)

    # 0 at z = 0; past 1 (|difference| at most) before z = 40, where the p-value underflows.
    low, high = 0.0, 40.0
    if distance(high) < abs(difference):
        return 0.0
    for _ in range(_HALVINGS):
        middle = (low + high) / 2
        low, high = (middle, high) if distance(middle) < abs(difference) else (low, middle)
    return math.erfc(high / math.sqrt(2))


def discordant_counts(baseline: np.ndarray, variant: np.ndarray) -> tuple[int, int, int]:
    """Replications where only the baseline, only the variant had the outcome, and their number.

    ``baseline`` and ``variant`` are boolean arrays over the same replications.
    Raises :class:`UsageError` if their shapes differ or they are empty.
    """
    if baseline.shape != variant.shape or baseline.size == 0:
        raise UsageError("paired outcomes need two arrays of the same, non-zero length, found "
                         f"shapes {baseline.shape} and {variant.shape}")
    return (int(np.count_nonzero(baseline & ~variant)),
            int(np.count_nonzero(~baseline & variant)), int(baseline.size))


def tango_score(baseline_only: int, variant_only: int, replications: int,
                difference: float) -> float:
    """Tango's score statistic for the paired difference ``p_variant - p_baseline`` = ``d``.

    ``T = (variant_only - baseline_only - n d) / sqrt(n (2 q + d (1 - d)))`` with
    ``q`` the maximum-likelihood probability of "baseline only" when the
    difference is ``d`` (Tango 1998): the larger root of
    ``2n q^2 + (-v - w + (2n - v + w) d) q - w d (1 - d) = 0`` (``v`` and ``w``
    the variant-only and baseline-only counts).  Standard normal when the
    difference is ``d``; it decreases as ``d`` grows.
    """
    n, v, w, d = replications, variant_only, baseline_only, difference
    a = 2.0 * n
    b = -v - w + (2.0 * n - v + w) * d
    c = -w * d * (1.0 - d)
    root = math.sqrt(max(0.0, b * b - 4.0 * a * c))
    # The larger root, written so that neither form subtracts nearly equal numbers.
    q = (root - b) / (2.0 * a) if b <= 0 else -2.0 * c / (b + root)
    numerator = v - w - n * d
    variance = n * (2.0 * q + d * (1.0 - d))
    if variance <= 0:  # only at d = -1 or 1, where the observed counts are all or nothing
        return 0.0 if numerator == 0 else math.copysign(math.inf, numerator)
    return numerator / math.sqrt(variance)


def tango_paired(baseline_only: int, variant_only: int, replications: int,
                 z: float = Z95) -> tuple[float, float, float]:
    """Difference ``p_variant - p_baseline`` of paired proportions with Tango's score interval.

    The interval holds every ``d`` with ``|tango_score(..., d)| <= z`` (95% by
    default), found by bisection on each side of the estimate.  Unlike
    intervals built from the two margins, it stays honest when few
    replications are discordant: with none, it is ``0 ± z^2 / (n + z^2)``.
    Raises :class:`UsageError` for counts that are not a paired table.
    """
    if not 0 <= baseline_only <= replications - variant_only or variant_only < 0:
        raise UsageError(f"discordant counts {baseline_only} (baseline only) and {variant_only} "
                         f"(variant only) do not fit in {replications} replications")
    difference = (variant_only - baseline_only) / replications

    def accepted(d: float) -> bool:
        return abs(tango_score(baseline_only, variant_only, replications, d)) <= z

    def bound(inside: float, outside: float) -> float:
        """The edge of the interval between an accepted ``inside`` and ``outside``."""
        if accepted(outside):
            return outside
        for _ in range(_HALVINGS):
            middle = (inside + outside) / 2
            if middle in (inside, outside):  # as close as floating point gets
                break
            inside, outside = (middle, outside) if accepted(middle) else (inside, middle)
        return inside

    return difference, bound(difference, -1.0), bound(difference, 1.0)


def tango_paired_p_value(baseline_only: int, variant_only: int) -> float:
    """Two-sided p-value of no difference, from the test :func:`tango_paired` inverts.

    At a zero difference Tango's score is McNemar's ``(v - w) / sqrt(v + w)``;
    its p-value is below ``alpha`` exactly when the ``1 - alpha`` interval
    excludes zero.  It is 1 when no replication is discordant.
    """
    discordant = baseline_only + variant_only
    if discordant == 0:
        return 1.0
    return math.erfc(abs(variant_only - baseline_only) / math.sqrt(2.0 * discordant))


def stream_relation(a: RunData, b: RunData) -> tuple[Relation, str]:
    """How the random streams of two runs relate, and why they cannot be paired ("" if they can).

    Runs pair when they used the same seed, engine (the reference and batch
    engines draw differently), replication range and treatment of uncertain
    parameters.  Runs on one seed, engine and treatment whose ranges overlap
    share the streams of the common replications ("shared"); runs on
    different seeds, or on disjoint ranges, are "independent"; the others
    (a seed or engine not recorded, different engines, parameters drawn in
    one run only) are "unknown".
    """
    if a.seed is None or b.seed is None:
        return "unknown", "a run does not record its seed"
    if a.seed != b.seed:
        return "independent", f"different seeds ({a.seed} and {b.seed})"
    engine_a, engine_b = a.engine, b.engine
    if engine_a is None or engine_b is None:
        return "unknown", "a run does not record its engine"
    if engine_a != engine_b:
        return "unknown", f"different engines ({engine_a} and {engine_b})"
    if a.uncertainty != b.uncertainty:
        return "unknown", "one run drew uncertain parameters and the other did not"
    ranges = [(run.first_replication, run.first_replication + run.replications)
              for run in (a, b)]
    if ranges[0] != ranges[1]:
        overlap = max(start for start, _ in ranges) < min(stop for _, stop in ranges)
        shown = " and ".join(f"{start}–{stop - 1}" for start, stop in ranges)
        return ("shared" if overlap else "independent"), f"different replication ranges ({shown})"
    return "paired", ""


def shares_streams(a: RunData, b: RunData) -> tuple[bool, str]:
    """Whether two runs used the same random streams replication by replication, and why not."""
    relation, reason = stream_relation(a, b)
    return relation == "paired", reason


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
    #: two-sided p-value of no difference, from the test the interval inverts
    p_value: float
    #: the unpaired interval too, when the paired one was used (to show what pairing gained)
    unpaired: tuple[float, float] | None = None
    #: whether Holm's procedure over all outcomes and variants compared calls it a change
    changed: bool = False

    @property
    def distinguishable(self) -> bool:
        """Whether the 95% interval of the difference excludes zero (no multiplicity control)."""
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
    #: how the runs' random streams relate ("paired" when paired)
    relation: Relation = "paired"
    #: how many differences, over all variants, the "changed" verdicts were controlled over
    family: int = 0

    @property
    def changed(self) -> tuple[OutcomeDifference, ...]:
        """Outcomes called changed at a family-wise error rate of :data:`FAMILY_ERROR`."""
        return tuple(o for o in self.outcomes if o.changed)


def pairing_gain(comparison: Comparison) -> tuple[float, float] | None:
    """How much narrower, in percent, the paired intervals are than the unpaired ones.

    Returns the least and the most narrowing over the outcomes compared on
    paired replications (negative where a paired interval is wider), or None
    when no outcome has both intervals.
    """
    ratios = [(o.high - o.low) / (o.unpaired[1] - o.unpaired[0]) for o in comparison.outcomes
              if o.unpaired is not None and o.unpaired[1] > o.unpaired[0]]
    if not ratios:
        return None
    return 100 * (1 - max(ratios)), 100 * (1 - min(ratios))


def holm_rejections(p_values: Sequence[float], family_error: float = FAMILY_ERROR) -> list[bool]:
    """Which hypotheses Holm's step-down procedure rejects at family-wise error ``family_error``.

    The ``k``-th smallest p-value (from 0) is rejected while every p-value up to
    it is at most ``family_error / (m - k)``; valid whatever the dependence
    between the tests (Holm 1979).
    """
    m = len(p_values)
    rejected = [False] * m
    for rank, index in enumerate(sorted(range(m), key=lambda i: p_values[i])):
        if p_values[index] > family_error / (m - rank):
            break
        rejected[index] = True
    return rejected


def _estimate(entry: Mapping[str, Any]) -> tuple[float, float, float]:
    low, high = entry["ci95"]
    return float(entry["probability"]), float(low), float(high)


def _pair(baseline: RunData, variant: RunData) -> Comparison:
    relation, reason = stream_relation(baseline, variant)
    flags_a = flags_b = None
    if relation == "paired":
        flags_a, flags_b = baseline.indicators(), variant.indicators()
        if flags_a is None or flags_b is None:
            relation, reason = "shared", ("a run kept no per-replication results "
                                          f"({REPLICATIONS})")
            flags_a = flags_b = None
        elif not np.array_equal(flags_a.replication, flags_b.replication):
            relation, reason = "shared", "the runs hold different replications"
            flags_a = flags_b = None
    names_a, names_b = list(baseline.outcomes), list(variant.outcomes)
    common = [name for name in names_a if name in names_b]
    results = []
    for name in common:
        entry_a, entry_b = baseline.outcomes[name], variant.outcomes[name]
        count_a, count_b = int(entry_a["count"]), int(entry_b["count"])
        counts = (count_a, baseline.replications, count_b, variant.replications)
        unpaired = newcombe_unpaired(*counts)
        label = str(entry_a.get("label") or name)
        estimates = (name, label, _estimate(entry_a), _estimate(entry_b))
        if (flags_a is not None and flags_b is not None
                and name in flags_a.occurred and name in flags_b.occurred):
            baseline_only, variant_only, replications = discordant_counts(
                flags_a.occurred[name], flags_b.occurred[name])
            results.append(OutcomeDifference(
                *estimates, *tango_paired(baseline_only, variant_only, replications), "paired",
                tango_paired_p_value(baseline_only, variant_only), (unpaired[1], unpaired[2])))
        else:
            results.append(OutcomeDifference(*estimates, *unpaired, "unpaired",
                                             newcombe_unpaired_p_value(*counts)))
    method: Method = "paired" if relation == "paired" else "unpaired"
    return Comparison(baseline.label, variant.label, method, reason, tuple(results),
                      tuple(n for n in names_a if n not in names_b),
                      tuple(n for n in names_b if n not in names_a), relation)


def compare_runs(runs: Sequence[RunData]) -> list[Comparison]:
    """Compare every run after the first with the first (the baseline).

    Each difference is called changed or not by Holm's procedure over all the
    differences of all the variants (see the module docstring).  Raises
    :class:`UsageError` for fewer than two runs or runs with no outcome in common.
    """
    if len(runs) < 2:
        raise UsageError(f"compare needs at least two runs, found {len(runs)}")
    comparisons = [_pair(runs[0], variant) for variant in runs[1:]]
    for comparison in comparisons:
        if not comparison.outcomes:
            raise UsageError(f"{comparison.baseline} and {comparison.variant} have no outcome "
                             "in common; compare runs of related scenarios")
    rejected = iter(holm_rejections([o.p_value for c in comparisons for o in c.outcomes]))
    family = sum(len(c.outcomes) for c in comparisons)
    return [dataclasses.replace(c, family=family, outcomes=tuple(
        dataclasses.replace(o, changed=next(rejected)) for o in c.outcomes))
        for c in comparisons]
