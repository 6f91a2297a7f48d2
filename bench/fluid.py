"""``python -m bench.fluid``: the cost of one fluid-path evaluation, as a calibration calls it.

``FluidEvaluator(scenario, until)(values)`` at points of the fitted keys drawn from their priors
(a fixed seed): ``bench/arc-2023-2025-rates.yaml`` (the arc as it was when its fitted keys were all
rates: a fixed workload, whose keys older checkouts also take) cut at 31 Mar 2025 with 20 keys, and
``scenarios/phase1-2023.yaml`` cut at 22 Nov 2023 with the how-to's five. CPU milliseconds per
call (``time.process_time``: the machine is shared, and CPU time is what another core's load
moves least), the median over every call of every round, after one untimed call.

``--before DIR`` measures a second checkout too (a directory holding its ``sim`` package, e.g.
``git archive b0adfab sim | tar -x -C /tmp/before``): each round runs both in fresh interpreters,
one after the other, so that both see the same machine; the speed-up is the ratio of medians. The
section ``fluid`` of ``bench/RESULTS.md`` is rewritten (``--output`` to write elsewhere).
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench.sections import replace_section
from bench.workloads import ROOT

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"

_ARC_STEPS = {5: 0.055, 8: 0.013, 9: 0.01, 11: 0.0055, 12: 0.003, 13: 0.00065, 14: 0.0014, 15: 0.0026,
              16: 0.0026, 17: 0.0019, 18: 0.0023, 19: 0.0018, 20: 0.0004}
ARC_PRIOR_CENTRES = {
    "groups.undocumented.people": 1_550_000.0, "groups.undocumented.never_leave": 0.38,
    **{f"groups.undocumented.departures.hazard.{n}.rate": rate for n, rate in _ARC_STEPS.items()},
    "groups.acc_holders.never_leave": 0.6, "groups.acc_holders.departures.hazard.0.rate": 0.00015,
    "groups.por_holders.never_leave": 0.7, "groups.por_holders.departures.hazard.0.rate": 0.0007,
    "groups.por_holders.departures.hazard.1.rate": 0.00028,
}
"""20 keys of the fixed arc workload and their priors' centres (bench/arc-2023-2025-rates.yaml, ``uncertain:``)."""
PHASE1_KEYS = ["groups.undocumented.never_leave",
               *[f"groups.undocumented.departures.hazard.{n}.rate" for n in (5, 8, 9, 11)]]

CASES = {
    "arc-2023-2025, cut 31 Mar 2025 (20 keys)": ("bench/arc-2023-2025-rates.yaml", "2025-03-31", None),
    "phase1-2023, cut 22 Nov 2023 (5 keys)": ("scenarios/phase1-2023.yaml", "2023-11-22", PHASE1_KEYS),
}


def prior_points(count: int, seed: int = 20261207) -> list[dict[str, float]]:
    """Draws of the arc's fitted keys from their priors: people uniform over 1.3-1.8 million,
    ``never_leave`` triangular over (0, 1) at its centre, rates lognormal with sd = mean."""
    import numpy as np

    rng = np.random.default_rng(seed)
    sigma = math.sqrt(math.log(2.0))
    points = []
    for _ in range(count):
        point = {}
        for key, centre in ARC_PRIOR_CENTRES.items():
            if key.endswith("people"):
                point[key] = float(rng.uniform(1.3e6, 1.8e6))
            elif key.endswith("never_leave"):
                point[key] = float(rng.triangular(0.0, centre, 1.0))
            else:
                point[key] = float(centre * rng.lognormal(-sigma ** 2 / 2, sigma))
        points.append(point)
    return points


_CHILD = """
import datetime as dt, json, sys, time
source, path, until, points = json.loads(sys.stdin.read())
sys.path.insert(0, source)  # ahead of the working directory, which ``-c`` puts first
from sim.analytic.fluid import FluidEvaluator
from sim.scenario import load_scenario
assert FluidEvaluator.__module__ and sys.modules["sim"].__file__.startswith(source), sys.modules["sim"].__file__
evaluator = FluidEvaluator(load_scenario(path), dt.date.fromisoformat(until))
evaluator(points[0])
cpu = []
for point in points:
    started = time.process_time()
    evaluator(point)
    cpu.append(time.process_time() - started)
print(json.dumps(cpu))
"""


def cpu_per_call(source: Path, path: str, until: str, points: list[dict[str, float]]) -> list[float]:
    """CPU seconds of each call, in a fresh interpreter importing ``sim`` from ``source``."""
    output = subprocess.run([sys.executable, "-c", _CHILD], input=json.dumps([str(source), path, until, points]),
                            check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])


def measure(sources: dict[str, Path], rounds: int, count: int) -> dict[str, dict[str, list[float]]]:
    """[case][source]: CPU seconds per call over ``rounds`` rounds of ``count`` points, sources
    interleaved within each round."""
    arc_points = prior_points(count)
    out: dict[str, dict[str, list[float]]] = {case: {name: [] for name in sources} for case in CASES}
    for _ in range(rounds):
        for case, (path, until, keys) in CASES.items():
            points = arc_points if keys is None else [{key: p[key] for key in keys} for p in arc_points]
            for name, source in sources.items():
                out[case][name].extend(cpu_per_call(source, path, until, points))
    return out


def section(results: dict[str, dict[str, list[float]]], rounds: int, count: int, before: Path | None) -> list[str]:
    names = list(next(iter(results.values())))
    header = "| scenario, cut | " + " | ".join(f"{name}: median CPU ms per call" for name in names)
    lines = [
        "## Fluid path: one `FluidEvaluator` call as a calibration makes it",
        "",
        (f"Recorded {dt.date.today().isoformat()} by `python -m bench.fluid"
         + (f" --before {before}" if before else "") + f" --rounds {rounds} --points {count}`; "
         f"CPU time per call (`time.process_time`), median over {rounds} rounds x {count} points drawn from the "
         "arc's priors (phase 1: the same draws of its five keys), each round in fresh interpreters, "
         f"sources interleaved; load averages at the end {' / '.join(f'{x:.2f}' for x in os.getloadavg())}."),
        "",
        header + (" | speed-up |" if len(names) == 2 else " |"),
        "|---|" + "---|" * len(names) + ("---|" if len(names) == 2 else ""),
    ]
    for case, by_source in results.items():
        medians = [statistics.median(by_source[name]) * 1e3 for name in names]
        row = f"| {case} | " + " | ".join(f"{m:.2f}" for m in medians)
        lines.append(row + (f" | **{medians[0] / medians[1]:.1f}x** |" if len(names) == 2 else " |"))
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fluid", description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="a directory holding an earlier checkout's sim package")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--points", type=int, default=30)
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args(argv)
    sources = {"this checkout": ROOT}
    if arguments.before:
        sources = {f"before ({arguments.before})": arguments.before.resolve(), "this checkout": ROOT}
    results = measure(sources, arguments.rounds, arguments.points)
    lines = section(results, arguments.rounds, arguments.points, arguments.before)
    print("\n".join(lines))
    replace_section(arguments.output, "fluid", lines)


if __name__ == "__main__":
    main()
