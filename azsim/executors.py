"""Where runs execute: in-process, a local process pool, or a Dask cluster, behind one interface.

An executor takes an iterable of tasks and a top-level function and yields ``(task, result)``
pairs as they finish, in any order. At most ``window`` tasks are in flight, so a sweep of
100,000 runs never holds more than a few results in memory. Results never depend on the
executor: every task carries its own seed (see :mod:`azsim.sweep`).

Faults. Worker processes on this machine die with their coordinator, ``kill -9`` included: each
pool worker asks Linux for SIGKILL when its parent dies (``PR_SET_PDEATHSIG``) and, everywhere,
a watchdog thread checks every half second that the coordinator process (by PID and start time)
still exists; Dask LocalCluster workers run the same watchdog (:func:`dask_setup`, a worker
preload). A pool worker that dies (killed, out of memory) is replaced and the tasks it may have
been running are run again, one at a time; a task that kills its worker twice is handed to the
caller's ``died`` function (the sweep stores it as a failed run) and the others go on. Workers
ignore SIGINT: Ctrl-C is the coordinator's to handle, and it stops the workers at once.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any

__all__ = ["Executor", "make_executor", "parse_executor", "InlineExecutor", "LocalExecutor", "DaskExecutor",
           "ExecutorError", "WORKER_DIED", "EXECUTOR_CHOICES", "deferred_interrupt"]

EXECUTOR_CHOICES = "inline, local, dask or dask://HOST:PORT (also dask://tcp://HOST:PORT, dask://tls://HOST:PORT)"
WORKER_DIED = "worker died twice running this run"
"""The error stored for a run whose worker process died twice while running it."""

_WATCH_SECONDS = 0.5
_COORDINATOR_ENV = "AZSIM_COORDINATOR_PID"  # "PID:START" of the coordinator, in a worker's environment


class ExecutorError(Exception):
    """An executor could not be started (bad address, no scheduler...)."""


@contextmanager
def deferred_interrupt():
    """Hold Ctrl-C (SIGINT) until the block ends, then raise it as usual: for steps that must not stop
    halfway (writing a run, starting a Dask cluster). Only in the main thread, where Python delivers
    signals; elsewhere, or under a handler Python did not install, a plain block."""
    previous = signal.getsignal(signal.SIGINT) if threading.current_thread() is threading.main_thread() else None
    if previous is None:
        yield
        return
    held: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if held:
        if callable(previous):
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


# ---- workers die with their coordinator ---------------------------------------------------------
def _start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), to tell it from a later process
    that reuses its PID; None where /proc is not available."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    try:
        return int(stat[stat.rindex(b")") + 2:].split()[19])
    except (ValueError, IndexError):
        return None


def coordinator_alive(pid: int, start: int | None) -> bool:
    """Whether process ``pid`` (started at ``start``, see :func:`_start_time`) still runs: not gone,
    not a zombie, not a new process with the same PID."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    fields = stat[stat.rindex(b")") + 2:].split()
    if fields[0] in (b"Z", b"X"):
        return False
    return start is None or int(fields[19]) == start


def _watch_coordinator(pid: int, start: int | None) -> None:
    """Start a daemon thread that ends this process as soon as the coordinator is gone."""

    def watch() -> None:
        while coordinator_alive(pid, start):
            time.sleep(_WATCH_SECONDS)
        os._exit(70)

    threading.Thread(target=watch, name="azsim-coordinator-watch", daemon=True).start()


def _die_with_parent() -> bool:
    """Linux: SIGKILL this process when the thread that created it ends (PR_SET_PDEATHSIG)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(1, signal.SIGKILL, 0, 0, 0) == 0  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return False


def _worker_init(coordinator: int, start: int | None, deathsig: bool, parent_is_coordinator: bool) -> None:
    """Pool worker initialiser: ignore Ctrl-C, die with the coordinator."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.environ[_COORDINATOR_ENV] = f"{coordinator}:{'' if start is None else start}"
    if deathsig:
        _die_with_parent()
    if parent_is_coordinator and os.getppid() != coordinator:  # it died before the request took effect
        os._exit(70)
    _watch_coordinator(coordinator, start)


def dask_setup(worker=None) -> None:
    """Dask worker preload (``preload=["azsim.executors"]``): a LocalCluster worker started by azsim
    ignores Ctrl-C and ends when its coordinator does. A no-op in workers azsim did not start."""
    mark = os.environ.get(_COORDINATOR_ENV)
    if not mark:
        return
    pid, _, start = mark.partition(":")
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread
        pass
    _die_with_parent()  # the forkserver, which goes when the coordinator does
    _watch_coordinator(int(pid), int(start) if start else None)


# ---- executors ----------------------------------------------------------------------------------
class Executor:
    name = "executor"
    workers = 1

    def run(self, fn: Callable, tasks: Iterable,
            died: Callable[[Any, str], Any] | None = None) -> Iterator[tuple[Any, Any]]:  # pragma: no cover
        """Yield ``(task, fn(task))`` as tasks finish. A task whose worker process died twice while
        running it yields ``(task, died(task, reason))`` (without ``died``: ExecutorError)."""
        raise NotImplementedError

    def close(self) -> None:
        """Wait for running tasks and stop the workers."""

    def abort(self) -> None:
        """Stop the workers now (after an exception or Ctrl-C): running tasks are lost."""
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.close()
        else:
            self.abort()


class InlineExecutor(Executor):
    """Runs every task in this process, one after the other."""

    name = "inline"

    def run(self, fn, tasks, died=None):
        for task in tasks:
            yield task, fn(task)


def _gave_up(task, reason: str, died):
    if died is None:
        raise ExecutorError(f"{reason}: {task!r}")
    return died(task, reason)


class LocalExecutor(Executor):
    """A pool of worker processes on this machine (default: all cores).

    A worker that dies (killed, out of memory) breaks Python's pool: the pool is replaced and the
    tasks that were in flight are run again one at a time, so that a second death is surely the
    task's own; such a task is given up (``died``) and the rest go on.
    """

    name = "local"

    def __init__(self, workers: int | None = None):
        self.workers = workers or os.cpu_count() or 1
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        ctx = multiprocessing.get_context()
        method = ctx.get_start_method()
        # the parent-death signal follows the thread that forks a worker: ask for it only when that is
        # the main thread (a Streamlit script thread ends after each rerun), and fork the workers now
        main = threading.current_thread() is threading.main_thread()
        pid = os.getpid()
        pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=ctx, initializer=_worker_init,
            initargs=(pid, _start_time(pid), method == "forkserver" or main, main and method != "forkserver"))
        if main:
            pool.submit(int)  # starts the workers from this thread
        return pool

    def run(self, fn, tasks, died=None):
        window = 2 * self.workers
        source = iter(tasks)
        keys = itertools.count()
        fresh: deque = deque()  # (key, task) not run yet (a submission refused by a broken pool)
        suspects: deque = deque()  # (key, task) in flight when a worker died: rerun one at a time
        strikes: dict[int, int] = {}
        pending: dict[Future, tuple[int, Any]] = {}
        end = object()
        empty_breaks = 0  # pools in a row that broke before running anything

        def submit(item, queue) -> bool:
            try:
                pending[self._pool.submit(fn, item[1])] = item
                return True
            except BrokenProcessPool:
                queue.appendleft(item)
                return False

        while True:
            broken = False
            if suspects:
                if not pending:
                    broken = not submit(suspects.popleft(), suspects)
            else:
                while len(pending) < window:
                    if fresh:
                        item = fresh.popleft()
                    else:
                        task = next(source, end)
                        if task is end:
                            break
                        item = (next(keys), task)
                    if not submit(item, fresh):
                        broken = True
                        break
            if not pending and not broken:
                return
            done = set() if broken else wait(pending, return_when=FIRST_COMPLETED)[0]
            lost = []
            for fut in done:
                item = pending.pop(fut)
                try:
                    out = fut.result()
                except BrokenProcessPool:
                    lost.append(item)
                    broken = True
                    continue
                yield item[1], out
            if not broken:
                continue
            # a worker died: every other future of this pool has finished or failed with it
            wait(pending, timeout=60)
            for fut, item in sorted(pending.items(), key=lambda kv: kv[1][0]):
                try:
                    out = fut.result(timeout=0)
                except (BrokenProcessPool, TimeoutError):  # died with the pool (or never resolved)
                    lost.append(item)
                    continue
                yield item[1], out
            pending.clear()
            empty_breaks = 0 if lost else empty_breaks + 1
            if empty_breaks > 3:
                raise ExecutorError("the process pool's workers keep dying as they start (out of memory?)")
            self._replace_pool()
            for key, task in sorted(lost, key=lambda kt: kt[0]):
                strikes[key] = strikes.get(key, 0) + 1
                if strikes[key] >= 2:
                    del strikes[key]
                    yield task, _gave_up(task, WORKER_DIED, died)
                else:
                    suspects.append((key, task))

    def _replace_pool(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._new_pool()

    def close(self):
        self._pool.shutdown(wait=True, cancel_futures=True)

    def abort(self):
        processes = list((getattr(self._pool, "_processes", None) or {}).values())
        for proc in processes:
            try:
                proc.kill()
            except (OSError, ValueError, AttributeError):
                pass
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
    """Dask distributed: a new LocalCluster, or a running scheduler at ``address``
    (``tcp://HOST:PORT``, ``tls://HOST:PORT``, or ``HOST:PORT`` meaning tcp; see :func:`parse_executor`).

    The Dask scheduler runs code that clients send it: connect only to a scheduler on this machine
    (127.0.0.1) or to one secured with TLS (README, "Dask").
    """

    name = "dask"

    def __init__(self, workers: int | None = None, address: str | None = None, chunk: int = 4):
        self.chunk = max(1, int(chunk))
        if address is not None:
            address = _scheduler_address(address, f"dask://{address}")
        try:
            from distributed import Client, LocalCluster
        except ImportError as err:  # pragma: no cover - a declared dependency
            raise ExecutorError(f"dask.distributed is not installed: {err}") from None
        self._cluster = None
        self._client = None
        if address and address.startswith("tls://"):
            _check_tls_config(address)
        try:
            if address:
                self._client = Client(address, timeout="5s")
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
                pid = os.getpid()
                start = _start_time(pid)
                # a cluster interrupted while it starts cannot be closed (its half-started workers print
                # tracebacks): Ctrl-C waits until it runs, then stops it
                try:
                    with deferred_interrupt(), dask.config.set(quiet_workers):
                        _preload_azsim_in_forkserver()
                        # the workers ignore Ctrl-C and end with this process (dask_setup, below)
                        self._cluster = LocalCluster(
                            n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                            silence_logs=40, preload=["azsim.executors"],
                            env={_COORDINATOR_ENV: f"{pid}:{'' if start is None else start}"})
                        self._client = Client(self._cluster)
                except KeyboardInterrupt:
                    self._close_quietly()
                    raise
        except OSError as err:
            self._close_quietly()
            raise ExecutorError(f"cannot reach the Dask scheduler at {address}: {err}") from None
        except Exception as err:  # distributed raises TimeoutError and friends
            self._close_quietly()
            raise ExecutorError(f"cannot start Dask ({address or 'LocalCluster'}): {err}") from None
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {}))) if address else n

    def run(self, fn, tasks, died=None):
        """Tasks travel in small chunks (``chunk`` runs per Dask task: Dask's own cost of a task, a
        few milliseconds, is then shared by several runs); results are still handed back, and stored,
        one run at a time. Dask itself reruns a task whose worker died (up to the scheduler's
        ``allowed-failures``); when it gives up (KilledWorker) on a chunk of several runs, each of them
        is sent again on its own, so that only a run that kills its worker each time goes to ``died``."""
        from distributed import KilledWorker, as_completed

        window = 4 * self.workers  # keep every worker's queue non-empty between results
        it = iter(tasks)
        alone: deque = deque()  # tasks of a chunk Dask gave up on, to be tried one at a time
        futures = {}
        ac = as_completed()

        def submit_next() -> bool:
            chunk = [alone.popleft()] if alone else list(itertools.islice(it, self.chunk))
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
            try:
                results = fut.result()
            except KilledWorker:
                fut.release()
                if len(chunk) > 1:  # which run killed the worker? each again on its own
                    alone.extend(chunk)
                    while len(futures) < window and submit_next():
                        pass
                    continue
                results = [_gave_up(chunk[0], "worker died running this run each time Dask tried it (KilledWorker)",
                                    died)]
            else:
                fut.release()
            while len(futures) < window and submit_next():
                pass
            yield from zip(chunk, results, strict=True)

    def _close_quietly(self) -> None:
        parts, self._client, self._cluster = (self._client, self._cluster), None, None
        for part in parts:
            if part is not None:
                try:
                    part.close()
                except Exception:  # already broken: nothing more to do
                    pass

    def close(self):
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()

    def abort(self):
        self._close_quietly()


_TLS_SETTINGS = {"distributed.comm.tls.ca-file": "DASK_DISTRIBUTED__COMM__TLS__CA_FILE",
                 "distributed.comm.tls.client.cert": "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT",
                 "distributed.comm.tls.client.key": "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY"}


def _check_tls_config(address: str) -> None:
    """A tls:// scheduler needs this client's CA file, certificate and key (Dask's configuration)."""
    import dask

    missing = [env for key, env in _TLS_SETTINGS.items() if not dask.config.get(key, None)]
    if missing:
        raise ExecutorError(f"--executor dask://{address}: a TLS scheduler needs this client's CA file, certificate "
                            f"and key; set {', '.join(missing)} (README, Dask)")


def _run_chunk(fn, chunk):
    return [fn(task) for task in chunk]


_HOST_PORT = re.compile(r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):(\d{1,5})")


def _scheduler_address(address: str, flag: str) -> str:
    """``tcp://HOST:PORT`` or ``tls://HOST:PORT`` from a Dask scheduler address (``HOST:PORT`` means
    tcp); any other scheme, or no address, is an ExecutorError naming ``flag``."""
    if not address:
        raise ExecutorError("--executor dask://: give the scheduler's address, e.g. dask://127.0.0.1:8786; "
                            "use --executor dask for a local cluster")
    scheme, sep, rest = address.partition("://")
    if not sep:
        scheme, rest = "tcp", address
    elif scheme.lower() not in ("tcp", "tls"):
        raise ExecutorError(f"--executor {flag}: only tcp:// and tls:// scheduler addresses are accepted "
                            f"(got {scheme}://), e.g. dask://tls://HOST:8786")
    m = _HOST_PORT.fullmatch(rest)
    if m is None or not 1 <= int(m.group(1)) <= 65535:
        raise ExecutorError(f"--executor {flag}: expected the scheduler's HOST:PORT, e.g. dask://127.0.0.1:8786 "
                            "or dask://tls://HOST:8786")
    return f"{scheme.lower()}://{rest}"


def parse_executor(spec: str) -> tuple[str, str | None]:
    """Check an ``--executor`` value without starting anything: ``(kind, address)`` with kind
    ``inline``, ``local`` or ``dask`` and address a ``tcp://`` or ``tls://`` scheduler address (None
    for a new LocalCluster). Anything else is an ExecutorError naming the choices."""
    spec = str(spec)
    if spec in ("inline", "local", "dask"):
        return spec, None
    if spec.startswith("dask://"):
        return "dask", _scheduler_address(spec.removeprefix("dask://"), spec)
    raise ExecutorError(f"--executor: expected {EXECUTOR_CHOICES}, got {spec!r}")


def make_executor(spec: str = "local", workers: int | None = None) -> Executor:
    """``inline``, ``local``, ``dask`` (a new LocalCluster) or ``dask://HOST:PORT`` (see :func:`parse_executor`)."""
    kind, address = parse_executor(spec)
    if kind == "inline":
        return InlineExecutor()
    if kind == "local":
        return LocalExecutor(workers)
    return DaskExecutor(workers, address=address)
