"""The ``uncertain:`` block of a scenario: which values may be drawn per replication.

Only numeric values of the model may be uncertain (``groups.<group>.never_leave``,
``crossings.<crossing>.lanes`` ...); the run settings, names and the block itself may not. The
columns of a joint ``sample`` file (:mod:`sim.scenario.uncertain_sample`) obey the same rule. The
drawing itself happens per replication, in :mod:`sim.runs.uncertain`.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from sim.scenario import uncertain_sample
from sim.scenario.keypath import KeyPathError, get_path, parse_key_path
from sim.scenario.uncertain_sample import SAMPLE_KEY

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


def check_sample(fields: Mapping[str, Any], block: Mapping[str, Any], all_fields: set[str]) -> list[str]:
    """Problems with the ``sample`` file of an ``uncertain:`` block (its absolute path in ``block``):
    unreadable rows (located in the CSV), columns that are not numeric key paths of the scenario, or
    key paths that also have a distribution in the block. ``fields`` as for :func:`check_paths`;
    empty when there is no sample or no validated fields to judge its columns against."""
    path = block.get(SAMPLE_KEY)
    if not isinstance(path, str):
        return []
    try:
        sample = uncertain_sample.read_sample(path)
    except uncertain_sample.SampleError as error:
        return error.problems
    if not fields:
        return []
    shown = f"{uncertain_sample.display_path(path)}:1"
    problems = [f"{shown}: column {problem}" for problem in check_paths(fields, list(sample.columns), all_fields)]
    both = sorted(set(sample.columns) & (set(block) - {SAMPLE_KEY}))
    problems += [f"{shown}: column {key}: also given a distribution in the uncertain block; keep one" for key in both]
    return problems
