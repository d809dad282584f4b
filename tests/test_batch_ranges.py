"""The batch engine gives the replications asked for whatever else their blocks hold.

Blocks of 1,024 replications are simulated whole, so a block holds
replications nobody asked for.  A run-time error in one of those stops it
where it fails without failing the run, and a block that outgrows the pending
table runs on the reference engine whatever chunk it falls in: either way a
replication's record depends on the seed and its index, not on the range of
the run, its chunks or how it is split.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

import numpy as np
import pytest

import escalate
from escalate.compile.compiled import CompiledScenario
from escalate.engine import selection
from escalate.engine.batch import BLOCK_SIZE, BatchEngine
from escalate.engine.batch.chunk import Chunk
from escalate.engine.protocol import Overflow, StreamKeys
from escalate.engine.records import ReplicationRecord
from escalate.engine.streams import BlockStreams
from escalate.montecarlo.precision import run_to_precision
from escalate.montecarlo.results import RunResult
from escalate.montecarlo.runner import run
from escalate.workflow import trace

# -- a failure outside the range ---------------------------------------------------------------------

# About 3% of replications reach x = 4 without a boom, where k * x = 1.2.
BOOM = """\
escalate: 1
name: boom
horizon: 100
parameters: {{k: {{value: 0.3}}}}
state: {{x: 0}}
events:
  start: {{at: 0, set: {{x: x + 1}}, choose: {{boom: "{probability}"}}, repeat: {{every: 1}}}}
  boom: {{end: boom}}
"""
BOOM_MESSAGE = ("replication 21, t = 3 days, event 'start': probability 'k * x' = 1.2 is "
                "outside [0, 1]")


def boom(probability: str = "k * x") -> escalate.Scenario:
    return escalate.loads(BOOM.format(probability=probability))


def twin_of_boom() -> escalate.Scenario:
    """The boom scenario where a replication at 1.2 booms instead of failing.

    Its boom needs no random number, so every other replication of the block
    draws what it draws where the failing one is stopped: the same records.
    """
    return boom("min(k * x, 1)")


def rows(result: RunResult) -> dict[str, np.ndarray]:
    return result.arrays


def assert_same_rows(got: dict[str, np.ndarray], expected: dict[str, np.ndarray],
                     selection: Any = slice(None)) -> None:
    for column, values in got.items():
        wanted = expected[column][selection]
        if values.dtype == object:
            assert np.array_equal(values, wanted), column
        else:
            assert np.array_equal(values, wanted, equal_nan=True), column


def test_a_failure_outside_the_range_does_not_fail_the_run() -> None:
    """Replications 0-4 and 1000-1004 run although replication 21 of their block fails."""
    scenario = boom()
    twin = rows(run(twin_of_boom(), replications=1005, seed=1, engine="batch"))
    assert_same_rows(rows(run(scenario, replications=5, seed=1)), twin, slice(0, 5))
    assert_same_rows(rows(run(scenario, first=1000, replications=5, seed=1)), twin,
                     slice(1000, 1005))
    assert run(scenario, replications=5, seed=1).engine == "batch"


def test_records_around_a_failure_do_not_depend_on_the_range() -> None:
    """Every replication but the failing ones has the same record in any range that leaves
    them out: that of the block where the failing ones are stopped where they fail."""
    scenario = boom()
    twin = rows(run(twin_of_boom(), replications=BLOCK_SIZE, seed=1, engine="batch"))
    with pytest.raises(escalate.SimulationError, match="replication 21,"):
        run(scenario, replications=BLOCK_SIZE, seed=1)
    assert_same_rows(rows(run(scenario, replications=21, seed=1)), twin, slice(0, 21))
    assert_same_rows(rows(run(scenario, first=3, replications=10, seed=1)), twin, slice(3, 13))
    assert_same_rows(rows(run(scenario, first=22, replications=5, seed=1)), twin, slice(22, 27))


def test_a_failure_inside_the_range_raises_as_before() -> None:
    """A failing replication asked for fails the run with the message it always had."""
    scenario = boom()
    for first, replications in [(0, 22), (21, 1), (20, 3000)]:
        with pytest.raises(escalate.SimulationError) as raised:
            run(scenario, first=first, replications=replications, seed=1)
        assert str(raised.value) == BOOM_MESSAGE


def test_the_engine_raises_only_for_the_range_it_is_asked_for() -> None:
    """BatchEngine.run: records for replications 0-4, the error for replication 21."""
    engine = BatchEngine(boom().compiled)
    twin = BatchEngine(twin_of_boom().compiled)
    terminals = engine.scenario.terminals
    (chunk,) = engine.run(StreamKeys(1), 0, 5)
    (expected,) = twin.run(StreamKeys(1), 0, 5)
    assert isinstance(chunk, Overflow) is isinstance(expected, Overflow) is False
    assert repr(list(chunk.records(terminals))) == repr(list(expected.records(terminals)))
    with pytest.raises(escalate.SimulationError) as raised:
        list(engine.run(StreamKeys(1), 21, 1))
    assert str(raised.value) == BOOM_MESSAGE


def test_a_failure_in_another_replication_does_not_stop_a_trace() -> None:
    """A trace of replication 3 runs; one of replication 21 fails as its run does."""
    record, _, engine = trace(boom(), seed=1, replication=3, engine="batch")
    expected = run(twin_of_boom(), replications=4, seed=1, engine="batch").arrays
    assert engine == "batch"
    assert record.events_fired == expected["events_fired"][3]
    assert record.terminal == expected["terminal"][3]
    with pytest.raises(escalate.SimulationError, match=re.escape(BOOM_MESSAGE)):
        trace(boom(), seed=1, replication=21, engine="batch")


def test_a_sweep_point_with_failures_outside_its_range_is_fine() -> None:
    """Each point runs the replications asked for; none is marked failed for another."""
    with pytest.raises(escalate.SimulationError, match="replication 4,"):
        run(boom(), replications=BLOCK_SIZE, seed=1, point=1)
    table = escalate.sweep(boom(), {"k": [0.1, 0.3]}, replications=4, seed=1, engine="batch")
    assert list(table["status"]) == ["ok", "ok"]
    assert list(table["error"]) == ["", ""]


# Every check that fails a replication at run time, one per scenario.  ``spoil`` sets x to
# the parameter v in a few replications, withdraws all that draws random numbers and sets
# off ``probe``, which fails where x is 0 and not where it is 1.  What follows ``probe``
# draws no random number, so the twin with v = 1 gives every other replication of the
# block the same numbers as the failing scenario does.
SPOILED = """\
escalate: 1
name: spoiled
horizon: 1000
parameters: {{v: {{value: 0}}}}
state: {{x: 1.0, y: 0.0, n: 0}}
events:
  tick: {{at: 0, then: [noise], choose: {{spoil: 0.0007}}, repeat: {{every: 1, max: 10}}}}
  noise: {{after: {{exponential: {{mean: 3}}}}, choose: {{blip: 0.5}}}}
  blip: {{after: {{uniform: [0, 2]}}}}
  spoil: {{set: {{x: v}}, cancels: [tick, noise], then: [probe]}}
  probe: {probe}
outcomes:
  odd: {{when: "{outcome}"}}
"""
LATE = "\n  late: {}"
LATER = "\n  later: {}"
LATE_UNIFORM = '\n  late_uniform: {after: {uniform: ["x - 1", 2]}}'
CHECKS = {
    "a guard that cannot be evaluated":
        ('{when: "1 / x > 0", then: [late]}' + LATE, r"'probe'.*cannot evaluate '1 / x > 0'"),
    "an update that cannot be evaluated":
        ('{set: {y: "1 / x"}}', r"'probe'.*cannot evaluate '1 / x'"),
    "an update that is not finite":
        ('{set: {y: "1e308 * (10 - 9 * x)"}}', r"'probe'.*set y: inf is not a finite number"),
    "a fraction for a whole number":
        ('{set: {n: "n + 0.5 * (1 - x)"}}', r"'probe'.*set n: 0\.5 is not a whole number"),
    "a level beyond the ladder":
        ('{set: {level: "6 + (1 - x)"}}', r"'probe'.*level 7 is outside the ladder"),
    "a probability that cannot be evaluated":
        ('{choose: {late: "0.25 * x", later: "1 / x - 0.5"}}' + LATE + LATER,
         r"'probe'.*cannot evaluate '1 / x - 0\.5'"),
    "a probability outside [0, 1]":
        ('{choose: {late: "0.5 + (1 - x)"}}' + LATE, r"'probe'.*= 1\.5 is outside \[0, 1\]"),
    "probabilities summing above one":
        ('{choose: {late: 0.5, later: "1 - 0.5 * x"}}' + LATE + LATER,
         r"'probe'.*sum to 1\.5 > 1"),
    "a delay argument that cannot be evaluated":
        ('{then: [late, slow]}\n  slow: {after: {uniform: ["0 * x", "1 / x"]}}' + LATE,
         r"'slow'.*cannot evaluate '1 / x'"),
    "an invalid delay of a successor":
        ("{then: [late, late_uniform]}" + LATE + LATE_UNIFORM,
         r"'late_uniform'.*delay: uniform needs"),
    "an invalid delay of the chosen successor":
        ("{choose: {late_uniform: 1}}" + LATE_UNIFORM, r"'late_uniform'.*delay: uniform needs"),
    "a repeat condition that cannot be evaluated":
        ('{repeat: {every: 1, while: "1 / x > 0", max: 2}}', r"'probe'.*cannot evaluate"),
    "an invalid repeat delay":
        ('{repeat: {every: {uniform: ["2000 * x - 1", 3000]}, max: 2}}',
         r"'probe'.*delay: uniform needs"),
}
OUTCOME = "log(x) < -1"  # fails where spoil sets x to 0, before probe


def spoiled(probe: str, v: int, outcome: str = "x > 2") -> CompiledScenario:
    text = SPOILED.format(probe=probe, outcome=outcome)
    return escalate.loads(text).compile({"v": v})


def records_of(records: Any, terminals: tuple[str, ...]) -> list[ReplicationRecord]:
    return list(records.records(terminals))


def _failing_and_twin(probe: str, outcome: str) -> tuple[CompiledScenario, list[int],
                                                         list[ReplicationRecord]]:
    """The failing scenario, the rows of block 0 that fail and the twin's records."""
    twin = spoiled(probe, 1, outcome)
    (records,) = BatchEngine(twin).run(StreamKeys(7), 0, BLOCK_SIZE)
    expected = records_of(records, twin.terminals)
    spoil = [e.name for e in twin.events].index("spoil")
    failing = [r.index for r in expected if spoil in r.path]
    assert 2 <= len(failing) <= 20, failing  # a few, so that ranges fit between them
    return spoiled(probe, 0, outcome), failing, expected


CASES = {**{name: (probe, "x > 2", message) for name, (probe, message) in CHECKS.items()},
         "an outcome that cannot be evaluated":
             ("{then: [late]}" + LATE, OUTCOME, r"outcome outcomes\.odd\.when: log\(.*\) is not defined")}


@pytest.mark.parametrize(("probe", "outcome", "message"), CASES.values(), ids=CASES.keys())
def test_each_check_stops_only_a_failing_replication_not_asked_for(probe: str, outcome: str,
                                                                   message: str) -> None:
    """With no replication asked for, the failing ones stop and the others are the twin's."""
    scenario, failing, expected = _failing_and_twin(probe, outcome)
    records = Chunk(BatchEngine(scenario).plan, BlockStreams(7), 0, 1, asked=(0, 0)).run()
    got = records_of(records, scenario.terminals)
    kept = [i for i in range(BLOCK_SIZE) if i not in failing]
    assert repr([got[i] for i in kept]) == repr([expected[i] for i in kept])


@pytest.mark.parametrize(("probe", "outcome", "message"), CASES.values(), ids=CASES.keys())
def test_each_check_fails_a_run_that_asks_for_the_failing_replication(probe: str, outcome: str,
                                                                      message: str) -> None:
    """Between two failing replications a run gives the twin's rows; asking for one fails."""
    scenario, failing, expected = _failing_and_twin(probe, outcome)
    low, high = failing[0] + 1, failing[1]
    if high > low:
        (records,) = BatchEngine(scenario).run(StreamKeys(7), low, high - low)
        assert repr(records_of(records, scenario.terminals)) == repr(expected[low:high])
    for first, count in [(failing[1], 1), (0, failing[0] + 1), (low, BLOCK_SIZE - low)]:
        with pytest.raises(escalate.SimulationError, match=message) as raised:
            list(BatchEngine(scenario).run(StreamKeys(7), first, count))
        named = int(re.findall(r"^replication (\d+)", str(raised.value))[0])
        assert named in failing[1:] if first == low else named == failing[first > 0]


@pytest.mark.parametrize(("probe", "outcome", "message"), CASES.values(), ids=CASES.keys())
def test_a_failing_replication_not_asked_for_fires_nothing_more(
        probe: str, outcome: str, message: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped where it fails, a replication fires none of the instances it has pending."""
    scenario, failing, _ = _failing_and_twin(probe, outcome)
    fired: list[tuple[str, set[int]]] = []
    original = Chunk.fire

    def fire(chunk: Chunk, plan: Any, group: Any) -> None:
        fired.append((plan.event.name, set(group.rows.tolist())))
        original(chunk, plan, group)

    monkeypatch.setattr(Chunk, "fire", fire)
    Chunk(BatchEngine(scenario).plan, BlockStreams(7), 0, 1, asked=(0, 0)).run()
    failed_at = "spoil" if outcome == OUTCOME else "probe"
    for row in failing:
        events = [name for name, rows in fired if row in rows]
        assert events[events.index(failed_at) + 1:] == [], row


def test_a_replication_stopped_by_its_chosen_successor_goes_no_further(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped while scheduling the chosen successor, a replication does not repeat; in the
    twin, where nothing fails, the same replications do."""
    probe = "{choose: {late_uniform: 1}, repeat: {every: 1, max: 2}}" + LATE_UNIFORM
    scenario, failing, _ = _failing_and_twin(probe, "x > 2")
    repeated: list[int] = []
    original = Chunk.repeat

    def repeat(chunk: Chunk, plan: Any, group: Any) -> None:
        if plan.event.name == "probe":
            repeated.extend(group.rows.tolist())
        original(chunk, plan, group)

    monkeypatch.setattr(Chunk, "repeat", repeat)
    Chunk(BatchEngine(spoiled(probe, 1)).plan, BlockStreams(7), 0, 1).run()
    assert sorted(set(repeated)) == failing
    repeated.clear()
    Chunk(BatchEngine(scenario).plan, BlockStreams(7), 0, 1, asked=(0, 0)).run()
    assert repeated == []


# -- a block that outgrows the pending table ---------------------------------------------------------

# Eight instances a day for ten days, each pending for about 9.5 days: about 50 pending,
# and more than the table's 64 in a few replications.  With seed 3, blocks 0, 5 and 6 of
# the first eight have one.
FANOUT = """\
escalate: 1
name: fanout
horizon: 1000
events:
  daily: {at: 0, repeat: {every: 1, max: 10}, then: [x, x, x, x, x, x, x, x]}
  x: {after: {exponential: {mean: 9.5}}}
outcomes:
  late: {when: "now > 12"}
"""
FANOUT_SEED = 3
OVERFLOWING = [(0, BLOCK_SIZE), (5 * BLOCK_SIZE, 7 * BLOCK_SIZE)]
FANOUT_COUNT = 8 * BLOCK_SIZE


@pytest.fixture(scope="module")
def fanout() -> escalate.Scenario:
    return escalate.loads(FANOUT)


@pytest.fixture(scope="module")
def fanout_run(fanout: escalate.Scenario) -> RunResult:
    return run(fanout, replications=FANOUT_COUNT, seed=FANOUT_SEED, engine="batch")


def test_only_the_blocks_that_overflow_run_on_the_reference_engine(
        fanout: escalate.Scenario, fanout_run: RunResult) -> None:
    """Blocks 0, 5 and 6 run on the reference engine, the others on the batch engine; the
    reason says which replications."""
    assert fanout_run.engine == "batch"
    assert ("replications 0-1023, 5120-7167 ran on the reference engine (3,072 of 8,192"
            in fanout_run.engine_reason)
    for low, high in OVERFLOWING:
        reference = run(fanout, first=low, replications=high - low, seed=FANOUT_SEED,
                        engine="reference")
        assert_same_rows(reference.arrays, fanout_run.arrays, slice(low, high))
    between = run(fanout, first=BLOCK_SIZE, replications=4 * BLOCK_SIZE, seed=FANOUT_SEED,
                  engine="batch")
    assert between.engine_reason == "asked for"
    assert_same_rows(between.arrays, fanout_run.arrays, slice(BLOCK_SIZE, 5 * BLOCK_SIZE))


class OneBlockChunks(BatchEngine):
    """The batch engine simulating one block per chunk."""

    def __init__(self, scenario: CompiledScenario, *, uncertainty: bool = False) -> None:
        super().__init__(scenario, uncertainty=uncertainty, chunk_blocks=1)


def test_the_reason_joins_neighbouring_blocks_across_chunks(
        fanout: escalate.Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks 5 and 6 in chunks of their own are still one range of the reason."""
    monkeypatch.setitem(selection.ENGINE_CLASSES, "batch", OneBlockChunks)
    result = run(fanout, first=5000, replications=2500, seed=FANOUT_SEED, engine="batch")
    assert "; replications 5120-7167 ran on the reference engine (2,048 of 2,500" in \
        result.engine_reason


def test_the_reason_lists_a_few_ranges_and_counts_the_others(
        fanout: escalate.Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """Beyond its limit of ranges, the reason says how many there are."""
    monkeypatch.setattr(selection, "_FALLBACK_RANGES", 1)
    result = run(fanout, first=1000, replications=4200, seed=FANOUT_SEED, engine="batch")
    assert "; replications 1000-1023, ... (2 ranges) ran on the reference engine (104 of " \
        "4,200" in result.engine_reason


def test_a_run_split_anywhere_gives_the_rows_of_the_whole_run(
        fanout: escalate.Scenario, fanout_run: RunResult) -> None:
    """Pieces that start inside, before or after the overflowing blocks give the whole
    run's rows, whatever chunk each block falls in."""
    cuts = [0, 500, 1500, 5000, 5600, 6500, 7500, FANOUT_COUNT]
    for first, stop in itertools.pairwise(cuts):
        piece = run(fanout, first=first, replications=stop - first, seed=FANOUT_SEED,
                    engine="batch")
        assert_same_rows(piece.arrays, fanout_run.arrays, slice(first, stop))


def test_the_engine_hands_back_the_same_blocks_whatever_its_chunks(
        fanout: escalate.Scenario) -> None:
    """One chunk or one chunk per block: the same records, the same blocks handed back."""
    def pieces(chunk_blocks: int) -> list[Any]:
        engine = BatchEngine(fanout.compiled, chunk_blocks=chunk_blocks)
        return list(engine.run(StreamKeys(FANOUT_SEED), 500, 7000))

    whole, single = pieces(64), pieces(1)
    assert [(p.first, p.stop) for p in whole if isinstance(p, Overflow)] == [
        (500, 1024), (5120, 7168)]
    assert [(p.first, p.stop) for p in single if isinstance(p, Overflow)] == [
        (500, 1024), (5120, 6144), (6144, 7168)]
    terminals = fanout.compiled.terminals

    def records(found: list[Any]) -> list[ReplicationRecord]:
        return [r for p in found if not isinstance(p, Overflow)
                for r in p.records(terminals)]

    assert repr(records(whole)) == repr(records(single))
    assert [r.index for r in records(whole)] == [*range(1024, 5120), *range(7168, 7500)]


@pytest.mark.parametrize("replication", [500, 3000, 6000, 7500])
def test_a_trace_tells_the_row_of_the_run(fanout: escalate.Scenario, fanout_run: RunResult,
                                          replication: int) -> None:
    """A trace on the batch engine is the run's row, from the engine that made it."""
    record, _, engine = trace(fanout, seed=FANOUT_SEED, replication=replication,
                              engine="batch")
    overflowing = any(low <= replication < high for low, high in OVERFLOWING)
    assert engine == ("reference" if overflowing else "batch")
    row = fanout_run.arrays
    assert record.terminal == row["terminal"][replication]
    assert record.end_time == row["end_day"][replication]
    assert record.events_fired == row["events_fired"][replication]
    assert record.max_level == row["max_level"][replication]
    late = row["late_day"][replication]
    assert record.outcome_times[0] == late or (np.isnan(late)
                                               and np.isnan(record.outcome_times[0]))


def test_an_adaptive_run_reports_what_fell_back_in_every_block(
        fanout: escalate.Scenario, fanout_run: RunResult) -> None:
    """Run to a precision in blocks of 2,048, the fallbacks of all four blocks are joined and
    reported as the whole run's are, not those of the first block alone."""
    adaptive = run_to_precision(fanout, precision=1e-6, block=2 * BLOCK_SIZE,
                                max_replications=FANOUT_COUNT, seed=FANOUT_SEED, engine="batch")
    assert adaptive.replications == FANOUT_COUNT
    assert adaptive.fallback == fanout_run.fallback == ((0, BLOCK_SIZE),
                                                        (5 * BLOCK_SIZE, 7 * BLOCK_SIZE))
    assert adaptive.engine_reason == fanout_run.engine_reason
