"""A crossing's capacity on the hourly grid: how many people may start service in each hour.

The simulation's timeline (:func:`sim.model.capacity.build_timeline`: opening hours, dated
slowdowns, closures) is cut into hourly bins. In each bin, ``lanes`` lanes each start
``factor / mean service`` households an hour while the crossing may start services; in people,
times the mean household size of those who come. When it opens with a queue, every lane starts at
once and then one household per service: over a window, a lane starts ``(1 + cv²) / 2`` more
households than ``hours / mean service`` (renewal theory; ``cv`` the service's coefficient of
variation), which ``openings`` marks (~1 % of a day's capacity at Torkham, where it binds). Random disruptions are replaced by their expected
effect: a disrupted spell of ``lasting`` after a normal one of ``every`` has the long-run share
``E[lasting] / (E[every] + E[lasting])``, over which the factor is the disruption's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.model.capacity import build_timeline
from sim.model.clock import HOURS_PER_DAY, Clock

BINS_PER_DAY = int(HOURS_PER_DAY)


@dataclass
class HourlyCapacity:
    """Per hourly bin: open lane-hours weighted by factor (``factor_hours``), the factor services
    started then run at, and per day the quota in people (``inf`` without one)."""

    factor_hours: np.ndarray  # sum over the bin of factor x (may start), in hours
    openings: np.ndarray  # 1.0 in a bin where services may start again after a bin where none could
    factor: np.ndarray  # factor in force for services started in the bin (0 where none may start)
    quota_people: np.ndarray  # per day
    closed: np.ndarray  # bool per bin: within a closure (factor 0 from a slowdown), when reroutes are offered


def hourly_capacity(name: str, crossing, scenario, clock: Clock) -> HourlyCapacity:
    """The crossing's capacity per hour of the period (disruptions at their expected factor)."""
    timeline = build_timeline(name, crossing, scenario.slowdowns, [], clock, seed=0, replication=0)
    n_bins = clock.n_days * BINS_PER_DAY
    factor_hours = np.zeros(n_bins)
    factor = np.zeros(n_bins)
    closed = np.zeros(n_bins, bool)
    bounds = [*timeline.change_hours, clock.horizon_hours]
    for state, start, end in zip(timeline.states, bounds[:-1], bounds[1:]):
        if state.factor == 0:
            closed[int(start):math.ceil(end)] = True
        if not state.can_start:
            continue
        first, last = int(start), math.ceil(end)
        for k in range(first, min(last, n_bins)):
            overlap = min(end, k + 1) - max(start, k)
            factor_hours[k] += overlap * state.factor
            factor[k] = max(factor[k], state.factor)
    quota = np.full(clock.n_days, np.inf)
    if timeline.resets_at_midnight:  # a quota somewhere: the one in force at each midnight
        at_midnight = np.searchsorted(timeline.change_hours, np.arange(clock.n_days) * HOURS_PER_DAY, side="right") - 1
        for day, index in enumerate(at_midnight.tolist()):
            if timeline.states[index].quota_people is not None:
                quota[day] = timeline.states[index].quota_people
    expected = _expected_disruption_factor(name, scenario)
    openings = ((factor_hours > 0) & (np.concatenate([[0.0], factor_hours[:-1]]) == 0)).astype(float)
    return HourlyCapacity(factor_hours * expected, openings, factor * expected, quota, closed)


def _expected_disruption_factor(name: str, scenario) -> float:
    """The long-run mean factor of the crossing's random disruptions (they multiply)."""
    factor = 1.0
    for disruption in scenario.disruptions:
        if disruption.at == name:
            normal, disrupted = disruption.every.mean(), disruption.lasting.mean()
            share = disrupted / (normal + disrupted) if normal + disrupted > 0 else 0.0
            factor *= 1.0 - share + share * disruption.factor
    return factor
