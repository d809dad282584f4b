"""How numbers, intervals, times and parameter specs are written in reports."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["date_after", "day_and_date", "percent", "percent_interval", "points", "spec_text"]


def percent(probability: float | None, digits: int = 1) -> str:
    """``12.3%``; tiny non-zero values keep two significant digits instead of showing 0.0%."""
    if probability is None or (isinstance(probability, float) and math.isnan(probability)):
        return "–"
    value = 100 * probability
    if 0 < abs(value) < 10 ** -digits:
        return f"{value:.2g}%"
    return f"{value:.{digits}f}%"


def percent_interval(interval: Sequence[float] | None) -> str:
    if not interval or any(v is None or math.isnan(v) for v in interval):
        return "–"
    low, high = interval
    return f"{percent(low)} – {percent(high)}"


def points(difference: float, digits: int = 1) -> str:
    """A difference of probabilities in percentage points, signed: ``+3.2 pp``."""
    if math.isnan(difference):
        return "–"
    return f"{100 * difference:+.{digits}f} pp"


def date_after(start: dt.date | str | None, days: float | None) -> str | None:
    """The calendar date ``days`` after ``start`` (day d falls on start + floor(d))."""
    if start is None or days is None or math.isnan(days):
        return None
    if isinstance(start, str):
        start = dt.date.fromisoformat(start)
    return (start + dt.timedelta(days=math.floor(days))).isoformat()


def day_and_date(days: float | None, start: dt.date | str | None) -> str:
    """``day 12.5 (2024-11-29)``, or a dash when there is no time."""
    if days is None or math.isnan(days):
        return "–"
    date = date_after(start, days)
    return f"day {days:.1f}" + (f" ({date})" if date else "")


def spec_text(value: Any) -> str:
    """A parameter's value or distribution as written in a scenario, compactly."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, Mapping):
        if len(value) == 1:
            (kind, args), = value.items()
            return f"{kind}({spec_text(args)[1:-1] if isinstance(args, list | tuple) else spec_text(args)})"
        return ", ".join(f"{k}={spec_text(v)}" for k, v in value.items() if v is not None)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(spec_text(v) for v in value) + "]"
    return str(value)
