"""A scenario with some values set and its period cut at a date: what a calibration evaluates.

Shared by the simulation's evaluator (:mod:`sim.runs.evaluate`) and the fluid path's
(:mod:`sim.analytic.fluid`), so both read the same values into the same scenario.
"""
from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping

from sim.scenario.keypath import get_path, parse_key_path, set_path
from sim.scenario.policies import parse_date_ref, resolve_date


def cut_data(data: dict, until: dt.date) -> dict:
    """Scenario data (``to_yaml_dict``) cut at ``until``: nothing after it can change a day before."""
    data["period"]["end"] = min(data["period"]["end"], until)
    data.pop("target", None)
    data.pop("uncertain", None)
    data.pop("observed", None)  # what the report draws; nothing a calibration evaluates
    data["slowdowns"] = [s for s in data.get("slowdowns", []) if s["from"] <= until]
    policy_days = {name: policy["from"] for name, policy in (data.get("policies") or {}).items()}

    def starts_by_until(step: dict) -> bool:
        # A step may start at a policy phase (``acc_phase + 30d``): compare its day, not its text.
        try:
            return resolve_date(parse_date_ref(step["from"]), policy_days) <= until
        except (KeyError, ValueError, TypeError):
            return True  # left for validation to report
    for group in data["groups"].values():
        for kind in ("hazard", "schedule"):
            steps = group["departures"].get(kind)
            if steps:
                group["departures"][kind] = [step for step in steps if starts_by_until(step)] or steps[:1]
    return data


def typed_value(current, value: float):
    """``value`` as the scenario holds it there: rounded where the scenario has an integer."""
    if isinstance(current, int) and not isinstance(current, bool):
        return round(value)
    return float(value)


def scenario_at(data: dict, values: Mapping[str, float], until: dt.date, source: str):
    """The scenario of ``data`` with ``values`` set (validated like ``--set``; raises ScenarioError),
    cut at ``until``. ``data`` is not changed."""
    from sim.scenario.loading import scenario_from_dict

    data = copy.deepcopy(data)
    for key, value in values.items():
        path = parse_key_path(key)
        set_path(data, path, typed_value(get_path(data, path), value), create_leaf=False)
    return scenario_from_dict(cut_data(data, until), source=source)


__all__ = ["cut_data", "scenario_at", "typed_value"]
