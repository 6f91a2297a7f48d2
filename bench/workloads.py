"""The measured workloads, each a function that does one timed unit of work and returns numbers."""
from __future__ import annotations

import importlib.util
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
REFERENCE_SCENARIO = BENCH_DIR / "reference.yaml"
PHASE1_SCENARIO = ROOT / "scenarios" / "phase1-2023.yaml"
SHARED_NAIVE_REFERENCE = ROOT.parent / "shared" / "bench" / "naive_reference.py"


def naive_models() -> dict[str, ModuleType]:
    """The naive yardsticks, by label: the project's own ``bench/naive.py`` always, and the shared
    reference it was written from when ``../shared/bench/naive_reference.py`` sits beside the
    repository (imported as it is). Each has ``run(n, seed) -> {households, mean_wait_hours}``."""
    from bench import naive

    models: dict[str, ModuleType] = {"naive SimPy (bench/naive.py)": naive}
    if SHARED_NAIVE_REFERENCE.is_file():
        spec = importlib.util.spec_from_file_location("naive_reference", SHARED_NAIVE_REFERENCE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        models["naive SimPy (../shared/bench/naive_reference.py)"] = module
    return models


def naive_run(naive, households: int, seed: int) -> dict:
    started = time.perf_counter()
    result = naive.run(households, seed=seed)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "households": result["households"],
            "mean_wait_hours": list(result["mean_wait_hours"])}


def reference_scenario(households: int):
    """``bench/reference.yaml`` scaled to ``households`` expected arrivals: stock, schedule rates
    and service means scaled as ``bench/naive.py`` scales them (the same load at every size)."""
    from sim import load_scenario

    scale = households / 1_000_000
    scenario = load_scenario(REFERENCE_SCENARIO)
    if households == 1_000_000:
        return scenario
    return scenario.with_values({
        "groups.arrivals.people": round(1_100_000 * scale),
        "groups.arrivals.departures.schedule.0.per_day": 13333.333333333334 * scale,
        "groups.arrivals.departures.schedule.1.per_day": 6666.666666666667 * scale,
        "crossings.a.service.mean": 0.0816 / scale,
        "crossings.b.service.mean": 0.07344 / scale,
    })


def bordersim_api_run(scenario, seed: int) -> dict:
    """One replication through the public API, as a user gets it: ``sim.run(scenario,
    replications=1)`` (draws, event loop, counters, conservation check) and its tables (daily,
    replications, projection, summary: pandas). The mean wait per crossing comes from the tables,
    by Little's law: the time integral of the queue over the people served (exact here, where every
    queue is empty at the end)."""
    from sim import run

    started, cpu_started = time.perf_counter(), time.process_time()
    result = run(scenario, replications=1, seed=seed, jobs=1)
    tables = (result.daily, result.replications, result.projection, result.summary)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    daily = tables[0]
    mean_waits, served = [], 0
    for crossing in ("a", "b"):
        rows = daily[(daily["node"] == crossing) & (daily["node_type"] == "crossing")]
        queue_people_hours = 24.0 * rows.loc[rows["metric"] == "queue_people_mean", "value"].sum()
        crossed = rows.loc[rows["metric"] == "crossed_people", "value"].sum()
        mean_waits.append(float(queue_people_hours / crossed))
        served += int(crossed)
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, "households": served, "mean_wait_hours": mean_waits}


def bordersim_reference_run(scenario, replication: int) -> dict:
    """One replication of bench/reference.yaml through the engine (draws, event loop, recorder)."""
    from sim.model.engine import run_replication

    started = time.perf_counter()
    outcome = run_replication(scenario, replication, trace=True)
    seconds = time.perf_counter() - started
    trace = outcome.trace
    served = np.isfinite(trace["service_start_hours"])
    waits = trace["service_start_hours"] - trace["queue_arrival_hours"]
    mean_waits = [float(waits[served & (trace["crossing_id"] == c)].mean()) for c in (0, 1)]
    return {"seconds": seconds, "households": int(served.sum()), "mean_wait_hours": mean_waits}


PEAK_MIB_CODE = ("def peak_mib():\n"
                 "    return next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM')) / 1024\n")
"""Defines ``peak_mib()`` in a measured child: its peak memory (VmHWM, not ru_maxrss: Linux carries
ru_maxrss over from the forking parent, which may just have run the 1,000,000-household reference,
while exec resets VmHWM)."""


def json_from_fresh_interpreter(code: str, show_stderr: bool = False) -> dict:
    """Run ``code`` in a fresh Python process (from the repository root) and return the JSON object it
    printed last: start-up, imports and memory are the child's own. ``show_stderr``: the child's
    standard error goes to this process's (progress of a long measurement) instead of being kept."""
    output = subprocess.run([sys.executable, "-c", code], check=True, stdout=subprocess.PIPE,
                            stderr=None if show_stderr else subprocess.PIPE, text=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])


def phase1_one_replication_in_subprocess(replication: int) -> dict:
    """Wall time and peak memory (VmHWM: the high-water mark of resident memory) of one phase1-2023
    replication in a fresh process."""
    code = (
        "import json, time\n"
        "from sim import load_scenario\n"
        "from sim.model.engine import run_replication\n"
        f"scenario = load_scenario({str(PHASE1_SCENARIO)!r})\n"
        "started = time.perf_counter()\n"
        f"outcome = run_replication(scenario, {replication})\n"
        "seconds = time.perf_counter() - started\n"
        "crossed = float(outcome.daily[('all', 'all', 'crossed_people_cumulative')][-1])\n"
        + PEAK_MIB_CODE +
        "print(json.dumps({'seconds': seconds, 'peak_mib': peak_mib(), 'crossed_people': crossed}))\n"
    )
    return json_from_fresh_interpreter(code)


def phase1_api_in_subprocess(calls: int) -> dict:
    """``calls`` replications of phase1-2023 through ``sim.run(scenario, replications=1)`` one after
    another in a fresh process, the caller never collecting garbage: each call's wall time and the
    process's peak memory (VmHWM) after each."""
    code = (
        "import json, time\n"
        "from sim import load_scenario, run\n"
        f"scenario = load_scenario({str(PHASE1_SCENARIO)!r})\n"
        + PEAK_MIB_CODE +
        "loaded = peak_mib()\n"
        "seconds, cpu, peaks, crossed = [], [], [], []\n"
        f"for call in range({calls}):\n"
        "    started, cpu_started = time.perf_counter(), time.process_time()\n"
        "    result = run(scenario, replications=1, seed=scenario.run.seed + call, jobs=1)\n"
        "    seconds.append(time.perf_counter() - started)\n"
        "    cpu.append(time.process_time() - cpu_started)\n"
        "    peaks.append(peak_mib())\n"
        "    crossed.append(float(result.outcomes[0].daily[('all', 'all', 'crossed_people_cumulative')][-1]))\n"
        "print(json.dumps({'seconds': seconds, 'cpu_seconds': cpu, 'peak_mib': peaks, 'loaded_mib': loaded,\n"
        "                  'crossed_people': crossed}))\n"
    )
    return json_from_fresh_interpreter(code)


def phase1_run_api(replications: int, jobs: int) -> float:
    """Wall time of ``sim.run(phase1-2023, replications, jobs)`` and its summary table."""
    from sim import load_scenario, run

    scenario = load_scenario(PHASE1_SCENARIO)
    started = time.perf_counter()
    _ = run(scenario, replications=replications, jobs=jobs).summary
    return time.perf_counter() - started


def validate_start_up() -> float:
    """Wall time of ``bordersim validate scenarios/phase1-2023.yaml`` in a fresh interpreter."""
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "sim", "validate", str(PHASE1_SCENARIO.relative_to(ROOT))],
                   check=True, capture_output=True, cwd=ROOT)
    return time.perf_counter() - started


def load_average() -> str:
    """The 1/5/15-minute load averages (the machine is shared: figures depend on them)."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def phase1_replications(replications: int, jobs: int) -> dict:
    """Wall time of ``replications`` replications of phase1-2023 on ``jobs`` processes (no writing)."""
    from sim import load_scenario
    from sim.runs.runner import run_replications

    scenario = load_scenario(PHASE1_SCENARIO)
    started = time.perf_counter()
    run_replications(scenario, range(replications), scenario.run.seed, jobs)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"seconds": seconds, "peak_child_mib": peak}


def git_commit() -> str:
    """The repository's commit (short), and whether tracked files differ from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes" if dirty else "")


def machine_description() -> str:
    import platform

    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}"
