"""Commands that run scenarios: run and trace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource

from ..montecarlo.precision import DEFAULT_MAX_REPLICATIONS, run_to_precision
from ..montecarlo.runner import run as run_scenario
from ..scenario import load
from ..workflow import run_to_directory, trace_run
from ..workflow import trace as trace_replication
from .app import cli
from .common import (
    check_overrides,
    check_uncertainty,
    engine_option,
    overrides_option,
    parse_overrides,
    progress_bar,
    seed_option,
    stdout,
)
from .terminal import render_summary, render_trace


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("-n", "--replications", type=click.IntRange(1, 10**9), default=10_000,
              show_default=True, help="Number of replications.")
@seed_option
@overrides_option
@click.option("--uncertainty", is_flag=True,
              help="Draw the uncertain parameters per replication (two-level Monte Carlo).")
@click.option("--out", type=click.Path(path_type=Path),
              help="Write a run directory (manifest, summary, one row per replication).")
@click.option("--events", is_flag=True, help="With --out, also write every event (events.csv).")
@click.option("--format", "format_", type=click.Choice(["table", "json"]), default="table",
              show_default=True, help="How to print the summary.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@click.option("--precision", type=float, metavar="H",
              help="Run blocks of -n replications until every outcome's 95% half-width is <= H.")
@click.option("--max-replications", type=click.IntRange(1, 10**9),
              help="With --precision: stop after this many replications [default: 100,000].")
@engine_option
def run(file: Path, replications: int, seed: int, assignments: tuple[str, ...],
        uncertainty: bool, out: Path | None, events: bool, format_: str, quiet: bool,
        precision: float | None, max_replications: int | None, engine: str) -> None:
    """Run a scenario many times and summarise the outcomes."""
    scenario = load(file)
    overrides = parse_overrides(assignments)
    check_overrides(scenario, overrides)  # every override is checked before anything runs
    check_uncertainty(scenario, overrides, uncertainty)
    if events and out is None:
        raise click.UsageError("--events needs --out DIR")
    if max_replications is not None and precision is None:
        raise click.UsageError("--max-replications goes with --precision")
    bound = max_replications or max(DEFAULT_MAX_REPLICATIONS, replications)
    total = replications if precision is None else bound
    with progress_bar(total, "replications", not quiet and total >= 5_000) as advance:
        if out is not None:
            result = run_to_directory(scenario, out, replications=replications, seed=seed,
                                      overrides=overrides, uncertainty=uncertainty,
                                      events=events, progress=advance, precision=precision,
                                      max_replications=bound, engine=engine)
        elif precision is not None:
            result = run_to_precision(scenario, precision=precision, block=replications,
                                      max_replications=bound, seed=seed, overrides=overrides,
                                      uncertainty=uncertainty, progress=advance, engine=engine)
        else:
            result = run_scenario(scenario, replications=replications, seed=seed,
                                  overrides=overrides, uncertainty=uncertainty,
                                  keep_replications=False, progress=advance, engine=engine)
    summary = result.summary
    if format_ == "json":
        click.echo(json.dumps(summary, indent=2, allow_nan=False))
    else:
        render_summary(summary, stdout)
        if out is not None:
            stdout.print(f"run directory: {out}", markup=False)
    if result.precision is not None and not result.precision["reached"]:
        click.echo(precision_warning(result.precision), err=True)


def precision_warning(precision: dict[str, Any]) -> str:
    """The warning printed when ``--precision`` was not reached within ``--max-replications``."""
    return (f"warning: --precision {precision['target']:g} not reached: after "
            f"{precision['replications']:,} replications (--max-replications) the widest 95% "
            f"half-width is {precision['achieved']:.4f} (±{100 * precision['achieved']:.1f} "
            f"percentage points), for outcome {precision['outcome']!r}; raise "
            f"--max-replications to narrow it further")


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@seed_option
@click.option("--replication", type=click.IntRange(min=0), default=0, show_default=True,
              help="Which replication to tell (its own random stream).")
@overrides_option
@click.option("--uncertainty", is_flag=True, help="Draw uncertain parameters as in a two-level run.")
@click.option("--format", "format_", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@engine_option
def trace(file: Path, seed: int, replication: int, assignments: tuple[str, ...],
          uncertainty: bool, format_: str, engine: str) -> None:
    """Tell the story of one replication, event by event.

    FILE is a scenario file, or a run directory (`escalate run --out DIR`):
    then the scenario, overrides, seed, uncertainty and engine are the run's,
    and the story is that of its row in replications.csv.  For a scenario
    file, the replication is the one with the same index in `escalate run`
    of the same scenario, seed and engine.
    """
    if file.is_dir():
        context = click.get_current_context()
        given = [f"--{name.replace('_', '-')}" if name != "assignments" else "--set"
                 for name in ("seed", "assignments", "uncertainty", "engine")
                 if context.get_parameter_source(name) is not ParameterSource.DEFAULT]
        if given:
            raise click.UsageError(f"{', '.join(given)} cannot be given with a run directory, "
                                   "whose manifest fixes them")
        compiled, record, seed_value, engine_used = trace_run(file, replication=replication)
    else:
        scenario = load(file)
        overrides = parse_overrides(assignments)
        check_overrides(scenario, overrides)
        check_uncertainty(scenario, overrides, uncertainty)
        record, seed_value, engine_used = trace_replication(
            scenario, seed=seed, replication=replication, overrides=overrides,
            uncertainty=uncertainty, engine=engine)
        compiled = scenario.compile(overrides)
    if format_ == "json":
        events = [{"day": e.time, "date": d.isoformat() if (d := compiled.date_of(e.time)) else None,
                   "event": e.event, "actor": e.actor, "status": e.status, "level": e.level,
                   "detail": e.detail} for e in record.log or ()]
        click.echo(json.dumps({"replication": record.index, "seed": seed_value,
                               "engine": engine_used, "terminal": record.terminal, "end_day": record.end_time,
                               "max_level": record.max_level, "events": events}, indent=2))
    else:
        render_trace(compiled, record, seed_value, engine_used, stdout)
