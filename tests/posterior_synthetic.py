"""Synthetic data for the posterior tests: a tiny scenario run at known parameters, plus lognormal
observation noise — the observation model's own assumptions, so that credible intervals must cover
the truth at their nominal rate."""
from __future__ import annotations

import datetime as dt

import numpy as np

from builders import build
from sim.runs.evaluate import daily_crossed
from sim.studies.observation import ObservedSeries

KEYS = ("groups.everyone.departures.hazard.0.rate", "groups.everyone.departures.hazard.1.rate")
PRIOR_LOW, PRIOR_HIGH = 0.01, 0.3
DAYS = (3, 5, 7, 9, 11, 13, 15, 17)
DATA_SEED = 777  # the data's households differ from the fit's (seed 11): simulator noise is real


def tiny_scenario():
    """600 households of 3 leaving at a hazard that changes on day 8, one ample crossing, 20 days."""
    return build({"groups": {"everyone": {"departures": {"hazard": [
        {"from": "2024-01-01", "rate": 0.1}, {"from": "2024-01-08", "rate": 0.1}]}}},
        "run": {"replications": 1, "seed": 11}},
        people=1800, household_size=3, lanes=4, service_hours=0.2, days=20)


def synthetic_series(truth: dict[str, float], sigma: float, noise_seed: int) -> ObservedSeries:
    """Cumulative crossings at ``truth`` on DAYS, times lognormal noise of scale ``sigma``."""
    scenario = tiny_scenario()
    daily = daily_crossed(scenario, seed=DATA_SEED, values=truth)
    cumulative = np.cumsum(daily["all"])
    dates = tuple(dt.date(2024, 1, day) for day in DAYS)
    model = np.array([cumulative[(day - scenario.period.start).days] for day in dates])
    noise = np.random.default_rng(noise_seed).normal(0.0, sigma, len(dates))
    return ObservedSeries("synthetic", "cumulative", "all", None, dates, np.expm1(np.log1p(model) + noise))
