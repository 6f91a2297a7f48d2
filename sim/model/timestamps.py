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


def _as_array(values: list[float], used: bool) -> np.ndarray:
    """A timestamp list as an array; one the scenario cannot have written is all ``inf``."""
    return np.asarray(values) if used else np.full(len(values), np.inf)


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

    @classmethod
    def collect(cls, world: World, scenario, households: HouseholdTable, timelines: list[CapacityTimeline],
                crossing_records: CrossingRecords, camp_records: CampRecords) -> Timestamps:
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
