"""`escalate report` as a user types it: a file beside the run, clear errors, no tracebacks."""

from __future__ import annotations

import csv
import math
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BORDER
from report_helpers import run_directory

from escalate.cli import main


@pytest.fixture
def run(tmp_path: Path) -> Path:
    (tmp_path / "border.yaml").write_text(BORDER, encoding="utf-8")
    return run_directory(tmp_path / "run", tmp_path / "border.yaml", replications=100)


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as stop:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(stop.value.code or 0), out, err


def test_report_writes_html_beside_the_run_by_default(run: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "report", str(run))
    assert code == 0
    assert (run / "report.html").exists()
    assert "report.html" in out


def test_report_writes_markdown_where_asked(run: Path, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _cli(capsys, "report", str(run), "--format", "md", "--out",
                        str(tmp_path / "docs" / "border.md"))
    assert code == 0
    assert "4 chart files" in out
    assert (tmp_path / "docs" / "border_files" / "outcomes.svg").exists()


def test_running_again_into_a_run_removes_the_reports_of_the_old_run(
        run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The default reports describe the run they were made from, so a new run into the
    directory removes them (HTML, Markdown and its charts); files of other names stay."""
    for format_ in ("html", "md"):
        assert _cli(capsys, "report", str(run), "--format", format_)[0] == 0
    assert _cli(capsys, "report", str(run), "--out", str(run / "kept.html"))[0] == 0
    assert (run / "report_files" / "outcomes.svg").exists()
    code, _, err = _cli(capsys, "run", str(tmp_path / "border.yaml"), "-n", "50", "--seed", "9",
                        "-q", "--out", str(run))
    assert code == 0, err
    assert sorted(p.name for p in run.iterdir()) == [
        "kept.html", "manifest.json", "replications.csv", "summary.json"]


def test_a_path_that_is_not_a_result_exits_2_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong path is a mistake in what was asked: exit 2 for report, compare and score."""
    for argv in (("report", str(tmp_path / "missing")),
                 ("compare", str(tmp_path / "missing"), str(tmp_path / "also-missing")),
                 ("score", str(tmp_path), "--observed", "scenarios/observed-2025-11.yaml")):
        code, _, err = _cli(capsys, *argv)
        assert code == 2, err
        assert "Traceback" not in err
    code, _, err = _cli(capsys, "report", str(tmp_path))
    assert code == 2
    assert "not a run, sweep or sensitivity directory" in err
    assert "Traceback" not in err


def test_score_prints_the_scores_of_each_outcome(run: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Each observed outcome gets a row: what happened, the run's forecast for the window
    (the share of replications where it occurred before the window's end) and the Brier
    and log scores of that forecast; then their means."""
    observed = tmp_path / "observed.yaml"
    observed.write_text("observed: 1\nwindow: {start: 2030-03-01, end: 2030-04-01}\n"
                        "sources: [{id: log, title: Incident log}]\n"
                        "outcomes:\n  war: {occurred: false, source: log}\n"
                        "  strike: {occurred: false, source: log}\n"
                        "  talks: {occurred: true, date: 2030-03-12, source: log}\n")
    code, out, _ = _cli(capsys, "score", str(run), "--observed", str(observed))
    assert code == 0
    assert "Brier" in out
    rows = {cells[0]: cells[1:] for line in out.splitlines()
            if len(cells := [cell.strip() for cell in line.strip().strip("│").split("│")]) == 5}
    with (run / "replications.csv").open(encoding="utf-8", newline="") as handle:
        replications = list(csv.DictReader(handle))
    window_days = 31  # 2030-03-01 to 2030-04-01
    briers, logs = [], []
    # war and talks are complements here (each replication ends in one of them), so their
    # scores coincide; strike's differs.
    for name, happened in (("war", False), ("strike", False), ("talks", True)):
        occurred = sum(row[f"{name}_day"] != "" and float(row[f"{name}_day"]) < window_days
                       for row in replications)
        forecast = occurred / len(replications)
        shown, forecast_shown, brier, log = rows[name]
        assert shown == ("yes, 2030-03-12" if happened else "no")
        assert forecast_shown == f"{100 * forecast:.1f}%"
        briers.append((forecast - happened) ** 2)
        logs.append(-math.log(forecast if happened else 1 - forecast))
        # printed to three decimals
        assert float(brier) == pytest.approx(briers[-1], abs=5e-4)
        assert float(log) == pytest.approx(logs[-1], abs=5e-4)
    overall = rows["overall (mean)"]
    assert float(overall[2]) == pytest.approx(sum(briers) / 3, abs=5e-4)
    assert float(overall[3]) == pytest.approx(sum(logs) / 3, abs=5e-4)


def test_report_runs_as_a_subprocess(run: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "escalate", "report", str(run), "--format",
                           "md"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (run / "report.md").read_text().startswith("# Border incident")
