"""Chaining service ends is an optimisation, not a rule of the model: a service end that SimPy
would pop next anyway is processed at once instead of through the event queue
(``Crossing.chains_allowed``; DESIGN-NOTES, "Chained service ends"). Both paths are run on the same
households — several crossings, camps, closures, a quota, a reroute — and must give identical
timestamps household by household, identical daily counters, and fewer SimPy events."""
from __future__ import annotations

import numpy as np
import pytest

from builders import build
from sim.model import crossings, engine
from sim.model.environment import CountingEnvironment

BUSY_BORDER = {
    "origins": {"home": {"routes": [
        {"crossing": "north", "via": "transit", "voluntary": 0.4,
         "travel": {"dist": "exponential", "mean": 2}, "onward": {"dist": "exponential", "mean": 1}},
        {"crossing": "north", "voluntary": 0.3, "travel": {"dist": "exponential", "mean": 3}},
        {"crossing": "south", "voluntary": 0.3, "travel": {"dist": "lognormal", "mean": 4, "sd": 2}},
    ]}},
    "camps": {"transit": {"capacity": 300, "stay": {"dist": "uniform", "low": 1, "high": 6}}},
    "groups": {"everyone": {"departures": {"hazard": [{"from": "2024-01-01", "rate": 0.5}]}}},
    "crossings": {
        "north": {"lanes": 4, "service": {"dist": "exponential", "mean": 0.05}, "hours": "06:00-20:00"},
        "south": {"lanes": 3, "service": {"dist": "lognormal", "mean": 0.08, "sd": 0.04},
                  "reroute": {"after": "6h", "share": 0.5, "to": "north", "travel": {"dist": "fixed", "value": 2}}},
    },
    "slowdowns": [{"at": "south", "from": "2024-01-02", "to": "2024-01-02", "factor": 0},
                  {"at": "north", "from": "2024-01-04", "to": "2024-01-05", "factor": 1.5,
                   "max_people_per_day": 400}],
}


def _run(scenario, monkeypatch, chains: bool):
    monkeypatch.setattr(crossings.Crossing, "chains_allowed", chains)
    environments: list[CountingEnvironment] = []

    class Counted(CountingEnvironment):
        def __init__(self) -> None:
            super().__init__()
            environments.append(self)

    monkeypatch.setattr(engine, "Environment", Counted)
    outcome = engine.run_replication(scenario, 0, trace=True)
    return outcome, environments[0].events_scheduled


@pytest.mark.parametrize("patch", ["busy border", "straight to the border"])
def test_chained_service_ends_give_exactly_the_queue_path(monkeypatch, patch):
    spec = BUSY_BORDER
    if patch == "straight to the border":
        spec = {**BUSY_BORDER, "camps": {}, "slowdowns": [], "origins": {"home": {"routes": [
            {**route, "via": None, "onward": None} if "via" in route else route
            for route in BUSY_BORDER["origins"]["home"]["routes"]]}}}
    scenario = build(spec, people=6_000, days=6)
    chained, chained_events = _run(scenario, monkeypatch, True)
    queued, queued_events = _run(scenario, monkeypatch, False)
    served = np.isfinite(chained.trace["service_start_hours"]).sum()
    assert served > 500
    assert chained_events < queued_events  # chaining happened
    for key in chained.trace:
        np.testing.assert_array_equal(chained.trace[key], queued.trace[key], err_msg=key)
    assert chained.daily.keys() == queued.daily.keys()
    for key in chained.daily:
        np.testing.assert_array_equal(chained.daily[key], queued.daily[key], err_msg=str(key))
    assert chained.totals == queued.totals or all(
        a == b or (np.isnan(a) and np.isnan(b)) for a, b in zip(chained.totals.values(), queued.totals.values()))

