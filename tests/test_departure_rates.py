"""Hazard steps given as people per day (``sim.model.departure_rates``): the same model as the rates
they stand for, in the simulation, the fluid path and the calibration's patched evaluator."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest

from builders import build
from sim.analytic.fluid import FluidEvaluator, fluid_path
from sim.model.departure_rates import MAX_RATE_PER_DAY, hazard_rates_per_day
from sim.model.engine import run_replication

STOCK_PEOPLE, NEVER_LEAVE = 3_000, 0.25
LEAVERS = STOCK_PEOPLE * (1 - NEVER_LEAVE)
FIRST_RATE = 0.1  # two days of it, then a step of 60 people a day
SECOND_RATE = 60 / (LEAVERS * math.exp(-2 * FIRST_RATE))


def test_a_step_in_people_per_day_is_its_flow_over_the_leavers_expected_to_remain():
    assert hazard_rates_per_day([0.0, 48.0], [FIRST_RATE, 60.0], [False, True], LEAVERS) == pytest.approx(
        [FIRST_RATE, SECOND_RATE])
    # The first step counts from the period start even if it began before it (negative hours).
    assert hazard_rates_per_day([-24.0, 48.0], [150.0, 60.0], [True, True], LEAVERS) == pytest.approx(
        [150 / LEAVERS, 60 / (LEAVERS * math.exp(-2 * 150 / LEAVERS))])
    assert hazard_rates_per_day([0.0], [60.0], [True], 0.0) == [0.0]  # nobody left to leave


def test_asking_more_people_than_remain_empties_the_stock_without_overflow():
    """A sampler's proposal may ask 100,000 a day of the 3e-304 leavers a first step left: they leave
    at once (the rate is capped), and the steps after it find nobody, with no overflow on the way."""
    with np.errstate(all="raise"):
        rates = hazard_rates_per_day([0.0, 24.0, 48.0, 72.0], [np.float64(2100), np.float64(1e5), 60.0, 0.01],
                                     [True, True, True, False], 3.0)
    assert rates[0] == pytest.approx(700) and rates[1] == MAX_RATE_PER_DAY
    assert rates[2] == 0.0 and rates[3] == 0.01


def _scenario(second_step: dict):
    return build({"period": {"end": "2024-01-12"}, "groups": {"everyone": {
        "people": STOCK_PEOPLE, "never_leave": NEVER_LEAVE,
        "departures": {"hazard": [{"from": "2024-01-01", "rate": FIRST_RATE}, {"from": "2024-01-03", **second_step}]}}}},
        lanes=50)


def test_the_simulation_runs_a_people_per_day_step_as_its_rate():
    """Same seed, same households: identical daily crossings (the rate, not the draw, is converted)."""
    by_rate = run_replication(_scenario({"rate": SECOND_RATE}), 0).daily
    by_people = run_replication(_scenario({"people_per_day": 60}), 0).daily
    assert by_rate.keys() == by_people.keys()
    for key in by_rate:
        np.testing.assert_allclose(by_people[key], by_rate[key], rtol=1e-12, err_msg=str(key))


def test_the_fluid_path_starts_the_step_at_its_people_per_day():
    by_rate = fluid_path(_scenario({"rate": SECOND_RATE})).crossed_per_day()["all"]
    by_people = fluid_path(_scenario({"people_per_day": 60})).crossed_per_day()["all"]
    np.testing.assert_allclose(by_people, by_rate, rtol=1e-12)
    departed_day_3 = LEAVERS * math.exp(-2 * FIRST_RATE) * (1 - math.exp(-SECOND_RATE))
    assert departed_day_3 == pytest.approx(60 * (1 - SECOND_RATE / 2), rel=1e-3)  # 60 a day as it starts


def test_the_evaluator_patches_people_per_day_as_a_rebuild_would():
    key = "groups.everyone.departures.hazard.1.people_per_day"
    evaluator = FluidEvaluator(_scenario({"people_per_day": 60}), dt.date(2024, 1, 12))
    for values in ({key: 90.0}, {key: 90.0, "groups.everyone.never_leave": 0.6}):
        patched = evaluator(values)["all"]
        rebuilt = fluid_path(evaluator.scenario_at(values)).crossed_per_day()["all"]
        np.testing.assert_allclose(patched, rebuilt, rtol=1e-12)
    assert evaluator({key: 90.0})["all"].sum() > evaluator({key: 60.0})["all"].sum()
