"""Reports of runs and sweeps: self-contained HTML, Markdown with charts beside it, all text escaped."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest
from conftest import BORDER
from report_helpers import HOSTILE, hostile_scenario, make_sweep_directory, run_directory

from escalate.report.html import safe_url
from escalate.report.markdown import escape_markdown
from escalate.report.writer import write_report


@pytest.fixture(scope="module")
def border_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("border-run")
    (root / "border.yaml").write_text(BORDER, encoding="utf-8")
    return run_directory(root / "run", root / "border.yaml", replications=300)


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile-run")
    (root / "hostile.yaml").write_text(hostile_scenario(BORDER), encoding="utf-8")
    return run_directory(root / "run", root / "hostile.yaml", replications=100)


def _svgs(html: str) -> list[str]:
    return [base64.b64decode(data).decode() for data in
            re.findall(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html)]


def test_an_html_report_has_every_section_chart_and_table(border_run: Path, tmp_path: Path) -> None:
    html = write_report(border_run, "html", tmp_path / "r.html")[0].read_text()
    for heading in ("Scenario", "Assumptions", "Outcomes", "Maximum escalation level",
                    "Outcomes over time", "Escalation paths", "Event graph",
                    "How this run was made"):
        assert f"<h2>{heading}</h2>" in html
    for kind in ("sources", "ledger", "outcomes", "levels", "cumulative", "paths", "provenance"):
        assert f'<table class="{kind}">' in html
    assert len(_svgs(html)) == 4
    assert "roughly even chance" in html or "unlikely" in html
    assert "Analyst judgement, workshop of 2030-02-20" in html
    assert "2030-03-01" in html  # dates beside days


def test_an_html_report_fetches_nothing_and_runs_no_script(border_run: Path, tmp_path: Path) -> None:
    html = write_report(border_run, "html", tmp_path / "r.html")[0].read_text()
    assert "<script" not in html
    assert not re.search(r'(src|href)="(?!data:|#)', html)
    assert "Content-Security-Policy" in html
    assert "default-src 'none'" in html
    for svg in _svgs(html):
        assert "<script" not in svg
        assert "href=\"http" not in svg


def test_the_same_run_gives_the_same_report_bytes(border_run: Path, tmp_path: Path) -> None:
    first = write_report(border_run, "html", tmp_path / "a.html")[0].read_bytes()
    second = write_report(border_run, "html", tmp_path / "b.html")[0].read_bytes()
    assert first == second


def test_user_text_with_html_and_script_is_shown_as_text(hostile_run: Path, tmp_path: Path) -> None:
    html = write_report(hostile_run, "html", tmp_path / "r.html")[0].read_text()
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    for svg in _svgs(html):
        assert "<script" not in svg
        assert "<img" not in svg


def test_markdown_report_escapes_user_text_and_writes_its_charts_beside_it(
        hostile_run: Path, tmp_path: Path) -> None:
    written = write_report(hostile_run, "md", tmp_path / "report.md")
    text = written[0].read_text()
    charts = written[1:]
    assert {p.name for p in charts} == {"outcomes.svg", "levels.svg", "cumulative.svg",
                                        "event-graph.svg"}
    assert all(p.parent == tmp_path / "report_files" for p in charts)
    for chart in charts:
        assert f"](report_files/{chart.name})" in text
        assert "<script" not in chart.read_text()
    assert "<script" not in text
    assert "<img" not in text
    assert "&lt;script&gt;" in text
    assert "](javascript" not in text
    assert "\\[link\\]\\(javascript:alert\\(1\\)\\)" in text


def test_a_sweep_report_plots_each_outcome_against_each_parameter_and_maps_a_grid(
        tmp_path: Path) -> None:
    (tmp_path / "border.yaml").write_text(BORDER, encoding="utf-8")
    sweep = make_sweep_directory(tmp_path / "sweep", tmp_path / "border.yaml",
                                 {"p_retaliate": [0.1, 0.5, 0.9], "retaliation_delay": [2, 8]},
                                 replications=40, failed=[4])
    html = write_report(sweep, "html")[0].read_text()
    assert (sweep / "report.html").exists()
    ids = re.findall(r'id="figure-([\w-]+)"', html)
    assert ids == ["sweep-strike", "sweep-war", "sweep-talks",
                   "heatmap-strike", "heatmap-war", "heatmap-talks"]
    assert '<table class="points">' in html
    assert "SimulationError: boom" in html


def test_a_one_parameter_sweep_has_banded_lines_and_no_heat_map(tmp_path: Path) -> None:
    (tmp_path / "border.yaml").write_text(BORDER, encoding="utf-8")
    sweep = make_sweep_directory(tmp_path / "sweep", tmp_path / "border.yaml",
                                 {"p_retaliate": [0.1, 0.5, 0.9]}, replications=30)
    html = write_report(sweep, "md")[0].read_text()
    assert "sweep-war.svg" in html
    assert "heatmap" not in html


@pytest.mark.parametrize(("url", "kept"), [
    ("https://example.org/a?b=1", True), ("http://example.org", True),
    ("mailto:someone@example.org", True), ("javascript:alert(1)", False),
    ("JaVaScRiPt:alert(1)", False), ("data:text/html,hi", False), ("//example.org", False),
    ("file:///etc/passwd", False),
])
def test_only_web_and_mail_links_are_kept(url: str, kept: bool) -> None:
    assert (safe_url(url) is not None) is kept


def test_markdown_escaping_neutralises_markup() -> None:
    assert escape_markdown(HOSTILE) == (
        "&lt;script&gt;alert\\('x'\\)&lt;/script&gt; &amp; &lt;img src=x onerror=alert\\(1\\)&gt; "
        "\\*bold\\* \\| \\[link\\]\\(javascript:alert\\(1\\)\\)")
