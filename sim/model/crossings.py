"""A border crossing: one FIFO queue before a set of parallel processing lanes.

A lane starts a household's service only while the crossing is open (within its hours, capacity
factor above 0) and the day's quota allows it; the service lasts the household's drawn service
time divided by the factor at its start, is never rescaled, and always completes. A household
*crosses* when its service ends.

How it stays cheap (DESIGN §7): households are integer indices into pre-drawn lists; the queue is a
deque; there is no process per household. Arrivals known before the clock starts (everyone who
travels straight to the border) are *admitted lazily*: they sit in a sorted list and join the queue
when the crossing next looks at it (a service end, a capacity change, a wake-up), and a freed lane
takes the next one straight from that list. An arrival costs an event only when it would find an
idle lane — and not even then at a crossing that nothing unscheduled can reach, where the idle lane
starts it ahead, at its arrival time. So a household costs one event (its service end), plus a
wake-up where camps or reroutes feed a quiet crossing.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from heapq import heapify, heappop, heappush, heapreplace

import simpy
from simpy.events import NORMAL

from sim.model.capacity import CapacityTimeline

NEVER = float("inf")


class Crossing:
    """The queue and lanes of one crossing, driven by callbacks on SimPy events."""

    starts_ahead_allowed = True
    """Whether idle lanes may start known arrivals ahead; off, every such arrival wakes its lane
    (the plain path, kept for the test that compares the two)."""

    chains_allowed = True
    """Whether a service end due before anything else in SimPy's queue is processed at once (see
    ``_make_end_service``); off, every service end goes through the queue (the plain path, kept
    for the test that compares the two)."""

    def __init__(
        self,
        env: simpy.Environment,
        crossing_id: int,
        lanes: int,
        timeline: CapacityTimeline,
        receives_unscheduled_arrivals: bool,
        scheduled_arrival_hours: list[float],
        scheduled_households: list[int],
        size_people: list[int],
        service_hours: Sequence[float],
        records: CrossingRecords,
        reroute: RerouteRule | None = None,
    ) -> None:
        self.env = env
        self.crossing_id = crossing_id
        self.timeline = timeline
        self.size_people = size_people
        self.service_hours = service_hours
        self.records = records
        self.reroute = reroute

        self.free_lanes = lanes
        self.queue: deque[int] = deque()
        self.joined: list[int] = []  # households that joined unannounced (from camps, rerouted), in order
        self._ends: list[tuple[float, int]] = []  # services in progress: a heap of (end, household)
        self._pending_end_hours: list[float] = []  # times of the pending service-end events (heap)
        self._spare_events: list[simpy.Event] = []

        # Arrivals known in advance, in time order, admitted lazily.
        self._scheduled_hours = scheduled_arrival_hours
        self._scheduled_households = scheduled_households
        self._next_scheduled = 0
        self._next_scheduled_hours = scheduled_arrival_hours[0] if scheduled_arrival_hours else NEVER
        self._wakeup_hours = NEVER

        self._start_hours = records.start_hours
        self._left_queue = records.left_queue
        self.factor = 1.0
        self.can_start = False
        # While open with factor > 0 and no quota, a freed lane needs no checks until the next
        # capacity change: that instant, else -1.
        self._free_run_until = -1.0
        self.quota_people: int | None = None
        self.started_people_today = 0
        self.quota_blocked = False
        self._reroute_candidates: deque[int] = deque()
        self._reroute_watcher_idle: simpy.Event | None = None
        self._change_index = 0
        self._next_change_hours = 0.0
        # Start known arrivals ahead (saving their wake-up events) only where no quota or reroute
        # depends on the moment of the start. Where camps or reroutes feed the crossing, such a
        # start is a commitment that an earlier unannounced arrival may take back (see
        # ``_withdraw_commitments``).
        self._starts_known_arrivals_ahead = self.starts_ahead_allowed and not (
            reroute is not None or timeline.resets_at_midnight)
        self._may_withdraw = self._starts_known_arrivals_ahead and receives_unscheduled_arrivals
        self._commitments: list[tuple[float, int]] = []  # heap entries of services started ahead, in order
        self._make_end_service()
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
        now = self.env._now
        self._admit_due(now)
        records = self.records
        if records.left_queue[household] == NOT_REROUTED:
            records.queue_arrival_hours[household] = now
        else:
            records.reroute_arrival_hours[household] = now
        self.queue.append(household)
        self.joined.append(household)
        if self.reroute is not None and not records.reroute_asked[household]:
            self._reroute_candidates.append(household)
            if self._reroute_watcher_idle is not None and not self._reroute_watcher_idle.triggered:
                self._reroute_watcher_idle.succeed()
        self._start_services()

    # --- services -----------------------------------------------------------------------------
    def _start_services(self) -> None:
        """Start as many queued households as lanes, hours, factor and quota allow.

        The general path, taken at arrivals from camps, wake-ups, capacity changes and whenever a
        service end cannot simply hand its lane to the next household. Only the start time is
        recorded (the end and the crossing that served follow from it after the run)."""
        now = self.env._now
        if now >= self._next_change_hours:
            self._apply_capacity_changes(now)
        if self._next_scheduled_hours <= now:
            self._admit_due(now)
        if self.can_start and not self.quota_blocked:
            self._fill_lanes(now)
        self._arm_service_end(now)  # also when closed: the services in progress still end

    def _fill_lanes(self, now: float) -> None:
        """Start queued households on the free lanes (open, factor > 0, quota not reached)."""
        env = self.env
        free_lanes = self.free_lanes
        queue = self.queue
        if not free_lanes and queue and self._may_withdraw:
            free_lanes = self._withdraw_commitments(now, len(queue))
        if free_lanes and queue:
            crossing_id = self.crossing_id
            left_queue = self.records.left_queue
            start_hours = self.records.start_hours
            service_hours = self.service_hours
            size_people = self.size_people
            ends = self._ends
            factor = self.factor
            quota = self.quota_people
            while free_lanes and queue:
                household = queue.popleft()
                if left_queue[household] == crossing_id:  # rerouted away: lazy deletion
                    continue
                if quota is not None:
                    size = size_people[household]
                    if self.started_people_today + size > quota and self.started_people_today:
                        queue.appendleft(household)
                        self.quota_blocked = True  # strict FIFO: the head waits for tomorrow's quota
                        break
                    self.started_people_today += size
                free_lanes -= 1
                start_hours[household] = now
                heappush(ends, (now + service_hours[household] / factor, household))
            self.free_lanes = free_lanes
        if free_lanes and not queue and not self.quota_blocked:
            if self._starts_known_arrivals_ahead:
                self._start_known_arrivals_ahead(now, free_lanes)
            elif self._next_scheduled_hours < self._wakeup_hours:
                # An idle lane needs an event at the next scheduled arrival; only one is pending.
                self._wakeup_hours = self._next_scheduled_hours
                env.timeout(self._wakeup_hours - now).callbacks.append(self._wake)

    def _start_known_arrivals_ahead(self, now: float, free_lanes: int) -> None:
        """Idle lanes take the next scheduled arrivals at their arrival times, without a wake-up.

        Exact where nothing can change the start between now and that arrival: no capacity change
        before it (checked here), no quota and no reroute (checked once, see
        ``_starts_known_arrivals_ahead``). Then the household would start at its arrival on
        whichever lane is idle, so the end of its service is known now; that saves one event per
        household that finds the border idle. An unannounced arrival (from a camp) before it that
        finds every other lane busy takes the lane back (``_withdraw_commitments``)."""
        hours, households = self._scheduled_hours, self._scheduled_households
        index, count = self._next_scheduled, len(hours)
        start_hours = self.records.start_hours
        service_hours = self.service_hours
        ends = self._ends
        factor = self.factor
        change_hours = self._next_change_hours
        may_withdraw, commitments = self._may_withdraw, self._commitments
        while free_lanes and index < count and hours[index] < change_hours:
            household = households[index]
            arrival_hours = hours[index]
            index += 1
            free_lanes -= 1
            start_hours[household] = arrival_hours
            entry = (arrival_hours + service_hours[household] / factor, household)
            heappush(ends, entry)
            if may_withdraw:
                commitments.append(entry)
        self.free_lanes = free_lanes
        self._next_scheduled = index
        self._next_scheduled_hours = hours[index] if index < count else NEVER
        if free_lanes and index < count and self._next_scheduled_hours < self._wakeup_hours:
            self._wakeup_hours = self._next_scheduled_hours  # past a capacity change: wake as usual
            self.env.timeout(self._wakeup_hours - now).callbacks.append(self._wake)

    def _withdraw_commitments(self, now: float, wanted: int) -> int:
        """Give back the lanes of households started ahead whose arrival is still to come, latest
        first, up to ``wanted`` (the unannounced households just queued, who arrived earlier and
        so come first): each goes back to the scheduled list, to start when a lane frees.

        Exactly what would have happened without starting ahead: the queued household finds the
        lane idle, and the latest of the households still to come is the one left without a lane.
        The commitments are listed in the order they were made, so the latest is the last; its
        heap entry is found by identity in one C-level scan of the (lanes-long) heap. A pending
        service-end event of a withdrawn service finds nothing due and is dropped (see
        ``end_service``)."""
        hours, households = self._scheduled_hours, self._scheduled_households
        start_hours = self.records.start_hours
        ends = self._ends
        commitments = self._commitments
        index = self._next_scheduled
        withdrawn = 0
        while withdrawn < wanted and index > 0 and hours[index - 1] > now:
            index -= 1
            household = households[index]
            entry = commitments.pop()
            while entry[1] != household:  # older commitments that started since: done with
                entry = commitments.pop()
            position = ends.index(entry)
            ends[position] = ends[-1]
            ends.pop()
            start_hours[household] = NEVER
            withdrawn += 1
        if withdrawn:
            heapify(ends)
            self._next_scheduled = index
            self._next_scheduled_hours = hours[index]
            self.free_lanes += withdrawn
        return self.free_lanes

    def _arm_service_end(self, now: float) -> None:
        """Make sure a service-end event is pending at the earliest end of a service in progress.

        ``_pending_end_hours`` holds the times of the pending service-end events; each of them
        is the end of a distinct service in progress, and the earliest is always the earliest
        end. So an event is added only when a service started outside a service-end callback
        ends before every pending one: every event ends exactly one service, none is wasted."""
        ends = self._ends
        if ends:
            first_end_hours = ends[0][0]
            pending = self._pending_end_hours
            if not pending or first_end_hours < pending[0]:
                heappush(pending, first_end_hours)
                if self._spare_events:
                    event = self._spare_events.pop()
                else:
                    event = simpy.Event(self.env)
                    event._ok = True
                event.callbacks = self._end_service_callbacks
                self.env.schedule(event, NORMAL, first_end_hours - now)

    def _retire_end_event(self, event: simpy.Event) -> None:
        """A service-end event that will not be re-armed: its time leaves the pending list and the
        event object is kept for reuse."""
        heappop(self._pending_end_hours)
        self._spare_events.append(event)

    def _free_lane(self, event: simpy.Event) -> None:
        """The service that just ended frees its lane, and nothing can start straight away on it
        (closed, a quota, a capacity change due, or nobody to serve): the general
        :meth:`_start_services` decides what happens next."""
        self._retire_end_event(event)
        heappop(self._ends)
        self.free_lanes += 1
        self._start_services()

    def _make_end_service(self) -> None:
        """Build the callback of a service end (the hot path, one call per household) and its
        shared callbacks list, ``_end_service_callbacks``.

        The services in progress are a heap of (end, household) (``_ends``): the lanes are
        identical, so only the ends matter, and the crossing needs only one pending SimPy event,
        at the earliest end, instead of one per lane (SimPy's own queue stays a few entries long,
        which makes every push and pop cheaper). The event pops that end, and the lane goes
        straight on to the next household whenever nothing else needs deciding (open, no quota,
        no capacity change due): the new end replaces the old one in the heap in one operation,
        and the same event object is armed again at the new earliest end. The next household is
        the head of the queue or, when the queue is empty, the next scheduled arrival — taken
        straight from the sorted list (in a surge the deque is never touched), and, where
        allowed, even before it arrives (it starts at its arrival). Otherwise the lane is freed
        and the general ``_start_services`` decides. Written as a closure because it runs a
        million times a replication: its references live in cells instead of being looked up on
        ``self`` at every call."""
        env = self.env
        chains = self.chains_allowed
        # ``env.schedule(event, NORMAL, delay)`` written out: one push onto SimPy's own event queue,
        # the same entry (time, priority, next event id, event) it would push, without a method
        # call per household. The time is computed as SimPy computes it (now + delay).
        event_queue = env._queue
        event_ids = env._eid
        queue = self.queue
        left_queue = self._left_queue
        start_hours = self._start_hours
        service_hours = self.service_hours
        scheduled_hours = self._scheduled_hours
        scheduled_households = self._scheduled_households
        scheduled_count = len(scheduled_hours)
        crossing_id = self.crossing_id
        spare_events = self._spare_events
        ends = self._ends
        pending = self._pending_end_hours

        # One callbacks list shared by every service-end event: SimPy only iterates an event's
        # list (and then drops it), nothing else waits on these events, so the list is never
        # mutated and need not be rebuilt for each household.
        callbacks: list = []
        self._end_service_callbacks = callbacks

        starts_ahead = self._starts_known_arrivals_ahead
        may_withdraw = self._may_withdraw
        commitments = self._commitments

        def end_service(event: simpy.Event) -> None:
            now = env._now
            # While this call chains, nothing else runs: SimPy's next event, the capacity state
            # (changed only by queued events) and hence the factor stay what they are now.
            chain_until = (event_queue[0][0] if event_queue else NEVER) if chains else -NEVER
            free_run_until = self._free_run_until
            factor = self.factor
            if not queue and len(pending) == 1 and not may_withdraw and now < free_run_until:
                # The surge path, written out: nobody waits in the deque, so each freed lane takes
                # the next scheduled arrival, and the chain goes on while the new earliest end
                # comes before SimPy's next event. The same steps as the general loop below, with
                # the crossing's position in its scheduled list held in locals meanwhile.
                index = self._next_scheduled
                arrival_hours = self._next_scheduled_hours
                while arrival_hours <= now or (starts_ahead and arrival_hours < free_run_until):
                    household = scheduled_households[index]
                    index += 1
                    begins = arrival_hours if arrival_hours > now else now  # noqa: FURB136 (max() costs a call)
                    arrival_hours = scheduled_hours[index] if index < scheduled_count else NEVER
                    start_hours[household] = begins
                    heapreplace(ends, (begins + service_hours[household] / factor, household))
                    first_end_hours = ends[0][0]
                    pending[0] = first_end_hours
                    at = now + (first_end_hours - now)  # the time SimPy's schedule would compute
                    if at < chain_until:  # chained (see below)
                        now = at
                        continue
                    self._next_scheduled = index
                    self._next_scheduled_hours = arrival_hours
                    env._now = now
                    event.callbacks = callbacks
                    heappush(event_queue, (at, NORMAL, next(event_ids), event))
                    return
                # Nobody to take now: the general path frees the lane.
                self._next_scheduled = index
                self._next_scheduled_hours = arrival_hours
                env._now = now
            while True:  # once per service end: this event's, then any chained (see below)
                # ``pending`` holds this event's own time, now, as its least element (popped below
                # wherever this event does not simply become the next service end).
                if may_withdraw and (not ends or ends[0][0] > now):  # its service was withdrawn
                    self._retire_end_event(event)
                    self._arm_service_end(now)
                    return
                if now < free_run_until:
                    while queue:
                        household = queue.popleft()
                        if left_queue[household] != crossing_id:  # else rerouted away: lazy deletion
                            start_hours[household] = now
                            heapreplace(ends, (now + service_hours[household] / factor, household))
                            break
                    else:
                        arrival_hours = self._next_scheduled_hours
                        if arrival_hours <= now or (starts_ahead and arrival_hours < free_run_until):
                            index = self._next_scheduled
                            household = scheduled_households[index]
                            index += 1
                            self._next_scheduled = index
                            self._next_scheduled_hours = (scheduled_hours[index] if index < scheduled_count
                                                          else NEVER)
                            begins = arrival_hours if arrival_hours > now else now  # noqa: FURB136 (max() costs a call)
                            start_hours[household] = begins
                            entry = (begins + service_hours[household] / factor, household)
                            heapreplace(ends, entry)
                            if may_withdraw and begins > now:
                                commitments.append(entry)
                        else:
                            self._free_lane(event)
                            return
                else:
                    self._free_lane(event)
                    return
                first_end_hours = ends[0][0]
                if len(pending) == 1:  # the usual case: this was the only pending service end
                    pending[0] = first_end_hours
                    at = now + (first_end_hours - now)  # the time SimPy's schedule would compute
                    if at < chain_until:
                        # Chained: this event, re-armed, would be the very next one SimPy pops (it
                        # comes strictly before everything queued, and on a tie SimPy would pop the
                        # older entry first, so ties go through the queue). Processing it here, with
                        # SimPy's clock moved to its time, is what SimPy would do next — without the
                        # push and the pop.
                        env._now = now = at
                        continue
                    event.callbacks = callbacks
                    heappush(event_queue, (at, NORMAL, next(event_ids), event))
                    return
                heappop(pending)
                if first_end_hours < pending[0]:
                    heappush(pending, first_end_hours)
                    event.callbacks = callbacks
                    heappush(event_queue, (now + (first_end_hours - now), NORMAL, next(event_ids), event))
                else:
                    spare_events.append(event)
                return

        callbacks.append(end_service)

    def _wake(self, event: simpy.Event) -> None:
        self._wakeup_hours = NEVER
        self._start_services()

    def in_service_people(self) -> int:
        """People whose service has started and not ended: the households still in the heap of ends."""
        return sum(self.size_people[household] for _, household in self._ends)

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
        runs_freely = self.can_start and self.quota_people is None
        self._free_run_until = self._next_change_hours if runs_freely else -1.0

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
            joined_hours = records.queue_arrival_hours[household]
            if joined_hours == NEVER:  # a scheduled arrival: its time is in the sorted list
                joined_hours = rule.scheduled_arrival_hours[household]
            due_hours = joined_hours + rule.after_hours
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

    def __init__(self, after_hours: float, share: float, draw: Sequence[float], travel_hours: Sequence[float],
                 scheduled_arrival_hours: Sequence[float], send: Callable[[int, float], None]) -> None:
        self.after_hours = after_hours
        self.scheduled_arrival_hours = scheduled_arrival_hours  # by household
        self.share = share
        self.draw = draw
        self.travel_hours = travel_hours
        self.send = send


NOT_REROUTED = -1


class CrossingRecords:
    """Per-household timestamps written by the crossings: plain lists, cheap to assign in the loop.

    ``queue_arrival_hours`` holds the arrivals that were not known in advance (from camps); those
    straight from departure are the households' ``arrive_hours``. A rerouted household's second
    queue is in ``reroute_arrival_hours``; ``left_queue`` holds the crossing it left.
    """

    def __init__(self, n_households: int) -> None:
        self.queue_arrival_hours = [NEVER] * n_households
        self.start_hours = [NEVER] * n_households
        self.left_queue = [NOT_REROUTED] * n_households
        self.reroute_asked = [False] * n_households
        self.reroute_leave_hours = [NEVER] * n_households
        self.reroute_arrival_hours = [NEVER] * n_households
