"""Starting known arrivals ahead is an optimisation, not a rule of the model: it must give exactly
the timestamps that waking a lane at each arrival gives, also where camps feed the crossing and an
earlier camp arrival takes back a lane committed to a later known arrival (DESIGN-NOTES,
"Performance"). Both paths are run on the same households and compared household by household."""
from __future__ import annotations

import numpy as np
import pytest

from builders import build
from sim.model import crossings
from sim.model.engine import run_replication

CAMP_AND_DIRECT = {
    "origins": {"home": {"routes": [
        {"crossing": "border", "via": "transit", "voluntary": 0.5,
         "travel": {"dist": "exponential", "mean": 2}, "onward": {"dist": "exponential", "mean": 1}},
        {"crossing": "border", "voluntary": 0.5, "travel": {"dist": "exponential", "mean": 3}},
    ]}},
    "camps": {"transit": {"capacity": 300, "stay": {"dist": "uniform", "low": 1, "high": 6}}},
    "groups": {"everyone": {"departures": {"hazard": [{"from": "2024-01-01", "rate": 0.4}]}}},
    "crossings": {"border": {"lanes": 4, "service": {"dist": "exponential", "mean": 0.05},
                             "hours": "06:00-20:00"}},
}


def _trace(scenario, monkeypatch, allowed: bool, withdrawals: list[int]) -> dict[str, np.ndarray]:
    monkeypatch.setattr(crossings.Crossing, "starts_ahead_allowed", allowed)
    original = crossings.Crossing._withdraw_commitments

    def counting(self, now, wanted):
        before = self._next_scheduled
        free = original(self, now, wanted)
        withdrawals.append(before - self._next_scheduled)
        return free

    monkeypatch.setattr(crossings.Crossing, "_withdraw_commitments", counting)
    return run_replication(scenario, 0, trace=True).trace


@pytest.mark.parametrize("lanes", [2, 4])
def test_starting_ahead_with_camp_arrivals_matches_waking_at_each_arrival(monkeypatch, lanes):
    scenario = build({**CAMP_AND_DIRECT, "crossings": {"border": {**CAMP_AND_DIRECT["crossings"]["border"],
                                                                   "lanes": lanes}}}, people=3_000, days=6)
    withdrawals: list[int] = []
    ahead = _trace(scenario, monkeypatch, True, withdrawals)
    woken = _trace(scenario, monkeypatch, False, [])
    assert sum(withdrawals) > 0  # the case this test is about happened
    assert np.isfinite(ahead["service_start_hours"]).sum() > 1_000
    for key in ("service_start_hours", "service_end_hours", "queue_arrival_hours", "camp_enter_hours",
                "camp_leave_hours"):
        np.testing.assert_array_equal(ahead[key], woken[key], err_msg=key)
