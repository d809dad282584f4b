"""A catalogue of broken scenarios: each mistake is reported once, where it is, with a hint.

Every case is :data:`BASE` (a valid scenario) with one mistake in it.  Lines
and columns are 1-based and refer to the broken text; a case that adds a line
says so, since the lines after it move down by one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

import escalate

BASE = """\
escalate: 1
name: Border incident
start: 2030-03-01
horizon: 180 days
sources:
  - {id: analyst, title: Analyst judgement}
ladder: [calm, incident, skirmish, limited strike, open war]
actors: [north, south]
state: {level: 0, talks: false}
parameters:
  p_retaliate: {value: 0.35, ci90: [0.15, 0.55], source: analyst}
  retaliation_delay: {value: 4 days, source: analyst}
events:
  clash: {at: 0, actor: north, set: {level: 1}, then: [south_decides]}
  south_decides:
    actor: south
    after: {exponential: {mean: 2 days}}
    choose: {retaliation: p_retaliate, otherwise: talks_open}
  retaliation:
    actor: south
    after: retaliation_delay
    set: {level: "max(level, 3)"}
    then: [north_decides]
  north_decides:
    actor: north
    after: {triangular: [1 day, 3 days, 10 days]}
    choose: {open_war: 0.2, otherwise: talks_open}
  open_war: {actor: north, set: {level: 4}, end: war}
  talks_open: {after: 7 days, set: {talks: true}, end: talks}
outcomes:
  strike: {when: "level >= 3"}
  war: {event: open_war}
  talks: {event: talks_open}
"""


def broken(old: str, new: str) -> str:
    """Return :data:`BASE` with the one occurrence of ``old`` replaced by ``new``."""
    assert BASE.count(old) == 1, f"{old!r} must occur exactly once in BASE"
    return BASE.replace(old, new)


@dataclass(frozen=True)
class Case:
    """A broken scenario and the one diagnostic it must produce.

    ``line`` None means the position is not meaningful (a resource limit hit
    somewhere inside the document); ``words`` must all appear in the message.
    """

    id: str
    text: str
    line: int | None
    column: int | None
    words: tuple[str, ...]
    hint: str = ""


BILLION_LAUGHS = """\
a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
"""

CASES = [
    # --- the file as YAML ---------------------------------------------------------------------
    Case("yaml-unclosed-bracket", broken("name: Border incident", "name: [Border incident"),
         3, 6, ("invalid YAML", "expected ',' or ']'", "flow sequence at line 2"),
         "check indentation, colons and quotes"),
    Case("yaml-colon-in-plain-value", broken("horizon: 180 days", "horizon: 180 days: more"),
         4, 18, ("invalid YAML", "mapping values are not allowed here"),
         "check indentation, colons and quotes"),
    Case("yaml-tab-indentation",
         broken("  south_decides:\n    actor: south", "  south_decides:\n\tactor: south"),
         16, 1, ("invalid YAML", r"character '\t'"), "indent with spaces"),
    Case("yaml-second-document", BASE + "---\nname: Another\n",
         34, 1, ("expected a single document", "but found another document")),
    Case("yaml-control-character", broken("name: Border incident", "name: Border\x00incident"),
         2, 13, ("control character #x0000", "not allowed"), "remove control characters"),
    Case("empty-file", "", 1, 1, ("the file is empty",), "`escalate: 1`"),
    Case("only-comments", "# a scenario, one day\n", 1, 1, ("the file is empty",)),
    Case("top-level-list", "- escalate: 1\n- name: Border incident\n",
         1, 1, ("a scenario is a mapping of fields", "found list"), "`escalate: 1`"),
    Case("top-level-text", "Border incident\n",
         1, 1, ("a scenario is a mapping of fields", "found str")),
    Case("python-tag",
         broken("name: Border incident", "name: !!python/object/apply:os.system [ls]"),
         2, 7, ("YAML tag", "python/object/apply:os.system", "not allowed"), "plain YAML values"),
    Case("merge-key", broken("  open_war: {actor", "  open_war: {<<: {label: x}, actor"),
         28, 14, ("merge keys (<<) are not supported",), "write the fields out"),
    Case("billion-laughs", BILLION_LAUGHS + BASE,
         None, None, ("more than 100,000 values", "after expanding aliases"), "aliases"),
    Case("time-of-day", broken("start: 2030-03-01", "start: 2030-03-01 10:00:00"),
         3, 8, ("'2030-03-01 10:00:00'", "times of day are not supported"), "write a date"),
    Case("number-beyond-float", broken("open_war: 0.2", "open_war: 1" + "0" * 400),
         27, 24, ("the number", "is too large"), "1e308"),
    # --- the top level ------------------------------------------------------------------------
    Case("format-version", broken("escalate: 1", "escalate: 2"),
         1, 11, ("unsupported format version 2", "reads format 1"), "write `escalate: 1`"),
    Case("missing-name", broken("name: Border incident\n", ""),
         1, 1, ("missing required field 'name'",), "add `name:`"),
    Case("missing-horizon", broken("horizon: 180 days\n", ""),
         1, 1, ("missing required field 'horizon'",), "add `horizon:`"),
    Case("missing-events", BASE.split("events:")[0] + "outcomes: {}\n",
         1, 1, ("missing required field 'events'",), "add `events:`"),
    Case("unknown-top-level-key",
         broken("horizon: 180 days", "horizon: 180 days\ndescripton: A patrol clash"),
         5, 1, ("unknown field 'descripton'",), "did you mean `description`?"),
    Case("horizon-zero", broken("horizon: 180 days", "horizon: 0"),
         4, 10, ("horizon must be positive", "found 0 days")),
    Case("horizon-negative", broken("horizon: 180 days", "horizon: -5 days"),
         4, 10, ("horizon must be positive", "found -5 days")),
    Case("horizon-nan", broken("horizon: 180 days", "horizon: .nan"),
         4, 10, ("expected a finite number", "found float nan")),
    Case("text-where-whole-number",
         broken("horizon: 180 days", "horizon: 180 days\nmax_events: lots"),
         5, 13, ("expected a whole number", "found 'lots'")),
    Case("text-where-state-value", broken("talks: false}", "talks: nope}"),
         9, 26, ("expected true/false or a number", "found 'nope'")),
    Case("list-where-mapping", broken("state: {level: 0, talks: false}", "state: [level, talks]"),
         9, 8, ("expected a mapping", "found a list")),
    Case("initial-level-off-the-ladder", broken("state: {level: 0,", "state: {level: 7,"),
         9, 16, ("initial level 7 is outside the ladder (0 to 4)",)),
    Case("initial-level-not-a-number", broken("state: {level: 0,", "state: {level: true,"),
         9, 16, ("`level` is a whole-number rung of the ladder", "found True")),
    # --- parameters -----------------------------------------------------------------------------
    Case("ci90-low-above-high", broken("ci90: [0.15, 0.55]", "ci90: [0.55, 0.15]"),
         11, 36, ("ci90 needs low < high", "[0.55, 0.15]")),
    Case("value-outside-range", broken("{value: 0.35, ci90", "{value: 0.35, range: [0.5, 1], ci90"),
         11, 24, ("p_retaliate = 0.35 is outside its range [0.5, 1]",)),
    Case("undefined-source", broken("{value: 4 days, source: analyst}",
                                    "{value: 4 days, source: analst}"),
         12, 46, ("unknown source 'analst'",), "did you mean `analyst`?"),
    # --- events: fields and types -----------------------------------------------------------
    Case("unknown-event-field",
         broken("  retaliation:\n    actor: south",
                "  retaliation:\n    actor: south\n    labl: x"),
         21, 5, ("unknown field 'labl'",), "did you mean `label`?"),
    Case("mapping-where-list", broken("then: [north_decides]", "then: {north_decides: 1}"),
         23, 11, ("expected a list or text", "found a mapping")),
    Case("number-where-event-name", broken("then: [north_decides]", "then: [1]"),
         23, 12, ("expected text", "found int 1")),
    Case("undefined-actor", broken("  north_decides:\n    actor: north",
                                   "  north_decides:\n    actor: nrth"),
         25, 12, ("unknown actor 'nrth'",), "did you mean `north`?"),
    Case("date-without-start",
         broken("start: 2030-03-01\n", "").replace("{at: 0,", "{at: 2030-03-05,"),
         13, 15, ("the date 2030-03-05 needs a `start:` date",)),
    # --- delays -----------------------------------------------------------------------------
    Case("unknown-distribution", broken("{exponential: {mean", "{exponental: {mean"),
         17, 12, ("unknown distribution 'exponental'", "expected one of fixed, exponential"),
         "did you mean `exponential`?"),
    Case("negative-fixed-delay", broken("after: retaliation_delay", "after: {fixed: -2}"),
         21, 12, ("a delay cannot be negative", "found -2"), "cannot be negative"),
    Case("negative-exponential-mean", broken("{mean: 2 days}", "{mean: -2}"),
         17, 12, ("the mean must be positive", "found -2")),
    Case("unknown-time-unit", broken("after: 7 days", "after: 7 fortnights"),
         29, 23, ("unknown time unit 'fortnights'",)),
    # --- references between events ------------------------------------------------------------
    Case("undefined-event-in-then", broken("then: [north_decides]", "then: [north_decide]"),
         23, 12, ("unknown event 'north_decide'",), "did you mean `north_decides`"),
    Case("undefined-event-in-choose", broken("choose: {open_war", "choose: {open_wr"),
         27, 23, ("unknown event 'open_wr'",), "did you mean `open_war`?"),
    Case("undefined-event-in-otherwise",
         broken("otherwise: talks_open}\n  retaliation", "otherwise: talk_open}\n  retaliation"),
         18, 51, ("unknown event 'talk_open'",), "did you mean `talks_open`?"),
    Case("undefined-event-in-cancels",
         broken("    then: [north_decides]", "    then: [north_decides]\n    cancels: [talks_opn]"),
         24, 15, ("unknown event 'talks_opn'",), "did you mean `talks_open`?"),
    Case("duplicate-event-name",
         broken("  talks_open: {after", "  open_war: {after: 1, end: x}\n  talks_open: {after"),
         29, 3, ("duplicate key 'open_war'", "first defined at line 28"), "names must be unique"),
    Case("end-with-then", broken("end: war}", "end: war, then: [talks_open]}"),
         28, 13, ("an event with `end` stops the replication", "cannot also have `then`")),
    # --- the event graph ------------------------------------------------------------------------
    Case("unreachable-event", broken("outcomes:", "  stray: {after: 1, end: stray}\noutcomes:"),
         30, 3, ("event 'stray' can never happen",), "give it `at:`"),
    Case("no-root-event", broken("{at: 0, actor: north", "{after: 0, actor: north"),
         14, 3, ("no event has `at:`", "nothing ever happens"), "`at: 0`"),
    Case("zero-delay-cycle",
         broken("outcomes:", "  ping: {then: [pong]}\n  pong: {then: [ping]}\noutcomes:")
         .replace("then: [south_decides]", "then: [south_decides, ping]"),
         30, 3, ("zero-delay cycle ping -> pong -> ping",), "positive `after:` delay"),
    # --- probabilities ---------------------------------------------------------------------------
    Case("probability-above-one", broken("open_war: 0.2", "open_war: 1.2"),
         27, 24, ("probability 1.2 is outside [0, 1]",), "'30%'"),
    Case("probabilities-sum-above-one",
         broken("choose: {open_war: 0.2, otherwise: talks_open}",
                "choose: {open_war: 0.7, talks_open: 0.6}"),
         27, 13, ("the probabilities sum to 1.3, more than 1",), "`otherwise`"),
    # --- expressions: the column points inside the quoted text -------------------------------
    Case("undefined-parameter", broken("retaliation: p_retaliate,", "retaliation: p_retaliat,"),
         18, 27, ("unknown name 'p_retaliat'",), "did you mean `p_retaliate`?"),
    Case("expression-syntax", broken('"level >= 3"', '"level >= * 3"'),
         31, 28, ("unexpected '*'", "in expression 'level >= * 3'")),
    Case("expression-extra-parenthesis", broken('"max(level, 3)"', '"max(level, 3))"'),
         22, 32, ("unexpected ')' after a complete expression",), "without its `(`"),
    Case("number-used-as-condition", broken('"level >= 3"', '"level + 3"'),
         31, 19, ("expected a condition", "'level + 3' is a number")),
    Case("number-in-and", broken('"level >= 3"', '"talks and level"'),
         31, 29, ("and needs a bool", "this is a number")),
    Case("dunder-name", broken('"level >= 3"', '"__import__ > 3"'),
         31, 19, ("the name '__import__' is not allowed",), "reserved"),
    Case("attribute-access", broken('"level >= 3"', '"level.real >= 3"'),
         31, 24, ("unexpected character '.'",), "attribute access is not allowed"),
    Case("power-tower", broken('"max(level, 3)"', '"10**10**10"'),
         22, 21, ("the exponent 1e+10 is too large",)),
    # --- expressions written over several lines: the column still points at the mistake -------
    Case("expression-in-literal-block",
         broken('strike: {when: "level >= 3"}', "strike:\n    when: |\n      level >= 3 and\n"
                "        levle < 5"),
         34, 9, ("unknown name 'levle'",), "did you mean `level`?"),
    Case("expression-in-folded-block",
         broken('strike: {when: "level >= 3"}', "strike:\n    when: >\n      level >= 3 and\n"
                "      levle < 5"),
         34, 7, ("unknown name 'levle'",), "did you mean `level`?"),
    Case("expression-wrapped-in-quotes",
         broken('strike: {when: "level >= 3"}', 'strike: {when: "level >= 3 and\n    levle < 5"}'),
         32, 5, ("unknown name 'levle'",), "did you mean `level`?"),
    # --- formulas over parameters alone, at the parameters' values --------------------------
    Case("parameter-probability-outside-zero-one",
         broken("choose: {retaliation: p_retaliate,", 'choose: {retaliation: "p_retaliate * 3",'),
         18, 28, ("probability 'p_retaliate * 3' = 1.05 is outside [0, 1]",
                  "(with p_retaliate = 0.35)"), "check the parameters' values"),
    Case("parameter-probabilities-sum-over-one",
         broken("choose: {open_war: 0.2, otherwise: talks_open}",
                "choose: {open_war: 0.7, talks_open: p_retaliate}"),
         27, 13, ("the probabilities sum to 1.05, more than 1", "(with p_retaliate = 0.35)"),
         "`otherwise` take the remainder"),
    Case("parameter-delay-negative",
         broken("retaliation_delay: {value: 4 days,", "retaliation_delay: {value: -4 days,"),
         21, 12, ("a delay cannot be negative, found -4", "(with retaliation_delay = -4)"),
         "check the parameters' values"),
    Case("delay-as-a-percentage", broken("after: retaliation_delay", "after: 10%"),
         21, 12, ("'10%' is a percentage, not a time",), "delays are in days"),
    Case("constant-expression-that-cannot-be-evaluated",
         broken("after: {exponential: {mean: 2 days}}", 'after: {exponential: {mean: "sqrt(-4)"}}'),
         17, 12, ("cannot evaluate 'sqrt(-4)'",), "check the parameters' values"),
    # --- state updates ---------------------------------------------------------------------------
    Case("undefined-state-variable", broken("set: {talks: true}", "set: {talk: true}"),
         29, 37, ("unknown state variable 'talk'",), "did you mean `talks`?"),
    Case("setting-a-parameter", broken("set: {talks: true}", "set: {p_retaliate: 0.5}"),
         29, 37, ("'p_retaliate' is a parameter, which cannot be changed",), "`state:`"),
    # --- outcomes -------------------------------------------------------------------------------
    Case("outcome-with-two-kinds",
         broken("war: {event: open_war}", 'war: {event: open_war, when: "level >= 4"}'),
         32, 8, ("exactly one of `event`, `when` or `terminal`", "found 2")),
    Case("undefined-terminal", broken("war: {event: open_war}", "war: {terminal: wr}"),
         32, 19, ("no event ends with 'wr'",), "did you mean `war`?"),
    # --- durations and percentages inside expressions ----------------------------------------
    Case("duration-inside-expression",
         broken("{mean: 2 days}", '{mean: "retaliation_delay + 2 days"}'),
         17, 54, ("a duration ('2 days') where a number of days is wanted",),
         "inside an expression times are numbers of days: write `retaliation_delay + 2`"),
    Case("duration-inside-condition", broken('"level >= 3"', '"level >= 3 and now > 30 days"'),
         31, 40, ("a duration ('30 days') where a number of days is wanted",),
         "write `level >= 3 and now > 30`"),
    Case("durations-in-a-row", broken("after: 7 days", "after: 7 days 12 hours"),
         29, 23, ("durations cannot be added by writing them one after another",),
         "one number and one unit: write `180 hours` or `7.5 days`"),
    Case("percentage-apart-from-its-number",
         broken("retaliation: p_retaliate,", 'retaliation: "p_retaliate + 5 %",'),
         18, 44, ("unexpected '%' after a complete expression",),
         "write percentages right after the number (30%)"),
    # --- lists of the wrong length, and misspelt required fields -----------------------------
    Case("ci90-three-values", broken("ci90: [0.15, 0.55]", "ci90: [0.15, 0.35, 0.55]"),
         11, 36, ("expected 2 values [low, high], found 3 values",),
         "for a low, most likely and high value use `uncertainty: {pert:"),
    Case("ci90-one-value", broken("ci90: [0.15, 0.55]", "ci90: [0.15]"),
         11, 36, ("expected 2 values [low, high], found 1 value",), "`ci90: [3%, 25%]`"),
    Case("range-three-values", broken("{value: 0.35, ci90", "{value: 0.35, range: [0, 0.5, 1], ci90"),
         11, 37, ("expected 2 values [low, high], found 3 values",), "lowest and highest"),
    Case("triangular-two-values", broken("{triangular: [1 day, 3 days, 10 days]}",
                                         "{triangular: [1 day, 10 days]}"),
         26, 25, ("expected 3 values [low, mode, high], found 2 values",),
         "`{triangular: [1 day, 3 days, 10 days]}`"),
    Case("empirical-delay-empty", broken("after: retaliation_delay", "after: {empirical: []}"),
         21, 24, ("expected at least 1 value, found none",), "list the delays seen in the past"),
    Case("misspelt-required-field", broken("retaliation_delay: {value: 4 days,",
                                           "retaliation_delay: {valeu: 4 days,"),
         12, 23, ("unknown field 'valeu'",), "did you mean `value`?"),
    Case("unknown-distribution-argument", broken("{mean: 2 days}", "{mean: 2 days, sigma: 1}"),
         17, 41, ("unknown field 'sigma'",), "known fields: mean"),
    # --- silently wrong results: names that would collide with output columns, ambiguous
    # units, numbers YAML 1.1 and 1.2 read differently, booleans where a name is wanted -----
    Case("outcome-named-like-another-outcomes-day-column",
         broken("  talks: {event: talks_open}\n",
                "  talks: {event: talks_open}\n  war_day: {event: open_war}\n"),
         34, 3, ("outcome name 'war_day' collides with an output column",
                 "the outcome 'war' gives replications.csv a column 'war_day' too"),
         "rename the outcome"),
    Case("outcome-named-max-level", broken("  strike: {when", "  max_level: {when"),
         31, 3, ("outcome name 'max_level' collides",
                 "replications.csv has a column 'max_level' of its own"), "rename the outcome"),
    Case("outcome-named-terminal", broken("  talks: {event", "  terminal: {event"),
         33, 3, ("outcome name 'terminal' collides",), "rename the outcome"),
    Case("outcome-whose-day-column-is-end-day", broken("  war: {event", "  end: {event"),
         32, 3, ("outcome name 'end' collides", "column 'end_day' of its own"),
         "rename the outcome"),
    Case("outcome-named-like-a-drawn-parameter-column",
         broken("  war: {event", "  param_p_retaliate: {event"),
         32, 3, ("outcome name 'param_p_retaliate' collides",
                 "the parameter 'p_retaliate' gives replications.csv a column"),
         "rename the outcome"),
    Case("parameter-named-like-a-sweep-column",
         broken("  retaliation_delay: {value", "  status: {value: 1}\n  retaliation_delay: {value"),
         12, 3, ("parameter name 'status' collides", "points.csv has a column 'status'"),
         "rename the parameter"),
    Case("horizon-in-capital-m", broken("horizon: 180 days", "horizon: 6M"),
         4, 10, ("the time unit 'M' is ambiguous (minutes or months?)",
                 "write `6 months` (182.625 days) or `6 min`")),
    Case("delay-in-lower-case-m", broken("after: retaliation_delay", "after: 2m"),
         21, 12, ("the time unit 'm' is ambiguous", "`2 months`", "`2 min`")),
    Case("delay-unit-in-capitals", broken("after: 7 days", "after: 7 Days"),
         29, 23, ("time units are written in lower case, found 'Days'", "write `7 days`")),
    Case("parameter-duration-in-capital-m", broken("{value: 4 days,", "{value: 4 M,"),
         12, 30, ("the time unit 'M' is ambiguous",)),
    Case("horizon-with-a-leading-zero", broken("horizon: 180 days", "horizon: 0100"),
         4, 10, ("the number 0100 has a leading zero", "YAML 1.1 reads as octal"),
         "write `100` without the leading zero"),
    Case("max-events-with-a-leading-zero",
         broken("horizon: 180 days", "horizon: 180 days\nmax_events: 010"),
         5, 13, ("the number 010 has a leading zero",), "write `10`"),
    Case("at-with-a-leading-zero", broken("clash: {at: 0,", "clash: {at: 010,"),
         14, 15, ("the number 010 has a leading zero",), "write `10`"),
    Case("state-value-with-a-leading-zero",
         broken("talks: false}", "talks: false, count: 010}"),
         9, 40, ("the number 010 has a leading zero",), "write `10`"),
    Case("horizon-in-base-60", broken("horizon: 180 days", "horizon: 3:00"),
         4, 10, ("3:00 is the base-60 number 180 in YAML 1.1",), "write the number you mean"),
    Case("actor-read-as-a-boolean", broken("actors: [north, south]", "actors: [north, south, NO]"),
         8, 24, ("found `NO`, which YAML read as the boolean false",), "quote it ('NO')"),
    Case("event-in-then-read-as-a-boolean", broken("then: [north_decides]", "then: [yes]"),
         23, 12, ("found `yes`, which YAML read as the boolean true",), "quote it ('yes')"),
    Case("ladder-rung-read-as-a-boolean", broken("ladder: [calm,", "ladder: [calm, on,"),
         7, 16, ("found `on`, which YAML read as the boolean true",), "quote it ('on')"),
    Case("source-id-read-as-a-boolean",
         broken("sources:\n", "sources:\n  - {id: Off, title: Other}\n"),
         6, 10, ("found `Off`, which YAML read as the boolean false",), "quote it ('Off')"),
    # --- messages: dates before the start, texts over their limit, powers beyond any number -----
    Case("horizon-date-before-start", broken("horizon: 180 days", "horizon: 2029-01-01"),
         4, 10, ("the horizon 2029-01-01 is 424 days before the start 2030-03-01",
                 "it must come after the start"), "a duration such as `180 days`"),
    Case("horizon-quoted-date-before-start", broken("horizon: 180 days", 'horizon: "2029-01-01"'),
         4, 11, ("the horizon 2029-01-01 is 424 days before the start 2030-03-01",),
         "or an earlier `start:`"),
    Case("horizon-date-on-the-start", broken("horizon: 180 days", "horizon: 2030-03-01"),
         4, 10, ("the horizon 2030-03-01 is the start date itself",), "give a later date"),
    Case("at-date-before-start", broken("{at: 0,", "{at: 2029-01-01,"),
         14, 15, ("`at` is 2029-01-01, 424 days before the start 2030-03-01",),
         "give a date on or after `start:`"),
    Case("name-over-its-limit", broken("name: Border incident", "name: " + "x" * 501),
         2, 7, ("the text has 501 characters", "the limit for `name` is 500"),
         "put the rest in `description:`"),
    Case("description-over-its-limit",
         broken("name: Border incident", "name: Border incident\ndescription: " + "d" * 20_001),
         3, 14, ("the text has 20,001 characters", "the limit for `description` is 20,000"),
         "shorten it"),
    Case("parameter-power-beyond-any-number",
         broken("after: retaliation_delay", 'after: "retaliation_delay ** 600"'),
         21, 13, ("cannot evaluate 'retaliation_delay ** 600'", "(with retaliation_delay = 4)",
                  "4 ** 600 is too large: the result is beyond the largest number"),
         "check the parameters' values"),
]


def test_base_scenario_is_valid() -> None:
    """The scenario every case breaks loads without a problem."""
    scenario = escalate.loads(BASE, "base.yaml")

    assert scenario.name == "Border incident"


def test_catalogue_is_large_and_unique() -> None:
    """The catalogue has at least 30 cases with distinct names and distinct texts."""
    assert len(CASES) >= 30
    assert len({case.id for case in CASES}) == len(CASES)
    assert len({case.text for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_mistake_is_reported_once_at_its_position(case: Case) -> None:
    """The one mistake gives one diagnostic, at its line and column, naming the file."""
    with pytest.raises(escalate.ScenarioError, match="1 problem found") as info:
        escalate.loads(case.text, "broken.yaml")

    (diagnostic,) = info.value.diagnostics
    assert diagnostic.file == "broken.yaml"
    if case.line is not None:
        assert (diagnostic.line, diagnostic.column) == (case.line, case.column), str(diagnostic)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_mistake_is_explained_with_key_words_and_hint(case: Case) -> None:
    """The message says what is wrong in words a user recognises, and the hint says what to do."""
    with pytest.raises(escalate.ScenarioError) as info:
        escalate.loads(case.text, "broken.yaml")

    (diagnostic,) = info.value.diagnostics
    for word in case.words:
        assert word in diagnostic.message, str(diagnostic)
    assert case.hint in diagnostic.hint, str(diagnostic)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_load_puts_path_line_and_column_in_the_message(case: Case, tmp_path: Path) -> None:
    """Loading the broken text from a file prints ``path:line:column: field: message``."""
    path = tmp_path / f"{case.id}.yaml"
    path.write_text(case.text, encoding="utf-8")
    where = f"{path}:{case.line}:{case.column}: " if case.line is not None else f"{path}:"

    with pytest.raises(escalate.ScenarioError, match=re.escape(where)) as info:
        escalate.load(path)

    assert case.words[0] in str(info.value)


def test_several_mistakes_are_reported_at_once() -> None:
    """Mistakes in different sections are all listed in one error, in file order."""
    text = (
        broken("{value: 4 days, source: analyst}", "{value: 4 days, source: analst}")
        .replace("then: [north_decides]", "then: [north_decide]")
        .replace("  north_decides:\n    actor: north", "  north_decides:\n    actor: nrth")
        .replace("  talks_open: {after", "  talks_open: {colour: red, after")
        .replace('"level >= 3"', '"level >= * 3"')
    )

    with pytest.raises(escalate.ScenarioError, match="5 problems found") as info:
        escalate.loads(text, "broken.yaml")

    found = [(d.line, d.message.split(" in expression")[0]) for d in info.value.diagnostics]
    assert found == [
        (12, "unknown source 'analst'"),
        (23, "unknown event 'north_decide'"),
        (25, "unknown actor 'nrth'"),
        (29, "unknown field 'colour'"),
        (31, "unexpected '*'"),
    ]


def test_broken_event_is_not_reported_again_where_it_is_used() -> None:
    """An event with a shape error is reported once, not again as undefined where it is named."""
    text = broken("  talks_open: {after: 7 days", "  talks_open: {after: {exponential: 7}")

    with pytest.raises(escalate.ScenarioError) as info:
        escalate.loads(text, "broken.yaml")

    assert [d.path for d in info.value.diagnostics] == ["events.talks_open.after.exponential"]


def test_top_level_shape_error_does_not_hide_other_mistakes() -> None:
    """A misspelt top-level key and an undefined event are both reported."""
    text = broken("horizon: 180 days", "horizon: 180 days\ndescripton: x").replace(
        "then: [north_decides]", "then: [north_decide]"
    )

    with pytest.raises(escalate.ScenarioError) as info:
        escalate.loads(text, "broken.yaml")

    messages = [d.message for d in info.value.diagnostics]
    assert messages == ["unknown field 'descripton'", "unknown event 'north_decide'"]


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    """Loading a file that does not exist names it and says so."""
    path = tmp_path / "absent.yaml"

    with pytest.raises(escalate.ScenarioError, match=re.escape(f"{path}: no such file")):
        escalate.load(path)
