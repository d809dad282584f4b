"""The random streams engines draw from, keyed by seed, sweep point and replication or block.

Replication ``i`` of the reference engine draws only from the stream keyed
by ``(seed, i)`` (``(seed, j, i)`` for sweep point ``j``); the batch engine's
block ``b`` from two streams keyed by ``(seed, [point,] b)`` and a purpose.
Seeds come from :func:`~escalate.montecarlo.seeding.normalize_seed`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BlockStreams", "replication_rng"]

# Block streams start with their own tag, so they are disjoint from replication streams
# (keyed by one or two indices below 2**32) and from a sweep design's (three parts).
_BLOCK_KEY = 2**32 + 1
_EVENTS, _PARAMETERS = 0, 1


def replication_rng(seed: int, replication: int, point: int | None = None) -> np.random.Generator:
    """Return the random stream of one replication (of one sweep point, if given)."""
    key = (replication,) if point is None else (point, replication)
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


class BlockStreams:
    """The random streams of the batch engine for one run (or one sweep point).

    Each block of replications has two streams, keyed by
    ``(seed, [point,] block)`` and a purpose: one for the delays and choices
    of its replications, one for their uncertain parameters.
    """

    __slots__ = ("point", "seed")

    def __init__(self, seed: int, point: int | None = None) -> None:
        self.seed = seed
        self.point = point

    def _generator(self, purpose: int, block: int) -> np.random.Generator:
        point = 0 if self.point is None else self.point + 1
        key = (_BLOCK_KEY, purpose, point, block)
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=key)))

    def events(self, block: int) -> np.random.Generator:
        """The stream of a block's delays and choices."""
        return self._generator(_EVENTS, block)

    def parameters(self, block: int) -> np.random.Generator:
        """The stream that a block's uncertain parameters are drawn from."""
        return self._generator(_PARAMETERS, block)
