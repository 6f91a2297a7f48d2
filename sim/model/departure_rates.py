"""Hazard steps given as people per day: the rate each such step stands for.

A hazard step says how fast each household that will leave departs: ``rate`` per day. Reported
figures, though, count *people* a month — and which rate makes, say, 600 people a day in January
2024 depends on how many leavers were still there, i.e. on ``never_leave`` and on every earlier
step. Fitting rates therefore couples every step to all those before it and to ``never_leave``
(the phase-1 and long-arc posteriors showed it as curved ridges the samplers crossed slowly).

A step may instead give ``people_per_day``: the expected people leaving per day at the moment the
step starts. Its rate is that number over the leavers expected to remain then,

    rate_k = people_per_day_k / (leavers · exp(-Λ(t_k))),   Λ(t_k) = Σ_{j<k} rate_j · days in step j,

with ``leavers = stock · (1 - never_leave)`` (expected, not a replication's draw, so the simulation's
mean and the fluid path start each such step at the same flow). Within the step the flow still
falls as the leavers are used up, exactly as under a rate; only the parameter changes.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

from sim.model.clock import HOURS_PER_DAY

MAX_RATE_PER_DAY = 1e6
"""A people-per-day step asking for more than the leavers left gets at most this rate (everyone
remaining leaves within a second): beyond it, the cumulative hazard of later steps would overflow."""


def hazard_rates_per_day(start_hours: Sequence[float], values: Sequence[float], given_per_day: Sequence[bool],
                         leavers_people: float) -> list[float]:
    """Each step's rate per day: its value, or, where ``given_per_day``, its value in people per day
    turned into the rate that starts the step at that flow.

    ``start_hours`` are the steps' starts from the period start (a step begun before it counts
    from hour 0). With no leavers a people-per-day step has rate 0: nobody is there to leave.
    """
    rates: list[float] = []
    cumulative_hazard = 0.0
    starts = [max(0.0, hours) for hours in start_hours]
    for k, (value, per_day) in enumerate(zip(values, given_per_day)):
        if k:
            cumulative_hazard += rates[-1] * (starts[k] - starts[k - 1]) / HOURS_PER_DAY
        remaining = leavers_people * math.exp(-cumulative_hazard)
        rate = (min(float(value) / remaining, MAX_RATE_PER_DAY) if remaining > 0 else 0.0) if per_day else float(value)
        rates.append(rate)
    return rates


def step_value(step) -> tuple[float, bool]:
    """A hazard step's value as written, and whether it is people per day (else a rate)."""
    return (step.rate, False) if step.rate is not None else (step.people_per_day, True)
