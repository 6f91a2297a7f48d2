"""``FluidEvaluator``: the fluid path as the inner loop of a calibration.

Same contract as the simulation's :class:`sim.runs.evaluate.CrossedEvaluator`: ``evaluator(values)``
→ people crossed per day (index 0 = period start, up to ``until``) at each crossing and under
``all``. The scenario is cut at ``until`` and compiled once. Values that only change departures
(a step's rate, people per day or deported share, a group's ``never_leave``, ``deported_share`` or
``people``) and crossings' ``lanes`` are patched into the compiled arrays: no validation, no
rebuild, a few milliseconds. Any other key rebuilds the scenario through the same validation as
``--set`` (``sim.scenario.cut.scenario_at``).

Values are checked as the scenario would check them: the first time a set of keys is seen the
scenario is validated with them (so a key that does not exist raises like the simulation path);
afterwards each patched value is range-checked, and one out of range is handed to the full
validation, which raises the same :class:`~sim.scenario.errors.ScenarioError`.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping

import numpy as np

from sim.analytic.fluid.capacity import BINS_PER_DAY
from sim.analytic.fluid.crossed import crossed_hourly, plan_of
from sim.analytic.fluid.network import FluidNetwork, compile_network
from sim.analytic.fluid.path import FluidPath, run_network
from sim.scenario.cut import scenario_at
from sim.scenario.keypath import parse_key_path

_STEP_FIELDS = {"rate": "values", "people_per_day": "values", "per_day": "values",
                "deported_share": "deported_shares"}
_SHARES = {"deported_share", "never_leave"}


class FluidEvaluator:
    """``evaluator(values)`` → people crossed per day at each crossing and in ``all`` (fluid path).

    Picklable: ship it to every worker once and call it there many times.
    """

    def __init__(self, scenario, until: dt.date) -> None:
        self.data = scenario.to_yaml_dict()
        self.source = scenario.source or "<evaluation>"
        self.until = min(until, scenario.period.end)
        self.period_start = scenario.period.start
        self.network = compile_network(self.scenario_at({}))
        self.plan = plan_of(self.network)  # what a call needs and the patched values do not change
        self._group_index = {group.name: g for g, group in enumerate(self.network.groups)}
        self._crossing_index = {c.name: i for i, c in enumerate(self.network.crossings)}
        self._checked_keys: set[frozenset[str]] = set()

    def scenario_at(self, values: Mapping[str, float]):
        """The cut scenario with ``values`` set (validated like ``--set``; raises ScenarioError)."""
        return scenario_at(self.data, values, self.until, self.source)

    def __call__(self, values: Mapping[str, float], replication: int = 0) -> dict[str, np.ndarray]:
        """People crossed per day; ``replication`` is accepted for the simulation's signature and
        ignored (the fluid path has no randomness). The crossed-only pass
        (:mod:`sim.analytic.fluid.crossed`): the numbers of ``path(values).crossed_per_day()``."""
        network = self._network_at(values)
        plan = self.plan if network.camps is self.network.camps else plan_of(network)
        return _per_day(network, crossed_hourly(plan, network.groups, network.crossings))

    def path(self, values: Mapping[str, float]) -> FluidPath:
        """The whole fluid path at ``values`` (the daily crossings are what ``__call__`` returns)."""
        network = self._network_at(values)
        return FluidPath(network, run_network(network))

    def _network_at(self, values: Mapping[str, float]) -> FluidNetwork:
        """The compiled network with ``values`` patched in, or rebuilt for a key that needs it."""
        patches = [_patch_of(parse_key_path(key), float(value)) for key, value in values.items()]
        if any(patch is None for patch in patches):
            return compile_network(self.scenario_at(values))
        keys = frozenset(values)
        if keys not in self._checked_keys:
            self.scenario_at(values)  # raises for a key that does not exist or a value out of range
            self._checked_keys.add(keys)
        elif not all(_in_range(patch, self.network.initial_people_by_group) for patch in patches):
            self.scenario_at(values)  # raises the scenario's own error
        return self._patched(patches)

    def _patched(self, patches) -> FluidNetwork:
        network = self.network
        groups = list(network.groups)
        crossings = list(network.crossings)
        for kind, name, step, field, value in patches:
            if kind == "crossing":
                c = self._crossing_index[name]
                crossings[c] = dataclasses.replace(crossings[c], lanes=float(round(value)))
                continue
            g = self._group_index[name]
            groups[g] = _patched_group(groups[g], step, field, value, self.network)
        return dataclasses.replace(network, groups=groups, crossings=crossings)


def _per_day(network: FluidNetwork, crossed_hourly_people: np.ndarray) -> dict[str, np.ndarray]:
    """People crossed per PKT day at each crossing, and their sum under ``all`` (as ``FluidPath``)."""
    daily = crossed_hourly_people.reshape(len(crossed_hourly_people), -1, BINS_PER_DAY).sum(axis=-1)
    result = {name: daily[c] for c, name in enumerate(network.world.crossing_names)}
    result["all"] = daily.sum(axis=0)
    return result


def _patch_of(path: tuple, value: float):
    """``(kind, name, step, field, value)`` for a key the compiled arrays can take, else None."""
    if len(path) == 3 and path[0] == "crossings" and path[2] == "lanes":
        return ("crossing", path[1], None, "lanes", value)
    if len(path) == 3 and path[0] == "groups" and path[2] in ("never_leave", "deported_share", "people"):
        return ("group", path[1], None, path[2], value)
    if (len(path) == 6 and path[0] == "groups" and path[2] == "departures" and path[3] in ("hazard", "schedule")
            and isinstance(path[4], int) and path[5] in _STEP_FIELDS):
        return ("group", path[1], path[4], path[5], value)
    return None


def _in_range(patch, initial_people: Mapping[str, float]) -> bool:
    _, name, _, field, value = patch
    if field == "lanes":
        return round(value) >= 1
    if field == "people":  # the group must hold its ``initial:`` households
        return round(value) >= initial_people.get(name, 0.0)
    if field in _SHARES:
        return 0.0 <= value <= 1.0
    return value >= 0.0  # rates, people per day (also False for NaN)


def _patched_group(group, step, field: str, value: float, network):
    """A copy of ``group``'s compiled departures with one value changed."""
    if step is None:
        if field == "never_leave":
            return dataclasses.replace(group, never_leave=value)
        if field == "people":
            return dataclasses.replace(group, stock_people=float(round(value)) - _initial_people(group, network))
        shares = np.where(group.has_own_share, group.deported_shares, value)
        return dataclasses.replace(group, deported_shares=shares)
    if step not in group.step_index:
        return group  # a step after the period (or ``until``): it changes nothing here
    position = group.step_index.index(step)
    array_name = _STEP_FIELDS[field]
    array = getattr(group, array_name).copy()
    array[position] = value
    changes = {array_name: array}
    if field == "deported_share":
        own = group.has_own_share.copy()
        own[position] = True
        changes["has_own_share"] = own
    elif group.kind == "hazard":  # the validated scenario holds one of the two: the one just set
        given_per_day = group.given_per_day.copy()
        given_per_day[position] = field == "people_per_day"
        changes["given_per_day"] = given_per_day
    return dataclasses.replace(group, **changes)


def _initial_people(group, network) -> float:
    return network.initial_people_by_group.get(group.name, 0.0)
