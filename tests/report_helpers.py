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


HOSTILE = "<script>alert('x')</script> & <img src=x onerror=alert(1)> *bold* | [link](javascript:alert(1))"


def hostile_scenario(border_text: str) -> str:
    """The border scenario with HTML, script and Markdown in every user string."""
    return (border_text
            .replace("name: Border incident", f'name: "{HOSTILE}"')
            .replace("description: A patrol clash and the choices that follow it.",
                     f'description: "{HOSTILE}"')
            .replace('title: "Analyst judgement, workshop of 2030-02-20"',
                     f'title: "{HOSTILE}", url: "javascript:alert(1)", note: "{HOSTILE}"')
            .replace("source: analyst}", f'source: analyst, note: "{HOSTILE}"}}', 1)
            .replace("ladder: [calm, incident, skirmish, limited strike, open war]",
                     f'ladder: [calm, "{HOSTILE}", skirmish, limited strike, open war]')
            .replace("war: {event: open_war}", f'war: {{event: open_war, label: "{HOSTILE} $x$"}}'))


def run_directory(out: Path, scenario_file: Path, replications: int = 300, seed: int = 5,
                  **options: object) -> Path:
    """Run a scenario into a run directory, as `escalate run --out` does."""
    from escalate.workflow import run_to_directory

    run_to_directory(escalate.load(scenario_file), out, replications=replications, seed=seed,
                     **options)  # type: ignore[arg-type]
    return out
