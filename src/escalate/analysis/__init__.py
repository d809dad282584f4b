"""Analyses of results: pure functions from results to findings, neither writing nor rendering.

:mod:`.compare` compares runs outcome by outcome (differences, their intervals
and p-values, Holm's procedure, whether the runs pair); :mod:`.sensitivity`
samples the uncertain parameters, runs the points through the sweep
evaluator and computes Sobol' or Morris indices with their replication
noise; :mod:`.score` scores a run against what was observed.  What they find
is written by :mod:`escalate.results` and rendered by :mod:`escalate.report`.
Modules that need SciPy or SALib import them when called.
"""

from __future__ import annotations
