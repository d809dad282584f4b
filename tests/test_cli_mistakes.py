"""User mistakes on the command line: each gets a clear message and its exit code, never a traceback.

Every test runs ``python -m escalate`` in a subprocess, as a user types it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import BORDER
from sweep_helpers import GRID, escalate_cli, write_scenario


def _run_directory(tmp_path: Path, border_file: Path, name: str, *options: str) -> Path:
    """A small completed run directory of the border scenario."""
    out = tmp_path / name
    done = escalate_cli("run", border_file, "-n", "200", "-q", "--out", out, *options)
    assert done.returncode == 0, done.stderr
    return out


# -- compare ---------------------------------------------------------------------------------


def test_compare_table_out_that_is_a_directory_is_refused_cleanly(tmp_path: Path,
                                                                   border_file: Path) -> None:
    """`compare --out DIR` (the default table format) exits 2 naming --out, not a traceback."""
    first = _run_directory(tmp_path, border_file, "first")
    second = _run_directory(tmp_path, border_file, "second", "--seed", "5")
    done = escalate_cli("compare", first, second, "--out", tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"--out {tmp_path} is a directory" in done.stderr


def test_compare_table_out_in_a_new_folder_is_written(tmp_path: Path, border_file: Path) -> None:
    """`compare --out NEW/x.txt` creates the folder and writes the table, like the other formats."""
    first = _run_directory(tmp_path, border_file, "first")
    second = _run_directory(tmp_path, border_file, "second", "--seed", "5")
    target = tmp_path / "new" / "comparison.txt"
    done = escalate_cli("compare", first, second, "--out", target)
    assert done.returncode == 0, done.stderr
    assert "second against first" in target.read_text(encoding="utf-8")


def test_compare_out_under_a_regular_file_names_the_file(tmp_path: Path,
                                                          border_file: Path) -> None:
    """An --out below a regular file exits 2 and says which path is a file, not "File exists"."""
    first = _run_directory(tmp_path, border_file, "first")
    second = _run_directory(tmp_path, border_file, "second", "--seed", "5")
    blocker = tmp_path / "notes.txt"
    blocker.write_text("notes\n", encoding="utf-8")
    done = escalate_cli("compare", first, second, "--format", "json", "--out",
                        blocker / "comparison.json")
    assert done.returncode == 2, done.stderr
    assert f"{blocker} is a file, not a directory" in done.stderr


def test_compare_checks_every_scenario_file_before_running_any(tmp_path: Path,
                                                                border_file: Path) -> None:
    """An invalid second scenario file is reported at once, before the first one is run."""
    broken = write_scenario(tmp_path, BORDER.replace("actor: south\n", "actor: sout\n", 1),
                            "broken.yaml")
    # A billion replications of the first file would not finish within the timeout.
    done = escalate_cli("compare", border_file, broken, "-n", "1000000000", timeout=60)
    assert done.returncode == 2, done.stderr
    assert "did you mean `south`?" in done.stderr


def test_compare_table_names_the_outcomes_it_leaves_out(tmp_path: Path,
                                                        border_file: Path) -> None:
    """The table says which outcomes only one input has, as the HTML and Markdown reports do."""
    renamed = write_scenario(tmp_path, BORDER.replace("  talks: {event: talks_open}",
                                                      "  negotiations: {event: talks_open}"),
                             "renamed.yaml")
    done = escalate_cli("compare", border_file, renamed, "-n", "200")
    assert done.returncode == 0, done.stderr
    assert "Outcomes only in border (not compared): talks" in done.stdout
    assert "Outcomes only in renamed (not compared): negotiations" in done.stdout


# -- sweep -----------------------------------------------------------------------------------


def test_sweep_malformed_scheduler_address_is_refused_before_the_directory(
        tmp_path: Path, border_file: Path) -> None:
    """A --scheduler address without a port exits 2 naming the option, and writes nothing."""
    pytest.importorskip("distributed")
    out = tmp_path / "sweep"
    done = escalate_cli("sweep", border_file, *GRID, "-n", "100", "-q", "--scheduler", "garbage",
                        "--out", out)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert "--scheduler expects an address such as tcp://HOST:8786, found 'garbage'" in done.stderr
    assert not out.exists()


def test_sweep_connect_timeout_without_a_scheduler_is_refused(tmp_path: Path,
                                                              border_file: Path) -> None:
    """`--connect-timeout` without `--scheduler` exits 2 saying what it is for, and runs nothing."""
    out = tmp_path / "sweep"
    done = escalate_cli("sweep", border_file, *GRID, "-n", "100", "-q", "--connect-timeout", "2",
                        "--out", out)
    assert done.returncode == 2, done.stderr
    assert "--connect-timeout is how long to wait for a --scheduler" in done.stderr
    assert not out.exists()


def test_sweep_range_with_equal_ends_is_refused(tmp_path: Path, border_file: Path) -> None:
    """`--vary NAME=0.3:0.3:5` exits 2, as a list naming a value twice does, and runs nothing."""
    out = tmp_path / "sweep"
    done = escalate_cli("sweep", border_file, "--vary", "p_retaliate=0.3:0.3:5", "-n", "100",
                        "-q", "--out", out)
    assert done.returncode == 2, done.stderr
    assert "--vary p_retaliate=0.3:0.3:5: start and stop are both 0.3" in done.stderr
    assert not out.exists()


def test_points_file_saved_with_a_byte_order_mark_is_read(tmp_path: Path,
                                                          border_file: Path) -> None:
    """A points CSV saved by a spreadsheet with a UTF-8 byte order mark names its parameters."""
    points = tmp_path / "points.csv"
    points.write_bytes(b"\xef\xbb\xbfp_retaliate\n0.1\n0.3\n")
    done = escalate_cli("sweep", border_file, "--design", "list", "--points-file", points,
                        "-n", "100", "-q", "--out", tmp_path / "sweep")
    assert done.returncode == 0, done.stderr
    assert "2 points" in done.stdout


def test_points_file_that_is_not_utf8_is_a_usage_error(tmp_path: Path,
                                                       border_file: Path) -> None:
    """A points file in another encoding exits 2 naming --points-file, not a traceback."""
    points = tmp_path / "points.csv"
    points.write_bytes("p_retaliate\n0.1\n".encode("utf-16"))
    done = escalate_cli("sweep", border_file, "--design", "list", "--points-file", points,
                        "-n", "100", "-q", "--out", tmp_path / "sweep")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f"--points-file {points} is not UTF-8 text" in done.stderr


def test_points_file_that_is_missing_is_a_usage_error(tmp_path: Path, border_file: Path) -> None:
    """A --points-file that does not exist is bad input (exit 2), not an output failure."""
    done = escalate_cli("sweep", border_file, "--design", "list", "--points-file",
                        tmp_path / "nowhere.csv", "-n", "100", "-q", "--out", tmp_path / "sweep")
    assert done.returncode == 2, done.stderr
    assert "nowhere.csv does not exist; expected a CSV file" in done.stderr


# -- run and sensitivity: --out of another kind -----------------------------------------------


def test_run_out_refuses_a_sweep_directory(tmp_path: Path, border_file: Path) -> None:
    """`run --out SWEEP_DIR` exits 2 and leaves the sweep's manifest as it was."""
    sweep = tmp_path / "sweep"
    done = escalate_cli("sweep", border_file, *GRID, "-n", "100", "-q", "--out", sweep)
    assert done.returncode == 0, done.stderr
    manifest = (sweep / "manifest.json").read_bytes()
    done = escalate_cli("run", border_file, "-n", "200", "-q", "--out", sweep)
    assert done.returncode == 2, done.stderr
    assert "holds a sweep (format 'escalate-sweep/1'), not a run" in done.stderr
    assert (sweep / "manifest.json").read_bytes() == manifest
    assert not (sweep / "summary.json").exists()


def test_sensitivity_out_refuses_an_unrelated_directory_before_running(
        tmp_path: Path, border_file: Path) -> None:
    """`sensitivity --out DIR` with other files in DIR exits 2 at once and writes nothing there."""
    pytest.importorskip("SALib")
    unrelated = tmp_path / "notes"
    unrelated.mkdir()
    (unrelated / "notes.txt").write_text("notes\n", encoding="utf-8")
    done = escalate_cli("sensitivity", border_file, "--samples", "4", "-n", "20", "-q",
                        "--out", unrelated)
    assert done.returncode == 2, done.stderr
    assert f"--out {unrelated} is not empty and holds no sensitivity analysis" in done.stderr
    assert done.stdout == ""  # refused before the analysis, so no table was printed
    assert [p.name for p in unrelated.iterdir()] == ["notes.txt"]


def test_sensitivity_out_refuses_a_run_directory(tmp_path: Path, border_file: Path) -> None:
    """`sensitivity --out RUN_DIR` exits 2 and leaves the run's manifest as it was."""
    pytest.importorskip("SALib")
    run = _run_directory(tmp_path, border_file, "run")
    manifest = (run / "manifest.json").read_bytes()
    done = escalate_cli("sensitivity", border_file, "--samples", "4", "-n", "20", "-q",
                        "--out", run)
    assert done.returncode == 2, done.stderr
    assert "holds a run (format 'escalate-run/1'), not a sensitivity analysis" in done.stderr
    assert (run / "manifest.json").read_bytes() == manifest


def test_sensitivity_out_that_is_a_file_is_refused_before_running(tmp_path: Path,
                                                                  border_file: Path) -> None:
    """`sensitivity --out FILE` exits 2 naming --out, before the analysis runs."""
    pytest.importorskip("SALib")
    target = tmp_path / "notes.txt"
    target.write_text("notes\n", encoding="utf-8")
    done = escalate_cli("sensitivity", border_file, "--samples", "4", "-n", "20", "-q",
                        "--out", target)
    assert done.returncode == 2, done.stderr
    assert f"--out {target} is a file, not a directory" in done.stderr
    assert done.stdout == ""


# -- report and compare: a damaged run directory ---------------------------------------------


def test_report_and_compare_refuse_a_summary_without_its_outcome_numbers(
        tmp_path: Path, border_file: Path) -> None:
    """A summary.json that is JSON but lacks an outcome's probability exits 4 naming the field."""
    run = _run_directory(tmp_path, border_file, "run")
    other = _run_directory(tmp_path, border_file, "other", "--seed", "5")
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    del summary["outcomes"]["war"]["probability"]
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    for done in (escalate_cli("report", run), escalate_cli("compare", other, run)):
        assert done.returncode == 4, done.stderr
        assert "Traceback" not in done.stderr
        assert "summary.json is not a complete run summary: outcomes.war.probability should " \
               "be a number, found None" in done.stderr


# -- --set and parameter values --------------------------------------------------------------


def test_set_with_a_bad_value_is_one_problem_located_at_the_option(border_file: Path) -> None:
    """`--set p_retaliate=abc` is reported once, at `--set p_retaliate`, not at every use."""
    done = escalate_cli("run", border_file, "-n", "200", "--set", "p_retaliate=abc")
    assert done.returncode == 2, done.stderr
    assert "1 problem found" in done.stderr
    assert f"{border_file}: --set p_retaliate: expected a number" in done.stderr
    assert "found 'abc'" in done.stderr
    assert "unknown name" not in done.stderr


def test_set_out_of_range_blames_the_option_not_the_file(border_file: Path) -> None:
    """`trace --set p_retaliate=2` names `--set p_retaliate`, not the file's line holding 0.35."""
    done = escalate_cli("trace", border_file, "--set", "p_retaliate=2")
    assert done.returncode == 2, done.stderr
    assert f"{border_file}: --set p_retaliate: p_retaliate = 2.0 is outside its range [0, 1]" \
        in done.stderr


def test_set_true_for_a_number_parameter_names_the_expected_kind(border_file: Path) -> None:
    """`--set retaliation_delay=true` exits 2 saying a number is expected, with no follow-on errors."""
    done = escalate_cli("run", border_file, "-n", "200", "--set", "retaliation_delay=true")
    assert done.returncode == 2, done.stderr
    assert ("--set retaliation_delay: expected a number, a percentage or a duration, as in the "
            "scenario, found true") in done.stderr
    assert "is a bool" not in done.stderr


def test_a_bad_parameter_value_in_a_file_is_reported_once(tmp_path: Path) -> None:
    """A parameter value that is not a number is one problem, not also one at each use."""
    path = write_scenario(tmp_path, BORDER.replace("p_retaliate: {value: 0.35,",
                                                   "p_retaliate: {value: lots,"))
    done = escalate_cli("validate", path)
    assert done.returncode == 2, done.stderr
    assert "1 problem found" in done.stderr
    assert "parameters.p_retaliate.value: expected a number" in done.stderr


def test_report_of_a_damaged_sweep_manifest_is_an_output_error(tmp_path: Path,
                                                                border_file: Path) -> None:
    """A sweep manifest whose design is not a mapping exits 4 naming the file, not a traceback."""
    sweep = tmp_path / "sweep"
    done = escalate_cli("sweep", border_file, *GRID, "-n", "100", "-q", "--out", sweep)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((sweep / "manifest.json").read_text(encoding="utf-8"))
    manifest["design"] = "grid"
    (sweep / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    done = escalate_cli("report", sweep)
    assert done.returncode == 4, done.stderr
    assert "manifest.json is not a complete sweep manifest" in done.stderr


def test_report_of_a_scenario_file_says_to_run_it_first(border_file: Path) -> None:
    """`report FILE.yaml` exits 2, hinting at `escalate run FILE.yaml --out DIR`."""
    done = escalate_cli("report", border_file)
    assert done.returncode == 2, done.stderr
    assert f"hint: run it first: escalate run {border_file} --out DIR" in done.stderr


# -- score -----------------------------------------------------------------------------------


def test_score_with_an_empty_observations_file_describes_observations(
        tmp_path: Path, border_file: Path) -> None:
    """An empty --observed file exits 2 with a hint about observations files, not scenarios."""
    run = _run_directory(tmp_path, border_file, "run")
    observed = tmp_path / "observed.yaml"
    observed.write_text("# to be filled in\n", encoding="utf-8")
    done = escalate_cli("score", run, "--observed", observed)
    assert done.returncode == 2, done.stderr
    assert f"invalid observations file:\n{observed}:1:1: the file is empty" in done.stderr
    assert "hint: an observations file starts with `observed: 1`" in done.stderr
    assert "scenario starts with" not in done.stderr


def test_score_with_a_directory_as_observations_names_the_option(tmp_path: Path,
                                                                 border_file: Path) -> None:
    """`score --observed DIR` exits 2 saying DIR is not an observations file."""
    run = _run_directory(tmp_path, border_file, "run")
    done = escalate_cli("score", run, "--observed", tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"--observed {tmp_path} is a directory, not an observations file" in done.stderr



# -- --precision and --max-replications ------------------------------------------------------


def test_max_replications_below_the_block_names_both_options(border_file: Path) -> None:
    """`run --precision H --max-replications M` with M below -n names --max-replications and -n."""
    done = escalate_cli("run", border_file, "-n", "200", "--precision", "0.1",
                        "--max-replications", "100")
    assert done.returncode == 2, done.stderr
    assert "--max-replications: " in done.stderr
    assert "from the block size (-n, 200)" in done.stderr


def test_sweep_max_replications_without_precision_names_the_options(tmp_path: Path,
                                                                    border_file: Path) -> None:
    """`sweep --max-replications` without --precision says so with the options' names."""
    done = escalate_cli("sweep", border_file, *GRID, "-n", "100", "-q", "--max-replications",
                        "500", "--out", tmp_path / "sweep")
    assert done.returncode == 2, done.stderr
    assert "--max-replications bounds an adaptive run: give --precision too" in done.stderr


def test_score_with_a_misspelt_observation_field_suggests_the_field(tmp_path: Path,
                                                                   border_file: Path) -> None:
    """`occured:` in an observations file exits 2 with its position and `did you mean`."""
    run = _run_directory(tmp_path, border_file, "run")
    observed = tmp_path / "observed.yaml"
    observed.write_text("observed: 1\nwindow: {start: 2030-03-01, end: 2030-04-01}\n"
                        "sources: [{id: news, title: News}]\n"
                        "outcomes:\n  war: {occured: false, source: news}\n", encoding="utf-8")
    done = escalate_cli("score", run, "--observed", observed)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert (f"{observed}:5:9: outcomes.war.occured: unknown field 'occured' "
            "(hint: did you mean `occurred`?)") in done.stderr
    assert "Field required" not in done.stderr


# -- --uncertainty with nothing to draw ----------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "trace"])
def test_uncertainty_with_no_uncertain_parameter_exits_2(command: str, tmp_path: Path) -> None:
    """A two-level run that would draw nothing is refused rather than labelled two-level."""
    certain = write_scenario(tmp_path, BORDER.replace(", ci90: [0.15, 0.55]", ""), "certain.yaml")
    done = escalate_cli(command, certain, "--uncertainty")
    assert done.returncode == 2, done.stderr
    assert "no parameter of the scenario has a `ci90` or an `uncertainty`" in done.stderr
    assert "Traceback" not in done.stderr


def test_uncertainty_with_every_uncertain_parameter_set_exits_2(border_file: Path) -> None:
    """--set holds a parameter at its value; when it held the only uncertain one, nothing is
    drawn, and the message says so."""
    done = escalate_cli("run", border_file, "--uncertainty", "--set", "p_retaliate=0.3")
    assert done.returncode == 2, done.stderr
    assert "--set holds p_retaliate at a value, and no other parameter has" in done.stderr
    done = escalate_cli("run", border_file, "--uncertainty", "-n", "50", "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["uncertainty"] is True


def test_compare_of_run_directories_refuses_options_for_scenario_files(
        tmp_path: Path, border_file: Path) -> None:
    """-n, --seed, --uncertainty and --engine only say how scenario files run; with directories
    alone they would be ignored silently, so they exit 2; with a scenario file they are taken."""
    run = _run_directory(tmp_path, border_file, "run")
    other = _run_directory(tmp_path, border_file, "other", "--seed", "5")
    for option in (["-n", "100"], ["--seed", "3"], ["--uncertainty"], ["--engine", "batch"]):
        done = escalate_cli("compare", run, other, *option)
        assert done.returncode == 2, done.stderr
        assert f"{option[0]} set how scenario files are run" in done.stderr
    done = escalate_cli("compare", run, border_file, "-n", "100", "--format", "json")
    assert done.returncode == 0, done.stderr
