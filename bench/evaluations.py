"""Model evaluations per second for the bundled forecast calibration (``python -m bench.evaluations``).

One evaluation = what ``calibrate --method posterior`` runs per walker and step: the baseline with
the fitted values set, cut at 22 Nov 2023, one replication, daily crossings per crossing
(:class:`sim.runs.evaluate.CrossedEvaluator`). Reported: wall and CPU seconds per evaluation in one
process (CPU time is what an idle 2-core machine delivers per core, whatever else is running), the
evaluations per second that implies for ``-j 2``, and the full-period replication for comparison.
"""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import numpy as np

from sim import load_scenario
from sim.model.engine import run_replication
from sim.runs.evaluate import CrossedEvaluator

ROOT = Path(__file__).resolve().parent.parent
H = "groups.undocumented.departures.hazard"
FITTED = {f"{H}.2.rate": (0.001, 0.015), f"{H}.5.rate": (0.01, 0.15), f"{H}.8.rate": (0.003, 0.04),
          f"{H}.9.rate": (0.002, 0.04), f"{H}.11.rate": (0.001, 0.02), "groups.undocumented.never_leave": (0.3, 0.7)}


def measure(evaluations: int = 12) -> dict[str, float]:
    scenario = load_scenario(ROOT / "scenarios" / "phase1-2023.yaml")
    evaluator = CrossedEvaluator(scenario, scenario.run.seed, dt.date(2023, 11, 22))
    rng = np.random.default_rng(0)
    points = [{key: float(rng.uniform(low, high)) for key, (low, high) in FITTED.items()} for _ in range(evaluations)]
    evaluator(points[0])  # warm-up: imports, the world
    wall, cpu = time.perf_counter(), time.process_time()
    for values in points:
        evaluator(values)
    wall, cpu = (time.perf_counter() - wall) / evaluations, (time.process_time() - cpu) / evaluations
    full_wall, full_cpu = time.perf_counter(), time.process_time()
    run_replication(scenario, 0)
    return {"wall_s": wall, "cpu_s": cpu, "full_wall_s": time.perf_counter() - full_wall,
            "full_cpu_s": time.process_time() - full_cpu}


def main() -> None:
    figures = measure()
    print(f"evaluation (cut at 22 Nov 2023, no tables): {figures['wall_s']:.3f} s wall, {figures['cpu_s']:.3f} s CPU")
    print(f"full-period replication (to 31 Jan 2024):   {figures['full_wall_s']:.3f} s wall, "
          f"{figures['full_cpu_s']:.3f} s CPU")
    print(f"evaluations per second: {1 / figures['wall_s']:.2f} (this run, 1 process); "
          f"{2 / figures['cpu_s']:.2f} on 2 idle cores (from CPU time)")


if __name__ == "__main__":
    main()
