"""Replications as independent tasks: serially, or on a local process pool.

A replication's random streams depend only on (seed, replication index, stream name), so the
results are identical whichever executor runs them and in whatever order they finish; the runner
sorts them by replication before anything is written.

Workers are started with ``fork`` where the platform has it: they inherit the imported engine and
the parsed scenario, so start-up costs nothing. Only the small per-replication counters travel back.
"""
from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed

from sim.engine import World, build_world, run_replication
from sim.outcome import ReplicationOutcome

ProgressCallback = Callable[[int], None]
"""Called with the number of replications finished so far."""

_worker_state: dict = {}


def default_jobs() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _init_worker(scenario, seed: int, trace: bool) -> None:
    _worker_state.update(scenario=scenario, seed=seed, trace=trace, world=build_world(scenario))


def _run_in_worker(replication: int) -> ReplicationOutcome:
    state = _worker_state
    return run_replication(state["scenario"], replication, state["seed"], state["trace"], state["world"])


def _pool_context():
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


def run_replications(
    scenario,
    replications: Iterable[int],
    seed: int,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
    trace: bool = False,
) -> list[ReplicationOutcome]:
    """Run the given replication indices and return their outcomes in replication order."""
    indices = list(replications)
    outcomes: list[ReplicationOutcome] = []
    if jobs <= 1 or len(indices) <= 1:
        world = build_world(scenario)
        for replication in indices:
            outcomes.append(run_replication(scenario, replication, seed, trace, world))
            if progress:
                progress(len(outcomes))
    else:
        with ProcessPoolExecutor(max_workers=min(jobs, len(indices)), mp_context=_pool_context(),
                                 initializer=_init_worker, initargs=(scenario, seed, trace)) as pool:
            futures = [pool.submit(_run_in_worker, replication) for replication in indices]
            for future in as_completed(futures):
                outcomes.append(future.result())
                if progress:
                    progress(len(outcomes))
    return sorted(outcomes, key=lambda outcome: outcome.replication)


__all__ = ["World", "default_jobs", "run_replications"]
