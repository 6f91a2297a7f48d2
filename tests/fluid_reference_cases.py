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
import math
from pathlib import Path

import numpy as np

GOLDEN = Path(__file__).resolve().parent / "golden" / "fluid-evaluations.npz"

ARC = ("scenarios/arc-2023-2025.yaml", dt.date(2025, 3, 31))
PHASE1 = ("scenarios/phase1-2023.yaml", dt.date(2023, 11, 22))

_UNDOCUMENTED_FITTED_STEPS = {5: 0.055, 8: 0.013, 9: 0.01, 11: 0.0055, 12: 0.003, 13: 0.00065, 14: 0.0014,
                              15: 0.0026, 16: 0.0026, 17: 0.0019, 18: 0.0023, 19: 0.0018, 20: 0.0004}
ARC_CENTRES = {
    "groups.undocumented.people": 1_550_000.0, "groups.undocumented.never_leave": 0.38,
    **{f"groups.undocumented.departures.hazard.{n}.rate": rate for n, rate in _UNDOCUMENTED_FITTED_STEPS.items()},
    "groups.acc_holders.never_leave": 0.6, "groups.acc_holders.departures.hazard.0.rate": 0.00015,
    "groups.por_holders.never_leave": 0.7, "groups.por_holders.departures.hazard.0.rate": 0.0007,
    "groups.por_holders.departures.hazard.1.rate": 0.00028,
}
PHASE1_KEYS = ["groups.undocumented.never_leave",
               *[f"groups.undocumented.departures.hazard.{n}.rate" for n in (5, 8, 9, 11)]]


def arc_points(count: int = 8, seed: int = 20250331) -> list[dict[str, float]]:
    """The centres, ``count`` prior draws and two corners, as dicts of the arc's fitted keys."""
    rng = np.random.default_rng(seed)
    sigma = math.sqrt(math.log(2.0))  # lognormal with sd = mean
    points = [dict(ARC_CENTRES)]
    for _ in range(count):
        point = {}
        for key, centre in ARC_CENTRES.items():
            if key.endswith("people"):
                point[key] = float(rng.uniform(1.3e6, 1.8e6))
            elif key.endswith("never_leave"):
                point[key] = float(rng.triangular(0.0, centre, 1.0))
            else:
                point[key] = float(centre * rng.lognormal(-sigma ** 2 / 2, sigma))
        points.append(point)
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
