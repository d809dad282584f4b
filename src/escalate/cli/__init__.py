"""The ``escalate`` command line: a thin adapter over the library.

Each command parses its options, calls one library function and renders the
result.  :func:`main` maps every :class:`~escalate.errors.EscalateError` to a
message on standard error and its exit code (2 for bad input), so that no
user mistake ends in a traceback.  Ctrl-C exits with 130; SIGTERM and SIGHUP
stop a command the same way (:mod:`.signals`) and exit with 128 + the signal
number (143 and 129).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import NoReturn

import click

from ..errors import EscalateError, ScenarioError
from .app import cli
from .common import stderr
from .signals import Terminated, stop_on_termination

__all__ = ["cli", "main"]

# Register the commands on the group.
from . import report_commands, run_commands, scenario_commands, sweep_commands  # noqa: F401


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line and exit with its status."""
    try:
        with stop_on_termination():
            status = cli.main(args=list(argv) if argv is not None else None,
                              prog_name="escalate", standalone_mode=False)
    except click.exceptions.Abort as exc:
        # click turns Ctrl-C (and so Terminated) into Abort, keeping it as the cause.
        _interrupted(exc.__cause__ or exc.__context__)
    except KeyboardInterrupt as exc:
        _interrupted(exc)
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


def _interrupted(cause: BaseException | None) -> NoReturn:
    """Say how the command was stopped and exit with 130 (Ctrl-C) or 128 + the signal."""
    status = 130
    message = "interrupted"
    if isinstance(cause, Terminated):
        status = cause.exit_status
        message = f"interrupted: {cause}"
    stderr.print(message)
    for note in getattr(cause, "__notes__", ()):
        stderr.print(note, markup=False)
    sys.exit(status)


def _print_error(error: EscalateError, heading: str) -> None:
    # Plain text, one problem a line, so editors and CI logs can parse file:line:column.
    sys.stderr.write(f"error: {heading}: {error}\n")
    # What went wrong besides, such as a manifest that could not be updated.
    for note in getattr(error, "__notes__", ()):
        sys.stderr.write(f"error: {note}\n")
    sys.stderr.flush()
