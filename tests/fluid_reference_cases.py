"""The evaluations behind ``tests/golden/fluid-evaluations.npz``: the fluid evaluator's answers on
the arc (cut at 31 Mar 2025) and on phase 1 (cut at 22 Nov 2023) at fixed points, recorded by the
evaluator as it was before the fast path (commit b0adfab), so that any later change to how the path
is computed is held to those numbers (tests/test_fluid_fast.py).

Points: the scenario's own values, draws of the arc's 20 fitted keys from their priors (lognormal
rates with sd = mean, triangular never_leave, uniform people), and corners that make camps overflow
(a deadline-day rate of 0.3 fills Landi Kotal, Quetta and Sindh) or leave almost nothing to flow.
Refresh (only when the fluid path's *model* changes on purpose): ``python tests/fluid_reference_cases.py``.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from bench.fluid import ARC_PRIOR_CENTRES, prior_points

GOLDEN = Path(__file__).resolve().parent / "golden" / "fluid-evaluations.npz"

ARC = ("bench/arc-2023-2025-rates.yaml", dt.date(2025, 3, 31))  # the arc when its fitted keys were rates
PHASE1 = ("scenarios/phase1-2023.yaml", dt.date(2023, 11, 22))

ARC_CENTRES = ARC_PRIOR_CENTRES  # the arc's prior centres, shared with the fluid benchmark
PHASE1_KEYS = ["groups.undocumented.never_leave",
               *[f"groups.undocumented.departures.hazard.{n}.rate" for n in (5, 8, 9, 11)]]


def arc_points(count: int = 8, seed: int = 20250331) -> list[dict[str, float]]:
    """The centres, ``count`` prior draws and two corners, as dicts of the arc's fitted keys."""
    points = [dict(ARC_CENTRES), *prior_points(count, seed)]
    flood = dict(ARC_CENTRES, **{"groups.undocumented.departures.hazard.5.rate": 0.3,
                                 "groups.undocumented.never_leave": 0.05, "groups.undocumented.people": 1.8e6})
    trickle = dict(ARC_CENTRES, **{"groups.undocumented.never_leave": 0.99, "groups.acc_holders.never_leave": 1.0})
    return [*points, flood, trickle]


def phase1_points(count: int = 6) -> list[dict[str, float]]:
    """Phase 1's five fitted keys at the arc points' values (the same draws, the keys phase 1 has)."""
    return [{key: point[key] for key in PHASE1_KEYS} for point in arc_points(count)]


def evaluate(case, points):
    """[point, series, day]: each point's crossed people per day (``all``, then the crossings)."""
    from sim.analytic.fluid import FluidEvaluator
    from sim.scenario import load_scenario

    path, until = case
    evaluator = FluidEvaluator(load_scenario(path), until)
    rows = []
    for point in points:
        crossed = evaluator(point)
        rows.append(np.array([crossed[name] for name in sorted(crossed)]))
    return np.array(rows)


if __name__ == "__main__":
    np.savez_compressed(GOLDEN, arc=evaluate(ARC, arc_points()), phase1=evaluate(PHASE1, phase1_points()))
    print(f"wrote {GOLDEN}")
