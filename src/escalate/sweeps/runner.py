"""Running a sweep: design, checks, executor, checkpoints and the final table.

:func:`run_sweep` is the one driver behind ``escalate sweep`` and
:func:`sweep`.  It builds the design from the sweep's own random stream,
checks every point, then hands the unfinished points of its share (all of
them, or one shard's) to an executor and keeps each result as it arrives.
Point ``j``'s replication ``i`` draws from the stream keyed by
``(seed, j, i)``, so the table is the same whatever ran the points, in
whatever order, in however many sessions.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..engine.selection import choose_engine
from ..errors import SimulationError, UsageError
from ..montecarlo.arguments import check_callback, check_flag, check_replications, check_scenario
from ..montecarlo.precision import DEFAULT_MAX_REPLICATIONS, check_precision
from ..montecarlo.seeding import SeedLike, design_rng, is_whole_number, normalize_seed
from ..results.formats import SWEEP_FORMAT, sweep_columns
from ..results.manifest import now
from ..results.sweepdir import SharedManifest, Tally, load_sweep, row_values, write_table
from ..scenario import Scenario, load
from .checkpoint import (
    MemoryStore,
    SweepDirectory,
    check_resumable,
    check_sweep_directory,
    package_versions,
)
from .design import Design, ParameterInfo, build_design
from .evaluate import PointResult, PointTask, SweepContext
from .executors import (
    CONNECT_SECONDS,
    DaskExecutor,
    Executor,
    ProcessExecutor,
    SerialExecutor,
    available_cores,
    check_connect_seconds,
    parse_shard,
    shard_points,
)
from .points import validate_points

__all__ = ["SweepProgress", "SweepReport", "make_executor", "run_sweep", "sweep"]


@dataclass(frozen=True)
class SweepProgress:
    """Where a sweep stands, passed to the ``progress`` callback after each point."""

    total: int
    done: int
    failed: int
    resumed: int
    replications: int
    elapsed_seconds: float
    last: PointResult | None = None

    @property
    def replications_per_second(self) -> float:
        return self.replications / self.elapsed_seconds if self.elapsed_seconds > 0 else 0.0

    @property
    def eta_seconds(self) -> float | None:
        """Seconds left at this session's pace (None before its first point)."""
        ran = self.done - self.resumed
        if ran <= 0:
            return None
        return (self.total - self.done) * self.elapsed_seconds / ran


@dataclass
class SweepReport:
    """What a finished sweep (or shard) did."""

    design: Design
    outcomes: list[str]
    selection: range
    failures: int
    replications: int
    wall_seconds: float
    directory: Path | None = None
    manifest: dict[str, Any] = field(default_factory=dict)
    rows: list[PointResult] | None = None

    @property
    def points(self) -> int:
        return len(self.selection)


def make_executor(workers: int | None = 1, scheduler: Any = None,
                  dask_local: int | None = None,
                  connect_seconds: float = CONNECT_SECONDS) -> Executor:
    """The executor for these options: Dask if asked, else processes if ``workers`` > 1.

    ``workers=None`` means every core available; ``connect_seconds`` is how
    long to wait for the ``scheduler`` to answer.
    """
    if scheduler is not None and dask_local is not None:
        raise UsageError("give either --scheduler or --dask-local, not both")
    workers = _workers(workers, "workers", "every core available")
    dask_local = _workers(dask_local, "dask_local", "no local Dask cluster")
    check_connect_seconds(connect_seconds)
    if scheduler is not None:
        return DaskExecutor(scheduler, connect_seconds=connect_seconds)
    if dask_local is not None:
        return DaskExecutor(local_workers=dask_local)
    workers = available_cores() if workers is None else workers
    return SerialExecutor() if workers == 1 else ProcessExecutor(workers)


def _workers(value: object, name: str, none: str) -> int | None:
    """Return a number of workers as an int (None stays None); raise :class:`UsageError`."""
    if value is None:
        return None
    if not is_whole_number(value) or value < 1:
        raise UsageError(f"{name} must be a whole number of at least 1 (or None: {none}), "
                         f"found {value!r}")
    return int(value)


def _check_arguments(scenario: object, vary: object, shard: object, out: object,
                     points_file: object, progress: object) -> tuple[int, int] | None:
    """Check the arguments of :func:`run_sweep` that are not checked on their way elsewhere.

    Returns the shard as ``(index, count)``.  Raises :class:`UsageError`.
    """
    check_scenario(scenario, compiled=False)
    if vary is not None:
        if not isinstance(vary, Mapping):
            raise UsageError("vary must be a mapping of parameter names to a SPEC or a list of "
                             f"values, such as {{'p_retaliate': '0:0.2:21'}}, found {vary!r}")
        for name in vary:
            if not isinstance(name, str):
                raise UsageError(f"vary: a parameter is named by a string, found {name!r}")
    for name, path in (("out", out), ("points_file", points_file)):
        if path is not None and not isinstance(path, str | Path):
            raise UsageError(f"{name} must be a path (or None), found {path!r}")
    check_callback(progress, "progress")
    if shard is None:
        return None
    if isinstance(shard, str):
        return parse_shard(shard)
    if (not isinstance(shard, tuple | list) or len(shard) != 2
            or not all(is_whole_number(part) for part in shard)):
        raise UsageError(f"shard must be 'I/N' or a pair (I, N) of whole numbers, such as "
                         f"'2/8', found {shard!r}")
    return parse_shard(f"{shard[0]}/{shard[1]}")


def _parameter_info(scenario: Scenario) -> dict[str, ParameterInfo]:
    compiled = scenario.compiled
    return {name: ParameterInfo(uncertainty, scenario.spec.parameters[name].range)
            for name, uncertainty in zip(compiled.parameter_names,
                                         compiled.parameter_uncertainty, strict=True)}


def run_sweep(
    scenario: Scenario | str | Path,
    vary: Mapping[str, Any] | None = None,
    *,
    design: str = "grid",
    points: int | None = None,
    points_file: str | Path | None = None,
    replications: int = 1000,
    seed: SeedLike = None,
    uncertainty: bool = False,
    precision: float | None = None,
    max_replications: int | None = None,
    engine: str | None = None,
    executor: Executor | None = None,
    shard: str | tuple[int, int] | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: Callable[[SweepProgress], None] | None = None,
) -> SweepReport:
    """Run a parameter sweep and return what it did (see :func:`sweep` for the options).

    With ``out``, every finished point is kept in the sweep directory and the
    table is written there; without, results stay in memory.  Raises
    :class:`ScenarioError` for invalid points and :class:`UsageError` for bad
    options, an ``engine`` that cannot run the scenario or an ``out`` that
    cannot hold this sweep (all before anything runs), :class:`OutputError`
    when the directory cannot be written.  Points
    whose simulation fails do not raise: they are counted in ``failures``.
    """
    shard_range = _check_arguments(scenario, vary, shard, out, points_file, progress)
    replications = check_replications(replications)
    uncertainty = check_flag(uncertainty, "uncertainty")
    resume = check_flag(resume, "resume")
    if is_whole_number(points):
        points = int(points)
    if not isinstance(scenario, Scenario):
        scenario = load(scenario)
    if engine is not None:
        # Checked once here rather than failing at every point.
        choose_engine(scenario.compiled, engine)
    if max_replications is not None and precision is None:
        raise UsageError("--max-replications bounds an adaptive run: give --precision too")
    if precision is not None:
        max_replications = max_replications or max(DEFAULT_MAX_REPLICATIONS, replications)
        precision, replications, max_replications = check_precision(
            precision, replications, max_replications)
    seed_value = normalize_seed(seed)
    if out is not None:
        # A wrong --out is reported before the design is built and its points checked.
        check_sweep_directory(out, resume=resume)
    grid = build_design(design, dict(vary or {}), points=points, points_file=points_file,
                        rng=design_rng(seed_value), parameters=_parameter_info(scenario))
    validate_points(scenario, grid)
    selection = shard_points(grid.points, shard_range)
    outcomes = [outcome.name for outcome in scenario.compiled.outcomes]
    context = SweepContext.of(scenario, grid.names, seed=seed_value, replications=replications,
                              uncertainty=uncertainty, precision=precision,
                              max_replications=max_replications, engine=engine)
    executor = executor or SerialExecutor()
    manifest = _manifest(scenario, grid, context, executor, shard_range, len(selection))
    if out is not None:
        # A sweep made differently is refused before any worker or cluster is started.
        check_resumable(out, manifest, resume=resume)
    with contextlib.ExitStack() as running:
        # Entered before the directory is made: a Dask scheduler is connected to now, so
        # one that cannot be reached leaves no directory behind (and a resumed one as it was).
        running.enter_context(executor)
        manifest["executor"] = executor.describe()
        store: SweepDirectory | MemoryStore = (
            MemoryStore() if out is None else SweepDirectory(out, manifest, resume=resume))
        report = _run_points(store, executor, running, context, grid, selection, outcomes,
                             manifest, progress)
    return report


def _run_points(store: SweepDirectory | MemoryStore, executor: Executor,
                running: contextlib.ExitStack, context: SweepContext, grid: Design,
                selection: range, outcomes: list[str], manifest: dict[str, Any],
                progress: Callable[[SweepProgress], None] | None) -> SweepReport:
    """Run the unfinished points of ``selection``, keep each result, and write the table.

    The manifest records how far the sweep got, also when it fails or is
    interrupted.  ``running`` holds the entered executor, closed once the
    last point is in (its workers are not needed for the table).
    """
    started = time.perf_counter()
    directory = store if isinstance(store, SweepDirectory) else None
    stopped: BaseException | None = None
    try:
        if directory is not None:
            directory.write_manifest()
        # Files of an earlier run are read once, in case a machine crash cut one short.
        done = store.finished(grid.points, check=directory is not None and directory.resumed)
        resumed = int(done[selection.start::selection.step].sum()) if len(selection) else 0
        tasks = _tasks(grid, selection, done)
        replications_run = failed_now = 0
        if progress is not None:
            progress(SweepProgress(len(selection), resumed, 0, resumed, 0, 0.0))
        for ran, result in enumerate(_results(executor, context, tasks, directory), start=1):
            store.record(result, grid.names, outcomes)
            replications_run += result.replications
            failed_now += not result.ok
            if progress is not None:
                progress(SweepProgress(len(selection), resumed + ran, failed_now, resumed,
                                       replications_run, time.perf_counter() - started,
                                       result))
        running.close()
        report = _assemble(store, grid, selection, outcomes, manifest)
        manifest["status"] = "completed"
    except KeyboardInterrupt as exc:
        manifest["status"] = "interrupted"
        stopped = exc
        raise
    except BaseException as exc:
        manifest["status"] = "failed"
        stopped = exc
        manifest["error"] = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        wall = time.perf_counter() - started
        timings = manifest.setdefault("timings", {})
        timings.update(finished=now(), wall_seconds=round(wall, 3))
        if directory is not None:
            manifest["points_done"] = int(directory.finished(grid.points)[
                selection.start::selection.step].sum()) if len(selection) else 0
            try:
                directory.write_manifest(stopped)
            finally:
                directory.close()
    report.wall_seconds = wall
    report.directory = directory.path if directory is not None else None
    return report


def _results(executor: Executor, context: SweepContext, tasks: Iterator[PointTask],
             directory: SweepDirectory | None) -> Iterator[PointResult]:
    """The executor's results; when it loses its workers, how to continue a kept sweep.

    (The executors do not say it themselves: a sweep without a directory, or a
    sensitivity analysis, keeps nothing to continue.)
    """
    try:
        yield from executor.map(context, tasks)
    except SimulationError as exc:
        if directory is None:
            raise
        raise SimulationError(f"{exc}; the finished points are kept in {directory.path}: "
                              "continue with --resume") from exc


def _tasks(grid: Design, selection: range, done: np.ndarray) -> Iterator[PointTask]:
    for index in selection:
        if not done[index]:
            yield PointTask(index, tuple(float(v) for v in grid.values[index]))


def _manifest(scenario: Scenario, grid: Design, context: SweepContext, executor: Executor,
              shard: tuple[int, int] | None, selected: int) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "format": SWEEP_FORMAT,
        "scenario": scenario.provenance(),
        "design": grid.describe(),
        "seed": context.seed,
        "replications": context.replications,
        "uncertainty": context.uncertainty,
        "engine": context.engine,
        "outcomes": [outcome.name for outcome in scenario.compiled.outcomes],
    }
    if context.precision is not None:
        manifest["precision"] = {"half_width": context.precision, "block": context.replications,
                                 "max_replications": context.max_replications}
    manifest["executor"] = {"kind": "starting"}
    if shard is not None:
        manifest["shard"] = {"index": shard[0], "count": shard[1], "points": selected}
    manifest.update(versions=package_versions(), command=sys.argv,
                    timings={"started": now()}, status="running")
    return manifest


def _assemble(store: SweepDirectory | MemoryStore, grid: Design, selection: range,
              outcomes: list[str], manifest: dict[str, Any]) -> SweepReport:
    """Write (or collect) the table in point order and record the totals in the manifest."""
    results = store.results(selection, grid.names, grid.values)
    rows: list[PointResult] | None = None
    if isinstance(store, SweepDirectory):
        tally = write_table(results, store.path, grid.names, outcomes, manifest)
    else:
        rows = list(results)
        tally = Tally()
        for result in rows:
            tally.add(result)
        tally.record(manifest)
    return SweepReport(grid, outcomes, selection, tally.failed, tally.replications, 0.0,
                       manifest=manifest, rows=rows)


def sweep(
    scenario: Scenario | str | Path,
    vary: Mapping[str, Any] | None = None,
    *,
    design: str = "grid",
    points: int | None = None,
    points_file: str | Path | None = None,
    replications: int = 1000,
    seed: SeedLike = None,
    uncertainty: bool = False,
    precision: float | None = None,
    max_replications: int | None = None,
    engine: str | None = None,
    workers: int | None = 1,
    scheduler: Any = None,
    dask_local: int | None = None,
    connect_seconds: float = CONNECT_SECONDS,
    shard: str | tuple[int, int] | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    progress: Callable[[SweepProgress], None] | None = None,
) -> Any:
    """Run a scenario at every point of a design; return the table as a pandas DataFrame.

    ``vary`` maps parameter names to a SPEC (``"0:0.2:21"``, ``"0.01,0.05"``,
    ``"dist"``) or a list of values; ``design`` is ``grid``, ``lhs``,
    ``sobol`` (with ``points``) or ``list`` (with ``points_file``, or ``vary``
    giving equal-length columns).  Each point runs ``replications``
    replications keyed by ``(seed, point, replication)``; with ``precision``
    it runs blocks of ``replications`` until every outcome's 95% half-width
    is at most ``precision`` (or ``max_replications``).  ``uncertainty``
    draws the parameters that are not varied from their distributions per
    replication (two-level Monte Carlo).  ``workers`` (``None``: every core),
    ``scheduler`` (a Dask address or Client, given ``connect_seconds`` to
    answer) or ``dask_local`` choose where points run, never what they give.  ``shard`` (``"I/N"``) runs every
    N-th point only; ``out`` keeps results in a sweep directory (continue a
    killed one with ``resume=True``).  ``engine`` is passed to
    :func:`escalate.run` when given.

    Raises :class:`ScenarioError` for invalid points, :class:`UsageError` for
    bad options, an ``engine`` that cannot run the scenario or an ``out`` that
    cannot hold this sweep, :class:`OutputError` for a directory that cannot be
    written.  Failed points are rows with
    ``status == "failed"`` and their ``error``.
    """
    executor = make_executor(workers, scheduler, dask_local, connect_seconds)
    report = run_sweep(scenario, vary, design=design, points=points, points_file=points_file,
                       replications=replications, seed=seed, uncertainty=uncertainty,
                       precision=precision, max_replications=max_replications, engine=engine,
                       executor=executor, shard=shard, out=out, resume=resume,
                       progress=progress)
    if report.directory is not None:
        return load_sweep(report.directory)
    return frame_of(report)


def frame_of(report: SweepReport) -> Any:
    """The rows of an in-memory sweep as the DataFrame :func:`load_sweep` would return."""
    try:
        import pandas as pd
    except ImportError as exc:
        raise UsageError("sweep tables need pandas: pip install 'escalate[sweep]'") from exc
    header = sweep_columns(report.design.names, report.outcomes)
    rows = [row_values(result, len(report.outcomes)) for result in report.rows or ()]
    frame = pd.DataFrame(rows, columns=header)
    frame = frame.astype(dict.fromkeys(header[len(report.design.names) + 4:], float))
    frame.attrs["manifest"] = SharedManifest(report.manifest)
    return frame
