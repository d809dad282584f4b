"""The quantile function of the uncertainty distributions, which designs map the unit cube through."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from escalate.distributions import UncertainParameter, draw_uncertain, quantile

UNCERTAINTIES = [
    UncertainParameter("beta", (2.0, 5.0)), UncertainParameter("uniform", (1.0, 3.0)),
    UncertainParameter("triangular", (0.0, 1.0, 4.0)), UncertainParameter("pert", (0.0, 2.0, 10.0)),
    UncertainParameter("lognormal", (3.0, 0.4)), UncertainParameter("normal", (1.0, 2.0)),
    UncertainParameter("logitnormal", (-1.0, 0.5)),
    UncertainParameter("truncnormal", (0.0, 1.0, -0.5, math.nan)),
]
DRAWS = 40_000
#: Dvoretzky-Kiefer-Wolfowitz with Massart's constant: the empirical distribution function of
#: DRAWS independent draws is within DKW_EPSILON of the true one everywhere, except with
#: probability 2 exp(-2 DRAWS DKW_EPSILON^2).  That is 0.001 / 8 here, so that the eight
#: distributions share a family-wise error rate of 0.001 (Bonferroni); DKW_EPSILON = 0.011.
FAMILY_ERROR_RATE = 0.001
DKW_EPSILON = math.sqrt(math.log(2 * len(UNCERTAINTIES) / FAMILY_ERROR_RATE) / (2 * DRAWS))


@pytest.mark.parametrize("spec", UNCERTAINTIES)
def test_quantiles_agree_with_the_distribution_the_runs_draw_from(spec: UncertainParameter) -> None:
    """Each empirical quantile of the draws lies between the quantile function at p - epsilon
    and at p + epsilon, for every p at once (the DKW band).

    np.quantile interpolates between the order statistics floor((n - 1) p) + 1 and + 2, where
    the empirical distribution function is within 2 / n of p: hence the 2 / n.
    """
    draws = np.asarray(draw_uncertain(spec, np.random.default_rng(0), DRAWS))
    probabilities = np.linspace(0.02, 0.98, 49)
    empirical = np.quantile(draws, probabilities)
    slack = DKW_EPSILON + 2 / DRAWS
    too_low = probabilities[empirical < quantile(spec, probabilities - slack)]
    too_high = probabilities[empirical > quantile(spec, probabilities + slack)]
    assert too_low.tolist() == []
    assert too_high.tolist() == []



@pytest.mark.parametrize(("kind", "args", "frozen"), [
    ("beta", (2.0, 3.0), stats.beta(2, 3)),
    ("uniform", (1.0, 4.0), stats.uniform(1, 3)),
    ("triangular", (0.0, 1.0, 4.0), stats.triang(0.25, 0, 4)),
    ("lognormal", (2.0, 0.5), stats.lognorm(0.5, scale=2.0)),
    ("normal", (1.0, 2.0), stats.norm(1, 2)),
    ("truncnormal", (0.0, 1.0, -1.0, math.nan), stats.truncnorm(-1, np.inf)),
])
def test_quantiles_match_scipy(kind: str, args: tuple[float, ...], frozen: object) -> None:
    """Each uncertainty distribution's quantile function agrees with scipy.stats."""
    u = np.linspace(0.01, 0.99, 25)
    expected = frozen.ppf(u)  # type: ignore[attr-defined]
    np.testing.assert_allclose(quantile(UncertainParameter(kind, args), u), expected,
                               rtol=1e-12)


def test_pert_and_logitnormal_quantiles_invert_their_definitions() -> None:
    """PERT is a scaled beta and logit-normal a logistic normal, at every probability."""
    u = np.linspace(0.05, 0.95, 19)
    pert = quantile(UncertainParameter("pert", (0.0, 1.0, 4.0)), u)
    np.testing.assert_allclose(pert, 4 * stats.beta(2, 4).ppf(u), rtol=1e-12)
    logit = quantile(UncertainParameter("logitnormal", (0.5, 1.0)), u)
    np.testing.assert_allclose(logit, 1 / (1 + np.exp(-stats.norm(0.5, 1).ppf(u))), rtol=1e-12)


@pytest.mark.parametrize(("median", "sigma"), [(2.0, 0.5), (20.0, 0.421404), (0.447214, 0.489234)])
def test_lognormal_quantiles_are_scipys_to_the_bit(median: float, sigma: float) -> None:
    """``median * exp(sigma * z)`` is what scipy.stats.lognorm computes, bit for bit."""
    u = np.concatenate([[0.0, 1.0, 2.0**-53, 1 - 2.0**-53],
                        np.random.default_rng(0).random(2000)])
    expected = stats.lognorm.ppf(u, sigma, scale=median)
    found = quantile(UncertainParameter("lognormal", (median, sigma)), u)
    assert found.tobytes() == expected.tobytes()


def test_degenerate_normals_give_their_centre() -> None:
    """A lognormal of sigma 0 or a normal of sd 0 is its median or mean, where scipy gives NaN."""
    u = np.array([0.01, 0.5, 0.99])
    assert quantile(UncertainParameter("lognormal", (3.0, 0.0)), u).tolist() == [3.0] * 3
    assert quantile(UncertainParameter("normal", (3.0, 0.0)), u).tolist() == [3.0] * 3


def test_the_ends_of_the_unit_interval_give_the_ends_of_the_support() -> None:
    """0 and 1 give a bounded distribution's bounds and an unbounded one's infinities."""
    assert quantile(UncertainParameter("triangular", (1.0, 2.0, 4.0)), np.array([0.0, 1.0])
                    ).tolist() == [1.0, 4.0]
    assert quantile(UncertainParameter("uniform", (1.0, 3.0)), np.array([0.0, 1.0])
                    ).tolist() == [1.0, 3.0]
    assert quantile(UncertainParameter("normal", (0.0, 1.0)), np.array([0.0, 1.0])
                    ).tolist() == [-math.inf, math.inf]


def test_an_unknown_kind_is_refused() -> None:
    """A kind the compiler would never produce fails loudly rather than returning nonsense."""
    with pytest.raises(ValueError, match="unknown uncertainty kind 'cauchy'"):
        quantile(UncertainParameter("cauchy", (0.0, 1.0)), np.array([0.5]))
