"""``extends``: a scenario as the changes to a base (mappings merge, lists are replaced, null deletes)."""
from __future__ import annotations

from pathlib import Path

import pytest
from conftest import MINIMAL_SCENARIO, write_scenario

from sim.scenario import ScenarioError, load_scenario

BASE = MINIMAL_SCENARIO + """\
target: {people: 3000, by: 2023-11-30}
slowdowns:
  - {at: torkham, from: 2023-11-03, to: 2023-11-05, factor: 0.5}
  - {at: torkham, from: 2023-11-10, to: 2023-11-12, factor: 0.0}
"""


def _messages(error: pytest.ExceptionInfo[ScenarioError], tmp_path: Path) -> list[str]:
    return [str(problem).replace(f"{tmp_path}/", "") for problem in error.value.problems]


def test_mappings_merge_key_by_key(tmp_path: Path) -> None:
    write_scenario(tmp_path, BASE, "base.yaml")
    child = write_scenario(tmp_path, "name: child\nextends: base.yaml\ncrossings:\n  torkham:\n    lanes: 8\n", "child.yaml")
    scenario = load_scenario(child)
    assert scenario.name == "child"
    assert scenario.extends == "base.yaml"
    assert scenario.crossings["torkham"].lanes == 8
    assert scenario.crossings["torkham"].service.mean() == 0.5  # kept from the base
    assert scenario.groups["undocumented"].people == 6000
    assert scenario.source_files == [str(child), str(tmp_path / "base.yaml")]


def test_lists_are_replaced_whole(tmp_path: Path) -> None:
    write_scenario(tmp_path, BASE, "base.yaml")
    child = write_scenario(
        tmp_path,
        "name: child\nextends: base.yaml\nslowdowns:\n  - {at: torkham, from: 2023-11-20, to: 2023-11-21, factor: 2}\n",
        "child.yaml",
    )
    slowdowns = load_scenario(child).slowdowns
    assert [(slowdown.from_.day, slowdown.factor) for slowdown in slowdowns] == [(20, 2.0)]


def test_null_deletes_a_key(tmp_path: Path) -> None:
    write_scenario(tmp_path, BASE, "base.yaml")
    child = write_scenario(tmp_path, "name: child\nextends: base.yaml\ntarget: null\nslowdowns: null\n", "child.yaml")
    scenario = load_scenario(child)
    assert scenario.target is None and scenario.slowdowns == []


def test_null_deleting_a_required_key_points_at_the_null(tmp_path: Path) -> None:
    write_scenario(tmp_path, BASE, "base.yaml")
    child = write_scenario(tmp_path, "name: child\nextends: base.yaml\ncrossings:\n  torkham:\n    lanes: null\n", "child.yaml")
    with pytest.raises(ScenarioError) as error:
        load_scenario(child)
    assert _messages(error, tmp_path) == ["child.yaml:5: crossings.torkham.lanes: 'lanes' is required"]


def test_name_is_not_inherited(tmp_path: Path) -> None:
    write_scenario(tmp_path, BASE, "base.yaml")
    child = write_scenario(tmp_path, "extends: base.yaml\n", "child.yaml")
    with pytest.raises(ScenarioError) as error:
        load_scenario(child)
    assert _messages(error, tmp_path) == [
        "child.yaml:1: name: 'name' is required (name is not inherited from the base scenario)"
    ]


def test_base_path_is_relative_to_the_child_and_chains(tmp_path: Path) -> None:
    write_scenario(tmp_path, BASE, "bases/root.yaml")
    write_scenario(tmp_path, "name: middle\nextends: root.yaml\nrun: {seed: 7}\n", "bases/middle.yaml")
    child = write_scenario(tmp_path, "name: leaf\nextends: bases/middle.yaml\nrun: {replications: 3}\n", "leaf.yaml")
    scenario = load_scenario(child)
    assert (scenario.name, scenario.run.replications, scenario.run.seed) == ("leaf", 3, 7)
    assert scenario.source_files == [str(child), str(tmp_path / "bases/middle.yaml"), str(tmp_path / "bases/root.yaml")]


def test_problems_in_inherited_values_point_into_the_base(tmp_path: Path) -> None:
    write_scenario(tmp_path, BASE.replace("lanes: 4", "lanes: 0"), "base.yaml")
    child = write_scenario(tmp_path, "name: child\nextends: base.yaml\nrun: {seed: -1}\n", "child.yaml")
    with pytest.raises(ScenarioError) as error:
        load_scenario(child)
    assert _messages(error, tmp_path) == [
        "child.yaml:3: run.seed: seed must be >= 0, got -1",
        "base.yaml:18: crossings.torkham.lanes: lanes must be a positive integer, got 0",
    ]


def test_missing_base_is_reported_at_the_extends_line(tmp_path: Path) -> None:
    child = write_scenario(tmp_path, "name: child\nextends: nowhere.yaml\n", "child.yaml")
    with pytest.raises(ScenarioError) as error:
        load_scenario(child)
    assert _messages(error, tmp_path) == [
        "child.yaml:2: extends: base scenario 'nowhere.yaml' not found (looked for nowhere.yaml)"
    ]


def test_extends_cycle_shows_the_chain(tmp_path: Path) -> None:
    write_scenario(tmp_path, "name: a\nextends: b.yaml\n", "a.yaml")
    write_scenario(tmp_path, "name: b\nextends: c.yaml\n", "b.yaml")
    write_scenario(tmp_path, "name: c\nextends: a.yaml\n", "c.yaml")
    with pytest.raises(ScenarioError) as error:
        load_scenario(tmp_path / "a.yaml")
    assert _messages(error, tmp_path) == ["c.yaml:2: extends: extends cycle: a.yaml -> b.yaml -> c.yaml -> a.yaml"]


def test_extending_itself_is_a_cycle(tmp_path: Path) -> None:
    path = write_scenario(tmp_path, "name: a\nextends: a.yaml\n", "a.yaml")
    with pytest.raises(ScenarioError) as error:
        load_scenario(path)
    assert _messages(error, tmp_path) == ["a.yaml:2: extends: extends cycle: a.yaml -> a.yaml"]


def test_syntax_error_in_the_base_is_located_in_the_base(tmp_path: Path) -> None:
    write_scenario(tmp_path, "name: [base\n", "base.yaml")
    child = write_scenario(tmp_path, "name: child\nextends: base.yaml\n", "child.yaml")
    with pytest.raises(ScenarioError) as error:
        load_scenario(child)
    (message,) = _messages(error, tmp_path)
    assert message.startswith("base.yaml:2: YAML syntax error")
