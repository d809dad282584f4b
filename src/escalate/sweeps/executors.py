"""Where sweep points run: in this process, a local process pool, or a Dask cluster.

Every executor does one thing: map :func:`~escalate.sweeps.evaluate.evaluate_point`
over tasks and yield the results as they finish (in any order).  Because a
point's result depends only on its task, every executor gives the same rows.
Tasks are submitted a few at a time, so memory does not grow with the number
of points.  Shards (``--shard I/N``) choose which tasks to give an executor.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from ..errors import SimulationError, UsageError
from .evaluate import PointResult, PointTask, SweepContext, evaluate_point

__all__ = [
    "CONNECT_SECONDS",
    "DaskExecutor",
    "Executor",
    "ProcessExecutor",
    "SerialExecutor",
    "available_cores",
    "check_connect_seconds",
    "parse_shard",
    "shard_points",
]


class Executor(Protocol):
    """Runs sweep points somewhere and yields their results as they finish."""

    def describe(self) -> dict[str, Any]:
        """How the points ran, as recorded in the manifest."""
        ...

    def map(self, context: SweepContext, tasks: Iterable[PointTask]) -> Iterator[PointResult]:
        ...

    def __enter__(self) -> Self: ...

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None: ...


def available_cores() -> int:
    """The cores this process may use (its CPU affinity where the system reports it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class SerialExecutor:
    """Runs the points one after another in this process."""

    def describe(self) -> dict[str, Any]:
        return {"kind": "serial", "workers": 1}

    def map(self, context: SweepContext, tasks: Iterable[PointTask]) -> Iterator[PointResult]:
        for task in tasks:
            yield evaluate_point(context, task)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        pass


_installed: SweepContext | None = None


def _install(context: SweepContext, parent: int) -> None:
    global _installed
    _installed = context
    # Ctrl-C, SIGTERM and SIGHUP are the sweep process's to handle (it keeps what finished
    # and shuts the pool down); a worker's traceback would only bury its message, and a
    # worker killed by a signal sent to the whole group would make the pool look broken.
    # A worker it leaves behind exits below.
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    # A pool worker outlives a parent killed with SIGKILL (it holds its own end of the task
    # queue open, so it never sees the queue close): leave as soon as it is orphaned.
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


def _evaluate_installed(task: PointTask) -> PointResult:
    assert _installed is not None
    return evaluate_point(_installed, task)


def _script_hint() -> str:
    """When a user's script runs the sweep: the guard that spawned workers need."""
    main = sys.modules.get("__main__")
    script = Path(getattr(main, "__file__", None) or "")
    if not script.name or script.name in ("escalate", "__main__.py"):
        return ""  # the command line, or an interactive session
    return (f" (hint: workers are started afresh and import {script.name}; a script that "
            "runs a sweep with workers must do so under `if __name__ == \"__main__\":`)")


class ProcessExecutor:
    """Runs the points on a pool of local worker processes (``--workers N``).

    Workers are started with ``spawn``, so they share nothing with this
    process but the sweep context, sent once to each.
    """

    def __init__(self, workers: int) -> None:
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise UsageError(f"workers must be a whole number of at least 1, found {workers!r}")
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def describe(self) -> dict[str, Any]:
        return {"kind": "processes", "workers": self.workers}

    def map(self, context: SweepContext, tasks: Iterable[PointTask]) -> Iterator[PointResult]:
        self._pool = ProcessPoolExecutor(self.workers,
                                         mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_install,
                                         initargs=(context, os.getpid()))
        pending: set[Future[PointResult]] = set()
        window = 4 * self.workers
        queue = iter(tasks)
        try:
            while True:
                for task in queue:
                    pending.add(self._pool.submit(_evaluate_installed, task))
                    if len(pending) >= window:
                        break
                if not pending:
                    return
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    yield future.result()
        except BrokenProcessPool as exc:
            raise SimulationError(f"a worker process died (out of memory, or killed?)"
                                  f"{_script_hint()}") from exc

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._pool is not None:
            # After an error, Ctrl-C or SIGTERM, do not wait for the points still running:
            # their workers are stopped (the points kept so far are this process's files).
            workers = list((self._pool._processes or {}).values())
            self._pool.shutdown(wait=error is None, cancel_futures=True)
            if error is not None:
                for worker in workers:
                    worker.kill()
                for worker in workers:
                    worker.join(timeout=5)
            self._pool = None


#: seconds to wait for a Dask scheduler to answer (``--connect-timeout``), and the most allowed
CONNECT_SECONDS = 5.0
MAX_CONNECT_SECONDS = 3600.0


def check_connect_seconds(seconds: float) -> None:
    """Refuse a connection time-out that is not a number of seconds in (0, 3600]."""
    if (isinstance(seconds, bool) or not isinstance(seconds, int | float)
            or not 0 < seconds <= MAX_CONNECT_SECONDS):
        raise UsageError(f"--connect-timeout must be a number of seconds above 0 and at most "
                         f"{MAX_CONNECT_SECONDS:g}, found {seconds!r}")


def _check_address(address: str) -> None:
    """Refuse a malformed scheduler address now, before the sweep directory is made."""
    from distributed.comm.addressing import parse_address, parse_host_port
    from distributed.comm.registry import get_backend

    try:
        scheme, location = parse_address(address)
        get_backend(scheme)
        if scheme in ("tcp", "tls"):
            parse_host_port(location)
    except ValueError as exc:
        raise UsageError(f"--scheduler expects an address such as tcp://HOST:8786, found "
                         f"{address!r} ({exc})") from None


class DaskExecutor:
    """Runs the points as tasks on a Dask distributed cluster.

    ``scheduler`` is an address (``tcp://host:8786``) or a connected
    ``distributed.Client``; ``local_workers`` starts a ``LocalCluster`` on the
    loopback interface instead.  Entering the executor connects to the
    scheduler, giving up after ``connect_seconds``; a sweep enters it before
    it makes its directory, so an unreachable scheduler leaves nothing behind.
    A task whose worker died is run again
    elsewhere (by Dask, and here when Dask gives up), and since a point's
    result depends only on its task, the rows do not change.
    """

    #: times a point is resubmitted after Dask reports its workers killed
    RETRIES = 3

    def __init__(self, scheduler: Any = None, *, local_workers: int | None = None,
                 connect_seconds: float = CONNECT_SECONDS) -> None:
        try:
            import distributed as dask_distributed
        except ImportError as exc:
            raise UsageError("Dask executors need dask.distributed: "
                             "pip install 'escalate[dask]'") from exc
        # Typed as Any: its untyped functions would otherwise fail the strict type check.
        distributed: Any = dask_distributed
        if (scheduler is None) == (local_workers is None):
            raise UsageError("give either a scheduler address or a number of local workers")
        if local_workers is not None and (isinstance(local_workers, bool) or local_workers < 1):
            raise UsageError(f"--dask-local needs at least 1 worker, found {local_workers!r}")
        if isinstance(scheduler, str):
            _check_address(scheduler)
        check_connect_seconds(connect_seconds)
        self._distributed = distributed
        self.scheduler = scheduler
        self.local_workers = local_workers
        self.connect_seconds = connect_seconds
        self._cluster: Any = None
        self._client: Any = scheduler if isinstance(scheduler, distributed.Client) else None
        self._own_client = self._client is None

    @property
    def client(self) -> Any:
        """The connected client; raises :class:`UsageError` outside ``with``."""
        if self._client is None:
            raise UsageError("use the Dask executor in a `with` block")
        return self._client

    def describe(self) -> dict[str, Any]:
        if self.local_workers is not None:
            return {"kind": "dask-local", "workers": self.local_workers}
        address = (str(self.scheduler.scheduler.address) if not self._own_client
                   else str(self.scheduler))
        return {"kind": "dask", "scheduler": address,
                "workers": sum(self.client.nthreads().values())}

    def __enter__(self) -> Self:
        """Start the local cluster, or connect to the scheduler (only now: nothing before
        the sweep's checks pass)."""
        distributed = self._distributed
        if self.local_workers is not None:
            self._cluster = distributed.LocalCluster(
                n_workers=self.local_workers, threads_per_worker=1, processes=True,
                host="127.0.0.1", dashboard_address=None)
            self._client = distributed.Client(self._cluster)
        elif self._own_client:
            started = time.monotonic()
            try:
                self._client = distributed.Client(str(self.scheduler),
                                                  timeout=self.connect_seconds)
            except OSError as exc:
                waited = time.monotonic() - started
                raise UsageError(
                    f"cannot reach the Dask scheduler at {self.scheduler} (--scheduler): gave "
                    f"up after {waited:.1f} s ({exc}) (hint: start one with `dask scheduler "
                    f"--port PORT` and workers with `dask worker {self.scheduler}`, check the "
                    "address, allow longer with --connect-timeout SECONDS, or use "
                    "--dask-local N for a cluster on this machine)") from exc
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def _submit(self, context: SweepContext, task: PointTask) -> Any:
        # The context goes with each task rather than scattered once: a scattered copy
        # would be lost with the workers holding it, and it is only the scenario's text.
        return self.client.submit(evaluate_point, context, task, pure=False)

    def map(self, context: SweepContext, tasks: Iterable[PointTask]) -> Iterator[PointResult]:
        distributed = self._distributed
        window = max(8, 4 * sum(self.client.nthreads().values()))
        queue = iter(tasks)
        running: dict[Any, tuple[PointTask, int]] = {}
        finished = distributed.as_completed(loop=self.client.loop)
        for task in queue:
            future = self._submit(context, task)
            running[future] = (task, 0)
            finished.add(future)
            if len(running) >= window:
                break
        for future in finished:
            task, attempts = running.pop(future)
            try:
                result = future.result()
            except distributed.KilledWorker as exc:
                if attempts >= self.RETRIES:
                    raise SimulationError(f"point {task.point}: its Dask workers kept dying "
                                          f"({exc})") from exc
                retry = self._submit(context, task)
                running[retry] = (task, attempts + 1)
                finished.add(retry)
                continue
            finally:
                future.release()
            yield result
            for task in queue:
                future = self._submit(context, task)
                running[future] = (task, 0)
                finished.add(future)
                break



def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``I/N`` (shard ``I`` of ``N``, counting from 1); raises :class:`UsageError`."""
    index, sep, count = str(text).partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        raise UsageError(f"--shard expects I/N such as 2/8, found {text!r}") from None
    if not sep or n < 1 or not 1 <= i <= n:
        raise UsageError(f"--shard expects I/N with 1 <= I <= N (shards count from 1), "
                         f"found {text!r}")
    return i, n


def shard_points(points: int, shard: tuple[int, int] | None) -> range:
    """The point indices a shard runs: every ``N``-th point from ``I - 1``, so costs spread evenly."""
    if shard is None:
        return range(points)
    index, count = shard
    return range(index - 1, points, count)
