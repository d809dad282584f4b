"""The library functions behind the commands: each takes objects and returns objects.

The command line (:mod:`escalate.cli`) parses options, calls one of these
and renders what it returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from .compile.compiled import CompiledScenario
from .engine import selection
from .engine.protocol import StreamKeys
from .engine.records import ReplicationRecord
from .errors import OutputError, UsageError
from .montecarlo.arguments import (
    check_callback,
    check_flag,
    check_replications,
    check_scenario,
    normalize_overrides,
)
from .montecarlo.precision import DEFAULT_MAX_REPLICATIONS, check_precision, run_to_precision
from .montecarlo.results import RunResult
from .montecarlo.runner import run
from .montecarlo.seeding import SeedLike, check_stream_keys, normalize_seed
from .results.formats import EVENTS, MANIFEST, REPLICATIONS, RUN_FORMAT
from .results.manifest import read_manifest
from .results.rundir import EventLogWriter, ReplicationWriter, RunDirectory
from .scenario import Scenario, load, loads

__all__ = ["run_to_directory", "trace", "trace_run"]


def run_to_directory(
    scenario: Scenario | str | Path,
    out: str | Path,
    *,
    replications: int,
    seed: SeedLike,
    overrides: Mapping[str, Any] | None = None,
    uncertainty: bool = False,
    events: bool = False,
    progress: Callable[[int], None] | None = None,
    precision: float | None = None,
    max_replications: int | None = None,
    engine: str = "auto",
) -> RunResult:
    """Run a scenario and write its self-describing run directory to ``out``.

    Rows are streamed to ``replications.csv`` as replications finish; the
    manifest is written even if the run fails.  With ``precision``,
    ``replications`` is the block size of an adaptive run
    (:func:`~escalate.montecarlo.precision.run_to_precision`) and the
    manifest records how many replications were needed.  ``engine`` chooses
    the engine (:mod:`~escalate.engine.selection`); the
    manifest and the summary record which ran and why.  ``scenario`` may be
    the path of a scenario file.  Bad arguments raise :class:`UsageError`
    before the directory is made.
    """
    check_scenario(scenario, compiled=False)
    if not isinstance(out, str | Path):
        raise UsageError(f"out must be a directory path, found {out!r}")
    replications = check_replications(replications)
    uncertainty = check_flag(uncertainty, "uncertainty")
    events = check_flag(events, "events")
    check_callback(progress, "progress")
    if precision is not None:
        precision, replications, bound = check_precision(
            precision, replications, max_replications or max(DEFAULT_MAX_REPLICATIONS,
                                                             replications))
    overrides = normalize_overrides(overrides)
    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    compiled = scenario.compile(overrides)
    seed_value = normalize_seed(seed)
    engine_name, engine_reason = selection.choose_engine(compiled, engine, keep_log=events)
    with RunDirectory(out) as directory:
        directory.manifest.update(
            format=RUN_FORMAT,
            scenario=scenario.provenance(),
            overrides=dict(overrides or {}),
            seed=seed_value,
            replications=replications,
            uncertainty=uncertainty,
            engine=engine_name,
            engine_reason=engine_reason,
        )
        directory.record_start()
        sinks: list[Any] = [ReplicationWriter(directory.open(REPLICATIONS), compiled, uncertainty)]
        if events:
            sinks.append(EventLogWriter(directory.open(EVENTS)))
        if precision is None:
            result = run(compiled, replications=replications, seed=seed_value,
                         uncertainty=uncertainty, keep_replications=False, sinks=sinks,
                         progress=progress, keep_log=events, engine=engine)
        else:
            directory.manifest["precision"] = {"half_width": precision, "block": replications,
                                               "max_replications": bound}
            result = run_to_precision(compiled, precision=precision, block=replications,
                                      max_replications=bound, seed=seed_value,
                                      uncertainty=uncertainty, sinks=sinks, progress=progress,
                                      keep_log=events, engine=engine)
            directory.manifest["replications"] = result.replications
            assert result.precision is not None
            directory.manifest["precision"].update(replications=result.replications,
                                                   reached=result.precision["reached"])
        directory.manifest.update(engine=result.engine, engine_reason=result.engine_reason)
        summary = result.summary
        directory.write_summary(summary)
    return result


def trace(scenario: Scenario | str | Path, *, seed: SeedLike, replication: int = 0,
          overrides: Mapping[str, Any] | None = None, uncertainty: bool = False,
          engine: str = "auto") -> tuple[ReplicationRecord, int, str]:
    """Run one replication with its full event log; return the record, the seed and the engine.

    The engine is chosen as :func:`~escalate.montecarlo.runner.run` chooses it
    (``auto``, ``reference`` or ``batch``), so the replication told is the one
    with the same index in a run of the same scenario, seed and engine: its
    row of ``replications.csv``.  Raises :class:`UsageError` for bad
    arguments (a negative index, an unknown engine), :class:`SimulationError`
    when it fails.
    """
    check_scenario(scenario, compiled=False)
    replication, _ = check_stream_keys(replication, 1, name="the replication index")
    uncertainty = check_flag(uncertainty, "uncertainty")
    overrides = normalize_overrides(overrides)
    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    compiled = scenario.compile(overrides)
    seed_value = normalize_seed(seed)
    record, name = selection.trace(compiled, StreamKeys(seed_value), replication, engine,
                                   uncertainty=uncertainty)
    return record, seed_value, name


def trace_run(directory: str | Path, *, replication: int = 0,
              ) -> tuple[CompiledScenario, ReplicationRecord, int, str]:
    """Tell replication ``replication`` of the run in ``directory``, as that run made it.

    The scenario, overrides, seed, uncertainty and engine come from the run's
    manifest, so the record is the run's row for that replication.  Returns
    the compiled scenario (overrides applied), the record (with its event
    log), the seed and the engine.
    Raises :class:`UsageError` when the directory holds no run or the run
    did not make the replication, :class:`OutputError` when its manifest cannot
    be read.
    """
    path = Path(directory) / MANIFEST
    manifest = read_manifest(Path(directory))
    if manifest is None:
        raise UsageError(f"{directory} holds no run (no {MANIFEST})")
    if manifest.get("format") != RUN_FORMAT:
        raise UsageError(f"{path} is not the manifest of a run (an `escalate run --out` "
                         "directory)")
    resolved = (manifest.get("scenario") or {}).get("resolved")
    seed, engine = manifest.get("seed"), manifest.get("engine")
    replications = manifest.get("replications")
    overrides = manifest.get("overrides") or {}
    if (not isinstance(resolved, dict) or not isinstance(seed, int)
            or engine not in list(selection.ENGINE_CLASSES) or not isinstance(replications, int)
            or not isinstance(overrides, dict)):
        raise OutputError(f"{path} does not record the scenario, seed, engine and "
                          "replications of its run")
    if not 0 <= replication < replications:
        raise UsageError(f"the run in {directory} has {replications:,} replications, numbered "
                         f"0 to {replications - 1:,}; found {replication}")
    scenario = loads(json.dumps(resolved, indent=2), str(path))
    record, seed_value, name = trace(scenario, seed=seed, replication=replication,
                                     overrides=overrides,
                                     uncertainty=bool(manifest.get("uncertainty")),
                                     engine=engine)
    return scenario.compile(overrides), record, seed_value, name
