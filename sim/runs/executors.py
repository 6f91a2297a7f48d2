"""Where independent tasks run: in this process, on a local process pool, or on a Dask cluster.

Every executor offers one operation, :meth:`Executor.map_unordered`: apply ``fn`` to each task and
yield the results *as they finish* (in any order). Callers tag their tasks (a replication index, a
``(variant, replication)`` pair) and put the results back in order themselves; a task's random
streams depend only on its identity, so the results are identical whichever executor runs them.

Memory stays flat however many tasks there are: tasks are taken lazily from the iterable and at
most a few per worker are in flight, so neither the pending tasks nor their results pile up.

* :class:`SerialExecutor` — one task after another in this process (``-j 1``).
* :class:`ProcessExecutor` — a local process pool (``-j N``). ``fn`` is handed to each worker
  once, at start-up (inherited through ``fork`` where the platform has it, so the imported engine
  and the parsed scenarios cost nothing); only the small tasks and results travel. The workers
  stay alive between calls with the same ``fn``: a calibration's hundreds of emcee half-steps
  start them once, and whatever ``fn`` caches in a worker (the world, the draws) is reused.
* :class:`DaskExecutor` — a Dask distributed cluster (``--scheduler ADDRESS`` or the environment
  variable ``DASK_SCHEDULER_ADDRESS``), or an existing ``distributed.Client``. ``fn`` is scattered
  to the workers once (and kept there while the same ``fn`` is mapped); tasks are submitted as
  they are needed.

:func:`make_executor` picks one from the command-line options.
"""
from __future__ import annotations

import multiprocessing
import os
import weakref
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, ProcessPoolExecutor, wait
from typing import Any

from sim.runs.worker_memory import frozen_objects, keep_freed_memory, keep_freed_memory_here

SCHEDULER_ENVIRONMENT_VARIABLE = "DASK_SCHEDULER_ADDRESS"
IN_FLIGHT_PER_WORKER = 2
"""Tasks submitted ahead per worker: enough to keep every worker busy, few enough to stay small."""


class ExecutorError(RuntimeError):
    """An executor could not be set up (e.g. no Dask scheduler at the address given)."""


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


class Executor:
    """Runs ``fn(task)`` for every task; :meth:`map_unordered` yields results as they finish."""

    name = "executor"
    workers = 1

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        raise NotImplementedError  # pragma: no cover

    def close(self) -> None:
        """Release workers or connections this executor opened."""

    def describe(self) -> str:
        return self.name

    def __enter__(self):
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class SerialExecutor(Executor):
    """Each task in turn, in this process, in the order given.

    Like a local worker, this process keeps the memory a replication frees for the next one
    (:func:`sim.runs.worker_memory.keep_freed_memory`; opt out with the environment variable
    ``BORDERSIM_KEEP_FREED_MEMORY=0``)."""

    name = "serial"

    def map_unordered(self, fn, tasks):
        keep_freed_memory_here()
        for task in tasks:
            yield fn(task)


# --------------------------------------------------------------------------------------------
# Local processes

_installed: dict[str, Any] = {}


def _install(fn) -> None:
    keep_freed_memory()  # a worker runs tasks of one size: keep what one frees for the next
    _installed["fn"] = fn


def _no_op() -> None:
    """A task that does nothing: submitted first, it makes the pool start its workers."""


def _call_installed(task):
    return _installed["fn"](task)


def _pool_context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class ProcessExecutor(Executor):
    """A local pool of ``jobs`` worker processes, kept alive while :meth:`map_unordered` is called
    with the same ``fn`` (the same object), and stopped by :meth:`close` (or leaving a ``with``
    block, or garbage collection as a safety net).

    Why: a posterior calibration maps one function over each half of its walkers at every step,
    hundreds of calls of a few tasks each; a pool started per call forks the workers hundreds of
    times and loses what they cached. ``fn`` is the worker's copy taken when the pool starts, so a
    caller must not change it between calls (a call with another ``fn`` starts a new pool)."""

    name = "processes"

    def __init__(self, jobs: int | None = None) -> None:
        self.workers = max(1, jobs or default_jobs())
        self.pools_started = 0
        """How many pools this executor has started (one per ``fn``; tests count them)."""
        self._pool: ProcessPoolExecutor | None = None
        self._fn = None
        self._finalizer: weakref.finalize | None = None

    def describe(self) -> str:
        return f"{self.workers} local processes"

    def map_unordered(self, fn, tasks):
        iterator = iter(tasks)
        first = next(iterator, _END)
        if first is _END:
            return
        pool = self._pool_for(fn)
        try:
            yield from _bounded(lambda task: pool.submit(_call_installed, task), _chain(first, iterator),
                                self.workers * IN_FLIGHT_PER_WORKER, _wait_local)
        except BrokenExecutor:
            self.close()  # a worker died: the next call starts a fresh pool
            raise

    def _pool_for(self, fn) -> ProcessPoolExecutor:
        """The running pool if it was started for ``fn``; else a new one (the old one stopped)."""
        if self._pool is not None and self._fn is not fn:
            self.close()
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=_pool_context(),
                                             initializer=_install, initargs=(fn,))
            with frozen_objects():  # forked now, the workers never collect the parent's objects
                self._pool.submit(_no_op)  # under fork, the first submit starts every worker
            self._fn = fn
            self.pools_started += 1
            self._finalizer = weakref.finalize(self, self._pool.shutdown, wait=False, cancel_futures=True)
        return self._pool

    def close(self) -> None:
        """Stop the workers (they finish the task in hand; queued tasks are cancelled)."""
        pool, self._pool, self._fn = self._pool, None, None
        if pool is not None:
            self._finalizer.detach()
            pool.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------------------------
# Dask distributed


def _apply(fn, task):
    return fn(task)


class DaskExecutor(Executor):
    """Tasks on a Dask distributed cluster: give a scheduler ``address`` or a ``client``."""

    name = "dask"

    def __init__(self, address: str | None = None, client=None, timeout: float = 10.0) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ExecutorError("Dask is not installed: pip install 'bordersim[dask]'") from None
        self._owns_client = client is None
        if client is None:
            try:
                client = Client(address, timeout=timeout, set_as_default=False)
            except (OSError, TimeoutError, ValueError) as error:
                raise ExecutorError(f"cannot connect to the Dask scheduler at {address}: {error}") from None
        self.client = client
        self.address = address or getattr(client.scheduler, "address", "?")
        self.workers = max(1, sum(info.get("nthreads", 1) for info in
                                  client.scheduler_info().get("workers", {}).values()))
        self._scattered: tuple[Callable, Any] | None = None  # (fn, its future on the workers)

    def describe(self) -> str:
        return f"Dask cluster at {self.address} ({self.workers} worker threads)"

    def _scattered_fn(self, fn):
        """``fn`` on every worker, scattered once while the same function is mapped (as the process
        pool keeps its workers): what it caches on a worker serves every later call there."""
        if self._scattered is not None and self._scattered[0] is not fn:
            self._release_fn()
        if self._scattered is None:
            [future] = self.client.scatter([fn], broadcast=True, hash=False)
            self._scattered = (fn, future)
        return self._scattered[1]

    def _release_fn(self) -> None:
        scattered, self._scattered = self._scattered, None
        if scattered is not None:
            scattered[1].release()

    def map_unordered(self, fn, tasks):
        from distributed import as_completed

        iterator = iter(tasks)
        first = next(iterator, _END)
        if first is _END:
            return
        fn_future = self._scattered_fn(fn)
        completed = as_completed(loop=self.client.loop)  # this client, not a process-wide default
        limit = self.workers * IN_FLIGHT_PER_WORKER
        live: set = set()

        def submit(task):
            future = self.client.submit(_apply, fn_future, task, pure=False)
            completed.add(future)
            live.add(future)
            return future

        in_flight = 0
        pending = _chain(first, iterator)
        try:
            for task in pending:
                submit(task)
                in_flight += 1
                if in_flight >= limit:
                    break
            for future in completed:
                result = future.result()
                live.discard(future)
                future.release()
                in_flight -= 1
                for task in pending:
                    submit(task)
                    in_flight += 1
                    break
                yield result
        finally:
            for future in live:
                future.cancel()

    def close(self) -> None:
        self._release_fn()
        if self._owns_client:
            self.client.close()


# --------------------------------------------------------------------------------------------


_END = object()


def _chain(first, iterator):
    yield first
    yield from iterator


def _wait_local(futures):
    done, _ = wait(futures, return_when=FIRST_COMPLETED)
    return done


def _bounded(submit: Callable[[Any], Future], tasks: Iterator[Any], limit: int, wait_some) -> Iterator[Any]:
    """Keep at most ``limit`` tasks in flight; yield each result when its task finishes."""
    in_flight: set[Future] = set()
    try:
        for task in tasks:
            future = submit(task)
            in_flight.add(future)
            if len(in_flight) >= limit:
                break
        exhausted = len(in_flight) < limit
        while in_flight:
            for future in wait_some(in_flight):
                in_flight.discard(future)
                result = future.result()
                if not exhausted:
                    task = next(tasks, _END)
                    if task is _END:
                        exhausted = True
                    else:
                        in_flight.add(submit(task))
                yield result
    finally:
        for future in in_flight:
            future.cancel()


def scheduler_address(option: str | None) -> str | None:
    """The Dask scheduler to use: ``--scheduler`` if given, else ``$DASK_SCHEDULER_ADDRESS``."""
    if option:
        return option
    return os.environ.get(SCHEDULER_ENVIRONMENT_VARIABLE) or None


def make_executor(jobs: int | None = None, scheduler: str | None = None) -> Executor:
    """Dask when a scheduler address is given (or in the environment), else processes or serial.

    ``jobs`` None means all cores; 1 runs in this process.
    """
    address = scheduler_address(scheduler)
    if address:
        return DaskExecutor(address)
    jobs = default_jobs() if jobs is None else jobs
    return SerialExecutor() if jobs <= 1 else ProcessExecutor(jobs)


__all__ = ["DaskExecutor", "Executor", "ExecutorError", "ProcessExecutor", "SerialExecutor", "default_jobs",
           "make_executor", "scheduler_address"]
