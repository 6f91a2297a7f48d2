"""The analytic capacity ceiling (``sim.analytic.bound``) against the model, and ``bordersim bound``.

With fixed service times that divide the open hours and a queue that never empties, every lane
works back to back whenever it may start, so the model's crossings must equal the ceiling within
one household per lane (the services still running at a day's end) and never exceed it.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from builders import build
from sim.analytic.bound import TOTAL, capacity_bound, expected_disruption_factor
from sim.cli import app
from sim.model.engine import run_replication
from sim.scenario import scenario_from_dict


def crossed_cumulative(scenario) -> np.ndarray:
    outcome = run_replication(scenario, 0)
    return np.cumsum(outcome.daily[("border", "crossing", "crossed_people")])


def ceiling_cumulative(scenario, node: str = "border") -> np.ndarray:
    table = capacity_bound(scenario).table
    return table.loc[table["node"] == node, "ceiling_people_cumulative"].to_numpy()


def assert_meets_ceiling(scenario, lanes: int, household_size: int) -> None:
    simulated = crossed_cumulative(scenario)
    ceiling = ceiling_cumulative(scenario)
    assert (simulated <= ceiling + 1e-9).all(), f"simulated {simulated} above the ceiling {ceiling}"
    assert (ceiling - simulated <= lanes * household_size).all(), f"simulated {simulated}, ceiling {ceiling}"


def test_open_all_day_fixed_service_meets_the_ceiling() -> None:
    # 3 lanes × 24 h ÷ 1 h × 2 people = 144 people a day; 10 days need 1,440: give 4,000.
    scenario = build(people=4000, household_size=2, lanes=3, service_hours=1.0, days=10)
    ceiling = capacity_bound(scenario).table
    assert ceiling.loc[ceiling["node"] == "border", "ceiling_people"].tolist() == [144.0] * 10
    assert_meets_ceiling(scenario, lanes=3, household_size=2)


def test_hours_slowdowns_closure_and_quota_meet_the_ceiling() -> None:
    # Open 06:00-18:00 with 2 h services: 6 per lane a day; factor 0.5 (4 h): 3; a closure: 0; a
    # quota of 20 people: 10 households of 2. Every service starts and ends inside the open hours.
    scenario = build({
        "slowdowns": [
            {"at": "border", "from": "2024-01-03", "to": "2024-01-04", "factor": 0.5},
            {"at": "border", "from": "2024-01-05", "to": "2024-01-05", "factor": 0.0},
            {"at": "border", "from": "2024-01-06", "to": "2024-01-06", "max_people_per_day": 20},
            {"at": "border", "from": "2024-01-07", "to": "2024-01-08", "hours": "08:00-16:00"},
        ],
    }, people=4000, household_size=2, lanes=3, service_hours=2.0, hours="06:00-18:00", days=9)
    table = capacity_bound(scenario).table
    daily = table.loc[table["node"] == "border", "ceiling_people"].tolist()
    assert daily == [36.0, 36.0, 18.0, 18.0, 0.0, 20.0, 24.0, 24.0, 36.0]
    assert_meets_ceiling(scenario, lanes=3, household_size=2)


def test_random_disruptions_count_at_their_expected_factor() -> None:
    scenario = build({"disruptions": [{"at": "border", "every": {"dist": "exponential", "mean": "3d"},
                                       "lasting": {"dist": "fixed", "value": "1d"}, "factor": 0.5}]},
                     people=4000, household_size=1, lanes=2, service_hours=1.0, days=4)
    assert expected_disruption_factor(scenario.disruptions[0]) == pytest.approx((3 + 0.5 * 1) / 4)
    table = capacity_bound(scenario).table
    assert table.loc[table["node"] == "border", "ceiling_people"].tolist() == pytest.approx([48 * 0.875] * 4)


def test_total_row_and_target_reach_date() -> None:
    scenario = build({"target": {"people": 300, "by": "2024-01-02", "count_from": "2024-01-02"}},
                     people=4000, household_size=2, lanes=3, service_hours=1.0, days=5)
    bound = capacity_bound(scenario)
    totals = bound.table[bound.table["node"] == TOTAL]
    assert totals["ceiling_people"].tolist() == [144.0] * 5
    # counted from 2 Jan: 144 on 2 Jan, 288 by 3 Jan, 432 by 4 Jan → first reaches 300 on 4 Jan
    assert bound.reach_date == dt.date(2024, 1, 4)
    assert bound.ceiling_by_target_date == 144.0
    assert any("2024-01-04 (after the target date)" in line for line in bound.lines())


def test_household_size_of_the_groups_reaching_the_crossing() -> None:
    data = build(people=100, household_size=3, lanes=1, service_hours=1.0, days=2).to_yaml_dict()
    data["crossings"]["other"] = {"lanes": 1, "service": {"dist": "fixed", "value": 1.0}}
    data["origins"]["far"] = {"routes": [{"crossing": "other", "travel": {"dist": "fixed", "value": 0},
                                          "voluntary": 1.0}]}
    data["groups"]["far_group"] = {**data["groups"]["everyone"], "origins": {"far": 1.0},
                                   "household_size": {"dist": "fixed", "value": 7}}
    table = capacity_bound(scenario_from_dict(data)).table
    per_day = table[table["date"] == pd.Timestamp("2024-01-01")].set_index("node")["ceiling_people"]
    assert per_day["border"] == 24 * 3 and per_day["other"] == 24 * 7


def test_cli_bound_prints_and_writes_bound_csv(tmp_path) -> None:
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(build({"target": {"people": 1000, "by": "2024-01-05"}}, people=4000,
                                   household_size=2, lanes=3, service_hours=1.0, days=10).to_yaml())
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["bound", str(scenario_file), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "Ceiling reaches the target: 2024-01-07 (after the target date)" in result.output
    table = pd.read_csv(out / "bound.csv")
    assert set(table["node"]) == {"border", "all"} and len(table) == 20
    assert (out / "manifest.json").is_file() and (out / "scenario.yaml").is_file()


def test_cli_bound_bad_input_exits_2(tmp_path) -> None:
    result = CliRunner().invoke(app, ["bound", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "no such scenario file" in result.output
