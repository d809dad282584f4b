"""The reference engine, rule by rule, on tiny scenarios built for each rule of the semantics."""

from __future__ import annotations

import math
import re
import textwrap
import threading
from statistics import NormalDist
from typing import Any

import pytest

import escalate
from escalate.compile.compiled import CompiledScenario
from escalate.engine import ReferenceEngine, ReplicationRecord, StreamKeys
from escalate.montecarlo.runner import run
from escalate.montecarlo.seeding import replication_rng
from escalate.montecarlo.stats import wilson_interval

SEED = 20240601
#: two-sided 99.9% normal quantile, for Wilson intervals of frequency checks
Z999 = NormalDist().inv_cdf(0.9995)


def compile_text(body: str, *, horizon: str = "100") -> CompiledScenario:
    """Compile a scenario made of a fixed header and ``body`` (events, state, ...)."""
    text = f"escalate: 1\nname: rule\nhorizon: {horizon}\n" + textwrap.dedent(body)
    return escalate.loads(text).compiled


def replicate(body: str, *, seed: int = SEED, index: int = 0, horizon: str = "100",
              ) -> ReplicationRecord:
    """Run one replication of the scenario with its event log."""
    scenario = compile_text(body, horizon=horizon)
    return next(ReferenceEngine(scenario).run(StreamKeys(seed), index, 1, keep_log=True))


def final_state(body: str, *, seed: int = SEED) -> dict[str, Any]:
    """Run one replication on the engine directly and return the state it ends with."""
    scenario = compile_text(body)
    values = scenario.initial_values()
    ReferenceEngine(scenario).replicate(0, replication_rng(seed, 0), values)
    return {name: values[i] for i, name in enumerate(scenario.state_names)}


def fired(record: ReplicationRecord) -> list[tuple[float, str]]:
    """(time, event) of every firing in the record's log, in order."""
    assert record.log is not None
    return [(entry.time, entry.event) for entry in record.log if entry.status == "fired"]


def statuses(record: ReplicationRecord, status: str) -> list[tuple[float, str]]:
    assert record.log is not None
    return [(entry.time, entry.event) for entry in record.log if entry.status == status]


def frequency(scenario: CompiledScenario, event: str, replications: int) -> tuple[int, int]:
    """How many of ``replications`` replications fired ``event``."""
    index = scenario.event_index()[event]
    hits = sum(index in record.path
               for record in ReferenceEngine(scenario).run(StreamKeys(SEED), 0, replications))
    return hits, replications


def assert_probability(hits: int, trials: int, expected: float) -> None:
    low, high = wilson_interval(hits, trials, z=Z999)
    assert low <= expected <= high, (
        f"{hits}/{trials} = {hits / trials:.4f}; 99.9% interval [{low:.4f}, {high:.4f}] "
        f"excludes {expected}")


# -- time and ordering -------------------------------------------------------------------------


def test_same_instant_events_fire_in_the_order_then_lists_them() -> None:
    """Successors due at the same instant fire in the order they were scheduled, not by name."""
    record = replicate("""
        events:
          start: {at: 1, then: [zulu, alpha, mike]}
          alpha: {}
          mike: {}
          zulu: {}
    """)
    assert fired(record) == [(1.0, "start"), (1.0, "zulu"), (1.0, "alpha"), (1.0, "mike")]


def test_same_instant_events_fire_in_scheduling_order_across_events() -> None:
    """An instance scheduled earlier fires first when two instances fall due at the same time."""
    record = replicate("""
        events:
          late_scheduler: {at: 1, then: [second]}
          early_scheduler: {at: 0, then: [first]}
          second: {after: 1}
          first: {after: 2}
    """)
    assert fired(record)[-2:] == [(2.0, "first"), (2.0, "second")]


def test_after_delay_counts_from_when_the_event_was_scheduled() -> None:
    """A fixed `after` delay is added to the time of the event that scheduled it."""
    record = replicate("""
        events:
          a: {at: 3, then: [b]}
          b: {after: 2.5 days, then: [c]}
          c: {after: 36h}
    """)
    assert fired(record) == [(3.0, "a"), (5.5, "b"), (7.0, "c")]


def test_at_takes_dates_counted_from_the_start_date() -> None:
    """`at` given as a date fires that many days after the scenario's `start`."""
    record = replicate("""
        start: 2024-11-17
        events:
          first: {at: 2024-11-17}
          later: {at: 2024-12-01}
    """)
    assert fired(record) == [(0.0, "first"), (14.0, "later")]


def test_horizon_given_as_a_date_is_counted_from_the_start_date() -> None:
    """A date horizon ends replications that many days after `start`."""
    record = replicate("""
        start: 2024-01-01
        events:
          a: {at: 0, repeat: {every: 1 day}}
    """, horizon="2024-01-11")
    assert record.terminal == "horizon"
    assert record.end_time == 10.0
    assert fired(record)[-1] == (9.0, "a")


def test_an_event_at_exactly_the_horizon_does_not_fire() -> None:
    """The horizon is exclusive: an event due at t = horizon is censored."""
    record = replicate("""
        state: {hit: false}
        events:
          before: {at: 99.999, then: [at_horizon]}
          at_horizon: {after: 0.001, set: {hit: true}}
        outcomes:
          reached: {event: at_horizon}
    """)
    assert fired(record) == [(99.999, "before")]
    assert record.terminal == "horizon"
    assert record.end_time == 100.0
    assert math.isnan(record.outcome_times[0])


def test_exhausted_when_nothing_is_pending() -> None:
    """A replication with nothing left to happen ends 'exhausted' at the last firing's time."""
    record = replicate("""
        events:
          a: {at: 2, then: [b]}
          b: {after: 5}
    """)
    assert record.terminal == "exhausted"
    assert record.end_time == 7.0


# -- when, set, then ---------------------------------------------------------------------------


def test_false_guard_skips_the_event_without_set_or_then() -> None:
    """A `when` that is false skips the event: no updates, no successors, counted as skipped."""
    body = """
        state: {x: 0, touched: false}
        events:
          a: {at: 1, when: "x > 0", set: {touched: true}, then: [b]}
          b: {}
    """
    record = replicate(body)
    assert statuses(record, "skipped") == [(1.0, "a")]
    assert fired(record) == []
    assert (record.events_fired, record.events_skipped) == (0, 1)
    assert record.path == ()
    assert final_state(body)["touched"] is False


def test_true_guard_fires_the_event() -> None:
    """A `when` that is true lets the event fire with its updates and successors."""
    body = """
        state: {x: 1, touched: false}
        events:
          a: {at: 1, when: "x > 0", set: {touched: true}, then: [b]}
          b: {}
    """
    assert [name for _, name in fired(replicate(body))] == ["a", "b"]
    assert final_state(body)["touched"] is True


def test_guard_is_evaluated_when_the_event_fires_not_when_scheduled() -> None:
    """A guard sees the state at firing time, including changes made after scheduling."""
    record = replicate("""
        state: {open: true}
        events:
          a: {at: 0, then: [guarded]}
          closer: {at: 1, set: {open: false}}
          guarded: {after: 2, when: open}
    """)
    assert statuses(record, "skipped") == [(2.0, "guarded")]


def test_set_applies_updates_in_order() -> None:
    """Each `set` entry sees the values written by the entries before it."""
    state = final_state("""
        state: {x: 1, y: 0, z: 0}
        events:
          a: {at: 1, set: {x: "x + 1", y: "x * 10", z: "y + x"}}
    """)
    assert state["x"] == 2
    assert state["y"] == 20
    assert state["z"] == 22


def test_then_schedules_every_successor() -> None:
    """`then` schedules all of its successors (parallel branches)."""
    record = replicate("""
        events:
          a: {at: 0, then: [b, c, d]}
          b: {after: 3}
          c: {after: 1}
          d: {after: 2}
    """)
    assert fired(record) == [(0.0, "a"), (1.0, "c"), (2.0, "d"), (3.0, "b")]


def test_now_in_expressions_is_the_current_time() -> None:
    """`now` evaluates to the firing time in updates and guards."""
    body = """
        state: {stamp: 0.0, late: false}
        events:
          a: {at: 7.25, set: {stamp: now}, then: [b]}
          b: {after: 1, when: "now > 8", set: {late: true}}
    """
    state = final_state(body)
    assert state["stamp"] == 7.25
    assert state["late"] is True


# -- choose --------------------------------------------------------------------------------------


CHOICE = """
    events:
      a: {at: 0, choose: {b: 0.2, c: 0.3, otherwise: d}}
      b: {}
      c: {}
      d: {}
"""


@pytest.mark.parametrize(("event", "expected"), [("b", 0.2), ("c", 0.3), ("d", 0.5)])
def test_choose_picks_each_branch_with_its_probability(event: str, expected: float) -> None:
    """Each branch of `choose` is taken with its probability, `otherwise` with the remainder."""
    assert_probability(*frequency(compile_text(CHOICE), event, 4000), expected)


def test_choose_schedules_exactly_one_branch() -> None:
    """Every replication of a choice with `otherwise` fires exactly one of the alternatives."""
    scenario = compile_text(CHOICE)
    for record in ReferenceEngine(scenario).run(StreamKeys(SEED), 0, 500):
        assert len(record.path) == 2


def test_choose_without_otherwise_leaves_the_remainder_empty() -> None:
    """Without `otherwise`, the remaining probability schedules nothing."""
    scenario = compile_text("""
        events:
          a: {at: 0, choose: {b: 0.4}}
          b: {after: 1}
    """)
    records = list(ReferenceEngine(scenario).run(StreamKeys(SEED), 0, 4000, keep_log=True))
    assert_probability(sum(len(r.path) == 2 for r in records), len(records), 0.4)
    for record in records:
        if len(record.path) == 1:
            assert record.log is not None
            assert record.log[-1].detail == "chose nothing"
            assert (record.terminal, record.end_time) == ("exhausted", 0.0)


def test_choice_probabilities_are_expressions_of_state() -> None:
    """A probability written over state is evaluated with the state at firing time."""
    scenario = compile_text("""
        state: {x: 0.0}
        events:
          a: {at: 0, set: {x: "x + 0.3"}, choose: {b: "x"}}
          b: {}
    """)
    assert_probability(*frequency(scenario, "b", 4000), 0.3)


@pytest.mark.parametrize(("certainty", "expected"), [("1", ["a", "b"]), ("0", ["a", "c"])])
def test_choice_probability_of_state_at_its_extremes(certainty: str, expected: list[str]) -> None:
    """A state-driven probability of one always and of zero never takes its branch."""
    scenario = compile_text(f"""
        state: {{x: {certainty}.0}}
        events:
          a: {{at: 0, choose: {{b: "x", otherwise: c}}}}
          b: {{}}
          c: {{}}
    """)
    names = [event.name for event in scenario.events]
    for record in ReferenceEngine(scenario).run(StreamKeys(SEED), 0, 200):
        assert [names[i] for i in record.path] == expected


def test_choice_probabilities_are_expressions_of_parameters() -> None:
    """A probability written over parameters follows the parameter's (overridden) value."""
    text = textwrap.dedent("""
        escalate: 1
        name: rule
        horizon: 10
        parameters:
          p: {value: 0.5}
        events:
          a: {at: 0, choose: {b: "p / 2"}}
          b: {}
    """)
    scenario = escalate.loads(text).compile({"p": 0.8})
    assert_probability(*frequency(scenario, "b", 4000), 0.4)


@pytest.mark.parametrize(("value", "shown"), [("2 * x", "1.4"), ("x - 1", "-0.3")])
def test_probability_outside_unit_interval_at_run_time_is_an_error(value: str, shown: str) -> None:
    """A probability that evaluates outside [0, 1] raises SimulationError naming event and value."""
    with pytest.raises(escalate.SimulationError,
                       match=rf"event 'decide'.*'{re.escape(value)}' = {shown} is outside \[0, 1\]"):
        replicate(f"""
            state: {{x: 0.7}}
            events:
              decide: {{at: 0, choose: {{b: "{value}"}}}}
              b: {{}}
        """)


def test_probabilities_summing_above_one_at_run_time_are_an_error() -> None:
    """Probabilities summing above one raise SimulationError listing the event and each value."""
    with pytest.raises(escalate.SimulationError,
                       match=r"event 'decide'.*sum to 1\.4 > 1 \(b=0\.7, c=0\.7\)"):
        replicate("""
            state: {x: 0.7}
            events:
              decide: {at: 0, choose: {b: x, c: x}}
              b: {}
              c: {}
        """)


# -- repeat and cancels ---------------------------------------------------------------------------


def test_repeat_fires_every_interval_up_to_max() -> None:
    """`repeat` with `every` and `max` fires exactly `max` times, `every` apart."""
    record = replicate("""
        events:
          tick: {at: 1, repeat: {every: 2, max: 4}}
    """)
    assert fired(record) == [(1.0, "tick"), (3.0, "tick"), (5.0, "tick"), (7.0, "tick")]
    assert record.terminal == "exhausted"


def test_repeat_stops_when_while_turns_false() -> None:
    """`repeat` with `while` schedules again only while the condition holds after firing."""
    body = """
        state: {count: 0}
        events:
          tick: {at: 0, set: {count: "count + 1"}, repeat: {every: 1, while: "count < 3"}}
    """
    assert [t for t, _ in fired(replicate(body))] == [0.0, 1.0, 2.0]
    assert final_state(body)["count"] == 3


def test_repeat_continues_after_skipped_firings() -> None:
    """A skipped firing of a repeating event still reschedules it, and counts toward `max`."""
    record = replicate("""
        events:
          tick: {at: 0, when: "now >= 3", repeat: {every: 2, max: 4}}
    """)
    assert statuses(record, "skipped") == [(0.0, "tick"), (2.0, "tick")]
    assert fired(record) == [(4.0, "tick"), (6.0, "tick")]
    assert (record.events_fired, record.events_skipped) == (2, 2)


def test_repeat_without_bounds_runs_to_the_horizon() -> None:
    """An unbounded repeat keeps firing until the horizon censors it."""
    record = replicate("""
        events:
          tick: {at: 0, repeat: {every: 10}}
    """)
    assert [t for t, _ in fired(record)] == [10.0 * k for k in range(10)]
    assert (record.terminal, record.end_time) == ("horizon", 100.0)


def test_cancels_withdraws_pending_instances() -> None:
    """`cancels` withdraws every pending instance of the named event."""
    record = replicate("""
        events:
          a: {at: 0, then: [strike, strike, talks]}
          strike: {after: 5}
          talks: {after: 1, cancels: strike}
    """)
    assert fired(record) == [(0.0, "a"), (1.0, "talks")]
    assert statuses(record, "cancelled") == [(1.0, "strike"), (1.0, "strike")]
    assert record.terminal == "exhausted"


def test_cancels_withdraws_a_pending_repeat() -> None:
    """Cancelling a repeating event stops its future firings."""
    record = replicate("""
        events:
          tick: {at: 0, repeat: {every: 1}}
          stop: {at: 3.5, cancels: tick}
    """)
    assert [t for t, name in fired(record) if name == "tick"] == [0.0, 1.0, 2.0, 3.0]
    assert (record.terminal, record.end_time) == ("exhausted", 3.5)


def test_cancelled_event_can_be_scheduled_again() -> None:
    """Cancelling affects only pending instances; the event may be scheduled afresh later."""
    record = replicate("""
        events:
          a: {at: 0, then: [strike]}
          stop: {at: 1, cancels: strike, then: [strike]}
          strike: {after: 5}
    """)
    assert [t for t, name in fired(record) if name == "strike"] == [6.0]


# -- endings ------------------------------------------------------------------------------------


def test_end_stops_the_replication_with_its_terminal_label() -> None:
    """An event with `end` stops the replication at once, pending events unfired."""
    record = replicate("""
        events:
          a: {at: 0, then: [done, later]}
          done: {after: 1, end: settled}
          later: {after: 2}
    """)
    assert fired(record) == [(0.0, "a"), (1.0, "done")]
    assert (record.terminal, record.end_time) == ("settled", 1.0)


def test_end_applies_its_updates_before_stopping() -> None:
    """An ending event's `set` still takes effect (the record's levels include it)."""
    record = replicate("""
        events:
          war: {at: 4, set: {level: 5}, end: war}
    """)
    assert (record.max_level, record.final_level, record.terminal) == (5, 5, "war")


RUNAWAY = """
    max_events: 50
    events:
      tick: {at: 0, repeat: {every: 0.001}}
"""


def test_runaway_is_stopped_with_terminal_max_events() -> None:
    """A replication exceeding `max_events` stops with terminal 'max_events', not a hang."""
    records: list[ReplicationRecord] = []
    # In a thread, so that a regression shows as a failure rather than a hung test run.
    worker = threading.Thread(target=lambda: records.append(replicate(RUNAWAY)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "the runaway replication did not stop"
    (record,) = records
    assert record.terminal == "max_events"
    assert record.runaway
    assert record.events_fired == 50
    assert record.end_time < 1.0


def test_runaways_are_counted_in_the_summary() -> None:
    """Every stopped runaway is counted in the summary's `runaway` and terminals."""
    result = run(compile_text(RUNAWAY), replications=7, seed=SEED)
    summary = result.summary
    assert summary["runaway"] == 7
    assert summary["terminals"]["max_events"]["count"] == 7


# -- integer state and the ladder ------------------------------------------------------------------


@pytest.mark.parametrize(("variable", "value"), [("count", "count + 0.5"),
                                                 ("level", "level + 1.5")])
def test_integer_updates_must_be_whole_numbers(variable: str, value: str) -> None:
    """Setting an integer variable (or `level`) to a fraction raises SimulationError."""
    with pytest.raises(escalate.SimulationError,
                       match=rf"event 'a'.*set {variable}: .* is not a whole number"):
        replicate(f"""
            state: {{count: 0}}
            events:
              a: {{at: 0, set: {{{variable}: "{value}"}}}}
        """)


@pytest.mark.parametrize("value", ["level + 7", "level - 1"])
def test_levels_outside_the_ladder_are_an_error(value: str) -> None:
    """A `level` beyond either end of the ladder raises SimulationError naming the ladder."""
    with pytest.raises(escalate.SimulationError,
                       match=r"event 'a'.*outside the ladder \(0 to 6\)"):
        replicate(f"""
            events:
              a: {{at: 0, set: {{level: "{value}"}}}}
        """)


def test_integer_updates_accept_whole_valued_results() -> None:
    """A whole-valued result of arithmetic (6 / 2) is accepted for an integer variable."""
    assert final_state("""
        state: {count: 6}
        events:
          a: {at: 0, set: {count: "count / 2"}}
    """)["count"] == 3


def test_max_level_is_the_highest_level_reached() -> None:
    """The record keeps the highest level ever reached, apart from the final level."""
    record = replicate("""
        state: {level: 1}
        events:
          up: {at: 1, set: {level: 4}, then: [down]}
          down: {after: 1, set: {level: 2}}
    """)
    assert (record.max_level, record.final_level) == (4, 2)


def test_initial_level_counts_toward_max_level() -> None:
    """A scenario starting at level 2 with no change reports a maximum level of 2."""
    record = replicate("""
        state: {level: 2}
        events:
          a: {at: 0}
    """)
    assert record.max_level == 2


# -- outcomes and paths ------------------------------------------------------------------------------


def test_outcome_times_are_first_occurrences() -> None:
    """Event, condition and terminal outcomes record the time they first occurred."""
    record = replicate("""
        events:
          rise: {at: 2, set: {level: 2}, repeat: {every: 3, max: 3}, then: [calm]}
          calm: {after: 1, set: {level: 0}}
          fin: {at: 20, end: settled}
        outcomes:
          rose: {event: rise}
          calmed: {event: calm}
          high: {when: "level >= 2"}
          settled: {terminal: settled}
          censored: {terminal: horizon}
    """)
    rose, calmed, high, settled, censored = record.outcome_times
    assert (rose, calmed, high, settled) == (2.0, 3.0, 2.0, 20.0)
    assert math.isnan(censored)


def test_condition_outcome_true_at_start_occurs_at_time_zero() -> None:
    """A `when` outcome that already holds at t = 0 is recorded at time zero."""
    record = replicate("""
        state: {level: 3}
        events:
          a: {at: 5}
        outcomes:
          high: {when: "level >= 3"}
    """)
    assert record.outcome_times == (0.0,)


def test_skipped_event_is_not_an_occurrence() -> None:
    """An event outcome is not triggered by a skipped firing of its event."""
    record = replicate("""
        events:
          a: {at: 1, when: false}
        outcomes:
          happened: {event: a}
    """)
    assert math.isnan(record.outcome_times[0])


def test_horizon_terminal_outcome_occurs_at_the_horizon() -> None:
    """A `terminal: horizon` outcome is recorded at the horizon for censored replications."""
    record = replicate("""
        events:
          a: {at: 0, repeat: {every: 30}}
        outcomes:
          censored: {terminal: horizon}
    """)
    assert record.outcome_times == (100.0,)


def test_path_lists_events_in_order_of_first_firing() -> None:
    """The path holds each fired event once, in the order of its first firing."""
    scenario = compile_text("""
        events:
          c: {at: 0, repeat: {every: 1, max: 3}, then: [a]}
          a: {after: 0.5, when: "now < 1"}
          b: {at: 1.75}
    """)
    record = next(ReferenceEngine(scenario).run(StreamKeys(SEED), 0, 1))
    names = [event.name for event in scenario.events]
    assert [names[i] for i in record.path] == ["c", "a", "b"]
    assert (record.events_fired, record.events_skipped) == (5, 2)


def test_replication_depends_only_on_seed_and_index() -> None:
    """The same (seed, index) gives the same record, whatever else ran before it."""
    scenario = compile_text("""
        events:
          a: {at: 0, then: [b]}
          b: {after: {exponential: {mean: 3}}, choose: {c: 0.5}}
          c: {after: {uniform: [1, 2]}}
    """)
    alone = next(ReferenceEngine(scenario).run(StreamKeys(SEED), 41, 1))
    in_sequence = list(ReferenceEngine(scenario).run(StreamKeys(SEED), 38, 5))[3]
    assert alone == in_sequence


def test_an_engine_reused_with_other_parameter_values_draws_from_those_values() -> None:
    """Delays and choices fixed by the parameters are not carried over to other parameters."""
    scenario = compile_text("""
        parameters:
          mean: {value: 5}
          p: {value: 0.5}
        events:
          start: {at: 0, choose: {wait: p}}
          wait: {after: {exponential: {mean: mean}}, repeat: {every: {exponential: {mean: mean}}}}
    """)
    engine = ReferenceEngine(scenario)

    def record(mean: float, p: float, engine: ReferenceEngine) -> ReplicationRecord:
        values = scenario.initial_values()
        offset = scenario.parameter_offset
        values[offset + scenario.parameter_names.index("mean")] = mean
        values[offset + scenario.parameter_names.index("p")] = p
        return engine.replicate(3, replication_rng(SEED, 3), values)

    for mean, p in [(5.0, 0.5), (50.0, 1.0), (5.0, 0.5), (0.5, 0.0)]:
        assert record(mean, p, engine) == record(mean, p, ReferenceEngine(scenario))
    point = [engine.replicate(i, replication_rng(SEED, i), scenario.initial_values()) for i in range(3)]
    assert point == [engine.replicate(i, replication_rng(SEED, i), scenario.initial_values())
                     for i in range(3)]
