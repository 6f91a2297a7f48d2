"""Deterministic scenarios: fixed distributions and departures within minutes of the start, so every
daily count can be worked out by hand (the reasoning is in each test's docstring)."""
from __future__ import annotations

import numpy as np
import pytest

from builders import SMALL_CAMP, build
from sim.model.engine import run_replication


def daily(outcome, node: str, metric: str) -> list[float]:
    node_type = next(key[1] for key in outcome.daily if key[0] == node)
    return outcome.daily[(node, node_type, metric)].tolist()


def test_opening_hours_and_a_slowdown_factor():
    """40 one-person households queue before 08:00; 2 lanes, 1 h each, open 08:00-12:00: 2 lanes x
    4 starts = 8 a day. On day 2 a factor of 2 halves the service: 2 x 8 = 16."""
    scenario = build({"slowdowns": [{"at": "border", "from": "2024-01-02", "to": "2024-01-02", "factor": 2.0}]},
                     people=40, hours="08:00-12:00")
    outcome = run_replication(scenario, 0)
    assert daily(outcome, "border", "crossed_people") == [8, 16, 8, 8, 0]
    assert daily(outcome, "border", "queue_people") == [32, 16, 8, 0, 0]
    assert daily(outcome, "border", "utilisation") == [1.0, 1.0, 1.0, 1.0, 0.0]
    assert daily(outcome, "all", "crossed_people_cumulative") == [8, 24, 32, 40, 40]


def test_waits_follow_from_the_opening_hours():
    """4 households, 1 lane, 1 h, open 08:00-12:00, all arrive at ~00:00: they start at 8, 9, 10, 11 h,
    so each waits 8, 9, 10, 11 h (less the minutes of departure); mean 9.5 h."""
    outcome = run_replication(build(people=4, lanes=1, hours="08:00-12:00"), 0)
    assert daily(outcome, "border", "wait_hours_mean")[0] == pytest.approx(9.5, abs=0.05)
    assert daily(outcome, "border", "wait_hours_p95")[0] == pytest.approx(11.0, abs=0.05)
    # The queue holds 4 from ~00:00 to 08:00, then 3, 2, 1: (4*8 + 3 + 2 + 1) / 24 people on average.
    assert daily(outcome, "border", "queue_people_mean")[0] == pytest.approx(38 / 24, abs=0.01)


def test_hours_past_midnight_wrap():
    """Open 22:00-02:00 is 4 hours a day: 1 lane of 1 h passes 2 before midnight on day 1 and 2 after
    it on day 2, and so on; 6 households cross 2, 4 over the next day."""
    outcome = run_replication(build(people=6, lanes=1, hours="22:00-02:00"), 0)
    # Day 1: 00:00-02:00 starts at ~0 h and 1 h (2 cross), 22:00-24:00 two more (cross at 23, 24=day 2).
    assert daily(outcome, "border", "crossed_people")[:3] == [3, 3, 0]


def test_a_daily_quota_counts_people_at_service_start():
    """Households of 3, quota 10 people a day: 3 + 3 + 3 = 9 fit, a fourth would make 12 > 10. So 3
    households (9 people) a day start, whatever the lanes; 30 people take 4 days (9, 9, 9, 3)."""
    scenario = build({"crossings": {"border": {"max_people_per_day": 10}}}, people=30, household_size=3, lanes=5)
    outcome = run_replication(scenario, 0)
    assert daily(outcome, "border", "crossed_people") == [9, 9, 9, 3, 0]


def test_a_quota_set_by_a_slowdown_applies_inside_its_window_only():
    """Quota 2 people on day 2 only; 1-person households, 1 lane of 4 h: 6 a day otherwise."""
    scenario = build({"slowdowns": [{"at": "border", "from": "2024-01-02", "to": "2024-01-02",
                                     "max_people_per_day": 2}]}, people=20, lanes=1, service_hours=4)
    outcome = run_replication(scenario, 0)
    # Day 1: starts at ~0, 4, ..., 20 h: 5 end inside day 1, the 6th at 24 h + minutes (day 2).
    # Day 2: that 6th crosses; 2 start (quota) and end at ~4 and ~8 h. Day 3: 6 start again.
    assert daily(outcome, "border", "crossed_people") == [5, 3, 5, 6, 1]


def test_a_camp_with_capacity_stay_and_dispatch():
    """10 one-person households reach a camp of 4 at ~00:00. Stay 2 h; dispatch daily at 08:00 of at
    most 3; onward 1 h; the border (10 lanes, 1 h) passes them at 10:00 the day they are dispatched.
    Day 1: 4 enter, 6 wait outside; at 08:00, 3 leave, 3 enter (4 inside, 3 outside).
    Day 2: 4 ready, 3 leave, the last 3 enter (4 inside, 0 outside). Day 3: 3 leave (1 inside).
    Day 4: the last leaves."""
    outcome = run_replication(build(SMALL_CAMP, people=10, lanes=10), 0)
    assert daily(outcome, "transit", "arrived_people") == [10, 0, 0, 0, 0]
    assert daily(outcome, "transit", "occupancy_people") == [4, 4, 1, 0, 0]
    assert daily(outcome, "transit", "waiting_outside_people") == [3, 0, 0, 0, 0]
    assert daily(outcome, "border", "crossed_people") == [3, 3, 3, 1, 0]
    # 6 wait outside from ~00:00 to 08:00, then 3 to 08:00 of day 2: (6*8 + 3*16) / 24 on day 1.
    assert daily(outcome, "transit", "waiting_outside_people_days")[:2] == pytest.approx([4.0, 1.0], abs=0.01)
    assert outcome.totals["peak_waiting_outside_people"] == 6


def test_dispatch_only_on_listed_weekdays():
    """2024-01-01 is a Monday. Dispatch on Wednesdays only: everyone leaves on day 3."""
    patch = {
        "origins": {"home": {"routes": [{"crossing": "border", "via": "transit", "voluntary": 1.0,
                                         "travel": {"dist": "fixed", "value": 0}}]}},
        "camps": {"transit": {"capacity": 100, "stay": {"dist": "fixed", "value": 1},
                              "dispatch": {"days": ["wed"], "at": "06:00"}}},
    }
    outcome = run_replication(build(patch, people=5, lanes=5), 0)
    assert daily(outcome, "border", "crossed_people") == [0, 0, 5, 0, 0]


def test_a_closure_with_reroute_sends_waiting_households_to_the_other_crossing():
    """The border is closed (factor 0) all period; after waiting 2 h every household (share 1) leaves
    for 'other', 3 h away, where 5 lanes of 1 h pass them on day 1."""
    patch = {
        "crossings": {
            "border": {"reroute": {"to": "other", "after": "2h", "share": 1.0,
                                   "travel": {"dist": "fixed", "value": 3}}},
            "other": {"lanes": 5, "service": {"dist": "fixed", "value": 1}},
        },
        "slowdowns": [{"at": "border", "from": "2024-01-01", "to": "2024-01-05", "factor": 0.0}],
    }
    outcome = run_replication(build(patch, people=5), 0, trace=True)
    assert daily(outcome, "border", "crossed_people") == [0] * 5
    assert daily(outcome, "other", "crossed_people") == [5, 0, 0, 0, 0]
    assert daily(outcome, "other", "arrived_people") == [5, 0, 0, 0, 0]
    assert daily(outcome, "border", "queue_people_peak")[0] == 5
    leave = outcome.trace["reroute_leave_hours"]
    assert np.all((leave > 2.0) & (leave < 2.1))


def test_factor_zero_for_the_whole_period_means_nobody_crosses():
    scenario = build({"slowdowns": [{"at": "border", "from": "2024-01-01", "to": "2024-01-05", "factor": 0}]},
                     people=50)
    outcome = run_replication(scenario, 0)
    assert daily(outcome, "all", "crossed_people_cumulative")[-1] == 0
    assert outcome.totals["unserved_people"] == 50


def test_stock_is_cut_into_households_exactly():
    """1,000 people in households of 3: 333 of 3 and one trimmed to 1."""
    outcome = run_replication(build(people=1000, household_size=3, lanes=50), 0, trace=True)
    sizes = outcome.trace["size_people"]
    assert sizes.sum() == 1000
    assert sorted(set(sizes.tolist())) == [1, 3]
    assert daily(outcome, "all", "crossed_people_cumulative")[-1] == 1000


def test_never_leave_and_target_verdicts():
    """Half of the households stay: the target of 60 people cannot be met (departures bind);
    a target of 10 is met on day 1."""
    scenario = build({"groups": {"everyone": {"never_leave": 0.5}},
                      "target": {"people": 60, "by": "2024-01-05"}}, people=100)
    outcome = run_replication(scenario, 0)
    assert outcome.verdict == "departures bind"
    assert 20 < outcome.totals["departed_by_target_date"] < 80
    reached = run_replication(build({"target": {"people": 10, "by": "2024-01-05"}}, people=100), 0)
    assert reached.verdict == "reached"
    assert reached.totals["target_reached_hours"] == pytest.approx(5.0, abs=0.1)  # 2 lanes x 5 h


def test_capacity_binds_and_says_where():
    scenario = build({"target": {"people": 100, "by": "2024-01-01"}}, people=100, lanes=1)
    outcome = run_replication(scenario, 0)
    assert outcome.verdict == "crossing capacity binds"
    assert outcome.binding_where == "queued at border"
