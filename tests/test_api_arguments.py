"""Arguments of the Python API: a wrong one is a UsageError before anything runs.

A notebook user calls :func:`escalate.run`, :func:`escalate.sweep` and the
results directly, with whatever types are at hand: numpy scalars are taken as
the Python values they stand for, anything else gets a message naming the
argument, what it takes and what was found.
"""

from __future__ import annotations

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
