"""The sweep benchmark: 20 points x 10 replications of phase1-2023 on each executor.

Points vary Torkham's lanes (40, 42, ..., 78); every point runs replications 0-9 with the scenario's
seed (common random numbers), reduced as they arrive (``sim.studies.experiments.run_variants``, as
``bordersim sweep`` does, without writing a folder). Executors: ``-j 1`` (this process), ``-j 2``
(local process pool) and a 2-worker Dask ``LocalCluster`` (processes, one thread each). Started
once per measure (one run each: the full sweep takes minutes on one core); the cluster's start-up is
not timed, the pool's is (it is part of every command).
``--quick``: 4 points x 2 replications of a period cut to 30 Nov 2023.
"""
from __future__ import annotations

import statistics
import sys
import time

from bench import workloads


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _variants(quick: bool):
    from sim import load_scenario

    overrides = ["period.end=2023-11-30", "target.by=2023-11-30"] if quick else []
    scenario = load_scenario(workloads.PHASE1_SCENARIO, overrides)
    points, replications = (4, 2) if quick else (20, 10)
    lanes = [40 + 2 * index for index in range(points)]
    return [scenario.with_values({"crossings.torkham.lanes": value}) for value in lanes], replications, scenario.run.seed


def _time(variants, replications, seed, executor) -> tuple[float, list]:
    from sim.studies.experiments import run_variants

    started = time.perf_counter()
    results = run_variants(variants, replications, seed, executor)
    seconds = time.perf_counter() - started
    return seconds, [results[index].values for index in sorted(results)]


def bench_sweep(runs: int, quick: bool) -> list[str]:
    import numpy as np
    from distributed import Client, LocalCluster

    from sim.runs.executors import DaskExecutor, ProcessExecutor, SerialExecutor

    variants, replications, seed = _variants(quick)
    runs = 1  # one run per executor whatever --runs says: the full sweep on one core takes minutes
    timings: dict[str, list[float]] = {"-j 1": [], "-j 2": [], "Dask LocalCluster, 2 workers": []}
    reference = None
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=40) as cluster, Client(cluster) as client:
        executors = {"-j 1": SerialExecutor(), "-j 2": ProcessExecutor(2),
                     "Dask LocalCluster, 2 workers": DaskExecutor(client=client)}
        for run in range(runs):
            for label, executor in executors.items():
                seconds, values = _time(variants, replications, seed, executor)
                timings[label].append(seconds)
                _log(f"sweep run {run + 1}/{runs}, {label}: {seconds:.1f} s")
                if reference is None:
                    reference = values
                identical = all(np.array_equal(a[m], b[m], equal_nan=True)
                                for a, b in zip(reference, values) for m in a)
                if not identical:
                    raise SystemExit(f"sweep results on {label} differ from -j 1")
    serial = statistics.median(timings["-j 1"])
    lines = [
        "## Sweep (20 points x 10 replications of phase1-2023; bench/sweep.py)" if not quick else
        "## Sweep (quick: 4 points x 2 replications, period to 30 Nov 2023; bench/sweep.py)",
        "",
        (f"{len(variants)} points (Torkham lanes {variants[0].crossings['torkham'].lanes}-"
         f"{variants[-1].crossings['torkham'].lanes}) x {replications} replications = "
         f"{len(variants) * replications} tasks; results identical on every executor (checked)."),
        "",
        "| executor | wall time | speed-up vs -j 1 |",
        "|---|---|---|",
    ]
    for label, values in timings.items():
        seconds = statistics.median(values)
        lines.append(f"| {label} | {seconds:.1f} s | {serial / seconds:.2f}× |")
    return lines + [""]
