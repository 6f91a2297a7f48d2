"""The naive SimPy model of the reference workload: the yardstick engine speed is quoted against.

This is how a first SimPy model of the workload is usually written, and it must stay that way (do
not optimise it): a source process starts one process per household; each household requests a
lane from its crossing's ``simpy.Resource``, holds it for an exponential service time and releases
it. About six events per household, and a generator object alive for each one while it waits.

The workload (time in hours), the same as ``bench/reference.yaml``: 120 days; one-person households
arrive as a Poisson process whose rate is twice as high in days 0–30 as in days 30–120, ``n``
expected in all; each goes to crossing A (20 lanes) with probability 0.6, else to B (12 lanes);
one FIFO queue per crossing; exponential service whose mean puts each crossing at load 0.85 over
the 120 days (about 1.36 during the surge, so queues build up); everyone is served, as the run
goes on past day 120 until the queues are empty.

    python -m bench.naive 200000 [seed]      # prints households served, mean waits (h), seconds

When ``../shared/bench/naive_reference.py`` sits beside the repository (the reference the figures
of DESIGN were measured with), ``python -m bench`` measures it too; the two must agree in speed.
"""
from __future__ import annotations

import random
import sys
import time

import simpy

DAYS = 120
SURGE_DAYS = 30
HOURS_PER_DAY = 24.0
LANES_PER_CROSSING = (20, 12)
SHARE_PER_CROSSING = (0.6, 0.4)
MEAN_LOAD = 0.85


def arrival_rate_segments(expected_households: float) -> list[tuple[float, float]]:
    """(hour the segment ends, households per hour): the surge doubles the base rate."""
    surge_end_hours = SURGE_DAYS * HOURS_PER_DAY
    horizon_hours = DAYS * HOURS_PER_DAY
    # 2 * base over the surge + base over the rest = expected households.
    base_per_hour = expected_households / (2 * surge_end_hours + (horizon_hours - surge_end_hours))
    return [(surge_end_hours, 2 * base_per_hour), (horizon_hours, base_per_hour)]


def mean_service_hours(expected_households: float) -> list[float]:
    """Per crossing, the mean service time that gives load 0.85 at the average arrival rate."""
    arrivals_per_hour = expected_households / (DAYS * HOURS_PER_DAY)
    return [MEAN_LOAD * lanes / (share * arrivals_per_hour)
            for lanes, share in zip(LANES_PER_CROSSING, SHARE_PER_CROSSING, strict=True)]


def run(n: int, seed: int = 1) -> dict:
    """One replication of ``n`` expected households; households served and mean wait per crossing."""
    rng = random.Random(seed)
    service_means = mean_service_hours(n)
    env = simpy.Environment()
    crossings = [simpy.Resource(env, capacity=lanes) for lanes in LANES_PER_CROSSING]
    waits_hours: list[list[float]] = [[] for _ in crossings]

    def household(crossing: int):
        joined = env.now
        with crossings[crossing].request() as lane:
            yield lane
            waits_hours[crossing].append(env.now - joined)
            yield env.timeout(rng.expovariate(1.0 / service_means[crossing]))

    def arrivals():
        for segment_end, rate_per_hour in arrival_rate_segments(n):
            while True:
                gap = rng.expovariate(rate_per_hour)
                if env.now + gap >= segment_end:
                    # Memoryless: the next gap restarts at the boundary with the new rate.
                    yield env.timeout(segment_end - env.now)
                    break
                yield env.timeout(gap)
                env.process(household(0 if rng.random() < SHARE_PER_CROSSING[0] else 1))

    env.process(arrivals())
    env.run()
    return {
        "households": sum(len(waits) for waits in waits_hours),
        "mean_wait_hours": [sum(waits) / len(waits) if waits else 0.0 for waits in waits_hours],
    }


if __name__ == "__main__":
    households = int(float(sys.argv[1])) if len(sys.argv) > 1 else 200_000
    started = time.perf_counter()
    result = run(households, seed=int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    print(result["households"], *(f"{wait:.3f}" for wait in result["mean_wait_hours"]),
          f"{time.perf_counter() - started:.2f}s")
