"""The Run button: N replications of the edited scenario and of the unchanged one, side by side.

Both run replications ``0..N-1`` with the scenario's seed, so replication *r* of each sees the same
households, departures and service times (common random numbers, as ``bordersim compare``): the
difference between them, taken replication by replication, is the effect of the edit alone, and
its interval is much narrower than that of two independent runs. The unchanged scenario's
replications are kept per N, so a second question costs only the edited scenario's runs.

A run happens in a thread of the app (replications one after another in it), reporting progress;
the page polls :meth:`Job.status`. Its size is checked first with the estimate of
:mod:`sim.runs.size_guard`, against :data:`MAX_RUN_HOURS` and the memory available, and N is
capped at :data:`MAX_REPLICATIONS`: a page cannot start what the machine cannot finish soon. The
edited run is saved as a results folder under the app's results root, like ``bordersim run``.
"""
from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from sim.explorer.workspace import Checked, Workspace
from sim.runs import size_guard
from sim.runs.study import run as run_study
from sim.studies import experiments

MAX_REPLICATIONS = 200
MAX_RUN_HOURS = 0.25
"""A run the size guard expects to take longer than this is refused (the page is for quick questions)."""
BAND = (5, 50, 95)


class RunRefused(ValueError):
    """A run too large for the explorer; the message says why and what to do."""


@dataclass
class Job:
    """One press of the Run button."""

    id: str
    replications: int
    total: int
    done: int = 0
    state: str = "running"  # running, done, failed
    message: str = ""
    result: dict[str, Any] | None = None
    folder: Path | None = None

    def status(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "done": self.done, "total": self.total,
                "message": self.message, "result": self.result}


def check_size(baseline, scenario, replications: int) -> None:
    """Refuse N outside 1..MAX_REPLICATIONS, or a run the size guard finds too large or too long."""
    if not 1 <= replications <= MAX_REPLICATIONS:
        raise RunRefused(f"replications must be between 1 and {MAX_REPLICATIONS}, got {replications}")
    estimates = [size_guard.estimate(each, replications, 1) for each in (baseline, scenario)]
    try:
        size_guard.check(size_guard.combine(estimates), None, MAX_RUN_HOURS, "explore run")
    except size_guard.RunTooLarge as error:
        raise RunRefused(str(error).replace("--max-hours", "the explorer's limit of")) from None


class Runs:
    """The app's runs by id, and the unchanged scenario's results by N."""

    def __init__(self, workspace: Workspace, observed: list[tuple[str, float, bool]]) -> None:
        self.workspace = workspace
        self.observed = observed
        self.jobs: dict[str, Job] = {}
        self._baselines: dict[int, Any] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)

    def start(self, checked: Checked, replications: int) -> Job:
        if checked.scenario is None:
            raise RunRefused("the scenario has problems: fix the inputs marked in red first")
        check_size(self.workspace.baseline, checked.scenario, replications)
        baseline_cached = replications in self._baselines
        job = Job(f"run{next(self._ids)}", replications, replications * (1 if baseline_cached else 2))
        self.jobs[job.id] = job
        threading.Thread(target=self._work, args=(job, checked), daemon=True, name=job.id).start()
        return job

    def _work(self, job: Job, checked: Checked) -> None:
        try:
            baseline = self._baseline(job)
            offset = job.done
            edited = run_study(checked.scenario, replications=job.replications, jobs=1,
                               progress=lambda done, total: setattr(job, "done", offset + done))
            edited.command = "explore"
            job.folder = edited.save(results_root=self.workspace.results_root)
            job.result = summarise(baseline, edited, self.observed)
            job.result["folder"] = str(job.folder)
            job.state = "done"
        except Exception as error:  # noqa: BLE001 - reported on the page, the app keeps serving
            job.message = f"{type(error).__name__}: {error}"
            job.state = "failed"

    def _baseline(self, job: Job):
        with self._lock:  # two tabs asking for the same N run it once
            if job.replications not in self._baselines:
                self._baselines[job.replications] = run_study(
                    self.workspace.baseline, replications=job.replications, jobs=1,
                    progress=lambda done, total: setattr(job, "done", done))
            return self._baselines[job.replications]


def _cumulative_crossed(result) -> np.ndarray:
    """Replications × days: people crossed at all crossings by the end of each day."""
    return np.array([outcome.daily[("all", "all", "crossed_people_cumulative")] for outcome in result.outcomes])


def _band(array: np.ndarray) -> dict[str, list[float]]:
    quantiles = np.percentile(array, BAND, axis=0)
    return {f"p{q:02d}": [round(float(v)) for v in row] for q, row in zip(BAND, quantiles)}


def _metrics(result) -> dict[str, np.ndarray]:
    rows = [experiments.reduce_outcome(outcome, result.period_start, result.target_by) for outcome in result.outcomes]
    return {metric: np.array([row[metric] for row in rows]) for metric in experiments.METRICS}


def _shown(metric: str, values: np.ndarray, start) -> str:
    """A metric over replications as the page shows it: the mean with its 95 % interval; the day the
    target is reached as the median date (most replications may never reach it)."""
    summary = experiments.summarise(metric, values)
    if metric == "target_reached_day":
        return experiments.format_value(metric, summary["p50"], start)
    return experiments.value_with_interval(metric, summary["mean"], summary["ci95_low"], summary["ci95_high"])


def metric_rows(before: dict[str, np.ndarray], after: dict[str, np.ndarray], start) -> list[dict[str, str]]:
    """One row per metric: unchanged, edited, and the paired difference (edited − unchanged)."""
    rows = []
    for metric in experiments.METRICS:
        paired = experiments.paired_difference(before[metric], after[metric])
        rows.append({"metric": metric, "label": experiments.LABELS[metric],
                     "unchanged": _shown(metric, before[metric], start), "edited": _shown(metric, after[metric], start),
                     "difference": experiments.value_with_interval(metric, paired["diff"], paired["diff_ci95_low"],
                                                                   paired["diff_ci95_high"], signed=True)})
    return rows


def summarise(baseline, edited, observed: list[tuple[str, float, bool]]) -> dict[str, Any]:
    """What the page shows after a run: the answer, the table of metrics with paired differences,
    and the cumulative crossings (bands of both, and of the paired difference) by day."""
    start = edited.period_start
    rows = metric_rows(_metrics(baseline), _metrics(edited), start)
    cumulative_before, cumulative_after = _cumulative_crossed(baseline), _cumulative_crossed(edited)
    headline = edited.headline
    return {
        "replications": edited.n_replications,
        "p_target": None if np.isnan(headline.p_target) else headline.p_target,
        "answer": headline.lines(),
        "table": rows,
        "chart": {
            "dates": [(start + timedelta(days=day)).isoformat() for day in range(cumulative_after.shape[1])],
            "edited": _band(cumulative_after),
            "unchanged": _band(cumulative_before),
            "difference": _band(cumulative_after - cumulative_before),
            "observed": observed,
            "target": ({"people": edited.target_people, "by": edited.target_by.isoformat()}
                       if edited.target_by is not None else None),
        },
    }
