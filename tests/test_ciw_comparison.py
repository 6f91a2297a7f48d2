"""Verification against an independent simulator: Ciw (Palmer et al., a queueing-network library).

Where queueing theory has no formula — lognormal service on several lanes, or a crossing that is
open only 08:00–18:00 — another, independently written simulator of the same system must agree
with bordersim. Each case is built twice:

* in bordersim, through the public scenario format: one crossing, households of one person
  leaving on a schedule (a Poisson process), no travel, no camp;
* in Ciw: one node with the same Poisson arrivals, the same lognormal service and, for opening
  hours, a server schedule of 0 lanes before 08:00, ``lanes`` until 18:00 and 0 after, without
  pre-emption (a service that has started finishes after closing, as in bordersim).

Both run ``REPLICATIONS`` independent replications of ``days`` days; the mean wait in queue of the
people who arrived after a warm-up (and at least two days before the end, so all have been
served) is averaged per replication. The two means must agree: their difference lies within
``Z_LIMIT`` standard errors of the difference (Welch), and within ``MAX_RELATIVE_DIFFERENCE`` of
Ciw's mean. Each mean is also estimated tightly (95 % half-width ≤ 5 %), so agreement means
something. Seeds are fixed and were not chosen to pass.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import ciw
import numpy as np
import pytest

from sim.outputs.statistics import t_interval
from sim.runs.runner import run_replications
from sim.scenario import scenario_from_dict

REPLICATIONS = 20
WARM_UP_DAYS = 5
SEED = 20231003
START = dt.date(2024, 1, 1)
CROSSING = "border"
Z_LIMIT = 3.0
MAX_RELATIVE_DIFFERENCE = 0.05
MAX_RELATIVE_HALF_WIDTH = 0.05


@dataclass(frozen=True)
class Case:
    """One queue: ``lanes`` lanes, arrivals per day, lognormal service (mean, sd in hours), hours."""

    name: str
    lanes: int
    arrivals_per_day: float
    service_mean_hours: float
    service_sd_hours: float
    open_from_hour: int | None  # None: open 24 hours
    open_to_hour: int | None
    days: int

    @property
    def hours_text(self) -> str:
        if self.open_from_hour is None:
            return "24h"
        return f"{self.open_from_hour:02d}:00-{self.open_to_hour:02d}:00"


CASES = [
    # M/G/3 with lognormal service at 85 % load: no closed formula for the mean wait.
    Case("lognormal service, 3 lanes, 24 h, load 0.85", 3, 0.85 * 3 / 0.5 * 24, 0.5, 0.4, None, None, 250),
    # Open 08:00-18:00 only: the queue builds overnight and is worked off each morning (load 0.8 of
    # the open capacity).
    Case("lognormal service, 4 lanes, open 08:00-18:00", 4, 0.8 * 4 / 0.5 * 10, 0.5, 0.3, 8, 18, 60),
]


def bordersim_scenario(case: Case):
    people = int(case.arrivals_per_day * case.days * 1.2) + 1000  # never runs out: arrivals stay Poisson
    data = {
        "name": "ciw-comparison",
        "period": {"start": START.isoformat(), "end": (START + dt.timedelta(days=case.days - 1)).isoformat()},
        "run": {"replications": REPLICATIONS, "seed": SEED},
        "groups": {"everyone": {
            "people": people,
            "household_size": {"dist": "fixed", "value": 1},
            "origins": {"home": 1.0},
            "departures": {"schedule": [{"from": START.isoformat(), "per_day": case.arrivals_per_day}]},
        }},
        "origins": {"home": {"routes": [
            {"crossing": CROSSING, "travel": {"dist": "fixed", "value": 0}, "voluntary": 1.0},
        ]}},
        "crossings": {CROSSING: {"lanes": case.lanes, "hours": case.hours_text, "service": {
            "dist": "lognormal", "mean": case.service_mean_hours, "sd": case.service_sd_hours}}},
    }
    return scenario_from_dict(data)


def window(case: Case) -> tuple[float, float]:
    """Hours of arrival whose waits are averaged: after the warm-up, up to two days before the end."""
    return WARM_UP_DAYS * 24.0, (case.days - 2) * 24.0


def bordersim_mean_waits(case: Case) -> np.ndarray:
    outcomes = run_replications(bordersim_scenario(case), range(REPLICATIONS), SEED, jobs=2, trace=True)
    start, end = window(case)
    waits = []
    for outcome in outcomes:
        joined = outcome.trace["queue_arrival_hours"]
        started = outcome.trace["service_start_hours"]
        counted = (joined >= start) & (joined < end)
        assert np.isfinite(started[counted]).all(), "a household of the window never started service"
        waits.append(float((started[counted] - joined[counted]).mean()))
    return np.array(waits)


def ciw_network(case: Case):
    # Ciw's lognormal takes the mean and sd of the underlying normal.
    sigma_squared = math.log1p((case.service_sd_hours / case.service_mean_hours) ** 2)
    mu = math.log(case.service_mean_hours) - sigma_squared / 2
    if case.open_from_hour is None:
        servers = case.lanes
    else:
        servers = ciw.Schedule(numbers_of_servers=[0, case.lanes, 0],
                               shift_end_dates=[case.open_from_hour, case.open_to_hour, 24], preemption=False)
    return ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=case.arrivals_per_day / 24.0)],
        service_distributions=[ciw.dists.Lognormal(mu, math.sqrt(sigma_squared))],
        number_of_servers=[servers],
    )


def ciw_mean_waits(case: Case) -> np.ndarray:
    start, end = window(case)
    waits = []
    for replication in range(REPLICATIONS):
        ciw.seed(SEED + replication)
        simulation = ciw.Simulation(ciw_network(case))
        simulation.simulate_until_max_time(case.days * 24.0)
        records = [record for record in simulation.get_all_records() if start <= record.arrival_date < end]
        waits.append(float(np.mean([record.waiting_time for record in records])))
    return np.array(waits)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_mean_wait_agrees_with_ciw(case: Case) -> None:
    ours, theirs = bordersim_mean_waits(case), ciw_mean_waits(case)
    for name, values in (("bordersim", ours), ("Ciw", theirs)):
        low, high = t_interval(values)
        assert (high - low) / 2 <= MAX_RELATIVE_HALF_WIDTH * values.mean(), f"{name} interval too wide: {low}-{high}"
    difference = ours.mean() - theirs.mean()
    standard_error = math.sqrt(ours.var(ddof=1) / len(ours) + theirs.var(ddof=1) / len(theirs))
    summary = (f"{case.name}: bordersim {ours.mean():.4f} h, Ciw {theirs.mean():.4f} h, "
               f"difference {difference:+.4f} h ({difference / standard_error:+.2f} standard errors)")
    assert abs(difference) <= Z_LIMIT * standard_error, summary
    assert abs(difference) <= MAX_RELATIVE_DIFFERENCE * theirs.mean(), summary
