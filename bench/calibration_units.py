"""The yardsticks of a calibration benchmark: one simulation replication and one fluid-path
evaluation of the fitted scenario, cut where the fit cuts it, measured in a fresh process.

A calibration's cost is reported as a multiple of one replication measured in the same run
("simulation-replication equivalents"), because the machine is shared and its speed moves: a
ratio of two times measured minutes apart on the same machine is steadier than either time. Three
units, each the median of several calls after one untimed warm-up call (imports, first-touch
memory):

* **replication** — ``run_replication`` of the scenario cut at the last observed date (what
  ``CrossedEvaluator.scenario_at({})`` makes: the same cut the fit simulates), every counter, no
  pandas tables: one simulation replication as the engine runs it; replications 1, 2, ... (each
  its own households).
* **evaluation** — the fit's own simulation call: ``CrossedEvaluator(..., remember_draws=False)``
  at the scenario's values (only people crossed counted), as the fit's workers run it.
* **fluid** — the fluid path (``FluidEvaluator``) cut at the same date, at points drawn from the
  priors with a fixed seed (its cost depends a little on whether queues bind).
"""
from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from bench.workloads import json_from_fresh_interpreter


def _timed(call) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    call()
    return time.perf_counter() - wall, time.process_time() - cpu


def unit_costs(scenario_path: str, until: str, fit: Sequence[str], prior: Sequence[str], replications: int = 5,
               fluid_points: int = 30) -> dict[str, list[float]]:
    """Wall and CPU seconds of each unit, call by call (see the module's docstring), in this process."""
    import datetime as dt

    import numpy as np

    from sim.analytic.fluid.evaluator import FluidEvaluator
    from sim.cli.fit_options import posterior_inputs
    from sim.model.engine import run_replication
    from sim.runs.evaluate import CrossedEvaluator
    from sim.scenario import load_scenario

    scenario = load_scenario(Path(scenario_path))
    cutoff = dt.date.fromisoformat(until)
    priors, _, _ = posterior_inputs(list(fit), list(prior), [])
    seed = scenario.run.seed
    evaluator = CrossedEvaluator(scenario, seed, cutoff, remember_draws=False)
    cut = evaluator.scenario_at({})
    fluid = FluidEvaluator(scenario, cutoff)
    rng = np.random.default_rng(20261207)
    points = [{p.key: float(p.ppf(rng.uniform())) for p in priors} for _ in range(fluid_points)]
    out: dict[str, list[float]] = {f"{unit}_{clock}": [] for unit in ("replication", "evaluation", "fluid")
                                   for clock in ("wall", "cpu")}

    def record(unit: str, call) -> None:
        wall, cpu = _timed(call)
        out[f"{unit}_wall"].append(wall)
        out[f"{unit}_cpu"].append(cpu)

    run_replication(cut, 0)  # warm-ups, untimed
    evaluator({}, 0)
    fluid(points[0])
    for replication in range(1, replications + 1):  # interleaved, so both see the same machine
        record("replication", lambda r=replication: run_replication(cut, r))
        record("evaluation", lambda r=replication: evaluator({}, r))
    for point in points:
        record("fluid", lambda p=point: fluid(p))
    return out


def unit_costs_in_subprocess(scenario_path: Path, until: str, fit: Sequence[str], prior: Sequence[str],
                             replications: int = 5, fluid_points: int = 30) -> dict[str, list[float]]:
    """:func:`unit_costs` in a fresh interpreter (its memory and imports its own)."""
    code = ("import json\n"
            "from bench.calibration_units import unit_costs\n"
            f"print(json.dumps(unit_costs({str(scenario_path)!r}, {until!r}, {list(fit)!r}, {list(prior)!r}, "
            f"{replications}, {fluid_points})))\n")
    return json_from_fresh_interpreter(code)


def merged(measures: Sequence[dict[str, list[float]]]) -> dict[str, list[float]]:
    """Several :func:`unit_costs` results (e.g. before and after the fits) as one."""
    keys = measures[0].keys()
    return {key: [value for measure in measures for value in measure[key]] for key in keys}


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
