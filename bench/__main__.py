"""``python -m bench``: measure bordersim's engine and runner and record the figures in bench/RESULTS.md.

Sections (each the median of ``--runs`` runs, default 5):

* reference — the workload of ``bench/naive.py`` (one-person households, two crossings of 20 and
  12 lanes, a surge) as ``bench/reference.yaml``, at 200,000 and 1,000,000 households, run through
  the public API (``sim.run`` and its tables) and through the naive SimPy model (and
  ``../shared/bench/naive_reference.py`` too when it sits beside the repository), interleaved in
  this one process: µs per household, the speed ratio against each naive model, and the mean
  waits per crossing with 95% intervals.
* phase1 — ``scenarios/phase1-2023.yaml`` through ``sim.run``: one replication's wall time, and the
  peak memory of four calls in a row (fresh processes), 100 replications on 2 processes, and the
  speed-up of 2 workers over 1.
* start-up — ``bordersim validate`` on the baseline, in a fresh interpreter.
* sweep — 20 points x 10 replications of phase1-2023 on ``-j 1``, ``-j 2`` and a 2-worker Dask
  LocalCluster: wall time and speed-up (``bench/sweep.py``).
* arc — ``scenarios/arc-2023-2025.yaml`` (about 4 million people, 2.3 years): one replication's
  wall and CPU time and peak memory, and 100 replications on 2 processes (``bench/arc.py``; it is
  not in the default set: ``--only arc``, or ``python -m bench.arc`` for its section alone).
* events — SimPy events scheduled per household on the reference workload (counted by wrapping
  ``Environment.schedule``).
* calibrate-synthetic — data sets of the SBC synthetic case made and fitted as ``bordersim sbc``
  does, and the projected cost of SBC-100 (``bench/calibrate_synthetic.py``).
* calibrate-phase1 — the phase-1 posterior of the how-to (``bordersim calibrate ... -j 2``): wall
  time, simulation-replication equivalents (the fit's CPU over one replication's, measured in the
  same run) and where the time goes, stage by stage (``bench/calibrate_phase1.py``; each fit takes
  minutes: at most 3 fits whatever ``--runs`` says, and the command itself once).

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


REFERENCE_SIZES = (200_000, 1_000_000)
QUICK_REFERENCE_SIZES = (20_000, 100_000)


def bench_reference(runs: int, quick: bool) -> list[str]:
    """At each size: the naive models and ``sim.run`` (with its tables) interleaved in this one
    process, so that every model sees the same machine state; ratios of medians."""
    naives = workloads.naive_models()
    # Warm-up, untimed: the first call of a process imports what the tables need (scipy's stats for
    # the summary), which the naive models never import.
    workloads.bordersim_api_run(workloads.reference_scenario(2_000), seed=1)
    lines = [
        "## Reference workload through the public API (bench/reference.yaml vs the naive SimPy models)",
        "",
        ("bordersim's time is `sim.run(scenario, replications=1)` and its four tables (daily, "
         "replications, projection, summary), i.e. the whole replication as a user gets it: drawing "
         "the variates, the event loop, the daily counters, the conservation check, the pandas tables. "
         f"{runs} runs per model and size, interleaved in one process (naive run i, then bordersim run "
         "i, same seed); medians; the ratio is quoted against each naive model."),
        "",
    ]
    for households in (QUICK_REFERENCE_SIZES if quick else REFERENCE_SIZES):
        scenario = workloads.reference_scenario(households)
        naive_runs: dict[str, list[dict]] = {label: [] for label in naives}
        engine_runs, loads = [], []
        for run in range(runs):
            for label, naive in naives.items():
                naive_runs[label].append(workloads.naive_run(naive, households, seed=run + 1))
            engine_runs.append(workloads.bordersim_api_run(scenario, seed=run + 1))
            loads.append(workloads.load_average())
            log(f"reference {households:,} run {run + 1}/{runs}: "
                + ", ".join(f"{label} {runs_of[-1]['seconds']:.2f} s" for label, runs_of in naive_runs.items())
                + f", bordersim {engine_runs[-1]['seconds']:.3f} s (load {loads[-1]})")
        naive_us = {label: statistics.median(r["seconds"] / r["households"] * 1e6 for r in runs_of)
                    for label, runs_of in naive_runs.items()}
        engine_us = statistics.median(r["seconds"] / r["households"] * 1e6 for r in engine_runs)
        lines += [
            f"### {households:,} expected households",
            "",
            "| model | median s per run | µs per household | bordersim is faster by |",
            "|---|---|---|---|",
        ]
        for label, runs_of in naive_runs.items():
            lines.append(f"| {label} | {statistics.median(r['seconds'] for r in runs_of):.2f} | "
                         f"{naive_us[label]:.2f} | **{naive_us[label] / engine_us:.1f}×** |")
        lines += [
            (f"| bordersim, `sim.run` + tables | {statistics.median(r['seconds'] for r in engine_runs):.3f} | "
            f"{engine_us:.2f} | |"),
            "",
            (f"bordersim's CPU time per run (median): {statistics.median(r['cpu_seconds'] for r in engine_runs):.3f} s. "
             f"Load averages (1/5/15 min) after each bordersim run: {'; '.join(loads)}."),
            "",
            ("Mean wait in queue per crossing (hours; mean over runs ± 95% t half-width; bordersim's from "
            "its daily table by Little's law):"),
            "",
            "| crossing | naive | bordersim | intervals overlap |",
            "|---|---|---|---|",
        ]
        yardstick = next(iter(naive_runs))
        for crossing, label in enumerate(("A (20 lanes)", "B (12 lanes)")):
            naive_mean, naive_half = t_interval([r["mean_wait_hours"][crossing] for r in naive_runs[yardstick]])
            engine_mean, engine_half = t_interval([r["mean_wait_hours"][crossing] for r in engine_runs])
            overlap = abs(naive_mean - engine_mean) <= naive_half + engine_half
            lines.append(f"| {label} | {naive_mean:.2f} ± {naive_half:.2f} | {engine_mean:.2f} ± "
                         f"{engine_half:.2f} | {'yes' if overlap else 'NO'} |")
        lines.append("")
    return lines


def bench_events(quick: bool) -> list[str]:
    from sim import load_scenario
    from sim.model import engine
    from sim.model.environment import CountingEnvironment, Environment

    scenario = load_scenario(workloads.REFERENCE_SCENARIO)
    if quick:
        scenario = scenario.with_values({"groups.arrivals.people": 110_000,
                                         "groups.arrivals.departures.schedule.0.per_day": 1333.3333333333333,
                                         "groups.arrivals.departures.schedule.1.per_day": 666.6666666666666})
    environments: list = []

    class Counted(CountingEnvironment):  # SimPy's event ids, handed out per event scheduled
        def __init__(self) -> None:
            super().__init__()
            environments.append(self)

    engine.Environment = Counted
    try:
        outcome = engine.run_replication(scenario, 0, trace=True)
    finally:
        engine.Environment = Environment
    counted = {"events": sum(env.events_scheduled for env in environments)}
    served = int((outcome.trace["service_start_hours"] < float("inf")).sum())
    return ["## Events per household (reference workload)", "",
            (f"{counted['events']:,} SimPy events scheduled for {served:,} households served: "
            f"**{counted['events'] / served:.3f} per household**."), ""]


def bench_phase1(runs: int, quick: bool) -> list[str]:
    processes = [workloads.phase1_api_in_subprocess(calls=4) for _ in range(max(runs, 3))]
    calls = [seconds for process in processes for seconds in process["seconds"]]
    log(f"phase1 sim.run, 4 calls per process: {[[round(x, 3) for x in p['seconds']] for p in processes]} s, "
        f"peaks {[[round(x) for x in p['peak_mib']] for p in processes]} MiB")
    hundred = 10 if quick else 100
    many = []
    for _ in range(max(1, runs // 2 if quick else 3)):
        many.append(workloads.phase1_run_api(hundred, jobs=2))
        log(f"phase1 {hundred} replications -j 2: {many[-1]:.1f} s (load {workloads.load_average()})")
    speedup_reps = 4 if quick else 20
    one_worker, two_workers = [], []
    for _ in range(runs):
        one_worker.append(workloads.phase1_run_api(speedup_reps, jobs=1))
        two_workers.append(workloads.phase1_run_api(speedup_reps, jobs=2))
    load = workloads.load_average()
    log(f"phase1 {speedup_reps} replications: -j 1 {one_worker}, -j 2 {two_workers} (load {load})")
    firsts = [process["seconds"][0] for process in processes]
    crossed = statistics.median(c for process in processes for c in process["crossed_people"])
    speedup = statistics.median(one_worker) / statistics.median(two_workers)
    return [
        "## phase1-2023 through the public API (scenarios/phase1-2023.yaml as bundled)", "",
        f"People crossing within the period: {crossed:,.0f} (median over the single replications).", "",
        "| measure | median | runs |",
        "|---|---|---|",
        (f"| one replication, `sim.run(scenario, replications=1)` (fresh processes, 4 calls each) | "
        f"{statistics.median(calls):.3f} s | {len(calls)} |"),
        f"| … the first call of each process alone | {statistics.median(firsts):.3f} s | {len(firsts)} |",
        (f"| … CPU time per call (what an idle core gives; the machine is shared) | "
         f"{statistics.median(c for process in processes for c in process['cpu_seconds']):.3f} s | {len(calls)} |"),
        (f"| peak memory after 4 calls in a row, caller never collecting (VmHWM) | "
        f"{max(process['peak_mib'][-1] for process in processes):.0f} MiB (max) | {len(processes)} |"),
        (f"| … after the first call | {max(process['peak_mib'][0] for process in processes):.0f} MiB (max); "
        f"after loading: {max(process['loaded_mib'] for process in processes):.0f} MiB | |"),
        f"| {hundred} replications, `sim.run(..., jobs=2)` + summary | {statistics.median(many):.1f} s | {len(many)} |",
        f"| {speedup_reps} replications, `jobs=1` | {statistics.median(one_worker):.2f} s | {runs} |",
        f"| {speedup_reps} replications, `jobs=2` | {statistics.median(two_workers):.2f} s | {runs} |",
        f"| speed-up of 2 workers over 1 | **{speedup:.2f}×** | |",
        "",
        f"Load averages (1/5/15 min) at the end of the section: {load}.",
        "",
    ]


def bench_start_up(runs: int) -> list[str]:
    seconds = [workloads.validate_start_up() for _ in range(max(runs, 5))]
    log(f"validate start-up: {[round(x, 3) for x in seconds]} s")
    return [
        "## Start-up", "",
        "| measure | median | runs |",
        "|---|---|---|",
        (f"| `bordersim validate scenarios/phase1-2023.yaml` (fresh interpreter, `python -m sim`) | "
        f"{statistics.median(seconds):.3f} s | {len(seconds)} |"),
        "",
        f"Load averages (1/5/15 min) at the end of the section: {workloads.load_average()}.",
        "",
    ]


SECTIONS = ("reference", "events", "phase1", "start-up", "sweep", "calibrate-synthetic", "calibrate-phase1")
CALIBRATION_FITS = 3
"""The calibration sections fit at most this many times (a phase-1 fit takes minutes)."""


def _previous_sections(path: Path) -> dict[str, list[str]]:
    """The sections of an earlier RESULTS.md, by name (from their ``<!-- section: NAME -->`` marks),
    so that ``--only`` replaces those it runs and keeps the others."""
    sections: dict[str, list[str]] = {}
    if not path.is_file():
        return sections
    current = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("<!-- section: ") and line.endswith(" -->"):
            current = line.removeprefix("<!-- section: ").removesuffix(" -->")
            sections[current] = []
        elif line.startswith("<!-- arc-2023-2025 -->"):  # bench/arc.py's own block, kept by it
            current = None
        elif current is not None:
            sections[current].append(line)
    return sections


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measure (median reported)")
    parser.add_argument("--only", choices=[*SECTIONS, "arc"], action="append",
                        help="run only these sections (repeatable); the others keep their recorded figures")
    parser.add_argument("--quick", action="store_true", help="small sizes: check the harness, not figures")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where to write the results (markdown)")
    arguments = parser.parse_args()
    chosen = arguments.only or list(SECTIONS)
    previous = _previous_sections(arguments.output)
    lines = [
        "# Benchmark results",
        "",
        (f"Recorded by `python -m bench{' --quick' if arguments.quick else ''}` on {dt.date.today().isoformat()} "
         f"(sections {', '.join(chosen)}; any other section keeps the figures of an earlier run); "
         f"machine: {workloads.machine_description()}."),
        "",
    ]
    measure = {
        "reference": lambda: bench_reference(arguments.runs, arguments.quick),
        "events": lambda: bench_events(arguments.quick),
        "phase1": lambda: bench_phase1(arguments.runs, arguments.quick),
        "start-up": lambda: bench_start_up(arguments.runs),
        "sweep": lambda: _sweep(arguments.runs, arguments.quick),
        "calibrate-synthetic": lambda: _calibrate_synthetic(min(arguments.runs, CALIBRATION_FITS), arguments.quick),
        "calibrate-phase1": lambda: _calibrate_phase1(min(arguments.runs, CALIBRATION_FITS), arguments.quick),
    }
    for name in SECTIONS:
        if name in chosen:
            body = measure[name]()
        elif name in previous:
            body = previous[name]
        else:
            continue
        lines += [f"<!-- section: {name} -->", *body]
        if lines[-1] != "":
            lines.append("")
    for name, body in previous.items():  # sections other benchmarks record (e.g. posterior): kept as they are
        if name not in SECTIONS:
            lines += [f"<!-- section: {name} -->", *body]
            if lines[-1] != "":
                lines.append("")
    if "arc" in chosen:  # the long arc (issue 12): bench/arc.py; `python -m bench.arc` updates only its section
        from bench.arc import bench_arc

        lines += bench_arc(max(1, arguments.runs // 2), arguments.quick)
    else:  # keep the arc section recorded earlier (python -m bench.arc) instead of dropping it
        from bench.arc import recorded_section

        lines += recorded_section(arguments.output)
    arguments.output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def _sweep(runs: int, quick: bool) -> list[str]:
    from bench.sweep import bench_sweep

    return bench_sweep(runs, quick)


def _calibrate_synthetic(runs: int, quick: bool) -> list[str]:
    from bench.calibrate_synthetic import bench_calibrate_synthetic

    return bench_calibrate_synthetic(runs, quick)


def _calibrate_phase1(runs: int, quick: bool) -> list[str]:
    from bench.calibrate_phase1 import bench_calibrate_phase1

    return bench_calibrate_phase1(runs, quick, cli_runs=1)


if __name__ == "__main__":
    main()
