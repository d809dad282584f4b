"""Delay and uncertainty distributions: checking their arguments and drawing from them.

Every draw goes through :func:`draw_delay` or :func:`draw_uncertain`, which
accept ``size`` so the reference engine (one value) and the batch engine (an
array) share one definition of each distribution.  The batch engine draws its
delays by :func:`delay_from_uniforms` instead, from uniform numbers its
blocks' streams deal out: the same distributions, sampled by inversion (or,
for gamma, by rejection).  :func:`quantile` is the inverse CDF of every
uncertainty distribution, for the designs that map the unit cube onto them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .optional import require

__all__ = [
    "DELAY_ARGUMENTS",
    "DELAY_UNIFORMS",
    "UNCERTAINTY_ARGUMENTS",
    "UncertainParameter",
    "check_delay_arguments",
    "delay_from_uniforms",
    "draw_delay",
    "draw_uncertain",
    "fit_ci90",
    "invalid_delay_arguments",
    "quantile",
]

#: kind -> argument names, in the order the engines pass them
DELAY_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "fixed": ("value",),
    "exponential": ("mean",),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "lognormal": ("median", "sigma"),
    "gamma": ("shape", "mean"),
    "weibull": ("shape", "scale"),
    "empirical": (),
}
#: kind -> how many uniform numbers :func:`delay_from_uniforms` needs for one delay
DELAY_UNIFORMS: dict[str, int] = {
    "fixed": 0,
    "exponential": 1,
    "uniform": 1,
    "triangular": 1,
    "lognormal": 2,
    "gamma": 5,
    "weibull": 1,
    "empirical": 1,
}
UNCERTAINTY_ARGUMENTS: dict[str, tuple[str, ...]] = {
    "beta": ("alpha", "beta"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "pert": ("low", "mode", "high"),
    "lognormal": ("median", "sigma"),
    "truncnormal": ("mean", "sd", "low", "high"),
    "normal": ("mean", "sd"),
    "logitnormal": ("mu", "sd"),
}
_Z95 = 1.6448536269514722  # the 95th percentile of the standard normal


def check_delay_arguments(kind: str, args: Sequence[float]) -> str | None:
    """Return what is wrong with a delay distribution's arguments, or None if they are valid."""
    if any(not math.isfinite(a) for a in args):
        return f"{kind} delay arguments must be finite numbers, found {list(args)}"
    if kind == "fixed":
        return f"a delay cannot be negative, found {args[0]:g}" if args[0] < 0 else None
    if kind == "exponential":
        return None if args[0] > 0 else f"the mean must be positive, found {args[0]:g}"
    if kind == "uniform":
        low, high = args
        if low < 0 or high < low:
            return f"uniform needs 0 <= low <= high, found [{low:g}, {high:g}]"
        return None
    if kind == "triangular":
        low, mode, high = args
        if low < 0 or not low <= mode <= high or low == high:
            return f"triangular needs 0 <= low <= mode <= high, low < high, found {list(args)}"
        return None
    if kind == "lognormal":
        median, sigma = args
        if median <= 0 or sigma < 0:
            return f"lognormal needs median > 0 and sigma >= 0, found {median:g}, {sigma:g}"
        return None
    if kind in ("gamma", "weibull"):
        if args[0] <= 0 or args[1] <= 0:
            return f"{kind} needs positive arguments, found {list(args)}"
        return None
    if kind == "empirical":
        if not args or min(args) < 0:
            return "an empirical delay needs at least one value, none negative"
        return None
    return f"unknown delay kind {kind!r}"


def draw_delay(
    kind: str, args: Sequence[float], rng: np.random.Generator, size: int | None = None
) -> float | np.ndarray:
    """Draw one delay in days (or ``size`` of them) from a checked distribution."""
    if kind == "fixed":
        return args[0] if size is None else np.full(size, args[0])
    if kind == "exponential":
        return rng.exponential(args[0], size)
    if kind == "uniform":
        return rng.uniform(args[0], args[1], size)
    if kind == "triangular":
        return rng.triangular(args[0], args[1], args[2], size)
    if kind == "lognormal":
        return rng.lognormal(math.log(args[0]), args[1], size)
    if kind == "gamma":
        shape, mean = args
        return rng.gamma(shape, mean / shape, size)
    if kind == "weibull":
        shape, scale = args
        return scale * rng.weibull(shape, size)
    if kind == "empirical":
        index = rng.integers(0, len(args), size)
        return args[int(index)] if size is None else np.asarray(args)[index]
    raise ValueError(f"unknown delay kind {kind!r}")


def invalid_delay_arguments(kind: str, args: Sequence[Any]) -> Any:
    """Where :func:`check_delay_arguments` would object, for arguments given as arrays.

    Returns a boolean array (or one flag when every argument is a plain value).
    """
    finite = functools.reduce(np.logical_and, [np.isfinite(a) for a in args], True)
    if kind == "fixed":
        valid = np.greater_equal(args[0], 0)
    elif kind == "exponential":
        valid = np.greater(args[0], 0)
    elif kind == "uniform":
        valid = np.greater_equal(args[0], 0) & np.greater_equal(args[1], args[0])
    elif kind == "triangular":
        low, mode, high = args
        valid = (np.greater_equal(low, 0) & np.less_equal(low, mode) & np.less_equal(mode, high)
                 & np.not_equal(low, high))
    elif kind == "lognormal":
        valid = np.greater(args[0], 0) & np.greater_equal(args[1], 0)
    elif kind in ("gamma", "weibull"):
        valid = np.greater(args[0], 0) & np.greater(args[1], 0)
    elif kind == "empirical":
        valid = functools.reduce(np.logical_and, [np.greater_equal(a, 0) for a in args], True)
    else:
        raise ValueError(f"unknown delay kind {kind!r}")
    return ~(finite & valid)


def delay_from_uniforms(kind: str, args: Sequence[Any], uniforms: np.ndarray) -> np.ndarray:
    """Turn independent uniforms on [0, 1) into delays from a checked distribution.

    ``uniforms`` has :data:`DELAY_UNIFORMS` ``[kind]`` rows and one column per
    delay; ``args`` are plain values or arrays with one value per column.
    Gamma delays of a whole shape up to 5 are sums of exponentials; others are
    drawn by Marsaglia and Tsang's method with two tries, and where both are
    rejected (fewer than three draws in a thousand) the result is NaN, and the
    caller tries again with fresh uniforms.
    """
    count = uniforms.shape[1]
    result: np.ndarray
    u = uniforms[0] if len(uniforms) else np.empty(0)
    if kind == "fixed":
        result = np.broadcast_to(np.asarray(args[0], dtype=float), (count,))
    elif kind == "exponential":
        result = -np.log1p(-u) * args[0]
    elif kind == "uniform":
        result = args[0] + (np.subtract(args[1], args[0])) * u
    elif kind == "triangular":
        # the inversion numpy's own triangular sampler uses
        low, mode, high = args
        base = np.subtract(high, low)
        left = np.subtract(mode, low)
        rising = low + np.sqrt(u * base * left)
        falling = high - np.sqrt((1.0 - u) * base * np.subtract(high, mode))
        result = np.where(u <= left / base, rising, falling)
    elif kind == "lognormal":
        radius = np.sqrt(-2.0 * np.log1p(-uniforms[0]))
        normal = radius * np.cos(2.0 * math.pi * uniforms[1])
        result = args[0] * np.exp(np.multiply(args[1], normal))
    elif kind == "gamma":
        shape, mean = args
        if np.ndim(shape) == 0 and float(shape).is_integer() and 1 <= shape <= len(uniforms):
            # Erlang: a sum of `shape` exponentials, exact and much cheaper than rejection
            product = 1.0 - uniforms[0]
            for row in range(1, int(shape)):
                product = product * (1.0 - uniforms[row])
            result = -np.log(product) * np.divide(mean, shape)
        else:
            result = _gamma(shape, uniforms) * np.divide(mean, shape)
    elif kind == "weibull":
        shape, scale = args
        result = np.multiply(scale, (-np.log1p(-u)) ** np.divide(1.0, shape))
    elif kind == "empirical":
        index = np.minimum((u * len(args)).astype(np.intp), len(args) - 1)
        if all(np.ndim(a) == 0 for a in args):
            result = np.asarray(args, dtype=float)[index]
        else:
            table = np.stack([np.broadcast_to(np.asarray(a, dtype=float), (count,)) for a in args])
            result = np.take_along_axis(table, index[None, :], axis=0)[0]
    else:
        raise ValueError(f"unknown delay kind {kind!r}")
    return result


def _gamma(shape: Any, uniforms: np.ndarray) -> np.ndarray:
    """Standard gamma variates by Marsaglia and Tsang (2000); NaN where both tries failed.

    Rows of ``uniforms``: two for a pair of normals (Box and Muller), one per
    try to accept, one to scale a variate of shape + 1 down to a shape below 1.
    ``shape`` is one value or one per column.
    """
    boosted = np.less(shape, 1)
    d = np.where(boosted, shape + 1.0, shape) - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    radius = np.sqrt(-2.0 * np.log1p(-uniforms[0]))
    angle = 2.0 * math.pi * uniforms[1]
    result = _gamma_try(d, c, radius * np.cos(angle), uniforms[2])
    failed = np.flatnonzero(np.isnan(result))
    if len(failed):
        # The second try, only where the first was rejected.
        d2, c2 = (d, c) if np.ndim(d) == 0 else (d[failed], c[failed])
        result[failed] = _gamma_try(d2, c2, radius[failed] * np.sin(angle[failed]),
                                    uniforms[3, failed])
    if np.any(boosted):
        result = np.where(boosted, result * (1.0 - uniforms[4]) ** np.divide(1.0, shape), result)
    return result


def _gamma_try(d: Any, c: Any, normal: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """One try of Marsaglia and Tsang's method: ``d * v`` where accepted, NaN elsewhere."""
    t = 1.0 + c * normal
    v = t * t * t
    accept = 1.0 - uniform  # uniform on (0, 1]
    squared = normal * normal
    # The squeeze accepts most tries without a logarithm; the rest take the exact test.
    sure = (v > 0) & (accept < 1.0 - 0.0331 * squared * squared)
    unsure = np.flatnonzero(~sure & (v > 0))
    if len(unsure):
        du = d if np.ndim(d) == 0 else d[unsure]
        vu = v[unsure]
        sure[unsure] = np.log(accept[unsure]) < 0.5 * squared[unsure] + du - du * vu + du * np.log(vu)
    return np.where(sure, d * v, np.nan)


@dataclass(frozen=True, slots=True)
class UncertainParameter:
    """How one parameter's value is drawn per replication in two-level Monte Carlo."""

    kind: str
    args: tuple[float, ...]

    def describe(self) -> str:
        names = UNCERTAINTY_ARGUMENTS[self.kind]
        inner = ", ".join(f"{n}={a:.4g}" for n, a in zip(names, self.args, strict=True)
                          if not math.isnan(a))
        return f"{self.kind}({inner})"


def check_uncertainty_arguments(kind: str, args: Sequence[float]) -> str | None:
    """Return what is wrong with an uncertainty distribution, or None if it is valid."""
    finite = [a for a in args if not math.isnan(a)]
    if any(math.isinf(a) for a in finite):
        return "arguments must be finite numbers"
    if kind == "beta":
        return None if min(args) > 0 else "beta needs alpha > 0 and beta > 0"
    if kind == "uniform":
        return None if args[0] < args[1] else f"uniform needs low < high, found {list(args)}"
    if kind in ("triangular", "pert"):
        low, mode, high = args
        ok = low <= mode <= high and low < high
        return None if ok else f"{kind} needs low <= mode <= high and low < high, found {list(args)}"
    if kind == "lognormal":
        return None if args[0] > 0 and args[1] >= 0 else "lognormal needs median > 0, sigma >= 0"
    if kind == "truncnormal":
        _mean, sd, low, high = args
        if sd <= 0:
            return "truncnormal needs sd > 0"
        if not math.isnan(low) and not math.isnan(high) and low >= high:
            return f"truncnormal needs low < high, found [{low:g}, {high:g}]"
        return None
    return None


def fit_ci90(low: float, high: float, value: float) -> UncertainParameter:
    """Choose the distribution behind a ``ci90: [low, high]`` shorthand.

    A probability (0 < low < high < 1) gets a logit-normal, a positive quantity
    a lognormal, anything else a normal, each with 5% of its mass below
    ``low`` and 5% above ``high``.  Raises ValueError if ``low >= high``.
    """
    if not low < high:
        raise ValueError(f"ci90 needs low < high, found [{low:g}, {high:g}]")
    if low > 0 and high < 1 and 0 <= value <= 1:
        lo, hi = math.log(low / (1 - low)), math.log(high / (1 - high))
        return UncertainParameter("logitnormal", ((lo + hi) / 2, (hi - lo) / (2 * _Z95)))
    if low > 0:
        lo, hi = math.log(low), math.log(high)
        return UncertainParameter("lognormal", (math.exp((lo + hi) / 2), (hi - lo) / (2 * _Z95)))
    return UncertainParameter("normal", ((low + high) / 2, (high - low) / (2 * _Z95)))


def quantile(distribution: UncertainParameter, u: Any) -> np.ndarray:
    """The values of an uncertainty distribution at probabilities ``u``: its inverse CDF.

    ``u`` is a number or an array of them in [0, 1]; 0 and 1 give the ends of
    the support (infinite for the normal families).  The beta, uniform, triangular
    and truncated normal quantiles are scipy.stats's, PERT is a scaled beta, and the
    normal, lognormal and logit-normal ones are written on scipy's standard
    normal quantile: ``median * exp(sigma * z)`` is what ``scipy.stats.lognorm``
    computes, to the bit, but it also takes ``sigma = 0``, which scipy refuses.
    Raises :class:`~escalate.errors.UsageError` when scipy is not installed and
    ValueError for an unknown kind.
    """
    # Imported here, not at the top: `import escalate` stays free of scipy.
    stats = require("scipy.stats")
    kind, args = distribution.kind, distribution.args
    if kind == "beta":
        return np.asarray(stats.beta.ppf(u, args[0], args[1]))
    if kind == "uniform":
        return np.asarray(stats.uniform.ppf(u, args[0], args[1] - args[0]))
    if kind == "triangular":
        low, mode, high = args
        return np.asarray(stats.triang.ppf(u, (mode - low) / (high - low), low, high - low))
    if kind == "pert":
        low, mode, high = args
        alpha = 1 + 4 * (mode - low) / (high - low)
        beta = 1 + 4 * (high - mode) / (high - low)
        return low + (high - low) * np.asarray(stats.beta.ppf(u, alpha, beta))
    if kind == "truncnormal":
        mean, sd, low, high = args
        lower = -math.inf if math.isnan(low) else (low - mean) / sd
        upper = math.inf if math.isnan(high) else (high - mean) / sd
        return np.asarray(stats.truncnorm.ppf(u, lower, upper, loc=mean, scale=sd))
    if kind not in ("lognormal", "normal", "logitnormal"):
        raise ValueError(f"unknown uncertainty kind {kind!r}")
    z = np.asarray(stats.norm.ppf(u))
    if kind == "lognormal":
        return args[0] * np.exp(args[1] * z)
    if kind == "normal":
        return args[0] + args[1] * z
    return 1.0 / (1.0 + np.exp(-(args[0] + args[1] * z)))


def draw_uncertain(
    spec: UncertainParameter, rng: np.random.Generator, size: int | None = None
) -> float | np.ndarray:
    """Draw a parameter value (or ``size`` of them) from its uncertainty distribution."""
    kind, args = spec.kind, spec.args
    if kind == "beta":
        return rng.beta(args[0], args[1], size)
    if kind == "uniform":
        return rng.uniform(args[0], args[1], size)
    if kind == "triangular":
        return rng.triangular(args[0], args[1], args[2], size)
    if kind == "pert":
        low, mode, high = args
        alpha = 1 + 4 * (mode - low) / (high - low)
        beta = 1 + 4 * (high - mode) / (high - low)
        return low + (high - low) * rng.beta(alpha, beta, size)
    if kind == "lognormal":
        return rng.lognormal(math.log(args[0]), args[1], size)
    if kind == "normal":
        return rng.normal(args[0], args[1], size)
    if kind == "logitnormal":
        z = rng.normal(args[0], args[1], size)
        return 1.0 / (1.0 + np.exp(-z))
    if kind == "truncnormal":
        return _truncated_normal(args, rng, size)
    raise ValueError(f"unknown uncertainty kind {kind!r}")


def _truncated_normal(
    args: tuple[float, ...], rng: np.random.Generator, size: int | None
) -> float | np.ndarray:
    """Rejection sampling; the bounds were checked to leave a usable share of mass."""
    mean, sd, low, high = args
    low = -math.inf if math.isnan(low) else low
    high = math.inf if math.isnan(high) else high
    count = 1 if size is None else size
    out = np.empty(count)
    filled = 0
    for _ in range(10_000):
        draws = rng.normal(mean, sd, max(16, 2 * (count - filled)))
        keep = draws[(draws >= low) & (draws <= high)][: count - filled]
        out[filled: filled + len(keep)] = keep
        filled += len(keep)
        if filled == count:
            return float(out[0]) if size is None else out
    raise ValueError("truncnormal bounds leave almost no probability mass")
