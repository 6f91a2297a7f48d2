"""The long-arc benchmark: scenarios/arc-2023-2025.yaml (about 4 million people in stocks, 15 Sep 2023
to 31 Dec 2025, 839 days, three groups, a posterior row and 17 per-key draws in ``uncertain:``).

Issue 12's budget: one replication ≤ 3 s and ≤ 1 GiB peak memory; 100 replications with ``-j 2``
≤ 3 minutes. Measured here:

* one replication in a fresh process, as the runner does it (the replication's uncertain draws
  applied and validated, the world built, the replication run): wall time, CPU time of the process
  (user + system: what the replication cost, less sensitive than wall time to other work on the
  machine), and peak memory (VmHWM);
* 100 replications on 2 worker processes (no writing): wall time.

``python -m bench.arc`` writes only its own section of bench/RESULTS.md (between the markers
``<!-- arc-2023-2025 -->`` and ``<!-- /arc-2023-2025 -->``), so it never overwrites the other
sections; ``python -m bench --only arc`` includes it in a full run.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from bench.workloads import PEAK_MIB_CODE, json_from_fresh_interpreter

ROOT = Path(__file__).resolve().parents[1]
ARC_SCENARIO = ROOT / "scenarios" / "arc-2023-2025.yaml"
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
BEGIN, END = "<!-- arc-2023-2025 -->", "<!-- /arc-2023-2025 -->"


def _log(message: str) -> None:
    print(f"[bench arc] {message}", file=sys.stderr, flush=True)


def one_replication_in_subprocess(replication: int) -> dict:
    """Wall and CPU seconds and peak memory (VmHWM) of one arc replication in a fresh process."""
    code = (
        "import json, time\n"
        "from sim import load_scenario\n"
        "from sim.runs.runner import ReplicationJob\n"
        f"scenario = load_scenario({str(ARC_SCENARIO)!r})\n"
        "job = ReplicationJob(scenario, scenario.run.seed)\n"
        "started, cpu = time.perf_counter(), time.process_time()\n"
        f"outcome = job({replication})\n"
        "seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu\n"
        "crossed = float(outcome.daily[('all', 'all', 'crossed_people_cumulative')][-1])\n"
        + PEAK_MIB_CODE +
        "print(json.dumps({'seconds': seconds, 'cpu_seconds': cpu_seconds, 'peak_mib': peak_mib(), "
        "'crossed_people': crossed}))\n"
    )
    return json_from_fresh_interpreter(code)


def replications(count: int, jobs: int) -> float:
    """Wall seconds of ``count`` arc replications on ``jobs`` processes (no writing)."""
    from sim import load_scenario
    from sim.runs.runner import run_replications

    scenario = load_scenario(ARC_SCENARIO)
    started = time.perf_counter()
    run_replications(scenario, range(count), scenario.run.seed, jobs)
    return time.perf_counter() - started


def _load_average() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "n/a"


def bench_arc(runs: int, quick: bool) -> list[str]:
    singles = [one_replication_in_subprocess(replication=run) for run in range(runs)]
    _log(f"one replication: wall {[round(s['seconds'], 2) for s in singles]} s, "
         f"cpu {[round(s['cpu_seconds'], 2) for s in singles]} s")
    hundred = 10 if quick else 100
    load_before = _load_average()
    many = replications(hundred, jobs=2)
    _log(f"{hundred} replications -j 2: {many:.1f} s (load average before: {load_before})")
    wall = statistics.median(s["seconds"] for s in singles)
    cpu = statistics.median(s["cpu_seconds"] for s in singles)
    peak = max(s["peak_mib"] for s in singles)
    crossed = statistics.median(s["crossed_people"] for s in singles)
    return [
        BEGIN,
        "## arc-2023-2025 (scenarios/arc-2023-2025.yaml; bench/arc.py)", "",
        (f"About 4 million people in stocks, 839 days, uncertain draws applied per replication. People crossing "
         f"within the period: {crossed:,.0f} (median of the single runs). Budget (issue 12): one replication "
         "≤ 3 s and ≤ 1 GiB; 100 replications with `-j 2` ≤ 3 min."), "",
        "| measure | median | runs |",
        "|---|---|---|",
        f"| one replication, wall time (fresh process, after loading the scenario) | {wall:.2f} s | {len(singles)} |",
        f"| one replication, CPU time of that process | {cpu:.2f} s | {len(singles)} |",
        f"| one replication, peak memory of that process (VmHWM) | {peak:.0f} MiB (max) | {len(singles)} |",
        f"| {hundred} replications, `-j 2`, wall time (load average before: {load_before}) | {many:.1f} s | 1 |",
        "",
        (f"On a shared machine wall time is not the cost: the CPU time is. {hundred} replications at "
         f"{cpu:.2f} CPU-s each on 2 idle cores take about {hundred * cpu / 2:.0f} s (an estimate from the "
         "line above, not a measurement)."),
        "",
        END,
    ]


def recorded_section(results: Path = RESULTS) -> list[str]:
    """This benchmark's section as last recorded in RESULTS.md (empty when there is none)."""
    text = results.read_text(encoding="utf-8") if results.is_file() else ""
    if BEGIN not in text or END not in text:
        return []
    return [BEGIN + text.split(BEGIN, 1)[1].split(END, 1)[0] + END, ""]


def write_section(lines: list[str], results: Path = RESULTS) -> None:
    """Replace this benchmark's section of RESULTS.md (or append it), leaving the rest as it is."""
    text = results.read_text(encoding="utf-8") if results.is_file() else "# Benchmark results\n"
    section = "\n".join(lines)
    if BEGIN in text and END in text:
        before, rest = text.split(BEGIN, 1)
        after = rest.split(END, 1)[1]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    results.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.arc", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="single-replication runs (median reported)")
    parser.add_argument("--quick", action="store_true", help="10 instead of 100 replications")
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args()
    lines = bench_arc(arguments.runs, arguments.quick)
    write_section(lines, arguments.output)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
