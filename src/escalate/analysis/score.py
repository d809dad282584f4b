"""Backtesting a run against what happened: Brier and log scores for an observation window.

An observations file (:mod:`escalate.observations`) says, for a window that starts at the scenario's t = 0,
which outcomes occurred by the window's end (and when), each with a cited
source.  The run's forecast for an outcome is the probability that it had
occurred by the end of the window: its cumulative incidence at day
``(end - start).days`` (0:00 on the end date, the same convention as the
horizon), read from ``summary.json``.

Scores, both "lower is better" and 0 for a perfect forecast:

- Brier score ``(p - o)^2`` with ``o`` 1 if the outcome occurred, else 0;
  a forecast of 50% scores 0.25.
- Log score ``-ln(p)`` if it occurred, ``-ln(1 - p)`` if not; a forecast of
  50% scores ln 2 = 0.693.  A Monte Carlo estimate can be exactly 0 or 1,
  which would score infinity when wrong, so ``p`` is first clipped to
  ``[1 / (2n), 1 - 1 / (2n)]`` for a run of ``n`` replications: half a
  replication, the resolution of the estimate.

The overall scores are the means over the scored outcomes.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import UsageError
from ..observations import Observations, Window
from ..results.rundir import RunData
from ..spec.suggest import did_you_mean

__all__ = [
    "OutcomeScore",
    "ScoreReport",
    "brier_score",
    "clip_probability",
    "cumulative_probability",
    "log_score",
    "score_run",
]

def brier_score(probability: float, occurred: bool) -> float:
    """``(p - o)^2``: 0 is perfect, 0.25 is what a 50% forecast scores."""
    return (probability - (1.0 if occurred else 0.0)) ** 2


def clip_probability(probability: float, replications: int) -> float:
    """Clip to ``[1/(2n), 1 - 1/(2n)]``, half a replication from certainty."""
    floor = 0.5 / max(replications, 1)
    return min(max(probability, floor), 1.0 - floor)


def log_score(probability: float, occurred: bool, replications: int) -> float:
    """``-ln`` of the (clipped) probability given to what happened: 0 is perfect, ln 2 for 50%."""
    p = clip_probability(probability, replications)
    return -math.log(p if occurred else 1.0 - p)


def cumulative_probability(cumulative: Mapping[str, Sequence[float]], day: float) -> float:
    """The cumulative incidence at ``day``, interpolated linearly between its grid points."""
    days, probability = cumulative["days"], cumulative["probability"]
    if day <= days[0]:
        return float(probability[0])
    for i in range(1, len(days)):
        if day <= days[i]:
            left, right = days[i - 1], days[i]
            share = (day - left) / (right - left) if right > left else 1.0
            return float(probability[i - 1] + share * (probability[i] - probability[i - 1]))
    return float(probability[-1])


@dataclass(frozen=True)
class OutcomeScore:
    outcome: str
    label: str
    occurred: bool
    date: dt.date | None
    probability: float  # forecast P(occurred by the window's end)
    brier: float
    log: float
    by_date: float | None  # forecast P(occurred by the observed date), when there is one
    note: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class ScoreReport:
    run: str
    window: Window
    window_days: int
    replications: int
    outcomes: tuple[OutcomeScore, ...]
    observations: Observations

    @property
    def brier(self) -> float:
        return sum(o.brier for o in self.outcomes) / len(self.outcomes)

    @property
    def log(self) -> float:
        return sum(o.log for o in self.outcomes) / len(self.outcomes)

    def as_json(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "window": {"start": self.window.start.isoformat(), "end": self.window.end.isoformat(),
                       "days": self.window_days},
            "replications": self.replications,
            "brier": self.brier, "log": self.log,
            "reference": {"brier": 0.25, "log": math.log(2), "forecast": 0.5},
            "outcomes": {o.outcome: {
                "label": o.label, "occurred": o.occurred,
                "date": o.date.isoformat() if o.date else None,
                "probability": o.probability, "probability_by_date": o.by_date,
                "brier": o.brier, "log": o.log, "sources": list(o.sources), "note": o.note,
            } for o in self.outcomes},
        }


def score_run(run: RunData, observations: Observations) -> ScoreReport:
    """Score a run's probabilities against what was observed in the window.

    Raises :class:`UsageError` when the window does not start at the run's
    start date, ends beyond its horizon, or observes an outcome the run does
    not have (a misspelling would otherwise drop out of the overall scores).
    """
    start_text = run.summary.get("start")
    window = observations.window
    if start_text is None:
        raise UsageError("the run's scenario has no start date, so a window of dates cannot be "
                         "placed on its time axis")
    start = dt.date.fromisoformat(start_text)
    if window.start != start:
        raise UsageError(f"the observation window starts on {window.start} but the run's t = 0 "
                         f"is {start}; the window must start at the scenario's start")
    days = (window.end - window.start).days
    horizon = float(run.summary["horizon_days"])
    if days > horizon + 1e-9:
        raise UsageError(f"the window ends on day {days} ({window.end}), after the run's horizon "
                         f"of {horizon:g} days; the run says nothing about that time")
    unknown = [name for name in observations.outcomes if name not in run.outcomes]
    if unknown:
        hints = "; ".join(f"{name!r}: {did_you_mean(name, run.outcomes, kind='outcomes')}"
                          for name in unknown)
        raise UsageError(f"observed outcomes that are not outcomes of the run: {hints}")
    scores = []
    for name, observation in observations.outcomes.items():
        entry = run.outcomes[name]
        probability = cumulative_probability(entry["cumulative"], days)
        by_date = None
        if observation.occurred and observation.date is not None:
            by_date = cumulative_probability(entry["cumulative"],
                                             min((observation.date - start).days + 1, horizon))
        sources = (observation.source,) if isinstance(observation.source, str) else tuple(
            observation.source)
        scores.append(OutcomeScore(
            name, str(entry.get("label") or name), observation.occurred, observation.date,
            probability, brier_score(probability, observation.occurred),
            log_score(probability, observation.occurred, run.replications), by_date,
            observation.note, sources))
    return ScoreReport(run.label, window, days, run.replications, tuple(scores), observations)
