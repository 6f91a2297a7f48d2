"""Conservation of people over randomly generated scenarios (hypothesis).

The engine checks conservation at the end of every replication and raises if a single person is
lost or created (DESIGN §3.11); these scenarios throw every feature at it at once: camps with and
without dispatch, quotas, slowdowns with factor 0 and above 1, wrapping opening hours, reroutes,
random disruptions, initial queues and camp occupants, stayers, deportations and schedules.
"""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model.engine import run_replication
from sim.scenario import scenario_from_dict

DAYS = 6
hours_text = st.sampled_from(["24h", "06:00-21:00", "22:00-04:00", "08:00-12:00"])
duration = st.sampled_from(["0h", "30min", "1h", "3h", "12h", "2d"])


@st.composite
def distribution(draw, positive: bool = False):
    kind = draw(st.sampled_from(["fixed", "exponential", "lognormal", "uniform", "triangular"]))
    mean_hours = draw(st.floats(0.1 if positive else 0.05, 30))
    if kind == "fixed":
        return {"dist": "fixed", "value": mean_hours}
    if kind == "exponential":
        return {"dist": "exponential", "mean": mean_hours}
    if kind == "lognormal":
        return {"dist": "lognormal", "mean": mean_hours, "sd": mean_hours / 2}
    if kind == "uniform":
        return {"dist": "uniform", "low": mean_hours / 2, "high": mean_hours * 1.5}
    return {"dist": "triangular", "low": 0.0, "mode": mean_hours, "high": mean_hours * 2}


@st.composite
def scenarios(draw):
    day = lambda d: f"2024-01-{d:02d}"
    with_camp = draw(st.booleans())
    with_reroute = draw(st.booleans())
    route = {"crossing": "a", "travel": draw(distribution()), "voluntary": 1.0}
    if with_camp:
        route.update(via="camp", onward=draw(distribution()))
    departures = (
        {"hazard": [{"from": day(1), "rate": draw(st.floats(0.05, 50))},
                    {"from": day(draw(st.integers(2, DAYS))), "rate": draw(st.floats(0, 5))}]}
        if draw(st.booleans())
        else {"schedule": [{"from": day(1), "per_day": draw(st.floats(10, 3000))}]}
    )
    data = {
        "name": "random",
        "period": {"start": day(1), "end": day(DAYS)},
        "target": {"people": draw(st.integers(1, 5000)), "by": day(draw(st.integers(1, DAYS)))},
        "groups": {"g": {
            "people": draw(st.integers(1, 5000)),
            "household_size": {"dist": "poisson", "mean": draw(st.floats(0, 6)), "shift": 1},
            "origins": {"o": 1.0},
            "never_leave": draw(st.floats(0, 0.9)),
            "deported_share": draw(st.floats(0, 1)),
            "departures": departures,
        }},
        "origins": {"o": {"routes": [route]}},
        "crossings": {
            "a": {"lanes": draw(st.integers(1, 6)), "service": draw(distribution(positive=True)),
                  "hours": draw(hours_text),
                  "max_people_per_day": draw(st.one_of(st.none(), st.integers(1, 400)))},
            "b": {"lanes": draw(st.integers(1, 6)), "service": draw(distribution(positive=True))},
        },
        "slowdowns": [
            {"at": draw(st.sampled_from(["a", "b"])), "from": day(start), "to": day(start + length),
             "factor": draw(st.sampled_from([0.0, 0.5, 1.0, 3.0])),
             **({"hours": draw(hours_text)} if draw(st.booleans()) else {}),
             **({"max_people_per_day": draw(st.integers(1, 100))} if draw(st.booleans()) else {})}
            for start, length in draw(st.lists(st.tuples(st.integers(1, DAYS - 1), st.integers(0, 2)), max_size=3))
        ],
    }
    if with_camp:
        data["camps"] = {"camp": {
            "capacity": draw(st.integers(1, 300)), "stay": draw(distribution()),
            **({"dispatch": {"days": draw(st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
                                                   min_size=1, max_size=7, unique=True)),
                             "at": draw(st.sampled_from(["00:00", "08:00", "16:30"])),
                             "max_people": draw(st.one_of(st.none(), st.integers(1, 200)))}}
               if draw(st.booleans()) else {}),
        }}
    if with_reroute:
        data["crossings"]["a"]["reroute"] = {"to": "b", "after": draw(duration), "share": draw(st.floats(0, 1)),
                                             "travel": draw(distribution())}
    if draw(st.booleans()):
        data["disruptions"] = [{"at": "a", "every": {"dist": "exponential", "mean": "1d"},
                                "lasting": {"dist": "exponential", "mean": "6h"}, "factor": 0.0}]
    people = data["groups"]["g"]["people"]
    initial = draw(st.integers(0, people // 2))
    if initial:
        data["initial"] = {"in_camps": {"camp": initial}} if with_camp else {"queued": {"a": initial}}
    return data


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=scenarios(), replication=st.integers(0, 3))
def test_people_are_conserved_in_every_replication(data, replication):
    scenario = scenario_from_dict(data)
    outcome = run_replication(scenario, replication, seed=11)  # raises ConservationError on a leak
    total = data["groups"]["g"]["people"]
    departed = outcome.daily[("all", "all", "departed_people_cumulative")]
    crossed = outcome.daily[("all", "all", "crossed_people_cumulative")]
    stock = outcome.daily[("g", "group", "remaining_stock_people")]
    assert np.all(np.diff(crossed) >= 0)
    assert np.all(crossed <= departed)
    assert np.allclose(stock + departed, total)
    crossed_at_crossings = sum(outcome.daily[(name, "crossing", "crossed_people")].sum() for name in ("a", "b"))
    assert crossed_at_crossings == crossed[-1]
    assert outcome.totals["unserved_people"] == departed[-1] - crossed[-1]
