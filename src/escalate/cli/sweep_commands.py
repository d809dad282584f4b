"""Commands that sweep parameters: sweep and merge.

Exit codes: 0 when every point ran, 2 for bad input (nothing runs), 3 when
some points failed (their rows hold the errors), 130 when interrupted (the
finished points are kept: continue with ``--resume``).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from ..errors import UsageError
from ..scenario import load
from ..sweeps.design import DESIGNS
from ..sweeps.merge import merge_shards
from ..sweeps.runner import SweepProgress, make_executor, run_sweep
from .app import cli
from .common import (
    check_executor_options,
    engine_option,
    executor_options,
    seed_option,
    stderr,
    stdout,
)

#: seconds between progress lines when standard error is not a terminal
LOG_INTERVAL = 10.0
FAILED_POINTS = 3


def _parse_vary(items: tuple[str, ...]) -> dict[str, str]:
    vary: dict[str, str] = {}
    for item in items:
        name, sep, spec = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(f"--vary expects NAME=SPEC (e.g. p_hub=0:0.2:21), found {item!r}")
        if name in vary:
            raise UsageError(f"--vary gives {name!r} twice")
        vary[name] = spec
    return vary


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _line(update: SweepProgress) -> str:
    failed = f", {update.failed} failed" if update.failed else ""
    return (f"sweep: {update.done:,}/{update.total:,} points{failed}, "
            f"{update.replications_per_second:,.0f} replications/s, "
            f"elapsed {_duration(update.elapsed_seconds)}, ETA {_duration(update.eta_seconds)}")


@contextmanager
def _progress(quiet: bool) -> Iterator[Callable[[SweepProgress], None]]:
    """A progress bar on a terminal, periodic log lines otherwise, nothing with --quiet."""
    if quiet:
        yield lambda update: None
        return
    if stderr.is_terminal:
        columns = (TextColumn("sweep"), BarColumn(),
                   TextColumn("{task.completed:,.0f}/{task.total:,.0f} points"),
                   TextColumn("{task.fields[rate]}"), TextColumn("ETA"), TimeRemainingColumn())
        with Progress(*columns, console=stderr, transient=True) as bar:
            tasks: list[TaskID] = []

            def draw(update: SweepProgress) -> None:
                rate = f"{update.replications_per_second:,.0f} replications/s"
                if not tasks:  # the first update says how many points there are
                    tasks.append(bar.add_task("sweep", total=update.total,
                                              completed=update.done, rate=rate))
                bar.update(tasks[0], completed=update.done, rate=rate)
                if update.last is not None and not update.last.ok:
                    bar.console.print(f"point {update.last.point} failed: {update.last.error}",
                                      markup=False, highlight=False)
            yield draw
        return
    last_line = [0.0]

    def log(update: SweepProgress) -> None:
        if update.last is None:
            resumed = f" ({update.resumed:,} already done)" if update.resumed else ""
            _log(f"sweep: {update.total:,} points{resumed}")
            last_line[0] = time.monotonic()
            return
        if not update.last.ok:
            _log(f"sweep: point {update.last.point} failed: {update.last.error}")
        finished = update.done == update.total
        if finished or time.monotonic() - last_line[0] >= LOG_INTERVAL:
            _log(_line(update))
            last_line[0] = time.monotonic()
    yield log


def _log(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--vary", "vary_items", multiple=True, metavar="NAME=SPEC",
              help="A parameter and its values (repeatable): start:stop:count, a list "
                   "0.01,0.05,0.1, start:stop (LHS/Sobol) or dist (its own distribution).")
@click.option("--design", type=click.Choice(DESIGNS), default="grid", show_default=True,
              help="Full factorial grid, Latin hypercube, scrambled Sobol, or a list of points.")
@click.option("--points", type=click.IntRange(min=1), help="Number of LHS or Sobol points.")
@click.option("--points-file", type=click.Path(path_type=Path),
              help="With --design list: a CSV with a header of parameter names, a row per point.")
@click.option("-n", "--replications", type=click.IntRange(1, 10**9), default=1000,
              show_default=True,
              help="Replications per point (with --precision: the size of each block).")
@seed_option
@click.option("--uncertainty", is_flag=True,
              help="Draw the parameters not varied from their distributions per replication.")
@click.option("--precision", type=float, metavar="H",
              help="Run blocks of replications until every outcome's 95% half-width is <= H.")
@click.option("--max-replications", type=click.IntRange(1, 10**9),
              help="With --precision: at most this many replications per point "
                   "[default: 100,000].")
@executor_options
@click.option("--shard", metavar="I/N",
              help="Run only shard I of N (every N-th point); combine with `escalate merge`.")
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="The sweep directory (manifest, one file per point, points.csv).")
@click.option("--resume", is_flag=True, help="Continue the sweep in --out, skipping finished points.")
@engine_option
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or progress lines.")
@click.pass_context
def sweep(context: click.Context, file: Path, vary_items: tuple[str, ...], design: str,
          points: int | None, points_file: Path | None, replications: int, seed: int,
          uncertainty: bool, precision: float | None, max_replications: int | None,
          workers: int | None, scheduler: str | None, connect_timeout: float | None,
          dask_local: int | None, shard: str | None, out: Path, resume: bool, engine: str,
          quiet: bool) -> None:
    """Run a scenario at every point of a design of parameter values, one row per point.

    Exit status 0 when every point ran, 2 for bad input, 3 when some points failed.
    """
    scenario = load(file)
    vary = _parse_vary(vary_items)
    connect_seconds = check_executor_options(workers, scheduler, dask_local, connect_timeout)
    # Connected to only once the sweep's checks pass, and before its directory is made.
    executor = make_executor(workers, scheduler, dask_local, connect_seconds)
    with _progress(quiet) as progress:
        report = run_sweep(scenario, vary, design=design, points=points,
                           points_file=points_file, replications=replications, seed=seed,
                           uncertainty=uncertainty, precision=precision,
                           max_replications=max_replications, executor=executor, shard=shard,
                           out=out, resume=resume, progress=progress, engine=engine)
    failed = f", {report.failures:,} failed" if report.failures else ""
    share = f" (shard {shard})" if shard else ""
    stdout.print(f"{report.points:,} points{share}{failed}; {report.replications:,} "
                 f"replications; sweep directory: {out}", markup=False)
    if report.failures:
        for failure in report.manifest.get("failed_points", [])[:FAILED_POINTS]:
            stdout.print(f"  point {failure['point']}: {failure['error']}", markup=False)
        context.exit(3)


@cli.command()
@click.argument("shards", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), required=True,
              help="The merged sweep directory (must be new).")
@click.pass_context
def merge(context: click.Context, shards: tuple[Path, ...], out: Path) -> None:
    """Combine the shard directories of one sweep (--shard I/N runs) into one sweep directory.

    Exit status 0 when every point ran, 2 when the shards do not form one whole
    sweep, 3 when some points failed.
    """
    manifest = merge_shards(shards, out)
    failures = int(manifest.get("failures", 0))
    failed = f", {failures:,} failed" if failures else ""
    stdout.print(f"merged {len(shards)} shards: {manifest['points_done']:,} points{failed}; "
                 f"sweep directory: {out}", markup=False)
    if failures:
        context.exit(3)
