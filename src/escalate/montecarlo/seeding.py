"""The one entry point for randomness: seeds in, independent keyed streams out.

Replication ``i`` of a run draws only from the stream keyed by ``(seed, i)``
(and sweep point ``j``'s replication ``i`` from ``(seed, j, i)``), so any
subset of replications can run anywhere and give the same numbers.  A sweep's
design (Latin hypercube, scrambled Sobol) draws from its own stream, disjoint
from every replication's.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UsageError

__all__ = ["SeedLike", "design_rng", "normalize_seed", "replication_rng"]

SeedLike = int | np.random.SeedSequence | np.random.Generator | None

# Replication streams are keyed by one or two indices below 2**32; a three-part
# key can never be one of them.
_DESIGN_KEY = (2**32, 0, 0)


def normalize_seed(seed: Any) -> int:
    """Return a non-negative integer seed for ``None``, an int, a SeedSequence or a Generator.

    ``None`` draws fresh entropy from the operating system; the result is what
    the run records so it can be repeated.  Raises :class:`UsageError` otherwise.
    """
    if seed is None:
        return int(np.random.SeedSequence().entropy)  # type: ignore[arg-type]
    if isinstance(seed, bool):
        raise UsageError(f"a seed must be a whole number, found {seed!r}")
    if isinstance(seed, int | np.integer):
        if seed < 0:
            raise UsageError(f"a seed must not be negative, found {seed}")
        return int(seed)
    if isinstance(seed, np.random.SeedSequence):
        if seed.spawn_key:
            raise UsageError("pass the root SeedSequence of a run, not a spawned child")
        if not isinstance(seed.entropy, int | np.integer):
            raise UsageError("a SeedSequence seed must be made from one whole number, "
                             f"found entropy {seed.entropy!r}")
        return int(seed.entropy)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**63))
    raise UsageError(f"a seed must be a whole number, found {seed!r}")


def replication_rng(seed: int, replication: int, point: int | None = None) -> np.random.Generator:
    """Return the random stream of one replication (of one sweep point, if given)."""
    key = (replication,) if point is None else (point, replication)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def design_rng(seed: int) -> np.random.Generator:
    """Return the stream that a sweep's design (LHS, Sobol scrambling) draws from."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=_DESIGN_KEY)))
