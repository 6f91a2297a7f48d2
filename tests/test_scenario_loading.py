"""Loading a full scenario: defaults, parsed values, the resolved dump and the JSON Schema."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from conftest import write_scenario

from sim.scenario import Scenario, load_scenario, load_scenario_with_warnings, scenario_from_dict
from sim.scenario.distributions import Lognormal, Poisson, Triangular

# The illustrative file of DESIGN.md §2, with the origins it names defined.
DESIGN_EXAMPLE = """\
name: phase1-2023
description: Situation when the 1-million target was announced (22 Nov 2023).
extends: null
period: {start: 2023-09-15, end: 2024-01-31}
target: {people: 1_000_000, by: 2024-01-31}
run: {replications: 100, seed: 20231003}

groups:
  undocumented:
    people: 1_730_000
    household_size: {dist: poisson, mean: 5, shift: 1}
    origins: {kp: 0.30, balochistan: 0.30, punjab: 0.15, sindh: 0.20, islamabad: 0.05}
    never_leave: 0.35
    departures:
      hazard:
        - {from: 2023-09-15, rate: 0.0003}
        - {from: 2023-10-03, rate: 0.004}
        - {from: 2023-10-25, rate: 0.030}
        - {from: 2023-11-03, rate: 0.004}
    deported_share: 0.06
  por:
    people: 100_000
    household_size: {dist: empirical, values: [4, 6, 8], weights: [1, 2, 1]}
    origins: {punjab: 1}
    departures: {schedule: [{from: 2023-11-01, per_day: 2_000}]}

origins:
  kp:
    routes:
      - {crossing: torkham, via: landi_kotal, travel: {dist: lognormal, mean: 8h, sd: 4h},
         onward: {dist: fixed, value: 2h}, voluntary: 0.3, deported: 1.0}
      - {crossing: torkham, travel: {dist: lognormal, mean: 6h, sd: 3h}, voluntary: 0.7, deported: 0.0}
  balochistan:
    routes: [{crossing: chaman, travel: {dist: gamma, mean: 10h, sd: 5h}, voluntary: 1}]
  punjab:
    routes: [{crossing: torkham, travel: {dist: uniform, low: 12h, high: 1d}, voluntary: 1}]
  sindh:
    routes: [{crossing: chaman, travel: {dist: triangular, low: 20h, mode: 1d, high: 2d}, voluntary: 1}]
  islamabad:
    routes: [{crossing: torkham, travel: {dist: exponential, mean: 5h}, voluntary: 1}]

camps:
  landi_kotal:
    capacity: 400
    stay: {dist: triangular, low: 2h, mode: 8h, high: 2d}
    dispatch: {days: [mon, tue, wed, thu, fri, sat, sun], at: "08:00", max_people: 5000}

crossings:
  torkham:
    lanes: 24
    service: {dist: lognormal, mean: 40min, sd: 20min}
    hours: "24h"
    max_people_per_day: null
    reception: omari
    reroute: {to: chaman, after: 2d, share: 0.5, travel: {dist: fixed, value: 30h}}
  chaman:
    lanes: 10
    service: {dist: lognormal, mean: 45min, sd: 25min}
    hours: "06:00-24:00"
    reception: spin_boldak

reception:
  omari: {capacity: 30_000, stay: {dist: lognormal, mean: 2d, sd: 1d}}
  spin_boldak: {capacity: 15_000, stay: {dist: lognormal, mean: 2d, sd: 1d}}

initial:
  queued: {torkham: 20_000}
  in_camps: {landi_kotal: 300}

slowdowns:
  - {at: chaman, from: 2023-10-21, to: 2024-07-21, factor: 0.6, reason: traders' sit-in}
  - {at: torkham, from: 2023-11-03, to: 2023-11-30, factor: 3.0, reason: facilities tripled}
  - {at: torkham, from: 2023-11-06, to: 2023-11-30, hours: "00:00-16:00", reason: no dispatch after 4 pm}
  - {at: torkham, from: 2023-11-24, to: 2023-11-24, factor: 0.0, reason: verification dispute}
disruptions:
  - {at: torkham, every: {dist: exponential, mean: 30d}, lasting: {dist: lognormal, mean: 1d, sd: 1d}, factor: 0.0}
"""


def test_design_example_loads_with_parsed_values(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, DESIGN_EXAMPLE)
    scenario, warnings = load_scenario_with_warnings(path)
    assert scenario.period.start == dt.date(2023, 9, 15) and scenario.period.days() == 139
    assert scenario.target is not None and scenario.target.people == 1_000_000
    assert scenario.target.groups is None and scenario.target.count_from is None
    group = scenario.groups["undocumented"]
    assert isinstance(group.household_size, Poisson) and group.household_size.mean() == 6
    assert group.departures.hazard is not None and group.departures.hazard[2].from_ == dt.date(2023, 10, 25)
    assert scenario.groups["por"].departures.schedule is not None
    assert scenario.groups["por"].never_leave == 0 and scenario.groups["por"].deported_share == 0
    kp = scenario.origins["kp"].routes
    assert (kp[0].via, kp[0].deported_share, kp[1].via, kp[1].onward) == ("landi_kotal", 1.0, None, None)
    assert scenario.origins["punjab"].routes[0].deported is None
    assert scenario.origins["punjab"].routes[0].deported_share == 1.0  # defaults to the voluntary share
    assert isinstance(kp[0].travel, Lognormal) and kp[0].travel.mean() == 8.0
    camp = scenario.camps["landi_kotal"]
    assert isinstance(camp.stay, Triangular) and camp.stay.high == 48.0
    assert camp.dispatch is not None and camp.dispatch.at == 8.0 and camp.dispatch.max_people == 5000
    torkham, chaman = scenario.crossings["torkham"], scenario.crossings["chaman"]
    assert torkham.service.mean() == 40 / 60 and torkham.max_people_per_day is None
    assert torkham.reroute is not None and torkham.reroute.after == 48.0 and torkham.reroute.to == "chaman"
    assert (chaman.hours.open_hour, chaman.hours.close_hour, chaman.hours.open_hours_per_day()) == (6.0, 24.0, 18.0)
    assert scenario.initial.queued == {"torkham": 20_000}
    assert scenario.slowdowns[2].hours is not None and scenario.slowdowns[2].hours.close_hour == 16.0
    assert scenario.slowdowns[2].factor == 1.0
    assert scenario.slowdowns[0].to == scenario.period.end  # clipped
    assert [str(warning) for warning in warnings] == [
        f"{path}:71: slowdowns.0.to: to 2024-07-21 is after the period end: clipped to 2024-01-31"
    ]
    assert scenario.warnings == warnings


def test_defaults_of_optional_sections(minimal_scenario_path: Path) -> None:
    scenario = load_scenario(minimal_scenario_path)
    assert (scenario.description, scenario.extends, scenario.target) == (None, None, None)
    assert (scenario.camps, scenario.reception, scenario.slowdowns, scenario.disruptions) == ({}, {}, [], [])
    assert scenario.initial.queued == {} and scenario.initial.in_camps == {}
    assert scenario.warnings == [] and scenario.source == str(minimal_scenario_path)


def test_run_defaults() -> None:
    data = {
        "name": "defaults", "period": {"start": "2023-11-01", "end": "2023-11-02"},
        "groups": {"g": {"people": 6, "household_size": {"dist": "fixed", "value": 6}, "origins": {"o": 1},
                         "departures": {"hazard": [{"from": "2023-11-01", "rate": 1}]}}},
        "origins": {"o": {"routes": [{"crossing": "c", "travel": {"dist": "fixed", "value": 1}, "voluntary": 1}]}},
        "crossings": {"c": {"lanes": 1, "service": {"dist": "fixed", "value": 1}}},
    }
    scenario = scenario_from_dict(data)
    assert (scenario.run.replications, scenario.run.seed) == (100, 0)


def test_resolved_yaml_round_trips(tmp_path: Path) -> None:
    scenario = load_scenario(write_scenario(tmp_path, DESIGN_EXAMPLE))
    text = scenario.to_yaml()
    assert "&id" not in text and "extends" not in text
    assert "- from: 2023-09-15" in text and "hours: 06:00-24:00" in text
    again = load_scenario(write_scenario(tmp_path, text, "resolved.yaml"))
    assert again == scenario
    assert again.warnings == []  # already clipped
    assert again.to_yaml_dict() == scenario.to_yaml_dict()


def test_scenarios_are_frozen(minimal_scenario_path: Path) -> None:
    scenario = load_scenario(minimal_scenario_path)
    try:
        scenario.crossings["torkham"].lanes = 9  # type: ignore[misc]
    except Exception as error:  # noqa: BLE001 - pydantic raises its ValidationError
        assert "frozen" in str(error)
    else:  # pragma: no cover
        raise AssertionError("a scenario must not be mutable")


def test_json_schema_describes_the_file_format() -> None:
    schema = Scenario.model_json_schema()
    json.dumps(schema)  # serialisable, for editors
    assert set(schema["required"]) == {"name", "period", "groups", "origins", "crossings"}
    assert schema["additionalProperties"] is False
    definitions = schema["$defs"]
    assert "from" in definitions["Slowdown"]["properties"] and "from_" not in definitions["Slowdown"]["properties"]
    assert definitions["Crossing"]["properties"]["hours"]["type"] == "string"
    assert definitions["Crossing"]["properties"]["hours"]["default"] == "24h"
    assert definitions["Dispatch"]["properties"]["at"]["type"] == "string"
    assert definitions["Dispatch"]["properties"]["days"]["items"]["enum"][0] == "mon"
    travel = definitions["Route"]["properties"]["travel"]
    assert travel["discriminator"]["propertyName"] == "dist"
    value_schema = definitions["Fixed"]["properties"]["value"]
    assert {option["type"] for option in value_schema["anyOf"]} == {"number", "string"}  # 2h or 2.0
    assert all(definition.get("additionalProperties") is False
               for name, definition in definitions.items() if definition.get("type") == "object")
