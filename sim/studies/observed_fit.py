"""A run against the figures it was fitted to: per observed figure, the run's band of the same quantity.

``bordersim run --observed SOURCE`` (a CSV or ``bundled:NAME``, repeatable) or, without it, the
scenario's ``observed:`` list names the figures. :func:`report_series` reads them
(:func:`sim.studies.observation.read_observations`), keeps those dated within the period (what the
run simulated) and checks them against the scenario. :func:`fit_table` sets each figure beside the
model quantity it measures — :meth:`~sim.studies.observation.ObservedSeries.model_values`, the
mapping the calibration uses: people crossed at the figure's node from its first day to the end of
its date — over the replications (p05, p50, p95), and says where the figure lies against that band.
It is ``observed_fit.csv`` of the results folder, which the report draws and tabulates.

The band is the spread over replications (household randomness, and parameter uncertainty where
the scenario draws values per replication); it does not include the reporter's own error, which
calibrate's ``fit.csv`` adds for its posterior-predictive band.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sim.studies.observation import ObservedSeries, check_series, combine, read_observations

FIT_COLUMNS = ["series", "kind", "node", "first_day", "date", "observed", "bound", "approximate", "start_window",
               "model_p05", "model_p50", "model_p95", "position", "inside", "model_before_p50", "origin"]
"""The columns of ``observed_fit.csv``, one row per figure (docs/reference/outputs.md)."""


def report_series(sources: Sequence[str], scenario) -> tuple[list[ObservedSeries], int]:
    """The observed series of ``sources`` that this run can be compared with, and how many figures
    were left out because the run did not simulate the days they count (dated outside the period,
    or counting from a day before its start).

    Raises :class:`~sim.studies.observation.ObservationError` (one line) for a source that cannot be
    read, a name given twice, or figures that cannot be compared with this scenario (a node that is
    not one of its crossings, more people than it has).
    """
    series = combine([read_observations(source) for source in sources])
    period = (scenario.period.start, scenario.period.end)
    kept = [item for item in (s.comparable(*period) for s in series) if item is not None]
    check_series(kept, scenario)
    left_out = sum(len(s.dates) for s in series) - sum(len(s.dates) for s in kept)
    return kept, left_out


def fit_table(outcomes: Sequence, scenario, series: Sequence[ObservedSeries]) -> pd.DataFrame:
    """``observed_fit.csv``: every figure of ``series`` beside the replications' p05, p50 and p95 of
    the quantity it measures (:data:`FIT_COLUMNS`)."""
    from sim.runs.evaluate import crossed_by_node

    crossings, start = list(scenario.crossings), scenario.period.start
    paths = [crossed_by_node(outcome, crossings) for outcome in outcomes]
    tables = [_series_rows(s, paths, start) for s in series]
    return pd.concat(tables, ignore_index=True) if tables else pd.DataFrame(columns=FIT_COLUMNS)


def _series_rows(series: ObservedSeries, paths: Sequence[Mapping[str, np.ndarray]], start: dt.date) -> pd.DataFrame:
    """The rows of one series: its figures and the band of their model quantities over ``paths``."""
    model = np.array([series.model_values(path, start) for path in paths])  # replications × figures
    p05, p50, p95 = np.quantile(model, [0.05, 0.5, 0.95], axis=0)
    before = np.median([crossed_before_first_day(series, path, start) for path in paths], axis=0)
    positions = band_position(series.values, p05, p95)
    return pd.DataFrame({
        "series": series.name, "kind": list(series.kinds), "node": series.node,
        "first_day": [series.first_day(index, start).isoformat() for index in range(len(series.dates))],
        "date": [day.isoformat() for day in series.dates], "observed": series.values,
        "bound": np.where(series.lower_bound, "lower", ""), "approximate": series.approximate,
        "start_window": [f"{window[0]}..{window[1]}" if window else "" for window in series.windows],
        "model_p05": p05, "model_p50": p50, "model_p95": p95, "position": positions,
        "inside": inside_band(positions, series.lower_bound), "model_before_p50": before,
        "origin": list(series.origins),
    }, columns=FIT_COLUMNS)


def crossed_before_first_day(series: ObservedSeries, daily: Mapping[str, np.ndarray],
                             start: dt.date) -> np.ndarray:
    """People crossed at the series' node before each figure's first day (0 where it is the period
    start): what a running total counted from a later day leaves out of the period's total."""
    before = np.concatenate([[0.0], np.cumsum(np.asarray(daily[series.node], float))])
    days = [max(0, (series.first_day(index, start) - start).days) for index in range(len(series.dates))]
    return before[days]


def band_position(observed: np.ndarray, p05: np.ndarray, p95: np.ndarray) -> np.ndarray:
    """Where each observed value lies against the band [p05, p95]: ``below``, ``inside`` or ``above``."""
    observed, p05, p95 = (np.asarray(values, float) for values in (observed, p05, p95))
    return np.where(observed < p05, "below", np.where(observed > p95, "above", "inside"))


def inside_band(position: np.ndarray, lower_bound: np.ndarray) -> np.ndarray:
    """Whether each figure agrees with the band: a point figure inside it; a lower bound ("more than
    X") inside or below it, i.e. the band reaches X."""
    position = np.asarray(position)
    return (position == "inside") | (np.asarray(lower_bound, bool) & (position == "below"))


__all__ = ["FIT_COLUMNS", "band_position", "crossed_before_first_day", "fit_table", "inside_band", "report_series"]
