"""Parameter uncertainty: values of the scenario drawn once per replication.

A scenario's ``uncertain:`` block maps key paths to distributions::

    uncertain:
      groups.undocumented.never_leave: {dist: uniform, low: 0.4, high: 0.6}
      groups.undocumented.departures.hazard.11.rate: {dist: triangular, low: 0.003, mode: 0.0055, high: 0.009}

In each replication every listed value is replaced by one draw from its distribution, taken from
its own stream ``uncertain/<key.path>`` (``sim.streams.stream(seed, replication, name)``), so a
replication's draws depend only on (seed, replication, key path) — never on the executor or on
the other keys — and two scenarios with the same ``uncertain:`` block get the same draws (common
random numbers still hold). Projections then carry what we do not know about the parameters, not
only the randomness of households. A value that is an integer in the scenario (lanes, people) is
rounded to the nearest integer; the varied scenario is validated like any ``--set``.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from sim.keypath import KeyPathError, get_path, parse_key_path
from sim.streams import stream

STREAM_PREFIX = "uncertain/"
FORBIDDEN_ROOTS = ("uncertain", "run", "name", "description", "extends")


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="python", by_alias=True)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_paths(fields: Mapping[str, Any], keys: list[str], all_fields: set[str]) -> list[str]:
    """Problems with the key paths of an ``uncertain:`` block (empty when all are fine).

    ``fields`` are the scenario's validated fields (those that failed validation are missing and
    their paths are not judged again); ``all_fields`` the names a scenario may have.
    """
    problems = []
    data = {name: _plain(value) for name, value in fields.items()}
    for key in keys:
        try:
            path = parse_key_path(key)
        except KeyPathError as error:
            problems.append(f"{key}: {error}")
            continue
        root = str(path[0])
        if root in FORBIDDEN_ROOTS:
            problems.append(f"{key}: '{root}' values cannot be uncertain; allowed: numeric values of the model "
                            "(e.g. groups.<group>.never_leave, crossings.<crossing>.lanes)")
            continue
        if root not in data:
            if root not in all_fields:
                problems.append(f"{key}: unknown key path: the scenario has no key '{root}'")
            continue
        try:
            value = get_path(data, path)
        except KeyPathError as error:
            problems.append(f"{key}: unknown key path: {error}")
            continue
        if not is_number(value):
            problems.append(f"{key}: must name a numeric value, but the scenario has {value!r} there")
    return problems


TOTALS_PREFIX = "uncertain:"
"""Drawn values are reported per replication as totals (and ``replications.csv`` columns) named
``uncertain:<key.path>``."""


def draw(scenario, seed: int, replication: int) -> dict[str, float]:
    """This replication's value of every uncertain key path (integers where the scenario has one)."""
    uncertain = getattr(scenario, "uncertain", None) or {}
    if not uncertain:
        return {}
    data = scenario.to_yaml_dict()
    values: dict[str, float] = {}
    for key, distribution in uncertain.items():
        value = float(distribution.sample(stream(seed, replication, STREAM_PREFIX + key), 1)[0])
        current = get_path(data, key)
        values[key] = round(value) if isinstance(current, int) and not isinstance(current, bool) else value
    return values


def apply(scenario, seed: int, replication: int):
    """``scenario`` with this replication's draws of its uncertain values (itself if it has none)."""
    values = draw(scenario, seed, replication)
    if not values:
        return scenario
    from sim.scenario_errors import Problem, ScenarioError

    try:
        return scenario.with_values(values)
    except ScenarioError as error:
        drawn = ", ".join(f"{key}={value:g}" for key, value in values.items())
        raise ScenarioError([Problem(scenario.source or "<scenario>", None, "uncertain",
                                     f"replication {replication} drew values the scenario rejects ({drawn}): "
                                     f"{str(error).splitlines()[0]}")]) from None
