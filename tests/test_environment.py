"""The engine's environment steps exactly as ``simpy.Environment`` does (sim.model.environment)."""
from __future__ import annotations

import pytest
import simpy

from sim.model.environment import CountingEnvironment, Environment


def _trace_of(environment_class, until: float) -> tuple[list, float]:
    """A busy little world: processes with timeouts of equal times, a shared resource, callbacks on
    plain events and an interrupt; returns the (time, what) log and the clock at the end."""
    env = environment_class()
    log: list[tuple[float, str]] = []
    lanes = simpy.Resource(env, capacity=2)

    def customer(name: str, arrive_hours: float, service_hours: float):
        yield env.timeout(arrive_hours)
        log.append((env.now, f"{name} arrives"))
        with lanes.request() as request:
            yield request
            log.append((env.now, f"{name} starts"))
            yield env.timeout(service_hours)
        log.append((env.now, f"{name} leaves"))

    def sleeper():
        try:
            yield env.timeout(100)
        except simpy.Interrupt:
            log.append((env.now, "sleeper interrupted"))

    for index in range(12):
        env.process(customer(f"c{index}", index % 4 * 0.5, 1.0 + index % 3))
    sleeping = env.process(sleeper())
    poke = env.event()
    poke.callbacks.append(lambda event: sleeping.interrupt())
    env.schedule(poke, delay=2.5)
    poke._ok, poke._value = True, None
    env.run(until=until)
    return log, env.now


@pytest.mark.parametrize("until", [3.0, 7.25, 50])
def test_same_events_in_the_same_order_at_the_same_times(until):
    simpy_log, simpy_now = _trace_of(simpy.Environment, until)
    log, now = _trace_of(Environment, until)
    assert len(simpy_log) > 10
    assert log == simpy_log
    assert now == simpy_now == until


def test_events_at_the_horizon_itself_are_left_for_later():
    """SimPy's stop event comes before the regular events of its instant: a timeout due exactly at
    ``until`` has not happened when ``run`` returns, and happens on the next ``run``."""
    for environment_class in (simpy.Environment, Environment):
        env = environment_class()
        fired = []
        env.timeout(5).callbacks.append(lambda event, fired=fired, env=env: fired.append(env.now))
        env.run(until=5)
        assert fired == [] and env.now == 5
        env.run(until=6)
        assert fired == [5]


def test_a_failed_event_nobody_handles_crashes_the_run_like_simpy():
    def failing(env):
        yield env.timeout(1)
        raise KeyError("lost household")

    messages = []
    for environment_class in (simpy.Environment, Environment):
        env = environment_class()
        env.process(failing(env))
        with pytest.raises(KeyError) as raised:
            env.run(until=10)
        messages.append((str(raised.value), env.now))
    assert messages[0] == messages[1] == ("'lost household'", 1)


def test_until_must_lie_ahead_and_other_forms_go_to_simpy():
    env = Environment()
    env.run(until=2)
    with pytest.raises(ValueError, match="must be greater"):
        env.run(until=2)
    done = env.timeout(3, value="crossed")
    assert env.run(until=done) == "crossed"
    assert env.now == 5


def test_counting_environment_counts_every_event_scheduled():
    env = CountingEnvironment()
    for delay in (1, 2, 3):
        env.timeout(delay)
    env.run(until=10)
    assert env.events_scheduled == 4  # three timeouts and the stop event
