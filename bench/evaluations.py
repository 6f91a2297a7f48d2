"""Model evaluations per second for the bundled forecast calibration (``python -m bench.evaluations``).

One evaluation = what ``calibrate --method posterior`` runs per walker and step for
``scenarios/phase1-2023-forecast.yaml``: the baseline with the fitted values set, cut at the last
observed date, one replication, people crossed per day per crossing. The fitted keys, their
uniform priors, ``--until`` and the number of walkers are read from the command recorded in that
file's header, so the bench measures the calibration as it was run. Points are drawn uniformly
from the priors (seed 0), the same points for every variant.

Variants, interleaved point by point in one process so that they see the same machine state:

* ``before``: what an evaluation cost before issue 15's item 3 — the full outcome of the cut
  replication (every node's series, peaks, percentiles) and fresh draws, the world reused;
* ``lean``: only people crossed are counted (``run_replication(..., counters="crossed")``);
* ``after``: lean, and the draws that do not depend on the fitted values remembered
  (:class:`sim.runs.evaluate.CrossedEvaluator` as the calibration uses it).

Then the calibration's shape on 2 worker processes: half-steps of ``walkers / 2`` evaluations,
each one ``map_unordered`` call of a :class:`~sim.runs.executors.ProcessExecutor`; ``before``
starts a new pool per half-step (what the executor did), ``after`` keeps one pool for all of them;
their half-steps alternate.
Reported: CPU seconds per evaluation (this process, and the workers' too for the pool) and
evaluations per second (wall), with the load average; timing on a shared machine is noisy, the
CPU time is the robust figure.

Options: ``--points N`` (default 24), ``--half-steps N`` (default 10), ``--json`` (one line).
It runs against any checkout on ``PYTHONPATH`` (before the lean path existed, only ``before``).
"""
from __future__ import annotations

import argparse
import datetime as dt
import inspect
import itertools
import json
import os
import resource
import shlex
import statistics
import time
from pathlib import Path

import numpy as np

from sim import load_scenario
from sim.model.engine import run_replication
from sim.runs.evaluate import CrossedEvaluator, crossed_by_node
from sim.runs.executors import ProcessExecutor

ROOT = Path(__file__).resolve().parent.parent
FORECAST = ROOT / "scenarios" / "phase1-2023-forecast.yaml"
WRITTEN_BY = "# Written by: "


BATCH = 16


def recorded_calibration(path: Path = FORECAST) -> dict:
    """The fitted keys with the range their prior spans, ``until``, the batch of evaluations per
    step and the calibrated scenario, from the ``calibrate`` command recorded in the forecast
    scenario's header (``--fit key=low:high`` or ``--prior key=DIST``)."""
    from sim.studies.priors import Prior

    line = next(line for line in path.read_text().splitlines() if line.startswith(WRITTEN_BY))
    words = shlex.split(line.removeprefix(WRITTEN_BY))
    options: dict[str, list[str]] = {}
    for option, value in itertools.pairwise(words):
        if option.startswith("-"):
            options.setdefault(option, []).append(value)
    fitted = {}
    for fit in options.get("--fit", []):
        key, bounds = fit.split("=")
        low, high = bounds.split(":")
        fitted[key] = (float(low), float(high))
    for text in options.get("--prior", []):
        prior = Prior.parse(text)
        fitted[prior.key] = prior.range()
    # the evaluations a step asks for at once: the recorded walkers, else the 16 of the bench's history
    walkers = int(options["--walkers"][0]) if "--walkers" in options else BATCH
    return {"scenario": ROOT / words[2], "fitted": fitted, "until": dt.date.fromisoformat(options["--until"][0]),
            "walkers": walkers}


class FullEvaluation:
    """The evaluation before the lean path: the cut replication's full outcome, fresh draws."""

    def __init__(self, scenario, seed: int, until: dt.date) -> None:
        self.evaluator = CrossedEvaluator(scenario, seed, until)
        self.seed = seed
        self.world = None

    def __call__(self, values: dict[str, float]) -> dict[str, np.ndarray]:
        from sim.model.engine import build_world

        scenario = self.evaluator.scenario_at(values)
        self.world = self.world or build_world(scenario)
        outcome = run_replication(scenario, 0, self.seed, world=self.world)
        return crossed_by_node(outcome, list(scenario.crossings))


def variants(scenario, seed: int, until: dt.date) -> dict:
    evaluations = {"before": FullEvaluation(scenario, seed, until)}
    if "remember_draws" in inspect.signature(CrossedEvaluator).parameters:
        evaluations["lean"] = CrossedEvaluator(scenario, seed, until, remember_draws=False)
        evaluations["after"] = CrossedEvaluator(scenario, seed, until)
    return evaluations


def prior_points(fitted: dict[str, tuple[float, float]], count: int) -> list[dict[str, float]]:
    rng = np.random.default_rng(0)
    return [{key: float(rng.uniform(low, high)) for key, (low, high) in fitted.items()} for _ in range(count)]


def one_process(evaluations: dict, points: list[dict]) -> dict:
    """CPU and wall seconds per evaluation of each variant (medians), after one warm-up each."""
    for evaluate in evaluations.values():
        evaluate(points[0])  # imports, the world; for ``after``, the first drawing of the draws
    cpu: dict[str, list[float]] = {name: [] for name in evaluations}
    wall: dict[str, list[float]] = {name: [] for name in evaluations}
    results = {}
    for values in points[1:]:
        for name, evaluate in evaluations.items():
            clock, processor = time.perf_counter(), time.process_time()
            results[name] = evaluate(values)
            cpu[name].append(time.process_time() - processor)
            wall[name].append(time.perf_counter() - clock)
        for name in results:  # every variant gives the same evaluation
            for node, series in results["before"].items():
                np.testing.assert_array_equal(results[name][node], series)
    return {name: {"cpu_s": statistics.median(cpu[name]), "wall_s": statistics.median(wall[name])}
            for name in evaluations}


class _Evaluate:
    """A picklable task function for the pool: values ↦ people crossed in all, per day."""

    def __init__(self, evaluate) -> None:
        self.evaluate = evaluate

    def __call__(self, values):
        return self.evaluate(values)["all"]


def _children_cpu_s() -> float:
    """CPU seconds of the reaped child processes (a pool's workers count once it is closed)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def two_processes(evaluations: dict, points: list[dict], half_steps: int, walkers: int) -> dict:
    """The calibration's half-steps (``walkers / 2`` evaluations each, one ``map_unordered`` call)
    on 2 worker processes: ``before`` with a new pool per half-step, ``after`` (if there) with one
    pool kept for all. Half-steps alternate between the two, so that both see the same load.
    Wall seconds, and CPU seconds of this process and the workers, per evaluation."""
    half = walkers // 2
    batches = [[points[(step * half + walker) % len(points)] for walker in range(half)] for step in range(half_steps)]
    names = [name for name in ("before", "after") if name in evaluations]
    executors = {name: ProcessExecutor(2) for name in names}
    tasks = {name: _Evaluate(evaluations[name]) for name in names}
    wall = dict.fromkeys(names, 0.0)
    parent_cpu = dict.fromkeys(names, 0.0)
    children_at_start = _children_cpu_s()
    before_children = 0.0
    try:
        for batch in batches:
            for name in names:
                children = _children_cpu_s()
                clock, processor = time.perf_counter(), time.process_time()
                list(executors[name].map_unordered(tasks[name], batch))
                if name == "before":
                    executors[name].close()  # a new pool at the next half-step: what the executor did
                wall[name] += time.perf_counter() - clock
                parent_cpu[name] += time.process_time() - processor
                if name == "before":
                    before_children += _children_cpu_s() - children
    finally:
        for executor in executors.values():
            executor.close()
    # The persistent pool's workers are reaped last: the children's CPU time the before pools did not use.
    children_cpu = {"before": before_children, "after": _children_cpu_s() - children_at_start - before_children}
    done = half_steps * half
    return {name: {"evaluations": done, "wall_s": wall[name], "evaluations_per_s": done / wall[name],
                   "cpu_s_per_evaluation": (parent_cpu[name] + children_cpu[name]) / done,
                   "pools_started": getattr(executors[name], "pools_started", half_steps)}
            for name in names}


def measure(points: int = 24, half_steps: int = 10) -> dict:
    calibration = recorded_calibration()
    scenario = load_scenario(calibration["scenario"])
    seed, until = scenario.run.seed, calibration["until"]
    drawn = prior_points(calibration["fitted"], points)
    load_before = os.getloadavg()
    figures = {"fitted": list(calibration["fitted"]), "until": until.isoformat(), "walkers": calibration["walkers"],
               "one_process": one_process(variants(scenario, seed, until), drawn)}
    figures["two_processes"] = two_processes(variants(scenario, seed, until), drawn, half_steps,
                                             calibration["walkers"])
    figures["load_average"] = [round(value, 2) for value in (*load_before, *os.getloadavg())]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=24)
    parser.add_argument("--half-steps", type=int, default=10)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    figures = measure(arguments.points, arguments.half_steps)
    if arguments.json:
        print(json.dumps(figures, default=str))
        return
    print(f"fitted: {', '.join(figures['fitted'])}; cut at {figures['until']}; {figures['walkers']} walkers")
    for name, row in figures["one_process"].items():
        print(f"1 process, {name:6}: {row['cpu_s']:.3f} CPU-s per evaluation, {row['wall_s']:.3f} s wall "
              f"({1 / row['wall_s']:.2f} evaluations/s)")
    for name, row in figures["two_processes"].items():
        print(f"2 processes, {name:6}: {row['evaluations_per_s']:.2f} evaluations/s ({row['evaluations']} in "
              f"{row['wall_s']:.1f} s, {row['pools_started']} pool(s)), {row['cpu_s_per_evaluation']:.3f} CPU-s "
              f"per evaluation (all processes)")
    print(f"load average (1, 5, 15 min) before and after: {figures['load_average']}")


if __name__ == "__main__":
    main()
