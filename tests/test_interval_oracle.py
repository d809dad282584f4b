"""The hand-written interval formulas agree with independent implementations of them.

Wilson's interval, Newcombe's hybrid score interval for independent
proportions and Holm's step-down procedure are checked against statsmodels.
statsmodels has no score interval for paired proportions (0.15 has no paired
interval of a difference at all; later versions add Newcombe's and Wald's),
so Tango's interval is checked against one written here from the definition:
the constrained maximum-likelihood estimate found by scipy's root finder on
the derivative of the log-likelihood (not from the quadratic the module
solves), the score standardised by the multinomial variance of ``v - w``, and
the bounds found by scipy's root finder on that score; and against the worked
example published with R's contingencytables package (Fagerland, Lydersen and
Laake, *Statistical Analysis of Contingency Tables*, 2017, chapter 8).

Tolerances.  Both sides of the Wilson and Newcombe checks are closed forms of
a few dozen floating-point operations on numbers of order one: they agree to
``1e-9`` relative, or to ``1e-14`` absolute (some fifty units in the last
place of 1) where a bound is near zero and its relative digits are lost to
cancellation (at zero successes statsmodels leaves ``2.8e-17`` where the
project puts 0 exactly).  The Tango oracle is iterative: its bounds are found
to ``xtol = 1e-14``, and its score differs from the module's by the rounding
of the constrained estimate (up to about ``1e-11`` relative next to the edge
of the parameter space), which moves a bound by that much over the score's
slope (above 1.9 at every bound tested); hence ``1e-12`` absolute on the
bounds and ``1e-9`` relative on the scores.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterator
from statistics import NormalDist

import numpy as np
import pytest
from scipy.optimize import brentq
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from escalate.analysis.compare import (
    holm_rejections,
    newcombe_unpaired,
    newcombe_unpaired_p_value,
    tango_paired,
    tango_paired_p_value,
    tango_score,
)
from escalate.montecarlo.stats import Z95, wilson_interval

CLOSED_FORM = {"rel": 1e-9, "abs": 1e-14}
ROOT_XTOL = 1e-14
TANGO_BOUND = {"rel": 0.0, "abs": 1e-12}
TANGO_SCORE = {"rel": 1e-9, "abs": 1e-12}

#: 90%, 95% and 99% intervals
LEVELS = [0.10, 0.05, 0.01]
#: small trials in full, then larger ones at their edges and middle
TRIALS = [*range(1, 21), 50, 99, 100, 1000, 10**6]


def _z(alpha: float) -> float:
    return NormalDist().inv_cdf(1 - alpha / 2)


def _successes(trials: int) -> list[int]:
    """Every count for small ``trials``; else 0, 1, 2, a third, half, n - 2, n - 1 and n."""
    if trials <= 20:
        return list(range(trials + 1))
    return sorted({0, 1, 2, trials // 3, trials // 2, trials - 2, trials - 1, trials})


@pytest.mark.parametrize("alpha", LEVELS)
def test_wilson_matches_statsmodels(alpha: float) -> None:
    """Wilson's interval equals statsmodels' for every count, 0 and n included."""
    cases = [(successes, trials) for trials in TRIALS for successes in _successes(trials)]
    successes, trials = (np.array(column) for column in zip(*cases, strict=True))
    theirs_low, theirs_high = proportion_confint(successes, trials, alpha=alpha, method="wilson")
    for case, low, high in zip(cases, theirs_low, theirs_high, strict=True):
        ours = wilson_interval(*case, _z(alpha))
        assert ours == pytest.approx((float(low), float(high)), **CLOSED_FORM), case


@pytest.mark.parametrize("alpha", LEVELS)
def test_newcombe_unpaired_matches_statsmodels(alpha: float) -> None:
    """Newcombe's difference and interval equal statsmodels' ``newcomb`` over a grid of tables.

    The module's difference is ``p_b - p_a``; statsmodels' is ``p1 - p2``, so b goes first.
    """
    sizes = [1, 2, 3, 5, 8, 13, 20, 100, 1000]
    cases = [(successes_a, trials_a, successes_b, trials_b)
             for trials_a in sizes for successes_a in _successes(trials_a)
             for trials_b in sizes for successes_b in _successes(trials_b)]
    successes_a, trials_a, successes_b, trials_b = (np.array(column)
                                                    for column in zip(*cases, strict=True))
    theirs_low, theirs_high = confint_proportions_2indep(
        successes_b, trials_b, successes_a, trials_a, method="newcomb", compare="diff",
        alpha=alpha)
    for case, low, high in zip(cases, theirs_low, theirs_high, strict=True):
        difference, *ours = newcombe_unpaired(*case, _z(alpha))
        assert difference == pytest.approx(case[2] / case[3] - case[0] / case[1],
                                           **CLOSED_FORM), case
        assert ours == pytest.approx([float(low), float(high)], **CLOSED_FORM), case


def test_the_newcombe_p_value_is_the_level_whose_statsmodels_interval_touches_zero() -> None:
    """At ``alpha`` equal to the p-value, statsmodels' interval has a bound at zero."""
    sizes = [3, 10, 40, 200]
    for trials_a in sizes:
        for trials_b in sizes:
            for successes_a in _successes(trials_a):
                for successes_b in _successes(trials_b):
                    difference = successes_b / trials_b - successes_a / trials_a
                    p_value = newcombe_unpaired_p_value(successes_a, trials_a, successes_b,
                                                        trials_b)
                    if difference == 0:
                        assert p_value == 1.0
                        continue
                    if p_value < 1e-12:  # the interval at that level is not worth comparing
                        continue
                    low, high = confint_proportions_2indep(
                        successes_b, trials_b, successes_a, trials_a, method="newcomb",
                        compare="diff", alpha=p_value)
                    nearest = float(low) if difference > 0 else float(high)
                    # The p-value is bisected to adjacent floats of z; the bound then moves
                    # by the interval's slope in alpha times that, well inside 1e-9.
                    assert nearest == pytest.approx(0.0, abs=1e-9), (
                        successes_a, trials_a, successes_b, trials_b, p_value)


def _holm_cases() -> list[list[float]]:
    """P-value families: random, tiny, ties, exactly at Holm's thresholds, 0 and 1."""
    generator = np.random.default_rng(1979)
    cases: list[list[float]] = [[0.0], [1.0], [0.05], [0.0500001], [0.0, 1.0, 0.5],
                                [0.01, 0.01, 0.01, 0.01], [0.0125, 0.0125, 0.0125, 0.0125],
                                [0.0125, 0.0125, 0.0125, 0.0126]]
    for size in range(1, 13):
        cases.append([0.05 / (size - rank) for rank in range(size)])  # each on its threshold
        for _ in range(40):
            values = generator.uniform(size=size) ** generator.choice([1, 3, 8])
            ties = generator.integers(0, size, size=size // 3)
            values[ties] = values[0]
            cases.append(values.tolist())
    return cases


@pytest.fixture
def frozen_garbage() -> Iterator[None]:
    """Exempt the objects alive now from garbage collection for the test.

    statsmodels' Holm calls ``gc.collect()`` each time, which costs a tenth of a
    second with the test session's objects to scan and nothing with them frozen.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@pytest.mark.usefixtures("frozen_garbage")
@pytest.mark.parametrize("family_error", [0.01, 0.05, 0.1])
def test_holm_rejects_what_statsmodels_rejects(family_error: float) -> None:
    """Holm's rejections equal statsmodels' ``holm`` on every family, ties and thresholds included."""
    for p_values in _holm_cases():
        theirs = multipletests(p_values, alpha=family_error, method="holm")[0]
        assert holm_rejections(p_values, family_error) == theirs.tolist(), p_values


def _constrained_baseline_only(baseline_only: int, variant_only: int, replications: int,
                               difference: float) -> float:
    """The maximum-likelihood P(baseline only) given the difference, by scipy's ``brentq``.

    The log-likelihood ``w log q + v log(q + d) + c log(1 - 2q - d)`` (``c`` the
    concordant count) is concave in ``q`` on ``[max(0, -d), (1 - d) / 2]``, so
    its maximum is the root of the derivative, or the end where the
    derivative already points.
    """
    w, v, d = baseline_only, variant_only, difference
    concordant = replications - v - w
    low, high = max(0.0, -d), (1.0 - d) / 2
    if high <= low:  # d = -1 or 1: a single point
        return low

    def slope(q: float) -> float:
        total = 0.0
        for count, probability, weight in ((w, q, 1), (v, q + d, 1), (concordant, 1 - 2 * q - d, -2)):
            if count:
                if probability <= 0:  # the log-likelihood falls to -inf here
                    return weight * 1e300
                total += weight * count / probability
        return total

    if slope(low) <= 0:
        return low
    if slope(high) >= 0:
        return high
    return float(brentq(slope, low, high, xtol=1e-16, maxiter=1000))


def _oracle_score(baseline_only: int, variant_only: int, replications: int,
                  difference: float) -> float:
    """Tango's score: ``v - w - n d`` over its standard deviation under the constrained fit."""
    q = _constrained_baseline_only(baseline_only, variant_only, replications, difference)
    # v - w counts +1, -1 and 0 with probabilities q + d, q and the rest: its variance.
    variance = replications * ((q + difference) + q - difference**2)
    excess = variant_only - baseline_only - replications * difference
    if variance <= 0:
        return 0.0 if excess == 0 else math.copysign(math.inf, excess)
    return excess / math.sqrt(variance)


def _oracle_tango(baseline_only: int, variant_only: int, replications: int,
                  z: float = Z95) -> tuple[float, float, float]:
    """Tango's interval: where the oracle score crosses ``z`` and ``-z``, by ``brentq``."""
    estimate = (variant_only - baseline_only) / replications

    def score(d: float) -> float:
        return _oracle_score(baseline_only, variant_only, replications, d)

    # The score decreases in d and is 0 at the estimate.
    low = -1.0 if score(-1.0) <= z else float(
        brentq(lambda d: score(d) - z, -1.0, estimate, xtol=ROOT_XTOL))
    high = 1.0 if score(1.0) >= -z else float(
        brentq(lambda d: score(d) + z, estimate, 1.0, xtol=ROOT_XTOL))
    return estimate, low, high


def _paired_tables(replications: int) -> list[tuple[int, int]]:
    """(baseline only, variant only) for every table of small ``replications``, else a sample."""
    if replications <= 12:
        return [(w, v) for w in range(replications + 1) for v in range(replications + 1 - w)]
    counts = sorted({0, 1, 2, 3, 5, replications // 4, replications // 2,
                     replications - 1, replications})
    return [(w, v) for w in counts for v in counts if w + v <= replications]


@pytest.mark.parametrize("replications", [*range(1, 13), 20, 50, 161, 1000])
def test_tango_paired_matches_the_score_inverted_by_scipy(replications: int) -> None:
    """Tango's interval equals the inverted score test, none, one-way and all discordant included."""
    for baseline_only, variant_only in _paired_tables(replications):
        ours = tango_paired(baseline_only, variant_only, replications)
        theirs = _oracle_tango(baseline_only, variant_only, replications)
        table = (baseline_only, variant_only, replications)
        assert ours[0] == theirs[0], table
        assert ours[1:] == pytest.approx(theirs[1:], **TANGO_BOUND), table


@pytest.mark.parametrize("alpha", [0.10, 0.01])
def test_tango_paired_matches_the_oracle_at_other_levels(alpha: float) -> None:
    """The 90% and 99% intervals equal the oracle's too."""
    for replications in (7, 40):
        for baseline_only, variant_only in _paired_tables(replications):
            ours = tango_paired(baseline_only, variant_only, replications, _z(alpha))
            theirs = _oracle_tango(baseline_only, variant_only, replications, _z(alpha))
            assert ours[1:] == pytest.approx(theirs[1:], **TANGO_BOUND), (
                baseline_only, variant_only, replications)


def test_tango_score_matches_the_oracle_score() -> None:
    """Tango's statistic equals the oracle's at differences across (-1, 1)."""
    differences = [-0.999, -0.6, -0.25, -0.01, 0.0, 0.01, 0.25, 0.6, 0.999]
    for replications in (1, 4, 25, 161):
        for baseline_only, variant_only in _paired_tables(min(replications, 12)):
            for difference in differences:
                ours = tango_score(baseline_only, variant_only, replications, difference)
                theirs = _oracle_score(baseline_only, variant_only, replications, difference)
                assert ours == pytest.approx(theirs, **TANGO_SCORE), (
                    baseline_only, variant_only, replications, difference)


def test_tango_paired_reproduces_the_published_example() -> None:
    """Cavo et al. (2012) in Fagerland et al.: -0.0621 (95% CI -0.1240 to -0.0054).

    The table is [[59, 6], [16, 80]]: 6 replications have the outcome in the
    first classification only and 16 in the second only, of 161; the book's
    difference is first minus second, so the first is the "variant" here.
    """
    estimate, low, high = tango_paired(baseline_only=16, variant_only=6, replications=161)
    # Printed to four decimals: half a unit in the last place.
    assert (estimate, low, high) == pytest.approx((-0.0621, -0.1240, -0.0054), abs=5e-5)


def test_the_tango_p_value_matches_statsmodels_mcnemar() -> None:
    """At no difference Tango's test is McNemar's without continuity correction."""
    for replications in (1, 5, 12, 200):
        for baseline_only, variant_only in _paired_tables(replications):
            ours = tango_paired_p_value(baseline_only, variant_only)
            if baseline_only + variant_only == 0:
                assert ours == 1.0  # statsmodels leaves 0 / 0 undefined here
                continue
            table = [[0, variant_only], [baseline_only, replications - baseline_only - variant_only]]
            theirs = mcnemar(table, exact=False, correction=False).pvalue
            assert ours == pytest.approx(float(theirs), rel=1e-9, abs=1e-300), table
