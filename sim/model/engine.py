"""Build the SimPy world from a scenario, run one replication, and return its counters.

One replication is: draw every household's variates (``sim.model.households``), compute each
crossing's capacity timeline (``sim.model.capacity``), wire camps and crossings together with
callbacks on SimPy events, run the clock to the end of the period, check that every person is
somewhere (conservation), and turn the per-household timestamps into daily counters
(``sim.model.timestamps``, ``sim.model.outcomes``). The engine never prints, reads files or imports
pandas.
"""
from __future__ import annotations

import gc
from collections import deque
from typing import NamedTuple

import numpy as np
import simpy

from sim.model.camps import Camp, CampRecords
from sim.model.capacity import CapacityTimeline, build_timeline
from sim.model.crossed import ALL_COUNTERS, CROSSED, crossed_people_per_day
from sim.model.crossings import Crossing, CrossingRecords, RerouteRule
from sim.model.environment import Environment
from sim.model.households import NO_NODE, HouseholdTable, draw_households
from sim.model.outcome import ReplicationOutcome
from sim.model.outcomes import build_outcome
from sim.model.reusable_events import ReusableEvents
from sim.model.timestamps import Timestamps
from sim.model.world import World, build_world, dispatch_hours

__all__ = ["ConservationError", "World", "build_world", "run_replication"]


class ConservationError(RuntimeError):
    """People were created or lost: a bug in the model, never a property of the scenario."""


class _Transit:
    """People on a leg whose arrival is an event: camp → crossing, or a reroute."""

    people = 0


def run_replication(scenario, replication: int, seed: int | None = None, trace: bool = False,
                    world: World | None = None, counters: str = ALL_COUNTERS
                    ) -> ReplicationOutcome | dict[str, np.ndarray]:
    """Simulate one replication of ``scenario`` and return its daily counters and totals; with
    ``counters="crossed"`` only the people crossed per day at each crossing (``sim.model.crossed``)."""
    seed = scenario.run.seed if seed is None else seed
    world = world or build_world(scenario)
    clock = world.clock
    households = draw_households(scenario, clock, world.routes, world.crossing_names, world.camp_names,
                                 seed, replication)
    timelines = [build_timeline(name, scenario.crossings[name], scenario.slowdowns, scenario.disruptions,
                                clock, seed, replication) for name in world.crossing_names]
    gc_was_enabled = gc.isenabled()
    gc.disable()  # the loop allocates many short-lived events and no cycles: collection is wasted work
    env = Environment()
    crossings: list[Crossing] = []
    camps: list[Camp] = []
    try:
        ranked, crossing_records, camp_records, transit = _simulate(env, scenario, world, households,
                                                                    timelines, crossings, camps)
        timestamps = Timestamps.collect(world, scenario, households, timelines, ranked, crossing_records,
                                        camp_records, [crossing.scheduled_members for crossing in crossings],
                                        [crossing.joined for crossing in crossings])
        _check_conservation(scenario, world, households, timestamps, crossings, camps, transit)
    finally:
        _release(env, crossings, camps)
        if gc_was_enabled:
            gc.enable()
    if counters == CROSSED:
        return crossed_people_per_day(world, households, timestamps)
    return build_outcome(scenario, world, households, timestamps, timelines, replication, trace)


def _release(env: simpy.Environment, crossings: list[Crossing], camps: list[Camp]) -> None:
    """Break the reference cycles of a finished replication, so that its memory is freed now.

    SimPy events point to their environment and, through their callbacks, to the crossings and
    camps, whose closures and processes point back: without this, each replication would leave
    tens of MiB of per-household lists to the cyclic garbage collector, which runs rarely — a
    process running replications one after another would grow by that much each time. Emptying
    the event queue and the nodes' attributes lets reference counting free everything at once
    (cheaper than a full ``gc.collect()``, which walks every object of the process)."""
    env._queue.clear()
    for node in (*crossings, *camps):
        records = getattr(node, "records", None)  # shared by all crossings (or all camps)
        if records is not None:
            vars(records).clear()
        # A hot callback is a closure kept in a callbacks list that the closure itself refers to
        # (it re-arms its event with that list): a cycle holding every list the closure reads —
        # on the baseline 35,000 withdrawable commitments — which only the cyclic collector
        # would free, walking each of them (35–50 ms per replication). Emptied, it falls apart.
        for value in vars(node).values():
            if isinstance(value, (list, deque)):
                value.clear()
        vars(node).clear()


def _arrival_ranks(households: HouseholdTable, horizon_hours: float) -> np.ndarray:
    """The households that arrive (at their camp or crossing) within the period, in arrival order,
    ties in household order: the engine numbers households by this rank.

    Numbered in arrival order, the households' per-household lists are read and written nearly
    in sequence during the run instead of at random places in memory (the household index follows
    the order of the stock, which is random in time), and the households that never arrive
    within the period take no room at all. When the draws gave the order of departure (a
    schedule) and no two arrive at once, a stable sort of the arrivals in that order only has to
    undo the shuffling by travel times; otherwise a quick sort, and a stable one on ties."""
    if households.departure_order is not None:
        departing = households.departure_order
        arrive_hours = households.arrive_hours[departing]
        order = np.argsort(arrive_hours, kind="stable")
        arrive_hours = arrive_hours[order]
        if not np.any(arrive_hours[1:] == arrive_hours[:-1]):
            return departing[order][arrive_hours < horizon_hours]
    inside = np.flatnonzero(households.arrive_hours < horizon_hours)
    order = np.argsort(households.arrive_hours[inside])
    times = households.arrive_hours[inside][order]
    if np.any(times[1:] == times[:-1]):
        order = np.argsort(households.arrive_hours[inside], kind="stable")  # ties in household order
    return inside[order]


class _ByRank(NamedTuple):
    """What the wiring reads of every household that arrives within the period, by arrival rank
    (gathered once: reading household order at random is the costly part)."""

    arrive_hours: np.ndarray
    crossing_id: np.ndarray
    camp_id: np.ndarray


def _simulate(env: simpy.Environment, scenario, world: World, households: HouseholdTable,
              timelines: list[CapacityTimeline], crossings: list[Crossing], camps: list[Camp]):
    """Wire the crossings and camps (appended to the lists given) and run the clock to the horizon.

    Inside the run a household is its arrival rank (see ``_arrival_ranks``); the records come back
    by rank with ``ranked``, the household of each rank. Drawn values that the loop reads once per
    household are handed over as memoryviews of numpy arrays (a Python float per read, none built
    up front); the records it writes are lists (cheaper to assign)."""
    horizon = world.clock.horizon_hours
    ranked = _arrival_ranks(households, horizon)
    by_rank = _ByRank(households.arrive_hours[ranked], households.crossing_id[ranked], households.camp_id[ranked])
    size_people = households.size_people[ranked].tolist()
    crossing_records = CrossingRecords(len(ranked))
    camp_records = CampRecords(len(ranked))
    transit = _Transit()

    def send_to(crossing_id: int):
        def arrive(household: int) -> None:
            transit.people -= size_people[household]
            crossings[crossing_id].arrive(household)

        arrivals = ReusableEvents(env, arrive)

        def send(household: int, travel_hours: float) -> None:
            transit.people += size_people[household]
            arrivals.schedule(travel_hours, household)

        return send

    senders = [send_to(c) for c in range(len(world.crossing_names))]
    crossings += _wire_crossings(env, scenario, world, households, timelines, ranked, by_rank, size_people,
                                 crossing_records, senders)
    camps += _wire_camps(env, scenario, world, households, ranked, by_rank, size_people, camp_records, senders)
    env.run(until=horizon)
    return ranked, crossing_records, camp_records, transit


def _wire_crossings(env, scenario, world: World, households: HouseholdTable, timelines: list[CapacityTimeline],
                    ranked: np.ndarray, by_rank: _ByRank, size_people: list[int],
                    crossing_records: CrossingRecords, senders) -> list[Crossing]:
    """One :class:`Crossing` per crossing, fed directly with the households that reach it without a
    camp (in arrival order), with its reroute rule where it has one."""
    arrive_hours, crossing_of, camp_of = by_rank
    crossings = []
    for crossing_id, name in enumerate(world.crossing_names):
        spec = scenario.crossings[name]
        members = np.flatnonzero((crossing_of == crossing_id) & (camp_of == NO_NODE))  # ranks: in arrival order
        reroute = None
        if spec.reroute is not None:
            reroute = RerouteRule(
                after_hours=spec.reroute.after,
                share=spec.reroute.share,
                draw=memoryview(households.reroute_draw[crossing_id][ranked]),
                travel_hours=memoryview(households.reroute_travel_hours[crossing_id][ranked]),
                scheduled_arrival_hours=memoryview(arrive_hours),
                send=senders[world.crossing_names.index(spec.reroute.to)],
            )
        fed_by_camp = any(route.crossing_id == crossing_id and route.camp_id != NO_NODE for route in world.routes)
        rerouted_into = any(other.reroute is not None and other.reroute.to == name
                            for other in scenario.crossings.values())
        crossing = Crossing(
            env, crossing_id, spec.lanes, timelines[crossing_id], fed_by_camp or rerouted_into,
            arrive_hours[members].tolist(), members.tolist(), size_people,
            memoryview(_service_by_rank(households, ranked, crossing_of, crossing_id, rerouted_into)),
            crossing_records, reroute,
        )
        crossing.scheduled_members = members  # for the recorder: this queue's arrivals in time order
        crossings.append(crossing)
    return crossings


def _service_by_rank(households: HouseholdTable, ranked: np.ndarray, crossing_of: np.ndarray, crossing_id: int,
                     rerouted_into: bool) -> np.ndarray:
    """The drawn service hours at this crossing, by arrival rank. Only the households that can be
    served here are read: those routed here, and anyone where a reroute leads here; the others'
    entries are NaN (never read). Gathering only those from household order saves random reads,
    which dominate at a million households."""
    service_hours = households.service_hours[crossing_id]
    if rerouted_into:
        return service_hours[ranked]
    hours_by_rank = np.full(len(ranked), np.nan)
    routed_here = np.flatnonzero(crossing_of == crossing_id)
    hours_by_rank[routed_here] = service_hours[ranked[routed_here]]
    return hours_by_rank


def _wire_camps(env, scenario, world: World, households: HouseholdTable, ranked: np.ndarray, by_rank: _ByRank,
                size_people: list[int], camp_records: CampRecords, senders) -> list[Camp]:
    """One :class:`Camp` per camp, fed with its households in arrival order; a household leaving a
    camp is sent on to its crossing."""
    if not world.camp_names:
        return []
    arrive_hours, crossing_of, camp_of = by_rank
    crossing_of_rank = crossing_of.tolist()

    def send_onward(household: int, onward_hours: float) -> None:
        senders[crossing_of_rank[household]](household, onward_hours)

    stay = memoryview(households.camp_stay_hours[ranked])
    onward = memoryview(households.onward_hours[ranked])
    camps = []
    for camp_id, name in enumerate(world.camp_names):
        spec = scenario.camps[name]
        camp = Camp(env, spec.capacity, size_people, stay, onward,
                    dispatch_hours(spec.dispatch, world.clock) if spec.dispatch else None,
                    spec.dispatch.max_people if spec.dispatch else None, camp_records, send_onward)
        members = np.flatnonzero(camp_of == camp_id)
        camp.feed(arrive_hours[members].tolist(), members.tolist())
        camps.append(camp)
    return camps


def _check_conservation(scenario, world: World, households: HouseholdTable, timestamps: Timestamps,
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


