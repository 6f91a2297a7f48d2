"""`initial:` households come out of a group's stock: the scenario must say which group can give them."""
from __future__ import annotations

from conftest import MINIMAL_SCENARIO, scenario_problems, write_scenario

OTHER_CROSSING = """\
  chaman:
    lanes: 2
    service: {dist: fixed, value: 30min}
"""


def test_initial_queue_at_a_crossing_no_route_reaches(tmp_path):
    path = write_scenario(tmp_path, MINIMAL_SCENARIO + OTHER_CROSSING + "initial: {queued: {chaman: 600}}\n")
    assert scenario_problems(path) == [
        ("F:23: initial.queued.chaman: no group's routes lead to crossing chaman: initial households are taken "
        "from the first group whose routes use it")
    ]


def test_initial_households_cannot_exceed_the_groups_stock(tmp_path):
    path = write_scenario(tmp_path, MINIMAL_SCENARIO + "initial: {queued: {torkham: 7000}}\n")
    assert scenario_problems(path) == [
        "F:20: initial: initial households take 7000 people from group undocumented, which has only 6000"
    ]


def test_a_valid_initial_queue_loads(tmp_path):
    path = write_scenario(tmp_path, MINIMAL_SCENARIO + "initial: {queued: {torkham: 600}}\n")
    assert scenario_problems(path) == []
