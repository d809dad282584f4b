"""Regression tests against closed-form answers, on both engines.

Each scenario has an exact probability; the 99.9% Wilson interval of the
estimate must contain it.  With the 38 checks here, a correct engine fails
one by chance about 4% of the time for a random seed; the seeds are fixed,
so the outcome is the same on every run.
"""

from __future__ import annotations

import math
import textwrap
from statistics import NormalDist

import pytest
from scipy import stats

import escalate
from escalate.montecarlo.runner import run
from escalate.montecarlo.stats import wilson_interval

SEED = 20241117
Z999 = NormalDist().inv_cdf(0.9995)
#: replications per engine: the batch engine is cheap, the reference engine the cost
REPLICATIONS = {"batch": 200_000, "reference": 20_000}
ENGINES = pytest.mark.parametrize("engine", ["batch", "reference"])


def probability(body: str, outcome: str, engine: str, *, horizon: float = 1000.0) -> tuple[int, int]:
    """Run the scenario made of ``body`` and return (occurrences of ``outcome``, replications)."""
    text = f"escalate: 1\nname: closed form\nhorizon: {horizon}\n" + textwrap.dedent(body)
    replications = REPLICATIONS[engine]
    result = run(escalate.loads(text), replications=replications, seed=SEED, engine=engine,
                 keep_replications=False)
    assert result.engine == engine
    return round(result.probability(outcome) * replications), replications


def assert_contains(hits: int, trials: int, exact: float) -> None:
    low, high = wilson_interval(hits, trials, z=Z999)
    assert low <= exact <= high, f"{hits}/{trials} = {hits / trials:.5f}; exact {exact:.5f} " \
                                 f"is outside the 99.9% interval [{low:.5f}, {high:.5f}]"


@ENGINES
@pytest.mark.parametrize("p", [0.03, 0.5, 0.87])
def test_a_single_choice_happens_with_its_probability(engine: str, p: float) -> None:
    """choose {a: p, otherwise: b} takes a with probability p."""
    body = f"""
    events:
      start: {{at: 0, choose: {{a: {p}, otherwise: b}}}}
      a: {{end: took_a}}
      b: {{end: took_b}}
    outcomes:
      a: {{event: a}}
    """
    assert_contains(*probability(body, "a", engine), p)


@ENGINES
@pytest.mark.parametrize(("rate_a", "rate_b"), [(1.0, 1.0), (0.2, 1.3), (5.0, 0.5)])
def test_the_faster_of_two_exponentials_wins_in_proportion_to_its_rate(
        engine: str, rate_a: float, rate_b: float) -> None:
    """A race of exponentials: P(A first) = rA / (rA + rB)."""
    body = f"""
    events:
      start: {{at: 0, then: [a, b]}}
      a: {{after: {{exponential: {{mean: {1 / rate_a}}}}}, end: a_first}}
      b: {{after: {{exponential: {{mean: {1 / rate_b}}}}}, end: b_first}}
    outcomes:
      a_first: {{terminal: a_first}}
    """
    assert_contains(*probability(body, "a_first", engine), rate_a / (rate_a + rate_b))


@ENGINES
def test_a_chain_of_branches_happens_with_the_product_of_their_probabilities(engine: str) -> None:
    """Three choices in a row, each with its probability expression: the product."""
    body = """
    parameters:
      p1: {value: 0.6}
      p2: {value: 0.45}
    events:
      start: {at: 0, choose: {x1: p1}}
      x1: {after: 1, choose: {x2: p2}}
      x2: {after: {uniform: [0, 2]}, choose: {x3: "p1 * p2"}}
      x3: {end: reached}
    outcomes:
      reached: {event: x3}
    """
    assert_contains(*probability(body, "reached", engine), 0.6 * 0.45 * 0.6 * 0.45)


@ENGINES
def test_a_guard_on_state_set_by_a_coin_flip_passes_on_the_same_side(engine: str) -> None:
    """A flag set on one branch lets a later guarded event fire: P = p."""
    body = """
    state: {flag: false}
    events:
      start: {at: 0, choose: {raise_flag: 0.3, otherwise: wait}, then: [check]}
      raise_flag: {set: {flag: true}}
      wait: {}
      check: {after: 2, when: flag}
    outcomes:
      passed: {event: check}
    """
    assert_contains(*probability(body, "passed", engine), 0.3)


@ENGINES
def test_a_repeat_fires_until_its_first_success(engine: str) -> None:
    """Up to four tries, each succeeding with 0.25: P(success) = 1 - 0.75**4."""
    body = """
    events:
      start: {at: 0, then: [attempt]}
      attempt:
        after: 1
        choose: {success: 0.25}
        repeat: {every: 1, max: 4}
      success: {cancels: [attempt], end: done}
    outcomes:
      done: {terminal: done}
    """
    assert_contains(*probability(body, "done", engine), 1 - 0.75**4)


# (delay, cumulative distribution function at the horizon)
DELAYS = [
    ("{exponential: {mean: 3}}", stats.expon(scale=3).cdf),
    ("{uniform: [1, 6]}", stats.uniform(1, 5).cdf),
    ("{triangular: [0, 1, 8]}", stats.triang(1 / 8, 0, 8).cdf),
    ("{lognormal: {median: 4, sigma: 0.8}}", stats.lognorm(0.8, scale=4).cdf),
    ("{gamma: {shape: 0.6, mean: 3}}", stats.gamma(0.6, scale=3 / 0.6).cdf),
    ("{gamma: {shape: 2.5, mean: 3}}", stats.gamma(2.5, scale=3 / 2.5).cdf),
    ("{gamma: {shape: 3, mean: 3}}", stats.gamma(3, scale=1).cdf),
    ("{weibull: {shape: 1.7, scale: 4}}", stats.weibull_min(1.7, scale=4).cdf),
    ("{empirical: [1, 2, 4, 8]}", lambda h: sum(v < h for v in (1, 2, 4, 8)) / 4),
]


@ENGINES
@pytest.mark.parametrize(("delay", "cdf"), DELAYS, ids=[d for d, _ in DELAYS])
def test_an_event_fires_before_the_horizon_with_its_delay_distribution(engine: str, delay: str,
                                                                        cdf: object) -> None:
    """P(fires before the horizon H) = F(H) for every delay distribution."""
    horizon = 3.5
    body = f"""
    events:
      start: {{at: 0, then: [late]}}
      late: {{after: {delay}}}
    outcomes:
      fired: {{event: late}}
    """
    exact = float(cdf(horizon))  # type: ignore[operator]
    assert not math.isnan(exact)
    assert_contains(*probability(body, "fired", engine, horizon=horizon), exact)


@ENGINES
def test_a_delay_whose_arguments_are_expressions_of_state(engine: str) -> None:
    """The mean of an exponential set by an update: P(T < H) = 1 - exp(-H / mean)."""
    body = """
    state: {scale: 1.0}
    events:
      start: {at: 0, set: {scale: "scale * 2.5"}, then: [late]}
      late: {after: {exponential: {mean: "scale + 0.5"}}}
    outcomes:
      fired: {event: late}
    """
    assert_contains(*probability(body, "fired", engine, horizon=2.0), 1 - math.exp(-2.0 / 3.0))
