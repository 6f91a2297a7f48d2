"""Cheap evaluations for calibration (issue 15, item 3): counting only people crossed, and
remembered draws, give exactly what a full replication and fresh draws give."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from sim.model import streams
from sim.model.crossed import CROSSED
from sim.model.draw_memo import DrawMemo
from sim.model.engine import run_replication
from sim.runs.evaluate import CrossedEvaluator, crossed_by_node, daily_crossed
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden" / "small-scenario.yaml"
PHASE1 = ROOT / "scenarios" / "phase1-2023.yaml"
H = "groups.undocumented.departures.hazard"
# Values that change the departures, the routes (deported share), the lanes, the number of
# households, then back to the scenario's own: remembered draws must follow every change.
GOLDEN_VALUES = [
    {},
    {f"{H}.1.rate": 0.3, "groups.undocumented.never_leave": 0.3},
    {"groups.undocumented.deported_share": 0.6, "groups.por.departures.schedule.0.per_day": 90},
    {"crossings.torkham.lanes": 3, "groups.por.never_leave": 0.4},
    {"groups.undocumented.people": 4100},
    {},
]


def _same(first: dict, second: dict) -> None:
    assert first.keys() == second.keys()
    for key, values in first.items():
        np.testing.assert_array_equal(values, second[key], err_msg=key)


@pytest.mark.parametrize("replication", [0, 1, 2])
def test_counting_only_crossed_people_equals_the_full_outcome_with_camps_and_reroutes(replication) -> None:
    scenario = load_scenario(GOLDEN)
    lean = run_replication(scenario, replication, counters=CROSSED)
    full = run_replication(scenario, replication)
    assert list(lean) == list(scenario.crossings)
    for name in scenario.crossings:
        np.testing.assert_array_equal(lean[name], full.daily[(name, "crossing", "crossed_people")])
    assert lean["torkham"].sum() > 0 and lean["chaman"].sum() > 0


def test_counting_only_crossed_people_equals_the_full_outcome_on_the_baseline() -> None:
    scenario = load_scenario(PHASE1)
    lean = run_replication(scenario, 0, counters=CROSSED)
    full = crossed_by_node(run_replication(scenario, 0), list(scenario.crossings))
    _same({**lean, "all": np.sum(list(lean.values()), axis=0)}, full)
    assert full["all"].sum() > 100_000


def test_remembered_draws_give_what_fresh_draws_give_whatever_the_values() -> None:
    scenario = load_scenario(GOLDEN)
    until = dt.date(2023, 11, 25)
    remembering = CrossedEvaluator(scenario, 7, until)
    fresh = CrossedEvaluator(scenario, 7, until, remember_draws=False)
    for values in GOLDEN_VALUES:
        evaluated = remembering(values)
        _same(evaluated, fresh(values))
        _same(evaluated, daily_crossed(scenario, seed=7, until=until, values=values))
        _same(remembering(values), evaluated)  # asked again: the same
    assert remembering._draws.hits > 0
    # another replication index is other streams: nothing remembered is served for it
    _same(remembering({}, replication=1), fresh({}, replication=1))


def test_remembered_draws_on_the_bundled_calibration() -> None:
    scenario = load_scenario(PHASE1)
    until = dt.date(2023, 11, 22)
    evaluator = CrossedEvaluator(scenario, scenario.run.seed, until)
    points = [{f"{H}.5.rate": 0.02, f"{H}.11.rate": 0.01, "groups.undocumented.never_leave": 0.4},
              {f"{H}.5.rate": 0.12, f"{H}.9.rate": 0.03, "groups.undocumented.never_leave": 0.65}]
    for values in points:
        _same(evaluator(values), daily_crossed(scenario, until=until, values=values))
    assert evaluator._draws.hits > 0 and evaluator._draws.misses > 0


def test_one_evaluator_in_two_threads_gives_what_fresh_draws_give() -> None:
    """As on a Dask worker with two threads: evaluations of one evaluator at once."""
    from concurrent.futures import ThreadPoolExecutor

    scenario = load_scenario(GOLDEN)
    until = dt.date(2023, 11, 25)
    shared = CrossedEvaluator(scenario, 7, until)
    fresh = CrossedEvaluator(scenario, 7, until, remember_draws=False)
    values = GOLDEN_VALUES * 3
    with ThreadPoolExecutor(2) as threads:
        evaluated = list(threads.map(shared, values))
    for point, result in zip(values, evaluated):
        _same(result, fresh(point))


# --------------------------------------------------------------------------------------------
# DrawMemo itself, against real generators


def _real(name: str) -> np.random.Generator:
    return streams.new_stream(3, 0, name)


def test_memo_serves_what_a_real_stream_gives_for_any_sequence_of_calls() -> None:
    memo = DrawMemo()
    for _ in range(3):  # first drawn, then remembered
        with memo.active():
            a, b = streams.stream(3, 0, "a"), streams.stream(3, 0, "a")  # two generators of one stream
            first_a, first_b = a.random(5), b.random(5)
            second_a = a.lognormal(0.1, 0.5, 4)
            second_b = b.exponential(2.0, 4)  # b goes another way after its first call
        real_a, real_b = _real("a"), _real("a")
        np.testing.assert_array_equal(first_a, real_a.random(5))
        np.testing.assert_array_equal(first_b, real_b.random(5))
        np.testing.assert_array_equal(second_a, real_a.lognormal(0.1, 0.5, 4))
        np.testing.assert_array_equal(second_b, real_b.exponential(2.0, 4))
    assert memo.hits > 0


def test_memo_hands_out_copies_and_passes_array_arguments_through() -> None:
    memo = DrawMemo()
    for _ in range(2):  # drawn, then remembered: a caller changing what it got changes nothing remembered
        with memo.active():
            streams.stream(3, 0, "b").random(4)[:] = -1.0
    with memo.active():
        again = streams.stream(3, 0, "b").random(4)
        generator = streams.stream(3, 0, "c")
        shuffled = generator.permutation(np.arange(6))  # an array argument: drawn for real
        after = generator.random(3)
    real = _real("c")
    np.testing.assert_array_equal(again, _real("b").random(4))
    np.testing.assert_array_equal(shuffled, real.permutation(np.arange(6)))
    np.testing.assert_array_equal(after, real.random(3))
    assert not isinstance(streams.stream(3, 0, "b"), type(generator))  # outside active(): real generators


def test_memo_stays_within_its_byte_budget() -> None:
    memo = DrawMemo(max_bytes=3 * 8 * 1000)
    with memo.active():
        for index in range(10):
            streams.stream(3, 0, f"d{index}").random(1000)
    assert memo.nbytes <= 3 * 8 * 1000
    with memo.active():
        late = streams.stream(3, 0, "d9").random(1000)  # the latest are kept
    assert memo.hits == 1
    np.testing.assert_array_equal(late, _real("d9").random(1000))


def test_the_bench_measures_the_calibration_recorded_in_the_forecast_scenario() -> None:
    from bench.evaluations import recorded_calibration

    calibration = recorded_calibration()
    posterior_columns = (ROOT / "scenarios" / "phase1-2023-forecast-posterior.csv").read_text().splitlines()[0]
    assert [*calibration["fitted"], "weight"] == posterior_columns.split(",")
    assert calibration["fitted"]["groups.undocumented.never_leave"] == (0.1, 0.95)
    assert calibration["until"] == dt.date(2023, 11, 22) and calibration["walkers"] == 16
    assert calibration["scenario"] == PHASE1
