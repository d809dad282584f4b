"""The intervals and tests behind `escalate compare`: Tango's paired interval, Newcombe's, Holm.

Coverage is computed exactly, by summing the multinomial probabilities of
every paired table, so it carries no simulation error.  An approximate
interval's exact coverage oscillates with the parameters; as in Newcombe's
(1998) evaluations, a good one covers at least the nominal 95% on average
over a range of parameters and never falls far below it.  "Far" is set at a
non-coverage of 7%, 1.4 times the nominal 5%: the interval this one replaced
covered 62% to 86% in the sparse cases below.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from escalate.analysis.compare import (
    holm_rejections,
    newcombe_unpaired,
    newcombe_unpaired_p_value,
    tango_paired,
    tango_paired_p_value,
    tango_score,
)
from escalate.montecarlo.stats import Z95

NOMINAL = 0.95
LOWEST_ACCEPTED = 0.93


def _intervals(replications: int, most: int) -> dict[tuple[int, int], tuple[float, float]]:
    """Tango's interval for every table with at most ``most`` discordant replications each way."""
    return {(w, v): tango_paired(w, v, replications)[1:]
            for w in range(most + 1) for v in range(min(most, replications - w) + 1)}


def _exact_coverage(replications: int, baseline_only: float, variant_only: float,
                    intervals: dict[tuple[int, int], tuple[float, float]]) -> float:
    """P(interval holds variant_only - baseline_only), summed over the multinomial tables.

    Tables missing from ``intervals`` count as not covering, so a truncated
    enumeration can only understate the coverage.
    """
    truth = variant_only - baseline_only
    concordant = 1.0 - baseline_only - variant_only
    total = 0.0
    for (w, v), (low, high) in intervals.items():
        if not low <= truth <= high:
            continue
        log_p = (math.lgamma(replications + 1) - math.lgamma(w + 1) - math.lgamma(v + 1)
                 - math.lgamma(replications - w - v + 1))
        for count, p in ((w, baseline_only), (v, variant_only),
                         (replications - w - v, concordant)):
            if count:
                if p == 0:
                    break
                log_p += count * math.log(p)
        else:
            total += math.exp(log_p)
    return total


def _constrained_estimate(baseline_only: int, variant_only: int, replications: int,
                          difference: float) -> float:
    """The maximum-likelihood P(baseline only) given the difference, by ternary search.

    Independent of the closed form in the module: the log-likelihood
    ``w log q + v log(q + d) + (n - v - w) log(1 - 2q - d)`` is concave in ``q``.
    """
    w, v, n, d = baseline_only, variant_only, replications, difference

    def log_likelihood(q: float) -> float:
        total = 0.0
        for count, p in ((w, q), (v, q + d), (n - v - w, 1 - 2 * q - d)):
            if count:
                total += count * math.log(p) if p > 0 else -math.inf
        return total

    low, high = max(0.0, -d), (1 - d) / 2
    for _ in range(200):
        left, right = low + (high - low) / 3, high - (high - low) / 3
        low, high = (left, high) if log_likelihood(left) < log_likelihood(right) else (low, right)
    return (low + high) / 2


def test_no_discordant_replication_gives_the_closed_form_interval() -> None:
    """With b = c = 0 the interval is 0 ± z²/(n + z²): about ±0.0019 for 2,000 replications."""
    difference, low, high = tango_paired(0, 0, 2000)
    half = Z95**2 / (2000 + Z95**2)
    assert difference == 0.0
    assert (low, high) == (pytest.approx(-half, rel=1e-12), pytest.approx(half, rel=1e-12))
    assert half == pytest.approx(0.0019170, abs=1e-7)


def test_all_replications_discordant_one_way_reach_the_boundary_in_closed_form() -> None:
    """With every replication "variant only" the interval is [(n - z²)/(n + z²), 1]."""
    for replications in (5, 40, 1000):
        difference, low, high = tango_paired(0, replications, replications)
        assert (difference, high) == (1.0, 1.0)
        closed = (replications - Z95**2) / (replications + Z95**2)
        assert low == pytest.approx(closed, rel=1e-12)
    assert tango_paired(1, 0, 1) == (-1.0, -1.0, pytest.approx((Z95**2 - 1) / (1 + Z95**2)))


def test_the_score_at_no_difference_is_mcnemars_statistic() -> None:
    """T(0) = (v - w) / sqrt(v + w), so the p-value is McNemar's (uncorrected)."""
    for w, v, n in ((3, 9, 50), (10, 2, 400), (0, 4, 2000), (7, 7, 30)):
        assert tango_score(w, v, n, 0.0) == pytest.approx((v - w) / math.sqrt(v + w))
        assert tango_paired_p_value(w, v) == pytest.approx(
            2 * (1 - NormalDist().cdf(abs(v - w) / math.sqrt(v + w))))
    assert tango_paired_p_value(0, 0) == 1.0


@pytest.mark.parametrize(("w", "v", "n"), [(6, 16, 161), (7, 1, 21), (0, 2, 2000), (30, 45, 90)])
def test_the_bounds_are_where_the_score_with_a_searched_likelihood_reaches_z(
        w: int, v: int, n: int) -> None:
    """The closed-form constrained estimate agrees with a direct likelihood maximisation."""
    _, low, high = tango_paired(w, v, n)
    for bound, target in ((low, Z95), (high, -Z95)):
        q = _constrained_estimate(w, v, n, bound)
        score = (v - w - n * bound) / math.sqrt(n * (2 * q + bound * (1 - bound)))
        assert score == pytest.approx(target, abs=1e-6)


def test_swapping_the_runs_negates_the_interval() -> None:
    """Baseline and variant play symmetric roles: (w, v) -> (v, w) maps [L, U] to [-U, -L]."""
    for n in range(1, 13):
        for w in range(n + 1):
            for v in range(n + 1 - w):
                difference, low, high = tango_paired(w, v, n)
                mirrored = tango_paired(v, w, n)
                assert mirrored == (pytest.approx(-difference, abs=1e-15),
                                    pytest.approx(-high, abs=1e-12),
                                    pytest.approx(-low, abs=1e-12))


def test_the_interval_is_exactly_the_set_the_score_test_accepts() -> None:
    """On a fine grid, d is inside the interval iff |T(d)| <= z (the accepted set is one piece)."""
    grid = np.linspace(-1, 1, 801)
    for n in (1, 2, 5, 9, 14):
        for w in range(n + 1):
            for v in range(n + 1 - w):
                difference, low, high = tango_paired(w, v, n)
                assert low <= difference <= high
                for d in grid:
                    if min(abs(d - low), abs(d - high)) > 1e-9:
                        accepted = abs(tango_score(w, v, n, float(d))) <= Z95
                        assert accepted == (low <= d <= high), (w, v, n, d)


def test_counts_that_are_not_a_paired_table_are_refused() -> None:
    with pytest.raises(ValueError, match="do not fit in 10 replications"):
        tango_paired(6, 5, 10)
    with pytest.raises(ValueError, match=r"-1 \(variant only\)"):
        tango_paired(0, -1, 10)


def test_coverage_with_few_discordant_replications_is_at_least_nominal() -> None:
    """Common random numbers with a small change: 0.25 to 20 expected discordant replications.

    Exact coverage at n = 2,000, discordant one way, evenly both ways, and 1:3.
    """
    n, most = 2000, 60  # P(more than 60 discordant | at most 20 expected) < 1e-12
    intervals = _intervals(n, most)
    expected = np.arange(0.25, 20.01, 0.25)
    for share in (1.0, 0.5, 0.75):
        coverage = np.array([_exact_coverage(n, (1 - share) * e / n, share * e / n, intervals)
                             for e in expected])
        assert coverage.mean() >= NOMINAL, share
        assert coverage.min() >= LOWEST_ACCEPTED, share


def test_coverage_of_ordinary_tables_is_at_least_nominal() -> None:
    """Exact coverage at n = 40 over a grid of discordant probabilities from 0.025 to 0.475."""
    n = 40
    intervals = _intervals(n, n)
    steps = np.arange(0.025, 0.5, 0.05)
    cells = [(a, b) for a in steps for b in steps if a + b <= 0.95]
    coverage = np.array([_exact_coverage(n, a, b, intervals) for a, b in cells])
    assert coverage.mean() >= NOMINAL
    assert coverage.min() >= LOWEST_ACCEPTED


def test_the_paired_p_value_is_below_alpha_exactly_when_that_interval_excludes_zero() -> None:
    for w, v, n in ((0, 6, 2000), (3, 12, 500), (20, 9, 100), (0, 1, 50)):
        p_value = tango_paired_p_value(w, v)
        for level in (0.9 * p_value, 1.1 * p_value):
            z = NormalDist().inv_cdf(1 - level / 2)
            _, low, high = tango_paired(w, v, n, z)
            assert (low > 0 or high < 0) == (p_value < level), (w, v, level)


def test_the_unpaired_p_value_is_the_level_at_which_the_interval_touches_zero() -> None:
    for counts in ((48, 80, 56, 70), (10, 100, 4, 100), (300, 1000, 330, 1000)):
        p_value = newcombe_unpaired_p_value(*counts)
        _, low, high = newcombe_unpaired(*counts, z=NormalDist().inv_cdf(1 - p_value / 2))
        assert min(abs(low), abs(high)) == pytest.approx(0.0, abs=1e-9)
    assert newcombe_unpaired_p_value(5, 100, 5, 100) == 1.0


def test_holm_rejects_step_down_until_the_first_p_value_above_its_threshold() -> None:
    """Sorted: 0.005 <= 0.05/4, 0.01 <= 0.05/3, 0.03 > 0.05/2 stops (0.04 is kept too)."""
    assert holm_rejections([0.01, 0.04, 0.03, 0.005]) == [True, False, False, True]
    assert holm_rejections([0.02]) == [True]
    assert holm_rejections([0.02, 0.9]) == [True, False]
    assert holm_rejections([0.02, 0.04]) == [True, True]  # the last threshold is 0.05 itself
    assert holm_rejections([]) == []
