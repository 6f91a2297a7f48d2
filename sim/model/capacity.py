"""A crossing's capacity over time: opening hours, dated slowdowns and random disruptions.

None of these depends on the queue, so the whole timeline of one replication is computed before the
clock starts: a sorted list of instants at which the crossing's state changes, and the state that
holds from each instant to the next. The crossing then needs one event per change, a few a day,
however many households pass.

* Opening hours repeat every PKT day (``"06:00-21:00"``; a window past midnight wraps).
* A slowdown holds from 00:00 of ``from`` to 24:00 of ``to``. Factors of overlapping slowdowns and
  disruptions multiply (factor 0 closes the crossing; above 1 adds capacity). Where slowdowns that
  set ``hours`` or a quota overlap, the one listed last wins.
* A disruption alternates a normal spell drawn from ``every`` and a disrupted spell drawn from
  ``lasting``, starting normal at the period start.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.clock import HOURS_PER_DAY, Clock
from sim.model.streams import stream


@dataclass(frozen=True)
class CapacityState:
    factor: float  # service speed multiplier: service duration = drawn time / factor
    within_hours: bool  # inside the opening hours of that day
    quota_people: int | None  # most people whose service may start in one PKT day

    @property
    def can_start(self) -> bool:
        return self.within_hours and self.factor > 0


@dataclass(frozen=True)
class CapacityTimeline:
    change_hours: list[float]  # sorted, starting at 0.0
    states: list[CapacityState]  # states[i] holds on [change_hours[i], change_hours[i + 1])
    resets_at_midnight: bool  # a quota exists: the day's count restarts at every midnight

    def open_hours_per_day(self, n_days: int) -> np.ndarray:
        """Hours per PKT day during which services may start (open and factor > 0)."""
        bounds = [*self.change_hours, n_days * HOURS_PER_DAY]
        open_hours = np.zeros(n_days)
        for state, start, end in zip(self.states, bounds[:-1], bounds[1:]):
            if not state.can_start:
                continue
            # The state's interval may span several days; split it at midnights.
            while start < end:
                day = int(start // HOURS_PER_DAY)
                piece_end = min(end, (day + 1) * HOURS_PER_DAY)
                if day < n_days:
                    open_hours[day] += piece_end - start
                start = piece_end
        return open_hours


def _within(hours, hour_of_day: float) -> bool:
    open_hour, close_hour = hours.open_hour, hours.close_hour
    if open_hour < close_hour:
        return open_hour <= hour_of_day < close_hour
    return hour_of_day >= open_hour or hour_of_day < close_hour


def disruption_spells(disruption, index: int, clock: Clock, seed: int, replication: int) -> list[tuple[float, float]]:
    """The disrupted spells (start, end) in hours of one random disruption, over the whole period."""
    rng = stream(seed, replication, f"disruption/{index}/{disruption.at}")
    spells: list[tuple[float, float]] = []
    now = 0.0
    batch = 64
    while now < clock.horizon_hours:
        normal = disruption.every.sample(rng, batch)
        disrupted = disruption.lasting.sample(rng, batch)
        for normal_hours, disrupted_hours in zip(normal.tolist(), disrupted.tolist()):
            start = now + normal_hours
            now = start + disrupted_hours
            if start >= clock.horizon_hours:
                return spells
            if disrupted_hours > 0:
                spells.append((start, min(now, clock.horizon_hours)))
            if now >= clock.horizon_hours:
                return spells
    return spells


def build_timeline(crossing_name: str, crossing, slowdowns, disruptions, clock: Clock,
                   seed: int, replication: int) -> CapacityTimeline:
    """Compute the state changes of one crossing over the period."""
    windows = [(clock.hours_at(s.from_), clock.hours_after(s.to), s) for s in slowdowns if s.at == crossing_name]
    spells: list[tuple[float, float, float]] = []
    for index, disruption in enumerate(disruptions):
        if disruption.at == crossing_name:
            spells += [(a, b, disruption.factor)
                       for a, b in disruption_spells(disruption, index, clock, seed, replication)]

    def hours_on(day: int):
        chosen = crossing.hours
        for start, end, slowdown in windows:
            if slowdown.hours is not None and start <= day * HOURS_PER_DAY < end:
                chosen = slowdown.hours
        return chosen

    def quota_at(t: float) -> int | None:
        chosen = crossing.max_people_per_day
        for start, end, slowdown in windows:
            if slowdown.max_people_per_day is not None and start <= t < end:
                chosen = slowdown.max_people_per_day
        return chosen

    def state_at(t: float) -> CapacityState:
        factor = 1.0
        for start, end, slowdown in windows:
            if start <= t < end:
                factor *= slowdown.factor
        for start, end, spell_factor in spells:
            if start <= t < end:
                factor *= spell_factor
        day = int(t // HOURS_PER_DAY)
        return CapacityState(factor, _within(hours_on(day), t - day * HOURS_PER_DAY), quota_at(t))

    candidates: set[float] = set()
    for day in range(clock.n_days):
        midnight = day * HOURS_PER_DAY
        candidates.add(midnight)
        hours = hours_on(day)
        candidates.update({midnight + hours.open_hour % HOURS_PER_DAY, midnight + hours.close_hour % HOURS_PER_DAY})
    for start, end, _ in windows:
        candidates.update({start, end})
    for start, end, _ in spells:
        candidates.update({start, end})
    instants = sorted(t for t in candidates if 0.0 <= t < clock.horizon_hours)

    has_quota = crossing.max_people_per_day is not None or any(
        s.max_people_per_day is not None for _, _, s in windows)
    change_hours: list[float] = []
    states: list[CapacityState] = []
    for t in instants:
        state = state_at(t)
        at_midnight = has_quota and t % HOURS_PER_DAY == 0.0
        if states and state == states[-1] and not at_midnight:
            continue
        change_hours.append(t)
        states.append(state)
    return CapacityTimeline(change_hours, states, has_quota)
