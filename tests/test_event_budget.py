"""Regression guard on the engine's cost: SimPy events scheduled per household.

Counted by SimPy's own event ids (every event SimPy queues takes the next one, whether through
``schedule`` or pushed by the engine's hot paths), not by any counter of the engine's logic, so
that a change that doubles the events is caught here — without timing anything. The bounds carry a margin over what the design gives (noted per test).
"""
from __future__ import annotations

import numpy as np
import pytest

from builders import build
from sim.model import engine
from sim.model.engine import run_replication
from sim.model.environment import CountingEnvironment


@pytest.fixture
def scheduled_events(monkeypatch):
    counted = {"events": 0}

    class Counted(CountingEnvironment):
        def run(self, until=None):
            try:
                return super().run(until)
            finally:
                counted["events"] += self.events_scheduled
                self.events_scheduled = 0

    monkeypatch.setattr(engine, "Environment", Counted)
    return counted


def served_households(outcome) -> int:
    return int(np.isfinite(outcome.trace["service_start_hours"]).sum())


SURGE = {
    "groups": {"everyone": {"departures": {"hazard": None, "schedule": [{"from": "2024-01-01", "per_day": 4000},
                                                        {"from": "2024-01-04", "per_day": 1500}]}}},
    "origins": {"home": {"routes": [
        {"crossing": "border", "travel": {"dist": "fixed", "value": 0}, "voluntary": 0.6},
        {"crossing": "other", "travel": {"dist": "fixed", "value": 0}, "voluntary": 0.4},
    ]}},
    "crossings": {"border": {"lanes": 60, "service": {"dist": "exponential", "mean": "20min"}},
                  "other": {"lanes": 40, "service": {"dist": "exponential", "mean": "22min"}}},
}


def test_straight_to_the_border_costs_one_event_per_household(scheduled_events):
    """Design: one service-end event per household; arrivals are admitted lazily or started ahead
    (no event). Bound 1.05: a few capacity-timeline events."""
    outcome = run_replication(build(SURGE, people=20_000, days=8), 0, trace=True)
    served = served_households(outcome)
    assert served > 10_000
    assert scheduled_events["events"] / served <= 1.05


def test_with_opening_hours_the_wake_ups_stay_few(scheduled_events):
    """Closed nights: idle lanes at opening need wake-ups only while the border is quiet. Bound 1.5."""
    patch = {**SURGE, "crossings": {"border": {**SURGE["crossings"]["border"], "hours": "06:00-21:00"},
                                    "other": SURGE["crossings"]["other"]}}
    outcome = run_replication(build(patch, people=20_000, days=8), 0, trace=True)
    assert scheduled_events["events"] / served_households(outcome) <= 1.5


def test_a_camp_costs_a_few_events_per_household(scheduled_events):
    """Through a camp: arrival, end of stay, onward arrival, service end (dispatches are shared),
    per household that departed (some are still in the camp at the end). Bound 4.5."""
    patch = {
        "origins": {"home": {"routes": [{"crossing": "border", "via": "transit", "voluntary": 1.0,
                                         "travel": {"dist": "exponential", "mean": 2},
                                         "onward": {"dist": "fixed", "value": 1}}]}},
        "camps": {"transit": {"capacity": 2000, "stay": {"dist": "uniform", "low": 2, "high": 10},
                              "dispatch": {"days": ["mon", "wed", "fri"], "at": "08:00"}}},
        "groups": {"everyone": {"departures": {"hazard": [{"from": "2024-01-01", "rate": 0.5}]}}},
    }
    outcome = run_replication(build(patch, people=10_000, lanes=60, days=8), 0, trace=True)
    departed = int(np.isfinite(outcome.trace["depart_hours"]).sum())
    assert served_households(outcome) > 3_000
    assert scheduled_events["events"] / departed <= 4.5
