"""Parameter sweeps: a design of points, each run as a Monte Carlo, one row per point.

The tree shows the pipeline: :mod:`.design` (which values each point takes),
:mod:`.points` (checking every point before anything runs), :mod:`.evaluate`
(the pure work of one point), :mod:`.executors` (where points run: this
process, a process pool, a Dask cluster; shards), :mod:`.checkpoint` (one
atomic file per finished point, resuming), :mod:`.table` (the CSV and Parquet
table, :func:`load_sweep`), :mod:`.merge` (combining shards) and
:mod:`.runner` (the driver, :func:`sweep`).
"""

from __future__ import annotations

from .merge import merge_shards
from .runner import SweepProgress, SweepReport, make_executor, run_sweep, sweep
from .table import load_sweep

__all__ = [
    "SweepProgress",
    "SweepReport",
    "load_sweep",
    "make_executor",
    "merge_shards",
    "run_sweep",
    "sweep",
]
