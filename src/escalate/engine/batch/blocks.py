"""The batch engine's unit of randomness: blocks of replications, each with its own streams.

Replication ``r`` belongs to block ``r // BLOCK_SIZE``; a block is always
simulated whole, from the streams keyed by the seed (and sweep point) and
the block (:class:`~escalate.engine.streams.BlockStreams`), so that a
replication's numbers never depend on how a run is split.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

__all__ = ["BLOCK_SIZE", "BlockStreamSource"]

#: replications per block: the unit that random streams are keyed by and
#: that is simulated whole
BLOCK_SIZE = 1024


class BlockStreamSource(Protocol):
    """Where the batch engine's random streams come from (``engine.streams.BlockStreams``)."""

    def events(self, block: int) -> np.random.Generator: ...

    def parameters(self, block: int) -> np.random.Generator: ...
