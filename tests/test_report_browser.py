"""Reports open in headless Chromium with their charts and tables and no console errors.

Chromium comes from the system's packages (`.ci/run` installs it); where it
is missing these tests are skipped with that reason.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser import find_chromium, launch_chromium, open_page
from conftest import BORDER, BUNDLED_SCENARIOS
from playwright.sync_api import Browser
from report_helpers import hostile_scenario, make_sweep_directory, run_directory

from escalate.report.writer import write_report

CHROMIUM = find_chromium()
pytestmark = pytest.mark.skipif(CHROMIUM is None,
                                reason="chromium is not installed (CI installs it with apt)")

RUN_SECTIONS = ["Scenario", "Assumptions", "Outcomes", "Maximum escalation level",
                "Outcomes over time", "Escalation paths", "Event graph", "How this run was made"]


def bundled_scenarios() -> list[Path]:
    """Every bundled scenario file (observations files are not scenarios)."""
    return BUNDLED_SCENARIOS


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the module's tests (per xdist worker): starting it per test is slow."""
    assert CHROMIUM is not None
    with launch_chromium(CHROMIUM) as chromium:
        yield chromium


def _check_page(browser: Browser, html: Path, screenshot: Path) -> dict[str, object]:
    page = open_page(browser, html.as_uri(), screenshot=screenshot)
    assert page.console_errors == []
    assert [u for u in page.requests if not u.startswith(("file:", "data:"))] == []
    assert page.dialogs == []
    assert page.facts["scripts"] == 0
    assert page.facts["figures"] == page.facts["figures_drawn"] > 0
    assert screenshot.stat().st_size > 20_000
    assert screenshot.read_bytes()[:4] == b"\x89PNG"
    return page.facts


@pytest.mark.parametrize("scenario", bundled_scenarios(), ids=lambda p: p.stem)
def test_the_report_of_each_bundled_scenario_renders_in_a_browser(
        browser: Browser, scenario: Path, tmp_path: Path) -> None:
    run = run_directory(tmp_path / "run", scenario, replications=200)
    html = write_report(run, "html")[0]
    facts = _check_page(browser, html, tmp_path / "report.png")
    assert facts["headings"] == RUN_SECTIONS
    kinds = {table["kind"]: table["rows"] for table in facts["tables"]}  # type: ignore[attr-defined]
    assert kinds["outcomes"] > 0
    assert kinds["levels"] > 1
    assert kinds["ledger"] > 0
    assert facts["figures"] == 4


def test_a_report_of_hostile_text_shows_it_as_text(browser: Browser, tmp_path: Path) -> None:
    (tmp_path / "hostile.yaml").write_text(hostile_scenario(BORDER), encoding="utf-8")
    run = run_directory(tmp_path / "run", tmp_path / "hostile.yaml", replications=50)
    facts = _check_page(browser, write_report(run, "html")[0], tmp_path / "hostile.png")
    assert "<script>alert('x')</script>" in str(facts["text"])
    assert "<img src=x onerror=alert(1)>" in str(facts["text"])


def test_a_sweep_report_renders_its_charts_and_heat_maps(browser: Browser, tmp_path: Path) -> None:
    (tmp_path / "border.yaml").write_text(BORDER, encoding="utf-8")
    sweep = make_sweep_directory(tmp_path / "sweep", tmp_path / "border.yaml",
                                 {"p_retaliate": [0.1, 0.5, 0.9], "retaliation_delay": [2, 8]},
                                 replications=40)
    facts = _check_page(browser, write_report(sweep, "html")[0], tmp_path / "sweep.png")
    assert "Heat maps" in facts["headings"]  # type: ignore[operator]
    assert facts["figures"] == 6


@pytest.mark.slow
def test_a_sweep_made_by_escalate_sweep_reports_end_to_end(browser: Browser,
                                                           tmp_path: Path) -> None:
    (tmp_path / "border.yaml").write_text(BORDER, encoding="utf-8")
    escalate = [sys.executable, "-m", "escalate"]
    subprocess.run([*escalate, "sweep", str(tmp_path / "border.yaml"),
                    "--vary", "p_retaliate=0.1:0.7:3", "--vary", "retaliation_delay=2,6",
                    "-n", "60", "--workers", "1", "-q", "--out", str(tmp_path / "sweep")],
                   check=True, capture_output=True)
    done = subprocess.run([*escalate, "report", str(tmp_path / "sweep")], check=True,
                          capture_output=True, text=True)
    assert "report.html" in done.stdout
    facts = _check_page(browser, tmp_path / "sweep" / "report.html", tmp_path / "e2e.png")
    assert facts["figures"] == 6
