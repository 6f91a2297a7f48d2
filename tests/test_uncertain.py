"""uncertain: values drawn once per replication from their own stream, applied in the worker."""
from __future__ import annotations

import numpy as np
import pytest
from experiment_scenarios import SCENARIOS, write_tiny

from sim.model.engine import run_replication
from sim.model.streams import stream
from sim.runs import uncertain
from sim.runs.executors import ProcessExecutor
from sim.runs.runner import run_replications
from sim.scenario import ScenarioError, load_scenario

BLOCK = ("uncertain={groups.undocumented.never_leave: {dist: uniform, low: 0.0, high: 0.8}, "
         "crossings.torkham.lanes: {dist: uniform, low: 1, high: 5}}")


@pytest.fixture()
def tiny_path(tmp_path):
    return write_tiny(tmp_path)[0]


def test_draws_depend_only_on_seed_replication_and_key(tiny_path) -> None:
    scenario = load_scenario(tiny_path, [BLOCK])
    first = uncertain.draw(scenario, 9, 0)
    assert first == uncertain.draw(scenario, 9, 0)
    assert first != uncertain.draw(scenario, 9, 1)
    expected = 0.8 * stream(9, 0, "uncertain/groups.undocumented.never_leave").uniform(0, 1)
    assert first["groups.undocumented.never_leave"] == pytest.approx(expected)
    assert isinstance(first["crossings.torkham.lanes"], int)  # lanes are an integer: rounded
    # Another key does not change this key's draws.
    alone = load_scenario(tiny_path, ["uncertain={groups.undocumented.never_leave: {dist: uniform, low: 0, high: 0.8}}"])
    assert uncertain.draw(alone, 9, 0)["groups.undocumented.never_leave"] == first["groups.undocumented.never_leave"]
    assert uncertain.draw(load_scenario(tiny_path), 9, 0) == {}


def test_applied_per_replication_in_the_worker(tiny_path) -> None:
    scenario = load_scenario(tiny_path, [BLOCK])
    outcomes = run_replications(scenario, range(4), seed=9, executor=ProcessExecutor(2))
    for outcome in outcomes:
        drawn = uncertain.draw(scenario, 9, outcome.replication)
        direct = run_replication(scenario.with_values(drawn), outcome.replication, 9)
        # The worker's totals are the direct run's plus the drawn values (for replications.csv).
        assert outcome.totals == {**direct.totals, **{uncertain.TOTALS_PREFIX + k: v for k, v in drawn.items()}}
    serial = run_replications(scenario, range(4), seed=9, jobs=1)
    assert [o.totals for o in serial] == [o.totals for o in outcomes]
    # The drawn stayers' share changes how many leave from one replication to the next.
    departed = [o.totals["departed_by_target_date"] for o in outcomes]
    fixed = [o.totals["departed_by_target_date"] for o in run_replications(load_scenario(tiny_path), range(4), 9)]
    assert np.std(departed) > 3 * np.std(fixed)


@pytest.mark.parametrize("block, message", [
    ("uncertain={crossings.nowhere.lanes: {dist: fixed, value: 3}}", "crossings has no key 'nowhere'"),
    ("uncertain={crossings.torkham.hours: {dist: fixed, value: 3}}", "must name a numeric value"),
    ("uncertain={run.seed: {dist: fixed, value: 3}}", "cannot be uncertain"),
    ("uncertain={nothing: {dist: fixed, value: 3}}", "no key 'nothing'"),
    ("uncertain={crossings.torkham.lanes: {dist: normal, mean: 3}}", "uncertain"),
])
def test_invalid_uncertain_blocks(tiny_path, block, message) -> None:
    with pytest.raises(ScenarioError) as error:
        load_scenario(tiny_path, [block])
    assert message in str(error.value)
    assert "uncertain" in str(error.value)


def test_a_draw_the_scenario_rejects_is_reported(tiny_path) -> None:
    scenario = load_scenario(tiny_path, ["uncertain={groups.undocumented.never_leave: {dist: fixed, value: 2}}"])
    with pytest.raises(ScenarioError, match="replication 0 drew values the scenario rejects"):
        run_replications(scenario, range(1), seed=1)


def test_bundled_example() -> None:
    scenario = load_scenario(SCENARIOS / "phase1-2023-uncertain.yaml")
    assert set(scenario.uncertain) == {"groups.undocumented.departures.hazard.11.rate",
                                       "groups.undocumented.never_leave"}
    varied = uncertain.apply(scenario, scenario.run.seed, 0)
    assert 0.4 <= varied.groups["undocumented"].never_leave <= 0.6
    assert varied.groups["undocumented"].never_leave != 0.5
    # The resolved YAML keeps the block (and a scenario without one does not grow an empty one).
    assert "uncertain:" in scenario.to_yaml()
    assert "uncertain" not in load_scenario(SCENARIOS / "phase1-2023.yaml").to_yaml()
