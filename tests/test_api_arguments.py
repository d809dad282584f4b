"""Arguments of the Python API: a wrong one is a UsageError before anything runs.

A notebook user calls :func:`escalate.run`, :func:`escalate.sweep` and the
results directly, with whatever types are at hand: numpy scalars are taken as
the Python values they stand for, anything else gets a message naming the
argument, what it takes and what was found.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import BORDER

import escalate
from escalate.montecarlo.seeding import KEY_LIMIT, SEED_LIMIT
from escalate.workflow import run_to_directory, trace

SEED = 20240611
ENGINES = ["reference", "batch"]


@pytest.fixture(scope="module")
def border() -> escalate.Scenario:
    return escalate.loads(BORDER)


def probabilities(result: escalate.RunResult) -> list[int]:
    return [outcome["count"] for outcome in result.summary["outcomes"].values()]


# -- stream keys: point, first, seed -----------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("point", [-1, "a", 1.5, True, np.float64(2.0), KEY_LIMIT - 1])
def test_a_point_that_is_not_a_whole_number_in_range_is_refused(
        border: escalate.Scenario, engine: str, point: object) -> None:
    """point=-1 would share the streams of point=None on the batch engine; others are not indices."""
    with pytest.raises(escalate.UsageError, match=r"point must be None or a whole number from 0 "
                       r"to 4,294,967,294 .*found"):
        escalate.run(border, replications=10, seed=SEED, point=point, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_the_largest_point_and_numpy_integer_points_are_taken(border: escalate.Scenario,
                                                              engine: str) -> None:
    """A numpy integer point runs the streams of the int; the last point the keys hold runs."""
    as_int = escalate.run(border, replications=50, seed=SEED, point=3, engine=engine)
    as_numpy = escalate.run(border, replications=50, seed=SEED, point=np.int64(3), engine=engine)
    assert probabilities(as_numpy) == probabilities(as_int)
    escalate.run(border, replications=5, seed=SEED, point=KEY_LIMIT - 2, engine=engine)


@pytest.mark.parametrize("engine", ENGINES)
def test_replication_indices_stop_where_the_stream_keys_do(border: escalate.Scenario,
                                                           engine: str) -> None:
    """Replications up to 2**32 - 1 run; one more would share a stream (2**32 keys as (0, 1))."""
    escalate.run(border, replications=5, seed=SEED, first=KEY_LIMIT - 5, engine=engine)
    for first in (KEY_LIMIT - 4, KEY_LIMIT):
        with pytest.raises(escalate.UsageError,
                           match=r"first must be a non-negative whole number at most "
                                 r"4,294,967,291 .*below 2\*\*32"):
            escalate.run(border, replications=5, seed=SEED, first=first, engine=engine)


def test_a_numpy_integer_first_is_taken_as_an_int(border: escalate.Scenario) -> None:
    """first=np.int64(7) runs the replications of first=7 and is recorded as an int."""
    as_int = escalate.run(border, replications=30, seed=SEED, first=7)
    as_numpy = escalate.run(border, replications=30, seed=SEED, first=np.int64(7))
    assert as_numpy.summary == as_int.summary
    assert type(as_numpy.first) is int


@pytest.mark.parametrize("replication", [-1, KEY_LIMIT, "0", 0.0])
def test_trace_refuses_a_replication_index_the_streams_do_not_have(
        border: escalate.Scenario, replication: object) -> None:
    """trace's replication is a stream index too: a whole number below 2**32."""
    with pytest.raises(escalate.UsageError, match="the replication index must be a "
                                                  "non-negative whole number at most "
                                                  "4,294,967,295"):
        trace(border, seed=SEED, replication=replication)  # type: ignore[arg-type]


def test_seeds_stop_at_128_bits(border: escalate.Scenario) -> None:
    """A longer seed would run into the key: seed s + 2**128 * j would be s at point j."""
    escalate.run(border, replications=5, seed=SEED_LIMIT - 1)
    for seed in (SEED_LIMIT, SEED_LIMIT * 5 + 7, np.random.SeedSequence(SEED_LIMIT)):
        with pytest.raises(escalate.UsageError, match=r"a seed must be below 2\*\*128"):
            escalate.run(border, replications=5, seed=seed)


# -- flags ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["no", "False", 0, 1, None])
def test_uncertainty_that_is_not_a_bool_is_refused(border: escalate.Scenario,
                                                   value: object) -> None:
    """uncertainty="no" was read as true and ran the two-level analysis; now it is refused."""
    with pytest.raises(escalate.UsageError, match=f"uncertainty must be True or False, found "
                                                  f"{value!r}"):
        escalate.run(border, replications=10, seed=SEED, uncertainty=value)  # type: ignore[arg-type]


def test_a_sweep_refuses_an_uncertainty_that_is_not_a_bool(border: escalate.Scenario) -> None:
    """sweep(uncertainty="no") is refused before any point runs."""
    with pytest.raises(escalate.UsageError, match="uncertainty must be True or False, found 'no'"):
        escalate.sweep(border, {"p_retaliate": [0.1, 0.2]}, replications=10, seed=SEED,
                       uncertainty="no")  # type: ignore[arg-type]


def test_run_to_directory_and_trace_refuse_an_uncertainty_that_is_not_a_bool(
        border: escalate.Scenario, tmp_path: Path) -> None:
    """Refused before the run directory is made, and by trace too."""
    with pytest.raises(escalate.UsageError, match="uncertainty must be True or False"):
        run_to_directory(border, tmp_path / "run", replications=10, seed=SEED,
                         uncertainty="no")  # type: ignore[arg-type]
    assert not (tmp_path / "run").exists()
    with pytest.raises(escalate.UsageError, match="uncertainty must be True or False"):
        trace(border, seed=SEED, uncertainty="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_numpy_bool_uncertainty_is_taken_as_a_bool(border: escalate.Scenario,
                                                     engine: str) -> None:
    """np.True_ runs the two-level analysis of True and is recorded as a Python bool."""
    as_bool = escalate.run(border, replications=50, seed=SEED, uncertainty=True, engine=engine)
    as_numpy = escalate.run(border, replications=50, seed=SEED, uncertainty=np.bool_(True),
                            engine=engine)
    assert as_numpy.uncertainty is True
    assert as_numpy.summary == as_bool.summary


# -- types of the other arguments --------------------------------------------------------------


class Recorder:
    """A record sink that counts what it is given."""

    def __init__(self) -> None:
        self.records = 0

    def write(self, record: object) -> None:
        self.records += 1


@pytest.mark.parametrize("scenario", [None, {"escalate": 1}, 5])
def test_run_refuses_what_is_not_a_scenario(scenario: object) -> None:
    """run(None), run(a dict), run(5) say what a scenario is, not AttributeError."""
    with pytest.raises(escalate.UsageError, match=r"scenario must be a Scenario \(escalate.load"
                                                  r"\(path\) or escalate.loads\(yaml_text\)\), a "
                                                  r"CompiledScenario or the path of a scenario "
                                                  r"file, found"):
        escalate.run(scenario)  # type: ignore[arg-type]


@pytest.mark.parametrize(("overrides", "message"), [
    ({1: 0.1}, "overrides: a parameter is named by a string, found 1"),
    ("p_retaliate=0.1", "overrides must be a mapping of parameter names to values"),
    ([("p_retaliate", 0.1)], "overrides must be a mapping of parameter names to values"),
])
def test_run_refuses_overrides_that_are_not_a_mapping_of_names(
        border: escalate.Scenario, overrides: object, message: str) -> None:
    """Overrides are a mapping with string keys; others are refused, not a difflib TypeError."""
    with pytest.raises(escalate.UsageError, match=message):
        escalate.run(border, replications=5, seed=SEED, overrides=overrides)  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "python"), [
    (np.float32(0.25), 0.25), (np.float64(0.25), 0.25), (np.int64(0), 0), (np.int8(1), 1)])
def test_numpy_override_values_are_taken_as_python_numbers(
        border: escalate.Scenario, value: object, python: float) -> None:
    """An override of a numpy number runs and is recorded as the Python number would be."""
    result = escalate.run(border, replications=50, seed=SEED, overrides={"p_retaliate": value})
    expected = escalate.run(border, replications=50, seed=SEED,
                            overrides={"p_retaliate": python})
    assert result.summary == expected.summary
    assert type(result.summary["overrides"]["p_retaliate"]) is type(python)


def test_a_numpy_bool_override_is_taken_as_a_bool() -> None:
    """np.True_ sets a true/false parameter as True does."""
    scenario = escalate.loads(BORDER.replace("  retaliation_delay:", "  hawk: {value: false}\n"
                                             "  retaliation_delay:"))
    result = escalate.run(scenario, replications=5, seed=SEED, overrides={"hawk": np.True_})
    assert result.summary["overrides"] == {"hawk": True}
    assert result.scenario.parameter_values[result.scenario.parameter_names.index("hawk")] is True


def test_numpy_integer_replications_are_taken_as_an_int(border: escalate.Scenario) -> None:
    """replications=np.int32(30) runs and records 30 replications."""
    result = escalate.run(border, replications=np.int32(30), seed=SEED)
    assert type(result.replications) is int
    assert result.summary == escalate.run(border, replications=30, seed=SEED).summary


def test_probability_refuses_an_outcome_that_is_not_a_name(border: escalate.Scenario) -> None:
    """result.probability(3) lists the outcome names rather than failing in difflib."""
    result = escalate.run(border, replications=5, seed=SEED)
    with pytest.raises(escalate.UsageError, match="an outcome is given by its name, one of "
                                                  "strike, war, talks"):
        result.probability(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(("sinks", "progress", "message"), [
    ([object()], None, r"sinks: each sink needs a write\(record\) method"),
    (Recorder(), None, "sinks must be a list of record sinks"),
    ([], 5, r"progress must be a function \(or None\), found 5"),
])
def test_sinks_and_progress_are_checked_before_anything_runs(
        border: escalate.Scenario, sinks: object, progress: object, message: str) -> None:
    """A sink without write() or a progress that cannot be called is refused up front:
    the good sink given with it has been sent nothing."""
    good = sinks if isinstance(sinks, Recorder) else Recorder()
    given = sinks if isinstance(sinks, Recorder) else [good, *sinks]  # type: ignore[misc]
    with pytest.raises(escalate.UsageError, match=message):
        escalate.run(border, replications=5, seed=SEED, sinks=given,  # type: ignore[arg-type]
                     progress=progress)  # type: ignore[arg-type]
    assert good.records == 0


def test_run_to_directory_and_trace_refuse_what_is_not_a_scenario(tmp_path: Path) -> None:
    """Both name what a scenario is; nothing is written."""
    with pytest.raises(escalate.UsageError, match="scenario must be a Scenario"):
        run_to_directory(None, tmp_path / "run", replications=5, seed=SEED)  # type: ignore[arg-type]
    with pytest.raises(escalate.UsageError, match="scenario must be a Scenario"):
        trace({"escalate": 1}, seed=SEED)  # type: ignore[arg-type]
    assert not (tmp_path / "run").exists()


def test_run_to_directory_takes_a_path_and_refuses_an_out_that_is_not_one(
        border_file: Path, tmp_path: Path) -> None:
    """A scenario file's path runs as its Scenario would; out=5 is refused."""
    with pytest.raises(escalate.UsageError, match="out must be a directory path, found 5"):
        run_to_directory(border_file, 5, replications=5, seed=SEED)  # type: ignore[arg-type]
    result = run_to_directory(border_file, tmp_path / "run", replications=20, seed=SEED)
    expected = escalate.run(escalate.load(border_file), replications=20, seed=SEED)
    assert result.summary == expected.summary


VARY = {"p_retaliate": [0.1, 0.2, 0.3]}


@pytest.mark.parametrize(("scenario", "vary", "options", "message"), [
    (None, VARY, {}, "scenario must be a Scenario .* or the path of a scenario file, found None"),
    ("border", {1: [0.1]}, {}, "vary: a parameter is named by a string, found 1"),
    ("border", ["p_retaliate"], {}, "vary must be a mapping of parameter names"),
    ("border", VARY, {"shard": 1}, "shard must be 'I/N' or a pair"),
    ("border", VARY, {"shard": (1, 2, 3)}, "shard must be 'I/N' or a pair"),
    ("border", VARY, {"dask_local": "2"}, "dask_local must be a whole number of at least 1"),
    ("border", VARY, {"workers": "2"}, "workers must be a whole number of at least 1"),
    ("border", VARY, {"workers": 0}, "workers must be a whole number of at least 1"),
    ("border", VARY, {"out": 5}, "out must be a path"),
    ("border", VARY, {"design": "list", "points_file": 5}, "points_file must be a path"),
    ("border", VARY, {"progress": 3}, r"progress must be a function \(or None\)"),
    ("border", VARY, {"resume": "no"}, "resume must be True or False"),
])
def test_sweep_refuses_arguments_of_the_wrong_kind(
        border: escalate.Scenario, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        scenario: object, vary: object, options: dict[str, object], message: str) -> None:
    """Each wrong argument is a UsageError naming it, raised before any point runs."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(escalate.UsageError, match=message):
        escalate.sweep(border if scenario == "border" else scenario, vary,  # type: ignore[arg-type]
                       replications=5, seed=SEED, **options)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_sweep_takes_numpy_integers_as_ints(border: escalate.Scenario, tmp_path: Path) -> None:
    """replications, points, workers and a shard given as numpy integers run as the ints do,
    and are recorded in the sweep's manifest as ints."""
    vary = {"p_retaliate": "0:1"}
    as_int = escalate.sweep(border, vary, design="lhs", points=4, replications=20, seed=SEED,
                            workers=1, shard=(1, 2))
    as_numpy = escalate.sweep(border, vary, design="lhs", points=np.int64(4),
                              replications=np.int64(20), seed=SEED, workers=np.int64(1),
                              shard=(np.int64(1), np.int32(2)), out=tmp_path / "sweep")
    assert as_numpy.drop(columns="wall_seconds", errors="ignore").equals(
        as_int.drop(columns="wall_seconds", errors="ignore"))
    assert len(as_int) == 2
    assert json.loads((tmp_path / "sweep" / "manifest.json").read_text())["replications"] == 20


def test_sweep_takes_a_numpy_precision_and_bound(border: escalate.Scenario,
                                                 tmp_path: Path) -> None:
    """precision=np.float32, max_replications=np.int64 run as the Python numbers do."""
    as_python = escalate.sweep(border, VARY, replications=100, seed=SEED,
                               precision=float(np.float32(0.05)), max_replications=400)
    as_numpy = escalate.sweep(border, VARY, replications=np.int64(100), seed=SEED,
                              precision=np.float32(0.05), max_replications=np.int64(400),
                              out=tmp_path / "sweep")
    assert as_numpy["replications"].tolist() == as_python["replications"].tolist()
    assert as_numpy["strike_p"].tolist() == as_python["strike_p"].tolist()
    manifest = json.loads((tmp_path / "sweep" / "manifest.json").read_text())
    assert manifest["precision"]["max_replications"] == 400
