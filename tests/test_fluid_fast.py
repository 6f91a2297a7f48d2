"""The evaluator's crossed-only pass (sim.analytic.fluid.crossed) against the numbers the evaluator
gave before it (tests/golden/fluid-evaluations.npz, recorded by tests/fluid_reference_cases.py), and
against the full pass it shortcuts.

"Equal" is to 1e-9 of each series' own peak: the passes chain their FFTs differently, so where a
day has nothing (a closed crossing) one holds 0 and the other a round-off of 1e-12 people.
"""
from __future__ import annotations

import numpy as np
import pytest
from fluid_reference_cases import ARC, GOLDEN, PHASE1, arc_points, evaluate, phase1_points

RELATIVE = 1e-9


def assert_same_series(got: np.ndarray, expected: np.ndarray) -> None:
    """[point, series, day] equal to ``RELATIVE`` of each series' peak (and of each value)."""
    scale = np.abs(expected).max(axis=-1, keepdims=True)
    error = np.abs(got - expected)
    assert (error <= RELATIVE * np.maximum(scale, 1.0)).all(), f"worst relative error {(error / scale).max():.3g}"


@pytest.mark.parametrize("name, case, points", [("arc", ARC, arc_points), ("phase1", PHASE1, phase1_points)])
def test_the_evaluator_gives_the_numbers_recorded_before_the_fast_path(name, case, points):
    assert_same_series(evaluate(case, points()), np.load(GOLDEN)[name])


def test_the_crossed_only_pass_gives_the_full_pass_crossings():
    # Includes patches outside the arc's fitted keys: lanes (capacity rebuilt) and a deported share.
    from sim.analytic.fluid import FluidEvaluator
    from sim.scenario import load_scenario

    evaluator = FluidEvaluator(load_scenario(ARC[0]), ARC[1])
    for point in arc_points(3)[1:] + [{"crossings.torkham.lanes": 30, "groups.undocumented.deported_share": 0.4}]:
        fast, full = evaluator(point), evaluator.path(point).crossed_per_day()
        assert_same_series(np.array([fast[k] for k in sorted(fast)])[None],
                           np.array([full[k] for k in sorted(full)])[None])
