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


def phase1_one_replication_in_subprocess(replication: int) -> dict:
    """Wall time and peak memory (VmHWM: the high-water mark of resident memory) of one phase1-2023
    replication in a fresh process."""
    code = (
        "import json, resource, time\n"
        "from sim import load_scenario\n"
        "from sim.model.engine import run_replication\n"
        f"scenario = load_scenario({str(PHASE1_SCENARIO)!r})\n"
        "started = time.perf_counter()\n"
        f"outcome = run_replication(scenario, {replication})\n"
        "seconds = time.perf_counter() - started\n"
        "crossed = float(outcome.daily[('all', 'all', 'crossed_people_cumulative')][-1])\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the forking parent (this
        # benchmark, which just ran the 1,000,000-household reference), while exec resets VmHWM.
        "peak = next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith('VmHWM')) / 1024\n"
        "print(json.dumps({'seconds': seconds, 'peak_mib': peak, 'crossed_people': crossed}))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])


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
