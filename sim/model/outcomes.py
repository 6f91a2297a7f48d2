"""A replication's outcome from its timestamps: the daily counters of every node, the totals of
``replications.csv``, the target's verdict, and (with ``--trace``) the per-household trace."""
from __future__ import annotations

import numpy as np

from sim.model import recorder
from sim.model.capacity import CapacityTimeline
from sim.model.clock import HOURS_PER_DAY
from sim.model.households import HouseholdTable
from sim.model.outcome import (
    ARRIVED_HOUSEHOLDS,
    VERDICT_CAPACITY_BINDS,
    VERDICT_DEPARTURES_BIND,
    VERDICT_REACHED,
    ReplicationOutcome,
)
from sim.model.timestamps import Timestamps
from sim.model.world import World


def build_outcome(scenario, world: World, households: HouseholdTable, timestamps: Timestamps,
                  timelines: list[CapacityTimeline], replication: int, trace: bool) -> ReplicationOutcome:
    """The daily counters of every node (crossings, camps, reception, groups, all) and the totals of
    one replication, from its per-household timestamps."""
    n_days = world.clock.n_days
    horizon = world.clock.horizon_hours
    size = households.size_people.astype(float)
    ts = timestamps
    daily: dict[tuple[str, str, str], np.ndarray] = {}
    households_daily: dict[tuple[str, str, str], np.ndarray] = {}
    # Most of a stock never leaves within the period: the sums below run over those who departed,
    # arrived or were served (indices in household order, so every sum adds in the same order).
    departed_idx = np.flatnonzero(households.depart_hours < horizon)
    arrived_idx = departed_idx[households.arrive_hours[departed_idx] < horizon]
    served_idx = arrived_idx[ts.start[arrived_idx] < horizon]

    queue_changes, served_waits, served_people = [], [], []
    for crossing_id, name in enumerate(world.crossing_names):
        changes, waits, people = _crossing_series(daily, scenario, households, ts, timelines, crossing_id, name,
                                                  n_days, horizon, households_daily)
        queue_changes.append(changes)
        served_waits.append(waits)
        served_people.append(people)
    outside = _camp_series(daily, world, households, ts, size, arrived_idx, n_days, households_daily)
    _reception_series(daily, scenario, world, households, ts, size, served_idx, n_days, households_daily)
    _group_series(daily, scenario, world, households, ts, size, departed_idx, served_idx, n_days)

    all_queues = recorder.merge_level_changes(*queue_changes)
    totals = {
        "peak_queue_people": float(recorder.daily_peaks_of_changes(*all_queues, n_days).max(initial=0)),
        "peak_waiting_outside_people": float(recorder.daily_peaks(*outside, n_days).max(initial=0)),
        "wait_hours_p95": recorder.weighted_percentile(np.concatenate(served_waits),
                                                       np.concatenate(served_people), 0.95),
        "unserved_people": float(daily[("all", "all", "in_pipeline_people")][-1]),
    }
    verdict, where = _target(scenario, world, households, ts, totals, departed_idx, served_idx)
    return ReplicationOutcome(replication=replication, daily=daily, totals=totals, verdict=verdict,
                              binding_where=where, trace=_trace(households, ts) if trace else {},
                              households=households_daily)


def _crossing_series(daily, scenario, households: HouseholdTable, ts: Timestamps,
                     timelines: list[CapacityTimeline], crossing_id: int, name: str,
                     n_days: int, horizon: float, households_daily):
    """One crossing's daily series (and the households joining its queue per day); returns its
    queue-level changes and the waits and sizes of the households it served (for the totals over
    all crossings)."""
    # Every array of this crossing follows its join order, along which service starts are sorted
    # (FIFO): the sorts below are merges of sorted runs.
    join, leave, people = ts.queue_intervals(households, crossing_id)
    queue_changes = recorder.level_changes(join, leave, people, horizon)
    order = ts.join_order[crossing_id]
    # Those served here left this queue when their service started: their stay in it is their wait.
    served = ts.served_at[order] == crossing_id
    start, here_people = leave[served], people[served]
    end = ts.end[order[served]]
    here_wait = start - join[served]
    lane_hours = scenario.crossings[name].lanes * timelines[crossing_id].open_hours_per_day(n_days)
    # Each array is bucketed by day once and summed with several weights.
    joins, leaves = recorder.DayBuckets(join, n_days), recorder.DayBuckets(leave, n_days)
    starts, ends = recorder.DayBuckets(start, n_days), recorder.DayBuckets(end, n_days)
    wait_mean, wait_p95 = recorder.daily_wait_statistics(starts, here_wait, here_people)
    busy = recorder.integrals_from_buckets(starts, ends, None, None)  # one lane per service
    joined_people = joins.sums(people)
    key = (name, "crossing")
    daily[(*key, "arrived_people")] = joined_people
    households_daily[(*key, ARRIVED_HOUSEHOLDS)] = joins.sums(None)
    daily[(*key, "crossed_people")] = ends.sums(here_people)
    daily[(*key, "queue_people")] = np.cumsum(joined_people) - np.cumsum(leaves.sums(people))
    daily[(*key, "queue_people_mean")] = recorder.integrals_from_buckets(joins, leaves, people, people) / HOURS_PER_DAY
    daily[(*key, "queue_people_peak")] = recorder.daily_peaks_of_changes(*queue_changes, n_days)
    daily[(*key, "wait_hours_mean")] = wait_mean
    daily[(*key, "wait_hours_p95")] = wait_p95
    daily[(*key, "utilisation")] = np.divide(busy, lane_hours, out=np.zeros(n_days), where=lane_hours > 0)
    return queue_changes, here_wait, here_people


def _camp_series(daily, world: World, households: HouseholdTable, ts: Timestamps, size: np.ndarray,
                 arrived_idx: np.ndarray, n_days: int, households_daily) -> list[np.ndarray]:
    """Every camp's daily series (and the households arriving per day); returns (arrive, enter,
    people) of everyone who reached a camp, for the peak of people waiting outside all camps
    together."""
    outside_join, outside_leave, outside_people = [], [], []
    for camp_id, name in enumerate(world.camp_names):
        members = arrived_idx[households.camp_id[arrived_idx] == camp_id]
        arrive, enter, leave = households.arrive_hours[members], ts.camp_enter[members], ts.camp_leave[members]
        people = size[members]
        outside_join.append(arrive)
        outside_leave.append(enter)
        outside_people.append(people)
        key = (name, "camp")
        daily[(*key, "arrived_people")] = recorder.daily_sum(arrive, people, n_days)
        households_daily[(*key, ARRIVED_HOUSEHOLDS)] = recorder.daily_count(arrive, n_days)
        daily[(*key, "occupancy_people")] = recorder.levels_at_day_ends(enter, leave, people, n_days)
        daily[(*key, "waiting_outside_people")] = recorder.levels_at_day_ends(arrive, enter, people, n_days)
        daily[(*key, "waiting_outside_people_days")] = \
            recorder.daily_integrals(arrive, enter, people, n_days) / HOURS_PER_DAY
    return [np.concatenate(parts) if parts else np.zeros(0) for parts in (outside_join, outside_leave, outside_people)]


def _reception_series(daily, scenario, world: World, households: HouseholdTable, ts: Timestamps,
                      size: np.ndarray, served_idx: np.ndarray, n_days: int, households_daily) -> None:
    """Every reception centre's daily arrivals (people and households), occupancy and people beyond
    its capacity."""
    for reception_id, name in enumerate(world.reception_names):
        crossing_ids = [c for c, crossing in enumerate(world.crossing_names)
                        if scenario.crossings[crossing].reception == name]
        members = served_idx[np.isin(ts.served_at[served_idx], crossing_ids)]
        enter = ts.end[members]
        leave = enter + households.reception_stay_hours[reception_id][members]
        people = size[members]
        occupancy = recorder.levels_at_day_ends(enter, leave, people, n_days)
        key = (name, "reception")
        daily[(*key, "arrived_people")] = recorder.daily_sum(enter, people, n_days)
        households_daily[(*key, ARRIVED_HOUSEHOLDS)] = recorder.daily_count(enter, n_days)
        daily[(*key, "occupancy_people")] = occupancy
        daily[(*key, "over_capacity_people")] = np.maximum(0.0, occupancy - scenario.reception[name].capacity)


def _group_series(daily, scenario, world: World, households: HouseholdTable, ts: Timestamps, size: np.ndarray,
                  departed_idx: np.ndarray, served_idx: np.ndarray, n_days: int) -> None:
    """Every group's departures, deportations, crossings and remaining stock, and the totals of all."""
    crossed_daily_total = np.zeros(n_days)
    departed_daily_total = np.zeros(n_days)
    for group_id, name in enumerate(world.group_names):
        if len(world.group_names) > 1:
            group_departed = departed_idx[households.group_id[departed_idx] == group_id]
            group_served = served_idx[households.group_id[served_idx] == group_id]
            crossed = recorder.daily_sum(ts.end[group_served], size[group_served], n_days)
        else:  # one group: its crossings are all the crossings' (sums of whole people: exact in any order)
            group_departed = departed_idx
            crossed = np.sum([daily[(crossing, "crossing", "crossed_people")] for crossing in world.crossing_names],
                             axis=0)
        departed = recorder.daily_sum(households.depart_hours[group_departed], size[group_departed], n_days)
        deported = group_departed[households.deported[group_departed]]
        key = (name, "group")
        daily[(*key, "departed_people")] = departed
        daily[(*key, "deported_people")] = recorder.daily_sum(households.depart_hours[deported], size[deported], n_days)
        daily[(*key, "crossed_people_cumulative")] = np.cumsum(crossed)
        daily[(*key, "remaining_stock_people")] = scenario.groups[name].people - np.cumsum(departed)
        crossed_daily_total += crossed
        departed_daily_total += departed
    daily[("all", "all", "crossed_people_cumulative")] = np.cumsum(crossed_daily_total)
    daily[("all", "all", "departed_people_cumulative")] = np.cumsum(departed_daily_total)
    daily[("all", "all", "in_pipeline_people")] = np.cumsum(departed_daily_total) - np.cumsum(crossed_daily_total)


def _target(scenario, world: World, households: HouseholdTable, ts: Timestamps, totals: dict[str, float],
            departed_idx: np.ndarray, served_idx: np.ndarray) -> tuple[str, str]:
    """DESIGN §3.10: people of the target's groups crossing in [count_from, end of by]; the verdict.
    ``departed_idx`` and ``served_idx``: the households that departed, and that were served, within
    the period (the others count for nothing here)."""
    target = scenario.target
    if target is None:
        totals.update(crossed_by_target_date=np.nan, departed_by_target_date=np.nan,
                      target_reached=np.nan, target_reached_hours=np.nan)
        return "", ""
    clock = world.clock
    groups = target.groups or world.group_names
    counted_group = np.isin(households.group_id, [world.group_names.index(g) for g in groups])
    window_start = clock.hours_at(target.count_from or clock.start)
    window_end = clock.hours_after(target.by)
    size = households.size_people
    # The date the target is reached is sought over the whole period (it may come after ``by``);
    # "reached" means reached by the end of ``by``.
    if len(groups) < len(world.group_names):
        served_idx = served_idx[counted_group[served_idx]]
        departed_idx = departed_idx[counted_group[departed_idx]]
    end = ts.end[served_idx]
    counted = served_idx[end >= window_start]
    counted_end = ts.end[counted]
    reached_hours = _reached_hours(counted_end, size[counted], target.people, clock.n_days)
    reached = reached_hours < window_end
    departed = departed_idx[(households.depart_hours[departed_idx] < window_end)
                            & ~(ts.end[departed_idx] < window_start)]
    totals.update(
        crossed_by_target_date=float(size[counted[counted_end < window_end]].sum()),
        departed_by_target_date=float(size[departed].sum()),
        target_reached=float(reached),
        target_reached_hours=reached_hours,
    )
    if reached:
        return VERDICT_REACHED, ""
    if totals["departed_by_target_date"] < target.people:
        return VERDICT_DEPARTURES_BIND, ""
    return VERDICT_CAPACITY_BINDS, _where_people_wait(world, households, ts, window_end, counted_group)


def _reached_hours(crossing_hours: np.ndarray, people: np.ndarray, target_people: float, n_days: int) -> float:
    """When the cumulative people crossing (in time order) first reach ``target_people`` (inf if
    never). People are counted per day first, and only the day that reaches the target is sorted."""
    if target_people <= 0 or not len(crossing_hours):
        return float(crossing_hours.min()) if len(crossing_hours) else np.inf
    days = np.minimum(crossing_hours // HOURS_PER_DAY, n_days).astype(np.int64)  # past the period: one bin
    cumulative_by_day = np.cumsum(np.bincount(days, weights=people, minlength=n_days + 1))
    day = int(np.searchsorted(cumulative_by_day, target_people, side="left"))
    if day >= len(cumulative_by_day):
        return np.inf
    before = cumulative_by_day[day - 1] if day else 0.0
    in_day = days == day
    hours = crossing_hours[in_day]
    order = np.argsort(hours, kind="stable")
    index = int(np.searchsorted(before + np.cumsum(people[in_day][order]), target_people, side="left"))
    return float(hours[order][index])


def _where_people_wait(world: World, households: HouseholdTable, ts: Timestamps, hours: float,
                       counted: np.ndarray) -> str:
    """The place holding most of the people who had departed but not crossed at ``hours``."""
    locations = ts.locations_at(households, world, hours)
    size = households.size_people
    crossing_now = np.where(ts.reroute_arrival < hours, ts.reroute_to, households.crossing_id)
    people: dict[str, int] = {"travelling": int(size[locations["travelling"] & counted].sum())}
    for camp_id, name in enumerate(world.camp_names):
        at_camp = counted & (households.camp_id == camp_id)
        people[f"waiting outside camp {name}"] = int(size[locations["waiting_outside"] & at_camp].sum())
        people[f"in camp {name}"] = int(size[locations["in_camp"] & at_camp].sum())
    for crossing_id, name in enumerate(world.crossing_names):
        people[f"queued at {name}"] = int(size[locations["queued"] & counted & (crossing_now == crossing_id)].sum())
        people[f"in service at {name}"] = int(size[locations["in_service"] & counted
                                                   & (ts.served_at == crossing_id)].sum())
    return max(people, key=people.__getitem__)


def _trace(households: HouseholdTable, ts: Timestamps) -> dict[str, np.ndarray]:
    """Per-household timestamps (``--trace``): for checking the model by hand, not for studies."""
    return {
        "group_id": households.group_id, "size_people": households.size_people,
        "depart_hours": households.depart_hours, "deported": households.deported,
        "camp_id": households.camp_id, "crossing_id": households.crossing_id,
        "arrive_hours": households.arrive_hours, "camp_enter_hours": ts.camp_enter,
        "camp_leave_hours": ts.camp_leave, "queue_arrival_hours": ts.queue_arrival,
        "reroute_leave_hours": ts.reroute_leave, "reroute_arrival_hours": ts.reroute_arrival,
        "service_start_hours": ts.start, "service_end_hours": ts.end, "served_at": ts.served_at,
    }
