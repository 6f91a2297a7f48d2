"""Replications as independent tasks on an executor (:mod:`sim.runs.executors`): serial, processes or Dask.

A replication's random streams depend only on (seed, replication index, stream name), so the
results are identical whichever executor runs them and in whatever order they finish; the runner
sorts them by replication before anything is written.

Local workers are started with ``fork`` where the platform has it: they inherit the imported engine
and the parsed scenario, so start-up costs nothing. Only the small per-replication counters travel
back. A scenario's ``uncertain:`` values are drawn in the worker, per replication (:mod:`sim.runs.uncertain`).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from sim.model.engine import World, build_world, run_replication
from sim.model.outcome import ReplicationOutcome
from sim.runs import executors, uncertain
from sim.scenario import uncertain_sample

ProgressCallback = Callable[[int], None]
"""Called with the number of replications finished so far."""


def default_jobs() -> int:
    """All cores this process may use."""
    return executors.default_jobs()


class ReplicationJob:
    """One task per replication index: apply the scenario's ``uncertain:`` draws, then simulate.

    The world (the scenario's static layout) is built once per worker and reused, except in a
    replication whose uncertain draws changed the scenario. Picklable for any executor.
    """

    def __init__(self, scenario, seed: int, trace: bool = False) -> None:
        self.scenario = scenario
        self.seed = seed
        self.trace = trace
        self._world: World | None = None
        # A joint sample travels with the job (once per worker), so a worker needs no copy of its file.
        self.sample = uncertain.sample_of(scenario)

    def __getstate__(self):
        return {**self.__dict__, "_world": None}

    def __setstate__(self, state) -> None:
        self.__dict__.update(state)
        if self.sample is not None:
            uncertain_sample.remember(self.sample)

    def scenario_for(self, replication: int):
        """The scenario as this replication sees it (with its uncertain values drawn)."""
        return uncertain.apply(self.scenario, self.seed, replication)

    def __call__(self, replication: int) -> ReplicationOutcome:
        scenario = self.scenario_for(replication)
        if scenario is self.scenario:
            if self._world is None:
                self._world = build_world(scenario)
            world = self._world
        else:
            world = build_world(scenario)
        outcome = run_replication(scenario, replication, self.seed, self.trace, world)
        # The values this replication drew travel with its totals into replications.csv.
        outcome.totals.update(uncertain.totals(self.scenario, self.seed, replication))
        return outcome


def run_replications(
    scenario,
    replications: Iterable[int],
    seed: int,
    jobs: int = 1,
    progress: ProgressCallback | None = None,
    trace: bool = False,
    executor: executors.Executor | None = None,
) -> list[ReplicationOutcome]:
    """Run the given replication indices and return their outcomes in replication order.

    ``executor`` (see :mod:`sim.runs.executors`) defaults to this process for ``jobs`` 1 and to a pool
    of ``jobs`` local processes otherwise.
    """
    indices = list(replications)
    owned = executor is None
    if owned:
        if jobs <= 1 or len(indices) <= 1:
            executor = executors.SerialExecutor()
        else:
            executor = executors.ProcessExecutor(min(jobs, len(indices)))
    outcomes: list[ReplicationOutcome] = []
    try:
        for outcome in executor.map_unordered(ReplicationJob(scenario, seed, trace), indices):
            outcomes.append(outcome)
            if progress:
                progress(len(outcomes))
    finally:
        if owned:
            executor.close()  # its workers live until closed
    return sorted(outcomes, key=lambda outcome: outcome.replication)


__all__ = ["ReplicationJob", "World", "default_jobs", "run_replications"]
