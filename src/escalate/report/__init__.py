"""Reports of runs, sweeps, comparisons and sensitivity analyses: documents and their rendering.

The pipeline: :mod:`.rundata` reads a directory into typed objects; a builder
(:mod:`.runreport`, :mod:`.sweepreport`, :mod:`.sensitivityreport`,
:mod:`.comparereport`) turns them, and what :mod:`escalate.analysis` finds in
them, into a :class:`~.document.Document`; :mod:`.html` and :mod:`.markdown`
render it, drawing charts with :mod:`.plots`.  Modules that need matplotlib
import it when called, so the base install still runs scenarios.
"""

from __future__ import annotations

from ..results.reader import RunData, SensitivityData, SweepData, read_directory
from .estimative import estimative_phrase, estimative_range

__all__ = [
    "RunData",
    "SensitivityData",
    "SweepData",
    "estimative_phrase",
    "estimative_range",
    "read_directory",
]
