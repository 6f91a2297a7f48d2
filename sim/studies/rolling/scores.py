"""From every scored figure to ``scores.csv``: per cutoff, horizon and series, and pooled.

**Horizons are nested**: the figures of horizon *h* are those dated in ``(cutoff, cutoff + h]``
— "within *h* days of the cutoff", the usual reading — so the 180-day scores include the 30-day
figures. A period count belongs to the horizon of its last day.

One row of ``scores.csv`` per cutoff, horizon and series with at least one exact figure in the
window, then a row ``all`` per cutoff and horizon pooling every series:

* ``figures``: exact figures scored (lower bounds are counted in ``bounds.csv`` instead);
* ``coverage_50``, ``coverage_90``: the share inside the fitted forecast's central 50 % and 90 %
  bands (a calibrated forecaster: about 0.5 and 0.9);
* ``wis``: the mean weighted interval score of the fitted forecast (people; lower is better);
* ``relative_wis_persistence``: mean WIS ÷ the persistence forecast's mean WIS over the same
  figures (those persistence has a forecast for; empty if none): below 1 the model beats
  carrying the last month's rate on;
* ``relative_wis_prior``: mean WIS ÷ the unfitted prior forecast's mean WIS: below 1 the fit to
  the figures up to the cutoff helped.

Pooled rows take the mean over their figures, so a series with many or large figures weighs more.
``summary.csv`` pools the same way over every cutoff (per horizon and series, and ``all``);
``bounds.csv`` holds, per cutoff, horizon and series with lower bounds, how many there were, the
share the forecast median met and the mean probability the forecast gave to lying above them.
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

ALL = "all"
SCORE_COLUMNS = ["cutoff", "horizon_days", "series", "figures", "coverage_50", "coverage_90", "wis",
                 "relative_wis_persistence", "relative_wis_prior"]
SUMMARY_COLUMNS = ["horizon_days", "series", "cutoffs", *SCORE_COLUMNS[3:]]
BOUND_COLUMNS = ["cutoff", "horizon_days", "series", "bounds", "median_at_or_above", "probability_above"]


def ratio(numerator: float, denominator: float) -> float:
    """``numerator / denominator`` (a mean WIS over a baseline's): NaN when neither forecast missed
    at all (nothing to compare), infinite when only the baseline was perfect."""
    if denominator > 0:
        return numerator / denominator
    return math.inf if numerator > 0 else math.nan


def score_row(figures: pd.DataFrame) -> dict[str, float]:
    """The scores of a set of exact figures (rows of ``figures.csv``)."""
    persisted = figures[figures["wis_persistence"].notna()]
    return {
        "figures": len(figures),
        "coverage_50": float(figures["inside_50"].mean()),
        "coverage_90": float(figures["inside_90"].mean()),
        "wis": float(figures["wis"].mean()),
        "relative_wis_persistence": (ratio(float(persisted["wis"].mean()), float(persisted["wis_persistence"].mean()))
                                     if len(persisted) else math.nan),
        "relative_wis_prior": ratio(float(figures["wis"].mean()), float(figures["wis_prior"].mean())),
    }


def _exact(figures: pd.DataFrame) -> pd.DataFrame:
    return figures[~figures["lower_bound"].astype(bool)]


def _names(figures: pd.DataFrame) -> list[str]:
    """The series in the order they were given."""
    return list(dict.fromkeys(figures["series"]))


def _by_series(part: pd.DataFrame, names: Sequence[str]) -> list[tuple[str, pd.DataFrame]]:
    """Each series with figures in ``part``, in the order of ``names``, then ``all`` (if any)."""
    groups = [(name, part[part["series"] == name]) for name in names]
    groups = [(name, group) for name, group in groups if len(group)]
    return [*groups, (ALL, part)] if groups else []


def _windows(figures: pd.DataFrame, horizons_days: Sequence[int], names: Sequence[str]):
    """(cutoff, horizon, series, its figures) for every cutoff and horizon, each series with figures
    in the window, then ``all``."""
    for cutoff in sorted(dict.fromkeys(figures["cutoff"])):
        mine = figures[figures["cutoff"] == cutoff]
        for horizon in horizons_days:
            for name, group in _by_series(mine[mine["horizon_days"] <= horizon], names):
                yield cutoff, horizon, name, group


def scores_table(figures: pd.DataFrame, horizons_days: Sequence[int]) -> pd.DataFrame:
    """``scores.csv`` from every cutoff's ``figures.csv`` rows (module docstring)."""
    rows = [{"cutoff": cutoff, "horizon_days": horizon, "series": name, **score_row(group)}
            for cutoff, horizon, name, group in _windows(_exact(figures), horizons_days, _names(figures))]
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)


def summary_table(figures: pd.DataFrame, horizons_days: Sequence[int]) -> pd.DataFrame:
    """``summary.csv``: the scores pooled over every cutoff, per horizon and series, and ``all``."""
    exact = _exact(figures)
    rows = [{"horizon_days": horizon, "series": name, "cutoffs": group["cutoff"].nunique(), **score_row(group)}
            for horizon in horizons_days
            for name, group in _by_series(exact[exact["horizon_days"] <= horizon], _names(figures))]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def bounds_table(figures: pd.DataFrame, horizons_days: Sequence[int]) -> pd.DataFrame:
    """``bounds.csv``: how the fitted forecast met the lower bounds (module docstring)."""
    bounds = figures[figures["lower_bound"].astype(bool)]
    rows = [{"cutoff": cutoff, "horizon_days": horizon, "series": name, "bounds": len(group),
             "median_at_or_above": float(np.mean(group["median"] >= group["value"])),
             "probability_above": float(group["probability_above"].mean())}
            for cutoff, horizon, name, group in _windows(bounds, horizons_days, _names(figures))]
    return pd.DataFrame(rows, columns=BOUND_COLUMNS)


def counted(number: int, noun: str) -> str:
    """``1 cutoff``, ``3 cutoffs``."""
    return f"{number} {noun}{'s' * (number != 1)}"


def summary_lines(summary: pd.DataFrame) -> list[str]:
    """What the command prints: per horizon, the scores over every series and cutoff."""
    lines = []
    for _, row in summary[summary["series"] == ALL].iterrows():
        lines.append(f"  within {counted(row['horizon_days'], 'day')}: {counted(row['figures'], 'figure')} over "
                     f"{counted(row['cutoffs'], 'cutoff')}; "
                     f"coverage 50% {row['coverage_50']:.2f}, 90% {row['coverage_90']:.2f}; WIS {row['wis']:,.0f}; "
                     f"relative WIS {row['relative_wis_persistence']:.2f} against persistence, "
                     f"{row['relative_wis_prior']:.2f} against the unfitted prior")
    return lines


__all__ = ["ALL", "BOUND_COLUMNS", "SCORE_COLUMNS", "SUMMARY_COLUMNS", "bounds_table", "counted", "ratio", "score_row",
           "scores_table", "summary_lines", "summary_table"]
