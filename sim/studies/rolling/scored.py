"""Every figure after a cutoff, with what three forecasters said of it and how each scored.

One row per figure of the series dated after the cutoff up to the forecast's end (``figures.csv``
of a cutoff's folder): the figure (series, kind, the first and last day it counts, its value, a
lower bound or not), the horizon (days from the cutoff to its date), and

* the **fitted forecast** (the posterior at the cutoff): median, p05/p25/p75/p95, whether the
  figure lies in its 50 % and 90 % central bands (1 or 0), its WIS;
* the **unfitted prior** forecast: median, p05/p95, its WIS;
* **persistence** (:mod:`~sim.studies.rolling.persistence`): the point forecast and its WIS (its
  absolute error), empty where the series has too few figures;
* ``probability_above``: the share of fitted-forecast draws at or above the figure.

A **lower bound** ("more than 632,000") is not a value: it is left out of coverage and WIS (the
columns are empty on its row) and judged by ``probability_above`` — the forecast's probability
that the truth lies above the bound, which a good forecast makes high.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from sim.studies.observation import ObservedSeries
from sim.studies.scoring import HUB_ALPHAS, QuantileForecast, inside, weighted_interval_scores

FIGURE_COLUMNS = ["cutoff", "series", "kind", "first_day", "date", "horizon_days", "value", "lower_bound",
                  "median", "p05", "p25", "p75", "p95", "inside_50", "inside_90", "wis",
                  "prior_median", "prior_p05", "prior_p95", "wis_prior", "persistence", "wis_persistence",
                  "probability_above"]


def figure_rows(cutoff: dt.date, scored: ObservedSeries, draws: np.ndarray, prior_draws: np.ndarray,
                persistence: Sequence[float | None], period_start: dt.date) -> pd.DataFrame:
    """The rows of ``figures.csv`` for the figures of one series after the cutoff.

    ``draws``/``prior_draws``: replications × figures of the fitted and the unfitted forecast
    (:func:`sim.studies.forecast_draws.figure_draws`); ``persistence``: per figure, or None."""
    values = np.asarray(scored.values, float)
    exact = ~np.asarray(scored.lower_bound, bool)
    fitted = QuantileForecast.from_samples(draws, HUB_ALPHAS)
    prior = QuantileForecast.from_samples(prior_draws, HUB_ALPHAS)
    point = np.array([np.nan if value is None else value for value in persistence], float)
    has_point = exact & ~np.isnan(point)

    def exact_only(column: np.ndarray, where: np.ndarray = exact) -> np.ndarray:
        return np.where(where, column, np.nan)

    p05, p95 = fitted.band(0.1)
    p25, p75 = fitted.band(0.5)
    return pd.DataFrame({
        "cutoff": cutoff.isoformat(), "series": scored.name, "kind": list(scored.kinds),
        "first_day": [scored.first_day(index, period_start).isoformat() for index in range(len(values))],
        "date": [day.isoformat() for day in scored.dates],
        "horizon_days": [(day - cutoff).days for day in scored.dates],
        "value": values, "lower_bound": ~exact,
        "median": fitted.median, "p05": p05, "p25": p25, "p75": p75, "p95": p95,
        "inside_50": exact_only(inside(values, p25, p75)), "inside_90": exact_only(inside(values, p05, p95)),
        "wis": exact_only(weighted_interval_scores(values, fitted)),
        "prior_median": prior.median, "prior_p05": prior.band(0.1)[0], "prior_p95": prior.band(0.1)[1],
        "wis_prior": exact_only(weighted_interval_scores(values, prior)),
        "persistence": point,
        "wis_persistence": exact_only(weighted_interval_scores(values, QuantileForecast.point(np.nan_to_num(point))),
                                      has_point),
        "probability_above": np.mean(draws >= values[None, :], axis=0),
    }, columns=FIGURE_COLUMNS)


__all__ = ["FIGURE_COLUMNS", "figure_rows"]
