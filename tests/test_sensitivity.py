"""Sensitivity analysis: indices over the uncertain parameters, with replication noise measured."""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from conftest import BORDER
from sweep_helpers import (
    RUNTIME_FAILURE,
    WIDE_FAN_OUT_REFUSED,
    escalate_cli,
    kill_a_worker_process,
    with_wide_fan_out,
    write_scenario,
)

import escalate
from escalate.analysis.sensitivity import sensitivity_analysis
from escalate.cli import main
from escalate.errors import SimulationError, UsageError

# The border scenario with a second influential parameter and one that nothing uses.
SENSITIVE = BORDER.replace(
    "  retaliation_delay: {value: 4 days, source: analyst}",
    "  retaliation_delay: {value: 4 days, source: analyst}\n"
    "  p_war: {value: 0.2, ci90: [0.05, 0.5], range: [0, 1], source: analyst}\n"
    "  unused: {value: 3, uncertainty: {uniform: [1, 5]}, source: analyst}",
).replace("choose: {open_war: 0.2, otherwise: talks_open}",
          "choose: {open_war: p_war, otherwise: talks_open}")


@pytest.fixture
def sensitive(tmp_path: Path) -> Path:
    path = tmp_path / "sensitive.yaml"
    path.write_text(SENSITIVE, encoding="utf-8")
    return path


WRITTEN_OPTIONS = ("--samples", "2", "-n", "20", "--seed", "5", "--workers", "1", "-q")


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sensitivity directory written by the command as a user types it, with both reports."""
    root = tmp_path_factory.mktemp("written")
    scenario = root / "sensitive.yaml"
    scenario.write_text(SENSITIVE, encoding="utf-8")
    done = escalate_cli("sensitivity", scenario, *WRITTEN_OPTIONS, "--out", root / "sens")
    assert done.returncode == 0, done.stderr
    markdown = escalate_cli("report", root / "sens", "--format", "md")
    assert markdown.returncode == 0, markdown.stderr
    return root / "sens"


def test_sobol_ranks_the_parameter_that_matters_first_and_gives_an_unused_one_nothing(
        sensitive: Path) -> None:
    result = sensitivity_analysis(escalate.load(sensitive), method="sobol", samples=16,
                                  replications=150, seed=4)
    strike = result.data["outcomes"]["strike"]
    assert strike["ranking"][0] == "p_retaliate"
    # Common random numbers: a parameter that changes no replication changes no estimate.
    assert strike["indices"]["unused"]["ST"] == 0.0
    assert strike["indices"]["unused"]["S1"] == 0.0
    assert result.data["outcomes"]["war"]["ranking"][-1] == "unused"
    assert result.data["points"] == 16 * (3 + 2)
    noise = strike["noise"]
    assert 0 < noise["share"] < 0.2
    # The documented estimate, exactly: the binomial variance y (1 - y) / (n - 1) of each
    # point's estimate y, averaged over the points.
    y = result.outputs[:, list(result.data["outcomes"]).index("strike")]
    assert noise["sd"] == math.sqrt(float(np.mean(y * (1 - y))) / (150 - 1))
    assert noise["share"] == float(np.mean(y * (1 - y))) / (150 - 1) / float(np.var(y))


def test_the_noise_is_the_binomial_error_of_the_points_own_probabilities(
        sensitive: Path) -> None:
    """The noise estimate matches the closed form: strike happens when south retaliates,
    4 days after a decision that comes at day 2 on average (after day 176, past the 180-day
    horizon, with probability e^-88), so a point's strike probability is its p_retaliate, p,
    and the mean of y (1 - y) over the points, (n - 1) times the noise variance, estimates
    the mean of p (1 - p).

    Hoeffding: each point's estimate y is within t of its p except with probability
    2 exp(-2 n t^2); t is chosen so that the points together fail with probability 0.001
    (union bound, whatever the dependence of common random numbers).  Then
    |y (1 - y) - p (1 - p)| = |y - p| |1 - y - p| <= t (|1 - 2 p| + t) at every point.
    """
    replications, error_rate = 4000, 0.001
    result = sensitivity_analysis(escalate.load(sensitive), method="sobol", samples=2,
                                  replications=replications, seed=12)
    points = result.data["points"]
    t = math.sqrt(math.log(2 * points / error_rate) / (2 * replications))
    names = [p["name"] for p in result.data["parameters"]]
    p = result.samples[:, names.index("p_retaliate")]
    sd = result.data["outcomes"]["strike"]["noise"]["sd"]
    estimate = sd**2 * (replications - 1)
    bound = float(np.mean(t * (np.abs(1 - 2 * p) + t)))
    assert abs(estimate - float(np.mean(p * (1 - p)))) <= bound


def test_morris_screening_ranks_the_parameters(sensitive: Path) -> None:
    result = sensitivity_analysis(escalate.load(sensitive), method="morris", samples=4,
                                  replications=100, seed=2)
    war = result.data["outcomes"]["war"]
    assert set(war["ranking"]) == {"p_retaliate", "p_war", "unused"}
    assert war["indices"]["unused"]["mu_star"] == 0.0
    assert war["ranking"][-1] == "unused"


def test_a_scenario_without_uncertain_parameters_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "certain.yaml"
    path.write_text(BORDER.replace(", ci90: [0.15, 0.55]", ""), encoding="utf-8")
    with pytest.raises(UsageError, match="no uncertain parameter"):
        sensitivity_analysis(escalate.load(path))


def test_sobol_needs_a_power_of_two(sensitive: Path) -> None:
    with pytest.raises(UsageError, match="power of two"):
        sensitivity_analysis(escalate.load(sensitive), samples=12)


def test_the_command_prints_the_ranking_and_writes_a_directory_with_its_report(
        sensitive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["sensitivity", str(sensitive), "--outcome", "war", "--samples", "8", "-n", "80",
              "--out", str(tmp_path / "sens"), "-q"])
    out, _ = capsys.readouterr()
    assert stop.value.code == 0
    assert "Sensitivity of war (sobol)" in out
    assert "p_war" in out
    assert "Replication noise" in out
    html = (tmp_path / "sens" / "report.html").read_text()
    assert 'id="figure-tornado-war"' in html
    assert 'class="ranking"' in html
    assert "tornado-strike" not in html
    with pytest.raises(SystemExit) as stop:
        main(["report", str(tmp_path / "sens"), "--format", "md"])
    assert stop.value.code == 0
    assert (tmp_path / "sens" / "report_files" / "tornado-war.svg").exists()


def test_replacing_an_analysis_removes_its_files_and_reports(
        sensitive: Path, tmp_path: Path) -> None:
    """A new analysis into the directory of an old one leaves none of the old one's files:
    its Markdown report and charts go as well as its HTML report, and the new manifest lists
    what the new analysis wrote."""
    out = tmp_path / "sens"
    options = ("--samples", "2", "-n", "20", "--workers", "1", "--out", out, "-q")
    assert escalate_cli("sensitivity", sensitive, "--seed", "3", *options).returncode == 0
    assert escalate_cli("report", out, "--format", "md").returncode == 0
    assert (out / "report_files").is_dir()
    done = escalate_cli("sensitivity", sensitive, "--seed", "4", "--method", "morris", *options)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "indices.json", "manifest.json", "report.html", "samples.csv"]
    assert json.loads((out / "indices.json").read_text(encoding="utf-8"))["method"] == "morris"
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"] == [
        "indices.json", "samples.csv", "manifest.json"]


def test_json_with_out_prints_only_the_json_document(sensitive: Path, tmp_path: Path) -> None:
    """`--format json --out DIR` keeps stdout a JSON document, as `run --format json --out` does."""
    done = escalate_cli("sensitivity", sensitive, "--samples", "2", "-n", "20", "--seed", "3",
                        "--workers", "1", "--format", "json", "--out", tmp_path / "sens", "-q")
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    written = json.loads((tmp_path / "sens" / "indices.json").read_text(encoding="utf-8"))
    assert printed == written
    assert (tmp_path / "sens" / "report.html").exists()


@pytest.mark.parametrize("report", ["report.html", "report.md"])
def test_the_report_gives_the_wall_time_once(written: Path, report: str) -> None:
    """The provenance table shows the manifest's wall time, not that of indices.json as well."""
    text = (written / report).read_text(encoding="utf-8")
    assert text.count("wall time") == 1


def test_the_manifest_records_the_command_and_when_the_analysis_ran(written: Path) -> None:
    """As a run's manifest: the command line, start and finish (UTC) and wall time, and status."""
    manifest = json.loads((written / "manifest.json").read_text(encoding="utf-8"))
    scenario = str(written.parent / "sensitive.yaml")
    assert manifest["command"][1:] == ["sensitivity", scenario, *WRITTEN_OPTIONS, "--out",
                                       str(written)]
    started = dt.datetime.fromisoformat(manifest["started"])
    finished = dt.datetime.fromisoformat(manifest["finished"])
    assert started.utcoffset() == finished.utcoffset() == dt.timedelta(0)
    assert started <= finished <= dt.datetime.now(dt.UTC)
    indices = json.loads((written / "indices.json").read_text(encoding="utf-8"))
    # The manifest's wall time also covers writing the files.
    assert indices["wall_seconds"] <= manifest["wall_seconds"] < indices["wall_seconds"] + 1
    assert manifest["status"] == "completed"


def test_the_manifest_records_the_versions_of_the_packages_that_decide_the_indices(
        written: Path) -> None:
    """Besides a run's packages, SALib (sampling and analysis) and scipy (quantile functions)."""
    versions = json.loads((written / "manifest.json").read_text(encoding="utf-8"))["versions"]
    assert {"python", "escalate", "numpy", "simpy", "pydantic"} <= set(versions)
    assert versions["SALib"] == metadata.version("SALib")
    assert versions["scipy"] == metadata.version("scipy")


def test_the_default_engine_is_auto_and_the_manifest_says_which_ran(written: Path) -> None:
    """Without --engine, auto runs the border scenario on the batch engine, as `run` would."""
    manifest = json.loads((written / "manifest.json").read_text(encoding="utf-8"))
    indices = json.loads((written / "indices.json").read_text(encoding="utf-8"))
    assert (manifest["engine"], manifest["engines"]) == ("auto", ["batch"])
    assert (indices["engine"], indices["engines"]) == ("auto", ["batch"])
    assert "batch (asked for: auto)" in (written / "report.html").read_text(encoding="utf-8")


@pytest.mark.parametrize("engine", ["reference", "batch"])
def test_engine_choice_is_recorded_with_the_engines_that_ran(
        sensitive: Path, tmp_path: Path, engine: str) -> None:
    """`--engine` reaches the points; manifest and indices name it and the engines that ran."""
    with pytest.raises(SystemExit) as stop:
        main(["sensitivity", str(sensitive), "--samples", "2", "-n", "20", "--workers", "1",
              "--engine", engine, "--out", str(tmp_path / "sens"), "-q"])
    assert stop.value.code == 0
    for name in ("manifest.json", "indices.json"):
        written = json.loads((tmp_path / "sens" / name).read_text(encoding="utf-8"))
        assert (written["engine"], written["engines"]) == (engine, [engine])


def test_every_point_runs_on_the_engine_asked_for(sensitive: Path) -> None:
    """A point's probabilities are those of ``escalate.run`` on the same engine, and the two
    engines' differ (same distributions, not the same numbers), so the engine reached it."""
    scenario = escalate.load(sensitive)
    outputs = {}
    for engine in ("reference", "batch"):
        result = sensitivity_analysis(scenario, method="morris", samples=2, replications=40,
                                      seed=6, engine=engine)
        names = [p["name"] for p in result.data["parameters"]]
        for values, probabilities in zip(result.samples, result.outputs, strict=True):
            plain = escalate.run(scenario, replications=40, seed=6, keep_replications=False,
                                 overrides=dict(zip(names, map(float, values), strict=True)),
                                 engine=engine)
            assert probabilities.tolist() == (plain.aggregator.outcome_counts / 40).tolist()
        outputs[engine] = result.outputs
    assert outputs["reference"].tolist() != outputs["batch"].tolist()


def test_an_engine_that_cannot_run_the_scenario_is_refused_before_anything_runs(
        tmp_path: Path) -> None:
    """`--engine batch` on a fan-out the batch engine cannot hold exits 2 and writes nothing;
    auto runs it on the reference engine, as `run` does."""
    path = write_scenario(tmp_path, with_wide_fan_out(SENSITIVE))
    done = escalate_cli("sensitivity", path, "--samples", "2", "-n", "20", "--workers", "1",
                        "--engine", "batch", "--out", tmp_path / "sens", "-q")
    assert done.returncode == 2
    assert WIDE_FAN_OUT_REFUSED in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "sens").exists()
    result = sensitivity_analysis(escalate.load(path), samples=2, replications=20, seed=1)
    assert (result.data["engine"], result.data["engines"]) == ("auto", ["reference"])


def test_the_library_refuses_an_unknown_engine(sensitive: Path) -> None:
    with pytest.raises(UsageError, match="engine must be one of auto, reference, batch, "
                                         "found 'fast'"):
        sensitivity_analysis(escalate.load(sensitive), engine="fast")


def test_an_unknown_outcome_is_named(sensitive: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["sensitivity", str(sensitive), "--outcome", "peace"])
    _, err = capsys.readouterr()
    assert stop.value.code == 2
    assert "unknown outcome 'peace'" in err


def test_every_point_runs_the_streams_of_a_plain_run_with_its_values(sensitive: Path) -> None:
    """Common random numbers: a point's probabilities are those of ``escalate.run`` with the
    point's values and the analysis' seed, not of streams keyed by the point."""
    scenario = escalate.load(sensitive)
    result = sensitivity_analysis(scenario, method="morris", samples=2, replications=40, seed=6)
    names = [p["name"] for p in result.data["parameters"]]
    for values, probabilities in zip(result.samples, result.outputs, strict=True):
        plain = escalate.run(scenario, replications=40, seed=6, keep_replications=False,
                             overrides=dict(zip(names, map(float, values), strict=True)))
        assert probabilities.tolist() == (plain.aggregator.outcome_counts / 40).tolist()


def _without_wall_time(path: Path) -> dict[str, object]:
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("wall_seconds")
    return data


def test_two_workers_write_the_serial_samples_and_indices(sensitive: Path,
                                                          tmp_path: Path) -> None:
    """`--workers 2` gives byte for byte the samples.csv and the indices of a serial run."""
    common = ("sensitivity", sensitive, "--samples", "4", "-n", "40", "--seed", "9", "-q")
    serial = escalate_cli(*common, "--workers", "1", "--out", tmp_path / "serial")
    parallel = escalate_cli(*common, "--workers", "2", "--out", tmp_path / "parallel")
    assert serial.returncode == 0, serial.stderr
    assert parallel.returncode == 0, parallel.stderr
    assert ((tmp_path / "parallel" / "samples.csv").read_bytes()
            == (tmp_path / "serial" / "samples.csv").read_bytes())
    assert (_without_wall_time(tmp_path / "parallel" / "indices.json")
            == _without_wall_time(tmp_path / "serial" / "indices.json"))
    tables = [run.stdout.rpartition("sensitivity directory:")[0] for run in (serial, parallel)]
    assert "Sensitivity of war (sobol)" in tables[0]
    assert tables[1] == tables[0]
    manifests = [json.loads((tmp_path / name / "manifest.json").read_text(encoding="utf-8"))
                 for name in ("serial", "parallel")]
    assert manifests[0]["executor"] == {"kind": "serial", "workers": 1}
    assert manifests[1]["executor"] == {"kind": "processes", "workers": 2}


@pytest.mark.parametrize(("options", "message"), [
    (["--workers", "0"], "Invalid value for '--workers': 0 is not in the range x>=1"),
    (["--workers", "two"], "Invalid value for '--workers': 'two' is not a valid integer"),
    (["--workers", "2", "--dask-local", "2"], "--workers sets local processes"),
    (["--scheduler", "tcp://127.0.0.1:8786", "--dask-local", "2"],
     "either --scheduler or --dask-local"),
])
def test_a_bad_choice_of_workers_is_refused_before_anything_runs(
        sensitive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        options: list[str], message: str) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["sensitivity", str(sensitive), *options, "--out", str(tmp_path / "sens")])
    _, err = capsys.readouterr()
    assert stop.value.code == 2
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "sens").exists()


def test_the_library_refuses_a_worker_count_below_one(sensitive: Path) -> None:
    with pytest.raises(UsageError, match=r"workers must be a whole number of at least 1 "
                                         r"\(or None: every core available\), found 0"):
        sensitivity_analysis(escalate.load(sensitive), workers=0)


def test_a_point_whose_simulation_fails_is_named_with_its_values(tmp_path: Path) -> None:
    """p_retaliate * (level + 1) leaves [0, 1] above 0.5: the analysis stops at such a point."""
    scenario = escalate.load(write_scenario(tmp_path, RUNTIME_FAILURE))
    with pytest.raises(SimulationError,
                       match=r"sample point \d+ \(p_retaliate=0\.[5-9]\d*\) failed: "):
        sensitivity_analysis(scenario, samples=8, replications=50, seed=1)


def test_a_failed_analysis_exits_3_and_its_manifest_says_failed_with_the_error(
        sensitive: Path, tmp_path: Path) -> None:
    """As a run's: the manifest records status `failed` and the error, and the files of the
    analysis the directory held before are gone rather than presented as this one's."""
    out = tmp_path / "sens"
    done = escalate_cli("sensitivity", sensitive, *WRITTEN_OPTIONS, "--out", out)
    assert done.returncode == 0, done.stderr
    failing = write_scenario(tmp_path, RUNTIME_FAILURE)
    done = escalate_cli("sensitivity", failing, "--samples", "8", "-n", "50", "--seed", "1",
                        "--workers", "1", "-q", "--out", out)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"
    assert manifest["error"].startswith("SimulationError: sample point ")
    assert manifest["scenario"]["path"] == str(failing)
    assert manifest["finished"] is not None
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json"]


def test_the_report_of_a_failed_analysis_says_it_failed_and_why(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Not that indices.json is missing: the manifest says the analysis failed, with its error."""
    scenario = escalate.load(write_scenario(tmp_path, RUNTIME_FAILURE))
    out = tmp_path / "sens"
    with pytest.raises(SimulationError):
        sensitivity_analysis(scenario, samples=8, replications=50, seed=1, out=out)
    with pytest.raises(SystemExit) as stop:
        main(["report", str(out)])
    _, err = capsys.readouterr()
    assert stop.value.code == 4
    assert (f"the sensitivity analysis in {out} did not complete (status failed: "
            "SimulationError: sample point ") in err
    assert "indices.json" not in err


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_lost_worker_process_fails_the_analysis_without_offering_a_resume(
        sensitive: Path, tmp_path: Path) -> None:
    """A sensitivity analysis keeps no points and has no --resume: the error does not say so."""
    killed: list[int] = []

    def kill_once(_: int) -> None:
        if not killed:
            kill_a_worker_process()
            killed.append(1)

    with pytest.raises(SimulationError, match="a worker process died") as failure:
        sensitivity_analysis(escalate.load(sensitive), samples=8, replications=50, seed=1,
                             workers=2, out=tmp_path / "sens", progress=kill_once)
    assert "resume" not in str(failure.value)
    manifest = json.loads((tmp_path / "sens" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "failed"
    assert "resume" not in manifest["error"]


@pytest.mark.slow
def test_a_local_dask_cluster_gives_the_serial_indices(sensitive: Path) -> None:
    pytest.importorskip("distributed")
    scenario = escalate.load(sensitive)
    serial = sensitivity_analysis(scenario, samples=4, replications=40, seed=9)
    on_dask = sensitivity_analysis(scenario, samples=4, replications=40, seed=9, dask_local=2)
    assert on_dask.outputs.tobytes() == serial.outputs.tobytes()
    assert on_dask.data["outcomes"] == serial.data["outcomes"]
    assert on_dask.executor == {"kind": "dask-local", "workers": 2}
