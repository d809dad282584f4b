"""Runs to a precision say whether they reached it: in the summary, the JSON and a warning.

Run as a user would, in a subprocess: a target missed within --max-replications
is not silent.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BORDER

import escalate
from escalate.montecarlo.precision import half_width, run_to_precision, widest_interval
from escalate.montecarlo.stats import wilson_interval

SEED = 4242
MISSED = ("--precision", "0.001", "-n", "500", "--max-replications", "1000")


def escalate_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """Run ``python -m escalate ARGS`` and capture its output."""
    return subprocess.run([sys.executable, "-m", "escalate", *map(str, args)],
                          capture_output=True, text=True, timeout=120, check=False)


def test_a_missed_target_is_a_warning_naming_it_and_what_was_reached(border_file: Path) -> None:
    """The run succeeds, and stderr names the target, the widest half-width and its outcome,
    the replications run, and says to raise --max-replications."""
    done = escalate_cli("run", border_file, "--seed", SEED, *MISSED)
    assert done.returncode == 0, done.stderr
    result = run_to_precision(escalate.loads(BORDER), precision=0.001, block=500,
                              max_replications=1000, seed=SEED)
    assert result.precision is not None
    outcome, achieved = result.precision["outcome"], result.precision["achieved"]
    assert (f"warning: --precision 0.001 not reached: after 1,000 replications "
            f"(--max-replications) the widest 95% half-width is {achieved:.4f} "
            f"(±{100 * achieved:.1f} percentage points), for outcome {outcome!r}; raise "
            f"--max-replications to narrow it further") in done.stderr
    assert "warning" not in done.stdout


def test_a_reached_target_gives_no_warning(border_file: Path) -> None:
    """--precision 0.05 is reached within the default bound: nothing on stderr."""
    done = escalate_cli("run", border_file, "--seed", SEED, "--precision", "0.05", "-n", "500")
    assert done.returncode == 0, done.stderr
    assert "warning" not in done.stderr


def test_the_json_output_carries_the_precision_block(border_file: Path) -> None:
    """--format json has a precision block; the warning goes to stderr, not into the JSON."""
    done = escalate_cli("run", border_file, "--seed", SEED, *MISSED, "--format", "json")
    assert done.returncode == 0, done.stderr
    precision = json.loads(done.stdout)["precision"]
    assert precision["target"] == 0.001
    assert precision["reached"] is False
    assert precision["replications"] == 1000
    assert (precision["block"], precision["max_replications"]) == (500, 1000)
    assert precision["outcome"] in ("strike", "war", "talks")
    assert 0.02 < precision["achieved"] < 0.04
    assert "not reached" in done.stderr


def test_summary_json_carries_the_precision_block_and_the_manifest_agrees(
        border_file: Path, tmp_path: Path) -> None:
    """With --out, summary.json has the block the terminal reported; the manifest says
    reached false with the replications run."""
    out = tmp_path / "run"
    done = escalate_cli("run", border_file, "--seed", SEED, *MISSED, "--out", out, "-q")
    assert done.returncode == 0, done.stderr
    summary = json.loads((out / "summary.json").read_text())
    manifest = json.loads((out / "manifest.json").read_text())
    assert summary["precision"]["reached"] is False
    assert summary["precision"]["replications"] == summary["replications"] == 1000
    assert manifest["precision"]["reached"] is False
    assert manifest["precision"]["replications"] == 1000
    assert f"{summary['precision']['achieved']:.4f}" in done.stderr


def test_summary_json_without_precision_has_no_precision_block(border_file: Path,
                                                               tmp_path: Path) -> None:
    """A plain run's summary.json is as before: no precision key, and no warning."""
    done = escalate_cli("run", border_file, "--seed", SEED, "-n", "500", "--out",
                        tmp_path / "run", "-q")
    assert done.returncode == 0, done.stderr
    assert "precision" not in json.loads((tmp_path / "run" / "summary.json").read_text())
    assert "warning" not in done.stderr


@pytest.mark.parametrize(("precision", "reached"), [(0.05, True), (0.001, False)])
def test_the_result_reports_the_widest_interval_and_its_outcome(precision: float,
                                                                 reached: bool) -> None:
    """run_to_precision's block is the widest Wilson half-width of the run and its outcome."""
    result = run_to_precision(escalate.loads(BORDER), precision=precision, block=500,
                              max_replications=2000, seed=SEED)
    assert result.precision is not None
    widths = {}
    for name, outcome in result.summary["outcomes"].items():
        low, high = wilson_interval(outcome["count"], result.replications)
        widths[name] = (high - low) / 2
    widest = max(widths, key=widths.__getitem__)
    assert result.precision == {"target": precision, "achieved": widths[widest],
                                "outcome": widest, "reached": reached,
                                "replications": result.replications, "block": 500,
                                "max_replications": 2000}
    assert result.summary["precision"] == result.precision
    assert widest_interval(result.aggregator) == (widest, half_width(result.aggregator))


def test_a_plain_run_has_no_precision_block() -> None:
    """escalate.run leaves precision unset, so its summary is unchanged."""
    result = escalate.run(escalate.loads(BORDER), replications=100, seed=SEED)
    assert result.precision is None
    assert "precision" not in result.summary
