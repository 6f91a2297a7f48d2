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


@pytest.mark.parametrize("has_dispatch", [False, True])
def test_the_compiled_gate_gives_the_interpreted_loops_numbers(has_dispatch):
    """numba compiles the gate's loop (`gate_hours`); run as plain Python it must give the same
    entries, stays and end hour to the last bit, on a camp that overflows twice."""
    from sim.analytic.fluid.queues import EPSILON_PEOPLE, GATE_FREE_BINS, _gate_kernel, gate_hours

    rng = np.random.default_rng(5)
    hours = 24 * 20
    arrivals = rng.gamma(2.0, 10.0, hours) * (1 + 3 * (np.arange(hours) // 24 % 7 < 2))
    kernel = np.diff(np.concatenate([[0.0], np.linspace(0, 1, 30) ** 2]))
    dispatch_hours = np.zeros(hours, bool)
    dispatch_hours[2::4] = has_dispatch
    results = []
    for gate in (gate_hours, _gate_kernel()):
        entries, ready = arrivals.copy(), np.zeros(hours + len(kernel))
        ready[:len(kernel)] = 1150.0 * kernel  # the camp nearly full at the start, its people's stays ending
        end = gate(arrivals, entries, ready, kernel, dispatch_hours, 0, has_dispatch, 1200.0,
                   800.0 if has_dispatch else np.inf, 1150.0, 0.0, GATE_FREE_BINS, EPSILON_PEOPLE)
        results.append((end, entries, ready))
    (end, entries, ready), (compiled_end, compiled_entries, compiled_ready) = results
    assert 0 < end < hours and (entries[:end] < arrivals[:end]).any()  # the gate held people
    assert compiled_end == end
    assert np.array_equal(compiled_entries, entries) and np.array_equal(compiled_ready, ready)
