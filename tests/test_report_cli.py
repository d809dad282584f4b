"""`escalate report` as a user types it: a file beside the run, clear errors, no tracebacks."""

from __future__ import annotations

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


def test_a_directory_that_is_not_a_result_exits_4_without_a_traceback(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _cli(capsys, "report", str(tmp_path))
    assert code == 4
    assert "neither a run nor a sweep directory" in err
    assert "Traceback" not in err


def test_score_prints_the_scores_of_each_outcome(run: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    observed = tmp_path / "observed.yaml"
    observed.write_text("observed: 1\nwindow: {start: 2030-03-01, end: 2030-04-01}\n"
                        "sources: [{id: log, title: Incident log}]\n"
                        "outcomes:\n  war: {occurred: false, source: log}\n"
                        "  talks: {occurred: true, date: 2030-03-12, source: log}\n")
    code, out, _ = _cli(capsys, "score", str(run), "--observed", str(observed))
    assert code == 0
    assert "overall (mean)" in out
    assert "Brier" in out


def test_report_runs_as_a_subprocess(run: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "escalate", "report", str(run), "--format",
                           "md"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert (run / "report.md").read_text().startswith("# Border incident")
