"""Turning command-line inputs (run directories or scenario files) into runs to compare."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..errors import UsageError
from ..montecarlo.runner import run
from ..results.reader import read_directory
from ..results.rundir import RunData, run_data_from_result
from ..scenario import load

__all__ = ["DEFAULT_REPLICATIONS", "DEFAULT_SEED", "resolve_runs"]

DEFAULT_SEED = 20241117
DEFAULT_REPLICATIONS = 10_000


def _unique_labels(paths: Sequence[Path]) -> list[str]:
    labels = [path.stem if path.is_file() else path.name or str(path) for path in paths]
    if len(set(labels)) < len(labels):
        labels = [str(path) for path in paths]
    return labels


def resolve_runs(paths: Sequence[str | Path], *, replications: int | None = None,
                 seed: int | None = None, uncertainty: bool | None = None,
                 engine: str | None = None) -> list[RunData]:
    """Read each run directory and run each scenario file, all scenario files on one seed.

    Scenario files are run with ``seed``, ``replications``, ``uncertainty`` and
    ``engine`` when given, otherwise with those of the first run directory
    among the inputs (so that they pair with it), otherwise with the defaults
    (``auto`` for the engine).  Raises
    :class:`OutputError` for a directory that is not a run, :class:`ScenarioError`
    for an invalid scenario.
    """
    files = [Path(p) for p in paths]
    labels = _unique_labels(files)
    directories: dict[int, RunData] = {}
    for i, path in enumerate(files):
        if path.is_dir():
            data = read_directory(path)
            if not isinstance(data, RunData):
                raise UsageError(f"{path} is not a run directory; compare takes run directories "
                                 "or scenario files")
            directories[i] = RunData(labels[i], data.manifest, data.summary, data.spec,
                                     data.path)
        elif not path.exists():
            raise UsageError(f"{path} does not exist (expected a run directory or a scenario "
                             "file)")
    # Every scenario file is checked before the first one runs.
    scenarios = {i: load(path) for i, path in enumerate(files) if i not in directories}
    reference = next(iter(directories.values()), None)
    if seed is None:
        seed = reference.seed if reference is not None and reference.seed is not None \
            else DEFAULT_SEED
    if replications is None:
        replications = reference.replications if reference is not None else DEFAULT_REPLICATIONS
    if uncertainty is None:
        uncertainty = reference.uncertainty if reference is not None else False
    if engine is None:
        engine = (reference.engine if reference is not None and reference.engine is not None
                  else "auto")
    runs = []
    for i in range(len(files)):
        if i in directories:
            runs.append(directories[i])
            continue
        scenario = scenarios[i]
        result = run(scenario, replications=replications, seed=seed, uncertainty=uncertainty,
                     engine=engine, keep_replications=True)
        runs.append(run_data_from_result(result, labels[i], scenario))
    return runs
