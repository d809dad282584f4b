"""The command line as a user types it: subprocesses of ``python -m escalate``, and in-process runs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from conftest import BORDER, BUNDLED_SCENARIOS

import escalate
from escalate.cli import cli, main

EVENT_NAMES = ("clash", "south_decides", "retaliation", "north_decides", "open_war", "talks_open")
# Observations files (observed-*.yaml) sit beside the scenarios but are not scenarios.
BUNDLED = BUNDLED_SCENARIOS


def escalate_cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m escalate ARGS`` and capture its output."""
    return subprocess.run([sys.executable, "-m", "escalate", *map(str, args)],
                          capture_output=True, text=True, timeout=120, cwd=cwd, check=False)


@pytest.fixture
def invalid_file(tmp_path: Path) -> Path:
    """The border scenario with a misspelt actor and a misspelt parameter."""
    text = BORDER.replace("retaliation: p_retaliate", "retaliation: p_retaliat").replace(
        "  south_decides:\n    actor: south", "  south_decides:\n    actor: sout")
    assert text.count("p_retaliat,") + text.count("actor: sout\n") == 2
    path = tmp_path / "invalid.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# -- validate --------------------------------------------------------------------------------


def test_validate_accepts_a_valid_file(border_file: Path) -> None:
    """`escalate validate FILE` exits 0 and says the file is valid."""
    done = escalate_cli("validate", border_file)
    assert done.returncode == 0, done.stderr
    assert "valid (6 events, 2 parameters, 3 outcomes)" in done.stdout


def test_validate_reports_every_problem_with_its_position(invalid_file: Path) -> None:
    """An invalid file exits 2, with each problem at file:line:column and no traceback."""
    done = escalate_cli("validate", invalid_file)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    located = re.findall(rf"{re.escape(str(invalid_file))}:(\d+):(\d+): (\S+)", done.stderr)
    assert [path for _, _, path in located] == ["events.south_decides.actor:",
                                               "events.south_decides.choose.retaliation:"]
    lines = BORDER.splitlines()
    for line, column, _ in located:
        assert lines[int(line) - 1][int(column) - 1:].startswith(("sout", "p_retaliat"))
    assert "did you mean `p_retaliate`?" in done.stderr
    assert "did you mean `south`?" in done.stderr


def test_validate_reports_yaml_syntax_errors_with_position(tmp_path: Path) -> None:
    """Broken YAML exits 2 with a file:line:column message and no traceback."""
    path = tmp_path / "broken.yaml"
    path.write_text("escalate: 1\nname: x\nhorizon: 10\nevents:\n  a: {at: 0\n", encoding="utf-8")
    done = escalate_cli("validate", path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert re.search(rf"{re.escape(str(path))}:\d+:\d+: invalid YAML", done.stderr)


def test_missing_file_exits_2(tmp_path: Path) -> None:
    """A file that does not exist is reported with exit status 2 and no traceback."""
    done = escalate_cli("run", tmp_path / "nowhere.yaml", "-n", "10")
    assert done.returncode == 2
    assert "no such file" in done.stderr
    assert "Traceback" not in done.stderr


def test_console_script_validates(border_file: Path) -> None:
    """The installed `escalate` console script runs `validate` like `python -m escalate`."""
    script = shutil.which("escalate", path=str(Path(sys.executable).parent)) or shutil.which(
        "escalate")
    if script is None:
        pytest.skip("the escalate console script is not installed")
    done = subprocess.run([script, "validate", str(border_file)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "valid" in done.stdout


# -- run ---------------------------------------------------------------------------------------


def test_run_prints_a_json_summary(border_file: Path) -> None:
    """`run --format json` prints a summary that parses, with every outcome."""
    done = escalate_cli("run", border_file, "-n", "300", "--seed", "7", "--format", "json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["replications"] == 300
    assert summary["seed"] == 7
    assert set(summary["outcomes"]) == {"strike", "war", "talks"}
    for outcome in summary["outcomes"].values():
        assert 0.0 <= outcome["probability"] <= 1.0


def _table_rows(text: str) -> list[list[str]]:
    """The body rows of the tables in a terminal rendering, as lists of stripped cells."""
    return [[cell.strip() for cell in line.strip().strip("│").split("│")]
            for line in text.splitlines() if line.startswith("│")]


def test_run_prints_a_table_by_default(border_file: Path) -> None:
    """`run` without --format prints each outcome's probability and 95% Wilson interval, each
    rung's share and each ending's share, with the counts of the run of that seed."""
    done = escalate_cli("run", border_file, "-n", "200", "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert "Outcomes" in done.stdout
    from escalate.montecarlo.runner import run
    from escalate.montecarlo.stats import wilson_interval

    summary = run(escalate.load(border_file), replications=200, seed=3,
                  keep_replications=False).summary

    def shown(count: int) -> tuple[str, str]:
        low, high = wilson_interval(count, 200)
        return f"{100 * count / 200:.1f}%", f"{100 * low:.1f}–{100 * high:.1f}%"

    rows = _table_rows(done.stdout)
    outcomes = {row[0]: row for row in rows[:3]}
    assert list(outcomes) == ["strike", "war", "talks"]
    for name, outcome in summary["outcomes"].items():
        assert tuple(outcomes[name][1:3]) == shown(outcome["count"]), name
    levels = {row[0]: row for row in rows[3:8]}
    for level in summary["max_level"]["distribution"]:
        assert tuple(levels[str(level["level"])][2:4]) == shown(level["count"])
    endings = {row[0]: row for row in rows[8:] if len(row) == 3}
    assert endings.keys() == {"war", "talks"}
    for label, ending in endings.items():
        assert tuple(ending[1:3]) == shown(summary["terminals"][label]["count"]), label


def test_run_out_twice_with_one_seed_gives_identical_summaries(border_file: Path,
                                                               tmp_path: Path) -> None:
    """`run --out DIR` twice with the same seed writes byte-identical summary.json files."""
    for name in ("first", "second"):
        done = escalate_cli("run", border_file, "-n", "300", "--seed", "11", "-q",
                            "--out", tmp_path / name)
        assert done.returncode == 0, done.stderr
    first = (tmp_path / "first" / "summary.json").read_bytes()
    assert first == (tmp_path / "second" / "summary.json").read_bytes()
    manifest = json.loads((tmp_path / "first" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "completed"
    assert "run" in manifest["command"]


def test_run_events_writes_the_event_log(border_file: Path, tmp_path: Path) -> None:
    """`run --out DIR --events` writes events.csv beside the summary."""
    done = escalate_cli("run", border_file, "-n", "20", "--out", tmp_path / "run", "--events")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / "events.csv").read_text(encoding="utf-8").startswith(
        "replication,day,event,actor,status,level,detail\n")


def test_set_unknown_parameter_exits_2_with_a_hint(border_file: Path) -> None:
    """`--set` of an unknown parameter exits 2 and suggests the close name."""
    done = escalate_cli("run", border_file, "-n", "10", "--set", "p_retalate=0.2")
    assert done.returncode == 2
    assert "cannot set 'p_retalate'" in done.stderr
    assert "did you mean `p_retaliate`?" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("assignment", ["p_retaliate", "=0.2", "p_retaliate="])
def test_set_malformed_exits_2(border_file: Path, assignment: str) -> None:
    """`--set` without NAME=VALUE exits 2 and shows the expected form."""
    done = escalate_cli("run", border_file, "-n", "10", "--set", assignment)
    assert done.returncode == 2
    assert "NAME=VALUE" in done.stderr
    assert "Traceback" not in done.stderr


def test_set_changes_the_results(border_file: Path) -> None:
    """`--set p_retaliate=0` removes every strike."""
    done = escalate_cli("run", border_file, "-n", "100", "--set", "p_retaliate=0",
                        "--format", "json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["outcomes"]["strike"]["count"] == 0
    assert summary["overrides"] == {"p_retaliate": 0.0}


def test_failing_run_exits_3(tmp_path: Path) -> None:
    """A scenario failing at run time exits 3 with the engine's message and no traceback."""
    path = tmp_path / "failing.yaml"
    path.write_text(
        "escalate: 1\nname: failing\nhorizon: 10\nstate: {x: 0.7}\nevents:\n"
        "  decide: {at: 0, choose: {b: \"2 * x\"}}\n  b: {}\n", encoding="utf-8")
    done = escalate_cli("run", path, "-n", "5")
    assert done.returncode == 3
    assert "SimulationError" in done.stderr
    assert "event 'decide'" in done.stderr
    assert "Traceback" not in done.stderr


# -- trace, graph, schema ---------------------------------------------------------------------------


def test_trace_tells_one_replication_with_dates_and_choices(border_file: Path) -> None:
    """`trace` prints each event with its day and date, and the choice a decision made."""
    done = escalate_cli("trace", border_file, "--seed", "3")
    assert done.returncode == 0, done.stderr
    assert "2030-03-01" in done.stdout
    assert "clash" in done.stdout
    assert "south_decides" in done.stdout
    assert re.search(r"chose (retaliation|talks_open)", done.stdout)
    assert "ended:" in done.stdout


def test_trace_json_lists_the_events(border_file: Path) -> None:
    """`trace --format json` prints the replication's events with days, dates and details."""
    done = escalate_cli("trace", border_file, "--seed", "3", "--replication", "5",
                        "--format", "json")
    assert done.returncode == 0, done.stderr
    story = json.loads(done.stdout)
    assert (story["replication"], story["seed"]) == (5, 3)
    first = story["events"][0]
    assert (first["event"], first["day"], first["date"], first["status"]) == (
        "clash", 0.0, "2030-03-01", "fired")
    decision = story["events"][1]
    assert decision["event"] == "south_decides"
    assert decision["detail"] in ("chose retaliation", "chose talks_open")
    assert story["terminal"] in ("war", "talks")
    days = [event["day"] for event in story["events"]]
    assert days == sorted(days)


@pytest.mark.parametrize(("format_", "opening"), [("mermaid", "flowchart TD"), ("dot", "digraph")])
def test_graph_names_every_event(border_file: Path, format_: str, opening: str) -> None:
    """`graph --format mermaid|dot` prints a diagram naming every event."""
    done = escalate_cli("graph", border_file, "--format", format_)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(opening)
    for name in EVENT_NAMES:
        assert name in done.stdout


@pytest.fixture(scope="module")
def schema() -> dict[str, object]:
    done = escalate_cli("schema")
    assert done.returncode == 0, done.stderr
    document: dict[str, object] = json.loads(done.stdout)
    return document


def test_schema_is_a_json_schema_of_scenarios(schema: dict[str, object]) -> None:
    """`schema` prints a 2020-12 JSON Schema requiring the scenario's top-level fields."""
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object"
    assert {"escalate", "name", "horizon", "events"} <= set(schema["required"])  # type: ignore[arg-type]
    assert {"parameters", "events", "outcomes", "ladder"} <= set(schema["properties"])  # type: ignore[arg-type]
    assert schema["additionalProperties"] is False


def _scenario_data(text: str) -> object:
    # YAML reads dates as date objects; JSON (which the schema describes) has them as text.
    return json.loads(json.dumps(yaml.safe_load(text), default=str))


@pytest.mark.parametrize("path", [None, *BUNDLED], ids=["border", *(p.stem for p in BUNDLED)])
def test_schema_accepts_scenarios(schema: dict[str, object], path: Path | None) -> None:
    """The schema validates the data of a valid scenario (the border one and each bundled one)."""
    jsonschema = pytest.importorskip("jsonschema")
    text = BORDER if path is None else path.read_text(encoding="utf-8")
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    validator(schema).validate(_scenario_data(text))


def test_schema_rejects_unknown_fields(schema: dict[str, object]) -> None:
    """The schema refuses a scenario with a field the format does not have."""
    jsonschema = pytest.importorskip("jsonschema")
    data = _scenario_data(BORDER)
    assert isinstance(data, dict)
    data["horizn"] = 10
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert any("horizn" in error.message for error in validator.iter_errors(data))


# -- version and help ------------------------------------------------------------------------------


def test_version_prints_the_package_version() -> None:
    """`--version` prints the package version."""
    done = escalate_cli("--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"escalate, version {escalate.__version__}"


def test_module_help_lists_the_commands() -> None:
    """`python -m escalate --help` lists every command."""
    done = escalate_cli("--help")
    assert done.returncode == 0
    assert "Usage: escalate" in done.stdout
    for command in ("validate", "run", "trace", "graph", "schema"):
        assert re.search(rf"^\s+{command}\b", done.stdout, re.MULTILINE), command


# -- in process ---------------------------------------------------------------------------------------


def test_in_process_validate_exit_codes(border_file: Path, invalid_file: Path) -> None:
    """The command group reports valid files with exit 0 and invalid ones with exit 2."""
    runner = CliRunner()
    valid = runner.invoke(cli, ["validate", str(border_file)])
    assert valid.exit_code == 0
    assert "valid" in valid.output
    invalid = runner.invoke(cli, ["validate", str(invalid_file)])
    assert invalid.exit_code == 2
    assert "unknown actor 'sout'" in invalid.output


def test_in_process_run_json(border_file: Path) -> None:
    """`run --format json` in process gives the same summary as the library."""
    result = CliRunner().invoke(cli, ["run", str(border_file), "-n", "200", "--seed", "5",
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    expected = escalate.load(border_file)
    from escalate.montecarlo.runner import run

    assert json.loads(result.output) == json.loads(json.dumps(
        run(expected, replications=200, seed=5, keep_replications=False).summary))


def test_in_process_errors_reach_the_caller_as_escalate_errors(border_file: Path) -> None:
    """Without main(), a bad override surfaces as the ScenarioError the library raised."""
    result = CliRunner().invoke(cli, ["run", str(border_file), "--set", "nope=1"])
    assert isinstance(result.exception, escalate.ScenarioError)


@pytest.mark.parametrize(("args", "status"), [
    (["validate", "{border}"], 0),
    (["run", "{border}", "--set", "nope=1"], 2),
    (["run", "{border}", "--set", "nope"], 2),
    (["run", "{missing}"], 2),
    (["frobnicate"], 2),
])
def test_main_maps_errors_to_exit_codes(border_file: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str], args: list[str],
                                        status: int) -> None:
    """main() exits with the code of each error kind and writes no traceback."""
    argv = [a.format(border=border_file, missing=tmp_path / "missing.yaml") for a in args]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == status
    assert "Traceback" not in capsys.readouterr().err
