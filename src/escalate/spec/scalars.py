"""Plain YAML scalars that YAML 1.1 and YAML 1.2 read differently, refused before use.

PyYAML follows YAML 1.1: ``010`` is the octal number 8, ``3:00`` the base-60
number 180, and ``yes``, ``no``, ``on``, ``off`` are booleans.  YAML 1.2 (and
most other tools) read ``010`` as 10 and ``3:00`` as text.  Rather than pick
one reading and silently disagree with the other, a number written either way
is refused with the spelling that means the same everywhere.  Booleans stay
booleans (where true/false is wanted they are what was meant); where a name is
wanted, :func:`boolean_hint` says how to quote the word.
"""

from __future__ import annotations

import re

__all__ = ["ambiguous_number", "boolean_hint"]

_LEADING_ZERO = re.compile(r"^[-+]?0[0-9_]+$")
_BASE_60 = re.compile(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$")


def ambiguous_number(text: str) -> tuple[str, str] | None:
    """The message and hint for a plain scalar read differently by YAML 1.1 and 1.2, or None."""
    if _LEADING_ZERO.match(text):
        decimal = text.replace("_", "")
        sign = decimal[0] if decimal[0] in "+-" else ""
        digits = decimal.lstrip("+-").lstrip("0") or "0"
        message = (f"the number {text} has a leading zero, which YAML 1.1 reads as octal "
                   "and YAML 1.2 as decimal")
        hint = f"write `{sign}{digits}` without the leading zero, or quote it ('{text}') if text"
        return message, hint
    if _BASE_60.match(text):
        base = 0.0
        for part in text.lstrip("+-").replace("_", "").split(":"):
            base = base * 60 + float(part)
        read = f"{'-' if text.startswith('-') else ''}{base:g}"
        message = f"{text} is the base-60 number {read} in YAML 1.1 and text in YAML 1.2"
        hint = (f"write the number you mean (`{read}`) or a duration such as `3 hours`, "
                f"or quote it ('{text}') if it is text")
        return message, hint
    return None


def boolean_hint(written: str, value: bool) -> tuple[str, str]:
    """What was found and the hint for a boolean, ``written`` so, where a name is wanted."""
    return (f"`{written}`, which YAML read as the boolean {str(value).lower()}",
            f"quote it ('{written}') to mean the name {written}")
