"""The per-household timestamps of one replication as numpy arrays, and what follows from them.

The event loop records as little as it can (see ``sim.model.crossings`` and ``sim.model.camps``);
here those lists become arrays, the service ends are recomputed exactly (start + drawn service ÷
factor at the start), and every household can be placed at any instant: in its stock, travelling,
waiting outside or inside a camp, queued, in service, or crossed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.camps import CampRecords
from sim.model.capacity import CapacityTimeline
from sim.model.crossings import NOT_REROUTED, CrossingRecords
from sim.model.households import NO_NODE, HouseholdTable
from sim.model.world import World


def by_household(values: list, ranked: np.ndarray, n_households: int, fill=np.inf,
                 dtype=np.float64) -> np.ndarray:
    """Values the run recorded by arrival rank, as an array in household order (``fill`` where a
    household never arrived within the period)."""
    out = np.full(n_households, fill, dtype=dtype)
    # fromiter with the dtype given: several times faster than np.asarray guessing it.
    out[ranked] = np.fromiter(values, dtype=dtype, count=len(values))
    return out


def _as_array(values: list[float], ranked: np.ndarray, n_households: int, used: bool) -> np.ndarray:
    """A timestamp list as an array; one the scenario cannot have written is all ``inf``."""
    return by_household(values, ranked, n_households) if used else np.full(n_households, np.inf)


def _join_order(scheduled: np.ndarray, joined: np.ndarray, join_hours: np.ndarray) -> np.ndarray:
    """The households of one queue in the order they joined it: the scheduled arrivals (already in
    time order) merged with those that came from camps or reroutes (recorded in time order). A
    stable sort of two sorted runs is a linear merge; at equal times the scheduled come first, as
    in the queue (they are admitted before a dynamic arrival is appended)."""
    if not len(joined):
        return scheduled
    households = np.concatenate([scheduled, joined])
    return households[np.argsort(join_hours[households], kind="stable")]


@dataclass
class Timestamps:
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
    # Per crossing: the households that joined its queue, in the order they joined. Service
    # starts are FIFO, so along this order the starts are sorted too, and the recorder's sorts
    # become merges of sorted runs instead of sorts of households in random order.
    join_order: list[np.ndarray]
    any_reroute: bool

    @classmethod
    def collect(cls, world: World, scenario, households: HouseholdTable, timelines: list[CapacityTimeline],
                ranked: np.ndarray, crossing_records: CrossingRecords, camp_records: CampRecords,
                scheduled: list[np.ndarray], joined: list[list[int]]) -> Timestamps:
        """The records of a run, kept by arrival rank (``ranked[rank]`` is the household), as
        arrays in household order. ``scheduled[c]``: the ranks known to arrive at crossing ``c``,
        in time order; ``joined[c]``: those that joined it during the run (from camps, rerouted),
        in order."""
        any_reroute = any(crossing.reroute is not None for crossing in scenario.crossings.values())
        horizon = world.clock.horizon_hours
        n = len(households)
        left_queue = (by_household(crossing_records.left_queue, ranked, n, NOT_REROUTED, np.int64) if any_reroute
                      else np.full(n, NOT_REROUTED, dtype=np.int64))
        # Where a household that rerouted away from crossing c went: c's reroute target.
        target_of = np.array([
            world.crossing_names.index(scenario.crossings[name].reroute.to)
            if scenario.crossings[name].reroute is not None else NO_NODE
            for name in world.crossing_names] + [NO_NODE], dtype=np.int64)
        reroute_to = target_of[left_queue] if any_reroute else np.full(n, NO_NODE, dtype=np.int64)
        reroute_arrival = _as_array(crossing_records.reroute_arrival_hours, ranked, n, any_reroute)
        start = by_household(crossing_records.start_hours, ranked, n)
        started = np.isfinite(start)
        served_here = (np.where(np.isfinite(reroute_arrival), reroute_to, households.crossing_id) if any_reroute
                       else households.crossing_id)
        served_at = np.where(started, served_here, NO_NODE)
        # The loop records only the start; the end is start + drawn service / factor at the start,
        # the same arithmetic as in the loop, so the values are identical.
        end = np.full(len(households), np.inf)
        for crossing_id, timeline in enumerate(timelines):
            here = np.flatnonzero(served_at == crossing_id)
            factors = np.array([state.factor for state in timeline.states])
            state_index = np.searchsorted(timeline.change_hours, start[here], side="right") - 1
            end[here] = start[here] + households.service_hours[crossing_id][here] / factors[state_index]
        if scenario.camps or any_reroute:
            queue_arrival = np.where((households.camp_id == NO_NODE) & (households.arrive_hours < horizon),
                                     households.arrive_hours,
                                     by_household(crossing_records.queue_arrival_hours, ranked, n))
        else:  # everyone goes straight to the border: the queue is joined on arrival
            queue_arrival = np.where(households.arrive_hours < horizon, households.arrive_hours, np.inf)
        join_hours = np.where(np.isfinite(reroute_arrival), reroute_arrival, queue_arrival) if any_reroute \
            else queue_arrival
        return cls(
            queue_arrival=queue_arrival,
            start=start,
            end=end,
            served_at=served_at,
            left_queue=left_queue,
            reroute_leave=_as_array(crossing_records.reroute_leave_hours, ranked, n, any_reroute),
            reroute_arrival=reroute_arrival,
            reroute_to=reroute_to,
            camp_enter=_as_array(camp_records.enter_hours, ranked, n, bool(scenario.camps)),
            camp_leave=_as_array(camp_records.leave_hours, ranked, n, bool(scenario.camps)),
            join_order=[_join_order(ranked[scheduled[c]], ranked[np.fromiter(joined[c], np.int64, len(joined[c]))],
                                    join_hours) for c in range(len(world.crossing_names))],
            any_reroute=any_reroute,
        )

    def queue_intervals(self, households: HouseholdTable, crossing_id: int) -> tuple[np.ndarray, ...]:
        """(join, leave, people) of every stay in this crossing's queue, in the order of joining:
        first queues and rerouted arrivals; a stay ends when service starts or the household
        reroutes away."""
        order = self.join_order[crossing_id]
        people = households.size_people[order].astype(float)
        if not self.any_reroute:
            return self.queue_arrival[order], self.start[order], people
        second = self.reroute_to[order] == crossing_id  # joined here after leaving another queue
        join = np.where(second, self.reroute_arrival[order], self.queue_arrival[order])
        leave = np.where(~second & (self.left_queue[order] == crossing_id), self.reroute_leave[order],
                         self.start[order])
        return join, leave, people

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
