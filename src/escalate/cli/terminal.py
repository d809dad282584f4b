"""Rendering summaries, traces and validation results as terminal tables (rich)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ..compile.compiled import CompiledScenario
from ..engine.records import ReplicationRecord

__all__ = ["render_summary", "render_trace"]


def _percent(p: float) -> str:
    return f"{100 * p:.1f}%"


def _interval(ci: list[float]) -> str:
    return f"{100 * ci[0]:.1f}–{100 * ci[1]:.1f}%"


def _days(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def render_summary(summary: dict[str, Any], console: Console) -> None:
    """Print a run summary: outcomes, levels, terminals, times and the frequent paths."""
    n = summary["replications"]
    console.print(Text(f"{summary['scenario']}", style="bold"),
                  Text(f"  {n:,} replications, seed {summary['seed']}, "
                       f"{'two-level (uncertain parameters drawn)' if summary['uncertainty'] else 'point values'}, "
                       f"engine {summary['engine']}", style="dim"))
    if summary.get("overrides"):
        console.print(Text("overrides: " + ", ".join(f"{k}={v}" for k, v in summary["overrides"].items()),
                           style="dim"))
    dated = summary.get("start") is not None
    table = Table(title="Outcomes (probability of occurring before the horizon)", title_justify="left")
    table.add_column("outcome")
    table.add_column("probability", justify="right")
    table.add_column("95% interval", justify="right")
    table.add_column("median day", justify="right")
    table.add_column("90% range (days)", justify="right")
    if dated:
        table.add_column("median date", justify="right")
        table.add_column("90% range (dates)", justify="right")
    for name, outcome in summary["outcomes"].items():
        days = outcome["time"]["days"]
        label = name if outcome["label"] == name else f"{name} ({outcome['label']})"
        occurred = days["median"] is not None
        row = [escape(label), _percent(outcome["probability"]), _interval(outcome["ci95"]),
               _days(days["median"]), f"{_days(days['p05'])}–{_days(days['p95'])}" if occurred else "–"]
        if dated:
            dates = outcome["time"]["dates"]
            row += [dates["median"] or "–",
                    f"{dates['p05']} – {dates['p95']}" if occurred else "–"]
        table.add_row(*row)
    console.print(table)

    levels = Table(title=f"Maximum escalation level (mean {summary['max_level']['mean']:.2f})",
                   title_justify="left")
    levels.add_column("level", justify="right")
    levels.add_column("rung")
    levels.add_column("reached as maximum", justify="right")
    levels.add_column("95% interval", justify="right")
    levels.add_column("at least this level", justify="right")
    for level, at_least in zip(summary["max_level"]["distribution"],
                               summary["max_level"]["at_least"], strict=True):
        levels.add_row(str(level["level"]), escape(level["name"]), _percent(level["probability"]),
                       _interval(level["ci95"]), _percent(at_least["probability"]))
    terminals = Table(title="How replications ended", title_justify="left")
    terminals.add_column("terminal")
    terminals.add_column("share", justify="right")
    terminals.add_column("95% interval", justify="right")
    for label, entry in summary["terminals"].items():
        if entry["count"]:
            terminals.add_row(escape(label), _percent(entry["probability"]), _interval(entry["ci95"]))
    console.print(Group(levels, terminals))

    paths = Table(title=f"Most frequent paths ({summary['distinct_paths']:,} distinct)",
                  title_justify="left")
    paths.add_column("share", justify="right")
    paths.add_column("events, in order of first occurrence")
    for path in summary["paths"]:
        paths.add_row(_percent(path["probability"]), escape(" → ".join(path["events"])))
    console.print(paths)
    if summary["runaway"]:
        console.print(Text(f"{summary['runaway']:,} replications exceeded max_events and were "
                           "stopped (terminal 'max_events')", style="bold yellow"))


def render_trace(scenario: CompiledScenario, record: ReplicationRecord, seed: int, engine: str,
                 console: Console) -> None:
    """Print the story of one replication, event by event."""
    console.print(Text(f"{scenario.name}: replication {record.index}, seed {seed}, "
                       f"{engine} engine", style="bold"))
    table = Table()
    table.add_column("day", justify="right")
    if scenario.start is not None:
        table.add_column("date")
    table.add_column("actor")
    table.add_column("event")
    table.add_column("status")
    table.add_column("level")
    table.add_column("detail")
    for entry in record.log or ():
        row = [f"{entry.time:.2f}"]
        if scenario.start is not None:
            row.append((scenario.start + dt.timedelta(days=int(entry.time // 1))).isoformat())
        row += [escape(entry.actor or "–"), escape(entry.event), entry.status,
                f"{entry.level} {escape(scenario.ladder[entry.level])}", escape(entry.detail)]
        table.add_row(*row)
    console.print(table)
    console.print(f"ended: [bold]{escape(record.terminal)}[/bold] at day {record.end_time:.2f}; "
                  f"maximum level {record.max_level} ({escape(scenario.ladder[record.max_level])})")
