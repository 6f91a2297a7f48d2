"""Small scenarios built in code for engine tests: a base with one group, one origin, one crossing."""
from __future__ import annotations

import copy
from typing import Any

from sim.scenario import scenario_from_dict

# Departures within minutes of the start: a hazard of 10,000 per day has a mean of 0.14 minutes.
IMMEDIATE = {"hazard": [{"from": "2024-01-01", "rate": 10_000}]}


SMALL_CAMP = {
    "origins": {"home": {"routes": [{"crossing": "border", "via": "transit", "voluntary": 1.0,
                                     "travel": {"dist": "fixed", "value": 0},
                                     "onward": {"dist": "fixed", "value": 1}}]}},
    "camps": {"transit": {"capacity": 4, "stay": {"dist": "fixed", "value": 2},
                          "dispatch": {"days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                                       "at": "08:00", "max_people": 3}}},
}
"""A camp of 4 on the way to the border: 2 h stay, a daily dispatch at 08:00 of at most 3, 1 h on
(tests/test_engine_deterministic.py works out its days by hand with 10 one-person households)."""


def base_dict(people: int = 20, household_size: float = 1, lanes: int = 2, service_hours: float = 1.0,
              hours: str = "24h", days: int = 5) -> dict[str, Any]:
    """One group of fixed-size households leaving at once, travelling 0 h to one crossing."""
    return {
        "name": "test",
        "period": {"start": "2024-01-01", "end": f"2024-01-{days:02d}"},
        "run": {"replications": 1, "seed": 1},
        "groups": {"everyone": {
            "people": people,
            "household_size": {"dist": "fixed", "value": household_size},
            "origins": {"home": 1.0},
            "departures": copy.deepcopy(IMMEDIATE),
        }},
        "origins": {"home": {"routes": [
            {"crossing": "border", "travel": {"dist": "fixed", "value": 0}, "voluntary": 1.0},
        ]}},
        "crossings": {"border": {
            "lanes": lanes, "service": {"dist": "fixed", "value": service_hours}, "hours": hours,
        }},
    }


def deep_merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and "dist" not in value:
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def build(patch: dict[str, Any] | None = None, **base_options):
    """A validated Scenario from the base with ``patch`` merged in (mappings merge; lists and
    distributions replace)."""
    return scenario_from_dict(deep_merge(base_dict(**base_options), patch or {}))
