"""Messages for mistakes whose first wording misled: each names what is wrong, where, and what to do.

Every test runs ``python -m escalate`` in a subprocess, as a user types it, and
checks the exit code, the message and its position.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import BORDER
from sweep_helpers import escalate_cli, write_scenario

OVERFLOW = """\
escalate: 1
name: Overflow
horizon: 10 days
state: {x: 0.0}
events:
  grow: {at: 2, set: {x: "10 ** (now * 200)"}}
"""


def _broken(old: str, new: str) -> str:
    assert BORDER.count(old) == 1
    return BORDER.replace(old, new)


def _last_line(stderr: str) -> str:
    return stderr.strip().splitlines()[-1]


# -- dates before the start, texts over their limit --------------------------------------------


def test_a_horizon_date_before_the_start_names_both_dates(tmp_path: Path) -> None:
    """`horizon: 2029-01-01` with `start: 2030-03-01` says the date is before the start, not
    that a horizon of -424 days must be positive."""
    path = write_scenario(tmp_path, _broken("horizon: 180 days", "horizon: 2029-01-01"))
    done = escalate_cli("validate", path)
    assert done.returncode == 2, done.stderr
    assert (f"{path}:5:10: horizon: the horizon 2029-01-01 is 424 days before the start "
            "2030-03-01; it must come after the start") in done.stderr
    assert "must be positive" not in done.stderr


def test_an_at_date_before_the_start_names_both_dates(tmp_path: Path) -> None:
    """`at: 2029-01-01` says the date and the start it comes before, not "-424 days"."""
    path = write_scenario(tmp_path, _broken("{at: 0,", "{at: 2029-01-01,"))
    done = escalate_cli("validate", path)
    assert done.returncode == 2, done.stderr
    assert (f"{path}:15:22: events.clash.at: `at` is 2029-01-01, 424 days before the start "
            "2030-03-01 (hint: give a date on or after `start:`") in done.stderr
    assert "-424" not in done.stderr


def test_a_name_over_its_limit_gives_the_limit_and_what_to_do(tmp_path: Path) -> None:
    """A 501-character name is refused with its length, the limit and where the rest goes."""
    path = write_scenario(tmp_path, _broken("name: Border incident", "name: " + "x" * 501))
    done = escalate_cli("validate", path)
    assert done.returncode == 2, done.stderr
    assert (f"{path}:2:7: name: the text has 501 characters; the limit for `name` is 500 "
            "(hint: the name is a short title: keep it under the limit and put the rest in "
            "`description:`)") in done.stderr


# -- a power beyond the largest number ----------------------------------------------------------


@pytest.mark.parametrize("engine", ["reference", "batch"])
def test_a_power_beyond_any_number_says_so_with_the_event_and_values(tmp_path: Path,
                                                                      engine: str) -> None:
    """A run-time `**` overflow names the event, the formula and the values, in plain words,
    and the same words on each engine (the differential tests compare them)."""
    path = write_scenario(tmp_path, OVERFLOW)
    done = escalate_cli("run", path, "-n", "5", "--seed", "1", "--engine", engine)
    assert done.returncode == 3, done.stderr
    assert _last_line(done.stderr) == (
        "error: SimulationError: replication 0, t = 2 days, event 'grow': events.grow.set.x: "
        "cannot evaluate '10 ** (now * 200)': 10 ** 400 is too large: the result is beyond "
        "the largest number, about 1.8e+308")
    assert "Numerical result out of range" not in done.stderr


# -- points files -------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "kind"), [("/dev/null", "a character device"),
                                              ("folder", "a directory"),
                                              ("fifo", "a named pipe (FIFO)")])
def test_a_points_file_that_is_not_a_regular_file_says_what_it_is(
        tmp_path: Path, border_file: Path, target: str, kind: str) -> None:
    """`--points-file /dev/null` (or a directory, or a FIFO) is not "missing": it is named."""
    path = Path(target) if target.startswith("/") else tmp_path / target
    if target == "folder":
        path.mkdir()
    elif target == "fifo":
        os.mkfifo(path)
    done = escalate_cli("sweep", border_file, "--design", "list", "--points-file", path,
                        "-n", "10", "--out", tmp_path / "sweep", timeout=60)
    assert done.returncode == 2, done.stderr
    assert f"--points-file {path} is not a regular file: it is {kind}" in done.stderr
    assert "does not exist" not in done.stderr


def test_a_points_file_listing_a_point_twice_is_refused_with_both_lines(
        tmp_path: Path, border_file: Path) -> None:
    """A list design refuses a repeated point as a grid refuses a repeated value."""
    points = tmp_path / "points.csv"
    points.write_text("p_retaliate,retaliation_delay\n0.3,4\n0.4,4\n\n0.3,4\n", encoding="utf-8")
    done = escalate_cli("sweep", border_file, "--design", "list", "--points-file", points,
                        "-n", "10", "--out", tmp_path / "sweep")
    assert done.returncode == 2, done.stderr
    assert (f"{points}:5: this point repeats line 2 (p_retaliate = 0.3, retaliation_delay = 4)"
            in done.stderr)
    assert not (tmp_path / "sweep").exists()


# -- observations -------------------------------------------------------------------------------


def test_an_observed_outcome_the_run_does_not_have_is_refused_with_did_you_mean(
        tmp_path: Path, border_file: Path) -> None:
    """`wr` for `war` exits 2 at its line in the observations file, not "not scored: wr"."""
    out = tmp_path / "run"
    done = escalate_cli("run", border_file, "-n", "100", "-q", "--out", out)
    assert done.returncode == 0, done.stderr
    observed = tmp_path / "observed.yaml"
    observed.write_text("observed: 1\nwindow: {start: 2030-03-01, end: 2030-03-31}\n"
                        "sources: [{id: news, title: News}]\n"
                        "outcomes:\n  talks: {occurred: true, source: news}\n"
                        "  wr: {occurred: false, source: news}\n", encoding="utf-8")
    done = escalate_cli("score", out, "--observed", observed)
    assert done.returncode == 2, done.stdout + done.stderr
    assert (f"{observed}:6:3: outcomes.wr: 'wr' is not an outcome of the run "
            "(hint: did you mean `war`?)") in done.stderr
    assert "not scored" not in done.stdout
