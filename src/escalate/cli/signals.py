"""SIGTERM and SIGHUP during a command: stopped as Ctrl-C stops it.

A run or a sweep stopped by a service manager (``SIGTERM``) or a closed
terminal (``SIGHUP``) records itself as ``interrupted`` and can be resumed,
as after Ctrl-C.  The handlers raise :class:`Terminated`, a
:class:`KeyboardInterrupt`, in the main thread, so every ``finally`` that
records an interruption records this one too.  Only the command line installs
them (:func:`stop_on_termination`); the library leaves a program's signals alone.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

__all__ = ["TERMINATION_SIGNALS", "Terminated", "stop_on_termination"]

#: the signals that stop a command as Ctrl-C does (those this platform has)
TERMINATION_SIGNALS: tuple[signal.Signals, ...] = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))


_Handler = Callable[[int, FrameType | None], Any] | int | None


class Terminated(KeyboardInterrupt):
    """The command was asked to stop by ``signal_number``; exit with 128 + its number."""

    def __init__(self, signal_number: int) -> None:
        self.signal_number = signal_number
        super().__init__(f"terminated by {signal.Signals(signal_number).name}")

    @property
    def exit_status(self) -> int:
        """The conventional status of a process stopped by this signal (143 for SIGTERM)."""
        return 128 + self.signal_number


def _raise_terminated(signal_number: int, _frame: FrameType | None) -> None:
    # A second signal while the manifest is being written would cut that short: the
    # first one is being acted on already, so later ones are ignored (SIGKILL still works).
    for number in TERMINATION_SIGNALS:
        signal.signal(number, signal.SIG_IGN)
    raise Terminated(signal_number)


@contextlib.contextmanager
def stop_on_termination() -> Iterator[None]:
    """While the block runs, raise :class:`Terminated` on SIGTERM or SIGHUP; restore after.

    Does nothing outside the main thread, where handlers cannot be installed,
    and leaves a signal ignored by the parent (``nohup``) ignored.
    """
    previous: dict[signal.Signals, _Handler] = {}
    try:
        for number in TERMINATION_SIGNALS:
            if signal.getsignal(number) is signal.SIG_IGN:
                continue  # nohup, or a parent that wants us to outlive it
            previous[number] = signal.signal(number, _raise_terminated)
    except ValueError:  # not the main thread of the interpreter
        pass
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
