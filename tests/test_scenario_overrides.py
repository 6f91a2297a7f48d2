"""``--set key.path=value`` and the key-path helpers that sweeps and calibration reuse."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import MINIMAL_SCENARIO, minimal_scenario_dict, scenario_problems, write_scenario

from sim.scenario import ScenarioError, load_scenario
from sim.scenario.keypath import (
    KeyPathError,
    get_path,
    parse_assignment,
    parse_key_path,
    parse_value,
    set_path,
)


def test_parse_key_path_reads_list_indices() -> None:
    assert parse_key_path("groups.undocumented.departures.hazard.3.rate") == (
        "groups", "undocumented", "departures", "hazard", 3, "rate"
    )


@pytest.mark.parametrize("text", ["", "a..b", ".a", "a."])
def test_malformed_key_paths(text: str) -> None:
    with pytest.raises(KeyPathError):
        parse_key_path(text)


def test_get_and_set_on_mappings_and_lists() -> None:
    data = minimal_scenario_dict()
    assert get_path(data, "crossings.torkham.lanes") == 4
    assert get_path(data, "groups.undocumented.departures.hazard.0.rate") == 0.05
    set_path(data, "groups.undocumented.departures.hazard.0.rate", 0.1)
    set_path(data, ("crossings", "torkham", "lanes"), 9)
    assert get_path(data, "groups.undocumented.departures.hazard.0.rate") == 0.1
    assert data["crossings"]["torkham"]["lanes"] == 9


def test_get_path_says_what_exists() -> None:
    data = minimal_scenario_dict()
    with pytest.raises(KeyPathError, match=r"crossings has no key 'chaman' \(existing keys: torkham\)"):
        get_path(data, "crossings.chaman.lanes")
    with pytest.raises(KeyPathError, match=r"has 1 item\(s\): index 3 is out of range"):
        get_path(data, "groups.undocumented.departures.hazard.3.rate")
    with pytest.raises(KeyPathError, match="is a list: index it with a number"):
        get_path(data, "origins.kp.routes.first")
    with pytest.raises(KeyPathError, match="is a single value"):
        get_path(data, "crossings.torkham.lanes.count")


def test_set_path_never_extends_a_list() -> None:
    data = {"slowdowns": []}
    with pytest.raises(KeyPathError):
        set_path(data, "slowdowns.0", {"at": "torkham"})


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("30", 30), ("1_000_000", 1_000_000), ("0.6", 0.6), ("2023-11-03", dt.date(2023, 11, 3)), ("null", None),
        ("08:00", "08:00"), ("20:00", "20:00"), ("6h", "6h"), ("{dist: fixed, value: 2h}", {"dist": "fixed", "value": "2h"}),
        ("[mon, fri]", ["mon", "fri"]),
    ],
)
def test_values_are_read_as_yaml_scalars(text: str, value: object) -> None:
    assert parse_value(text) == value


def test_parse_assignment() -> None:
    assert parse_assignment("slowdowns.0.factor=0.5") == (("slowdowns", 0, "factor"), 0.5)
    with pytest.raises(KeyPathError, match="not an assignment"):
        parse_assignment("slowdowns.0.factor")


def test_set_on_dict_keys_and_list_indices(minimal_scenario_path: Path) -> None:
    scenario = load_scenario(
        minimal_scenario_path,
        ["crossings.torkham.lanes=12", "groups.undocumented.departures.hazard.0.rate=0.2", "run.seed=42"],
    )
    assert scenario.crossings["torkham"].lanes == 12
    hazard = scenario.groups["undocumented"].departures.hazard
    assert hazard is not None and hazard[0].rate == 0.2
    assert scenario.run.seed == 42


def test_set_an_optional_key_the_file_left_out(minimal_scenario_path: Path) -> None:
    scenario = load_scenario(minimal_scenario_path, ["crossings.torkham.max_people_per_day=5_000"])
    assert scenario.crossings["torkham"].max_people_per_day == 5000


def test_set_a_whole_mapping_and_a_time_of_day(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "camps:\n  lk: {capacity: 10, stay: {dist: fixed, value: 1h}, dispatch: {days: [mon], at: \"08:00\"}}\n"
    scenario = load_scenario(
        write_scenario(tmp_path, text),
        ["camps.lk.dispatch.at=20:00", "crossings.torkham.service={dist: fixed, value: 1h}"],
    )
    dispatch = scenario.camps["lk"].dispatch
    assert dispatch is not None and dispatch.at == 20.0
    assert scenario.crossings["torkham"].service.mean() == 1.0


def test_set_null_deletes(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, MINIMAL_SCENARIO + "target: {people: 10, by: 2023-11-30}\n")
    assert load_scenario(path, ["target=null"]).target is None


def test_unknown_paths_are_errors(minimal_scenario_path: Path) -> None:
    assert scenario_problems(minimal_scenario_path, ["crossings.chaman.lanes=3", "slowdowns.0.factor=0.5"]) == [
        "--set: crossings.chaman.lanes: unknown key path: crossings has no key 'chaman' (existing keys: torkham)",
        ("--set: slowdowns.0.factor: unknown key path: the scenario has no key 'slowdowns' (existing keys: crossings, "
        "groups, name, origins, period, run)"),
    ]


def test_unknown_leaf_is_an_unknown_key(minimal_scenario_path: Path) -> None:
    assert scenario_problems(minimal_scenario_path, ["crossings.torkham.lane=3"]) == [
        ("--set: crossings.torkham.lane: unknown key 'lane'; allowed keys: "
        "lanes, service, hours, max_people_per_day, reception, reroute")
    ]


def test_invalid_values_are_located_at_the_set(minimal_scenario_path: Path) -> None:
    assert scenario_problems(minimal_scenario_path, ["crossings.torkham.lanes=0", "origins.kp.routes.0.voluntary=0.5"]) == [
        "F:14: origins.kp.routes: voluntary shares of origins.kp.routes sum to 0.5; they must sum to 1 (within 1e-6)",
        ("F:14: origins.kp.routes: deported shares of origins.kp.routes (a route without 'deported' uses its "
        "voluntary share) sum to 0.5; they must sum to 1 (within 1e-6)"),
        "--set: crossings.torkham.lanes: lanes must be a positive integer, got 0",
    ]  # the sum is about the routes the file wrote, so it points there


def test_malformed_assignment(minimal_scenario_path: Path) -> None:
    assert scenario_problems(minimal_scenario_path, ["crossings.torkham.lanes"]) == [
        ("--set: crossings.torkham.lanes: 'crossings.torkham.lanes' is not an assignment: write key.path=value, "
        "e.g. crossings.torkham.lanes=30")
    ]


def test_with_values_returns_a_new_validated_scenario(minimal_scenario_path: Path) -> None:
    scenario = load_scenario(minimal_scenario_path)
    wider = scenario.with_values({"crossings.torkham.lanes": 30})
    assert (scenario.crossings["torkham"].lanes, wider.crossings["torkham"].lanes) == (4, 30)
    assert scenario.with_values(["crossings.torkham.lanes=6"]).crossings["torkham"].lanes == 6
    with pytest.raises(ScenarioError, match="lanes must be a positive integer, got 0"):
        scenario.with_values({"crossings.torkham.lanes": 0})
