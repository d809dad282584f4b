"""The batch engine: reproducibility, independence from how a run is split, errors, selection.

Its meaning is proven against the reference engine in ``test_differential.py``
and ``test_closed_form.py``; here are the properties of its own.
"""

from __future__ import annotations

import json
import math
import re
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, assume, given, settings
from scipy import stats
from strategies import condition_expression, number_expression

import escalate
from escalate.cli import cli
from escalate.compile.compiled import CompiledScenario
from escalate.distributions import DELAY_UNIFORMS, delay_from_uniforms, draw_delay
from escalate.engine import records as records_module
from escalate.engine.batch import BLOCK_SIZE, BatchEngine
from escalate.engine.batch.lowering import ArrayEvaluationError, lower_to_arrays
from escalate.engine.batch.pending import MAX_CAPACITY, PendingTable, first_true
from escalate.engine.protocol import StreamKeys
from escalate.engine.reference import ReferenceEngine
from escalate.engine.selection import choose_engine
from escalate.montecarlo.aggregate import Aggregator
from escalate.montecarlo.runner import run
from escalate.spec.expressions import ExpressionError, infer_type, parse, scalar_evaluator

SEED = 20241117


def compile_text(body: str, *, horizon: str = "100") -> CompiledScenario:
    text = f"escalate: 1\nname: rule\nhorizon: {horizon}\n" + textwrap.dedent(body)
    return escalate.loads(text).compiled


def batch_records(scenario: CompiledScenario, count: int, first: int = 0) -> list[Any]:
    return [record for chunk in BatchEngine(scenario).run(StreamKeys(SEED), first, count)
            for record in chunk.records(scenario.terminals)]


# -- reproducibility and splitting ----------------------------------------------------------------


def test_the_same_seed_gives_identical_summaries(border_file: Path) -> None:
    """Two batch runs with one seed give the same summary, byte for byte."""
    first = run(border_file, replications=5000, seed=3, engine="batch").summary
    second = run(border_file, replications=5000, seed=3, engine="batch").summary
    assert json.dumps(first) == json.dumps(second)
    other = run(border_file, replications=5000, seed=4, engine="batch").summary
    assert json.dumps(other) != json.dumps(first)


@pytest.mark.parametrize("uncertainty", [False, True])
def test_split_runs_merge_into_exactly_the_whole_run(border_file: Path, uncertainty: bool) -> None:
    """run(first=0, n) merged with run(first=n, m) equals run(first=0, n + m), unaligned."""
    n, m = 1500, 2 * BLOCK_SIZE + 77
    whole = run(border_file, replications=n + m, seed=9, engine="batch", uncertainty=uncertainty)
    head = run(border_file, replications=n, seed=9, engine="batch", uncertainty=uncertainty)
    tail = run(border_file, replications=m, first=n, seed=9, engine="batch",
               uncertainty=uncertainty)
    merged = Aggregator(whole.scenario)
    merged.merge(head.aggregator)
    merged.merge(tail.aggregator)
    assert json.dumps(merged.summary()) == json.dumps(whole.aggregator.summary())
    for column, values in whole.arrays.items():
        joined = np.concatenate([head.arrays[column], tail.arrays[column]])
        assert np.array_equal(joined, values) if values.dtype == object else \
            np.array_equal(joined, values, equal_nan=True), column


def test_a_replication_does_not_depend_on_the_others_run_with_it(border_file: Path) -> None:
    """Replication 2500 is the same alone, in a small run and in a large one."""
    scenario = escalate.load(border_file).compiled
    alone = batch_records(scenario, 1, first=2500)
    inside = batch_records(scenario, 3000)[2500:2501]
    assert [r.index for r in alone] == [2500]
    assert repr(alone) == repr(inside)


def test_sweep_points_draw_from_their_own_streams(border_file: Path) -> None:
    """Sweep point keys give reproducible runs that differ from point to point."""
    one = run(border_file, replications=3000, seed=5, engine="batch", point=1).summary
    again = run(border_file, replications=3000, seed=5, engine="batch", point=1).summary
    two = run(border_file, replications=3000, seed=5, engine="batch", point=2).summary
    assert json.dumps(one) == json.dumps(again)
    assert json.dumps(one) != json.dumps(two)


def test_records_and_summary_agree(border_file: Path) -> None:
    """Per-replication records counted one by one give the summary of the arrays."""
    scenario = escalate.load(border_file).compiled
    counted = Aggregator(scenario)
    for record in batch_records(scenario, 3000):
        counted.add(record)
    summary = run(scenario, replications=3000, seed=SEED, engine="batch").aggregator.summary()
    assert json.dumps(counted.summary()) == json.dumps(summary)


def test_paths_are_exact_even_when_their_hashes_collide(border_file: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """With every path hashed alike, distinct paths are still told apart."""
    scenario = escalate.load(border_file).compiled
    (chunk,) = BatchEngine(scenario).run(StreamKeys(SEED), 0, 4000)
    expected = chunk.paths()
    monkeypatch.setattr(records_module, "_PATH_WEIGHTS", np.zeros(4096, dtype=np.int64))
    paths, path_of, counts = chunk.paths()
    assert paths == expected[0]
    assert np.array_equal(path_of, expected[1])
    assert np.array_equal(counts, expected[2])
    assert len(paths) > 1


# -- the semantics, where nothing is random ----------------------------------------------------------

DETERMINISTIC = {
    "ties fire in scheduling order": """
        events:
          a: {at: 1, then: [c, b]}
          b: {}
          c: {set: {level: "min(level + 1, 3)"}}
        """,
    "cancels withdraw pending repeats": """
        events:
          start: {at: 0, then: [tick, stop]}
          tick: {after: 1, repeat: {every: 1}, set: {level: "min(level + 1, 5)"}}
          stop: {after: 3.5, cancels: [tick]}
        """,
    "guards skip and repeats go on": """
        state: {n: 0}
        events:
          tick: {at: 0, when: "n >= 2", set: {level: 1}, repeat: {every: 1, max: 5}}
          count: {at: 0.5, set: {n: n + 1}, repeat: {every: 1}}
        """,
    "runaways stop at max_events": """
        max_events: 7
        events:
          loop: {at: 0, repeat: {every: 0.5}}
        """,
    "the horizon censors": """
        events:
          a: {at: 99.5, then: [b]}
          b: {after: 1}
        """,
    "end stops with its label after its updates": """
        events:
          a: {at: 2, set: {level: 2}, end: done, cancels: [b]}
          b: {at: 3}
        """,
    "now is the current time": """
        state: {seen: 0.0}
        events:
          a: {at: 4, set: {seen: now * 2}, then: [b]}
          b: {after: "seen", when: "now >= 12"}
        outcomes:
          late: {when: "seen > 7"}
          b: {event: b}
        """,
    "a successor with at is due at max(now, at)": """
        events:
          a: {at: 1, then: [b, c]}
          b: {at: 5, set: {level: "min(level + 1, 3)"}}
          c: {after: 6, then: [b]}
        outcomes:
          early: {when: "now >= 4"}
        """,
    "an event cancelling itself keeps its next repetition": """
        events:
          a: {at: 0, cancels: [a], repeat: {every: 2, max: 4}, set: {level: "min(level + 1, 5)"}}
        """,
    "many pending instances grow the table": """
        events:
          a: {at: 0, then: [b, c, d, e, f, g, h, i, j, k, l, m]}
          b: {after: 12}
          c: {after: 11}
          d: {after: 10}
          e: {after: 9}
          f: {after: 8}
          g: {after: 7}
          h: {after: 6}
          i: {after: 5}
          j: {after: 4}
          k: {after: 3}
          l: {after: 2}
          m: {after: 1}
        """,
}


@pytest.mark.parametrize("body", DETERMINISTIC.values(), ids=DETERMINISTIC.keys())
def test_rules_without_chance_give_the_reference_records(body: str) -> None:
    """With no random draw involved, both engines give the same replications, field by field."""
    scenario = compile_text(body)
    expected = list(ReferenceEngine(scenario).run(StreamKeys(SEED), 0, 2))
    assert repr(batch_records(scenario, 2)) == repr(expected)


def test_more_pending_instances_than_the_table_holds_run_on_the_reference_engine() -> None:
    """Beyond the table's largest size the block falls back, and says so; nothing is dropped."""
    count = MAX_CAPACITY + 20
    scenario = compile_text(f"""
        events:
          start: {{at: 0, then: [spawn]}}
          spawn: {{after: 0.01, then: [later], repeat: {{every: 0.01, max: {count}}}}}
          later: {{after: 50}}
        outcomes:
          later: {{event: later}}
    """)
    result = run(scenario, replications=3, seed=SEED, engine="batch")
    assert result.engine == "batch"
    assert "replications 0-2 ran on the reference engine" in result.engine_reason
    expected = run(scenario, replications=3, seed=SEED, engine="reference")
    assert json.dumps(result.aggregator.summary()) == json.dumps(expected.aggregator.summary())


def test_the_pending_table_grows_and_refuses_beyond_its_limit() -> None:
    """A replication with more instances than slots gets more slots, up to MAX_CAPACITY."""
    table = PendingTable(3, capacity=2)
    columns = np.array([1])
    for k in range(5):
        table.push(columns, np.array([10.0 - k]), k)
    assert table.capacity >= 5
    times, events = table.pop()
    assert times[1] == 6.0
    assert events[1] == 4
    for _ in range(MAX_CAPACITY - 4):  # four are pending after the pop
        table.push(columns, np.array([1.0]), 0)
    with pytest.raises(OverflowError, match=f"more than {MAX_CAPACITY} pending"):
        table.push(columns, np.array([1.0]), 0)


@pytest.mark.parametrize("rows", [1, 3, 8, 9, 16, 17, 40])
def test_first_true_finds_the_first_flag_of_each_column(rows: int) -> None:
    """The packed-bits lookup agrees with argmax, for every table height."""
    flags = np.random.default_rng(rows).random((rows, 500)) < 0.3
    first, none, several = first_true(flags)
    assert np.array_equal(none, ~flags.any(axis=0))
    assert np.array_equal(first[~none], flags.argmax(axis=0)[~none])
    assert np.array_equal(several, flags.sum(axis=0) > 1)


# -- errors -----------------------------------------------------------------------------------------

ERRORS = {
    "division by zero": ("""
        state: {x: 0.0}
        events:
          a: {at: 1, set: {x: "1 / x"}}
        """, (r"replication 0, t = 1 days, event 'a': events\.a\.set\.x: cannot evaluate "
              r"'1 / x': float division by zero")),
    "probability outside [0, 1]": ("""
        state: {x: 0.7}
        events:
          decide: {at: 0, choose: {b: "2 * x"}}
          b: {}
        """, r"event 'decide'.*'2 \* x' = 1\.4 is outside \[0, 1\]"),
    "probabilities summing above one": ("""
        state: {x: 0.7}
        events:
          decide: {at: 0, choose: {b: x, c: x}}
          b: {}
          c: {}
        """, r"event 'decide'.*sum to 1\.4 > 1 \(b=0\.7, c=0\.7\)"),
    "a fraction for a whole number": ("""
        state: {count: 0}
        events:
          a: {at: 0, set: {count: count + 0.5}}
        """, r"event 'a'.*set count: 0\.5 is not a whole number"),
    "a level beyond the ladder": ("""
        ladder: [low, high]
        events:
          a: {at: 0, set: {level: level + 7}}
        """, r"event 'a'.*level 7 is outside the ladder \(0 to 1\)"),
    "a negative delay": ("""
        state: {x: -1.0}
        events:
          a: {at: 0, then: [b]}
          b: {after: {uniform: [x, 2]}}
        """, r"event 'b'.*delay: uniform needs 0 <= low <= high"),
    "the log of zero in an outcome": ("""
        state: {x: 1.0}
        events:
          a: {at: 3, set: {x: 0}}
        outcomes:
          odd: {when: "log(x) < -1"}
        """, (r"replication 0: outcome outcomes\.odd\.when: log\(0\) is not defined: log "
              r"needs a value above 0")),
    "the square root of a negative number": ("""
        state: {x: 1.0}
        events:
          a: {at: 1, set: {x: "sqrt(x - 3)"}}
        """, (r"replication 0, t = 1 days, event 'a': events\.a\.set\.x: cannot evaluate "
              r"'sqrt\(x - 3\)': sqrt\(-2\) is not a real number: sqrt needs a value of 0 or "
              r"more$")),
    "an exponential beyond the largest number": ("""
        state: {x: 0.0}
        events:
          a: {at: 2, set: {x: "exp(now * 400)"}}
        """, (r"replication 0, t = 2 days, event 'a': events\.a\.set\.x: cannot evaluate "
              r"'exp\(now \* 400\)': exp\(800\) is too large: the result is beyond the largest "
              r"number, about 1\.8e\+308$")),
    "a power beyond the largest number": ("""
        state: {x: 0.0}
        events:
          a: {at: 2, set: {x: "10 ** (now * 200)"}}
        """, (r"replication 0, t = 2 days, event 'a': events\.a\.set\.x: cannot evaluate "
              r"'10 \*\* \(now \* 200\)': 10 \*\* 400 is too large: the result is beyond the "
              r"largest number, about 1\.8e\+308$")),
}


@pytest.mark.parametrize(("body", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_run_time_errors_are_simulation_errors_like_the_reference(body: str, message: str) -> None:
    """The batch engine raises SimulationError with the reference engine's message."""
    scenario = compile_text(body)
    for engine in ("batch", "reference"):
        with pytest.raises(escalate.SimulationError, match=message):
            run(scenario, replications=10, seed=SEED, engine=engine)


def test_later_operands_are_evaluated_only_where_needed() -> None:
    """`and`, `or` and `if` skip what the reference engine skips: no error here."""
    scenario = compile_text("""
        state: {x: 0.0, y: 0.0}
        events:
          a: {at: 0, when: "x != 0 and 1 / x > 1 or true", set: {y: "if(x > 0, log(x), 1)"}}
    """)
    result = run(scenario, replications=10, seed=SEED, engine="batch")
    assert result.aggregator.events_fired == 10


VALUES = [-2.0, -0.5, 0.0, 0.5, 3.0, 30.0]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(expression=number_expression())
def test_array_evaluation_matches_scalar_evaluation(expression: str) -> None:
    """Over a grid of values, arrays give the scalar results, and fail where scalars fail."""
    _compare(expression)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(expression=condition_expression(depth=3))
def test_array_evaluation_of_conditions_matches_scalar_evaluation(expression: str) -> None:
    """Conditions too, with their short-circuits."""
    _compare(expression)


def _compare(expression: str) -> None:
    try:
        tree = parse(expression)
    except ExpressionError:
        assume(False)  # a literal power that is not a real number is refused when parsing
    infer_type(tree, {"x": "number", "y": "number", "flag": "bool"})
    slots = {"x": 0, "y": 1, "flag": 2}
    scalar = scalar_evaluator(tree, slots)
    vector = lower_to_arrays(tree, slots, {})
    grid = [(x, y, flag) for x in VALUES for y in VALUES for flag in (False, True)]
    columns = [np.array([g[i] for g in grid], dtype=bool if i == 2 else float) for i in range(3)]
    expected: list[Any] = []
    for values in grid:
        try:
            expected.append(scalar(list(values)))
        except (ArithmeticError, ValueError, TypeError):
            expected.append(None)
    failing = {i for i, value in enumerate(expected) if value is None}
    rows = np.arange(len(grid))
    if failing:
        with pytest.raises(ArrayEvaluationError) as caught, np.errstate(all="ignore"):
            vector(columns, rows)
        assert set(caught.value.rows.tolist()) <= failing, expression
        return
    with np.errstate(all="ignore"):
        got = np.broadcast_to(vector(columns, rows), rows.shape)
    assert not failing, f"{expression}: scalars failed for {sorted(failing)}, arrays did not"
    for i, value in enumerate(expected):
        if isinstance(value, bool):
            assert bool(got[i]) == value, (expression, grid[i])
        else:
            assert math.isclose(float(got[i]), float(value), rel_tol=1e-12, abs_tol=1e-300) or (
                math.isnan(float(got[i])) and math.isnan(float(value))), (expression, grid[i])


@pytest.mark.parametrize(("kind", "args"), [
    ("exponential", [2.0]), ("uniform", [1.0, 3.0]), ("triangular", [1.0, 3.0, 10.0]),
    ("triangular", [0.0, 0.0, 1.0]), ("lognormal", [4.0, 0.7]), ("gamma", [0.4, 2.0]),
    ("gamma", [1.0, 2.0]), ("gamma", [3.0, 2.0]), ("gamma", [5.0, 1.0]), ("gamma", [7.5, 2.0]),
    ("weibull", [1.7, 3.0]),
    ("empirical", [1.0, 2.0, 5.0]),
])
def test_delays_from_uniforms_follow_the_reference_distributions(kind: str,
                                                                 args: list[float]) -> None:
    """Each delay drawn from uniforms matches numpy's sampler (two-sample KS, p > 0.001)."""
    rng = np.random.default_rng(11)
    mine = delay_from_uniforms(kind, args, rng.random((DELAY_UNIFORMS[kind], 100_000)))
    mine = mine[~np.isnan(mine)]  # rejected gamma tries, drawn again by the engine
    assert len(mine) > 99_000
    theirs = draw_delay(kind, args, rng, 100_000)
    assert stats.ks_2samp(mine, theirs).pvalue > 0.001


# -- choosing the engine -----------------------------------------------------------------------------


def test_auto_picks_the_batch_engine_and_says_why(border_file: Path) -> None:
    """auto runs the batch engine for a scenario it supports and records the reason."""
    result = run(border_file, replications=100, seed=SEED)
    assert result.engine == "batch"
    assert result.summary["engine_reason"].startswith("auto: the batch engine supports")


def test_event_logs_fall_back_to_the_reference_engine(border_file: Path) -> None:
    """Event logs are the reference engine's: auto falls back, batch is refused."""
    scenario = escalate.load(border_file).compiled
    assert choose_engine(scenario, "auto", keep_log=True) == (
        "reference", "auto: event logs (--events, trace) are kept by the reference engine only")
    with pytest.raises(escalate.UsageError, match="batch engine cannot run this: event logs"):
        choose_engine(scenario, "batch", keep_log=True)


def test_a_huge_fan_out_falls_back_to_the_reference_engine() -> None:
    """An event scheduling hundreds of occurrences at once is run by the reference engine."""
    successors = ", ".join(["far"] * 300)
    scenario = compile_text(f"""
        events:
          tick: {{at: 0, then: [{successors}]}}
          far: {{after: 5}}
    """)
    name, reason = choose_engine(scenario)
    assert name == "reference"
    assert "event 'tick' schedules 300 occurrences at once" in reason


def test_an_unknown_engine_is_a_usage_error(border_file: Path) -> None:
    with pytest.raises(escalate.UsageError, match=re.escape("auto, reference, batch, found 'fast'")):
        run(border_file, replications=10, engine="fast")


@pytest.mark.parametrize("engine", ["batch", "reference"])
def test_the_run_command_takes_the_engine(border_file: Path, tmp_path: Path, engine: str) -> None:
    """`escalate run --engine` runs that engine; the summary and the manifest say so."""
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["run", str(border_file), "-n", "300", "--engine", engine,
                                      "--out", str(out), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["engine"] == engine
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["engine"] == engine
    assert manifest["engine_reason"] == "asked for"
    rows = (out / "replications.csv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 301
