"""Executors: serial, local processes and a real Dask LocalCluster give identical results."""
from __future__ import annotations

import itertools
import os
import time

import numpy as np
import pytest
from experiment_scenarios import write_tiny

from sim.runs.executors import DaskExecutor, ProcessExecutor, SerialExecutor, make_executor
from sim.runs.runner import run_replications
from sim.scenario import load_scenario
from sim.studies.compare import compare


def _square(value: int) -> int:
    return value * value


def _same_outcomes(first, second) -> None:
    assert [o.replication for o in first] == [o.replication for o in second]
    for a, b in zip(first, second):
        assert a.totals == b.totals
        assert a.verdict == b.verdict
        assert a.daily.keys() == b.daily.keys()
        for key in a.daily:
            np.testing.assert_array_equal(a.daily[key], b.daily[key])


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    folder = tmp_path_factory.mktemp("executors")
    tiny, doubled = write_tiny(folder)
    uncertain = load_scenario(tiny, ["uncertain={crossings.torkham.lanes: {dist: uniform, low: 1, high: 4}}"])
    return load_scenario(tiny), load_scenario(doubled), uncertain


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=40) as local, distributed.Client(local) as client:
        yield local, client


def test_map_unordered_every_task_once_and_lazily() -> None:
    for executor in (SerialExecutor(), ProcessExecutor(2)):
        consumed = itertools.count()
        tasks = (next(consumed) * 0 + value for value in range(50))
        assert sorted(executor.map_unordered(_square, tasks)) == [value * value for value in range(50)]
    # Tasks are taken lazily: after the first result, only a few have been submitted.
    taken = []

    def tasks():
        for value in range(1000):
            taken.append(value)
            yield value

    results = ProcessExecutor(2).map_unordered(_square, tasks())
    next(results)
    assert len(taken) <= 2 * 2 + 2
    results.close()


def _worker_pid(_task) -> int:
    time.sleep(0.02)  # long enough for both workers to take tasks
    return os.getpid()


def test_process_pool_lives_across_calls_with_the_same_function_until_closed() -> None:
    with ProcessExecutor(2) as executor:
        first = set(executor.map_unordered(_worker_pid, range(8)))
        second = set(executor.map_unordered(_worker_pid, range(8)))
        # The same two worker processes served both calls (a pool per call would fork new ones).
        assert len(first | second) <= 2 and os.getpid() not in first
        assert executor.pools_started == 1
        assert sorted(executor.map_unordered(_square, range(4))) == [0, 1, 4, 9]  # another function: a new pool
        assert executor.pools_started == 2
        third = set(executor.map_unordered(_square, range(4)))
        assert executor.pools_started == 2 and third == {0, 1, 4, 9}
    assert executor.pools_started == 2
    # closed: the workers are gone; a later call starts a pool again
    assert set(executor.map_unordered(_worker_pid, range(4))).isdisjoint(first | second)
    assert executor.pools_started == 3
    executor.close()


def test_make_executor_choice(monkeypatch) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert isinstance(make_executor(1), SerialExecutor)
    assert isinstance(make_executor(2), ProcessExecutor)


def test_serial_processes_and_dask_identical(scenarios, cluster, monkeypatch) -> None:
    base, _, uncertain = scenarios
    local, client = cluster
    for scenario in (base, uncertain):
        serial = run_replications(scenario, range(4), seed=11, jobs=1)
        processes = run_replications(scenario, range(4), seed=11, executor=ProcessExecutor(2))
        dask = run_replications(scenario, range(4), seed=11, executor=DaskExecutor(client=client))
        _same_outcomes(serial, processes)
        _same_outcomes(serial, dask)
    # DASK_SCHEDULER_ADDRESS selects Dask even with -j 1
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", local.scheduler_address)
    with make_executor(1) as executor:
        assert isinstance(executor, DaskExecutor)
        assert sorted(executor.map_unordered(_square, range(5))) == [0, 1, 4, 9, 16]


def test_compare_identical_on_every_executor(scenarios, cluster) -> None:
    base, doubled, _ = scenarios
    _, client = cluster
    tables = [compare([base, doubled], replications=3, seed=5, executor=executor).table
              for executor in (SerialExecutor(), ProcessExecutor(2), DaskExecutor(client=client))]
    for table in tables[1:]:
        assert table.equals(tables[0])


class _WhereAmI:
    """Returns the worker's process and this object's identity there (a copy per scatter)."""

    def __call__(self, _task):
        time.sleep(0.02)
        return os.getpid(), id(self)


def test_dask_keeps_the_function_on_its_workers_while_it_is_mapped(cluster) -> None:
    _, client = cluster
    executor = DaskExecutor(client=client)
    where = _WhereAmI()
    first = set(executor.map_unordered(where, range(8)))
    second = set(executor.map_unordered(where, range(8)))
    # the same copies served both calls (one per worker process): scattered once, not per call
    assert len(first | second) <= 2, first | second
    executor.close()
    assert executor._scattered is None
