"""Commands that read results and explain them: report, compare, sensitivity, score."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from ..engine.selection import ENGINES
from ..errors import UsageError
from .app import cli
from .common import (
    check_executor_options,
    engine_option,
    executor_options,
    progress_bar,
    stdout,
)

#: exit status of `compare --fail-if-changed` when an outcome moved (errors use 2 to 4)
CHANGED_EXIT = 1


def _write_or_echo(text: str, out: Path | None) -> None:
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
        return
    from ..report.writer import write_text

    write_text(out, text)
    stdout.print(f"written: {out}", markup=False)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--format", "format_", type=click.Choice(["html", "md"]), default="html",
              show_default=True, help="One self-contained HTML file, or Markdown with SVG charts "
              "in a folder beside it.")
@click.option("--out", type=click.Path(path_type=Path),
              help="The report file to write [default: DIRECTORY/report.html or report.md].")
def report(directory: Path, format_: str, out: Path | None) -> None:
    """Write the report of a run, sweep or sensitivity directory; nothing is re-run."""
    from ..report.writer import write_report

    written = write_report(directory, format_, out)
    extra = f" (and {len(written) - 1} chart files)" if len(written) > 1 else ""
    stdout.print(f"report: {written[0]}{extra}", markup=False)


def _comparison_table(comparison: Any) -> Table:
    from ..report.comparereport import COLUMNS, changes_sentence, comparison_rows, method_sentence

    caption = f"{method_sentence(comparison)}\n{changes_sentence(comparison)}"
    # As in the HTML and Markdown reports: an outcome of one input only is named, not dropped.
    for names, where in ((comparison.only_baseline, comparison.baseline),
                         (comparison.only_variant, comparison.variant)):
        if names:
            caption += f"\nOutcomes only in {where} (not compared): {', '.join(names)}"
    table = Table(title=f"{comparison.variant} against {comparison.baseline}",
                  title_justify="left", caption=caption, caption_justify="left")
    for i, column in enumerate(COLUMNS):
        table.add_column(column, justify="right" if 0 < i < 7 else "left")
    for row, item in zip(comparison_rows(comparison), comparison.outcomes, strict=True):
        style = "bold" if item.distinguishable else ""
        table.add_row(*(Text(cell, style=style) for cell in row))
    return table


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "format_", type=click.Choice(["table", "md", "html", "json"]),
              default="table", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), help="Write to a file instead of stdout.")
@click.option("-n", "--replications", type=click.IntRange(1, 10**9),
              help="Replications for scenario files [default: those of the first run "
                   "directory given, else 10000].")
@click.option("--seed", type=click.IntRange(min=0),
              help="Seed for scenario files, the same for all so they pair [default: that of "
                   "the first run directory given, else 20241117].")
@click.option("--uncertainty", is_flag=True, default=None,
              help="Run scenario files with uncertain parameters drawn per replication.")
@click.option("--engine", type=click.Choice(list(ENGINES)),
              help="Engine for scenario files [default: that of the first run directory "
                   "given, so that they pair with it, else auto].")
@click.option("--fail-if-changed", is_flag=True,
              help=f"Exit {CHANGED_EXIT} if any outcome changed: Holm's procedure over every "
                   "outcome of every input against the first rejects 'no difference' at a "
                   "family-wise error rate of 5%, so inputs whose models behave the same exit "
                   f"{CHANGED_EXIT} in at most about 5% of comparisons. The 95% intervals shown "
                   "are not adjusted: one can exclude 0 without the outcome counting as changed.")
def compare(inputs: tuple[Path, ...], format_: str, out: Path | None, replications: int | None,
            seed: int | None, uncertainty: bool | None, engine: str | None,
            fail_if_changed: bool) -> int:
    """Compare runs outcome by outcome against the first (run directories or scenario files).

    Scenario files are run on one seed (common random numbers), so their
    differences are measured on paired replications.  With --fail-if-changed
    the exit status is 1 when some outcome changed at a family-wise error rate
    of 5% over all the differences compared (Holm), else 0.
    """
    from ..analysis.compare import compare_runs
    from ..analysis.inputs import resolve_runs
    from ..report.comparereport import render_comparisons

    if len(inputs) < 2:
        raise UsageError(f"compare needs at least two inputs, found {len(inputs)}")
    given = [option for option, value in (("-n", replications), ("--seed", seed),
                                          ("--uncertainty", uncertainty), ("--engine", engine))
             if value is not None]
    if given and all(path.is_dir() for path in inputs):
        raise UsageError(f"{', '.join(given)} set how scenario files are run, and every input "
                         "is a run directory, whose manifest fixes them (hint: leave them out)")
    if out is not None:
        from ..results.destination import check_output_file

        suffixes = {"table": (".txt", ".text"), "md": (".md", ".markdown"),
                    "html": (".html", ".htm"), "json": (".json",)}[format_]
        check_output_file(out, hint=f"such as {out / f'comparison{suffixes[0]}'}",
                          suffixes=suffixes, inputs=inputs)
    runs = resolve_runs(inputs, replications=replications, seed=seed, uncertainty=uncertainty,
                        engine=engine)
    comparisons = compare_runs(runs)
    if format_ == "table":
        tables = [_comparison_table(c) for c in comparisons]
        if out is None:
            for table in tables:
                stdout.print(table)
        else:
            from io import StringIO

            from rich.console import Console

            # Rendered in memory first, so a bad --out fails as cleanly as the other formats.
            buffer = StringIO()
            console = Console(file=buffer, width=160, highlight=False)
            for table in tables:
                console.print(table)
            _write_or_echo(buffer.getvalue(), out)
    else:
        _write_or_echo(render_comparisons(comparisons, format_), out)
    changed = [f"{c.variant}: {o.outcome}" for c in comparisons for o in c.changed]
    if fail_if_changed and changed:
        click.echo(f"changed at a family-wise error rate of 5% over {comparisons[0].family} "
                   f"differences (Holm): {', '.join(changed)}", err=True)
        return CHANGED_EXIT
    return 0


def _ranking_table(method: str, data: dict[str, Any], name: str) -> Table:
    from ..report.sensitivityreport import index_columns, noise_sentence, ranking_rows

    entry = data["outcomes"][name]
    table = Table(title=f"Sensitivity of {entry['label'] or name} ({method})",
                  title_justify="left", caption=noise_sentence(data, entry),
                  caption_justify="left")
    for i, column in enumerate(("rank", "parameter", *index_columns(method))):
        table.add_column(column, justify="left" if i == 1 else "right")
    for row in ranking_rows(method, entry):
        table.add_row(*row)
    if entry["constant"]:
        table.add_row("–", "the probability did not vary across the sample", "", "", "", "")
    return table


@cli.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--method", type=click.Choice(["sobol", "morris"]), default="sobol",
              show_default=True, help="Sobol' indices (variance shares) or Morris screening.")
@click.option("--outcome", "outcomes", multiple=True, metavar="NAME",
              help="Outcome(s) to rank [default: all].")
@click.option("--samples", type=click.IntRange(2, 1_000_000),
              help="Sobol' base samples (a power of two) [default: 64], or Morris "
                   "trajectories [default: 10].")
@click.option("-n", "--replications", type=click.IntRange(1, 10**7), default=200,
              show_default=True, help="Replications per sample point.")
@click.option("--seed", type=click.IntRange(min=0), default=20241117, show_default=True)
@engine_option
@executor_options
@click.option("--out", type=click.Path(path_type=Path),
              help="Write a sensitivity directory (manifest, indices, samples) and its "
                   "report.html.")
@click.option("--format", "format_", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
def sensitivity(file: Path, method: str, outcomes: tuple[str, ...], samples: int | None,
                replications: int, seed: int, engine: str, workers: int | None,
                scheduler: str | None, connect_timeout: float | None, dask_local: int | None,
                out: Path | None, format_: str, quiet: bool) -> None:
    """Rank the uncertain parameters by their influence on each outcome (SALib).

    The sample points run on --workers local processes or a Dask cluster; the
    indices are the same whichever runs them.  --engine chooses the engine of
    every point's run, as for `run` and `sweep`.

    Exit status 0 when done, 2 for bad input, 3 when a point's simulation
    fails (the manifest in --out then says `failed`, with the error).
    """
    from ..optional import require

    require("SALib")
    require("scipy")
    from ..analysis.sensitivity import sample_points, sensitivity_analysis
    from ..scenario import load

    scenario = load(file)
    connect_seconds = check_executor_options(workers, scheduler, dask_local, connect_timeout)
    total = sample_points(method, samples, len(scenario.compiled.uncertain_parameters))
    with progress_bar(total, "sample points", not quiet) as advance:
        result = sensitivity_analysis(scenario, method=method,  # type: ignore[arg-type]
                                      samples=samples, replications=replications, seed=seed,
                                      engine=engine, workers=workers, scheduler=scheduler,
                                      dask_local=dask_local, connect_seconds=connect_seconds,
                                      out=out, outcomes=outcomes, progress=advance)
    chosen = list(outcomes) or list(result.data["outcomes"])
    if format_ == "json":
        click.echo(json.dumps(result.data, indent=2, allow_nan=False))
    else:
        for name in chosen:
            stdout.print(_ranking_table(method, result.data, name))
    if out is not None:
        from ..report.sensitivityreport import build_sensitivity_document
        from ..report.writer import default_report_path, write_document
        from ..results.reader import read_directory

        data = read_directory(out)
        document = build_sensitivity_document(data, list(outcomes) or None)  # type: ignore[arg-type]
        report = default_report_path(out, "html")
        write_document(document, report, "html")
        if format_ != "json":  # as `run --format json --out`: stdout holds the JSON alone
            stdout.print(f"sensitivity directory: {out} (report: {report})", markup=False)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--observed", type=click.Path(path_type=Path), required=True,
              help="What happened: an observations file (see scenarios/observed-2025-11.yaml).")
@click.option("--format", "format_", type=click.Choice(["table", "json"]), default="table",
              show_default=True)
def score(directory: Path, observed: Path, format_: str) -> None:
    """Score a run's probabilities against what happened (Brier and log scores)."""
    from ..analysis.score import score_run
    from ..observations import load_observations
    from ..results.reader import RunData, read_directory

    data = read_directory(directory)
    if not isinstance(data, RunData):
        raise UsageError(f"{directory} is not a run directory; score takes a run")
    result = score_run(data, load_observations(observed, outcomes=data.outcomes))
    if format_ == "json":
        click.echo(json.dumps(result.as_json(), indent=2, allow_nan=False))
        return
    from ..report.formatting import percent

    table = Table(title=f"Scores of {result.run} for {result.window.start} to "
                        f"{result.window.end} ({result.window_days} days)",
                  title_justify="left",
                  caption="Lower is better, 0 is perfect; a 50% forecast scores 0.250 (Brier) "
                          f"and {math.log(2):.3f} (log). Log scores clip probabilities to half a "
                          "replication from 0 and 1.", caption_justify="left")
    for i, column in enumerate(("outcome", "happened", "forecast by the end", "Brier",
                                "log score")):
        table.add_column(column, justify="right" if i > 1 else "left")
    for item in result.outcomes:
        happened = ("yes" + (f", {item.date}" if item.date else "")) if item.occurred else "no"
        table.add_row(item.outcome, happened, percent(item.probability), f"{item.brier:.3f}",
                      f"{item.log:.3f}")
    table.add_row(Text("overall (mean)", style="bold"), "", "", Text(f"{result.brier:.3f}",
                  style="bold"), Text(f"{result.log:.3f}", style="bold"))
    stdout.print(table)
