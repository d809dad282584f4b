"""Options and helpers shared by the commands."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from ..engine.selection import ENGINES
from ..errors import Diagnostic, ScenarioError, UsageError
from ..scenario import Scenario
from ..sweeps.executors import CONNECT_SECONDS, MAX_CONNECT_SECONDS

__all__ = ["check_executor_options", "check_overrides", "engine_option", "executor_options",
           "overrides_option", "parse_overrides", "progress_bar", "seed_option", "stderr",
           "stdout"]

# Wide tables when the output goes to a file or a pipe rather than a terminal.
stdout = Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 160)
stderr = Console(stderr=True, highlight=False)

F = TypeVar("F", bound=Callable[..., Any])

DEFAULT_SEED = 20241117


def seed_option(function: F) -> F:
    return click.option("--seed", type=click.IntRange(min=0), default=DEFAULT_SEED,
                        show_default=True,
                        help="Seed of the random streams; the same seed gives the same numbers.")(
        function)


def engine_option(function: F) -> F:
    return click.option("--engine", type=click.Choice(list(ENGINES)), default="auto",
                        show_default=True,
                        help="Simulation engine: the batch engine when it can (auto), or one "
                        "of the two; the run records which ran and why.")(function)


def executor_options(function: F) -> F:
    """``--workers``, ``--scheduler`` (with ``--connect-timeout``) and ``--dask-local``.

    Where the points of a command run.
    """
    options = (
        click.option("--workers", type=click.IntRange(min=1),
                     help="Local worker processes [default: the cores available]."),
        click.option("--scheduler", metavar="tcp://HOST:PORT",
                     help="Run the points on a Dask cluster."),
        click.option("--connect-timeout", type=click.FloatRange(0, MAX_CONNECT_SECONDS,
                                                                min_open=True),
                     metavar="SECONDS",
                     help=f"With --scheduler: how long to wait for the scheduler to answer "
                          f"[default: {CONNECT_SECONDS:g}]."),
        click.option("--dask-local", type=click.IntRange(min=1), metavar="N",
                     help="Start a local Dask cluster of N workers and run the points on it."),
    )
    # Applied last to first, so that --help lists them in the order above.
    for option in reversed(options):
        function = option(function)
    return function


def check_executor_options(workers: int | None, scheduler: str | None,
                           dask_local: int | None, connect_timeout: float | None = None) -> float:
    """Refuse ``--workers`` with a Dask option, or ``--connect-timeout`` without ``--scheduler``.

    Returns the seconds to wait for the scheduler.  Raises :class:`UsageError`.
    """
    if workers is not None and (scheduler is not None or dask_local is not None):
        raise UsageError("--workers sets local processes; with Dask, the cluster's workers run "
                         "the points")
    if connect_timeout is not None and scheduler is None:
        raise UsageError("--connect-timeout is how long to wait for a --scheduler; give one, "
                         "or leave it out")
    return CONNECT_SECONDS if connect_timeout is None else connect_timeout


def overrides_option(function: F) -> F:
    return click.option("--set", "assignments", multiple=True, metavar="NAME=VALUE",
                        help="Override a parameter's value (repeatable), e.g. --set p_hub=0.1")(
        function)


def parse_overrides(assignments: Sequence[str]) -> dict[str, Any]:
    """Turn ``NAME=VALUE`` strings into overrides; values stay text unless they are numbers."""
    overrides: dict[str, Any] = {}
    for item in assignments:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise UsageError(f"--set expects NAME=VALUE, found {item!r}")
        if name in overrides:
            raise UsageError(f"--set gives {name!r} twice")
        try:
            overrides[name] = float(value)
        except ValueError:
            lowered = value.lower()
            overrides[name] = lowered == "true" if lowered in ("true", "false") else value
    return overrides


def check_overrides(scenario: Scenario, overrides: dict[str, Any]) -> None:
    """Compile ``scenario`` with the ``--set`` overrides, blaming the option for their problems.

    A value of the wrong kind (true/false for a number, or the reverse) is a
    :class:`UsageError`; other problems of an override are a
    :class:`ScenarioError` located at ``--set NAME`` rather than at the value
    in the file, which the user did not write this time.
    """
    compiled = scenario.compiled
    declared = dict(zip(compiled.parameter_names, compiled.parameter_values, strict=True))
    for name, value in overrides.items():
        if name in declared and isinstance(value, bool) != isinstance(declared[name], bool):
            expected = ("true or false" if isinstance(declared[name], bool)
                        else "a number, a percentage or a duration")
            found = str(value).lower() if isinstance(value, bool) else repr(value)
            raise UsageError(f"--set {name}: expected {expected}, as in the scenario, found "
                             f"{found}")
    try:
        scenario.compile(overrides)
    except ScenarioError as exc:
        values = {f"parameters.{name}.value": name for name in overrides}
        raise ScenarioError([
            Diagnostic(d.message, path=f"--set {values[d.path]}", file=d.file, hint=d.hint)
            if d.path in values else d for d in exc.diagnostics]) from exc


def check_uncertainty(scenario: Scenario, overrides: dict[str, Any], uncertainty: bool) -> None:
    """Refuse ``--uncertainty`` when no parameter would be drawn: the run would be labelled
    two-level while every replication used point values."""
    if uncertainty and not scenario.compile(overrides).uncertain_parameters:
        held = [name for name in overrides
                if scenario.compiled.parameter_uncertainty[
                    scenario.compiled.parameter_names.index(name)] is not None]
        reason = (f"--set holds {', '.join(held)} at a value, and no other parameter has"
                  if held else "no parameter of the scenario has")
        raise UsageError(f"--uncertainty draws uncertain parameters, but {reason} a `ci90` or "
                         "an `uncertainty` (hint: leave out --uncertainty, or give a parameter "
                         "its uncertainty in the scenario)")


@contextmanager
def progress_bar(total: int, description: str, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Yield an ``advance(count)`` callback drawing a progress bar on a terminal."""
    if not enabled or not stderr.is_terminal:
        yield lambda count: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task(description, total=total)
        yield lambda count: progress.advance(task, count)
