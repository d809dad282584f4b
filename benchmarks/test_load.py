"""Load: peak memory of long runs and large sweeps, measured on real ``escalate`` processes.

Run with ``pytest benchmarks/test_load.py --benchmark-only -s``.  The run of
10**7 replications of the article scenario takes minutes and writes about
4 GB of rows; it runs only with ``ESCALATE_LOAD_FULL=1``.  Each figure (peak
resident memory from ``os.wait4``, wall time, replications per second) goes
into the benchmark's ``extra_info``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

ROOT = Path(__file__).resolve().parents[1]
ARTICLE = ROOT / "scenarios" / "kursk-atacms-2024.yaml"
FULL = os.environ.get("ESCALATE_LOAD_FULL") == "1"
RUN_PEAK_LIMIT_MB = 300.0
# A sweep ten times longer may hold a little more (its design and bookkeeping), not ten times.
SWEEP_GROWTH_LIMIT_MB = 50.0


def _module(stem: str, name: str) -> ModuleType:
    # Shared with the tests: the subprocess measurements and the border scenario.
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / f"{stem}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs, as dataclasses look their module up by name.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


process_helpers = _module("process_helpers", "_process_helpers")


def _measured(args: list[str], timeout: float) -> Any:
    measured = process_helpers.run_measured(args, timeout=timeout)
    assert measured.returncode == 0, measured.stderr[-2000:]
    return measured


@pytest.mark.benchmark(group="load")
@pytest.mark.parametrize("replications", [
    10**5,
    10**6,
    pytest.param(10**7, marks=pytest.mark.skipif(not FULL, reason="set ESCALATE_LOAD_FULL=1")),
])
def test_peak_memory_of_one_long_run(benchmark: BenchmarkFixture, tmp_path: Path,
                                     replications: int) -> None:
    """`escalate run` of the article scenario stays under 300 MB, rows streamed to disk."""
    out = tmp_path / "run"
    args = ["run", str(ARTICLE), "-n", str(replications), "--engine", "auto",
            "--out", str(out), "--quiet"]
    measured = benchmark.pedantic(_measured, args=(args, 3600.0), rounds=1, iterations=1)
    rows_bytes = (out / "replications.csv").stat().st_size
    benchmark.extra_info.update(
        replications=replications, peak_mb=round(measured.peak_mb, 1),
        wall_seconds=round(measured.seconds, 1),
        replications_per_second=round(replications / measured.seconds),
        rows_mb=round(rows_bytes / 2**20, 1))
    print(f"\n{replications:,} replications: peak {measured.peak_mb:.0f} MB, "
          f"{measured.seconds:.1f} s, {rows_bytes / 2**20:.0f} MB of rows")
    assert measured.peak_mb < RUN_PEAK_LIMIT_MB


@pytest.mark.benchmark(group="load")
def test_sweep_memory_is_flat_in_the_number_of_points(benchmark: BenchmarkFixture,
                                                      tmp_path: Path) -> None:
    """A sweep of 10,000 points (10 replications each) peaks about where one of 1,000 does."""
    scenario = tmp_path / "border.yaml"
    scenario.write_text(_module("conftest", "_fixtures").BORDER, encoding="utf-8")

    def sweep(points: int) -> Any:
        args = ["sweep", str(scenario), "--vary", f"p_retaliate=0:1:{points}", "-n", "10",
                "--workers", "1", "--quiet", "--out", str(tmp_path / f"sweep-{points}")]
        return _measured(args, 1800.0)

    small = sweep(1_000)
    large = benchmark.pedantic(sweep, args=(10_000,), rounds=1, iterations=1)
    benchmark.extra_info.update(
        peak_mb_1000_points=round(small.peak_mb, 1), peak_mb_10000_points=round(large.peak_mb, 1),
        seconds_1000_points=round(small.seconds, 1), seconds_10000_points=round(large.seconds, 1))
    print(f"\nsweep peak: {small.peak_mb:.0f} MB at 1,000 points, "
          f"{large.peak_mb:.0f} MB at 10,000 points")
    assert large.peak_mb < small.peak_mb + SWEEP_GROWTH_LIMIT_MB
