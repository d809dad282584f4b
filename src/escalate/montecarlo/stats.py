"""Interval estimates for proportions and quantiles from histograms."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Z95", "histogram_quantile", "wilson_interval"]

Z95 = 1.959963984540054


def wilson_interval(successes: int, trials: int, z: float = Z95) -> tuple[float, float]:
    """Return the Wilson score interval for a binomial proportion (95% by default)."""
    if trials <= 0:
        return (0.0, 1.0)
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    # With no successes (or no failures) the bound is exactly 0 (or 1); computed, it can
    # round to just inside and leave the estimate itself outside the interval.
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= trials else min(1.0, centre + half)
    return (low, high)


def histogram_quantile(counts: np.ndarray, width: float, q: float,
                       lows: np.ndarray | None = None, highs: np.ndarray | None = None) -> float:
    """Return the ``q`` quantile of values binned in ``counts`` (bins of ``width`` from 0).

    Interpolates linearly inside the bin that holds the quantile, between the
    smallest and largest value seen in that bin when ``lows``/``highs`` are
    given (so a quantile of values that are all equal is exact), else between
    the bin's edges.  NaN when there are no values.
    """
    total = int(counts.sum())
    if total == 0:
        return math.nan
    target = q * total
    cumulative = np.cumsum(counts)
    k = int(np.searchsorted(cumulative, target, side="left"))
    k = min(k, len(counts) - 1)
    below = int(cumulative[k - 1]) if k > 0 else 0
    inside = int(counts[k])
    fraction = (target - below) / inside if inside else 0.0
    if lows is not None and highs is not None and inside:
        low, high = float(lows[k]), float(highs[k])
        return low + fraction * (high - low)
    return (k + fraction) * width
