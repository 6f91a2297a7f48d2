"""``python -m bench``: measure bordersim's engine and runner and record the figures in bench/RESULTS.md.

Sections (each the median of ``--runs`` runs, default 5):

* reference — the workload of ``bench/naive.py`` (1,000,000 one-person households, two crossings
  of 20 and 12 lanes, a surge) as ``bench/reference.yaml``, run through bordersim's engine and
  through the naive SimPy model (and ``../shared/bench/naive_reference.py`` too when it sits beside
  the repository), interleaved in this one process: µs per household, the speed ratio against
  ``bench/naive.py``, and the mean waits per crossing with 95% intervals.
* phase1 — ``scenarios/phase1-2023.yaml``: one replication's wall time and peak memory (each in a
  fresh process), 100 replications on 2 processes, and the speed-up of 2 workers over 1.
* sweep — 20 points x 10 replications of phase1-2023 on ``-j 1``, ``-j 2`` and a 2-worker Dask
  LocalCluster: wall time and speed-up (``bench/sweep.py``).
* arc — ``scenarios/arc-2023-2025.yaml`` (about 4 million people, 2.3 years): one replication's
  wall and CPU time and peak memory, and 100 replications on 2 processes (``bench/arc.py``; it is
  not in the default set: ``--only arc``, or ``python -m bench.arc`` for its section alone).
* events — SimPy events scheduled per household on the reference workload (counted by wrapping
  ``Environment.schedule``).

``--quick`` shrinks everything (for checking the harness, not for figures).
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from pathlib import Path

from bench import workloads

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def t_interval(values: list[float]) -> tuple[float, float]:
    from scipy import stats

    mean = statistics.fmean(values)
    if len(values) < 2:
        return mean, float("nan")
    half = stats.t.ppf(0.975, len(values) - 1) * statistics.stdev(values) / len(values) ** 0.5
    return mean, half


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def bench_reference(runs: int, quick: bool) -> list[str]:
    from sim import load_scenario

    naives = workloads.naive_models()
    scenario = load_scenario(workloads.REFERENCE_SCENARIO)
    households = 1_000_000
    if quick:
        households = 100_000
        scenario = scenario.with_values({"groups.arrivals.people": 110_000,
                                         "groups.arrivals.departures.schedule.0.per_day": 1333.3333333333333,
                                         "groups.arrivals.departures.schedule.1.per_day": 666.6666666666666,
                                         "crossings.a.service.mean": 0.816, "crossings.b.service.mean": 0.7344})
    naive_runs: dict[str, list[dict]] = {label: [] for label in naives}
    engine_runs = []
    for run in range(runs):  # interleaved, so that every model sees the same machine state
        for label, naive in naives.items():
            naive_runs[label].append(workloads.naive_run(naive, households, seed=run + 1))
        engine_runs.append(workloads.bordersim_reference_run(scenario, replication=run))
        log(f"reference run {run + 1}/{runs}: "
            + ", ".join(f"{label} {runs_of[-1]['seconds']:.2f} s" for label, runs_of in naive_runs.items())
            + f", bordersim {engine_runs[-1]['seconds']:.2f} s")
    yardstick = next(iter(naive_runs))  # bench/naive.py: the ratio is quoted against it
    naive_us = {label: statistics.median(r["seconds"] / r["households"] * 1e6 for r in runs_of)
                for label, runs_of in naive_runs.items()}
    engine_us = statistics.median(r["seconds"] / r["households"] * 1e6 for r in engine_runs)
    lines = [
        "## Reference workload (bench/reference.yaml vs the naive SimPy model, bench/naive.py)",
        "",
        (f"{households:,} expected one-person households; {runs} runs each, interleaved in one process; "
        "bordersim's time covers the whole replication (pre-drawing variates, the event loop, the daily "
        "recorder and the conservation check)."),
        "",
        "| model | median s per run | µs per household | vs naive |",
        "|---|---|---|---|",
    ]
    for label, runs_of in naive_runs.items():
        lines.append(f"| {label}, process per household, `simpy.Resource` | "
                     f"{statistics.median(r['seconds'] for r in runs_of):.2f} | {naive_us[label]:.2f} | "
                     f"{naive_us[yardstick] / naive_us[label]:.2f}× |")
    lines += [
        (f"| bordersim engine | {statistics.median(r['seconds'] for r in engine_runs):.2f} | {engine_us:.2f} | "
        f"**{naive_us[yardstick] / engine_us:.1f}×** |"),
        "",
        "Mean wait in queue per crossing (hours; mean over runs ± 95% t half-width):",
        "",
        "| crossing | naive (bench/naive.py) | bordersim | intervals overlap |",
        "|---|---|---|---|",
    ]
    for crossing, label in enumerate(("A (20 lanes)", "B (12 lanes)")):
        naive_mean, naive_half = t_interval([r["mean_wait_hours"][crossing] for r in naive_runs[yardstick]])
        engine_mean, engine_half = t_interval([r["mean_wait_hours"][crossing] for r in engine_runs])
        overlap = abs(naive_mean - engine_mean) <= naive_half + engine_half
        lines.append(f"| {label} | {naive_mean:.2f} ± {naive_half:.2f} | {engine_mean:.2f} ± {engine_half:.2f} | "
                     f"{'yes' if overlap else 'NO'} |")
    return lines


def bench_events(quick: bool) -> list[str]:
    import simpy

    from sim import load_scenario
    from sim.model.engine import run_replication

    scenario = load_scenario(workloads.REFERENCE_SCENARIO)
    if quick:
        scenario = scenario.with_values({"groups.arrivals.people": 110_000,
                                         "groups.arrivals.departures.schedule.0.per_day": 1333.3333333333333,
                                         "groups.arrivals.departures.schedule.1.per_day": 666.6666666666666})
    counted = {"events": 0}
    original = simpy.Environment.schedule

    def counting(self, event, priority=1, delay=0):
        counted["events"] += 1
        return original(self, event, priority, delay)

    simpy.Environment.schedule = counting
    try:
        outcome = run_replication(scenario, 0, trace=True)
    finally:
        simpy.Environment.schedule = original
    served = int((outcome.trace["service_start_hours"] < float("inf")).sum())
    return ["## Events per household (reference workload)", "",
            (f"{counted['events']:,} SimPy events scheduled for {served:,} households served: "
            f"**{counted['events'] / served:.3f} per household**."), ""]


def bench_phase1(runs: int, quick: bool) -> list[str]:
    singles = [workloads.phase1_one_replication_in_subprocess(replication=run) for run in range(runs)]
    log(f"phase1 one replication: {[round(s['seconds'], 2) for s in singles]} s")
    hundred = 10 if quick else 100
    many = [workloads.phase1_replications(hundred, jobs=2) for _ in range(max(1, runs // 2 if quick else 3))]
    log(f"phase1 {hundred} replications -j 2: {[round(m['seconds'], 1) for m in many]} s")
    speedup_reps = 4 if quick else 20
    one_worker, two_workers = [], []
    for _ in range(runs):
        one_worker.append(workloads.phase1_replications(speedup_reps, jobs=1)["seconds"])
        two_workers.append(workloads.phase1_replications(speedup_reps, jobs=2)["seconds"])
    log(f"phase1 {speedup_reps} replications: -j 1 {one_worker}, -j 2 {two_workers}")
    one_s = statistics.median(s["seconds"] for s in singles)
    peak = max(s["peak_mib"] for s in singles)
    crossed = statistics.median(s["crossed_people"] for s in singles)
    many_s = statistics.median(m["seconds"] for m in many)
    speedup = statistics.median(one_worker) / statistics.median(two_workers)
    return [
        "## phase1-2023 (scenarios/phase1-2023.yaml as bundled)", "",
        f"People crossing within the period: {crossed:,.0f} (median of the single runs).", "",
        "| measure | median | runs |",
        "|---|---|---|",
        f"| one replication, wall time (fresh process, after loading the scenario) | {one_s:.2f} s | {len(singles)} |",
        f"| one replication, peak memory of that process (VmHWM) | {peak:.0f} MiB (max) | {len(singles)} |",
        f"| {hundred} replications, `-j 2`, wall time | {many_s:.1f} s | {len(many)} |",
        f"| {speedup_reps} replications, `-j 1` | {statistics.median(one_worker):.1f} s | {runs} |",
        f"| {speedup_reps} replications, `-j 2` | {statistics.median(two_workers):.1f} s | {runs} |",
        f"| speed-up of 2 workers over 1 | **{speedup:.2f}×** | |",
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measure (median reported)")
    parser.add_argument("--only", choices=["reference", "phase1", "events", "sweep", "arc"], action="append")
    parser.add_argument("--quick", action="store_true", help="small sizes: check the harness, not figures")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the results (markdown)")
    arguments = parser.parse_args()
    sections = arguments.only or ["reference", "events", "phase1", "sweep"]
    lines = [
        "# Benchmark results",
        "",
        (f"Recorded by `python -m bench{' --quick' if arguments.quick else ''}` on {dt.date.today().isoformat()}; "
        f"machine: {workloads.machine_description()}."),
        "",
    ]
    if "reference" in sections:
        lines += bench_reference(arguments.runs, arguments.quick) + [""]
    if "events" in sections:
        lines += bench_events(arguments.quick)
    if "phase1" in sections:
        lines += bench_phase1(arguments.runs, arguments.quick)
    if "sweep" in sections:
        from bench.sweep import bench_sweep

        lines += bench_sweep(arguments.runs, arguments.quick)
    if "arc" in sections:  # the long arc (issue 12): bench/arc.py; `python -m bench.arc` updates only its section
        from bench.arc import bench_arc

        lines += bench_arc(max(1, arguments.runs // 2), arguments.quick)
    else:  # keep the arc section recorded earlier (python -m bench.arc) instead of dropping it
        from bench.arc import recorded_section

        lines += recorded_section(arguments.output)
    arguments.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
