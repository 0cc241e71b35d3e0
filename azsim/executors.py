"""Where runs execute: in-process, a local process pool, or a Dask cluster, behind one interface.

An executor takes an iterable of tasks and a top-level function and yields ``(task, result)``
pairs as they finish, in any order. At most ``window`` tasks are in flight, so a sweep of
100,000 runs never holds more than a few results in memory. Results never depend on the
executor: every task carries its own seed (see :mod:`azsim.sweep`).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

__all__ = ["Executor", "make_executor", "InlineExecutor", "LocalExecutor", "DaskExecutor", "ExecutorError"]


class ExecutorError(Exception):
    """An executor could not be started (bad address, no scheduler...)."""


class Executor:
    name = "executor"
    workers = 1

    def run(self, fn: Callable, tasks: Iterable) -> Iterator[tuple[Any, Any]]:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class InlineExecutor(Executor):
    """Runs every task in this process, one after the other."""

    name = "inline"

    def run(self, fn, tasks):
        for task in tasks:
            yield task, fn(task)


class LocalExecutor(Executor):
    """A pool of worker processes on this machine (default: all cores)."""

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self._pool = ProcessPoolExecutor(max_workers=self.workers)

    def run(self, fn, tasks):
        window = 2 * self.workers
        it = iter(tasks)
        pending = {}
        for task in it:
            pending[self._pool.submit(fn, task)] = task
            if len(pending) >= window:
                break
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                task = pending.pop(fut)
                yield task, fut.result()
                nxt = next(it, None)
                if nxt is not None:
                    pending[self._pool.submit(fn, nxt)] = nxt

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)


def _preload_azsim_in_forkserver() -> None:
    """Let the forkserver that starts Dask's worker processes import azsim (and so numpy, pandas,
    SciPy, SimPy, DuckDB) once: every worker forked from it starts with them loaded, instead of
    importing them itself before its first run. Distributed chooses its own preload list the first
    time it creates the context; this adds azsim to it (no effect once the forkserver runs)."""
    from distributed.utils import get_mp_context

    ctx = get_mp_context()
    if getattr(ctx, "get_start_method", lambda: "")() != "forkserver":
        return
    from multiprocessing import forkserver

    current = list(getattr(getattr(forkserver, "_forkserver", None), "_preload_modules", None) or ["distributed"])
    if "azsim.sweep" not in current:
        ctx.set_forkserver_preload([*current, "azsim.sweep"])


class DaskExecutor(Executor):
    """Dask distributed: a new LocalCluster, or a running scheduler at ``address`` (HOST:PORT)."""

    name = "dask"

    def __init__(self, workers: int | None = None, address: str | None = None, chunk: int = 1):
        self.chunk = chunk
        try:
            from distributed import Client, LocalCluster
        except ImportError as err:  # pragma: no cover - a declared dependency
            raise ExecutorError(f"dask.distributed is not installed: {err}") from None
        self._cluster = None
        try:
            if address:
                self._client = Client(address if "://" in address else f"tcp://{address}", timeout="5s")
            else:
                n = workers or os.cpu_count() or 1
                import dask

                # A worker's event loop wakes every 20 ms (tick) and its statistical profiler samples the
                # running task every 10 ms; each wake-up takes the GIL from the simulation. azsim's runs
                # are long, pure-Python tasks: wake up rarely instead.
                quiet_workers = {
                    "distributed.worker.profile.enabled": False,
                    "distributed.admin.tick.interval": "500ms",
                    "distributed.admin.system-monitor.interval": "2s",
                    "distributed.worker.multiprocessing-method": "forkserver",
                }
                with dask.config.set(quiet_workers):
                    _preload_azsim_in_forkserver()
                    self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                 dashboard_address=None, silence_logs=40)
                self._client = Client(self._cluster)
        except OSError as err:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {err}") from None
        except Exception as err:  # distributed raises TimeoutError and friends
            raise ExecutorError(f"cannot start Dask ({address or 'LocalCluster'}): {err}") from None
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {}))) if address else n

    def run(self, fn, tasks):
        """Tasks travel in small chunks (``chunk`` runs per Dask task) to keep scheduling overhead
        low; results are still handed back, and stored, one run at a time."""
        from distributed import as_completed

        window = 4 * self.workers  # keep every worker's queue non-empty between results
        it = iter(tasks)
        futures = {}
        ac = as_completed()

        def submit_next() -> bool:
            chunk = list(itertools.islice(it, self.chunk))
            if not chunk:
                return False
            fut = self._client.submit(_run_chunk, fn, chunk, pure=False)
            futures[fut.key] = chunk
            ac.add(fut)
            return True

        while len(futures) < window and submit_next():
            pass
        for fut in ac:
            chunk = futures.pop(fut.key)
            results = fut.result()
            fut.release()
            submit_next()
            yield from zip(chunk, results, strict=True)

    def close(self):
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _run_chunk(fn, chunk):
    return [fn(task) for task in chunk]


def make_executor(spec: str = "local", workers: int | None = None) -> Executor:
    """``inline``, ``local``, ``dask`` (a new LocalCluster) or ``dask://HOST:PORT``."""
    if spec == "inline":
        return InlineExecutor()
    if spec == "local":
        return LocalExecutor(workers)
    if spec == "dask":
        return DaskExecutor(workers)
    if spec.startswith("dask://"):
        return DaskExecutor(workers, address=spec.removeprefix("dask://"))
    raise ExecutorError(f"--executor: expected inline, local, dask or dask://HOST:PORT, got {spec!r}")
