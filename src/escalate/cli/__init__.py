"""The ``escalate`` command line: a thin adapter over the library.

Each command parses its options, calls one library function and renders the
result.  :func:`main` maps every :class:`~escalate.errors.EscalateError` to a
message on standard error and its exit code (2 for bad input), so that no
user mistake ends in a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from ..errors import EscalateError, ScenarioError
from .app import cli
from .common import stderr

__all__ = ["cli", "main"]

# Register the commands on the group.
from . import report_commands, run_commands, scenario_commands, sweep_commands  # noqa: F401


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit with its status."""
    try:
        status = cli.main(args=list(argv) if argv is not None else None, prog_name="escalate",
                          standalone_mode=False)
    except click.exceptions.Abort:
        stderr.print("interrupted")
        sys.exit(130)
    except KeyboardInterrupt:
        stderr.print("interrupted")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ScenarioError as exc:
        _print_error(exc, "invalid scenario")
        sys.exit(exc.exit_code)
    except EscalateError as exc:
        _print_error(exc, type(exc).__name__)
        sys.exit(exc.exit_code)
    sys.exit(status if isinstance(status, int) else 0)


def _print_error(error: EscalateError, heading: str) -> None:
    # Plain text, one problem a line, so editors and CI logs can parse file:line:column.
    sys.stderr.write(f"error: {heading}: {error}\n")
    sys.stderr.flush()
