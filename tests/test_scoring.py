"""Scores of forecasts, each checked against a value computed by hand."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from sim.studies.scoring import (
    QuantileForecast,
    coverage,
    daily_cumulative,
    interval_score,
    naive_baseline,
    relative_differences,
    score,
    weighted_interval_scores,
)

D = dt.date
TWO = (0.1, 0.5)  # a 90 % and a 50 % band


def _forecast(median, lower90, upper90, lower50, upper50) -> QuantileForecast:
    return QuantileForecast(np.array(median, float), np.column_stack([lower90, lower50]).astype(float),
                            np.column_stack([upper90, upper50]).astype(float), TWO)


def test_interval_score_by_hand() -> None:
    # Inside: the width. Below: width + 2/alpha * distance. Above likewise.
    assert interval_score(np.array([5.0]), np.array([2.0]), np.array([8.0]), 0.1)[0] == pytest.approx(6)
    assert interval_score(np.array([10.0]), np.array([2.0]), np.array([8.0]), 0.1)[0] == pytest.approx(6 + 20 * 2)
    assert interval_score(np.array([1.0]), np.array([4.0]), np.array([6.0]), 0.5)[0] == pytest.approx(2 + 4 * 3)


def test_weighted_interval_score_by_hand() -> None:
    forecast = _forecast([5, 5], [2, 2], [8, 8], [4, 4], [6, 6])
    scores = weighted_interval_scores(np.array([10.0, 5.0]), forecast)
    # y = 10: |y - m| = 5, IS_0.1 = 6 + 20*2 = 46, IS_0.5 = 2 + 4*4 = 18;
    # WIS = (1/2 * 5 + 0.05 * 46 + 0.25 * 18) / (2 + 1/2) = 9.3 / 2.5.
    assert scores[0] == pytest.approx(3.72)
    # y = 5 (the median): (0 + 0.05 * 6 + 0.25 * 2) / 2.5.
    assert scores[1] == pytest.approx(0.32)


def test_coverage_counts_the_ends_as_inside() -> None:
    forecast = _forecast([5] * 4, [2] * 4, [8] * 4, [4] * 4, [6] * 4)
    observed = np.array([4.0, 6.0, 8.0, 9.0])
    assert coverage(observed, forecast, 0.5) == 0.5    # 4 and 6 (the ends)
    assert coverage(observed, forecast, 0.1) == 0.75   # 4, 6, 8
    with pytest.raises(ValueError, match="no 80% interval"):
        coverage(observed, forecast, 0.2)


def test_quantiles_from_samples() -> None:
    samples = np.arange(101, dtype=float)[:, None] * np.array([1.0, 2.0])  # draws x 2 points
    forecast = QuantileForecast.from_samples(samples, TWO)
    assert forecast.median.tolist() == [50, 100]
    assert forecast.band(0.1)[0].tolist() == [5, 10] and forecast.band(0.1)[1].tolist() == [95, 190]
    assert forecast.band(0.5)[0].tolist() == [25, 50] and forecast.band(0.5)[1].tolist() == [75, 150]


def test_scores_and_relative_wis_by_hand() -> None:
    forecast = _forecast([5, 5], [2, 2], [8, 8], [4, 4], [6, 6])
    baseline = _forecast([0, 0], [0, 0], [0, 0], [0, 0], [0, 0])
    scores = score(np.array([10.0, 5.0]), forecast, baseline)
    # Baseline, all quantiles 0: y = 10 -> (5 + 0.05*(2/0.1*10) + 0.25*(2/0.5*10)) / 2.5 = 25 / 2.5 = 10;
    # y = 5 -> 12.5 / 2.5 = 5.
    assert scores.wis == pytest.approx((3.72 + 0.32) / 2)
    assert scores.wis_baseline == pytest.approx(7.5)
    assert scores.relative_wis == pytest.approx(2.02 / 7.5)
    assert (scores.coverage50, scores.coverage90) == (0.5, 0.5)
    assert scores.ard == pytest.approx((0.5 + 0.0) / 2)
    assert scores.ard_baseline == pytest.approx(1.0)
    assert relative_differences(np.array([110.0]), np.array([100.0]))[0] == pytest.approx(0.1)


# Daily cumulative figures from 1 Oct (count_from), increases 10,10,10,10,20,20,20,30,30,40: 200 on 10 Oct.
INCREASES = [10, 10, 10, 10, 20, 20, 20, 30, 30, 40]
DATES = [D(2023, 10, day) for day in range(1, 11)]
VALUES = list(np.cumsum(INCREASES))


def test_baseline_by_hand() -> None:
    baseline = naive_baseline(DATES, VALUES, D(2023, 10, 1), D(2023, 10, 10), [D(2023, 10, 12)], TWO)
    rate = (200 - 30) / 7  # the last 7 days' mean increase: 4 Oct (30) to 10 Oct (200)
    # Spread: quantiles of the 10 daily increases (numpy's linear rule) minus their median 20:
    # q05 = 10, q25 = 10, q75 = 27.5, q95 = 35.5.
    assert baseline.median[0] == pytest.approx(200 + 2 * rate)
    assert baseline.band(0.1)[0][0] == pytest.approx(200 + 2 * (rate - 10))
    assert baseline.band(0.1)[1][0] == pytest.approx(200 + 2 * (rate + 15.5))
    assert baseline.band(0.5)[0][0] == pytest.approx(200 + 2 * (rate - 10))
    assert baseline.band(0.5)[1][0] == pytest.approx(200 + 2 * (rate + 7.5))


def test_baseline_ignores_what_follows_the_cutoff_and_never_falls() -> None:
    later = DATES + [D(2023, 10, 11)]
    assert naive_baseline(later, VALUES + [10_000], D(2023, 10, 1), D(2023, 10, 10), [D(2023, 10, 12)], TWO).median[0] \
        == pytest.approx(200 + 2 * 170 / 7)
    # A slow last week and a wide spread: the lower rate is cut at 0, so the band starts at the last value.
    slow = list(np.cumsum([0, 50, 50, 50, 50, 50, 2, 2, 2, 2]))  # rate 158/7, median increase 50
    baseline = naive_baseline(DATES, slow, None, D(2023, 10, 10), [D(2023, 10, 15)], TWO)
    assert baseline.band(0.1)[0][0] == slow[-1]


def test_a_sparse_series_is_interpolated_from_the_day_before_count_from() -> None:
    # UN-like: 160,000 on 3 Nov counted from 15 Sep: 0 on 14 Sep, 50 days of 3,200 a day.
    first, daily = daily_cumulative([D(2023, 11, 3)], [160_000], D(2023, 9, 15), D(2023, 11, 3))
    assert first == D(2023, 9, 14) and daily[-1] == 160_000 and daily[25] == pytest.approx(25 * 3200)
    baseline = naive_baseline([D(2023, 11, 3), D(2023, 11, 13)], [160_000, 261_240], D(2023, 9, 15),
                              D(2023, 11, 3), [D(2023, 11, 13)], TWO)
    assert baseline.median[0] == pytest.approx(192_000)
    assert baseline.band(0.1)[0][0] == pytest.approx(192_000) == pytest.approx(baseline.band(0.1)[1][0])
    with pytest.raises(ValueError, match="two observations"):
        naive_baseline([D(2023, 11, 3)], [160_000], None, D(2023, 11, 3), [D(2023, 11, 13)])
