"""``sim.run``: replications of one scenario, reduced to the tables of a results folder."""
from __future__ import annotations

import time
from datetime import datetime

import numpy as np
import pandas as pd

from sim.outputs.results import RunResult
from sim.runs.runner import ProgressCallback, default_jobs, run_replications


def run(
    scenario,
    replications: int | None = None,
    seed: int | None = None,
    jobs: int | None = None,
    progress: ProgressCallback | None = None,
    trace: bool = False,
    observed: pd.DataFrame | None = None,
    command_line: list[str] | None = None,
    executor=None,
    every: str = "week",
) -> RunResult:
    """Run ``replications`` of ``scenario`` (defaults: its ``run:`` block) on ``jobs`` processes, or
    on ``executor`` (:mod:`sim.runs.executors`, e.g. a Dask cluster) when given.

    Returns a :class:`~sim.outputs.results.RunResult` whose ``.daily``, ``.replications``, ``.projection``
    and ``.summary`` are pandas DataFrames and whose ``.save(path)`` writes the results folder.
    ``every`` (``week``, ``month`` or ``day``) spaces the rows of the projection and of ``needs.csv``.
    """
    replications = scenario.run.replications if replications is None else replications
    seed = scenario.run.seed if seed is None else seed
    jobs = default_jobs() if jobs is None else jobs
    started = datetime.now().astimezone()
    clock = time.perf_counter()

    def report(done: int) -> None:
        if progress is not None:
            progress(done, replications)

    outcomes = run_replications(scenario, range(replications), seed, jobs, report, trace, executor)
    extra_tables = {"trace.parquet": _trace_table(scenario, outcomes)} if trace else {}
    from sim.analytic.bound import capacity_bound

    # The analytic ceiling beside the simulated crossings, made when the folder's tables are.
    extra_tables["bound"] = lambda: capacity_bound(scenario).table
    target = scenario.target
    return RunResult(
        scenario=scenario,
        outcomes=outcomes,
        period_start=scenario.period.start,
        target_by=target.by if target else None,
        target_people=target.people if target else None,
        seed=seed,
        command="run",
        command_line=command_line,
        scenario_paths=_source_files(scenario),
        resolve_text=scenario.to_yaml,
        started_at=started,
        ended_at=datetime.now().astimezone(),
        wall_seconds=time.perf_counter() - clock,
        observed=observed,
        extra_tables=extra_tables,
        extra_manifest={"jobs": jobs, **_sample_manifest(scenario)},
        every=every,
        needs=scenario.needs,
    )



def _trace_table(scenario, outcomes) -> pd.DataFrame:
    """Per-household timestamps of the households that departed within the period (the rest never
    left their stock), with groups, camps and crossings by name."""
    names = {"group_id": list(scenario.groups), "camp_id": list(scenario.camps),
             "crossing_id": list(scenario.crossings), "served_at": list(scenario.crossings)}
    frames = []
    for outcome in outcomes:
        trace = dict(outcome.trace)
        departed = np.isfinite(trace["depart_hours"])
        columns = {"replication": outcome.replication, "household": np.flatnonzero(departed)}
        for key, values in trace.items():
            values = values[departed]
            if key in names:
                labels = np.array(names[key] + [""], dtype=object)  # index -1 (none) picks ""
                columns[key.removesuffix("_id")] = labels[values]
            else:
                columns[key] = values
        frames.append(pd.DataFrame(columns))
    return pd.concat(frames, ignore_index=True)


def _sample_manifest(scenario) -> dict:
    """Which joint sample the replications drew from (``uncertain: {sample: FILE}``), by content."""
    from sim.outputs.results import sha256_file
    from sim.runs.uncertain import sample_of

    sample = sample_of(scenario)
    if sample is None:
        return {}
    return {"uncertain_sample": {"path": sample.path, "rows": sample.rows, "sha256": sha256_file(sample.path)}}


def _source_files(scenario) -> list[str]:
    """The scenario file and the bases it extends, as written (copied into the results folder)."""
    files = getattr(scenario, "source_files", None)
    if files:
        return list(files)
    return [scenario.source] if scenario.source and not scenario.source.startswith("<") else []
