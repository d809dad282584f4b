"""Inlined expressions: one function per expression, computing what the per-node closures compute."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from conftest import BUNDLED_SCENARIOS
from hypothesis import assume, given
from strategies import expression_tree

import escalate
from escalate.spec.expressions import MAX_EXPRESSION_CHARS, ExpressionError, compile_expr, parse
from escalate.spec.inline import inline_expr

SLOTS = {"x": 0, "y": 1, "flag": 2, "now": 3}
# Ordinary values, zeros and signs that make divisions and logarithms fail, and extremes.
VALUE_LISTS = [[0.5, 2.0, True, 1.0], [0.0, -3.0, False, 0.0], [-1e300, 1e300, True, 7.0],
               [math.nan, math.inf, False, -2.5]]


def _outcome(function: Any, values: list[Any]) -> tuple[str, Any]:
    """What ``function(values)`` gives: the value (NaN made comparable), or the error and its text."""
    try:
        value = function(values)
    except (ArithmeticError, ValueError, TypeError) as exc:
        return type(exc).__name__, str(exc)
    if isinstance(value, float) and math.isnan(value):
        return "nan", type(value).__name__
    return "value", (type(value).__name__, value)


@given(text=expression_tree(depth=5, foreign=False))
def test_an_inlined_expression_gives_what_its_closure_gives(text: str) -> None:
    """The same value of the same type, or the same error with the same message, for any values."""
    assume(len(text) <= MAX_EXPRESSION_CHARS)
    try:
        tree = parse(text)
    except ExpressionError:
        assume(False)
        raise
    closure, inlined = compile_expr(tree, SLOTS), inline_expr(tree, SLOTS)
    for values in VALUE_LISTS:
        assert _outcome(inlined, values) == _outcome(closure, values), (text, values)


@pytest.mark.parametrize("text", ["flag and x / y > 1", "flag or log(x) > 0", "if(flag, 1 / y, x)"])
def test_inlined_and_or_and_if_short_circuit(text: str) -> None:
    """The operand a closure would skip is skipped: no error from it."""
    values = [0.5, 0.0, False, 0.0] if "and" in text else [-1.0, 0.0, True, 0.0]
    if text.startswith("if"):
        values = [2.0, 0.0, False, 0.0]
    assert _outcome(inline_expr(parse(text), SLOTS), values)[0] == "value"


def test_an_expression_at_the_nesting_limit_is_inlined() -> None:
    """A tree as deep as the language allows compiles to one function, not to the closures."""
    text = "-(" * 32 + "x" + ")" * 32
    function = inline_expr(parse(text), SLOTS)
    assert function.__code__.co_filename == "<expression>"
    assert function([2.0, 0.0, False, 0.0]) == 2.0  # an even number of minus signs


def test_no_text_of_the_expression_is_compiled() -> None:
    """Names become slot indices and constants bound names: the source reads nothing else."""
    function = inline_expr(parse("x * 2.5 + max(y, 1) ** 2"), SLOTS)
    assert all(re.fullmatch(r"[cf]\d+", name) for name in function.__code__.co_names)
    assert function.__code__.co_varnames == ("values",)


@pytest.mark.parametrize("path", BUNDLED_SCENARIOS, ids=[p.stem for p in BUNDLED_SCENARIOS])
def test_every_formula_of_a_bundled_scenario_inlines_to_the_same_value(path: Any) -> None:
    """Guards, updates, choices, delays and outcome conditions at the initial values."""
    compiled = escalate.load(path).compiled
    values = compiled.initial_values()
    formulas = [o.condition for o in compiled.outcomes if o.condition is not None]
    for event in compiled.events:
        formulas += [event.guard, *(u.formula for u in event.updates),
                     *(b.probability for b in event.branches),
                     *(event.delay.args if event.delay else ())]
    for formula in formulas:
        if formula is not None:
            inlined = inline_expr(formula.tree, compiled.slots)
            assert _outcome(inlined, values) == _outcome(formula.evaluate, values), formula.text
