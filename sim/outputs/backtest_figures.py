"""The backtest figure: per series, the forecast band, the baseline, the observations and the cutoff.

A function of the tables a backtest writes (``forecast.csv``, ``observed.csv``) and the cutoff, like
the figures of :mod:`sim.figures` (no pyplot; Agg canvas). One panel per series: the forecast's
median with its 50 % and 90 % bands (filled), the naive baseline's median (dashed) and 90 % band
(hatched, unfilled), the figures used for calibration (open markers) and those scored (filled), and
a vertical line at the cutoff.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd

from sim.outputs.figures import COLOURS, _date_axis, _new_figure, _people_axis


def backtest_chart(bands: pd.DataFrame, observed: pd.DataFrame, cutoff: dt.date):
    """The figure (``bands``: series, date, median, p05 … p95, baseline_*; ``observed``: series,
    date, value) or None when there is nothing to draw."""
    names = list(dict.fromkeys(bands["series"]))
    if not names:
        return None
    figure = _new_figure(7.5, 3.4 * len(names))
    cutoff_time = pd.Timestamp(cutoff) + pd.Timedelta(hours=23, minutes=59)
    for index, name in enumerate(names):
        axes = figure.add_subplot(len(names), 1, index + 1)
        band = bands[bands["series"] == name]
        days = pd.to_datetime(band["date"])
        model, naive = COLOURS[0], COLOURS[1]
        axes.fill_between(days, band["p05"], band["p95"], color=model, alpha=0.18, linewidth=0,
                          label="forecast 90% band")
        axes.fill_between(days, band["p25"], band["p75"], color=model, alpha=0.35, linewidth=0,
                          label="forecast 50% band")
        axes.plot(days, band["median"], color=model, linewidth=1.8, label="forecast median")
        axes.fill_between(days, band["baseline_p05"], band["baseline_p95"], facecolor="none", edgecolor=naive,
                          hatch="///", linewidth=0.0, label="baseline 90% band")
        axes.plot(days, band["baseline_median"], color=naive, linestyle="--", linewidth=1.5,
                  label="baseline (last 7 days' rate)")
        points = observed[observed["series"] == name]
        when = pd.to_datetime(points["date"])
        before = when <= cutoff_time
        axes.plot(when[before], points["value"][before], linestyle="none", marker="o", markerfacecolor="white",
                  color="black", label="observed (calibration)")
        axes.plot(when[~before], points["value"][~before], linestyle="none", marker="s", color="black",
                  label="observed (scored)")
        axes.axvline(cutoff_time, color="#555555", linestyle=":", linewidth=1.2, label=f"cutoff {cutoff}")
        axes.set_title(f"{name}: forecast from {cutoff} against what followed", fontsize=10)
        _date_axis(axes)
        _people_axis(axes, "people (as reported)")
        axes.legend(fontsize=7, loc="upper left")
    return figure
