"""'Did you mean' hints for misspelt names."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest_names", "did_you_mean"]


def closest_names(name: str, candidates: Iterable[str]) -> list[str]:
    """Return up to three candidates that ``name`` is probably a misspelling of, best first."""
    choices = sorted({str(c) for c in candidates})
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.6)
    if not close and len(name) >= 3:
        close = [c for c in choices if c.startswith(name) or name.startswith(c)][:3]
    if not close:
        lowered = {c.lower(): c for c in choices}
        if name.lower() in lowered:
            close = [lowered[name.lower()]]
    return close


def did_you_mean(name: str, candidates: Iterable[str], *, kind: str = "") -> str:
    """Return a hint naming the closest candidates to ``name``, or one listing the choices."""
    choices = sorted({str(c) for c in candidates})
    close = closest_names(name, choices)
    if close:
        return "did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
    if not choices:
        return f"no {kind or 'names'} are defined" if kind else ""
    if len(choices) <= 16:
        return f"known {kind or 'names'}: " + ", ".join(choices)
    return f"{len(choices)} {kind or 'names'} are defined; check the spelling"
