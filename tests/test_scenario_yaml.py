"""Reading YAML safely: syntax errors, keys written twice and unquoted times, each with its line."""
from __future__ import annotations

from pathlib import Path

from conftest import MINIMAL_SCENARIO, scenario_problems, write_scenario

from sim.scenario import load_scenario
from sim.scenario.yaml_lines import Location, locate, parse_yaml_text

CAMP = """\
camps:
  lk:
    capacity: 400
    stay: {dist: fixed, value: 8h}
    dispatch: {days: [mon], at: %s}
"""  # dispatch on line 24 when appended to MINIMAL_SCENARIO


def test_syntax_error_is_located(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO.replace("    lanes: 4\n", "    lanes: [4\n")
    (problem,) = scenario_problems(write_scenario(tmp_path, text))
    assert problem.startswith("F:19: YAML syntax error: ")


def test_tab_indentation_is_a_located_syntax_error(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO.replace("    lanes: 4\n", "\tlanes: 4\n")
    (problem,) = scenario_problems(write_scenario(tmp_path, text))
    assert problem.startswith("F:18: YAML syntax error: ")


def test_duplicate_key_is_reported_with_both_lines(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO.replace("    lanes: 4\n", "    lanes: 4\n    lanes: 6\n")
    assert scenario_problems(write_scenario(tmp_path, text)) == [
        "F:19: crossings.torkham.lanes: duplicate key 'lanes' (first written on line 18); write each key once"
    ]


def test_duplicate_top_level_section(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "crossings:\n  chaman: {lanes: 2, service: {dist: fixed, value: 1h}}\n"
    problems = scenario_problems(write_scenario(tmp_path, text))
    assert "F:20: crossings: duplicate key 'crossings' (first written on line 16); write each key once" in problems


def test_merge_keys_may_be_overridden(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO.replace(
        "    lanes: 4\n    service: {dist: fixed, value: 30min}\n",
        "    <<: &standard {lanes: 4, service: {dist: fixed, value: 30min}}\n    lanes: 6\n",
    )
    assert load_scenario(write_scenario(tmp_path, text)).crossings["torkham"].lanes == 6


def test_unquoted_time_of_day_is_rejected_with_a_hint(tmp_path: Path) -> None:
    assert scenario_problems(write_scenario(tmp_path, MINIMAL_SCENARIO + CAMP % "20:00")) == [
        'F:24: camps.lk.dispatch.at: write times of day as quoted strings, e.g. "08:00"'
    ]


def test_quoted_time_of_day_is_read_as_hours(tmp_path: Path) -> None:
    scenario = load_scenario(write_scenario(tmp_path, MINIMAL_SCENARIO + CAMP % '"20:30"'))
    dispatch = scenario.camps["lk"].dispatch
    assert dispatch is not None and dispatch.at == 20.5


def test_time_of_day_given_as_a_number(tmp_path: Path) -> None:
    assert scenario_problems(write_scenario(tmp_path, MINIMAL_SCENARIO + CAMP % "8")) == [
        'F:24: camps.lk.dispatch.at: at must be a time of day written as a quoted string, e.g. "08:00", got 8'
    ]


def test_unquoted_time_in_a_nested_list_is_located() -> None:
    data = parse_yaml_text("a:\n  - b: 1\n  - b: 12:30\n", "f.yaml")
    locations, problems = locate(data, "f.yaml")
    assert [str(problem) for problem in problems] == [
        'f.yaml:3: a.1.b: write times of day as quoted strings, e.g. "08:00"'
    ]
    assert locations[("a", 1, "b")] == Location("f.yaml", 3)


def test_every_key_and_item_has_its_line() -> None:
    data = parse_yaml_text("name: x\nperiod:\n  start: 2023-11-01\nlist:\n  - 1\n  -\n    k: v\n", "f.yaml")
    locations, _ = locate(data, "f.yaml")
    assert {path: location.line for path, location in locations.items()} == {
        (): 1, ("name",): 1, ("period",): 2, ("period", "start"): 3, ("list",): 4, ("list", 0): 5,
        ("list", 1): 7, ("list", 1, "k"): 7,
    }


def test_yaml_is_only_data(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO.replace("name: minimal", "name: !!python/object/apply:os.system ['echo hacked']")
    (problem,) = scenario_problems(write_scenario(tmp_path, text))
    assert problem.startswith("F:1: YAML syntax error: ") and "python/object/apply" in problem


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    assert scenario_problems(write_scenario(tmp_path, "- a\n- b\n")) == [
        "F:1: not a scenario file: it holds a list; a scenario is a mapping of keys (name:, period:, groups:, …)"
    ]


def test_missing_file(tmp_path: Path) -> None:
    assert scenario_problems(tmp_path / "nope.yaml") == ["F: scenario file not found"]
