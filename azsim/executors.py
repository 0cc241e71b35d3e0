"""Where runs execute: in-process, a local process pool, or a Dask cluster, behind one interface.

An executor takes an iterable of tasks and a top-level function and yields ``(task, result)``
pairs as they finish, in any order. At most ``window`` tasks are in flight, so a sweep of
100,000 runs never holds more than a few results in memory. Results never depend on the
executor: every task carries its own seed (see :mod:`azsim.sweep`).
"""

from __future__ import annotations

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


class DaskExecutor(Executor):
    """Dask distributed: a new LocalCluster, or a running scheduler at ``address`` (HOST:PORT)."""

    name = "dask"

    def __init__(self, workers: int | None = None, address: str | None = None):
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
                self._cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=40)
                self._client = Client(self._cluster)
        except OSError as err:
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {err}") from None
        except Exception as err:  # distributed raises TimeoutError and friends
            raise ExecutorError(f"cannot start Dask ({address or 'LocalCluster'}): {err}") from None
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {}))) if address else n

    def run(self, fn, tasks):
        from distributed import as_completed

        window = 2 * self.workers
        it = iter(tasks)
        futures = {}
        ac = as_completed()
        for task in it:
            fut = self._client.submit(fn, task, pure=False)
            futures[fut.key] = task
            ac.add(fut)
            if len(futures) >= window:
                break
        for fut in ac:
            task = futures.pop(fut.key)
            result = fut.result()
            fut.release()
            yield task, result
            nxt = next(it, None)
            if nxt is not None:
                new = self._client.submit(fn, nxt, pure=False)
                futures[new.key] = nxt
                ac.add(new)

    def close(self):
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


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
