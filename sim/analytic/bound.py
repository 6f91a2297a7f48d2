"""The analytic capacity ceiling: the most people the crossings could pass by each date.

Whatever the departures, a crossing cannot pass more people in a day than its lanes can process
in the hours it may start services::

    ceiling(day) = min(quota(day),
                       lanes × Σ_open spells (hours × factor of the scheduled slowdowns)
                             × E[disruption factor] ÷ E[service time] × E[household size])

* **open spells** are the parts of the day inside the opening hours (as changed by slowdowns that
  set ``hours``) where the product of the slowdown factors is above 0 — exactly the spells in which
  the model lets a lane start a service (:func:`sim.model.capacity.build_timeline`, run here
  without random disruptions);
* a factor scales service speed (service duration = drawn time ÷ factor), hence capacity;
* each random disruption of the crossing contributes its long-run expected factor
  ``(E[every] + factor·E[lasting]) / (E[every] + E[lasting])`` (DESIGN §3.7);
* ``E[household size]`` is that of the groups whose routes reach the crossing, weighted by people;
* ``quota(day)`` is ``max_people_per_day`` (or a slowdown's), when set.

The cumulative ceiling is the running sum from the period start. It is a **rate** ceiling: with a
queue that never empties and fixed service times that divide the open hours, the model's crossings
equal it within one household per lane and never exceed it (``tests/test_bound.py``). Services
started just before closing still complete, so with service times long relative to the opening
hours a crossing can pass up to one more household per lane per opening than the ceiling; and with
random service times the ceiling is what lanes achieve on average. Reroutes, camps, travel and the
initial queue do not change it: they move people, not processing capacity.

``bordersim bound FILE`` prints the date the total ceiling first reaches the target and writes
``bound.csv``; ``bordersim run`` writes the same table into every results folder.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.model.capacity import CapacityTimeline, build_timeline
from sim.model.clock import HOURS_PER_DAY, Clock

TOTAL = "all"
BOUND_COLUMNS = ["date", "node", "open_hours", "effective_lane_hours", "quota_people", "ceiling_people",
                 "ceiling_people_cumulative"]


def expected_disruption_factor(disruption) -> float:
    """Long-run share of capacity left by a random disruption: time-weighted mean of 1 and ``factor``."""
    normal = disruption.every.mean()
    disrupted = disruption.lasting.mean()
    if normal + disrupted <= 0:
        return 1.0
    return (normal + disruption.factor * disrupted) / (normal + disrupted)


def mean_household_size(scenario, crossing_name: str) -> float:
    """People per household arriving at a crossing: groups with a route there, weighted by people.

    Falls back to all groups when no group's route names the crossing (it would see no one).
    """
    weights, sizes = [], []
    for group in scenario.groups.values():
        reaches = any(route.crossing == crossing_name
                      for origin in group.origins for route in scenario.origins[origin].routes)
        if reaches:
            weights.append(group.people)
            sizes.append(group.household_size.mean())
    if not weights:
        weights = [group.people for group in scenario.groups.values()]
        sizes = [group.household_size.mean() for group in scenario.groups.values()]
    return float(np.average(sizes, weights=weights))


def _effective_hours_per_day(timeline: CapacityTimeline, n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """(open hours, open hours × factor) per PKT day, over the spells in which services may start."""
    bounds = [*timeline.change_hours, n_days * HOURS_PER_DAY]
    open_hours = np.zeros(n_days)
    weighted = np.zeros(n_days)
    for state, start, end in zip(timeline.states, bounds[:-1], bounds[1:]):
        if not state.can_start:
            continue
        while start < end:  # a state may span several days: split it at midnights
            day = int(start // HOURS_PER_DAY)
            piece_end = min(end, (day + 1) * HOURS_PER_DAY)
            if day < n_days:
                open_hours[day] += piece_end - start
                weighted[day] += (piece_end - start) * state.factor
            start = piece_end
    return open_hours, weighted


def _quota_per_day(timeline: CapacityTimeline, n_days: int) -> np.ndarray:
    """The tightest daily quota in force on each day (``inf`` where there is none)."""
    quota = np.full(n_days, np.inf)
    bounds = [*timeline.change_hours, n_days * HOURS_PER_DAY]
    for state, start, end in zip(timeline.states, bounds[:-1], bounds[1:]):
        if state.quota_people is None:
            continue
        first = int(start // HOURS_PER_DAY)
        last = min(math.ceil(end / HOURS_PER_DAY), n_days)
        quota[first:last] = np.minimum(quota[first:last], state.quota_people)
    return quota


@dataclass(frozen=True)
class Bound:
    """The ceiling table and when it first reaches the scenario's target."""

    table: pd.DataFrame  # BOUND_COLUMNS, one row per day and crossing, plus node "all"
    target_people: float | None
    target_by: dt.date | None
    count_from: dt.date | None
    reach_date: dt.date | None  # first day the total ceiling (counted from count_from) reaches the target
    ceiling_by_target_date: float | None  # total ceiling counted from count_from to the end of target_by

    def lines(self) -> list[str]:
        """The terminal summary."""
        totals = self.table[self.table["node"] == TOTAL]
        crossings = [node for node in self.table["node"].unique() if node != TOTAL]
        lines = []
        for name in crossings:
            rows = self.table[self.table["node"] == name]
            lines.append(f"{name}: ceiling {rows['ceiling_people'].mean():,.0f} people/day on average "
                         f"(max {rows['ceiling_people'].max():,.0f}), "
                         f"{rows['ceiling_people_cumulative'].iloc[-1]:,.0f} over the period")
        lines.append(f"All crossings: {totals['ceiling_people_cumulative'].iloc[-1]:,.0f} people over the period")
        if self.target_people is not None:
            counted = f" counted from {self.count_from.isoformat()}" if self.count_from else ""
            lines.append(f"Ceiling by {self.target_by.isoformat()}: {self.ceiling_by_target_date:,.0f} people"
                         f"{counted} (target {self.target_people:,.0f})")
            if self.reach_date is None:
                lines.append("Ceiling reaches the target: never within the period")
            else:
                late = " (after the target date)" if self.reach_date > self.target_by else ""
                lines.append(f"Ceiling reaches the target: {self.reach_date.isoformat()}{late}")
        return lines


def capacity_bound(scenario) -> Bound:
    """The analytic capacity ceiling of every crossing of ``scenario``, day by day."""
    clock = Clock(scenario.period.start, scenario.period.end)
    n_days = clock.n_days
    dates = pd.to_datetime([clock.date_of(day) for day in range(n_days)])
    frames = []
    total = np.zeros(n_days)
    for name, crossing in scenario.crossings.items():
        timeline = build_timeline(name, crossing, scenario.slowdowns, [], clock, seed=0, replication=0)
        open_hours, weighted_hours = _effective_hours_per_day(timeline, n_days)
        disruption_factor = math.prod(expected_disruption_factor(d) for d in scenario.disruptions if d.at == name)
        effective_lane_hours = crossing.lanes * weighted_hours * disruption_factor
        people = effective_lane_hours / crossing.service.mean() * mean_household_size(scenario, name)
        quota = _quota_per_day(timeline, n_days)
        people = np.minimum(people, quota)
        total += people
        frames.append(pd.DataFrame({
            "date": dates, "node": name, "open_hours": open_hours, "effective_lane_hours": effective_lane_hours,
            "quota_people": np.where(np.isinf(quota), np.nan, quota), "ceiling_people": people,
            "ceiling_people_cumulative": np.cumsum(people),
        }))
    frames.append(pd.DataFrame({
        "date": dates, "node": TOTAL,
        "open_hours": np.nan, "effective_lane_hours": sum(f["effective_lane_hours"].to_numpy() for f in frames),
        "quota_people": np.nan, "ceiling_people": total, "ceiling_people_cumulative": np.cumsum(total),
    }))
    table = pd.concat(frames, ignore_index=True)[BOUND_COLUMNS]

    target = scenario.target
    if target is None:
        return Bound(table, None, None, None, None, None)
    first_counted = (target.count_from - clock.start).days if target.count_from else 0
    counted = np.where(np.arange(n_days) >= first_counted, total, 0.0)
    cumulative = np.cumsum(counted)
    reached = np.flatnonzero(cumulative >= target.people)
    reach_date = clock.date_of(int(reached[0])) if reached.size else None
    by_index = min((target.by - clock.start).days, n_days - 1)
    return Bound(table, float(target.people), target.by, target.count_from, reach_date,
                 float(cumulative[by_index]))


def save_bound(bound: Bound, scenario, destination=None, command_line=None, started_at=None,
               results_root="results"):
    """Write a ``bound`` results folder (``bound.csv`` with the scenario and a manifest); return its path."""
    import sys
    from pathlib import Path

    from sim.outputs.results import (
        _iso,
        default_run_folder,
        environment_versions,
        git_state,
        run_hash,
        unique_folder,
        write_results_folder,
    )

    started_at = started_at or dt.datetime.now().astimezone()
    resolved = scenario.to_yaml()
    hash8 = run_hash(resolved, None, 0, "bound")
    if destination is None:
        destination = unique_folder(default_run_folder(scenario.name, "bound", started_at, hash8, results_root))
    git = git_state()
    manifest = {
        **environment_versions(), "git_commit": git["commit"], "git_dirty": git["dirty"], "command": "bound",
        "command_line": list(command_line if command_line is not None else sys.argv),
        "scenario_name": scenario.name, "run_hash": hash8, "started_at": _iso(started_at),
        "target_people": bound.target_people, "target_by": bound.target_by,
        "ceiling_reaches_target": bound.reach_date, "ceiling_by_target_date": bound.ceiling_by_target_date,
    }
    files = scenario.source_files or ([scenario.source] if scenario.source and not scenario.source.startswith("<")
                                      else [])
    return write_results_folder(Path(destination), tables={"bound.csv": bound.table}, manifest=manifest,
                                scenario_sources=files, resolved_text=resolved)


__all__ = ["BOUND_COLUMNS", "Bound", "capacity_bound", "expected_disruption_factor", "mean_household_size",
           "save_bound"]
