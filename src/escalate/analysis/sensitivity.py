"""Global sensitivity of outcome probabilities to the uncertain parameters (SALib).

The uncertain parameters (those with ``ci90`` or ``uncertainty``) are sampled
on the unit hypercube with SALib and mapped through each parameter's quantile
function, so the indices refer to the scenario's own uncertainty
distributions; draws are clipped to a parameter's ``range``.  Sobol' samples
cover the distribution between its 0.05% and 99.95% quantiles; Morris
trajectories move each parameter across its central 90% interval.  Every
other parameter keeps its point value.

Replication noise is handled in three ways.  Every point runs the same
replication streams (common random numbers), so a parameter that changes no
replication's course changes no estimate, and noise largely cancels between
the points an index compares.  Every point runs ``replications``
replications.  And the noise that remains is reported: the binomial variance
of a point's estimate, ``p (1 - p) / (n - 1)`` averaged over the points, as a
share of the variance across points.  That share is an upper bound on the
noise's part of the variance (it ignores what common random numbers cancel),
a guide to the resolution of the indices rather than a correction: indices
that differ by less than it are not told apart.

The points run on the sweep executors (this process, ``workers`` local
processes, or a Dask cluster) through the sweep's per-point function.  A
point's estimate depends only on its parameter values, the seed and the
number of replications, so the indices are the same wherever and in
whatever order the points run.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..distributions import quantile
from ..engine.selection import choose_engine
from ..errors import SimulationError, UsageError
from ..montecarlo.seeding import normalize_seed
from ..optional import require
from ..results.sensitivitydir import SensitivityDirectory, write_sensitivity
from ..scenario import Scenario
from ..sweeps.evaluate import PointTask, SweepContext
from ..sweeps.executors import CONNECT_SECONDS, Executor
from ..sweeps.runner import make_executor

__all__ = [
    "METHODS",
    "MORRIS_LEVELS",
    "NOISE_WARNING",
    "SensitivityResult",
    "sample_points",
    "sensitivity_analysis",
]

METHODS = ("sobol", "morris")
Method = Literal["sobol", "morris"]
#: quantiles between which each method samples the parameters
SOBOL_QUANTILES = (0.0005, 0.9995)
MORRIS_QUANTILES = (0.05, 0.95)
MORRIS_LEVELS = 4
#: noise above this share of the variance across points earns a warning
NOISE_WARNING = 0.10


def default_samples(method: str) -> int:
    """Sobol's base sample size, or the number of Morris trajectories, when none is given."""
    return 64 if method == "sobol" else 10


def sample_points(method: str, samples: int | None, parameters: int) -> int:
    """How many points an analysis of ``parameters`` uncertain parameters runs.

    Saltelli's design without second-order indices takes ``samples`` times
    ``parameters + 2`` points; each Morris trajectory ``parameters + 1``.
    """
    base = samples if samples is not None else default_samples(method)
    return base * (parameters + 2) if method == "sobol" else base * (parameters + 1)


@dataclass(frozen=True)
class SensitivityResult:
    """Indices per outcome and parameter, the sample and the noise check (JSON-ready ``data``)."""

    data: dict[str, Any]
    samples: np.ndarray  # points x parameters, in the parameters' own units
    outputs: np.ndarray  # points x outcomes, probabilities
    #: where the points ran, as the manifest records it (never part of ``data``: the
    #: results do not depend on it)
    executor: dict[str, Any]


def _design(method: Method, names: list[str], samples: int, seed: int) -> np.ndarray:
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    if method == "sobol":
        sobol = require("SALib.sample.sobol")
        return np.asarray(sobol.sample(problem, samples, calc_second_order=False, scramble=True,
                                       seed=seed % 2**32))
    morris = require("SALib.sample.morris")
    return np.asarray(morris.sample(problem, samples, num_levels=MORRIS_LEVELS, seed=seed % 2**32))


def _values(scenario: Scenario, parameters: list[int], unit: np.ndarray,
            method: Method) -> np.ndarray:
    compiled = scenario.compiled
    low, high = SOBOL_QUANTILES if method == "sobol" else MORRIS_QUANTILES
    values = np.empty_like(unit)
    for j, p in enumerate(parameters):
        spec = compiled.parameter_uncertainty[p]
        assert spec is not None
        column = quantile(spec, low + (high - low) * unit[:, j])
        bounds = compiled.parameter_ranges[p]
        if bounds is not None:
            column = np.clip(column, bounds[0], bounds[1])
        values[:, j] = column
    return values


def _evaluate(scenario: Scenario, names: list[str], values: np.ndarray, replications: int,
              seed: int, engine: str, executor: Executor,
              progress: Callable[[int], None] | None) -> tuple[np.ndarray, list[str]]:
    """Every point's outcome probabilities, in point order whatever order the points finish in.

    Every point runs on the same replication streams (common random numbers),
    on the ``engine`` asked for.  Also returns the engines that ran, sorted.
    Raises :class:`SimulationError` for the first point whose simulation fails.
    """
    context = SweepContext.of(scenario, tuple(names), seed=seed, replications=replications,
                              engine=engine, common_random_numbers=True)
    tasks = (PointTask(i, tuple(float(v) for v in row)) for i, row in enumerate(values))
    outputs = np.empty((len(values), len(scenario.compiled.outcomes)))
    engines: set[str] = set()
    for result in executor.map(context, tasks):
        if not result.ok:
            where = ", ".join(f"{name}={value:.6g}"
                              for name, value in zip(names, result.values, strict=True))
            raise SimulationError(f"sample point {result.point} ({where}) failed: "
                                  f"{result.error}")
        # The same division as the replication counts over the replications, to the bit.
        outputs[result.point] = [outcome.probability for outcome in result.outcomes]
        engines.add(result.engine)
        if progress is not None:
            progress(1)
    return outputs, sorted(engines)


def _analyse(method: Method, names: list[str], unit: np.ndarray, y: np.ndarray,
             seed: int) -> dict[str, dict[str, float]]:
    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    if method == "sobol":
        sobol = require("SALib.analyze.sobol")
        found = sobol.analyze(problem, y, calc_second_order=False, num_resamples=200,
                              conf_level=0.95, seed=seed % 2**32)
        keys = ("S1", "S1_conf", "ST", "ST_conf")
    else:
        morris = require("SALib.analyze.morris")
        found = morris.analyze(problem, unit, y, num_resamples=200, conf_level=0.95,
                               num_levels=MORRIS_LEVELS, seed=seed % 2**32)
        keys = ("mu_star", "mu_star_conf", "mu", "sigma")
    return {name: {key: float(np.asarray(found[key])[j]) for key in keys}
            for j, name in enumerate(names)}


def sensitivity_analysis(
    scenario: Scenario,
    *,
    method: Method = "sobol",
    samples: int | None = None,
    replications: int = 200,
    seed: int | None = None,
    engine: str = "auto",
    workers: int | None = 1,
    scheduler: Any = None,
    dask_local: int | None = None,
    connect_seconds: float = CONNECT_SECONDS,
    out: str | Path | None = None,
    outcomes: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
) -> SensitivityResult:
    """Sobol' or Morris indices of every outcome's probability over the uncertain parameters.

    ``samples`` is Sobol's base sample size (a power of two, default 64) or the
    number of Morris trajectories (default 10).  ``engine`` (``auto``,
    ``reference`` or ``batch``, as for :func:`escalate.run`) runs every
    point; the two engines give the same distributions but not the same
    numbers.  ``workers`` (``None``: every core), ``scheduler`` (a Dask
    address or Client, given ``connect_seconds`` to answer) or ``dask_local``
    (a local Dask cluster of that many workers) choose where the sample
    points run, never what they give.  With ``out``, the analysis is recorded
    in a sensitivity directory (:class:`SensitivityDirectory`), also when it
    fails or is interrupted; ``outcomes`` are those its report ranks (all by
    default).  ``progress`` is called with 1 as each point finishes.

    Raises :class:`UsageError` when the scenario has no uncertain parameter,
    an option or outcome name is wrong, the engine cannot run the scenario or
    ``out`` cannot hold the analysis (before any point runs and anything is
    written), :class:`SimulationError` when a point's simulation fails,
    :class:`OutputError` when the directory cannot be written.
    """
    if method not in METHODS:
        raise UsageError(f"method must be one of {', '.join(METHODS)}, found {method!r}")
    samples = samples if samples is not None else default_samples(method)
    if method == "sobol" and (samples < 2 or samples & (samples - 1)):
        raise UsageError(f"Sobol' sampling needs a power of two base samples, found {samples}")
    if samples < 2 or replications < 1:
        raise UsageError("samples must be at least 2 and replications at least 1")
    compiled = scenario.compiled
    parameters = list(compiled.uncertain_parameters)
    if not parameters:
        raise UsageError(f"{scenario.name!r} has no uncertain parameter; give parameters a "
                         "ci90 or an uncertainty distribution to analyse their influence")
    known = [outcome.name for outcome in compiled.outcomes]
    unknown = [name for name in outcomes if name not in known]
    if unknown:
        raise UsageError(f"unknown outcome {unknown[0]!r}; the scenario's outcomes are "
                         f"{', '.join(known)}")
    names = [compiled.parameter_names[p] for p in parameters]
    choose_engine(compiled, engine)  # an unknown engine, or one that cannot run it, stops here
    if out is not None:
        SensitivityDirectory.check(out)
    seed_value = normalize_seed(seed)
    executor = make_executor(workers, scheduler, dask_local, connect_seconds)
    started = time.perf_counter()
    unit = _design(method, names, samples, seed_value)
    values = _values(scenario, parameters, unit, method)
    with contextlib.ExitStack() as running:
        # Entered before the directory is made: a Dask scheduler that cannot be reached
        # leaves no directory behind.
        running.enter_context(executor)
        ran_on = executor.describe()
        directory = None if out is None else running.enter_context(
            SensitivityDirectory(out, started=started))
        if directory is not None:
            directory.manifest.update(
                format=directory.format,
                scenario=scenario.provenance(),
                method=method, seed=seed_value, engine=engine, samples=samples,
                points=len(values), replications=replications, outcomes=list(outcomes),
                executor=ran_on)
            directory.record_start()
        outputs, engines = _evaluate(scenario, names, values, replications, seed_value,
                                     engine, executor, progress)
        spec = scenario.spec
        data = {
            "method": method,
            "samples": samples,
            "points": len(values),
            "replications_per_point": replications,
            "seed": seed_value,
            "engine": engine,
            "engines": engines,
            "quantiles": list(SOBOL_QUANTILES if method == "sobol" else MORRIS_QUANTILES),
            "parameters": [{"name": name, "label": spec.parameters[name].label,
                            "distribution": compiled.parameter_uncertainty[p].describe(),  # type: ignore[union-attr]
                            "low": float(values[:, j].min()), "high": float(values[:, j].max())}
                           for j, (name, p) in enumerate(zip(names, parameters, strict=True))],
            "outcomes": _outcome_indices(scenario, method, names, unit, outputs, replications,
                                         seed_value),
            "wall_seconds": round(time.perf_counter() - started, 3),
        }
        result = SensitivityResult(data, values, outputs, ran_on)
        if directory is not None:
            directory.manifest["engines"] = engines
            write_sensitivity(directory, result.data, result.samples, result.outputs)
    return result


def _outcome_indices(scenario: Scenario, method: Method, names: list[str], unit: np.ndarray,
                     outputs: np.ndarray, replications: int, seed: int) -> dict[str, Any]:
    """Per outcome: mean, variance, replication noise, and the indices with their ranking."""
    found = {}
    for k, outcome in enumerate(scenario.compiled.outcomes):
        y = outputs[:, k]
        variance = float(np.var(y))
        noise_variance = float(np.mean(y * (1 - y))) / max(replications - 1, 1)
        entry: dict[str, Any] = {
            "label": outcome.label, "mean": float(np.mean(y)), "variance": variance,
            "noise": {"sd": math.sqrt(noise_variance),
                      "share": min(1.0, noise_variance / variance) if variance > 0 else None},
        }
        if variance <= 0:
            entry.update(constant=True, indices={}, ranking=[])
        else:
            indices = _analyse(method, names, unit, y, seed)
            key = "ST" if method == "sobol" else "mu_star"
            entry.update(constant=False, indices=indices,
                         ranking=sorted(names, key=lambda n: -indices[n][key]))
        found[outcome.name] = entry
    return found
