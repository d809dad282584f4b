"""Words of estimative probability (ICD 203) for the probabilities a report shows.

The bands of Intelligence Community Directive 203::

    almost no chance       1-5%      very unlikely     5-20%
    unlikely               20-45%    roughly even chance  45-55%
    likely                 55-80%    very likely       80-95%
    almost certain         95-99%

The directive leaves the ends open; here anything below 5% is "almost no
chance" and anything above 95% "almost certain".  Bands are closed towards
the middle, so 45% and 55% are "roughly even chance", 20% is "unlikely" and
80% is "likely": a boundary value takes the more guarded word.
"""

from __future__ import annotations

import math

__all__ = ["BANDS", "estimative_phrase", "estimative_range"]

#: (upper bound, phrase) from the lowest band up; the last band has no upper bound.
BANDS: tuple[tuple[float, str], ...] = (
    (0.05, "almost no chance"),
    (0.20, "very unlikely"),
    (0.45, "unlikely"),
    (0.55, "roughly even chance"),
    (0.80, "likely"),
    (0.95, "very likely"),
    (math.inf, "almost certain"),
)


def _band(probability: float) -> int:
    if math.isnan(probability) or not 0.0 <= probability <= 1.0:
        raise ValueError(f"a probability must be in [0, 1], found {probability!r}")
    if probability < 0.45:
        # Below the middle, a boundary value belongs to the band above (20% is "unlikely").
        return next(i for i, (upper, _) in enumerate(BANDS) if probability < upper)
    if probability <= 0.55:
        return 3
    # Above the middle, a boundary value belongs to the band below (80% is "likely").
    return next(i for i, (upper, _) in enumerate(BANDS) if probability <= upper)


def estimative_phrase(probability: float) -> str:
    """Return the ICD 203 phrase for a probability; raises ValueError outside [0, 1]."""
    return BANDS[_band(probability)][1]


def estimative_range(low: float, high: float) -> str:
    """Return the phrase for an interval: one phrase, or "X to Y" when it spans several bands."""
    first, last = _band(low), _band(high)
    if first == last:
        return BANDS[first][1]
    return f"{BANDS[first][1]} to {BANDS[last][1]}"
