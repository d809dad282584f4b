"""Parameter sweeps: a design of points, each run as a Monte Carlo, one row per point.

The tree shows the pipeline: :mod:`.design` (which values each point takes),
:mod:`.points` (checking every point before anything runs), :mod:`.evaluate`
(the pure work of one point), :mod:`.executors` (where points run: this
process, a process pool, a Dask cluster; shards), :mod:`.checkpoint` (one
atomic file per finished point, resuming), :mod:`.merge` (combining shards)
and :mod:`.runner` (the driver, :func:`sweep`).  The sweep directory's
formats, its table and :func:`load_sweep` belong to
:mod:`escalate.results.sweepdir`.
"""

from __future__ import annotations

from ..results.sweepdir import load_sweep
from .merge import merge_shards
from .runner import SweepProgress, SweepReport, make_executor, run_sweep, sweep

__all__ = [
    "SweepProgress",
    "SweepReport",
    "load_sweep",
    "make_executor",
    "merge_shards",
    "run_sweep",
    "sweep",
]
