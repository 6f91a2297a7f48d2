"""Shared test helpers: a tiny valid scenario and a way to write scenario files.

``MINIMAL_SCENARIO`` is the smallest valid scenario: one group, one origin, one route, one crossing,
no camp. Its line numbers are pinned by the validation tests (``lanes`` is on line 18): edit it
only by appending, or update those tests.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

MINIMAL_SCENARIO = """\
name: minimal
period: {start: 2023-11-01, end: 2023-11-30}
run: {replications: 5, seed: 1}
groups:
  undocumented:
    people: 6000
    household_size: {dist: fixed, value: 6}
    origins: {kp: 1.0}
    departures:
      hazard:
        - {from: 2023-11-01, rate: 0.05}
origins:
  kp:
    routes:
      - {crossing: torkham, travel: {dist: fixed, value: 6h}, voluntary: 1.0}
crossings:
  torkham:
    lanes: 4
    service: {dist: fixed, value: 30min}
"""


def minimal_scenario_dict() -> dict[str, Any]:
    """A fresh, mutable copy of ``MINIMAL_SCENARIO`` as plain data."""
    return yaml.safe_load(MINIMAL_SCENARIO)


def write_scenario(tmp_path: Path, text_or_dict: str | dict[str, Any] = MINIMAL_SCENARIO,
                   name: str = "scenario.yaml") -> Path:
    """Write a scenario (YAML text, or data dumped as YAML) to ``tmp_path/name``; return its path."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    text = text_or_dict if isinstance(text_or_dict, str) else yaml.safe_dump(text_or_dict, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def scenario_problems(path: Path, overrides: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The one-line problems of loading ``path``, with the file written as ``F`` (empty if valid)."""
    from sim.scenario import ScenarioError, load_scenario

    try:
        load_scenario(path, overrides)
    except ScenarioError as error:
        return [str(problem).replace(str(path), "F") for problem in error.problems]
    return []


@pytest.fixture
def minimal_scenario_path(tmp_path: Path) -> Path:
    """``MINIMAL_SCENARIO`` written to a file."""
    return write_scenario(tmp_path)
