"""The pending event instances of many replications, as one table of arrays.

Each replication owns one column of :class:`PendingTable`; each row is a slot
holding an instance's due time, its event and its number among the
replication's schedulings, or +inf as due time when the slot is empty.  The
instance that fires next is the one due earliest, ties going to the one
scheduled first (the lowest number), as in the reference engine.  A
scheduling takes the replication's lowest empty slot; the table grows when a
replication has more pending instances than slots, up to
:data:`MAX_CAPACITY` slots.  Beyond that :class:`CapacityError` is raised and
the caller runs those replications another way: nothing is ever dropped.
"""

from __future__ import annotations

import numpy as np

__all__ = ["MAX_CAPACITY", "CapacityError", "PendingTable"]

#: the most pending instances one replication may have in the table (one bit each in a uint64)
MAX_CAPACITY = 64
_NO_SLOT = np.int16(MAX_CAPACITY)


def _leading_zeros(bits: int) -> np.ndarray:
    """Table: for each ``bits``-bit value, the number of zero bits before its highest one."""
    values = np.arange(2**bits)
    return (bits - np.where(values > 0, np.floor(np.log2(np.maximum(values, 1))) + 1, 0)).astype(
        np.int16)


_FIRST_OF_8 = _leading_zeros(8)
_FIRST_OF_16 = _leading_zeros(16)


def first_true(flags: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column of a boolean table: its first true row, whether it has none, and whether several.

    Up to 16 rows, each column's flags are packed into the bits of one integer
    and looked up in a table, which is much faster than numpy's reductions
    along the short axis.
    """
    rows = len(flags)
    if rows <= 16:
        width, table = (8, _FIRST_OF_8) if rows <= 8 else (16, _FIRST_OF_16)
        dtype = np.uint8 if width == 8 else np.uint16
        weights = np.array([1 << (width - 1 - row) for row in range(rows)], dtype=dtype)[:, None]
        packed: np.ndarray = np.multiply(flags.view(np.uint8), weights, dtype=dtype)
        bits = np.add.reduce(packed, axis=0, dtype=dtype)
        return table.take(bits), bits == 0, (bits & (bits - 1)) != 0
    index = np.arange(rows, dtype=np.int16)[:, None]
    first = np.minimum.reduce(np.where(flags, index, _NO_SLOT), axis=0)
    return first, first == _NO_SLOT, np.add.reduce(flags, axis=0, dtype=np.int16) > 1


class CapacityError(OverflowError):
    """A replication has more pending instances than the table can hold.

    ``stop`` is set by the engine when it tells one replication (a trace): the
    end of the block that could not be run, which the caller runs another way.
    """

    stop: int | None = None


class PendingTable:
    """Due times, events and scheduling numbers of pending instances, one column per replication.

    ``free`` holds, per replication, one bit per slot that is empty: a
    scheduling takes the lowest, a firing or a cancel sets its bit again.
    """

    def __init__(self, count: int, *, capacity: int = 8, event_dtype: type = np.int16,
                 order_dtype: type = np.int32) -> None:
        if not 1 <= capacity <= MAX_CAPACITY:
            raise ValueError(f"capacity must be from 1 to {MAX_CAPACITY}, found {capacity}")
        self.times: np.ndarray = np.full((capacity, count), np.inf)
        self.events: np.ndarray = np.zeros((capacity, count), dtype=event_dtype)
        self.order: np.ndarray = np.zeros((capacity, count), dtype=order_dtype)
        self.scheduled: np.ndarray = np.zeros(count, dtype=order_dtype)  # schedulings so far
        self.free: np.ndarray = np.full(count, _bits(0, capacity), dtype=np.uint64)

    @property
    def capacity(self) -> int:
        return int(self.times.shape[0])

    @property
    def count(self) -> int:
        return int(self.times.shape[1])

    def pop(self) -> tuple[np.ndarray, np.ndarray]:
        """Remove every replication's next instance; return its due time (+inf if none) and event."""
        times = self.times
        count = times.shape[1]
        earliest = np.minimum.reduce(times, axis=0)
        at_earliest = times == earliest
        first, _, several = first_true(at_earliest)
        slot = first.astype(np.intp)
        ties = np.flatnonzero(several & (earliest != np.inf))
        if len(ties):
            numbers = np.where(at_earliest[:, ties], self.order[:, ties],
                               np.iinfo(self.order.dtype).max)
            slot[ties] = numbers.argmin(axis=0)
        flat = slot * count + np.arange(count)
        events = self.events.reshape(-1).take(flat)
        times.reshape(-1)[flat] = np.inf
        # Where nothing was pending the slot was already empty: its bit is set anyway.
        self.free |= np.left_shift(np.uint64(1), slot.astype(np.uint64))
        return earliest, events

    def push(self, columns: np.ndarray, times: np.ndarray, event: int | np.ndarray) -> None:
        """Schedule ``event`` (one, or one per column) at ``times`` in ``columns`` (distinct).

        A replication's instances are numbered in the order they are pushed,
        which breaks ties between equal due times.
        """
        free = self.free.take(columns)
        if not free.all():
            self._grow()
            free = self.free.take(columns)
        lowest = free & (~free + np.uint64(1))
        self.free[columns] = free ^ lowest
        slot = _bit_number(lowest)
        flat = slot * self.count + columns
        self.times.reshape(-1)[flat] = times
        self.events.reshape(-1)[flat] = event
        number = self.scheduled.take(columns)
        self.order.reshape(-1)[flat] = number
        self.scheduled[columns] = number + 1

    def cancel(self, columns: np.ndarray, events: tuple[int, ...]) -> None:
        """Withdraw every pending instance of ``events`` of the replications in ``columns``."""
        named = self.events.take(columns, axis=1)
        hit = named == events[0]
        for event in events[1:]:
            hit |= named == event
        # an empty slot may still name the event: emptying it again changes nothing
        slot, column = np.nonzero(hit)
        if not len(slot):
            return
        self.times.reshape(-1)[slot * self.count + columns.take(column)] = np.inf
        weights = np.array([1 << row for row in range(self.capacity)], dtype=np.uint64)[:, None]
        self.free[columns] |= np.bitwise_or.reduce(np.where(hit, weights, np.uint64(0)), axis=0)

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the columns where ``mask`` is true (replications still running)."""
        # compress() keeps the tables C-contiguous, so that flat views write through.
        self.times = self.times.compress(mask, axis=1)
        self.events = self.events.compress(mask, axis=1)
        self.order = self.order.compress(mask, axis=1)
        self.scheduled = self.scheduled[mask]
        self.free = self.free[mask]

    def _grow(self) -> None:
        capacity = self.capacity
        if capacity >= MAX_CAPACITY:
            raise CapacityError(f"more than {MAX_CAPACITY} pending instances in one replication")
        extra = min(capacity, MAX_CAPACITY - capacity)
        count = self.count
        self.times = np.vstack([self.times, np.full((extra, count), np.inf)])
        self.events = np.vstack([self.events, np.zeros((extra, count), dtype=self.events.dtype)])
        self.order = np.vstack([self.order, np.zeros((extra, count), dtype=self.order.dtype)])
        self.free |= np.uint64(_bits(capacity, capacity + extra))


def _bit_number(powers: np.ndarray) -> np.ndarray:
    """The bit number of each power of two in ``powers`` (uint64): the count of the bits below it.

    (``log2`` would do, but numpy converts uint64 to float ten times slower.)
    """
    below: np.ndarray = np.bitwise_count(powers - np.uint64(1))
    return below.astype(np.intp)


def _bits(low: int, high: int) -> int:
    """The integer whose bits ``low`` to ``high - 1`` are set."""
    return (1 << high) - (1 << low)
