"""A child scenario that changes a distribution replaces it whole (it is one value, not a mapping
whose keys merge): otherwise keys of the base's kind would be left behind and rejected."""
from __future__ import annotations

from sim.scenario import load_scenario


def test_a_distribution_in_a_child_replaces_the_base_one(tmp_path, minimal_scenario_path):
    child = tmp_path / "child.yaml"
    base = minimal_scenario_path.name
    child.write_text(f"extends: {base}\nname: child\n"
                     "groups: {undocumented: {household_size: {dist: poisson, mean: 2, shift: 1}}}\n", encoding="utf-8")
    child.parent.joinpath(base).write_text(minimal_scenario_path.read_text(encoding="utf-8"), encoding="utf-8")
    scenario = load_scenario(child)
    size = next(iter(scenario.groups.values())).household_size
    assert size.dist == "poisson" and size.mean() == 3
