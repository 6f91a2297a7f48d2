"""Build the SimPy world from a scenario, run one replication, and return its counters.

One replication is: draw every household's variates (``sim.model.households``), compute each
crossing's capacity timeline (``sim.model.capacity``), wire camps and crossings together with
callbacks on SimPy events, run the clock to the end of the period, check that every person is
somewhere (conservation), and turn the per-household timestamps into daily counters
(``sim.model.recorder``). The engine never prints, reads files or imports pandas.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass

import numpy as np
import simpy

from sim.model import recorder
from sim.model.camps import Camp, CampRecords
from sim.model.capacity import CapacityTimeline, build_timeline
from sim.model.clock import HOURS_PER_DAY, Clock
from sim.model.crossings import NOT_REROUTED, Crossing, CrossingRecords, RerouteRule
from sim.model.households import NO_NODE, HouseholdTable, RouteSpec, draw_households
from sim.outcome import (
    VERDICT_CAPACITY_BINDS,
    VERDICT_DEPARTURES_BIND,
    VERDICT_REACHED,
    ReplicationOutcome,
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConservationError(RuntimeError):
    """People were created or lost: a bug in the model, never a property of the scenario."""


@dataclass
class World:
    """The static layout of a scenario, shared by all its replications."""

    clock: Clock
    crossing_names: list[str]
    camp_names: list[str]
    reception_names: list[str]
    group_names: list[str]
    routes: list[RouteSpec]


def build_world(scenario) -> World:
    crossing_names = list(scenario.crossings)
    camp_names = list(scenario.camps)
    routes = []
    for origin_name, origin in scenario.origins.items():
        for index, route in enumerate(origin.routes):
            routes.append(RouteSpec(
                origin=origin_name,
                index=index,
                crossing_id=crossing_names.index(route.crossing),
                camp_id=camp_names.index(route.via) if route.via is not None else NO_NODE,
                travel=route.travel,
                onward=route.onward,
                voluntary_share=route.voluntary,
                deported_share=route.voluntary if route.deported is None else route.deported,
            ))
    return World(
        clock=Clock(scenario.period.start, scenario.period.end),
        crossing_names=crossing_names,
        camp_names=camp_names,
        reception_names=list(scenario.reception),
        group_names=list(scenario.groups),
        routes=routes,
    )


def dispatch_hours(dispatch, clock: Clock) -> list[float]:
    """Every dispatch instant of a camp within the period, in hours."""
    days = {WEEKDAYS.index(day) for day in dispatch.days}
    return [day * HOURS_PER_DAY + dispatch.at for day in range(clock.n_days)
            if clock.date_of(day).weekday() in days and day * HOURS_PER_DAY + dispatch.at < clock.horizon_hours]


class _Transit:
    """People on a leg whose arrival is an event: camp → crossing, or a reroute."""

    people = 0


def run_replication(scenario, replication: int, seed: int | None = None, trace: bool = False,
                    world: World | None = None) -> ReplicationOutcome:
    """Simulate one replication of ``scenario`` and return its daily counters and totals."""
    seed = scenario.run.seed if seed is None else seed
    world = world or build_world(scenario)
    clock = world.clock
    households = draw_households(scenario, clock, world.routes, world.crossing_names, world.camp_names,
                                 seed, replication)
    timelines = [build_timeline(name, scenario.crossings[name], scenario.slowdowns, scenario.disruptions,
                                clock, seed, replication) for name in world.crossing_names]
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the loop allocates many short-lived events and no cycles: collection is wasted work
    try:
        crossings, camps, crossing_records, camp_records, transit = _simulate(
            scenario, world, households, timelines)
    finally:
        if gc_was_enabled:
            gc.enable()
    timestamps = _Timestamps.collect(world, scenario, households, timelines, crossing_records, camp_records)
    _check_conservation(scenario, world, households, timestamps, crossings, camps, transit)
    return _outcome(scenario, world, households, timestamps, timelines, replication, trace)


def _simulate(scenario, world: World, households: HouseholdTable, timelines: list[CapacityTimeline]):
    clock = world.clock
    horizon = clock.horizon_hours
    env = simpy.Environment()
    size_people = households.size_people.tolist()
    starts_in_period = households.depart_hours < horizon
    direct = starts_in_period & (households.camp_id == NO_NODE)
    crossing_records = CrossingRecords(len(households))
    camp_records = CampRecords(len(households))
    transit = _Transit()
    crossings: list[Crossing] = []

    def send_to(crossing_id: int):
        def arrive(event: simpy.Event) -> None:
            transit.people -= size_people[event._value]
            crossings[crossing_id].arrive(event._value)

        def send(household: int, travel_hours: float) -> None:
            transit.people += size_people[household]
            env.timeout(travel_hours, household).callbacks.append(arrive)

        return send

    senders = [send_to(c) for c in range(len(world.crossing_names))]

    for crossing_id, name in enumerate(world.crossing_names):
        spec = scenario.crossings[name]
        members = np.flatnonzero(direct & (households.crossing_id == crossing_id)
                                 & (households.arrive_hours < horizon))
        members = members[np.argsort(households.arrive_hours[members], kind="stable")]
        reroute = None
        if spec.reroute is not None:
            reroute = RerouteRule(
                after_hours=spec.reroute.after,
                share=spec.reroute.share,
                draw=households.reroute_draw[crossing_id].tolist(),
                travel_hours=households.reroute_travel_hours[crossing_id].tolist(),
                scheduled_arrival_hours=households.arrive_hours.tolist(),
                send=senders[world.crossing_names.index(spec.reroute.to)],
            )
        fed_by_camp = any(route.crossing_id == crossing_id and route.camp_id != NO_NODE for route in world.routes)
        rerouted_into = any(other.reroute is not None and other.reroute.to == name
                            for other in scenario.crossings.values())
        crossings.append(Crossing(
            env, crossing_id, spec.lanes, timelines[crossing_id], fed_by_camp or rerouted_into,
            households.arrive_hours[members].tolist(), members.tolist(), size_people,
            households.service_hours[crossing_id].tolist(), crossing_records, reroute,
        ))

    def send_onward(household: int, onward_hours: float) -> None:
        senders[households.crossing_id[household]](household, onward_hours)

    camps: list[Camp] = []
    stay = households.camp_stay_hours.tolist()
    onward = households.onward_hours.tolist()
    for camp_id, name in enumerate(world.camp_names):
        spec = scenario.camps[name]
        camp = Camp(env, spec.capacity, size_people, stay, onward,
                    dispatch_hours(spec.dispatch, clock) if spec.dispatch else None,
                    spec.dispatch.max_people if spec.dispatch else None, camp_records, send_onward)
        members = np.flatnonzero(starts_in_period & (households.camp_id == camp_id)
                                 & (households.arrive_hours < horizon))
        members = members[np.argsort(households.arrive_hours[members], kind="stable")]
        env.process(camp.feed(households.arrive_hours[members].tolist(), members.tolist()))
        camps.append(camp)

    env.run(until=horizon)
    return crossings, camps, crossing_records, camp_records, transit


def _as_array(values: list[float], used: bool) -> np.ndarray:
    """A timestamp list as an array; one the scenario cannot have written is all ``inf``."""
    return np.asarray(values) if used else np.full(len(values), np.inf)


@dataclass
class _Timestamps:
    """The per-household timestamps of one replication as numpy arrays."""

    queue_arrival: np.ndarray  # first queue joined
    start: np.ndarray
    end: np.ndarray
    served_at: np.ndarray
    left_queue: np.ndarray  # crossing rerouted away from, or NOT_REROUTED
    reroute_leave: np.ndarray
    reroute_arrival: np.ndarray
    reroute_to: np.ndarray  # the crossing of the second queue, NO_NODE if none
    camp_enter: np.ndarray
    camp_leave: np.ndarray

    @classmethod
    def collect(cls, world: World, scenario, households: HouseholdTable, timelines: list[CapacityTimeline],
                crossing_records: CrossingRecords, camp_records: CampRecords) -> _Timestamps:
        any_reroute = any(crossing.reroute is not None for crossing in scenario.crossings.values())
        horizon = world.clock.horizon_hours
        n = len(households)
        left_queue = (np.asarray(crossing_records.left_queue, dtype=np.int64) if any_reroute
                      else np.full(n, NOT_REROUTED, dtype=np.int64))
        # Where a household that rerouted away from crossing c went: c's reroute target.
        target_of = np.array([
            world.crossing_names.index(scenario.crossings[name].reroute.to)
            if scenario.crossings[name].reroute is not None else NO_NODE
            for name in world.crossing_names] + [NO_NODE], dtype=np.int64)
        reroute_to = target_of[left_queue]  # NOT_REROUTED (-1) picks the trailing NO_NODE
        reroute_arrival = _as_array(crossing_records.reroute_arrival_hours, any_reroute)
        start = np.asarray(crossing_records.start_hours)
        started = np.isfinite(start)
        served_at = np.where(started, np.where(np.isfinite(reroute_arrival), reroute_to, households.crossing_id),
                             NO_NODE)
        # The loop records only the start; the end is start + drawn service / factor at the start,
        # the same arithmetic as in the loop, so the values are identical.
        end = np.full(len(households), np.inf)
        for crossing_id, timeline in enumerate(timelines):
            here = np.flatnonzero(served_at == crossing_id)
            factors = np.array([state.factor for state in timeline.states])
            state_index = np.searchsorted(timeline.change_hours, start[here], side="right") - 1
            end[here] = start[here] + households.service_hours[crossing_id][here] / factors[state_index]
        return cls(
            queue_arrival=np.where((households.camp_id == NO_NODE) & (households.arrive_hours < horizon),
                                   households.arrive_hours, np.asarray(crossing_records.queue_arrival_hours)),
            start=start,
            end=end,
            served_at=served_at,
            left_queue=left_queue,
            reroute_leave=_as_array(crossing_records.reroute_leave_hours, any_reroute),
            reroute_arrival=reroute_arrival,
            reroute_to=reroute_to,
            camp_enter=_as_array(camp_records.enter_hours, bool(scenario.camps)),
            camp_leave=_as_array(camp_records.leave_hours, bool(scenario.camps)),
        )

    def queue_intervals(self, households: HouseholdTable, crossing_id: int) -> tuple[np.ndarray, ...]:
        """(join, leave, people) of every stay in this crossing's queue: first queues and rerouted
        arrivals; a stay ends when service starts or the household reroutes away."""
        size = households.size_people
        first = (households.crossing_id == crossing_id) & np.isfinite(self.queue_arrival)
        first_leave = np.where(self.left_queue == crossing_id, self.reroute_leave, self.start)
        second = (self.reroute_to == crossing_id) & np.isfinite(self.reroute_arrival)
        return (np.concatenate([self.queue_arrival[first], self.reroute_arrival[second]]),
                np.concatenate([first_leave[first], self.start[second]]),
                np.concatenate([size[first], size[second]]).astype(float))

    def locations_at(self, households: HouseholdTable, world: World, hours: float) -> dict[str, np.ndarray]:
        """Boolean masks of where each household is at ``hours`` (events before ``hours`` done)."""
        departed = households.depart_hours < hours
        crossed = self.end < hours
        in_camp_route = households.camp_id != NO_NODE
        not_arrived = departed & (households.arrive_hours >= hours)
        outside_camp = departed & in_camp_route & ~not_arrived & (self.camp_enter >= hours)
        in_camp = departed & in_camp_route & (self.camp_enter < hours) & (self.camp_leave >= hours)
        onward = departed & in_camp_route & (self.camp_leave < hours) & ~(self.queue_arrival < hours)
        rerouting = (self.reroute_leave < hours) & ~(self.reroute_arrival < hours)
        joined = np.where(self.reroute_arrival < hours, True, self.queue_arrival < hours)
        queued = joined & ~rerouting & (self.start >= hours)
        in_service = (self.start < hours) & ~crossed
        return {
            "stock": ~departed,
            "travelling": not_arrived | onward | rerouting,
            "waiting_outside": outside_camp,
            "in_camp": in_camp,
            "queued": queued,
            "in_service": in_service,
            "crossed": crossed,
        }


def _check_conservation(scenario, world: World, households: HouseholdTable, timestamps: _Timestamps,
                        crossings: list[Crossing], camps: list[Camp], transit: _Transit) -> None:
    """DESIGN §3.11: stocks + travelling + camps + outside + queued + in service + crossed = total,
    from the live state of the model, and each term equal to what the timestamps say."""
    horizon = world.clock.horizon_hours
    size = households.size_people
    total = sum(group.people for group in scenario.groups.values())
    locations = timestamps.locations_at(households, world, horizon)
    recorded = {name: int(size[mask].sum()) for name, mask in locations.items()}
    not_arrived = (households.depart_hours < horizon) & (households.arrive_hours >= horizon)
    live = {
        "stock": int(size[households.depart_hours >= horizon].sum()),
        "travelling": int(size[not_arrived].sum()) + transit.people,
        "waiting_outside": sum(camp.outside_people for camp in camps),
        "in_camp": sum(camp.occupancy_people for camp in camps),
        "queued": sum(crossing.queued_people(horizon) for crossing in crossings),
        "in_service": sum(crossing.in_service_people() for crossing in crossings),
    }
    # Whoever is in none of the live places has crossed: compared below with the recorded ends.
    live["crossed"] = total - sum(live.values())
    problems = []
    if int(size.sum()) != total:
        problems.append(f"households hold {int(size.sum())} people, groups {total}")
    if live["crossed"] < 0:
        problems.append(f"live state holds more people than the groups' {total}: {live}")
    if live != recorded:
        problems.append(f"live state {live} differs from the recorded timestamps {recorded}")
    if problems:
        raise ConservationError("conservation of people violated: " + "; ".join(problems))


def _outcome(scenario, world: World, households: HouseholdTable, timestamps: _Timestamps,
             timelines: list[CapacityTimeline], replication: int, trace: bool) -> ReplicationOutcome:
    clock = world.clock
    n_days = clock.n_days
    horizon = clock.horizon_hours
    size = households.size_people.astype(float)
    daily: dict[tuple[str, str, str], np.ndarray] = {}
    ts = timestamps
    served = ts.start < horizon
    with np.errstate(invalid="ignore"):  # never-served households: inf - inf, masked out below
        wait = ts.start - np.where(ts.reroute_arrival < np.inf, ts.reroute_arrival, ts.queue_arrival)

    all_queue_join, all_queue_leave, all_queue_people = [], [], []
    for crossing_id, name in enumerate(world.crossing_names):
        join, leave, people = ts.queue_intervals(households, crossing_id)
        all_queue_join.append(join)
        all_queue_leave.append(leave)
        all_queue_people.append(people)
        here = served & (ts.served_at == crossing_id)
        wait_mean, wait_p95 = recorder.daily_wait_statistics(ts.start[here], wait[here], size[here], n_days)
        lane_hours = scenario.crossings[name].lanes * timelines[crossing_id].open_hours_per_day(n_days)
        busy = recorder.busy_hours_per_day(ts.start[here], ts.end[here], n_days)
        key = (name, "crossing")
        daily[(*key, "arrived_people")] = recorder.daily_sum(join, people, n_days)
        daily[(*key, "crossed_people")] = recorder.daily_sum(ts.end[ts.served_at == crossing_id],
                                                             size[ts.served_at == crossing_id], n_days)
        daily[(*key, "queue_people")] = recorder.levels_at_day_ends(join, leave, people, n_days)
        daily[(*key, "queue_people_mean")] = recorder.daily_integrals(join, leave, people, n_days) / HOURS_PER_DAY
        daily[(*key, "queue_people_peak")] = recorder.daily_peaks(join, leave, people, n_days)
        daily[(*key, "wait_hours_mean")] = wait_mean
        daily[(*key, "wait_hours_p95")] = wait_p95
        daily[(*key, "utilisation")] = np.divide(busy, lane_hours, out=np.zeros(n_days), where=lane_hours > 0)

    outside_join, outside_leave, outside_people = [], [], []
    for camp_id, name in enumerate(world.camp_names):
        members = (households.camp_id == camp_id) & (households.depart_hours < horizon) \
            & (households.arrive_hours < horizon)
        arrive, enter, leave = households.arrive_hours[members], ts.camp_enter[members], ts.camp_leave[members]
        people = size[members]
        outside_join.append(arrive)
        outside_leave.append(enter)
        outside_people.append(people)
        key = (name, "camp")
        daily[(*key, "arrived_people")] = recorder.daily_sum(arrive, people, n_days)
        daily[(*key, "occupancy_people")] = recorder.levels_at_day_ends(enter, leave, people, n_days)
        daily[(*key, "waiting_outside_people")] = recorder.levels_at_day_ends(arrive, enter, people, n_days)
        daily[(*key, "waiting_outside_people_days")] = \
            recorder.daily_integrals(arrive, enter, people, n_days) / HOURS_PER_DAY

    for reception_id, name in enumerate(world.reception_names):
        crossing_ids = [c for c, crossing in enumerate(world.crossing_names)
                        if scenario.crossings[crossing].reception == name]
        members = served & np.isin(ts.served_at, crossing_ids)
        enter = ts.end[members]
        leave = enter + households.reception_stay_hours[reception_id][members]
        people = size[members]
        occupancy = recorder.levels_at_day_ends(enter, leave, people, n_days)
        key = (name, "reception")
        daily[(*key, "arrived_people")] = recorder.daily_sum(enter, people, n_days)
        daily[(*key, "occupancy_people")] = occupancy
        daily[(*key, "over_capacity_people")] = np.maximum(0.0, occupancy - scenario.reception[name].capacity)

    crossed_daily_total = np.zeros(n_days)
    departed_daily_total = np.zeros(n_days)
    for group_id, name in enumerate(world.group_names):
        members = households.group_id == group_id
        group_people = scenario.groups[name].people
        departed = recorder.daily_sum(households.depart_hours[members], size[members], n_days)
        crossed = recorder.daily_sum(ts.end[members], size[members], n_days)
        deported = members & households.deported
        key = (name, "group")
        daily[(*key, "departed_people")] = departed
        daily[(*key, "deported_people")] = recorder.daily_sum(households.depart_hours[deported], size[deported], n_days)
        daily[(*key, "crossed_people_cumulative")] = np.cumsum(crossed)
        daily[(*key, "remaining_stock_people")] = group_people - np.cumsum(departed)
        crossed_daily_total += crossed
        departed_daily_total += departed
    daily[("all", "all", "crossed_people_cumulative")] = np.cumsum(crossed_daily_total)
    daily[("all", "all", "departed_people_cumulative")] = np.cumsum(departed_daily_total)
    daily[("all", "all", "in_pipeline_people")] = np.cumsum(departed_daily_total) - np.cumsum(crossed_daily_total)

    queue_join = np.concatenate(all_queue_join)
    queue_leave = np.concatenate(all_queue_leave)
    queue_people = np.concatenate(all_queue_people)
    outside = [np.concatenate(parts) if parts else np.zeros(0) for parts in (outside_join, outside_leave, outside_people)]
    totals = {
        "peak_queue_people": float(recorder.daily_peaks(queue_join, queue_leave, queue_people, n_days).max(initial=0)),
        "peak_waiting_outside_people": float(recorder.daily_peaks(*outside, n_days).max(initial=0)),
        "wait_hours_p95": recorder.weighted_percentile(wait[served], size[served], 0.95),
        "unserved_people": float(daily[("all", "all", "in_pipeline_people")][-1]),
    }
    verdict, where = _target(scenario, world, households, ts, totals)
    return ReplicationOutcome(replication=replication, daily=daily, totals=totals, verdict=verdict,
                              binding_where=where, trace=_trace(households, ts) if trace else {})


def _target(scenario, world: World, households: HouseholdTable, ts: _Timestamps,
            totals: dict[str, float]) -> tuple[str, str]:
    """DESIGN §3.10: people of the target's groups crossing in [count_from, end of by]; the verdict."""
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
    counted = counted_group & (ts.end >= window_start) & np.isfinite(ts.end)
    crossing_hours = ts.end[counted]
    order = np.argsort(crossing_hours, kind="stable")
    cumulative = np.cumsum(size[counted][order])
    reached_index = np.searchsorted(cumulative, target.people, side="left")
    reached_hours = float(crossing_hours[order][reached_index]) if reached_index < len(cumulative) else np.inf
    reached = reached_hours < window_end
    crossed_before_window = ts.end < window_start
    departed = counted_group & (households.depart_hours < window_end) & ~crossed_before_window
    totals.update(
        crossed_by_target_date=float(size[counted & (ts.end < window_end)].sum()),
        departed_by_target_date=float(size[departed].sum()),
        target_reached=float(reached),
        target_reached_hours=reached_hours,
    )
    if reached:
        return VERDICT_REACHED, ""
    if totals["departed_by_target_date"] < target.people:
        return VERDICT_DEPARTURES_BIND, ""
    return VERDICT_CAPACITY_BINDS, _where_people_wait(world, households, ts, window_end, counted_group)


def _where_people_wait(world: World, households: HouseholdTable, ts: _Timestamps, hours: float,
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


def _trace(households: HouseholdTable, ts: _Timestamps) -> dict[str, np.ndarray]:
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
