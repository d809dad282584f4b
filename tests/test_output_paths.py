"""Output paths of the wrong kind: every command refuses them with exit 2 before it runs.

An ``--out`` that is a file, lies under a file, or is a directory holding
another kind of output or files that are no output at all is a mistake in
what was asked: exit 2, a message naming the path, what is there and a hint,
and nothing written.  Each command here is given work that would outlast the
time-out (a billion replications), so a refusal that came after the
simulation started would fail the test.  Outputs that fail while being
written still exit 4 (``tests/test_faults.py``).  Every test runs the command
in a subprocess, as a user types it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import BORDER
from sweep_helpers import escalate_cli, write_scenario

import escalate
from escalate.results.destination import check_output_directory
from escalate.sweeps.runner import run_sweep
from escalate.workflow import run_to_directory

#: seconds a refused command may take: far less than any of these commands would run
REFUSED_WITHIN = 60


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A scenario, a file, a folder of notes, a run directory and a sweep directory."""
    base = tmp_path_factory.mktemp("places")
    scenario = write_scenario(base, BORDER, "border.yaml")
    file = base / "results.txt"
    file.write_text("precious\n", encoding="utf-8")
    notes = base / "notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("keep me\n", encoding="utf-8")
    run = base / "run"
    run_to_directory(escalate.load(scenario), run, replications=50, seed=1)
    sweep = base / "sweep"
    run_sweep(scenario, {"p_retaliate": "0.1,0.3"}, replications=20, seed=1, out=sweep)
    return {"scenario": scenario, "file": file, "notes": notes, "run": run, "sweep": sweep}


def _snapshot(path: Path) -> dict[str, bytes]:
    """Every file under ``path`` (or ``path`` itself) with its bytes, to show nothing changed."""
    if path.is_file():
        return {"": path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


def _directory_command(command: str, places: dict[str, Path], out: Path) -> list[str | Path]:
    scenario = places["scenario"]
    if command == "run":
        return ["run", scenario, "-n", "1000000000", "-q", "--out", out]
    if command == "sweep":
        return ["sweep", scenario, "--vary", "p_retaliate=0:1:1000", "-n", "1000000000", "-q",
                "--out", out]
    if command == "sensitivity":
        return ["sensitivity", scenario, "--samples", "1024", "-n", "10000000", "-q",
                "--out", out]
    assert command == "merge"
    return ["merge", places["sweep"], "--out", out]


#: each command writing a directory, what it calls that output, and the kind it is refused
DIRECTORY_COMMANDS = [("run", "run", "sweep"), ("sweep", "sweep", "run"),
                      ("sensitivity", "sensitivity analysis", "sweep"), ("merge", "sweep", "run")]


def _skip_without_salib(command: str) -> None:
    if command == "sensitivity":
        pytest.importorskip("SALib")


def _assert_refused(done: subprocess.CompletedProcess[str], out: Path, words: str) -> None:
    """Exit 2 with one message naming ``out``, saying ``words`` and giving a hint."""
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"--out {out} " in done.stderr
    assert words in done.stderr, done.stderr
    assert "(hint: " in done.stderr


@pytest.mark.parametrize(("command", "kind", "other"), DIRECTORY_COMMANDS)
def test_an_out_that_is_a_file_exits_2_and_leaves_it(command: str, kind: str, other: str,
                                                     places: dict[str, Path]) -> None:
    """`--out FILE` exits 2 at once saying it is a file, and the file keeps its bytes."""
    _skip_without_salib(command)
    target = places["file"]
    done = escalate_cli(*_directory_command(command, places, target), timeout=REFUSED_WITHIN)
    _assert_refused(done, target, "is a file, not a directory")
    assert target.read_text(encoding="utf-8") == "precious\n"


@pytest.mark.parametrize(("command", "kind", "other"), DIRECTORY_COMMANDS)
def test_an_out_under_a_file_exits_2_naming_the_file(command: str, kind: str, other: str,
                                                     places: dict[str, Path]) -> None:
    """`--out FILE/new` exits 2 at once naming FILE as what keeps the directory from being made."""
    _skip_without_salib(command)
    target = places["file"] / "new"
    done = escalate_cli(*_directory_command(command, places, target), timeout=REFUSED_WITHIN)
    _assert_refused(done, target, f"cannot be made: {places['file']} is a file, not a directory")
    assert places["file"].read_text(encoding="utf-8") == "precious\n"


@pytest.mark.parametrize(("command", "kind", "other"), DIRECTORY_COMMANDS)
def test_an_out_of_other_files_exits_2_and_changes_nothing(command: str, kind: str, other: str,
                                                           places: dict[str, Path]) -> None:
    """`--out DIR` with files that are no output exits 2 at once, naming one, and adds nothing."""
    _skip_without_salib(command)
    target = places["notes"]
    before = _snapshot(target)
    done = escalate_cli(*_directory_command(command, places, target), timeout=REFUSED_WITHIN)
    _assert_refused(done, target, f"is not empty and holds no {kind}: it has notes.txt")
    assert _snapshot(target) == before


@pytest.mark.parametrize(("command", "kind", "other"), DIRECTORY_COMMANDS)
def test_an_out_of_another_kind_of_output_exits_2_and_changes_nothing(
        command: str, kind: str, other: str, places: dict[str, Path]) -> None:
    """`--out DIR` holding another kind of output exits 2 at once, naming both kinds."""
    _skip_without_salib(command)
    target = places[other]
    before = _snapshot(target)
    done = escalate_cli(*_directory_command(command, places, target), timeout=REFUSED_WITHIN)
    _assert_refused(done, target, f"holds a {other} (format 'escalate-{other}/1'), not a {kind}")
    assert _snapshot(target) == before


# -- commands writing one file: report and compare ---------------------------------------------


def _file_command(command: str, places: dict[str, Path], out: Path) -> list[str | Path]:
    if command == "report":
        return ["report", places["run"], "--out", out]
    scenario = places["scenario"]
    return ["compare", scenario, scenario, "-n", "1000000000", "--format", "json", "--out", out]


@pytest.mark.parametrize("command", ["report", "compare"])
def test_a_file_out_that_is_a_directory_exits_2(command: str, places: dict[str, Path]) -> None:
    """`report --out DIR` and `compare --out DIR` exit 2 before any work, asking for a file name."""
    pytest.importorskip("matplotlib")
    target = places["notes"]
    before = _snapshot(target)
    done = escalate_cli(*_file_command(command, places, target), timeout=REFUSED_WITHIN)
    _assert_refused(done, target, "is a directory; give the name of the file to write")
    assert _snapshot(target) == before


@pytest.mark.parametrize("command", ["report", "compare"])
def test_a_file_out_under_a_file_exits_2_naming_the_file(command: str,
                                                         places: dict[str, Path]) -> None:
    """`--out FILE/x.html` exits 2 before any work, naming FILE."""
    pytest.importorskip("matplotlib")
    target = places["file"] / "report.html"
    done = escalate_cli(*_file_command(command, places, target), timeout=REFUSED_WITHIN)
    _assert_refused(done, target, f"cannot be written: {places['file']} is a file, not a directory")
    assert places["file"].read_text(encoding="utf-8") == "precious\n"


def _result_files(places: dict[str, Path]) -> list[Path]:
    """JSON files of the run and the sweep (a manifest, a summary, a point's checkpoint),
    which no comparison may replace or add to."""
    sweep_points = sorted((places["sweep"] / "points").iterdir())
    return [places["run"] / "manifest.json", places["run"] / "summary.json",
            places["sweep"] / "manifest.json", sweep_points[0],
            places["sweep"] / "points" / "new.json"]


def test_a_file_out_that_belongs_to_a_result_exits_2_and_leaves_it(
        places: dict[str, Path]) -> None:
    """A comparison written over a result's own file (its manifest, a file or a folder the
    manifest lists) would destroy the result: exit 2, naming the result, nothing changed."""
    for target in _result_files(places):
        owner = places["run"] if places["run"] in target.parents else places["sweep"]
        before = _snapshot(owner)
        done = escalate_cli(*_file_command("compare", places, target), timeout=REFUSED_WITHIN)
        kind = "run" if owner == places["run"] else "sweep"
        _assert_refused(done, target, f"belongs to the {kind} in {owner}")
        assert _snapshot(owner) == before


@pytest.mark.parametrize(("command", "name", "words"), [
    ("report", "border.yaml", "does not end in .html or .htm"),
    ("report", "myreport", "does not end in .html or .htm"),
    ("compare", "border.yaml", "does not end in .json"),
])
def test_a_file_out_without_the_format_suffix_exits_2(command: str, name: str, words: str,
                                                      places: dict[str, Path],
                                                      tmp_path: Path) -> None:
    """A report or comparison goes only to a file named as the format's files are, new or
    existing: so a mistyped --out cannot write over a scenario, and every file it writes can
    be written again."""
    pytest.importorskip("matplotlib")
    target = places["scenario"] if name == "border.yaml" else tmp_path / name
    before = target.read_bytes() if target.exists() else None
    done = escalate_cli(*_file_command(command, places, target), timeout=REFUSED_WITHIN)
    _assert_refused(done, target, words)
    assert (target.read_bytes() if target.exists() else None) == before


def test_a_comparison_over_one_of_its_inputs_exits_2(places: dict[str, Path],
                                                     tmp_path: Path) -> None:
    """A scenario file named as a comparison's output would be is still not written over."""
    scenario = tmp_path / "border.txt"
    scenario.write_bytes(places["scenario"].read_bytes())
    done = escalate_cli("compare", scenario, scenario, "-n", "1000000000", "--out", scenario,
                        timeout=REFUSED_WITHIN)
    _assert_refused(done, scenario, "is one of the command's inputs")
    assert scenario.read_bytes() == places["scenario"].read_bytes()


@pytest.mark.parametrize(("format_", "name"), [("table", "notes.yaml"), ("table", "notes"),
                                               ("json", "data.csv"), ("md", "page.html"),
                                               ("html", "page.md")])
def test_compare_writes_only_files_of_its_format(format_: str, name: str,
                                                 tmp_path: Path) -> None:
    """A file whose suffix is not the format's is refused, existing or not."""
    target = tmp_path / name
    target.write_text("precious\n", encoding="utf-8")
    done = escalate_cli("compare", "a", "b", "--format", format_, "--out", target)
    _assert_refused(done, target, "does not end in ")
    assert target.read_text(encoding="utf-8") == "precious\n"


def test_reports_and_comparisons_replace_their_own_earlier_files(
        places: dict[str, Path], tmp_path: Path) -> None:
    """The files they wrote before (and new files of any name) are written again."""
    pytest.importorskip("matplotlib")
    for format_, name in (("html", "report.htm"), ("md", "report.md")):
        target = tmp_path / name
        for _ in range(2):
            done = escalate_cli("report", places["run"], "--format", format_, "--out", target)
            assert done.returncode == 0, done.stderr
    for format_, name in (("json", "diff.json"), ("table", "diff.txt")):
        target = tmp_path / name
        for _ in range(2):
            done = escalate_cli("compare", places["run"], places["run"], "--format", format_,
                                "--out", target)
            assert done.returncode == 0, done.stderr
        assert target.stat().st_size > 0


def test_a_markdown_report_whose_charts_folder_is_a_file_exits_2(
        places: dict[str, Path], tmp_path: Path) -> None:
    """`report --format md --out X.md` with a file at X_files exits 2 naming it, writing nothing."""
    pytest.importorskip("matplotlib")
    charts = tmp_path / "border_files"
    charts.write_text("notes\n", encoding="utf-8")
    target = tmp_path / "border.md"
    done = escalate_cli("report", places["run"], "--format", "md", "--out", target)
    _assert_refused(done, target, f"puts its charts in {charts}, which is a file")
    assert not target.exists()


# -- what stays accepted ----------------------------------------------------------------------


def test_an_empty_or_missing_directory_is_accepted(tmp_path: Path) -> None:
    """A missing or empty directory is a new output: nothing to refuse, nothing to reuse."""
    (tmp_path / "empty").mkdir()
    assert check_output_directory(tmp_path / "empty", "escalate-run/1") is None
    assert check_output_directory(tmp_path / "missing" / "run", "escalate-run/1") is None


def test_an_output_of_the_same_kind_is_returned_for_reuse(places: dict[str, Path]) -> None:
    """A directory of the same kind of output is accepted (to replace or resume) with its format."""
    assert check_output_directory(places["run"], "escalate-run/1") == "escalate-run/1"
    with pytest.raises(escalate.UsageError, match=r"already holds a run .*hint: new"):
        check_output_directory(places["run"], "escalate-run/1", reuse=False, hint="new")
