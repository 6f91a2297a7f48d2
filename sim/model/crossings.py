"""A border crossing: one FIFO queue before a set of parallel processing lanes.

A lane starts a household's service only while the crossing is open (within its hours, capacity
factor above 0) and the day's quota allows it; the service lasts the household's drawn service
time divided by the factor at its start, is never rescaled, and always completes. A household
*crosses* when its service ends.

How it stays cheap (DESIGN §7): households are integer indices into pre-drawn lists; the queue is a
deque; there is no process per household. Arrivals known before the clock starts (everyone who
travels straight to the border) are *admitted lazily*: they sit in a sorted list and join the queue
when the crossing next looks at it (a service end, a capacity change, a wake-up). An arrival costs
an event only when it would find an idle lane. So a household costs one event (its service end) in
a surge and two when the border is quiet.
"""
from __future__ import annotations

from collections import deque
from typing import Callable

import simpy

from sim.model.capacity import CapacityTimeline

NEVER = float("inf")


class Crossing:
    """The queue and lanes of one crossing, driven by callbacks on SimPy events."""

    def __init__(
        self,
        env: simpy.Environment,
        crossing_id: int,
        lanes: int,
        timeline: CapacityTimeline,
        scheduled_arrival_hours: list[float],
        scheduled_households: list[int],
        size_people: list[int],
        service_hours: list[float],
        records: "CrossingRecords",
        reroute: "RerouteRule | None" = None,
    ) -> None:
        self.env = env
        self.crossing_id = crossing_id
        self.lanes = lanes
        self.timeline = timeline
        self.size_people = size_people
        self.service_hours = service_hours
        self.records = records
        self.reroute = reroute

        self.free_lanes = lanes
        self.queue: deque[int] = deque()
        self.in_service_people = 0
        self.crossed_people = 0

        # Arrivals known in advance, in time order, admitted lazily.
        self._scheduled_hours = scheduled_arrival_hours
        self._scheduled_households = scheduled_households
        self._next_scheduled = 0
        self._next_scheduled_hours = scheduled_arrival_hours[0] if scheduled_arrival_hours else NEVER
        self._wakeup_hours = NEVER

        self.factor = 1.0
        self.can_start = False
        self.quota_people: int | None = None
        self.started_people_today = 0
        self.quota_blocked = False
        self._reroute_candidates: deque[int] = deque()
        self._reroute_watcher_idle: simpy.Event | None = None
        self._change_index = 0
        self._next_change_hours = 0.0
        self._on_capacity_change()

    # --- arrivals -----------------------------------------------------------------------------
    def _admit_due(self, now: float) -> None:
        """Move every scheduled arrival up to ``now`` into the queue, in arrival order."""
        if self._next_scheduled_hours > now:
            return
        hours, households = self._scheduled_hours, self._scheduled_households
        index, count = self._next_scheduled, len(hours)
        queue = self.queue
        watch = self.reroute is not None
        while index < count and hours[index] <= now:
            queue.append(households[index])
            if watch:
                self._reroute_candidates.append(households[index])
            index += 1
        self._next_scheduled = index
        self._next_scheduled_hours = hours[index] if index < count else NEVER

    def arrive(self, household: int) -> None:
        """A household whose arrival was not known in advance (from a camp, or rerouted) joins."""
        now = self.env.now
        self._admit_due(now)
        records = self.records
        if records.left_queue[household] == NOT_REROUTED:
            records.queue_arrival_hours[household] = now
        else:
            records.reroute_arrival_hours[household] = now
        self.queue.append(household)
        if self.reroute is not None and not records.reroute_asked[household]:
            self._reroute_candidates.append(household)
            if self._reroute_watcher_idle is not None and not self._reroute_watcher_idle.triggered:
                self._reroute_watcher_idle.succeed()
        self._start_services()

    # --- services -----------------------------------------------------------------------------
    def _start_services(self) -> None:
        now = self.env.now
        if now >= self._next_change_hours:
            self._apply_capacity_changes(now)
        self._admit_due(now)
        if self.can_start and not self.quota_blocked:
            queue = self.queue
            records = self.records
            left_queue = records.left_queue
            crossing_id = self.crossing_id
            size_people = self.size_people
            quota = self.quota_people
            while self.free_lanes and queue:
                household = queue[0]
                if left_queue[household] == crossing_id:  # rerouted away: lazy deletion
                    queue.popleft()
                    continue
                size = size_people[household]
                if quota is not None and self.started_people_today + size > quota and self.started_people_today:
                    self.quota_blocked = True  # strict FIFO: the head waits for tomorrow's quota
                    break
                queue.popleft()
                self.started_people_today += size
                self.free_lanes -= 1
                self.in_service_people += size
                duration = self.service_hours[household] / self.factor
                records.start_hours[household] = now
                records.end_hours[household] = now + duration
                records.served_at[household] = crossing_id
                self.env.timeout(duration, household).callbacks.append(self._end_service)
            if self.free_lanes and not queue and not self.quota_blocked:
                self._wake_at_next_arrival()

    def _end_service(self, event: simpy.Event) -> None:
        size = self.size_people[event._value]
        self.free_lanes += 1
        self.in_service_people -= size
        self.crossed_people += size
        self._start_services()

    def _wake_at_next_arrival(self) -> None:
        """An idle lane needs an event at the next scheduled arrival; only one is ever pending."""
        next_hours = self._next_scheduled_hours
        if next_hours < self._wakeup_hours:
            self._wakeup_hours = next_hours
            self.env.timeout(next_hours - self.env.now).callbacks.append(self._wake)

    def _wake(self, event: simpy.Event) -> None:
        self._wakeup_hours = NEVER
        self._start_services()

    # --- capacity -----------------------------------------------------------------------------
    def _apply_capacity_changes(self, now: float) -> None:
        """Bring the capacity state up to ``now``. Called from every callback, so that a service
        ending exactly at closing time sees the crossing closed whichever event SimPy pops first."""
        timeline = self.timeline
        change_hours = timeline.change_hours
        index = self._change_index
        while index < len(change_hours) and change_hours[index] <= now:
            state = timeline.states[index]
            if self.factor > 0 and state.factor == 0 and self.reroute is not None:
                self.env.process(self._offer_reroute())
            self.factor = state.factor
            self.can_start = state.can_start
            self.quota_people = state.quota_people
            if timeline.resets_at_midnight and change_hours[index] % 24.0 == 0.0:
                self.started_people_today = 0
                self.quota_blocked = False
            index += 1
        self._change_index = index
        self._next_change_hours = change_hours[index] if index < len(change_hours) else NEVER

    def _on_capacity_change(self, event: simpy.Event | None = None) -> None:
        self._start_services()
        if self._next_change_hours != NEVER:
            self.env.timeout(self._next_change_hours - self.env.now).callbacks.append(self._on_capacity_change)

    # --- reroute ------------------------------------------------------------------------------
    def _offer_reroute(self):
        """While the factor is 0, each household that has waited ``after`` draws once whether to
        leave for the other crossing (DESIGN §3.6). Candidates are in arrival order, so the head of
        the candidate deque is always the next one due."""
        env = self.env
        rule = self.reroute
        records = self.records
        candidates = self._reroute_candidates
        closure_end_hours = self._closure_end_hours()
        while env.now < closure_end_hours:
            self._admit_due(env.now)
            # Served or already asked households drop off the front; the rest wait in arrival order.
            while candidates and (records.start_hours[candidates[0]] != NEVER
                                  or records.reroute_asked[candidates[0]]):
                candidates.popleft()
            if not candidates:
                # Sleep until the next scheduled arrival, a dynamic arrival, or the reopening.
                self._reroute_watcher_idle = env.event()
                wake_hours = min(self._next_scheduled_hours, closure_end_hours)
                sleepers = [self._reroute_watcher_idle]
                if wake_hours != NEVER:
                    sleepers.append(env.timeout(wake_hours - env.now))
                yield env.any_of(sleepers)
                self._reroute_watcher_idle = None
                continue
            household = candidates[0]
            due_hours = records.queue_arrival_hours[household] + rule.after_hours
            if due_hours > env.now:
                yield env.timeout(min(due_hours, closure_end_hours) - env.now)
                continue
            candidates.popleft()
            records.reroute_asked[household] = True
            if rule.draw[household] < rule.share:
                records.left_queue[household] = self.crossing_id
                records.reroute_leave_hours[household] = env.now
                rule.send(household, rule.travel_hours[household])

    def _closure_end_hours(self) -> float:
        """When the factor next rises above 0 (never, if it stays closed to the horizon)."""
        timeline = self.timeline
        for change_hours, state in zip(timeline.change_hours, timeline.states):
            if change_hours > self.env.now and state.factor > 0:
                return change_hours
        return NEVER

    # --- end of run ---------------------------------------------------------------------------
    def queued_people(self, horizon_hours: float) -> int:
        """People waiting in this queue at the horizon, counted from the live queue (conservation)."""
        left_queue = self.records.left_queue
        queued = sum(self.size_people[h] for h in self.queue if left_queue[h] != self.crossing_id)
        pending = range(self._next_scheduled, len(self._scheduled_hours))
        return queued + sum(self.size_people[self._scheduled_households[i]] for i in pending
                            if self._scheduled_hours[i] < horizon_hours
                            and left_queue[self._scheduled_households[i]] != self.crossing_id)


class RerouteRule:
    """What a household waiting at a closed crossing may do: leave for another crossing."""

    def __init__(self, after_hours: float, share: float, draw: list[float], travel_hours: list[float],
                 send: Callable[[int, float], None]) -> None:
        self.after_hours = after_hours
        self.share = share
        self.draw = draw
        self.travel_hours = travel_hours
        self.send = send


NOT_REROUTED = -1


class CrossingRecords:
    """Per-household timestamps written by the crossings: plain lists, cheap to assign in the loop.

    ``queue_arrival_hours`` starts with the arrivals known in advance (straight from departure) and
    is filled in for households coming from camps; a rerouted household's second queue is in
    ``reroute_arrival_hours``. ``left_queue`` holds the crossing a household rerouted away from.
    """

    def __init__(self, queue_arrival_hours: list[float]) -> None:
        n_households = len(queue_arrival_hours)
        self.queue_arrival_hours = queue_arrival_hours
        self.start_hours = [NEVER] * n_households
        self.end_hours = [NEVER] * n_households
        self.served_at = [NOT_REROUTED] * n_households
        self.left_queue = [NOT_REROUTED] * n_households
        self.reroute_asked = [False] * n_households
        self.reroute_leave_hours = [NEVER] * n_households
        self.reroute_arrival_hours = [NEVER] * n_households
