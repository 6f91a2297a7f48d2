"""The SimPy environment of a replication: SimPy's own, with its stepping loop written out once.

``simpy.Environment.run`` calls ``step()`` once per event, and ``step`` pops the event queue and
calls the event's callbacks. A replication processes about one event per household, a million
in a large run, so the method call per event and the attribute lookups inside it are a fixed
share of every event's cost. :class:`Environment` keeps everything of SimPy — the event queue,
its ordering by (time, priority, event id), ``schedule``, ``timeout``, ``process``, ``any_of`` —
and only replaces ``run(until=<a time>)`` by the same loop with ``step`` inlined, which is what
SimPy's own ``RealtimeEnvironment`` does in the other direction (it overrides ``step``). Events are
processed in exactly the order, at exactly the times and with exactly the effects of
``simpy.Environment.run``; ``tests/test_environment.py`` runs both on the same processes.
"""
from __future__ import annotations

from heapq import heappop

import simpy
from simpy.events import URGENT, Event


class Environment(simpy.Environment):
    """``simpy.Environment`` whose ``run(until=<a time>)`` steps without a method call per event."""

    def run(self, until=None):
        """As :meth:`simpy.Environment.run`. Only a numeric ``until`` takes the inlined loop (the
        engine always gives one); ``None`` or an event is left to SimPy."""
        if until is None or isinstance(until, Event):
            return super().run(until)
        at = until if isinstance(until, int) else float(until)
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        # As SimPy does: a stop event before all regular events of that instant.
        stop = Event(self)
        stop._ok = True
        stop._value = None
        self.schedule(stop, URGENT, at - self._now)
        queue = self._queue
        while True:
            now, _, _, event = heappop(queue)  # never empty: the stop event is in it
            self._now = now
            if event is stop:
                stop.callbacks = None
                return None
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if not event._ok and not hasattr(event, "_defused"):
                # A failed event nobody handled crashes the run, as in simpy.Environment.step.
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc



class CountingEnvironment(Environment):
    """An :class:`Environment` that counts the events scheduled in it (``events_scheduled``), for the
    event-budget regression test and the benchmark. Every event SimPy queues takes the next event
    id, whether it was scheduled through ``schedule`` or pushed by the engine's hot paths, so the
    ids are counted, not the calls."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self.events_scheduled = 0
        self._eid = _CountedIds(self, self._eid)


class _CountedIds:
    """SimPy's event-id counter, counting what it hands out into its environment."""

    def __init__(self, env: CountingEnvironment, ids) -> None:
        self._env = env
        self._ids = ids

    def __iter__(self):
        return self

    def __next__(self) -> int:
        self._env.events_scheduled += 1
        return next(self._ids)


__all__ = ["CountingEnvironment", "Environment"]
