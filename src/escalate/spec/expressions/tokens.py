"""Splitting expression text into tokens, and explaining the mistakes found on the way."""

from __future__ import annotations

import re

from ..quantities import DURATION_UNITS
from .tree import ExpressionError

__all__ = ["duration_error", "tokenize"]

_FORBIDDEN_WORDS = {
    "lambda": "lambdas are not part of the expression language",
    "for": "comprehensions are not part of the expression language",
    "in": "membership tests are not part of the expression language",
    "is": "use == and != to compare",
    "import": "imports are not part of the expression language",
}

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>\*\*|<=|>=|==|!=|[-+*/<>(),%])
  | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_BAD_CHARACTER_HINTS = {
    ".": "attribute access is not allowed; names are plain words",
    "[": "indexing is not allowed",
    "]": "indexing is not allowed",
    "=": "use == to compare; assignments belong in `set:`",
    "&": "write `and`",
    "|": "write `or`",
    "!": "write `not`",
    "^": "write ** for powers",
    "'": "strings are not part of the expression language",
    '"': "strings are not part of the expression language",
}


def tokenize(text: str) -> list[tuple[str, str, int]]:
    """Return the (kind, text, offset) tokens of ``text``, ending with an ``end`` token.

    Raises :class:`ExpressionError` at a character or word the language refuses.
    """
    tokens: list[tuple[str, str, int]] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "bad"
        value = match.group()
        if kind == "space":
            continue
        if kind == "name":
            _check_word(value, match.start())
        if kind == "bad":
            raise ExpressionError(
                f"unexpected character {value!r}", match.start(), _BAD_CHARACTER_HINTS.get(value, "")
            )
        tokens.append((kind, value, match.start()))
    tokens.append(("end", "", len(text)))
    return tokens


def _check_word(word: str, offset: int) -> None:
    if word.startswith("__"):
        raise ExpressionError(f"the name {word!r} is not allowed", offset,
                              "names starting with __ are reserved")
    if word in _FORBIDDEN_WORDS:
        raise ExpressionError(f"{word!r} is not allowed", offset, _FORBIDDEN_WORDS[word])


#: how each length of time is named in a hint
_UNIT_NAMES = {365.25: "years", 30.4375: "months", 7.0: "weeks", 1.0: "days", 1 / 24: "hours",
               1 / 1440: "minutes"}
_NUMBER_AND_WORD = r"((?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([A-Za-z_][A-Za-z0-9_]*)"
_NEXT_DURATION = re.compile(r"\s*" + _NUMBER_AND_WORD)
_ANY_DURATION = re.compile(r"(?<![\w.])" + _NUMBER_AND_WORD)


def _spell_days(days: float, factors: set[float]) -> list[str]:
    """Ways to write a length of time as one duration: in the units used, where they are exact."""
    spellings = []
    for factor in sorted(factors | {1.0}):
        amount = days / factor
        if abs(amount * 1000 - round(amount * 1000)) < 1e-6 * max(1.0, abs(amount)):
            spellings.append(f"{amount:.6g} {_UNIT_NAMES.get(factor, 'days')}")
    return spellings[:2] or [f"{days:.6g} days"]


def duration_error(text: str, offset: int) -> ExpressionError:
    """Explain a duration (``2 days``) written at ``offset`` where a number of days is wanted.

    Several durations in a row (``2 days 3 hours``) are one length of time
    written in parts; a single one is a value that the expression language
    writes as its number of days, and the hint rewrites the expression so.
    """
    parts = []
    position = offset
    while (match := _NEXT_DURATION.match(text, position)) and match.group(2).lower() in (
            DURATION_UNITS):
        parts.append((float(match.group(1)), DURATION_UNITS[match.group(2).lower()]))
        position = match.end()
    total = sum(amount * factor for amount, factor in parts)
    alone = not text[:offset].strip() and not text[position:].strip()
    if len(parts) > 1 and alone:
        spellings = _spell_days(total, {factor for _, factor in parts})
        return ExpressionError(
            "durations cannot be added by writing them one after another", offset,
            "a duration is one number and one unit: write "
            + " or ".join(f"`{spelling}`" for spelling in spellings))

    def in_days(match: re.Match[str]) -> str:
        factor = DURATION_UNITS.get(match.group(2).lower())
        return match.group(0) if factor is None else f"{float(match.group(1)) * factor:.6g}"

    rewritten = (_ANY_DURATION.sub(in_days, text[:offset]) + f"{total:.6g}"
                 + _ANY_DURATION.sub(in_days, text[position:]))
    return ExpressionError(
        f"a duration ({text[offset:position].strip()!r}) where a number of days is wanted",
        offset, "a duration such as `2 days` is a value on its own; inside an expression "
        f"times are numbers of days: write `{rewritten.strip()}`")
