"""Importing the optional packages (scipy, SALib, matplotlib), saying how to install them."""

from __future__ import annotations

import importlib
from types import ModuleType

from .errors import UsageError

__all__ = ["require"]

_EXTRA = {"matplotlib": "report", "SALib": "report", "scipy": "report"}


def require(module: str) -> ModuleType:
    """Import ``module`` or raise :class:`UsageError` naming the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = _EXTRA.get(top, "report")
        raise UsageError(f"this command needs {top}, which is not installed; "
                         f"install it with: pip install 'escalate[{extra}]'") from exc
