"""A holding (transit) camp on the Pakistan side, between a household's origin and its crossing.

Entry is strictly first come, first served: a household enters when the camp has room for all its
members (one larger than the whole camp enters alone once the camp is empty); until then it waits
outside, and nobody behind it overtakes. It stays its drawn ``stay``, then keeps its place until the
first dispatch at or after the end of its stay. A dispatch takes households in the order their stays
ended, up to ``max_people``, and stops at the first that does not fit (one larger than
``max_people`` goes alone in an otherwise empty dispatch, so it can never block the camp forever).
Without a dispatch schedule a household leaves as soon as its stay ends. Then it travels ``onward``
to its crossing.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence

import simpy
from simpy.events import NORMAL, URGENT

from sim.model.reusable_events import ReusableEvents

NEVER = float("inf")


class CampRecords:
    """Per-household camp timestamps (lists: cheap to assign inside the event loop)."""

    def __init__(self, n_households: int) -> None:
        self.enter_hours = [NEVER] * n_households
        self.leave_hours = [NEVER] * n_households


class Camp:
    def __init__(
        self,
        env: simpy.Environment,
        capacity_people: int,
        size_people: list[int],
        stay_hours: Sequence[float],
        onward_hours: Sequence[float],
        dispatch_hours: list[float] | None,
        dispatch_max_people: int | None,
        records: CampRecords,
        send_onward: Callable[[int, float], None],
    ) -> None:
        self.env = env
        self.capacity_people = capacity_people
        self.size_people = size_people
        self.stay_hours = stay_hours
        self.onward_hours = onward_hours
        self.dispatch_max_people = dispatch_max_people
        self.records = records
        self.send_onward = send_onward

        self.occupancy_people = 0
        self.outside: deque[int] = deque()
        self.outside_people = 0
        self.ready: deque[int] = deque()  # stays ended, waiting for a dispatch, in that order
        self.has_dispatch = dispatch_hours is not None
        self._stays = ReusableEvents(env, self._stay_ended)
        if dispatch_hours is not None:
            env.process(self._dispatch(dispatch_hours))

    def feed(self, arrival_hours: list[float], households: list[int]) -> None:
        """Bring the households known to come here, in arrival order: one event object re-armed at
        each next arrival time (what a process yielding a timeout per arrival would do, without a
        new Timeout and a generator resumption for every household). The first call happens at
        time 0 before the regular events of that instant, as a process would start."""
        env = self.env
        count = len(arrival_hours)
        next_index = 0
        callbacks: list = []
        self._feed_callbacks = callbacks  # emptied when the replication is released (a cycle)

        def arrive_due(event: simpy.Event) -> None:
            nonlocal next_index
            now = env._now
            index = next_index
            while index < count and arrival_hours[index] <= now:
                self.arrive(households[index])
                index += 1
            next_index = index
            if index < count:
                event.callbacks = callbacks
                env.schedule(event, NORMAL, arrival_hours[index] - now)

        callbacks.append(arrive_due)
        event = simpy.Event(env)
        event._ok = True
        event.callbacks = callbacks
        env.schedule(event, URGENT, 0)

    def arrive(self, household: int) -> None:
        size = self.size_people[household]
        if not self.outside and (self.occupancy_people + size <= self.capacity_people
                                 or self.occupancy_people == 0):
            self._enter(household, size)
        else:
            self.outside.append(household)
            self.outside_people += size

    def _enter(self, household: int, size: int) -> None:
        # ``env._now``, not the ``now`` property: once or twice per household (a call saved each).
        self.occupancy_people += size
        self.records.enter_hours[household] = self.env._now
        self._stays.schedule(self.stay_hours[household], household)

    def _stay_ended(self, household: int) -> None:
        if self.has_dispatch:
            self.ready.append(household)
        else:
            self._leave(household)
            self._admit_from_outside()

    def _leave(self, household: int) -> None:
        self.occupancy_people -= self.size_people[household]
        self.records.leave_hours[household] = self.env._now
        self.send_onward(household, self.onward_hours[household])

    def _admit_from_outside(self) -> None:
        outside = self.outside
        while outside:
            size = self.size_people[outside[0]]
            if self.occupancy_people + size > self.capacity_people and self.occupancy_people > 0:
                break
            self.outside_people -= size
            self._enter(outside.popleft(), size)

    def _dispatch(self, dispatch_hours: list[float]):
        env = self.env
        limit = self.dispatch_max_people
        for hours in dispatch_hours:
            if hours > env.now:
                yield env.timeout(hours - env.now)
            # Stays ending exactly now were scheduled before this instant, so one zero-delay step
            # lets them join the ready line first: "the first dispatch at or after the stay's end".
            yield env.timeout(0)
            dispatched_people = 0
            while self.ready:
                size = self.size_people[self.ready[0]]
                if limit is not None and dispatched_people + size > limit and dispatched_people > 0:
                    break
                dispatched_people += size
                self._leave(self.ready.popleft())
            self._admit_from_outside()
