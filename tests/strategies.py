"""Hypothesis strategies: expression text, and broken variants of valid scenarios.

The scenario strategies start from :data:`VALID_SCENARIOS` and damage them the
way people and tools do: keys deleted, misspelt or given the wrong kind of
value; numbers turned into NaN, infinities or enormous integers; expressions
replaced by garbage; the text cut short or sprinkled with stray characters.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any

import yaml
from conftest import BORDER
from hypothesis import strategies as st

__all__ = [
    "VALID_SCENARIOS",
    "arithmetic",
    "expression_like",
    "mutated_scenario",
    "mutated_text",
    "random_value",
    "scenario_text",
]


STRAIT = """\
escalate: 1
name: Strait standoff
description: Patrols, a blockade and the talks that may end it.
start: 2031-06-01
horizon: 1 year
max_events: 5000
sources:
  - {id: workshop, title: "Workshop notes", author: Analysts, date: 2031-05-20}
  - {id: history, title: Past standoffs, url: "https://example.org/standoffs"}
ladder:
  - {name: calm, description: routine patrols}
  - {name: standoff}
  - {name: blockade}
  - {name: clash}
actors:
  - east
  - {name: west, label: Western coalition}
state: {level: 0, talks: false, incidents: 0, pressure: 0.5}
parameters:
  p_blockade: {value: 30%, uncertainty: {beta: {alpha: 3, beta: 7}}, source: workshop}
  p_clash: {value: 0.1, range: [0, 1], source: [workshop, history], note: rare}
  patrol_gap: {value: 2 weeks, ci90: [5 days, 30 days]}
  escalation_bias: {value: 1.5, uncertainty: {truncnormal: {mean: 1.5, sd: 0.5, low: 0}}}
  hawkish: {value: false, label: Hawkish leadership}
events:
  patrol:
    at: 2031-06-03
    actor: east
    repeat: {every: patrol_gap, while: "not talks", max: 20}
    set: {incidents: incidents + 1, level: "max(level, 1)"}
    choose: {blockade: "clip(p_blockade * escalation_bias, 0, 1)", otherwise: nothing}
  nothing: {label: No incident, after: 0}
  blockade:
    actor: east
    after: {lognormal: {median: 3 days, sigma: 0.5}}
    when: "level < 3"
    set: {level: 2, pressure: "pressure + 0.25"}
    then: [talks_start, west_responds]
  west_responds:
    actor: west
    after: {gamma: {shape: 2, mean: 4 days}}
    choose: {clash: "if(hawkish, 2 * p_clash, p_clash)", otherwise: nothing}
  talks_start:
    after: {empirical: [1 day, 3 days, 10 days]}
    set: {talks: true}
    cancels: [clash]
    then: [settlement]
  settlement: {after: {weibull: {shape: 1.5, scale: 20 days}}, end: settled}
  clash: {actor: west, after: {uniform: [1 day, 2 days]}, set: {level: 3}, end: war}
outcomes:
  any_blockade: {event: blockade, label: A blockade}
  war: {terminal: war}
  pressure_high: {when: "pressure > 1 and incidents >= 2"}
  unresolved: {terminal: horizon}
"""

#: Valid scenarios that the mutation strategies start from.
VALID_SCENARIOS = (BORDER, STRAIT)

# libyaml when present: pure-Python PyYAML would make generation slower than the test.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_VALID_DATA = tuple(yaml.load(text, Loader=_LOADER) for text in VALID_SCENARIOS)

# Words a scenario file uses, so that renamed keys and garbage look like near misses.
_WORDS = (
    "escalate", "name", "horizon", "events", "parameters", "state", "outcomes", "ladder",
    "actors", "sources", "start", "max_events", "value", "ci90", "range", "uncertainty",
    "after", "at", "when", "set", "then", "choose", "otherwise", "repeat", "every", "while",
    "max", "cancels", "end", "event", "terminal", "level", "talks", "exponential", "fixed",
    "uniform", "triangular", "lognormal", "gamma", "weibull", "empirical", "beta", "pert",
    "truncnormal", "mean", "sd", "low", "high", "alpha", "median", "sigma", "shape", "scale",
    "p_retaliate", "clash", "open_war", "talks_open", "horizon", "now", "compact",
)
_EXPRESSION_TOKENS = (
    *_WORDS, "and", "or", "not", "true", "false", "min", "max", "clip", "abs", "floor", "ceil",
    "sqrt", "exp", "log", "if", "__import__", "__class__", "lambda", "for", "in", "is", "import",
    "0", "1", "0.5", "2", "30%", "1e308", "1e999", "10**10**10", ".5", "-", "+", "*", "/", "**",
    "<", "<=", ">", ">=", "==", "!=", "(", ")", ",", "%", ".", "[", "]", "=", "&", "|", "!",
    "^", "'", '"', ":", "#", "\\", "{", "}", "@", "$", "`", "~", "?", ";", " ", "\t", "\n",
)


def expression_like() -> st.SearchStrategy[str]:
    """Text that looks like an expression: valid ones, near misses and plain garbage."""
    tokens = st.lists(st.sampled_from(_EXPRESSION_TOKENS), max_size=12)
    return st.one_of(
        tokens.map(" ".join),
        tokens.map("".join),
        st.text(max_size=40),
    )


@st.composite
def arithmetic(draw: st.DrawFn, depth: int = 3) -> tuple[str, float]:
    """An arithmetic expression over small integers and the value it must evaluate to."""
    if depth == 0 or draw(st.booleans()):
        number = draw(st.integers(min_value=0, max_value=99))
        return str(number), float(number)
    left_text, left = draw(arithmetic(depth - 1))
    right_text, right = draw(arithmetic(depth - 1))
    op = draw(st.sampled_from(["+", "-", "*", "min", "max", "neg"]))
    if op == "neg":
        return f"-({left_text})", -left
    if op in ("min", "max"):
        value = min(left, right) if op == "min" else max(left, right)
        return f"{op}({left_text}, {right_text})", value
    value = {"+": left + right, "-": left - right, "*": left * right}[op]
    return f"({left_text}) {op} ({right_text})", value


_NUMBERS = st.one_of(
    st.just(math.nan),
    st.just(math.inf),
    st.just(-math.inf),
    st.just(10**400),
    st.just(-(10**30)),
    st.integers(),
    st.floats(),
)


def _scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        _NUMBERS,
        st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)),
        st.sampled_from(_WORDS),
        st.text(max_size=30),
        expression_like(),
    )


def _collections(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    keys = st.one_of(st.sampled_from(_WORDS), st.text(max_size=10))
    return st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(keys, children, max_size=4),
    )


def random_value() -> st.SearchStrategy[Any]:
    """Any value a YAML file could hold: scalars, lists and mappings, nested a little."""
    return st.recursive(_scalars(), _collections, max_leaves=10)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``data`` (dict keys and list indices)."""
    found = []
    if isinstance(data, dict):
        items = list(data.items())
    elif isinstance(data, list):
        items = list(enumerate(data))
    else:
        return found
    for key, value in items:
        path = (*prefix, key)
        found.append(path)
        found.extend(_paths(value, path))
    return found


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


def _typo(draw: st.DrawFn, word: str) -> str:
    """A near miss of ``word``: a letter dropped, doubled, changed, or the case changed."""
    kind = draw(st.sampled_from(["drop", "double", "change", "upper", "other"]))
    if not word or kind == "other":
        return draw(st.one_of(st.sampled_from(_WORDS), st.text(max_size=10)))
    i = draw(st.integers(min_value=0, max_value=len(word) - 1))
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    if kind == "upper":
        return word.upper()
    letter = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz_"))
    return word[:i] + letter + word[i + 1:]


def _mutate(draw: st.DrawFn, data: Any) -> None:
    """Apply one random change to ``data`` in place."""
    paths = _paths(data)
    if not paths:
        return
    path = draw(st.sampled_from(paths))
    parent = _parent(data, path)
    key = path[-1]
    action = draw(st.sampled_from(
        ["delete", "rename", "retype", "replace", "number", "expression", "duplicate"]))
    if action == "delete":
        del parent[key]
    elif action == "rename" and isinstance(parent, dict):
        parent[_typo(draw, str(key))] = parent.pop(key)
    elif action == "retype":
        value = parent[key]
        parent[key] = draw(st.sampled_from(
            [[value], {"value": value}, str(value), None, True, 0, [], {}]))
    elif action == "number":
        parent[key] = draw(_NUMBERS)
    elif action == "expression":
        parent[key] = draw(expression_like())
    elif action == "duplicate" and isinstance(parent, list):
        parent.append(copy.deepcopy(parent[key]))
    else:
        parent[key] = draw(random_value())


@st.composite
def mutated_scenario(draw: st.DrawFn) -> str:
    """A valid scenario with one to three changes to its data, written back as YAML."""
    data = copy.deepcopy(draw(st.sampled_from(_VALID_DATA)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        _mutate(draw, data)
    style = draw(st.sampled_from([None, True, False]))
    return yaml.dump(data, Dumper=_DUMPER, sort_keys=False, allow_unicode=True,
                     default_flow_style=style)


@st.composite
def mutated_text(draw: st.DrawFn, base: str | None = None) -> str:
    """A scenario text (valid, or ``base``) cut short, spliced or sprinkled with characters."""
    text = base if base is not None else draw(st.sampled_from(VALID_SCENARIOS))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        at = draw(st.integers(min_value=0, max_value=len(text)))
        action = draw(st.sampled_from(["truncate", "insert", "delete", "swap-lines"]))
        if action == "truncate":
            text = text[:at]
        elif action == "insert":
            junk = draw(st.one_of(
                st.text(max_size=5),
                st.sampled_from(["\t", ":", "- ", "{", "}", "[", "]", "'", '"', "&a ", "*a",
                                 "!!python/object:os.system ", "<<: ", "\x00", "\ufeff", "#",
                                 "\n  ", "\n", "---\n", "%", "|\n", ">\n", "? "]),
            ))
            text = text[:at] + junk + text[at:]
        elif action == "delete":
            end = draw(st.integers(min_value=at, max_value=min(len(text), at + 20)))
            text = text[:at] + text[end:]
        else:
            lines = text.split("\n")
            i = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            j = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


def scenario_text() -> st.SearchStrategy[str]:
    """Broken scenario text of every kind: changed data, damaged text, or both."""
    return st.one_of(
        mutated_scenario(),
        mutated_text(),
        mutated_scenario().flatmap(lambda text: mutated_text(base=text)),
    )
