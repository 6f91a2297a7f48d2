"""A baseline regression file (DESIGN §8, as in Starsim/Covasim): the summary of a small scenario that
touches every part of the model, at a fixed seed and replication count, must not move unless
someone meant it to. How to refresh it, and when: ``tests/golden/refresh.py``."""
from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path

GOLDEN_FOLDER = Path(__file__).parent / "golden"


def _refresh_module():
    spec = importlib.util.spec_from_file_location("golden_refresh", GOLDEN_FOLDER / "refresh.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


refresh = _refresh_module()


def test_the_golden_scenario_touches_every_part_of_the_model():
    """If the scenario loses one of these, the golden file stops guarding that part of the model."""
    from sim import load_scenario

    scenario = load_scenario(refresh.SCENARIO).model_dump()
    assert scenario["camps"] and scenario["reception"] and scenario["target"]
    assert len(scenario["crossings"]) == 2
    assert any(crossing["reroute"] for crossing in scenario["crossings"].values())
    assert any(crossing["max_people_per_day"] for crossing in scenario["crossings"].values())
    assert scenario["slowdowns"] and scenario["disruptions"]


def test_the_summary_matches_the_golden_file(tmp_path):
    expected = refresh.GOLDEN_SUMMARY.read_bytes().decode("utf-8")
    actual = refresh.golden_summary(tmp_path)
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), actual.splitlines(keepends=True),
                                            "tests/golden/summary.csv (golden)", "summary.csv (this code)"))
        raise AssertionError(
            "The summary of tests/golden/small-scenario.yaml changed:\n"
            f"{diff}\n"
            "If this change of results is deliberate, refresh the golden file with\n"
            f"    {refresh.REFRESH_COMMAND}\n"
            "and commit tests/golden/summary.csv saying why the numbers changed. If it is not, a change "
            "in sim/ moved the results: find it before refreshing anything."
        )
