"""Behaviour that queueing theory guarantees, checked on random (non-deterministic) scenarios."""
from __future__ import annotations

import numpy as np

from builders import build
from sim.model.engine import run_replication

STEADY = {"groups": {"everyone": {
    "household_size": {"dist": "poisson", "mean": 2, "shift": 1},
    "departures": {"hazard": [{"from": "2024-01-01", "rate": 0.4}]},
}}, "crossings": {"border": {"service": {"dist": "exponential", "mean": "40min"}}}}
"""~3,000 people leaving over days into a crossing loaded near its capacity, exponential service."""


def served_waits(outcome) -> np.ndarray:
    trace = outcome.trace
    with np.errstate(invalid="ignore"):  # never served: inf - inf
        return trace["service_start_hours"] - trace["queue_arrival_hours"]


def test_the_queue_is_first_in_first_out():
    outcome = run_replication(build(STEADY, people=3000, lanes=3, days=10), 0, trace=True)
    trace = outcome.trace
    served = np.isfinite(trace["service_start_hours"])
    order = np.argsort(trace["queue_arrival_hours"][served], kind="stable")
    starts = trace["service_start_hours"][served][order]
    assert served.sum() > 500
    assert np.all(np.diff(starts) >= 0)


def test_one_more_lane_never_raises_any_households_wait():
    """Same seed, same households (common random numbers): with FIFO, no quota and no reroute, a
    fourth lane can only bring every service start forward (Kiefer-Wolfowitz recursion is monotone)."""
    three = run_replication(build(STEADY, people=3000, lanes=3, days=10), 0, trace=True)
    four = run_replication(build(STEADY, people=3000, lanes=4, days=10), 0, trace=True)
    assert np.array_equal(three.trace["size_people"], four.trace["size_people"])
    waits_three, waits_four = served_waits(three), served_waits(four)
    both = np.isfinite(waits_three) & np.isfinite(waits_four)
    assert both.sum() > 500
    assert np.all(waits_four[both] <= waits_three[both] + 1e-9)
    assert waits_four[both].mean() < waits_three[both].mean()
    # Anyone served with three lanes is served with four.
    assert np.all(np.isfinite(waits_four[np.isfinite(waits_three)]))


def test_a_closure_lowers_crossings_inside_its_window():
    closed = {"slowdowns": [{"at": "border", "from": "2024-01-04", "to": "2024-01-05", "factor": 0}]}
    open_run = run_replication(build(STEADY, people=3000, lanes=3, days=10), 0)
    closed_run = run_replication(build({**STEADY, **closed}, people=3000, lanes=3, days=10), 0, trace=True)
    key = ("border", "crossing", "crossed_people")
    window = slice(3, 5)
    assert closed_run.daily[key][window].sum() < open_run.daily[key][window].sum()
    starts = closed_run.trace["service_start_hours"]
    assert not np.any((starts >= 72) & (starts < 120)), "a service started while the factor was 0"
    assert np.any(starts >= 120), "service resumes after the closure"


def test_a_replication_does_not_depend_on_other_replications():
    scenario = build(STEADY, people=3000, lanes=3, days=10)
    first = run_replication(scenario, 3)
    run_replication(scenario, 1)
    again = run_replication(scenario, 3)
    for key, values in first.daily.items():
        assert np.array_equal(values, again.daily[key]), key
    different = run_replication(scenario, 4)
    key = ("border", "crossing", "crossed_people")
    assert not np.array_equal(first.daily[key], different.daily[key])
