"""The expression language: parsing, precedence, typing, evaluation and what it refuses."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import given
from strategies import arithmetic, expression_like

from escalate.spec.expressions import (
    FUNCTIONS,
    MAX_EXPRESSION_CHARS,
    MAX_EXPRESSION_DEPTH,
    ExpressionError,
    infer_type,
    parse,
    scalar_evaluator,
)

TYPES: dict[str, Any] = {"level": "number", "talks": "bool", "p": "number", "now": "number"}
SLOTS = {"level": 0, "talks": 1, "p": 2, "now": 3}
VALUES = (2.0, True, 0.25, 10.0)


def evaluate(text: str, values: Sequence[Any] = VALUES) -> Any:
    """Parse, type-check and evaluate ``text`` with level=2, talks=true, p=0.25, now=10."""
    tree = parse(text)
    infer_type(tree, TYPES)
    return scalar_evaluator(tree, SLOTS)(list(values))


def parse_error(text: str) -> ExpressionError:
    """Return the error that parsing ``text`` raises."""
    with pytest.raises(ExpressionError) as info:
        parse(text)
    return info.value


def type_error(text: str) -> ExpressionError:
    """Return the error that type-checking ``text`` raises."""
    tree = parse(text)
    with pytest.raises(ExpressionError) as info:
        infer_type(tree, TYPES)
    return info.value


# --- precedence and associativity --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 + 2 * 3", 7.0),
        ("(1 + 2) * 3", 9.0),
        ("10 - 2 - 3", 5.0),
        ("8 / 4 / 2", 1.0),
        ("2 ** 3 ** 2", 512.0),
        ("-2 ** 2", -4.0),
        ("2 ** -1", 0.5),
        ("--3", 3.0),
        ("+3", 3.0),
        ("1 + 1 == 2", True),
        ("level * 2 > 3 + p", True),
        ("not talks or level > 1", True),
        ("not (talks or level > 1)", False),
        ("talks or level > 5 and false", True),
        ("(talks or level > 5) and false", False),
        ("level >= 2 and level <= 2 and level != 3", True),
    ],
)
def test_operators_bind_in_the_documented_order(text: str, expected: Any) -> None:
    """Powers bind tightest (right to left), then unary minus, products, sums, comparisons,
    not, and, or."""
    assert evaluate(text) == expected


@given(case=arithmetic())
def test_arithmetic_agrees_with_a_direct_computation(case: tuple[str, float]) -> None:
    """Nested sums, differences, products, negations, min and max give the exact value."""
    text, expected = case

    assert evaluate(text) == expected


# --- literals ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("3", 3.0), ("0.5", 0.5), (".5", 0.5), ("2.", 2.0), ("1e3", 1000.0), ("1E-2", 0.01),
     ("true", True), ("false", False)],
)
def test_number_and_boolean_literals(text: str, expected: Any) -> None:
    """Numbers in the usual forms, and true/false, are literals."""
    assert parse(text).constant() == expected


@pytest.mark.parametrize(("text", "expected"), [("30%", 0.3), ("2.5%", 0.025), ("100%", 1.0)])
def test_percent_literal_divides_by_one_hundred(text: str, expected: float) -> None:
    """A number written directly before % is a percentage."""
    assert parse(text).constant() == pytest.approx(expected)


def test_percent_works_inside_arithmetic() -> None:
    """A percentage is an ordinary number in a larger expression."""
    assert evaluate("50% * level + 10%") == pytest.approx(1.1)


def test_percent_sign_apart_from_its_number_is_refused() -> None:
    """``30 %`` is not a percentage, and there is no modulo operator."""
    error = parse_error("30 %")

    assert error.message == "unexpected '%' after a complete expression"
    assert error.offset == 3
    assert "no modulo" in error.hint


def test_constant_of_a_negated_number() -> None:
    """A negated literal counts as a constant; anything with an operator does not."""
    assert parse("-3").constant() == -3.0
    assert parse("1 + 2").constant() is None
    assert parse("level").constant() is None


def test_names_lists_every_name_read() -> None:
    """``names()`` finds names inside calls, operators and negations."""
    assert parse("max(level, -p) + if(talks, now, 1)").names() == {"level", "p", "talks", "now"}


def test_operator_node_keeps_its_offset() -> None:
    """Each node records where its operator or token starts in the text."""
    tree = parse("level + p")

    assert (tree.kind, tree.value, tree.offset) == ("op", "+", 6)
    assert [arg.offset for arg in tree.args] == [0, 8]


# --- functions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("min(3, level, 5)", 2.0),
        ("max(1)", 1.0),
        ("max(level, 3, p)", 3.0),
        ("clip(level, 0, 1)", 1.0),
        ("clip(-1, 0, 1)", 0.0),
        ("abs(-level)", 2.0),
        ("floor(2.7)", 2),
        ("ceil(2.1)", 3),
        ("sqrt(16)", 4.0),
        ("exp(0)", 1.0),
        ("log(exp(2))", 2.0),
        ("if(talks, 1, 2)", 1.0),
        ("if(level > 5, 1, 2)", 2.0),
        ("if(talks, level > 1, false)", True),
    ],
)
def test_functions_compute_their_values(text: str, expected: Any) -> None:
    """Each function in FUNCTIONS gives the usual mathematical result."""
    assert evaluate(text) == pytest.approx(expected)


def test_if_evaluates_only_the_branch_taken() -> None:
    """``if`` does not evaluate the other branch, so it can guard a division."""
    assert evaluate("if(level > 0, 1 / level, 1 / 0)") == 0.5


def test_and_or_short_circuit() -> None:
    """``and`` and ``or`` stop once the answer is known."""
    assert evaluate("false and 1 / 0 > 1") is False
    assert evaluate("true or 1 / 0 > 1") is True


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("clip(1, 2)", r"clip\(\) takes 3 argument\(s\), got 2"),
        ("if(true, 1)", r"if\(\) takes 3 argument\(s\), got 2"),
        ("abs(1, 2)", r"abs\(\) takes 1 argument\(s\), got 2"),
        ("min()", r"min\(\) takes at least 1 argument\(s\), got 0"),
    ],
)
def test_wrong_number_of_arguments(text: str, message: str) -> None:
    """A call with too few or too many arguments names the function and the counts."""
    with pytest.raises(ExpressionError, match=message):
        parse(text)


def test_unknown_function_lists_the_known_ones() -> None:
    """Calling a function that does not exist lists the ones that do."""
    error = parse_error("level + round(p)")

    assert error.message == "unknown function 'round'"
    assert error.offset == 8
    assert error.hint == "functions: " + ", ".join(sorted(FUNCTIONS))


# --- syntax errors and their offsets ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("1 +", "the expression ends too early", 3),
        ("level or", "the expression ends too early", 8),
        ("(1 + 2", "expected ')', found the end of the expression", 6),
        ("max(1, 2", "expected ')', found the end of the expression", 8),
        ("1 2", "unexpected '2' after a complete expression", 2),
        ("max(1,)", "unexpected ')'", 6),
        ("1 +* 2", "unexpected '*'", 3),
        ("and talks", "'and' needs a value before it", 0),
        ("level < p < 1", "chained comparisons are not allowed", 10),
        ("", "the expression is empty", 0),
        ("   ", "the expression is empty", 0),
        ("1e999", "the number 1e999 is too large", 0),
    ],
)
def test_syntax_error_gives_message_and_offset(text: str, message: str, offset: int) -> None:
    """A syntax error says what was wrong and where, as a 0-based offset into the text."""
    error = parse_error(text)

    assert (error.message, error.offset) == (message, offset)


def test_unbalanced_parenthesis_has_a_hint() -> None:
    """A closing parenthesis too many is pointed at, with a hint saying so."""
    error = parse_error("max(level, 3))")

    assert error.offset == 13
    assert "without its `(`" in error.hint


def test_expression_length_is_limited() -> None:
    """An expression longer than the limit is refused before parsing."""
    with pytest.raises(ExpressionError, match="the limit is 2,000"):
        parse("1" * (MAX_EXPRESSION_CHARS + 1))


@pytest.mark.parametrize(
    "text",
    [
        "(" * 100 + "1" + ")" * 100,
        "-" * 100 + "1",
        "not " * 100 + "true",
        "max(" * 70 + "1" + ")" * 70,
    ],
    ids=["parentheses", "minus", "not", "calls"],
)
def test_nesting_depth_is_limited(text: str) -> None:
    """Deep nesting of any kind is refused with a message, not a RecursionError."""
    with pytest.raises(ExpressionError, match=f"nested more than {MAX_EXPRESSION_DEPTH} levels"):
        parse(text)


# --- rejected constructs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "offset", "hint"),
    [
        ("__import__", "the name '__import__' is not allowed", 0, "reserved"),
        ("level + __class__", "the name '__class__' is not allowed", 8, "reserved"),
        ("level.real", "unexpected character '.'", 5, "attribute access"),
        ("x[0]", "unexpected character '['", 1, "indexing"),
        ("level = 1", "unexpected character '='", 6, "use =="),
        ("talks && true", "unexpected character '&'", 6, "write `and`"),
        ("talks || true", "unexpected character '|'", 6, "write `or`"),
        ("!talks", "unexpected character '!'", 0, "write `not`"),
        ("2 ^ 3", "unexpected character '^'", 2, "write **"),
        ("'text'", "unexpected character \"'\"", 0, "strings"),
        ('"text"', "unexpected character '\"'", 0, "strings"),
        ("lambda: 1", "'lambda' is not allowed", 0, "lambdas"),
        ("x for x in y", "'for' is not allowed", 2, "comprehensions"),
        ("level is 1", "'is' is not allowed", 6, "use == and !="),
        ("import os", "'import' is not allowed", 0, "imports"),
        ("level; 1", "unexpected character ';'", 5, ""),
    ],
)
def test_python_constructs_are_refused(text: str, message: str, offset: int, hint: str) -> None:
    """Attribute access, indexing, dunders, strings, lambdas and the like are syntax errors."""
    error = parse_error(text)

    assert (error.message, error.offset) == (message, offset)
    assert hint in error.hint


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("10**10**10", "the exponent 1e+10 is too large", 2),
        ("2 ** 1001", "the exponent 1001 is too large", 2),
        ("level ** 5000", "the exponent 5000 is too large", 6),
        ("10 ** 400", "10 ** 400 cannot be computed", 3),
        ("0 ** -1", "0 ** -1 cannot be computed", 2),
        ("(-8) ** 0.5", "(-8) ** 0.5 is not a real number", 5),
    ],
)
def test_constant_powers_that_overflow_are_refused(text: str, message: str, offset: int) -> None:
    """Powers of literals that overflow or are not real are refused when parsed, not run."""
    error = parse_error(text)

    assert (error.message, error.offset) == (message, offset)


def test_large_but_finite_constant_power_is_allowed() -> None:
    """A literal power with a finite result is an ordinary number."""
    assert evaluate("2 ** 1000") == 2.0**1000


@given(text=expression_like())
def test_parse_raises_only_expression_error(text: str) -> None:
    """Any text either parses or raises ExpressionError with an offset inside the text."""
    try:
        tree = parse(text)
    except ExpressionError as exc:
        error = exc
    else:
        assert tree.kind in ("num", "bool", "name", "neg", "not", "op", "call")
        return
    assert error.message
    assert 0 <= error.offset <= len(text)


@given(text=expression_like())
def test_type_check_raises_only_expression_error(text: str) -> None:
    """Any expression that parses either type-checks or raises ExpressionError."""
    try:
        tree = parse(text)
    except ExpressionError:
        return
    try:
        found = infer_type(tree, TYPES)
    except ExpressionError as exc:
        error = exc
    else:
        assert found in ("number", "bool")
        return
    assert error.message
    assert 0 <= error.offset <= len(text)


# --- types -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("level + 1", "number"),
        ("level > 1", "bool"),
        ("talks", "bool"),
        ("not talks", "bool"),
        ("talks == false", "bool"),
        ("max(level, p)", "number"),
        ("if(talks, level, p)", "number"),
        ("if(talks, talks, level > 1)", "bool"),
        ("30%", "number"),
    ],
)
def test_types_are_inferred(text: str, expected: str) -> None:
    """Arithmetic and functions give numbers; comparisons, logic and booleans give bools."""
    assert infer_type(parse(text), TYPES) == expected


@pytest.mark.parametrize(
    ("text", "message", "offset"),
    [
        ("level + talks", "+ needs a number, but this is a bool", 8),
        ("-talks", "- needs a number, but this is a bool", 1),
        ("talks < 1", "< needs a number, but this is a bool", 0),
        ("not level", "not needs a bool, but this is a number", 4),
        ("level and talks", "and needs a bool, but this is a number", 0),
        ("talks or p", "or needs a bool, but this is a number", 9),
        ("level == talks", "== compares a number with a bool", 6),
        ("max(level, talks)", "max() needs a number, but this is a bool", 11),
        ("if(level, 1, 2)", "if() needs a bool, but this is a number", 3),
        ("if(talks, 1, false)", "if() gives a number in one branch and a bool in the other", 0),
        ("level + missing", "unknown name 'missing'", 8),
    ],
)
def test_type_errors_point_at_the_offending_part(text: str, message: str, offset: int) -> None:
    """A type mistake names the operator, what it needs and what it got, at the operand."""
    error = type_error(text)

    assert (error.message, error.offset) == (message, offset)


# --- evaluation errors -------------------------------------------------------------------------


def test_division_by_zero_surfaces_when_run() -> None:
    """Division by zero is an ArithmeticError when the closure runs, not when it is built."""
    tree = parse("1 / (level - 2)")
    function = scalar_evaluator(tree, SLOTS)

    with pytest.raises(ZeroDivisionError):
        function(list(VALUES))


def test_log_of_a_negative_surfaces_when_run() -> None:
    """The log of a negative is a ValueError naming the value when the closure runs."""
    with pytest.raises(ValueError, match=r"log\(-2\) is not defined: log needs a value above 0"):
        evaluate("log(0 - level)")


def test_fractional_power_of_a_negative_state_value_is_a_value_error() -> None:
    """A power that would be complex is refused with a ValueError naming the numbers."""
    with pytest.raises(ValueError, match=r"-2 \*\* 0.5 is not a real number"):
        evaluate("(0 - level) ** 0.5")


def test_closure_reads_current_slot_values() -> None:
    """The compiled closure reads values by slot, so one closure serves every replication."""
    function = scalar_evaluator(parse("level * p + now"), SLOTS)

    assert function([2.0, True, 0.25, 10.0]) == 10.5
    assert function([4.0, False, 0.5, 0.0]) == 2.0


def test_literal_closure_ignores_values() -> None:
    """A literal compiles to a closure that returns it whatever the state."""
    assert scalar_evaluator(parse("30%"), SLOTS)([]) == pytest.approx(0.3)


def test_nan_propagates_through_arithmetic() -> None:
    """Arithmetic on a NaN state value gives NaN rather than raising."""
    assert math.isnan(evaluate("level + 1", (math.nan, True, 0.25, 0.0)))


def test_duration_inside_an_expression_is_explained_with_the_number_of_days() -> None:
    """``gap + 2 days`` points at the duration and rewrites the expression in days."""
    error = parse_error("gap + 2 days")

    assert error.message == "a duration ('2 days') where a number of days is wanted"
    assert error.offset == 6
    assert "a duration such as `2 days` is a value on its own" in error.hint
    assert error.hint.endswith("write `gap + 2`")


@pytest.mark.parametrize(
    ("text", "rewritten"),
    [
        ("level + 36 h", "level + 1.5"),
        ("max(1 day, 2 weeks)", "max(1, 14)"),
        ("2 days * p", "2 * p"),
        ("2 days 3 hours + p", "2.125 + p"),
        ("x2 + 1 week", "x2 + 7"),
    ],
)
def test_every_duration_in_the_hint_is_written_in_days(text: str, rewritten: str) -> None:
    """The hint converts each duration of the expression, whatever its unit and place."""
    assert parse_error(text).hint.endswith(f"write `{rewritten}`")


@pytest.mark.parametrize(
    ("text", "spellings"),
    [
        ("2 days 3 hours", "`51 hours` or `2.125 days`"),
        ("3h 30min", "`210 minutes` or `3.5 hours`"),
        ("1 week 2 days", "`9 days`"),
        ("1 month 2 weeks", "`44.4375 days`"),
    ],
)
def test_durations_in_a_row_are_spelt_as_one(text: str, spellings: str) -> None:
    """``2 days 3 hours`` is one length of time, and the hint writes it as one duration."""
    error = parse_error(text)

    assert error.message == "durations cannot be added by writing them one after another"
    assert error.offset == 0
    assert error.hint == f"a duration is one number and one unit: write {spellings}"


def test_a_word_after_a_number_that_is_no_unit_is_an_ordinary_syntax_error() -> None:
    """Only time units get the duration hint; other words after a number do not."""
    error = parse_error("2 fortnights")

    assert error.message == "unexpected 'fortnights' after a complete expression"
