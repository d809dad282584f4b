"""The scenario file's structure as frozen pydantic models (format version 1).

These models check shapes and types only; names, expressions, references and
the event graph are checked when the scenario is compiled
(:mod:`escalate.compile`).  The JSON Schema that ``escalate schema`` prints is
generated from them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    Tag,
    field_validator,
)

__all__ = [
    "FORMAT_VERSION",
    "Actor",
    "Delay",
    "Event",
    "Level",
    "Outcome",
    "Parameter",
    "Repeat",
    "ScenarioSpec",
    "Source",
    "Uncertainty",
]

FORMAT_VERSION = 1

#: A number, a duration ("36h", "2 weeks") or an expression over parameters.
Quantity = Annotated[
    StrictInt | StrictFloat | str,
    Field(description="a number of days, a duration such as '36h' or '2 weeks', or an expression"),
]
#: A probability: a number, a percentage ("30%") or an expression.
Probability = Annotated[
    StrictInt | StrictFloat | str,
    Field(description="a number in [0, 1], a percentage such as '30%', or an expression"),
]
Text = Annotated[str, Field(max_length=20_000)]
SourceRef = Annotated[str | list[str], Field(description="id(s) of entries in `sources`")]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Source(_Strict):
    """A reference that parameters and events cite."""

    id: str
    title: Text
    author: Text | None = None
    date: dt.date | str | None = None
    url: Text | None = None
    note: Text | None = None


class Level(_Strict):
    """A rung of the escalation ladder."""

    name: Text
    description: Text = ""


class Actor(_Strict):
    """A party that takes decisions in the scenario."""

    name: str
    label: Text = ""
    description: Text = ""


# --- delay distributions: each written as a one-key mapping, e.g. {exponential: {mean: 2 days}}


class Exponential(_Strict):
    mean: Quantity


class Lognormal(_Strict):
    median: Quantity
    sigma: Quantity


class Gamma(_Strict):
    shape: Quantity
    mean: Quantity


class Weibull(_Strict):
    shape: Quantity
    scale: Quantity


class FixedDelay(_Strict):
    fixed: Quantity


class ExponentialDelay(_Strict):
    exponential: Exponential


class UniformDelay(_Strict):
    uniform: tuple[Quantity, Quantity]


class TriangularDelay(_Strict):
    triangular: tuple[Quantity, Quantity, Quantity]


class LognormalDelay(_Strict):
    lognormal: Lognormal


class GammaDelay(_Strict):
    gamma: Gamma


class WeibullDelay(_Strict):
    weibull: Weibull


class EmpiricalDelay(_Strict):
    empirical: Annotated[list[Quantity], Field(min_length=1, max_length=100_000)]


DELAY_KINDS = ("fixed", "exponential", "uniform", "triangular", "lognormal", "gamma", "weibull",
               "empirical")


def _one_key_tag(value: Any) -> str | None:
    """Tag a one-key mapping by its key; plain numbers and strings by their kind."""
    if isinstance(value, dict):
        if len(value) == 1:
            return str(next(iter(value)))
        return "many-keys"
    if isinstance(value, BaseModel):
        return next(iter(type(value).model_fields))
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return None


Delay = Annotated[
    Annotated[StrictInt | StrictFloat, Tag("number")]
    | Annotated[str, Tag("text")]
    | Annotated[FixedDelay, Tag("fixed")]
    | Annotated[ExponentialDelay, Tag("exponential")]
    | Annotated[UniformDelay, Tag("uniform")]
    | Annotated[TriangularDelay, Tag("triangular")]
    | Annotated[LognormalDelay, Tag("lognormal")]
    | Annotated[GammaDelay, Tag("gamma")]
    | Annotated[WeibullDelay, Tag("weibull")]
    | Annotated[EmpiricalDelay, Tag("empirical")],
    Discriminator(_one_key_tag),
]

# --- uncertainty distributions of parameters


class Beta(_Strict):
    alpha: Annotated[float, Field(gt=0)]
    beta: Annotated[float, Field(gt=0)]


class TruncNormal(_Strict):
    mean: float
    sd: Annotated[float, Field(gt=0)]
    low: float | None = None
    high: float | None = None


class BetaUncertainty(_Strict):
    beta: Beta


class UniformUncertainty(_Strict):
    uniform: tuple[Quantity, Quantity]


class TriangularUncertainty(_Strict):
    triangular: tuple[Quantity, Quantity, Quantity]


class PertUncertainty(_Strict):
    pert: tuple[Quantity, Quantity, Quantity]


class LognormalUncertainty(_Strict):
    lognormal: Lognormal


class TruncNormalUncertainty(_Strict):
    truncnormal: TruncNormal


UNCERTAINTY_KINDS = ("beta", "uniform", "triangular", "pert", "lognormal", "truncnormal")

Uncertainty = Annotated[
    Annotated[BetaUncertainty, Tag("beta")]
    | Annotated[UniformUncertainty, Tag("uniform")]
    | Annotated[TriangularUncertainty, Tag("triangular")]
    | Annotated[PertUncertainty, Tag("pert")]
    | Annotated[LognormalUncertainty, Tag("lognormal")]
    | Annotated[TruncNormalUncertainty, Tag("truncnormal")],
    Discriminator(_one_key_tag),
]


class Parameter(_Strict):
    """A named assumption: a point value, and optionally its uncertainty and provenance."""

    value: StrictBool | StrictInt | StrictFloat | str = Field(
        description="a number, true/false, a percentage ('30%') or a duration ('4 days')"
    )
    label: Text = ""
    ci90: tuple[Quantity, Quantity] | None = Field(
        default=None,
        description="90% interval [low, high]: logit-normal for probabilities, lognormal for "
        "positive quantities, normal otherwise",
    )
    uncertainty: Uncertainty | None = None
    range: tuple[StrictInt | StrictFloat, StrictInt | StrictFloat] | None = Field(
        default=None, description="the values the parameter may take, [low, high]"
    )
    source: SourceRef | None = None
    note: Text = ""


class Repeat(_Strict):
    """Recurring firing: the event schedules itself again after `every`."""

    every: Delay
    while_: str | StrictBool | None = Field(default=None, alias="while")
    max: Annotated[int, Field(ge=1)] | None = None

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Event(_Strict):
    """A node of the event graph."""

    actor: str | None = None
    label: Text = ""
    description: Text = ""
    source: SourceRef | None = None
    at: StrictInt | StrictFloat | dt.date | str | None = Field(
        default=None, description="absolute time: days from the start, a duration or a date"
    )
    after: Delay | None = Field(default=None, description="delay from when the event is scheduled")
    when: str | StrictBool | None = Field(default=None, description="guard checked when it fires")
    set: dict[str, StrictBool | StrictInt | StrictFloat | str] = Field(default_factory=dict)
    then: list[str] | str = Field(default_factory=list)
    choose: dict[str, Probability] | None = Field(
        default=None,
        description="successor -> probability; `otherwise: <event>` takes the remainder",
    )
    repeat: Repeat | None = None
    cancels: list[str] | str = Field(default_factory=list)
    end: str | None = Field(default=None, description="terminal label; the replication stops")


class Outcome(_Strict):
    """Something to measure: an event firing, a condition becoming true, or a terminal."""

    event: str | None = None
    when: str | None = None
    terminal: str | None = None
    label: Text = ""
    description: Text = ""


class ScenarioSpec(_Strict):
    """A whole scenario file."""

    escalate: Literal[1] = Field(description="the scenario format version")
    name: Annotated[str, Field(min_length=1, max_length=500)]
    description: Text = ""
    start: dt.date | None = Field(default=None, description="the date of t = 0")
    horizon: StrictInt | StrictFloat | str | dt.date = Field(
        description="how long each replication runs: days, a duration or a date"
    )
    max_events: Annotated[int, Field(ge=1, le=10_000_000)] = 10_000
    sources: list[Source] = Field(default_factory=list)
    ladder: list[str | Level] | Literal["compact"] = "compact"
    actors: list[str | Actor] = Field(default_factory=list)
    state: dict[str, StrictBool | StrictInt | StrictFloat] = Field(default_factory=dict)
    parameters: dict[str, Parameter] = Field(default_factory=dict)
    events: Annotated[dict[str, Event], Field(min_length=1)]
    outcomes: dict[str, Outcome] = Field(default_factory=dict)

    @field_validator("escalate", mode="before")
    @classmethod
    def _version_is_a_number(cls, value: Any) -> Any:
        # YAML's `true` equals 1 in Python; a format version is written as a number.
        if isinstance(value, bool):
            raise ValueError(f"the format version is a number (`escalate: {FORMAT_VERSION}`)")
        return value
