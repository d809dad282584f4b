"""Reports of runs and sweeps: self-contained HTML, Markdown with charts beside it, all text escaped."""

from __future__ import annotations

import base64
import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import BORDER
from report_helpers import (
    HOSTILE,
    HOSTILE_FOLDER,
    HOSTILE_URL,
    hostile_scenario,
    make_sweep_directory,
    run_directory,
)

import escalate
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
    """A run of the hostile scenario, from a folder whose name is markup too."""
    root = tmp_path_factory.mktemp("hostile-run") / HOSTILE_FOLDER
    root.mkdir()
    (root / "hostile.yaml").write_text(hostile_scenario(BORDER), encoding="utf-8")
    return run_directory(root / "run", root / "hostile.yaml", replications=100)


class _Page(HTMLParser):
    """The elements and the text of an HTML page, as a browser's parser reads them."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.rows: dict[str, list[list[str]]] = {}
        self._table = ""
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag == "table":
            self._table = dict(attrs).get("class") or ""
            self.rows.setdefault(self._table, [])
        elif tag == "tr":
            self.rows[self._table].append([])
        elif tag == "td":
            self.rows[self._table][-1].append("")

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        rows = self.rows.get(self._table)
        if rows and rows[-1]:
            rows[-1][-1] += data


def _icd_words(probability: float) -> str:
    """The ICD 203 words of docs/reports.md; a boundary takes the more guarded word."""
    if probability < 0.05:
        return "almost no chance"
    if probability < 0.20:
        return "very unlikely"
    if probability < 0.45:
        return "unlikely"
    if probability <= 0.55:
        return "roughly even chance"
    if probability <= 0.80:
        return "likely"
    if probability <= 0.95:
        return "very likely"
    return "almost certain"


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
    assert "Analyst judgement, workshop of 2030-02-20" in html
    assert "2030-03-01" in html  # dates beside days


def test_each_outcome_is_put_in_the_words_of_its_estimate_and_interval(
        border_run: Path, tmp_path: Path) -> None:
    """The outcomes table gives each outcome the ICD 203 words of its probability, and of the
    ends of its 95% interval when they fall in other bands, as summary.json has them."""
    html = write_report(border_run, "html", tmp_path / "r.html")[0].read_text()
    summary = json.loads((border_run / "summary.json").read_text(encoding="utf-8"))
    rows = {row[0]: row for row in _Page(html).rows["outcomes"] if row}
    assert set(rows) == set(summary["outcomes"])
    spans = 0
    for name, outcome in summary["outcomes"].items():
        words = _icd_words(outcome["probability"])
        low, high = (_icd_words(end) for end in outcome["ci95"])
        expected = words if low == high else f"{words} (95% interval: {low} to {high})"
        spans += low != high
        assert rows[name][4] == expected, name
    # P(strike) = 0.35 is well inside "unlikely"; war and talks (0.07, 0.93) have intervals
    # of 300 replications that reach the next band.
    assert spans >= 1


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
    """Markup in every user string (and in the folder name) is text: no element, attribute or
    link comes from it, and a kept link holds its whole URL."""
    html = write_report(hostile_run, "html", tmp_path / "r.html")[0].read_text()
    page = _Page(html)
    assert not [tag for tag, _ in page.elements if tag == "script"]
    assert not [(tag, name) for tag, attrs in page.elements for name in attrs
                if name.startswith("on")]
    assert all(str(attrs.get("src")).startswith("data:image/svg+xml;base64,")
               for tag, attrs in page.elements if tag == "img")
    links = [attrs.get("href") for tag, attrs in page.elements if tag == "a"]
    assert [href for href in links if not str(href).startswith("#")] == [HOSTILE_URL]
    text = "".join(page.text)
    assert text.count(HOSTILE) >= 10
    assert HOSTILE_FOLDER in text
    for svg in _svgs(html):
        assert "<script" not in svg
        assert "<img" not in svg


def _outside_code(markdown: str) -> str:
    """The Markdown without its fenced blocks and code spans, whose text is shown literally."""
    text = re.sub(r"^(`{3,})[^\n]*\n.*?^\1$", "", markdown, flags=re.MULTILINE | re.DOTALL)
    return re.sub(r"(?<!`)(`+)(?!`).*?(?<!`)\1(?!`)", "", text)


def test_markdown_report_escapes_user_text_and_writes_its_charts_beside_it(
        hostile_run: Path, tmp_path: Path) -> None:
    """Outside code, user text makes no HTML tag, link or emphasis; every table row keeps its
    cells (GFM splits rows at unescaped pipes, in code spans too); charts sit beside it."""
    written = write_report(hostile_run, "md", tmp_path / "report.md")
    text = written[0].read_text()
    charts = written[1:]
    assert {p.name for p in charts} == {"outcomes.svg", "levels.svg", "cumulative.svg",
                                        "event-graph.svg"}
    assert all(p.parent == tmp_path / "report_files" for p in charts)
    for chart in charts:
        assert f"](report_files/{chart.name})" in text
        assert "<script" not in chart.read_text()
    prose = _outside_code(text)
    assert not re.search(r"<[A-Za-z][A-Za-z0-9-]*[\s/>]", prose)
    assert "&lt;script&gt;" in prose
    assert "](javascript" not in prose
    assert "\\[link\\]\\(javascript:alert\\(1\\)\\)" in prose
    # The kept link, its quotes, brackets and parentheses percent-encoded inside <...>.
    assert "](<https://example.org/?q=%22%3E%3Cscript%3Ealert%282%29%3C/script%3E>)" in prose
    tables = re.findall(r"(?:^\|.*\n)+", text, flags=re.MULTILINE)
    assert len(tables) >= 8
    for table in tables:
        pipes = {len(re.findall(r"(?<!\\)\|", row)) for row in table.splitlines()}
        assert len(pipes) == 1, table


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
        "\\*bold\\* \\| \\[link\\]\\(javascript:alert\\(1\\)\\) \" onmouseover=\"alert\\(4\\)")


@pytest.mark.parametrize("format_", ["html", "md"])
def test_a_sweep_report_shows_when_the_sweep_started_and_finished_and_its_wall_time(
        tmp_path: Path, format_: str) -> None:
    (tmp_path / "border.yaml").write_text(BORDER, encoding="utf-8")
    escalate.sweep(tmp_path / "border.yaml", {"p_retaliate": [0.2, 0.6]}, replications=20,
                   seed=3, out=tmp_path / "sweep")
    timings = json.loads((tmp_path / "sweep" / "manifest.json").read_text())["timings"]
    text = write_report(tmp_path / "sweep", format_)[0].read_text()
    text = re.sub(r"<[^>]*>", " ", text)  # table cells as text, in either format
    shown = escape_markdown if format_ == "md" else html.escape
    for key in ("started", "finished"):
        assert re.search(rf"{key}\W+{re.escape(shown(timings[key]))}", text), key
    wall_time = shown(f"{timings['wall_seconds']:.1f} s")
    assert re.search(rf"wall time\W+{re.escape(wall_time)}", text)
