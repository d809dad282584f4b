"""Helpers for the report tests: result directories made by hand in the documented formats."""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import escalate
from escalate.montecarlo.runner import run

OUTCOME_COLUMNS = ("p", "lo", "hi", "median_day", "p05_day", "p95_day")


def make_sweep_directory(out: Path, scenario_file: Path, vary: Mapping[str, Sequence[float]], *,
                         replications: int = 100, seed: int = 7,
                         failed: Sequence[int] = ()) -> Path:
    """Write a grid sweep in the escalate-sweep/1 format by running each point.

    Points listed in ``failed`` are written with status ``failed`` and no estimates.
    """
    scenario = escalate.load(scenario_file)
    names = list(vary)
    combinations = list(itertools.product(*(vary[name] for name in names)))
    outcomes = list(scenario.spec.outcomes)
    out.mkdir(parents=True, exist_ok=True)
    manifest = {
        "format": "escalate-sweep/1",
        "scenario": {"path": str(scenario_file), "name": scenario.name,
                     "sha256": hashlib.sha256(scenario.text.encode()).hexdigest(),
                     "resolved": scenario.resolved()},
        "design": {"kind": "grid", "vary": {name: list(vary[name]) for name in names},
                   "points": len(combinations)},
        "seed": seed,
        "replications": replications,
        "status": "completed",
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str))
    header = ["point", *names, "status", "error", "replications"]
    for name in outcomes:
        header += [f"{name}_{suffix}" for suffix in OUTCOME_COLUMNS]
    header.append("mean_max_level")
    with open(out / "points.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for index, values in enumerate(combinations):
            if index in failed:
                writer.writerow([index, *values, "failed", "SimulationError: boom", 0,
                                 *([""] * (len(OUTCOME_COLUMNS) * len(outcomes))), ""])
                continue
            result = run(scenario, replications=replications, seed=seed, point=index,
                         overrides=dict(zip(names, values, strict=True)),
                         keep_replications=False)
            summary = result.summary
            row: list[object] = [index, *values, "ok", "", replications]
            for name in outcomes:
                entry = summary["outcomes"][name]
                days = entry["time"]["days"]
                row += [entry["probability"], *entry["ci95"],
                        *("" if days[k] is None else days[k] for k in ("median", "p05", "p95"))]
            row.append(summary["max_level"]["mean"])
            writer.writerow(row)
    return out


HOSTILE = ("<script>alert('x')</script> & <img src=x onerror=alert(1)> *bold* | "
           '[link](javascript:alert(1)) " onmouseover="alert(4)')
#: a link a report keeps (https), whose quotes and brackets would end its attribute if unescaped
HOSTILE_URL = 'https://example.org/?q="><script>alert(2)</script>'
#: a folder name (run directories and scenario paths appear in reports and in commands)
HOSTILE_FOLDER = "<img src=x onerror=alert(3)>"


def _replaced(text: str, old: str, new: str) -> str:
    assert old in text, f"{old!r} is not in the scenario"
    return text.replace(old, new, 1)


def hostile_scenario(border_text: str) -> str:
    """The border scenario with HTML, script and Markdown in every user string.

    The name, description, every source field, a ladder rung, an actor's label and
    description, parameter labels and notes, an event's label, description and
    terminal label, and an outcome's label and description.
    """
    text = json.dumps(HOSTILE)  # a JSON string is a YAML double-quoted scalar
    replacements = [
        ("name: Border incident", f"name: {text}"),
        ("description: A patrol clash and the choices that follow it.", f"description: {text}"),
        ('  - {id: analyst, title: "Analyst judgement, workshop of 2030-02-20"}',
         (f'  - {{id: analyst, title: {text}, url: "javascript:alert(1)", note: {text}}}\n'
          f"  - {{id: press, title: {text}, author: {text}, url: {json.dumps(HOSTILE_URL)}, "
          f"note: {text}}}")),
        ("ladder: [calm, incident, skirmish, limited strike, open war]",
         f"ladder: [calm, {text}, skirmish, limited strike, open war]"),
        ("actors: [north, south]",
         f"actors: [north, {{name: south, label: {text}, description: {text}}}]"),
        ("range: [0, 1], source: analyst}",
         f"range: [0, 1], source: analyst, label: {text}, note: {text}}}"),
        ("retaliation_delay: {value: 4 days, source: analyst}",
         f"retaliation_delay: {{value: 4 days, source: press, label: {text}}}"),
        ("open_war:     {actor: north, set: {level: 4}, end: war}",
         (f"open_war:     {{actor: north, label: {text}, description: {text}, "
          f"source: press, set: {{level: 4}}, end: {text}}}")),
        ("war: {event: open_war}",
         f"war: {{event: open_war, label: {json.dumps(HOSTILE + ' $x$')}, description: {text}}}"),
    ]
    for old, new in replacements:
        border_text = _replaced(border_text, old, new)
    return border_text


def run_directory(out: Path, scenario_file: Path, replications: int = 300, seed: int = 5,
                  **options: object) -> Path:
    """Run a scenario into a run directory, as `escalate run --out` does."""
    from escalate.workflow import run_to_directory

    run_to_directory(escalate.load(scenario_file), out, replications=replications, seed=seed,
                     **options)  # type: ignore[arg-type]
    return out
