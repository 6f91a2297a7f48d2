"""The fluid path as a replication outcome: the simulation's daily series, totals and verdict.

The series carry the names of the simulation's daily table (``sim.model.outcomes``), computed from
the hourly flows: levels at day ends (queues, occupancies), sums over the day (arrivals, crossings),
means and peaks of hourly levels, and waits read first in, first out — the people starting service
when the cumulative starts are ``S`` arrived when the cumulative arrivals were ``S``.
"""
from __future__ import annotations

import numpy as np

from sim.analytic.fluid.capacity import BINS_PER_DAY
from sim.analytic.fluid.delays import delay_kernel
from sim.analytic.fluid.flow import by_camp
from sim.analytic.fluid.path import FluidPath
from sim.model.outcome import (
    ARRIVED_HOUSEHOLDS,
    VERDICT_CAPACITY_BINDS,
    VERDICT_DEPARTURES_BIND,
    VERDICT_REACHED,
    ReplicationOutcome,
)
from sim.model.recorder import weighted_percentile

FLUID_REPLICATION = 0
"""The fluid path is written as replication 0 of the daily table (it is one deterministic path)."""


def fluid_outcome(path: FluidPath, scenario) -> ReplicationOutcome:
    """Daily series of every node, totals and the target's verdict of the fluid path."""
    daily: dict[tuple[str, str, str], np.ndarray] = {}
    waits = [_crossing_series(daily, path, c) for c in range(len(path.network.crossings))]
    outside = _camp_series(daily, path)
    _reception_series(daily, path, scenario)
    crossed_by_group = _group_series(daily, path, scenario)
    hourly = path.hourly
    queues = np.cumsum(hourly.crossing_arrived - hourly.crossing_started - hourly.crossing_rerouted, axis=1).sum(axis=0)
    starts = np.concatenate([people for _, people in waits]) if waits else np.zeros(0)  # per wait slice
    totals = {
        "peak_queue_people": float(queues.max(initial=0.0)),
        "peak_waiting_outside_people": float(outside.max(initial=0.0)),
        "wait_hours_p95": weighted_percentile(np.concatenate([w for w, _ in waits]), starts, 0.95) if starts.sum() > 0
        else 0.0,
        "unserved_people": float(daily[("all", "all", "in_pipeline_people")][-1]),
    }
    verdict, where = _target(path, scenario, totals, crossed_by_group)
    return ReplicationOutcome(replication=FLUID_REPLICATION, daily=daily, totals=totals, verdict=verdict,
                              binding_where=where, households=_households_arriving(daily, path, scenario))


def _households_arriving(daily, path: FluidPath, scenario) -> dict[tuple[str, str, str], np.ndarray]:
    """Households arriving per day at each crossing, camp and reception centre (what needs per
    family read): the people arriving over the mean household size of those who come there."""
    crossings = path.network.crossings
    size_at = {crossing.name: crossing.mean_size_people for crossing in crossings}
    everyone = float(np.mean([crossing.mean_size_people for crossing in crossings]))
    for name in scenario.reception:
        sizes = [size_at[c] for c, crossing in scenario.crossings.items() if crossing.reception == name]
        size_at[name] = float(np.mean(sizes)) if sizes else everyone
    return {(node, kind, ARRIVED_HOUSEHOLDS): values / size_at.get(node, everyone)
            for (node, kind, metric), values in daily.items()
            if metric == "arrived_people" and kind in ("crossing", "camp", "reception")}


def _level_at_day_ends(inflow: np.ndarray, outflow: np.ndarray) -> np.ndarray:
    """The level (inflow less outflow so far) at the end of each day."""
    return (np.cumsum(inflow) - np.cumsum(outflow))[BINS_PER_DAY - 1::BINS_PER_DAY]


def _crossing_series(daily, path: FluidPath, c: int) -> tuple[np.ndarray, np.ndarray]:
    """One crossing's daily series; returns the waits (hours) of slices of the people starting, and
    the people in each slice."""
    network, hourly = path.network, path.hourly
    crossing = network.crossings[c]
    arrived, started, crossed = hourly.crossing_arrived[c], hourly.crossing_started[c], hourly.crossed[c]
    staying = arrived - hourly.crossing_rerouted[c]  # those who left for another crossing wait no longer here
    queue = np.maximum(np.cumsum(staying) - np.cumsum(started), 0.0)
    wait, people = _fifo_wait_hours(staying, started)
    started_days = path.daily(started)
    key = (crossing.name, "crossing")
    daily[(*key, "arrived_people")] = path.daily(arrived)
    daily[(*key, "crossed_people")] = path.daily(crossed)
    daily[(*key, "queue_people")] = queue[BINS_PER_DAY - 1::BINS_PER_DAY]
    daily[(*key, "queue_people_mean")] = path.daily(queue) / BINS_PER_DAY
    daily[(*key, "queue_people_peak")] = queue.reshape(-1, BINS_PER_DAY).max(axis=1)
    daily[(*key, "wait_hours_mean")] = np.divide(path.daily((wait * people).sum(axis=1)), started_days,
                                                 out=np.zeros(path.n_days), where=started_days > 0)
    by_day = BINS_PER_DAY * WAIT_SLICES
    daily[(*key, "wait_hours_p95")] = np.array([
        weighted_percentile(w, p, 0.95) if p.sum() > 0 else 0.0
        for w, p in zip(wait.reshape(-1, by_day), people.reshape(-1, by_day))])
    factor = crossing.capacity.factor
    busy_lane_hours = np.divide(started, crossing.mean_size_people) * np.divide(
        crossing.mean_service_hours, factor, out=np.zeros_like(factor), where=factor > 0)
    open_lane_hours = crossing.lanes * path.daily((factor > 0) * crossing.capacity.factor_hours
                                                  / np.where(factor > 0, factor, 1.0))
    daily[(*key, "utilisation")] = np.divide(path.daily(busy_lane_hours), open_lane_hours,
                                             out=np.zeros(path.n_days), where=open_lane_hours > 0)
    return wait.ravel(), people.ravel()


WAIT_SLICES = 8
"""The people starting in one hour are read in this many slices for their waits: those who start
at 05:00 after a night's closure arrived over the whole night, not at one moment."""


def _fifo_wait_hours(arrived: np.ndarray, started: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[bin, slice]: hours waited by each slice of the people starting in each bin, and the people
    in it. First in, first out: they arrived when the cumulative arrivals reached their place in
    the cumulative starts."""
    n = len(arrived)
    edges = np.arange(n + 1, dtype=float)
    cumulative_arrived = np.concatenate([[0.0], np.cumsum(arrived)])
    before = np.concatenate([[0.0], np.cumsum(started)])[:-1]
    position = (np.arange(WAIT_SLICES) + 0.5) / WAIT_SLICES
    places = before[:, None] + started[:, None] * position[None, :]
    arrived_at = np.interp(places, cumulative_arrived, edges)
    waits = np.maximum(edges[:-1, None] + position[None, :] - arrived_at, 0.0)
    return waits, np.repeat(started[:, None] / WAIT_SLICES, WAIT_SLICES, axis=1)


def _camp_series(daily, path: FluidPath) -> np.ndarray:
    """Every camp's daily series; returns the people waiting outside all camps, per hour."""
    network, hourly = path.network, path.hourly
    arrived = by_camp(network, hourly.camp_route_arrived)
    entered = by_camp(network, hourly.camp_route_entered)
    left = by_camp(network, hourly.camp_route_left)
    outside_all = np.zeros(network.n_bins)
    for c, camp in enumerate(network.camps):
        outside = np.maximum(np.cumsum(arrived[c]) - np.cumsum(entered[c]), 0.0)
        outside_all += outside
        key = (camp.name, "camp")
        daily[(*key, "arrived_people")] = path.daily(arrived[c])
        daily[(*key, "occupancy_people")] = _level_at_day_ends(entered[c], left[c])
        daily[(*key, "waiting_outside_people")] = outside[BINS_PER_DAY - 1::BINS_PER_DAY]
        daily[(*key, "waiting_outside_people_days")] = path.daily(outside) / BINS_PER_DAY
    return outside_all


def _reception_series(daily, path: FluidPath, scenario) -> None:
    """Every reception centre: arrivals (the crossings' crossed), occupancy after its stay kernel."""
    names = path.network.world.crossing_names
    for name, reception in scenario.reception.items():
        arrived = sum((path.hourly.crossed[c] for c, crossing in enumerate(names)
                       if scenario.crossings[crossing].reception == name), np.zeros(path.network.n_bins))
        left = np.convolve(arrived, delay_kernel(reception.stay))[:len(arrived)]
        occupancy = _level_at_day_ends(arrived, left)
        key = (name, "reception")
        daily[(*key, "arrived_people")] = path.daily(arrived)
        daily[(*key, "occupancy_people")] = occupancy
        daily[(*key, "over_capacity_people")] = np.maximum(0.0, occupancy - reception.capacity)


def _group_series(daily, path: FluidPath, scenario) -> np.ndarray:
    """Every group's departures, deportations, crossings and stock, and the totals; returns the
    people crossed per hour of each group (split from each crossing's total in proportion to the
    groups' shares of its arrivals, first in, first out)."""
    hourly = path.hourly
    crossed_by_group = _crossed_by_group(path)
    for g, name in enumerate(path.network.world.group_names):
        key = (name, "group")
        departed = path.daily(hourly.departed[g])
        departed[0] += path.network.initial_people_by_group.get(name, 0.0)  # ``initial:``: departed at time 0
        daily[(*key, "departed_people")] = departed
        daily[(*key, "deported_people")] = path.daily(hourly.deported[g])
        daily[(*key, "crossed_people_cumulative")] = np.cumsum(path.daily(crossed_by_group[g]))
        daily[(*key, "remaining_stock_people")] = scenario.groups[name].people - np.cumsum(departed)
    crossed = np.cumsum(path.daily(hourly.crossed.sum(axis=0)))
    departed_all = np.cumsum(np.sum([daily[(name, "group", "departed_people")]
                                     for name in path.network.world.group_names], axis=0))
    daily[("all", "all", "crossed_people_cumulative")] = crossed
    daily[("all", "all", "departed_people_cumulative")] = departed_all
    daily[("all", "all", "in_pipeline_people")] = departed_all - crossed
    return crossed_by_group


def _crossed_by_group(path: FluidPath) -> np.ndarray:
    """[group, bin]: the crossed split among groups. One group: all of it. Several: each crossing's
    crossings in the groups' shares of the departures heading there (a share that drifts as the
    mix of departures does; ignoring that a camp or queue holds one group's people longer)."""
    hourly, network = path.hourly, path.network
    n_groups = len(network.groups)
    if n_groups == 1:
        return hourly.crossed.sum(axis=0, keepdims=True)
    weights = network.route_weights
    departed_to = np.zeros((n_groups, len(network.crossings), network.n_bins))
    for r, route in enumerate(network.world.routes):
        for g in range(n_groups):
            vol = hourly.departed[g] - hourly.deported[g]
            departed_to[g, route.crossing_id] += weights[r, 2 * g] * vol + weights[r, 2 * g + 1] * hourly.deported[g]
    cumulative_to = np.cumsum(departed_to, axis=-1)
    total_to = cumulative_to.sum(axis=0)
    crossed = np.zeros((n_groups, network.n_bins))
    for c in range(len(network.crossings)):
        cumulative_crossed = np.cumsum(hourly.crossed[c])
        for g in range(n_groups):
            share_of = np.interp(cumulative_crossed, total_to[c], cumulative_to[g, c])
            crossed[g] += np.diff(share_of, prepend=0.0)
    return crossed


def _target(path: FluidPath, scenario, totals: dict, crossed_by_group: np.ndarray) -> tuple[str, str]:
    """The target's figures and verdict, as the simulation defines them (DESIGN §3.10)."""
    target = scenario.target
    if target is None:
        totals.update(crossed_by_target_date=np.nan, departed_by_target_date=np.nan,
                      target_reached=np.nan, target_reached_hours=np.nan)
        return "", ""
    clock = path.network.world.clock
    names = path.network.world.group_names
    counted = [names.index(g) for g in (target.groups or names)]
    first = int(clock.hours_at(target.count_from or clock.start))
    last = int(clock.hours_after(target.by))
    crossed = crossed_by_group[counted].sum(axis=0)
    crossed[:first] = 0.0
    cumulative = np.cumsum(crossed)
    reached_bin = int(np.searchsorted(cumulative, target.people - 1e-6))
    if reached_bin < len(cumulative):
        before = cumulative[reached_bin - 1] if reached_bin else 0.0
        reached_hours = reached_bin + (target.people - before) / max(crossed[reached_bin], 1e-12)
    else:
        reached_hours = np.inf
    departed = path.hourly.departed[counted].sum(axis=0)[:last].sum()
    crossed_by = float(cumulative[last - 1]) if last else 0.0
    totals.update(crossed_by_target_date=crossed_by, departed_by_target_date=float(departed),
                  target_reached=float(reached_hours < last), target_reached_hours=float(reached_hours))
    if reached_hours < last:
        return VERDICT_REACHED, ""
    if departed < target.people:
        return VERDICT_DEPARTURES_BIND, ""
    return VERDICT_CAPACITY_BINDS, _where_people_wait(path, last)


def _where_people_wait(path: FluidPath, hours: int) -> str:
    """The place holding most of the departed-but-not-crossed people at ``hours`` (all groups)."""
    hourly, network = path.hourly, path.network
    upto = slice(0, hours)
    camp_arrived = by_camp(network, hourly.camp_route_arrived)[:, upto].sum(axis=1)
    camp_entered = by_camp(network, hourly.camp_route_entered)[:, upto].sum(axis=1)
    camp_left = by_camp(network, hourly.camp_route_left)[:, upto].sum(axis=1)
    arrived = (hourly.crossing_arrived - hourly.crossing_rerouted)[:, upto].sum(axis=1)
    started = hourly.crossing_started[:, upto].sum(axis=1)
    crossed = hourly.crossed[:, upto].sum(axis=1)
    people: dict[str, float] = {}
    for c, camp in enumerate(network.camps):
        people[f"waiting outside camp {camp.name}"] = camp_arrived[c] - camp_entered[c]
        people[f"in camp {camp.name}"] = camp_entered[c] - camp_left[c]
    for c, crossing in enumerate(network.crossings):
        people[f"queued at {crossing.name}"] = arrived[c] - started[c]
        people[f"in service at {crossing.name}"] = started[c] - crossed[c]
    departed = hourly.departed[:, upto].sum()
    people["travelling"] = departed - sum(people.values()) - crossed.sum()
    return max(people, key=people.__getitem__)
