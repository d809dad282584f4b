"""The batch engine: many replications advanced together as numpy arrays.

The modules, from the engine down:

- :mod:`.engine`: :class:`BatchEngine`, which runs ranges of replications in chunks;
- :mod:`.chunk`: one chunk's event loop, on :mod:`.draws` (uniforms, delays,
  choices, repeats), :mod:`.checks` (run-time errors) and :mod:`.state` (its arrays);
- :mod:`.pending`: the table of pending instances;
- :mod:`.plan`: what each event does, prepared once per scenario, with its
  formulas lowered to arrays by :mod:`.lowering`;
- :mod:`.blocks`: blocks, the unit of randomness.
"""

from .blocks import BLOCK_SIZE, BlockStreamSource
from .engine import CHUNK_BLOCKS, BatchEngine

__all__ = ["BLOCK_SIZE", "CHUNK_BLOCKS", "BatchEngine", "BlockStreamSource"]
