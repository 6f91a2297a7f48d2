"""Daily counters from per-household timestamps, computed with numpy after the event loop.

During a replication the model only writes a few timestamps per household into preallocated
lists (queue joined, service started and ended, camp entered and left). Every daily metric is an
interval count over those timestamps, so it is computed here in a handful of vectorised passes
instead of updating counters inside the event loop. The conventions:

* an event at time t belongs to PKT day floor(t / 24);
* a level "at the end of day d" counts intervals [enter, leave) open just before 24:00 of day d;
* time integrals (``queue_people_mean``, ``waiting_outside_people_days``) integrate the level
  exactly; peaks are continuous maxima (leaves before joins at equal times, so a household that
  starts service the instant it arrives never counts as queued).
"""
from __future__ import annotations

import numpy as np

from sim.model.clock import HOURS_PER_DAY


def day_of(hours: np.ndarray) -> np.ndarray:
    return np.floor(hours / HOURS_PER_DAY).astype(np.int64)


def daily_sum(hours: np.ndarray, weights: np.ndarray, n_days: int) -> np.ndarray:
    """Sum of ``weights`` of events per day (events outside the period ignored)."""
    inside = np.isfinite(hours) & (hours >= 0) & (hours < n_days * HOURS_PER_DAY)
    return np.bincount(day_of(hours[inside]), weights=weights[inside], minlength=n_days)[:n_days].astype(float)


def _weighted_count_before(times: np.ndarray, weights: np.ndarray, instants: np.ndarray) -> np.ndarray:
    order = np.argsort(times, kind="stable")
    cumulative = np.concatenate([[0.0], np.cumsum(weights[order])])
    return cumulative[np.searchsorted(times[order], instants, side="left")]


def levels_at_day_ends(enter: np.ndarray, leave: np.ndarray, weights: np.ndarray, n_days: int) -> np.ndarray:
    """People inside [enter, leave) just before 24:00 of each day."""
    ends = (np.arange(n_days) + 1) * HOURS_PER_DAY
    return _weighted_count_before(enter, weights, ends) - _weighted_count_before(leave, weights, ends)


def _integral_before(times: np.ndarray, weights: np.ndarray, instants: np.ndarray) -> np.ndarray:
    """sum over events with time < T of weight * (T - time), for each instant T."""
    finite = np.isfinite(times)
    times, weights = times[finite], weights[finite]
    order = np.argsort(times, kind="stable")
    times, weights = times[order], weights[order]
    cumulative_weight = np.concatenate([[0.0], np.cumsum(weights)])
    cumulative_weighted_time = np.concatenate([[0.0], np.cumsum(weights * times)])
    index = np.searchsorted(times, instants, side="left")
    return cumulative_weight[index] * instants - cumulative_weighted_time[index]


def daily_integrals(enter: np.ndarray, leave: np.ndarray, weights: np.ndarray, n_days: int) -> np.ndarray:
    """Integral of the level over each day, in people-hours."""
    instants = np.arange(n_days + 1) * HOURS_PER_DAY
    integral = _integral_before(enter, weights, instants) - _integral_before(leave, weights, instants)
    return np.maximum(np.diff(integral), 0.0)  # a level is never negative: drop rounding residue


def daily_peaks(enter: np.ndarray, leave: np.ndarray, weights: np.ndarray, n_days: int) -> np.ndarray:
    """Continuous maximum of the level within each day."""
    peaks = np.zeros(n_days)
    if len(enter) == 0:
        return peaks
    times = np.concatenate([enter, leave])
    deltas = np.concatenate([weights, -weights]).astype(float)
    keep = np.isfinite(times) & (times < n_days * HOURS_PER_DAY)
    times, deltas = times[keep], deltas[keep]
    order = np.lexsort((deltas, times))  # at equal times, leaves (negative) first
    times, deltas = times[order], deltas[order]
    level = np.cumsum(deltas)
    days = day_of(times)
    before = times < 0
    start_level = level[before][-1] if before.any() else 0.0
    inside = ~before
    np.maximum.at(peaks, days[inside], level[inside])
    # A day with no event keeps the level it started with; so does one whose events only fall.
    day_start_levels = np.concatenate([[start_level], levels_at_day_ends(enter, leave, weights, n_days)[:-1]])
    return np.maximum(peaks, day_start_levels)


def daily_wait_statistics(start_hours: np.ndarray, wait_hours: np.ndarray, weights: np.ndarray,
                          n_days: int) -> tuple[np.ndarray, np.ndarray]:
    """Per day of service start: mean wait per person and the 95th percentile per person."""
    mean = np.zeros(n_days)
    p95 = np.zeros(n_days)
    inside = np.isfinite(start_hours) & (start_hours < n_days * HOURS_PER_DAY)
    days = day_of(start_hours[inside])
    waits = wait_hours[inside]
    people = weights[inside].astype(float)
    totals = np.bincount(days, weights=people, minlength=n_days)
    waited = np.bincount(days, weights=people * waits, minlength=n_days)
    served = totals > 0
    mean[served] = waited[served] / totals[served]
    order = np.lexsort((waits, days))
    days, waits, people = days[order], waits[order], people[order]
    boundaries = np.searchsorted(days, np.arange(n_days + 1))
    for day in np.flatnonzero(served):
        lo, hi = boundaries[day], boundaries[day + 1]
        p95[day] = weighted_percentile(waits[lo:hi], people[lo:hi], 0.95, presorted=True)
    return mean, p95


def weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float, presorted: bool = False) -> float:
    """The q-quantile of the people behind ``values`` (each value counted ``weight`` times): the
    smallest value with at least q of the people at or below it."""
    if len(values) == 0:
        return 0.0
    if not presorted:
        order = np.argsort(values, kind="stable")
        values, weights = values[order], weights[order]
    cumulative = np.cumsum(weights)
    index = int(np.searchsorted(cumulative, q * cumulative[-1] - 1e-9, side="left"))
    return float(values[min(index, len(values) - 1)])


def busy_hours_per_day(start: np.ndarray, end: np.ndarray, n_days: int) -> np.ndarray:
    """Lane-hours of service inside each day (a service over midnight counts in both days)."""
    return daily_integrals(start, end, np.ones(len(start)), n_days)
