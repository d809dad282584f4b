"""Adaptive precision: fixed blocks of replications until every 95% half-width is small enough."""

from __future__ import annotations

import pytest
from conftest import BORDER

import escalate
from escalate import UsageError
from escalate.montecarlo.precision import half_width, run_to_precision


@pytest.fixture(scope="module")
def border() -> escalate.Scenario:
    return escalate.loads(BORDER, "border.yaml")


def test_it_stops_after_the_first_block_that_is_precise_enough(border: escalate.Scenario) -> None:
    """The run stops at a multiple of the block size, precise enough, and not one block later."""
    result = run_to_precision(border, precision=0.02, block=500, max_replications=50_000, seed=3)
    assert result.replications % 500 == 0
    assert half_width(result.aggregator) <= 0.02
    shorter = escalate.run(border, replications=result.replications - 500, seed=3)
    assert half_width(shorter.aggregator) > 0.02


def test_it_equals_a_plain_run_of_the_replications_needed(border: escalate.Scenario) -> None:
    """Blocks are replications [0, b), [b, 2b), ...: the summary is that of one plain run."""
    adaptive = run_to_precision(border, precision=0.025, block=300, max_replications=10_000,
                                seed=7, point=4)
    plain = escalate.run(border, replications=adaptive.replications, seed=7, point=4)
    assert adaptive.summary["outcomes"] == plain.summary["outcomes"]
    assert adaptive.summary["max_level"] == plain.summary["max_level"]


def test_the_bound_cuts_the_last_block_short(border: escalate.Scenario) -> None:
    """With an unreachable precision, the run stops at max_replications exactly."""
    result = run_to_precision(border, precision=0.001, block=400, max_replications=1000, seed=1)
    assert result.replications == 1000
    assert half_width(result.aggregator) > 0.001


@pytest.mark.parametrize(("precision", "block", "bound", "message"), [
    (0.0, 100, 1000, "precision is a 95% half-width"),
    (0.6, 100, 1000, "precision is a 95% half-width"),
    (0.01, 0, 1000, "block size"),
    (0.01, 100, 50, "max_replications must be"),
])
def test_a_bad_stopping_rule_is_refused(border: escalate.Scenario, precision: float, block: int,
                                        bound: int, message: str) -> None:
    """A precision outside (0, 0.5), an empty block or a bound below one block is refused."""
    with pytest.raises(UsageError, match=message):
        run_to_precision(border, precision=precision, block=block, max_replications=bound)


def test_a_sweep_records_how_many_replications_each_point_needed(
        border: escalate.Scenario) -> None:
    """Each row holds its point's replication count; the manifest sums them up."""
    table = escalate.sweep(border, {"p_retaliate": "0.02,0.5"}, replications=250,
                           precision=0.03, max_replications=5000, seed=2)
    needed = table["replications"].tolist()
    assert all(n % 250 == 0 for n in needed)
    # A strike probability near one half needs more replications than one near zero.
    assert needed[1] > needed[0]
    assert (table["strike_hi"] - table["strike_lo"]).max() / 2 <= 0.03
    summary = table.attrs["manifest"]["precision"]
    assert summary["half_width"] == 0.03
    assert summary["replications"] == {"min": min(needed), "max": max(needed),
                                       "total": sum(needed), "at_bound": 0}
