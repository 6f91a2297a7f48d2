"""The daily recorder's interval arithmetic against brute force on random stays."""
from __future__ import annotations

import numpy as np
import pytest

from sim.model import recorder

N_DAYS = 5


@pytest.fixture(params=range(5))
def stays(request):
    rng = np.random.default_rng(request.param)
    n = 300
    enter = np.round(rng.uniform(0, N_DAYS * 24, n), 1)  # rounded: many equal instants
    leave = enter + np.round(rng.exponential(10, n), 1)
    leave[rng.random(n) < 0.1] = np.inf  # never leave
    weights = rng.integers(1, 8, n).astype(float)
    return enter, leave, weights


def level(enter, leave, weights, t):
    """People inside at instant t, after everything happening at t."""
    return weights[(enter <= t) & (leave > t)].sum()


def test_levels_at_day_ends(stays):
    enter, leave, weights = stays
    expected = [weights[(enter < 24 * (d + 1)) & (leave >= 24 * (d + 1))].sum() for d in range(N_DAYS)]
    assert recorder.levels_at_day_ends(enter, leave, weights, N_DAYS) == pytest.approx(expected)


def test_daily_peaks_are_the_maxima_over_every_instant(stays):
    enter, leave, weights = stays
    instants = np.unique(np.concatenate([enter, leave[np.isfinite(leave)], np.arange(N_DAYS) * 24.0]))
    expected = np.zeros(N_DAYS)
    for t in instants[instants < N_DAYS * 24]:
        day = int(t // 24)
        expected[day] = max(expected[day], level(enter, leave, weights, t))
    assert recorder.daily_peaks(enter, leave, weights, N_DAYS) == pytest.approx(expected)


def test_merged_changes_give_the_peak_of_the_sum(stays):
    enter, leave, weights = stays
    half = len(enter) // 2
    parts = [recorder.level_changes(enter[s], leave[s], weights[s], N_DAYS * 24.0)
             for s in (slice(0, half), slice(half, None))]
    merged = recorder.daily_peaks_of_changes(*recorder.merge_level_changes(*parts), N_DAYS)
    assert merged == pytest.approx(recorder.daily_peaks(enter, leave, weights, N_DAYS))


def test_daily_integrals(stays):
    enter, leave, weights = stays
    expected = []
    for d in range(N_DAYS):
        lo, hi = 24.0 * d, 24.0 * (d + 1)
        overlap = np.clip(np.minimum(leave, hi) - np.maximum(enter, lo), 0, None)
        expected.append((weights * overlap).sum())
    assert recorder.daily_integrals(enter, leave, weights, N_DAYS) == pytest.approx(expected)


def test_weighted_percentile_counts_people():
    # 95 people waited 1 h and 5 waited 10 h: the 95th percentile person waited 1 h; 94 + 6: 10 h.
    assert recorder.weighted_percentile(np.array([10.0, 1.0]), np.array([5.0, 95.0]), 0.95) == 1.0
    assert recorder.weighted_percentile(np.array([10.0, 1.0]), np.array([6.0, 94.0]), 0.95) == 10.0


def test_daily_count_is_daily_sum_of_ones():
    """Households arriving per day (needs per family): events outside the period are left out."""
    hours = np.array([-1.0, 0.0, 5.0, 23.99, 24.0, 47.0, 71.9, 72.0, np.inf])
    assert recorder.daily_count(hours, 3).tolist() == [3.0, 2.0, 1.0]
    assert recorder.daily_count(hours, 3).tolist() == recorder.daily_sum(hours, np.ones(len(hours)), 3).tolist()
