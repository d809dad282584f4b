"""Durations, dates and percentages as scenario files write them."""

from __future__ import annotations

import datetime as dt
import math
import re

__all__ = ["DURATION_UNITS", "looks_like_quantity", "parse_duration", "parse_percent", "to_days"]

#: unit word -> length in days; units are written in lower case, exactly as here
DURATION_UNITS: dict[str, float] = {
    "min": 1 / 1440, "mins": 1 / 1440, "minute": 1 / 1440, "minutes": 1 / 1440,
    "h": 1 / 24, "hr": 1 / 24, "hrs": 1 / 24, "hour": 1 / 24, "hours": 1 / 24,
    "d": 1.0, "day": 1.0, "days": 1.0,
    "w": 7.0, "wk": 7.0, "wks": 7.0, "week": 7.0, "weeks": 7.0,
    "mo": 30.4375, "month": 30.4375, "months": 30.4375,
    "y": 365.25, "yr": 365.25, "yrs": 365.25, "year": 365.25, "years": 365.25,
}
#: unit words refused because readers take them two ways
AMBIGUOUS_UNITS = {"m": ("min", "months")}
_DURATION = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z]+)\s*$")
_PERCENT = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+))\s*%\s*$")


def parse_duration(text: str) -> float | None:
    """Return the number of days in ``"36h"``, ``"2 weeks"``, ``"1.5 days"``; None if not one.

    Raises ValueError for a number with an unknown unit word.
    """
    match = _DURATION.match(text)
    if not match:
        return None
    number, unit = match.groups()
    factor = DURATION_UNITS.get(unit)
    if factor is None:
        raise ValueError(_unit_problem(number, unit))
    days = float(number) * factor
    if not math.isfinite(days):
        raise ValueError(f"the duration {text!r} is too large")
    return days


def _unit_problem(number: str, unit: str) -> str:
    """Say why ``unit`` is refused and what to write instead."""
    lowered = unit.lower()
    if lowered in AMBIGUOUS_UNITS:
        short, long = AMBIGUOUS_UNITS[lowered]
        days = float(number) * DURATION_UNITS[long]
        return (f"the time unit {unit!r} is ambiguous (minutes or months?): write "
                f"`{number} {long}` ({days:g} days) or `{number} {short}`")
    if lowered in DURATION_UNITS:
        return (f"time units are written in lower case, found {unit!r}: "
                f"write `{number} {lowered}`")
    return f"unknown time unit {unit!r}; use minutes, hours, days, weeks, months or years"


def parse_percent(text: str) -> float | None:
    """Return 0.3 for ``"30%"``; None if the text is not a percentage."""
    match = _PERCENT.match(text)
    return float(match.group(1)) / 100.0 if match else None


def looks_like_quantity(text: str) -> bool:
    """Tell whether a string is meant as a duration or percentage rather than an expression."""
    return bool(_DURATION.match(text) or _PERCENT.match(text))


def to_days(value: object, start: dt.date | None) -> float:
    """Convert a number, duration string or date into days from the start.

    Raises ValueError with a message for the user when the value is none of these.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a time (number of days, duration or date), found {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number of days, found {value!r}")
        return float(value)
    if isinstance(value, dt.date):
        if start is None:
            raise ValueError(f"the date {value.isoformat()} needs a `start:` date for the scenario")
        return float((value - start).days)
    if isinstance(value, str):
        days = parse_duration(value)
        if days is not None:
            return days
        try:
            # YAML 1.1 reads 1e6 (no dot) as text; it still means a number of days.
            return to_days(float(value), start)
        except ValueError:
            pass
        try:
            date = dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return to_days(date, start)
    raise ValueError(
        f"expected a time such as 3, '36h', '2 weeks' or a date, found {value!r}"
    )
