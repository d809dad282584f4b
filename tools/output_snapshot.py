"""Write every kind of output of the bundled scenarios into one folder, for before/after diffs.

A refactoring that must not change behaviour is checked by running this on
both trees and comparing the folders: ``diff -r`` after normalising away what
varies from run to run (timings, dates, hosts, absolute paths).

    python tools/output_snapshot.py OUT            # run the commands, then normalise OUT
    diff -r BEFORE AFTER                           # must print nothing

The commands run ``python -m escalate`` of the interpreter running this
script, from the ``src`` beside it (``PYTHONPATH``), in ``OUT``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
ARTICLE = SCENARIOS / "kursk-atacms-2024.yaml"
COUNTER = SCENARIOS / "no-authorization-2024.yaml"
TUTORIAL = SCENARIOS / "tutorial.yaml"

COMMANDS: list[list[str]] = []
for name, scenario in (("article", ARTICLE), ("counter", COUNTER), ("tutorial", TUTORIAL)):
    for engine in ("batch", "reference"):
        COMMANDS.append(["run", str(scenario), "-n", "3000", "--engine", engine, "-q",
                         "--out", f"run-{name}-{engine}"])
        COMMANDS.append(["run", str(scenario), "-n", "2000", "--engine", engine, "-q",
                         "--uncertainty", "--out", f"run-{name}-{engine}-uncertainty"])
    COMMANDS.append(["run", str(scenario), "-n", "500", "--format", "json", "-q"])
    COMMANDS.append(["validate", str(scenario)])
    COMMANDS.append(["trace", str(scenario), "--replication", "7", "--format", "json"])
    COMMANDS.append(["trace", str(scenario), "--replication", "3"])
    COMMANDS.append(["graph", str(scenario)])
COMMANDS += [
    ["run", str(ARTICLE), "-n", "500", "--engine", "reference", "--events", "-q",
     "--out", "run-article-events"],
    ["run", str(ARTICLE), "-n", "1000", "--precision", "0.02", "-q", "--out", "run-precision"],
    ["run", str(ARTICLE), "-n", "2000", "-q"],
    ["sweep", str(ARTICLE), "--vary", "p_hub_strike=0.01:0.1:3", "-n", "300", "--workers", "2",
     "--out", "sweep-grid"],
    ["sweep", str(ARTICLE), "--vary", "p_hub_strike=0.01:0.1", "--vary",
     "p_us_facility_strike=0.005:0.05", "--design", "lhs", "--points", "5", "-n", "200",
     "--uncertainty", "--workers", "1", "--out", "sweep-lhs"],
    ["sweep", str(TUTORIAL), "--vary", "p_fire=dist", "--vary", "incident_gap=dist", "--design", "sobol", "--points", "4",
     "-n", "200", "--workers", "1", "--out", "sweep-sobol"],
    ["sensitivity", str(ARTICLE), "--samples", "8", "-n", "50", "--workers", "1", "-q",
     "--format", "json", "--out", "sensitivity"],
    ["sensitivity", str(TUTORIAL), "--method", "morris", "--samples", "4", "-n", "50",
     "--workers", "1", "-q", "--out", "morris"],
    ["report", "run-article-batch"],
    ["report", "run-article-batch-uncertainty", "--format", "md"],
    ["report", "run-article-reference", "--out", "article-reference.md", "--format", "md"],
    ["report", "sweep-grid"],
    ["report", "sweep-lhs", "--format", "md"],
    ["report", "sensitivity", "--format", "md"],
    ["compare", "run-article-batch", "run-counter-batch"],
    ["compare", "run-article-batch", "run-counter-batch", "--format", "json"],
    ["compare", "run-article-reference", str(COUNTER), "--format", "md"],
    ["compare", "run-article-batch", "run-counter-batch", "--format", "html",
     "--out", "compare.html"],
    ["score", "run-article-batch", "--observed", str(SCENARIOS / "observed-2025-11.yaml")],
    ["score", "run-article-batch", "--observed", str(SCENARIOS / "observed-2025-11.yaml"),
     "--format", "json"],
]

# What differs between two runs of the same code: clocks, hosts, paths, versions of tools.
_VOLATILE_KEYS = re.compile(
    r"(time|started|finished|elapsed|seconds|duration|host|pid|python|platform|created|"
    r"command|cwd|date_run|when|user|versions?)$", re.I)
_VOLATILE_TEXT = [
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+\d\d:\d\d|Z)?"), "<timestamp>"),
    (re.compile(r"\b\d+(\.\d+)?\s?(s|ms|seconds?|min)\b(?! of)"), "<duration>"),
    (re.compile(r"(/tmp|/work)[^\s\"'<>]*"), "<path>"),
    (re.compile(r"wall time \| [^|]*\|"), "wall time | <duration> |"),
    (re.compile(r'"wall_seconds": [\d.]+'), '"wall_seconds": <duration>'),
    # progress lines are printed by elapsed time, so how many there are varies
    (re.compile(r"^(sweep|sensitivity|run): \d+/\d+ points.*\n", re.M), ""),
    (re.compile(r"[\d,.]+ replications/s|elapsed \d+:\d\d:\d\d|ETA \d+:\d\d:\d\d"), "<rate>"),
]


def _normalise_json(value: object) -> object:
    if isinstance(value, dict):
        return {k: ("<volatile>" if _VOLATILE_KEYS.search(k) else _normalise_json(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise_json(v) for v in value]
    if isinstance(value, str):
        return _normalise_text(value)
    return value


def _normalise_text(text: str) -> str:
    for pattern, replacement in _VOLATILE_TEXT:
        text = pattern.sub(replacement, text)
    return text


def normalise(folder: Path) -> None:
    """Rewrite every text file in ``folder`` with what varies between runs masked."""
    for path in sorted(folder.rglob("*")):
        if not path.is_file() or path.suffix in {".parquet", ".png"}:
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".json":
            try:
                text = json.dumps(_normalise_json(json.loads(text)), indent=1, sort_keys=True)
            except json.JSONDecodeError:
                text = _normalise_text(text)
        else:
            text = _normalise_text(text)
        path.write_text(text)


def main() -> None:
    out = Path(sys.argv[1]).resolve()
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "COLUMNS": "120", "NO_COLOR": "1"}
    for k, args in enumerate(COMMANDS):
        done = subprocess.run([sys.executable, "-m", "escalate", *args], cwd=out, env=env,
                              capture_output=True, text=True, check=False)
        (out / f"cmd{k:02d}.txt").write_text(
            f"$ escalate {' '.join(args)}\nexit {done.returncode}\n--- stdout\n{done.stdout}"
            f"--- stderr\n{done.stderr}")
        print(f"{k:02d} exit {done.returncode}: {' '.join(args[:2])}", flush=True)
    normalise(out)


if __name__ == "__main__":
    main()
