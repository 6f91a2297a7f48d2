"""The fluid path (sim.analytic.fluid) on cases with a known answer, and its evaluator's contract."""
from __future__ import annotations

import datetime as dt
import math
import pickle

import numpy as np
import pytest
from conftest import minimal_scenario_dict

from builders import build
from sim.analytic.fluid import FluidEvaluator, fluid_path
from sim.runs.evaluate import daily_crossed
from sim.scenario import ScenarioError, load_scenario, scenario_from_dict


def test_hazard_departures_give_the_exact_expected_crossings_per_day():
    # 6,000 people at 0.05 a day from the start, 6 h travel, 30 min service, ample lanes: by hour t,
    # 6000 (1 - exp(-0.05 (t - 6.5) / 24)) have crossed.
    scenario = scenario_from_dict(minimal_scenario_dict())
    crossed = fluid_path(scenario).crossed_per_day()["torkham"]
    day_ends = 24.0 * np.arange(1, 31) - 6.5
    expected = np.diff(6000 * (1 - np.exp(-0.05 * day_ends / 24)), prepend=0.0)
    assert crossed == pytest.approx(expected, abs=0.01)


def test_never_leave_and_schedule_set_the_expected_total():
    data = minimal_scenario_dict()
    data["groups"]["undocumented"]["never_leave"] = 0.25
    data["groups"]["undocumented"]["departures"] = {"schedule": [{"from": "2023-11-01", "per_day": 300}]}
    crossed = fluid_path(scenario_from_dict(data)).crossed_per_day()["all"]
    # 300 a day until the 4,500 who leave have left (day 15), less the last 6.5 h still on the way.
    assert crossed[:14] == pytest.approx(np.r_[300 * (24 - 6.5) / 24, [300.0] * 13])
    assert crossed.sum() == pytest.approx(4500.0)


def test_a_constant_capacity_queue_drains_in_queue_over_capacity():
    # 100 people queued at the start, 2 lanes of one person an hour, open 08:00-16:00: 16 a day,
    # the last 4 on the seventh day — as the simulation (deterministic here) says.
    scenario = build({"initial": {"queued": {"border": 100}}}, people=100, hours="08:00-16:00", days=8)
    crossed = fluid_path(scenario).crossed_per_day()["border"]
    assert crossed == pytest.approx([16, 16, 16, 16, 16, 16, 4, 0])
    assert crossed == pytest.approx(daily_crossed(scenario)["border"])
    # Every daily series (queues, waits, utilisation, departures ...) as the simulation's, to the
    # hour's resolution of the fluid path (a wait read mid-hour, a queue at 23:00 vs 24:00).
    from sim.analytic.fluid.outcome import fluid_outcome
    from sim.model.engine import run_replication

    fluid, simulated = fluid_outcome(fluid_path(scenario), scenario), run_replication(scenario, 0, 1)
    for key, values in simulated.daily.items():
        assert fluid.daily[key] == pytest.approx(values, abs=0.6), key
    assert fluid.totals["peak_queue_people"] == simulated.totals["peak_queue_people"] == 100


def test_the_evaluator_patches_departures_like_a_rebuilt_scenario():
    scenario = load_scenario("scenarios/phase1-2023.yaml")
    evaluator = FluidEvaluator(scenario, dt.date(2023, 11, 22))
    values = {"groups.undocumented.departures.hazard.5.rate": 0.04, "groups.undocumented.never_leave": 0.4,
              "groups.undocumented.deported_share": 0.5, "groups.undocumented.people": 1.5e6,
              "crossings.chaman.lanes": 8}
    patched = evaluator(values)
    rebuilt = fluid_path(evaluator.scenario_at(values)).crossed_per_day()
    assert len(patched["all"]) == (dt.date(2023, 11, 22) - scenario.period.start).days + 1
    for name in ("torkham", "chaman", "all"):
        assert patched[name] == pytest.approx(rebuilt[name], rel=1e-9, abs=1e-6)
    assert patched["all"].sum() != pytest.approx(evaluator({})["all"].sum(), rel=1e-3)  # the values matter
    assert pickle.loads(pickle.dumps(evaluator))(values)["all"] == pytest.approx(patched["all"])


@pytest.mark.parametrize("key, value", [("groups.undocumented.never_leave", 1.5),
                                        ("groups.undocumented.departures.hazard.3.rate", -0.01)])
def test_the_evaluator_rejects_what_the_scenario_rejects(key, value):
    evaluator = FluidEvaluator(load_scenario("scenarios/phase1-2023.yaml"), dt.date(2023, 10, 31))
    evaluator({key: 0.5})  # the keys are known: the next call takes the patching path
    with pytest.raises(ScenarioError, match=key.rsplit(".", 1)[-1]):
        evaluator({key: value})


def test_the_evaluator_rejects_a_stock_smaller_than_its_initial_households():
    evaluator = FluidEvaluator(build({"initial": {"queued": {"border": 50}}}, people=100, days=8), dt.date(2024, 1, 8))
    assert evaluator({"groups.everyone.people": 80})["all"].sum() == pytest.approx(80)
    with pytest.raises(ScenarioError, match="initial households take 50 people"):
        evaluator({"groups.everyone.people": 20})


def test_the_fluid_path_follows_the_simulation_mean_on_phase1_to_22_november():
    scenario = load_scenario("scenarios/phase1-2023.yaml")
    until = dt.date(2023, 11, 22)
    fluid = np.cumsum(FluidEvaluator(scenario, until)({})["all"])
    simulated = np.mean([np.cumsum(daily_crossed(scenario, until=until, replication=r)["all"]) for r in range(4)],
                        axis=0)
    weekly = np.arange(6, len(fluid), 7)
    assert fluid[weekly] == pytest.approx(simulated[weekly], rel=0.02)
    assert math.isclose(fluid[-1], simulated[-1], rel_tol=0.01)


def test_the_fluid_outcome_has_the_simulations_series_and_households_for_needs():
    from sim.analytic.fluid.outcome import fluid_outcome
    from sim.model.engine import run_replication

    scenario = scenario_from_dict(minimal_scenario_dict())
    outcome = fluid_outcome(fluid_path(scenario), scenario)
    assert set(outcome.daily) == set(run_replication(scenario, 0, 1).daily)
    arrived = outcome.daily[("torkham", "crossing", "arrived_people")]
    assert outcome.households[("torkham", "crossing", "arrived_households")] == pytest.approx(arrived / 6)
    assert outcome.verdict == ""  # no target


def test_reroutes_during_a_closure_follow_the_simulation():
    # The border (96 a day) is closed on days 3-4 with a long queue; half of those who have waited
    # 2 h leave for an ample crossing 3 h away.
    patch = {"groups": {"everyone": {"departures": {"hazard": [{"from": "2024-01-01", "rate": 0.4}]}}},
             "crossings": {"border": {"reroute": {"to": "other", "after": 2, "share": 0.5,
                                                  "travel": {"dist": "fixed", "value": 3}}},
                           "other": {"lanes": 40, "service": {"dist": "fixed", "value": 1}}},
             "slowdowns": [{"at": "border", "from": "2024-01-03", "to": "2024-01-04", "factor": 0}]}
    scenario = build(patch, people=2000, lanes=4, days=8)
    fluid = fluid_path(scenario).crossed_per_day()
    simulated = [daily_crossed(scenario, replication=r) for r in range(4)]
    assert fluid["border"] == pytest.approx([92, 96, 4, 0, 92, 96, 96, 96])
    assert fluid["border"] == pytest.approx(np.mean([s["border"] for s in simulated], axis=0))
    other = np.mean([s["other"] for s in simulated], axis=0)
    assert fluid["other"].sum() == pytest.approx(other.sum(), rel=0.02)  # ~695 rerouted people
    assert fluid["other"] == pytest.approx(other, abs=12)


def test_a_daily_quota_binds_as_in_the_simulation():
    # 300 a day arrive at first; 100 people a day may start: the queue drains on day 10.
    scenario = build({"groups": {"everyone": {"departures": {"hazard": [{"from": "2024-01-01", "rate": 0.3}]}}},
                      "crossings": {"border": {"max_people_per_day": 100}}},
                     people=1000, lanes=4, days=12, household_size=2)
    fluid = fluid_path(scenario).crossed_per_day()["border"]
    simulated = np.mean([daily_crossed(scenario, replication=r)["border"] for r in range(4)], axis=0)
    assert fluid[:9] == pytest.approx([100] * 9)
    assert fluid == pytest.approx(simulated, abs=3)


def test_convoys_from_a_full_camp_as_in_the_simulation():
    # A camp of 150 places sends at most 120 people on Mon, Wed and Fri at 08:00; 3,000 people leave
    # at 0.2 a day: the camp is full throughout and every convoy is full.
    patch = {"groups": {"everyone": {"departures": {"hazard": [{"from": "2024-01-01", "rate": 0.2}]}}},
             "origins": {"home": {"routes": [{"crossing": "border", "via": "camp", "voluntary": 1.0,
                                              "travel": {"dist": "lognormal", "mean": 5, "sd": 2},
                                              "onward": {"dist": "fixed", "value": 2}}]}},
             "camps": {"camp": {"capacity": 150, "stay": {"dist": "triangular", "low": 2, "mode": 8, "high": 24},
                                "dispatch": {"days": ["mon", "wed", "fri"], "at": "08:00", "max_people": 120}}}}
    scenario = build(patch, people=3000, lanes=20, days=14, household_size=3)
    fluid = fluid_path(scenario).crossed_per_day()["border"]
    simulated = np.mean([daily_crossed(scenario, replication=r)["border"] for r in range(3)], axis=0)
    assert fluid[2:] == pytest.approx([120, 0, 120, 0, 0, 120, 0, 120, 0, 120, 0, 0])
    assert fluid == pytest.approx(simulated, abs=3)  # a household of 3 on day 0
