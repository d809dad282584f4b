"""Fuzzing the expression language: any text parses or fails with ExpressionError, nothing else.

Token soups and random syntax trees (with Python constructs the language
lacks) are rendered to text.  Parsing either succeeds or raises
:class:`ExpressionError` with an offset inside the text; what parses
type-checks or raises ExpressionError; what type-checks compiles for both
engines and evaluates to a value or to the arithmetic errors a run reports.
Trees of the language itself always parse, and print back to the same tree.
The number of examples comes from the Hypothesis profile (``conftest.py``:
``HYPOTHESIS_PROFILE=large`` for a long run).
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
from hypothesis import assume, example, given
from strategies import expression_tree, token_soup

from escalate.engine.batch.lowering import lower_to_arrays
from escalate.spec.expressions import (
    MAX_EXPRESSION_CHARS,
    Expr,
    ExpressionError,
    infer_type,
    parse,
    scalar_evaluator,
)

TYPES: dict[str, Any] = {"x": "number", "y": "number", "flag": "bool", "now": "number"}
SLOTS = {"x": 0, "y": 1, "flag": 2, "now": 3}
VALUES = [0.5, 2.0, True, 1.0]
# The same values in columns of three replications, as the batch engine holds them.
COLUMNS = [np.array([0.5, -3.0, 0.0]), np.array([2.0, 0.0, 1e300]),
           np.array([True, False, True]), np.array([1.0, 1.0, 1.0])]
# A left-deep sum within the length limit: its tree is far deeper than any nesting allowed.
LONG_SUM = "+".join(["x"] * 1000)


def _parse_or_error(text: str) -> Expr | None:
    """Parse ``text``; an ExpressionError is fine if its offset lies inside the text."""
    try:
        return parse(text)
    except ExpressionError as caught:
        error = caught
    assert error.message, text
    assert 0 <= error.offset <= len(text), (error.offset, len(text), error.message)
    return None


def _check_downstream(tree: Expr) -> None:
    """Type-check, compile for both engines and evaluate, allowing only the documented errors."""
    try:
        infer_type(tree, TYPES)
    except ExpressionError as caught:
        error = caught
        assert error.message
        return
    scalar = scalar_evaluator(tree, SLOTS)
    vector = lower_to_arrays(tree, SLOTS, {})
    # A run reports these as the replication's error (ArrayEvaluationError names the rows).
    with contextlib.suppress(ArithmeticError, ValueError):
        scalar(VALUES)
    with np.errstate(all="ignore"), contextlib.suppress(ArithmeticError):
        vector(COLUMNS, np.arange(3))


@given(text=token_soup())
@example(text=LONG_SUM)
@example(text="+".join(["x"] * 450))
@example(text="(" * 2000)
@example(text="-" * 1999 + "x")
@example(text="9" * 1999)
def test_a_token_soup_parses_or_raises_expression_error_inside_the_text(text: str) -> None:
    """However the tokens fall, parsing ends in a tree or an ExpressionError placed in the text."""
    tree = _parse_or_error(text)
    if tree is not None:
        _check_downstream(tree)


@given(text=expression_tree())
@example(text="__import__('os').system('true')")
@example(text="[c for c in ().__class__.__bases__[0].__subclasses__()]")
@example(text="(lambda: 1)()")
@example(text="10**10**10")
def test_a_random_syntax_tree_parses_or_raises_expression_error_inside_the_text(
        text: str) -> None:
    """Trees with attribute access, lambdas, comprehensions and foreign operators never escape."""
    tree = _parse_or_error(text)
    if tree is not None:
        _check_downstream(tree)


def _render(tree: Expr) -> str:
    """Print a parsed tree back as text, every operand in parentheses."""
    if tree.kind == "num":
        return repr(tree.value)
    if tree.kind == "bool":
        return "true" if tree.value else "false"
    if tree.kind == "name":
        return str(tree.value)
    if tree.kind == "neg":
        return f"-({_render(tree.args[0])})"
    if tree.kind == "not":
        return f"not ({_render(tree.args[0])})"
    if tree.kind == "op":
        left, right = (_render(arg) for arg in tree.args)
        return f"({left}) {tree.value} ({right})"
    return f"{tree.value}({', '.join(_render(arg) for arg in tree.args)})"


def _shape(tree: Expr) -> tuple[Any, ...]:
    """The tree without its offsets."""
    return (tree.kind, tree.value, tuple(_shape(arg) for arg in tree.args))


@given(text=expression_tree(depth=4, foreign=False))
def test_a_tree_of_the_language_parses_and_prints_back_to_itself(text: str) -> None:
    """Text built from the grammar always parses, and printing the tree gives the same tree."""
    assume(len(text) <= MAX_EXPRESSION_CHARS)
    tree = parse(text)
    again = _render(tree)
    assume(len(again) <= MAX_EXPRESSION_CHARS)
    assert _shape(parse(again)) == _shape(tree)
    _check_downstream(tree)
