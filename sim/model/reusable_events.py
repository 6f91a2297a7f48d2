"""Timed events for the hot paths of the model, without a new SimPy object per household.

``env.timeout(delay, value)`` builds a ``Timeout`` (an object with several attributes and a
callbacks list of its own) for every household that travels or stays somewhere. A processed SimPy
event is inert until it is scheduled again, so here each kind of timed step keeps its processed
events and re-arms them: set the value, point the callbacks at one shared list, schedule. SimPy
still orders and processes every one of these events (one ``schedule`` call, one step each, exactly
as with a ``Timeout``), so the simulation is unchanged; only the allocations go.
"""
from __future__ import annotations

from collections.abc import Callable
from heapq import heappush

import simpy
from simpy.events import NORMAL


class ReusableEvents:
    """Schedule ``on_event(value)`` after a delay, on recycled event objects."""

    def __init__(self, env: simpy.Environment, on_event: Callable[[int], None]) -> None:
        self.env = env
        self._spare: list[simpy.Event] = []
        spare = self._spare

        def fire(event: simpy.Event) -> None:
            spare.append(event)  # processed: free for the next schedule (even from on_event)
            on_event(event._value)

        # One callbacks list shared by all these events: SimPy iterates it and drops the reference,
        # never mutates it.
        self._callbacks = [fire]

    def schedule(self, delay_hours: float, value: int) -> None:
        """``on_event(value)`` at now + ``delay_hours`` (one SimPy event)."""
        if self._spare:
            event = self._spare.pop()
        else:
            event = simpy.Event(self.env)
            event._ok = True
        event._value = value
        event.callbacks = self._callbacks
        # env.schedule(event, NORMAL, delay_hours), written out (one call less per household).
        env = self.env
        heappush(env._queue, (env._now + delay_hours, NORMAL, next(env._eid), event))
