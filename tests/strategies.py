"""Hypothesis strategies: expression text, broken variants of valid scenarios, runnable scenarios.

The broken-scenario strategies start from :data:`VALID_SCENARIOS` and damage
them the way people and tools do: keys deleted, misspelt or given the wrong
kind of value; numbers turned into NaN, infinities or enormous integers;
expressions replaced by garbage; the text cut short or sprinkled with stray
characters.  :func:`runnable_scenario` builds valid scenarios over the whole
language that run without errors, for comparing the engines.
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
    "column_like_name",
    "condition_expression",
    "expression_like",
    "expression_tree",
    "mutated_scenario",
    "mutated_text",
    "number_expression",
    "random_value",
    "runnable_scenario",
    "scenario_text",
    "sweep_columns",
    "token_soup",
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


# --- runnable scenarios over the whole language, for the differential tests -------------------

_GUARDS = ["not flag", "x < 2", "level < 3", "flag or count >= 1", "count < 2 and x >= 0",
           "now < 5", "if(flag, x > 1, true)"]
_UPDATES: list[dict[str, Any]] = [
    {"x": "x + 1"}, {"flag": "not flag"}, {"level": "min(level + 1, 4)"}, {"count": "count + 1"},
    {"level": "max(level, 2)"}, {"x": "if(flag, x * 2, x + 0.5)"},
    {"count": "count + 1", "x": "x + count"}, {"level": "clip(level + count, 0, 4)"},
]
_DELAYS: list[Any] = [
    {"exponential": {"mean": 1.5}}, {"exponential": {"mean": "m"}},
    {"exponential": {"mean": "m * (1 + count)"}}, {"uniform": [0, 2]}, {"uniform": [1, "1 + m"]},
    {"triangular": [0, 1, 4]}, {"lognormal": {"median": "m", "sigma": 0.6}},
    {"lognormal": {"median": 1, "sigma": 1.2}}, {"gamma": {"shape": 0.5, "mean": 1}},
    {"gamma": {"shape": 3, "mean": "m"}}, {"weibull": {"shape": 0.8, "scale": 2}},
    {"weibull": {"shape": 2.5, "scale": "m + x"}}, {"empirical": [0.5, 1, 4]},
    {"fixed": "m"}, 1.25, None,
]
_FIXED_DELAYS: list[Any] = [1, 2.5, "m", "1 + count", {"empirical": [1.5]}, {"fixed": 0.5}, None]
_REPEAT_DELAYS: list[Any] = [1, {"exponential": {"mean": 2}}, {"uniform": [0.5, 1.5]},
                             {"gamma": {"shape": 2, "mean": "m"}}]


@st.composite
def runnable_scenario(draw: st.DrawFn, deterministic: bool = False) -> str:
    """The text of a valid scenario that runs without run-time errors.

    It mixes choices (with and without ``otherwise``, probabilities that are
    expressions), guards, updates of every kind of state, repeats (``every``,
    ``max``, ``while``), cancels, ends, roots at the same instant, every delay
    distribution (arguments that are expressions too), uncertain parameters
    and a random horizon.  With ``deterministic``, every delay is fixed and
    every probability 0 or 1, so both engines must give identical replications.
    """
    count = draw(st.integers(min_value=3, max_value=7))
    names = [f"e{i}" for i in range(count)]
    parent = {i: draw(st.integers(min_value=0, max_value=i - 1)) for i in range(1, count)}
    second_root = draw(st.sampled_from([None, *range(1, count)]))
    children: dict[int, list[int]] = {i: [] for i in range(count)}
    for child, up in parent.items():
        if child != second_root:
            children[up].append(child)
    delays = _FIXED_DELAYS if deterministic else _DELAYS
    events: dict[str, Any] = {}
    terminals: list[str] = []
    for i in range(count):
        event: dict[str, Any] = {}
        if i == 0:
            event["at"] = 0
        elif i == second_root:
            event["at"] = draw(st.sampled_from([0, 1, 2.5]))
        else:
            delay = draw(st.sampled_from(delays))
            if delay is not None:
                event["after"] = delay
        if draw(st.booleans()):
            event["when"] = draw(st.sampled_from(_GUARDS))
        updates = draw(st.lists(st.sampled_from(_UPDATES), max_size=2))
        if updates:
            event["set"] = {k: v for update in updates for k, v in update.items()}
        kids = children[i]
        forward = [j for j in range(i + 1, count) if j not in kids and j != second_root]
        extra = draw(st.lists(st.sampled_from(forward), max_size=1, unique=True)) if forward else []
        chosen = draw(st.lists(st.sampled_from(kids), unique=True)) if kids else []
        then = [j for j in kids if j not in chosen] + extra
        if not then and not chosen and draw(st.booleans()):
            event["end"] = terminals_label = draw(st.sampled_from(["peace", "war"]))
            terminals.append(terminals_label)
        else:
            if then:
                event["then"] = [names[j] for j in then]
            if chosen:
                event["choose"] = _choices(draw, [names[j] for j in chosen], deterministic)
            if draw(st.booleans()):
                repeat: dict[str, Any] = {"every": draw(st.sampled_from(
                    [1, 2] if deterministic else _REPEAT_DELAYS))}
                if draw(st.booleans()):
                    repeat["max"] = draw(st.integers(min_value=1, max_value=4))
                if draw(st.booleans()):
                    repeat["while"] = draw(st.sampled_from(_GUARDS))
                event["repeat"] = repeat
        if draw(st.booleans()) and count > 1:
            event["cancels"] = [names[draw(st.sampled_from([j for j in range(count) if j != i]))]]
        events[names[i]] = event
    outcomes: dict[str, Any] = {
        "high": {"when": "level >= 2"},
        "grown": {"when": "x >= 2"},
        "censored": {"terminal": "horizon"},
    }
    for j in draw(st.lists(st.sampled_from(range(count)), min_size=1, max_size=3, unique=True)):
        outcomes[f"fired_{names[j]}"] = {"event": names[j]}
    for label in sorted(set(terminals)):
        outcomes[f"ended_{label}"] = {"terminal": label}
    data = {
        "escalate": 1,
        "name": "generated",
        "horizon": draw(st.sampled_from([5, 12, 30, 60])),
        "max_events": draw(st.sampled_from([60, 400])),
        "ladder": ["calm", "tension", "clash", "strike", "war"],
        "state": {"level": 0, "flag": False, "x": 0.0, "count": 0},
        "parameters": {
            "p": {"value": draw(st.sampled_from([0.1, 0.35, 0.8])), "ci90": [0.05, 0.9]},
            "m": {"value": draw(st.sampled_from([0.5, 1.5, 3.0])), "ci90": [0.3, 4.0]},
        },
        "events": events,
        "outcomes": outcomes,
    }
    return yaml.safe_dump(data, sort_keys=False)


def _choices(draw: st.DrawFn, targets: list[str], deterministic: bool) -> dict[str, Any]:
    """Branch probabilities that never sum above one, with or without ``otherwise``."""
    otherwise = targets[-1] if len(targets) > 1 and draw(st.booleans()) else None
    weighted = targets[:-1] if otherwise else targets
    share = len(weighted)
    choose: dict[str, Any] = {}
    if deterministic:
        winner = draw(st.sampled_from([*weighted, None]))
        choose = {t: int(t == winner) for t in weighted}
    else:
        for target in weighted:
            choose[target] = draw(st.sampled_from([
                round(0.9 / share, 3), f"p / {share}", f"if(flag, 0.2, 0.7) / {share}",
                f"min(p + x / 10, 1) / {share}", round(0.3 / share, 3)]))
    if otherwise:
        choose["otherwise"] = otherwise
    return choose


# --- expressions over the whole language, for comparing array and scalar evaluation --------------

_NUMBER_LEAVES = ["x", "y", "0", "1", "2.5", "-3", "0.5"]
_UNARY = ["abs", "floor", "ceil", "sqrt", "exp", "log"]


@st.composite
def number_expression(draw: st.DrawFn, depth: int = 3) -> str:
    """A number-valued expression over the numbers ``x`` and ``y`` and the condition ``flag``.

    Every operator and function appears, including those that fail for some
    values (division, powers, ``sqrt``, ``log``, ``exp``, ``floor``); powers
    have small exponents, so that whole-number bases stay within float range.
    """
    if depth == 0 or draw(st.integers(min_value=0, max_value=3)) == 0:
        return draw(st.sampled_from(_NUMBER_LEAVES))
    kind = draw(st.sampled_from(["+", "-", "*", "/", "**", "neg", "min", "max", "clip", "unary",
                                 "if"]))
    left = draw(number_expression(depth - 1))
    right = draw(number_expression(depth - 1))
    if kind == "**":
        return f"({left}) ** {draw(st.sampled_from(['2', '0.5', '-1', 'y', '(-y)']))}"
    if kind == "neg":
        return f"-({left})"
    if kind in ("min", "max"):
        return f"{kind}({left}, {right})"
    if kind == "clip":
        return f"clip({left}, {right}, {draw(number_expression(depth - 1))})"
    if kind == "unary":
        return f"{draw(st.sampled_from(_UNARY))}({left})"
    if kind == "if":
        return f"if({draw(condition_expression(depth - 1))}, {left}, {right})"
    return f"({left}) {kind} ({right})"


@st.composite
def condition_expression(draw: st.DrawFn, depth: int = 2) -> str:
    """A condition over ``x``, ``y`` and ``flag``: comparisons, ``and``, ``or``, ``not``."""
    if depth == 0 or draw(st.integers(min_value=0, max_value=3)) == 0:
        return draw(st.sampled_from(["flag", "true", "false", "x > 0", "y == 0"]))
    kind = draw(st.sampled_from(["compare", "and", "or", "not"]))
    if kind == "compare":
        op = draw(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]))
        return f"({draw(number_expression(depth - 1))}) {op} ({draw(number_expression(depth - 1))})"
    if kind == "not":
        return f"not ({draw(condition_expression(depth - 1))})"
    return (f"({draw(condition_expression(depth - 1))}) {kind} "
            f"({draw(condition_expression(depth - 1))})")


# -- expression text: token soups and rendered syntax trees -------------------------------------

# Pieces of text that stress the tokenizer: runs that nest deeply, numbers too long or too
# large for a float, Unicode digits and letters, invisible and control characters.
_SOUP_TOKENS = (
    *_EXPRESSION_TOKENS, "x", "y", "flag", "((((((((", "))))))))", "--------", "not not not",
    "**-", "9" * 320, "1e99999", "0x1F", "1_000", "1e", "1.e5", "5.", "\u0663", "\uff11",
    "\u00e9", "\u200b", "\x00", "\U0001d465", "__", "_", "x_1", "x.y", "()", "(,)", "%%",
    "e10", "E", "inf", "nan", "None", "True", "print", "eval", "open", "getattr",
)
_SEPARATORS = ("", " ", " ", "  ", "\t", "\n")


def token_soup() -> st.SearchStrategy[str]:
    """Up to 400 tokens of the expression language and of others, joined by random spacing."""
    pieces = st.tuples(st.sampled_from(_SOUP_TOKENS), st.sampled_from(_SEPARATORS))
    return st.lists(pieces, max_size=400).map(lambda items: "".join(t + s for t, s in items))


_NAMES = ("x", "y", "flag", "now")
_FOREIGN_NAMES = ("__import__", "__class__", "__builtins__", "_", "os", "lambda", "import",
                  "for", "in", "is", "None", "True")
_BINARY = ("+", "-", "*", "/", "**", "<", "<=", ">", ">=", "==", "!=", "and", "or")
_FOREIGN_BINARY = ("%", "//", "@", "&", "|", "^", "<<", "is", "in", "=", ":=", "<>")


def _spaced(draw: st.DrawFn, *parts: str) -> str:
    """Join ``parts`` with random spacing (none at all only where it keeps words apart)."""
    text = parts[0]
    for part in parts[1:]:
        glue = draw(st.sampled_from(_SEPARATORS))
        if not glue and text[-1:].isalnum() and part[:1].isalnum():
            glue = " "
        text += glue + part
    return text


@st.composite
def _leaf(draw: st.DrawFn, foreign: bool) -> str:
    choices = [
        st.sampled_from(_NAMES),
        st.sampled_from(["true", "false", "0", "1", "0.5", "30%", ".25", "1e-3", "2.5e+2"]),
        st.integers(min_value=0, max_value=10**6).map(str),
        st.floats(min_value=0, max_value=1e300, allow_nan=False).map(repr),
    ]
    if foreign:
        choices += [st.sampled_from(_FOREIGN_NAMES),
                    st.sampled_from(["1e999", "9" * 320, "'os'", '"x"', "[]", "{}", "...",
                                     "0x10", "1j", "\u0663", "\u00e9"])]
    return draw(st.one_of(*choices))


@st.composite
def expression_tree(draw: st.DrawFn, depth: int = 5, foreign: bool = True) -> str:
    """A random syntax tree rendered as text, with nodes of Python that the language lacks.

    With ``foreign`` off, only the language's own constructs appear and the
    text always parses: binary operations and calls with the right number of
    arguments, every operand parenthesised, and powers whose exponent is small
    (so no constant power overflows).
    """
    if depth == 0 or draw(st.integers(min_value=0, max_value=4)) == 0:
        return draw(_leaf(foreign))
    kinds = ["binary", "unary", "not", "call", "paren"]
    if foreign:
        kinds += ["foreign binary", "attribute", "subscript", "lambda", "comprehension",
                  "conditional", "chain", "keyword call", "foreign call", "bare"]
    kind = draw(st.sampled_from(kinds))

    def child() -> str:
        return draw(expression_tree(depth - 1, foreign))

    if kind == "binary":
        op = draw(st.sampled_from(_BINARY))
        if op == "**" and not foreign:
            return _spaced(draw, "(", draw(st.sampled_from(_NAMES)), ")", "**",
                           draw(st.sampled_from(["2", "0.5", "(-1)", "y"])))
        return _spaced(draw, "(", child(), ")", op, "(", child(), ")")
    if kind == "unary":
        return _spaced(draw, draw(st.sampled_from(["-", "+"])), "(", child(), ")")
    if kind == "not":
        return _spaced(draw, "not", "(", child(), ")")
    if kind == "call":
        name = draw(st.sampled_from(sorted(_ARITY)))
        low, high = _ARITY[name]
        count = draw(st.integers(min_value=low, max_value=high))
        if foreign:
            count = draw(st.integers(min_value=0, max_value=4))
        args = ", ".join(child() for _ in range(count))
        return _spaced(draw, name, "(", args or "", ")") if args else f"{name}()"
    if kind == "paren":
        return _spaced(draw, "(", child(), ")")
    if kind == "foreign binary":
        return _spaced(draw, child(), draw(st.sampled_from(_FOREIGN_BINARY)), child())
    if kind == "attribute":
        return f"{child()}.{draw(st.sampled_from(['real', '__class__', '__globals__', 'x']))}"
    if kind == "subscript":
        return f"{child()}[{child()}]"
    if kind == "lambda":
        return _spaced(draw, "lambda", ":", child())
    if kind == "comprehension":
        return _spaced(draw, "[", child(), "for", "x", "in", child(), "]")
    if kind == "conditional":
        return _spaced(draw, child(), "if", child(), "else", child())
    if kind == "chain":
        return _spaced(draw, child(), "<", child(), "<", child())
    if kind == "keyword call":
        return f"min(x={child()})"
    if kind == "foreign call":
        name = draw(st.sampled_from(["eval", "exec", "open", "getattr", "__import__", "print"]))
        return f"{name}({child()})"
    return _spaced(draw, child(), child())  # two operands with nothing between them


# Arity of the functions, as the language documents them (min and max take one or more).
_ARITY = {"min": (1, 3), "max": (1, 3), "clip": (3, 3), "abs": (1, 1), "floor": (1, 1),
          "ceil": (1, 1), "sqrt": (1, 1), "exp": (1, 1), "log": (1, 1), "if": (3, 3)}


# --- sweep points, for checking them all at once against one at a time ------------------------

#: values at and around the edges that point checks test: zero of either sign, the ends of
#: [0, 1], negatives and values beyond 1
_EDGE_VALUES = [-1.0, -0.0, 0.0, 1e-12, 0.05, 0.3, 0.5, 0.7, 1.0, 1.0 + 1e-10, 1.5, 4.0]


@st.composite
def sweep_columns(draw: st.DrawFn, names: list[str]) -> dict[str, list[float]]:
    """Columns of a list design over some of ``names``, one to twelve points.

    Values come mostly from a few edge cases, so that points often share
    some of their values, and otherwise from anywhere in [-2, 5]; no point is
    listed twice, as a list design refuses that.
    """
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
    value = st.one_of(st.sampled_from(_EDGE_VALUES),
                      st.floats(min_value=-2, max_value=5, allow_nan=False))
    rows = draw(st.lists(st.tuples(*(value for _ in chosen)), min_size=1, max_size=12,
                         unique=True))
    return {name: [row[k] for row in rows] for k, name in enumerate(chosen)}


# --- outcome and parameter names made of the words of column names ------------------------

_COLUMN_WORDS = ("war", "day", "max", "level", "param", "p", "lo", "hi", "end", "point",
                 "status", "error", "median", "p05", "p95", "terminal", "path", "id", "x")


def column_like_name() -> st.SearchStrategy[str]:
    """An identifier made of the words that output columns are made of (``war_day``, ``max_level``)."""
    return st.lists(st.sampled_from(_COLUMN_WORDS), min_size=1, max_size=3).map("_".join)
