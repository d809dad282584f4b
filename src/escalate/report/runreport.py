"""The contents of a run's report: scenario, assumptions, outcomes, levels, time, paths, graph, provenance."""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from .._version import __version__
from ..results.rundir import RunData
from ..spec.model import Level, ScenarioSpec
from . import plots
from .document import (
    Block,
    Code,
    Details,
    Document,
    Figure,
    Inline,
    Link,
    Paragraph,
    Preformatted,
    Section,
    Table,
)
from .estimative import estimative_phrase, estimative_range
from .eventgraph import event_graph_svg
from .formatting import date_after, day_and_date, percent, percent_interval, spec_text
from .graphtext import to_mermaid

__all__ = ["build_run_document", "estimate_words", "scenario_sections"]

#: days at which the cumulative probabilities are tabulated (those within the horizon)
CHECKPOINT_DAYS = (7, 30, 90, 180, 365, 730, 1825, 3650)


def estimate_words(probability: float, interval: Sequence[float]) -> str:
    """The ICD 203 phrase of an estimate, with the span of its interval when that differs."""
    words = estimative_phrase(probability)
    spread = estimative_range(*interval)
    return words if spread == words else f"{words} (95% interval: {spread})"


def _sources_table(spec: ScenarioSpec) -> Table:
    rows: list[list[Inline | Sequence[Inline]]] = []
    for source in spec.sources:
        title: Inline = Link(source.title, source.url) if source.url else source.title
        rows.append([Code(source.id), title, source.author or "", str(source.date or ""),
                     source.note or ""])
    return Table(["id", "title", "author", "date", "note"], rows, kind="sources")


def _references(source: str | list[str] | None) -> str:
    if source is None:
        return ""
    return ", ".join([source] if isinstance(source, str) else source)


def _ledger(spec: ScenarioSpec, overrides: Mapping[str, Any]) -> Table:
    rows: list[list[Inline | Sequence[Inline]]] = []
    for name, parameter in spec.parameters.items():
        value = spec_text(parameter.value)
        if name in overrides:
            value = f"{spec_text(overrides[name])} (set for this run; scenario: {value})"
        if parameter.ci90 is not None:
            uncertainty = f"90% interval {spec_text(parameter.ci90[0])} – {spec_text(parameter.ci90[1])}"
        elif parameter.uncertainty is not None:
            uncertainty = spec_text(parameter.uncertainty.model_dump(by_alias=True))
        else:
            uncertainty = "none (point value)"
        if parameter.range is not None:
            uncertainty += f"; range [{spec_text(parameter.range[0])}, {spec_text(parameter.range[1])}]"
        rows.append([Code(name), parameter.label, value, uncertainty,
                     _references(parameter.source), parameter.note])
    return Table(["parameter", "meaning", "value", "uncertainty", "source", "note"], rows,
                 kind="ledger")


def scenario_sections(spec: ScenarioSpec | None, overrides: Mapping[str, Any],
                      uncertainty: bool | None) -> list[Section]:
    """The scenario and its assumption ledger, shared by run, sweep and sensitivity reports."""
    if spec is None:
        note = Paragraph("The run directory does not record the resolved scenario, so its "
                         "description, sources and assumptions cannot be shown.", note=True)
        return [Section("Scenario", [note], "scenario")]
    blocks: list[Block] = []
    if spec.description:
        blocks.append(Paragraph(spec.description))
    horizon = spec.horizon
    facts = [["start", str(spec.start) if spec.start else "not dated (times in days)"],
             ["horizon", spec_text(horizon)],
             ["events", str(len(spec.events))],
             ["outcomes", str(len(spec.outcomes))],
             ["actors", ", ".join(a if isinstance(a, str) else (a.label or a.name)
                                  for a in spec.actors) or "–"]]
    blocks.append(Table(["", ""], facts, kind="facts"))
    if spec.sources:
        blocks.append(Paragraph("Sources cited by the parameters and events:"))
        blocks.append(_sources_table(spec))
    else:
        blocks.append(Paragraph("The scenario cites no sources.", note=True))
    ledger: list[Block] = [_ledger(spec, overrides)] if spec.parameters else [
        Paragraph("The scenario has no parameters.", note=True)]
    if uncertainty is True:
        ledger.append(Paragraph("This run drew every uncertain parameter anew for each "
                                "replication (two-level Monte Carlo), so the probabilities "
                                "include the uncertainty of the assumptions.", note=True))
    elif uncertainty is False:
        ledger.append(Paragraph("This run used the point values; the uncertainty column says "
                                "how far each assumption may be off (run with --uncertainty, "
                                "or `escalate sensitivity`, to propagate it).", note=True))
    return [Section("Scenario", blocks, "scenario"),
            Section("Assumptions", ledger, "assumptions")]


def _ladder_descriptions(spec: ScenarioSpec | None) -> dict[str, str]:
    if spec is None or isinstance(spec.ladder, str):
        return {}
    return {rung.name: rung.description for rung in spec.ladder if isinstance(rung, Level)}


def _outcomes_section(run: RunData) -> Section:
    summary = run.summary
    start = summary.get("start")
    estimates, rows = [], []
    for name, outcome in run.outcomes.items():
        label = outcome.get("label") or name
        estimates.append(plots.Estimate(label, outcome["probability"], *outcome["ci95"]))
        days = outcome["time"]["days"]
        rows.append([Code(name), label if label != name else "", percent(outcome["probability"]),
                     percent_interval(outcome["ci95"]),
                     estimate_words(outcome["probability"], outcome["ci95"]),
                     day_and_date(days["median"], start),
                     f"{day_and_date(days['p05'], start)} – {day_and_date(days['p95'], start)}"
                     if days["p05"] is not None else "–"])
    blocks: list[Block] = []
    if estimates:
        blocks.append(Figure("outcomes", plots.outcome_chart(estimates),
                             "Probability of each outcome before the horizon, with its 95% "
                             "interval; shaded bands are the ICD 203 ranges of estimative words.",
                             "Dot-and-interval chart of outcome probabilities: " + "; ".join(
                                 f"{e.label} {percent(e.probability)}" for e in estimates)))
    blocks.append(Table(["outcome", "meaning", "probability", "95% interval", "in words",
                         "median time", "90% of times between"], rows, kind="outcomes",
                        numeric=frozenset({2, 3})))
    blocks.append(Paragraph(
        "Intervals are 95% Wilson score intervals over replications: they measure Monte Carlo "
        "noise, not the uncertainty of the assumptions. Words follow ICD 203: almost no chance "
        "(below 5%), very unlikely (5–20%), unlikely (20–45%), roughly even chance (45–55%), "
        "likely (55–80%), very likely (80–95%), almost certain (above 95%). Times are those of "
        "first occurrence among the replications where the outcome occurred.", note=True))
    return Section("Outcomes", blocks, "outcomes")


def _levels_section(run: RunData) -> Section:
    levels = run.summary["max_level"]
    descriptions = _ladder_descriptions(run.spec)
    estimates = [plots.Estimate(entry["name"], entry["probability"], *entry["ci95"])
                 for entry in levels["distribution"]]
    rows = [[str(entry["level"]), entry["name"], descriptions.get(entry["name"], ""),
             percent(entry["probability"]), percent_interval(entry["ci95"]),
             percent(at_least["probability"])]
            for entry, at_least in zip(levels["distribution"], levels["at_least"], strict=True)]
    return Section("Maximum escalation level", [
        Paragraph(f"The highest rung of the ladder reached in each replication; the mean is "
                  f"{levels['mean']:.2f}."),
        Figure("levels", plots.level_chart(estimates),
               "Share of replications whose highest level was each rung, with 95% intervals.",
               "Bar chart of the maximum escalation level: " + "; ".join(
                   f"{e.label} {percent(e.probability)}" for e in estimates)),
        Table(["level", "rung", "description", "reached as maximum", "95% interval",
               "at least this level"], rows, kind="levels", numeric=frozenset({0, 3, 4, 5})),
    ], "levels")


def _cumulative_at(days: Sequence[float], probability: Sequence[float], day: float) -> float:
    value = 0.0
    for d, p in zip(days, probability, strict=True):
        if d > day:
            break
        value = p
    return value


def _time_section(run: RunData) -> Section:
    summary = run.summary
    start_text = summary.get("start")
    start = dt.date.fromisoformat(start_text) if start_text else None
    horizon = float(summary["horizon_days"])
    curves = [plots.Series(outcome.get("label") or name, outcome["cumulative"]["days"],
                           outcome["cumulative"]["probability"])
              for name, outcome in run.outcomes.items()]
    checkpoints = [d for d in CHECKPOINT_DAYS if d < horizon] + [horizon]
    columns = ["outcome"] + [f"by day {d:g}" + (f" ({date_after(start, d)})" if start else "")
                             for d in checkpoints]
    rows = [[Code(name)] + [percent(_cumulative_at(outcome["cumulative"]["days"],
                                                   outcome["cumulative"]["probability"], d))
                            for d in checkpoints]
            for name, outcome in run.outcomes.items()]
    return Section("Outcomes over time", [
        Figure("cumulative", plots.cumulative_chart(curves, start, horizon),
               "Probability that each outcome has occurred by each day (cumulative incidence); "
               "the top axis gives dates.",
               "Step chart of the cumulative probability of each outcome over the horizon"),
        Table(columns, rows, kind="cumulative",
              numeric=frozenset(range(1, len(columns)))),
    ], "time")


def _paths_section(run: RunData) -> Section:
    summary = run.summary
    labels = {}
    compiled = run.compiled()
    if compiled is not None:
        labels = {event.name: event.label for event in compiled.events}
    rows = []
    for rank, path in enumerate(summary.get("paths", []), start=1):
        steps = " → ".join(labels.get(e, e) for e in path["events"])
        rows.append([str(rank), percent(path["probability"]), percent_interval(path["ci95"]), steps])
    terminal_rows: list[list[Inline | Sequence[Inline]]] = [
        [Code(label), percent(entry["probability"]), percent_interval(entry["ci95"])]
                     for label, entry in summary.get("terminals", {}).items() if entry["count"]]
    return Section("Escalation paths", [
        Paragraph(f"The most frequent sequences of events (each event at its first occurrence), "
                  f"of {summary.get('distinct_paths', len(rows)):,} distinct paths."),
        Table(["rank", "share", "95% interval", "events in order"], rows, kind="paths",
              numeric=frozenset({0, 1, 2})),
        Paragraph("How replications ended:"),
        Table(["ending", "share", "95% interval"], terminal_rows, kind="terminals",
              numeric=frozenset({1, 2})),
    ], "paths")


def _graph_section(run: RunData) -> Section | None:
    compiled = run.compiled()
    if compiled is None:
        return None
    return Section("Event graph", [
        Figure("event-graph", event_graph_svg(compiled),
               "The scenario's events, from the events at fixed times at the top; blue arrows "
               "are choices with their probabilities, dashed arrows withdraw pending events.",
               f"Diagram of the {len(compiled.events)} events of the scenario and the arrows "
               "between them"),
        Details("The same graph as Mermaid text", [Preformatted(to_mermaid(compiled), "mermaid")]),
    ], "graph")


def _command(run: RunData) -> str:
    manifest = run.manifest
    path = (manifest.get("scenario") or {}).get("path") or "SCENARIO.yaml"
    words = ["escalate", "run", str(path), "-n", str(run.replications)]
    if run.seed is not None:
        words += ["--seed", str(run.seed)]
    if run.uncertainty:
        words.append("--uncertainty")
    for name, value in (manifest.get("overrides") or {}).items():
        words += ["--set", f"{name}={value}"]
    return shlex.join(words)


def provenance_rows(manifest: Mapping[str, Any]) -> list[list[Inline | Sequence[Inline]]]:
    """Rows saying which software, scenario file and times made a result."""
    scenario = manifest.get("scenario") or {}
    rows: list[list[Inline | Sequence[Inline]]] = [
        ["scenario file", str(scenario.get("path") or "–")],
        ["scenario SHA-256", Code(str(scenario.get("sha256") or "–"))],
    ]
    # A sweep keeps its times under `timings`; runs and sensitivity analyses at the top level.
    timings = manifest.get("timings")
    times: Mapping[str, Any] = timings if isinstance(timings, Mapping) else manifest
    rows.extend([key, str(times[key])] for key in ("started", "finished") if times.get(key))
    if times.get("wall_seconds") is not None:
        rows.append(["wall time", f"{float(times['wall_seconds']):.1f} s"])
    versions = manifest.get("versions") or {}
    if versions:
        rows.append(["versions", ", ".join(f"{k} {v}" for k, v in versions.items())])
    if manifest.get("command"):
        command = manifest["command"]
        rows.append(["command", Code(shlex.join(command) if isinstance(command, list)
                                     else str(command))])
    return rows


def _provenance_section(run: RunData) -> Section:
    summary = run.summary
    rows: list[list[Inline | Sequence[Inline]]] = [
        ["seed", str(run.seed)],
        ["replications", (f"{run.replications:,} (indices {run.first_replication:,} to "
                          f"{run.first_replication + run.replications - 1:,})")],
        ["parameters", "drawn per replication (two-level Monte Carlo)" if run.uncertainty
         else "point values"],
        ["overrides", ", ".join(f"{k}={v}" for k, v in (summary.get("overrides") or {}).items())
         or "none"],
        ["engine", str(summary.get("engine", run.manifest.get("engine", "–")))],
        ["time resolution", f"{summary.get('time_resolution_days', 0):g} days"],
        ["runaway replications", str(summary.get("runaway", 0))],
        *provenance_rows(run.manifest),
    ]
    return Section("How this run was made", [
        Table(["", ""], rows, kind="provenance"),
        Paragraph(["To repeat it: ", Code(_command(run))]),
    ], "provenance")


def build_run_document(run: RunData) -> Document:
    """Assemble the report of a run directory (nothing is re-run)."""
    summary = run.summary
    name = run.spec.name if run.spec is not None else str(summary.get("scenario", run.label))
    overrides = summary.get("overrides") or run.manifest.get("overrides") or {}
    sections = scenario_sections(run.spec, overrides, run.uncertainty)
    sections += [_outcomes_section(run), _levels_section(run), _time_section(run),
                 _paths_section(run)]
    graph = _graph_section(run)
    if graph is not None:
        sections.append(graph)
    sections.append(_provenance_section(run))
    mode = "two-level Monte Carlo" if run.uncertainty else "point values"
    subtitle = (f"Run report: {run.replications:,} replications, seed {run.seed}, {mode}, "
                f"horizon {float(summary['horizon_days']):g} days"
                + (f" from {summary['start']}" if summary.get("start") else ""))
    return Document(name, subtitle, sections,
                    footer=f"Made by escalate {__version__} from the run directory "
                           f"{run.label}; reports read recorded results and re-run nothing.")
