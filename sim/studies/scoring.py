"""Scoring forecasts against what followed: coverage, the weighted interval score, a naive baseline.

A forecast of an observed series is a set of central prediction intervals and a median per date
(here: quantiles over replications). It is judged, as in the COVID-19 Forecast Hub
(Bracher et al. 2021, *PLoS Comput Biol* 17:e1008618; Cramer et al. 2022), by:

* **coverage** — the share of observations inside the 50 % and the 90 % central bands. A calibrated
  forecaster's 90 % band holds about 90 % of what happens; far less means overconfidence.
* **weighted interval score (WIS)** — for the median ``m`` and K central intervals ``[l_k, u_k]`` of
  level ``1 − α_k``::

      IS_α(l, u; y) = (u − l) + 2/α · (l − y)·1{y < l} + 2/α · (y − u)·1{y > u}
      WIS(y) = 1 / (K + 1/2) · ( 1/2 · |y − m| + Σ_k α_k/2 · IS_α_k(l_k, u_k; y) )

  in the units of the series (people); lower is better. It rewards sharp bands and penalises misses
  by how far they miss, and approximates the CRPS. The interval scores come from the
  ``scoringrules`` library (``interval_score``; see :func:`weighted_interval_scores` for why its
  ``weighted_interval_score`` is not used as it stands); the intervals are the Hub's 11
  (α = 0.02, 0.05, 0.1, 0.2, …, 0.9: the 23 quantiles 0.01 … 0.99).
* **relative WIS** — the mean WIS of the forecast ÷ the mean WIS of a naive baseline on the same
  points: below 1, the model beats the baseline.
* **ARD of the median** — mean of ``|m − y| / y``, the figure calibration reports.

**The naive baseline** (:func:`naive_baseline`) is what someone with the series and no model would
say: the last 7 days' mean daily increase before the cutoff, carried forward. Its bands come from
how much the daily increase varied over the last 28 days: rate quantile ``q`` is the 7-day mean
plus the q-quantile of those 28 daily increases minus their median (so the median is the 7-day mean
itself), never below 0 (cumulative counts do not fall); the cumulative forecast ``h`` days after the
last observation is the last value plus ``h`` × that rate. Holding the rate's error for the whole
horizon, rather than adding independent daily errors (which would grow only like √h), is the
honest choice for departures that come in waves: a rate that is off is off for weeks. Between
sparse observations the series is interpolated linearly (the day before ``count_from`` counts 0),
so a series with few points has a smooth past and a narrow baseline band; that is what such data
allow a naive forecaster to know. See ``docs/explanation/scoring.md``.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scoringrules

HUB_ALPHAS: tuple[float, ...] = (0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
"""The COVID-19 Forecast Hub's central intervals (levels 98 %, 95 %, 90 %, 80 %, …, 10 %)."""
RATE_WINDOW_DAYS = 7
SPREAD_WINDOW_DAYS = 28


@dataclass(frozen=True)
class QuantileForecast:
    """A forecast of n points: the median and K central intervals ``lower[:, k]``–``upper[:, k]`` of
    level ``1 − alphas[k]``."""

    median: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    alphas: tuple[float, ...]

    @classmethod
    def from_samples(cls, samples: np.ndarray, alphas: Sequence[float] = HUB_ALPHAS) -> QuantileForecast:
        """Quantiles of ``samples`` (draws × points, e.g. replications × dates), linear interpolation."""
        samples = np.asarray(samples, float)
        alphas = tuple(float(alpha) for alpha in alphas)
        lower = np.quantile(samples, [alpha / 2 for alpha in alphas], axis=0).T
        upper = np.quantile(samples, [1 - alpha / 2 for alpha in alphas], axis=0).T
        return cls(np.quantile(samples, 0.5, axis=0), lower, upper, alphas)

    @classmethod
    def point(cls, values: np.ndarray, alphas: Sequence[float] = HUB_ALPHAS) -> QuantileForecast:
        """A point forecast: every interval collapses on the value, so its WIS is its absolute error."""
        values = np.asarray(values, float)
        alphas = tuple(float(alpha) for alpha in alphas)
        stacked = np.repeat(values[:, None], len(alphas), axis=1)
        return cls(values, stacked, stacked.copy(), alphas)

    def band(self, alpha: float) -> tuple[np.ndarray, np.ndarray]:
        """The central interval of level ``1 − alpha`` (one of ``alphas``)."""
        index = _index_of(self.alphas, alpha)
        return self.lower[:, index], self.upper[:, index]


def _index_of(alphas: Sequence[float], alpha: float) -> int:
    for index, candidate in enumerate(alphas):
        if abs(candidate - alpha) < 1e-12:
            return index
    raise ValueError(f"the forecast has no {1 - alpha:.0%} interval (alphas {list(alphas)})")


def inside(observed: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """1.0 where the observation lies in its band (ends included), else 0.0."""
    observed = np.asarray(observed, float)
    return ((observed >= lower) & (observed <= upper)).astype(float)


def coverage(observed: np.ndarray, forecast: QuantileForecast, alpha: float) -> float:
    """Share of observations inside the central band of level ``1 − alpha``."""
    lower, upper = forecast.band(alpha)
    return float(np.mean(inside(observed, lower, upper)))


def interval_score(observed: np.ndarray, lower: np.ndarray, upper: np.ndarray, alpha: float) -> np.ndarray:
    """The interval score of each observation for its ``1 − alpha`` band (``scoringrules``)."""
    scores = scoringrules.interval_score(np.asarray(observed, float), np.asarray(lower, float),
                                         np.asarray(upper, float), float(alpha), backend="numpy")
    return np.asarray(scores, float).reshape(np.shape(observed))  # scoringrules squeezes length-1 axes


def weighted_interval_scores(observed: np.ndarray, forecast: QuantileForecast) -> np.ndarray:
    """The WIS of each observation, with the canonical weights α/2 per interval and 1/2 on the median.

    The interval scores come from ``scoringrules.interval_score``; they are combined here, not by
    ``scoringrules.weighted_interval_score``, because its numpy backend (0.10.0, the latest release)
    adds ``w_median × median`` instead of ``w_median × |y − median|`` (its numba backend is right,
    but numba is a heavy dependency for one sum). ``tests/test_scoring.py`` pins both cases by hand.
    """
    observed = np.asarray(observed, float)
    alphas = np.asarray(forecast.alphas, float)
    scores = scoringrules.interval_score(observed, forecast.lower, forecast.upper, alphas, backend="numpy")
    scores = np.asarray(scores, float).reshape(forecast.lower.shape)  # (points, intervals); it squeezes
    total = np.sum(scores * (alphas / 2), axis=-1) + 0.5 * np.abs(observed - forecast.median)
    return total / (len(alphas) + 0.5)


def relative_differences(median: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """``|median − observed| / observed`` per point (their mean is the ARD)."""
    observed = np.asarray(observed, float)
    return np.abs(np.asarray(median, float) - observed) / observed


# --------------------------------------------------------------------------------------------
# The naive baseline


def daily_cumulative(dates: Sequence[dt.date], values: Sequence[float], count_from: dt.date | None,
                     until: dt.date) -> tuple[dt.date, np.ndarray]:
    """The cumulative series on every day from its first known point to ``until`` (linear between
    observations; 0 on the day before ``count_from`` when that precedes the first observation).

    Returns the first day and the daily values. Observations after ``until`` are ignored.
    """
    points = sorted((day, float(value)) for day, value in zip(dates, values) if day <= until)
    if count_from is not None:
        anchor = count_from - dt.timedelta(days=1)
        if not points or anchor < points[0][0]:
            points.insert(0, (anchor, 0.0))
    if not points:
        raise ValueError(f"no observation on or before {until}")
    first = points[0][0]
    offsets = [(day - first).days for day, _ in points]
    last = offsets[-1]
    return first, np.interp(np.arange(last + 1), offsets, [value for _, value in points])


def naive_baseline(dates: Sequence[dt.date], values: Sequence[float], count_from: dt.date | None,
                   cutoff: dt.date, forecast_dates: Sequence[dt.date],
                   alphas: Sequence[float] = HUB_ALPHAS) -> QuantileForecast:
    """The baseline forecast of a cumulative series at ``forecast_dates`` from the observations up
    to ``cutoff`` (see the module docstring). Raises ``ValueError`` when the observations up to the
    cutoff give no rate (a single point and no ``count_from``)."""
    first, cumulative = daily_cumulative(dates, values, count_from, cutoff)
    if len(cumulative) < 2:
        raise ValueError("needs two observations (or one and count_from) up to the cutoff for the baseline's rate")
    last_day = first + dt.timedelta(days=len(cumulative) - 1)  # the last observation up to the cutoff
    days = min(RATE_WINDOW_DAYS, len(cumulative) - 1)
    rate = (cumulative[-1] - cumulative[-1 - days]) / days
    increases = np.diff(cumulative[-1 - min(SPREAD_WINDOW_DAYS, len(cumulative) - 1):])
    alphas = tuple(float(alpha) for alpha in alphas)
    horizon = np.array([(day - last_day).days for day in forecast_dates], float)

    def at(level: float) -> np.ndarray:
        level_rate = max(0.0, rate + float(np.quantile(increases, level) - np.quantile(increases, 0.5)))
        return cumulative[-1] + horizon * level_rate

    lower = np.column_stack([at(alpha / 2) for alpha in alphas])
    upper = np.column_stack([at(1 - alpha / 2) for alpha in alphas])
    return QuantileForecast(at(0.5), lower, upper, alphas)


# --------------------------------------------------------------------------------------------
# Summaries


@dataclass(frozen=True)
class Scores:
    """The scores of a forecast and of the baseline over the same observations."""

    points: int
    coverage50: float
    coverage90: float
    wis: float
    wis_baseline: float
    ard: float
    ard_baseline: float

    @property
    def relative_wis(self) -> float:
        """Mean WIS ÷ the baseline's mean WIS (below 1: better than the baseline)."""
        return self.wis / self.wis_baseline if self.wis_baseline > 0 else float("inf")

    def as_row(self) -> dict[str, float]:
        return {"points": self.points, "coverage50": self.coverage50, "coverage90": self.coverage90,
                "wis": self.wis, "wis_baseline": self.wis_baseline, "relative_wis": self.relative_wis,
                "ard": self.ard, "ard_baseline": self.ard_baseline}


def score(observed: np.ndarray, forecast: QuantileForecast, baseline: QuantileForecast) -> Scores:
    """Coverage of the 50 % and 90 % bands, mean WIS (forecast and baseline) and ARD of the medians."""
    observed = np.asarray(observed, float)
    return Scores(
        points=len(observed),
        coverage50=coverage(observed, forecast, 0.5),
        coverage90=coverage(observed, forecast, 0.1),
        wis=float(np.mean(weighted_interval_scores(observed, forecast))),
        wis_baseline=float(np.mean(weighted_interval_scores(observed, baseline))),
        ard=float(np.mean(relative_differences(forecast.median, observed))),
        ard_baseline=float(np.mean(relative_differences(baseline.median, observed))),
    )
