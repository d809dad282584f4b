"""The one entry point for randomness: seeds in, independent keyed streams out.

Replication ``i`` of a run draws only from the stream keyed by ``(seed, i)``
(and sweep point ``j``'s replication ``i`` from ``(seed, j, i)``), so any
subset of replications can run anywhere and give the same numbers.  A sweep's
design (Latin hypercube, scrambled Sobol) draws from its own stream, disjoint
from every replication's.

The batch engine, which advances many replications together, draws from
streams keyed by ``(seed, block)`` (``(seed, point, block)`` in a sweep)
instead, replication ``r`` belonging to block ``r // block_size``: see
:class:`BlockStreams`.  The engines' streams are made in
:mod:`escalate.engine.streams`; this module gives them their seed.
"""

from __future__ import annotations

from typing import Any, TypeGuard

import numpy as np

from ..engine.streams import BlockStreams, replication_rng
from ..errors import UsageError

__all__ = ["KEY_LIMIT", "SEED_LIMIT", "BlockStreams", "SeedLike", "check_stream_keys",
           "design_rng", "is_whole_number", "normalize_seed", "replication_rng"]

SeedLike = int | np.random.SeedSequence | np.random.Generator | None

#: Replication indices and sweep points are below this.  A SeedSequence splits a
#: larger key part into 32-bit words, so replication 2**32 would be keyed as
#: point 0's replication 1: same key, same stream.
KEY_LIMIT = 2**32
#: Seeds are below this (the 128 bits SeedSequence draws from the operating system).
#: A longer seed's extra words would run on into the key: seed ``s + 2**128 * j``
#: with replication ``i`` would be seed ``s`` with point ``j``'s replication ``i``.
SEED_LIMIT = 2**128

# Replication streams are keyed by one or two indices below KEY_LIMIT; a three-part
# key can never be one of them (nor a block stream's, which has four parts and its own
# tag: escalate.engine.streams).
_DESIGN_KEY = (2**32, 0, 0)


def is_whole_number(value: object) -> TypeGuard[int | np.integer[Any]]:
    """Whether ``value`` is an int or a numpy integer (a bool is not)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def normalize_seed(seed: Any) -> int:
    """Return a non-negative integer seed for ``None``, an int, a SeedSequence or a Generator.

    ``None`` draws fresh entropy from the operating system; the result is what
    the run records so it can be repeated.  Raises :class:`UsageError` for
    anything else, and for a negative seed or one of :data:`SEED_LIMIT` or more.
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if isinstance(seed, bool | np.bool_):
        raise UsageError(f"a seed must be a whole number, found {seed!r}")
    if is_whole_number(seed):
        if seed < 0:
            raise UsageError(f"a seed must not be negative, found {seed}")
        return _below_seed_limit(int(seed))
    if isinstance(seed, np.random.SeedSequence):
        if seed.spawn_key:
            raise UsageError("pass the root SeedSequence of a run, not a spawned child")
        if not isinstance(seed.entropy, int | np.integer):
            raise UsageError("a SeedSequence seed must be made from one whole number, "
                             f"found entropy {seed.entropy!r}")
        return _below_seed_limit(int(seed.entropy))
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63))
    raise UsageError(f"a seed must be a whole number, found {seed!r}")


def _below_seed_limit(seed: int) -> int:
    if seed >= SEED_LIMIT:
        raise UsageError(f"a seed must be below 2**128 = {SEED_LIMIT:,} (its 128 bits key the "
                         f"random streams), found {seed}")
    return seed


def check_stream_keys(first: object, replications: int, point: object = None, *,
                      name: str = "first") -> tuple[int, int | None]:
    """Return ``first`` and ``point`` as ints, checked to key streams no other run shares.

    Replications ``first`` to ``first + replications - 1`` must be below
    :data:`KEY_LIMIT`, and ``point`` (``None`` outside a sweep) below
    ``KEY_LIMIT - 1``, as the batch engine keys point ``j`` by ``j + 1``.
    Numpy integers are taken as ints; ``name`` is what the message calls
    ``first``.  Raises :class:`UsageError` otherwise.
    """
    last = KEY_LIMIT - replications
    if not is_whole_number(first) or not 0 <= first <= last:
        raise UsageError(f"{name} must be a non-negative whole number at most {last:,} "
                         f"(replication indices key the random streams and stay below "
                         f"2**32 = {KEY_LIMIT:,}), found {first!r}")
    if point is None:
        return int(first), None
    if not is_whole_number(point) or not 0 <= point < KEY_LIMIT - 1:
        raise UsageError(f"point must be None or a whole number from 0 to {KEY_LIMIT - 2:,} "
                         f"(the index of a sweep point, which keys its random streams), found "
                         f"{point!r}")
    return int(first), int(point)


def design_rng(seed: int) -> np.random.Generator:
    """Return the stream that a sweep's design (LHS, Sobol scrambling) draws from."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=_DESIGN_KEY)))
