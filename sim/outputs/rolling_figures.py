"""The figures of a rolling-origin evaluation (``bordersim backtest --cutoffs``), as PNG bytes.

* :func:`cutoff_png` — one cutoff: per series, each figure after the cutoff with the fitted
  forecast's 90 % (thin) and 50 % (thick) interval at its date, the unfitted prior's 90 % interval
  (grey, behind), persistence (×), the figure itself (filled; a lower bound as ▲, a period count
  as a bar over its days) and the figures known at the cutoff (open circles). The y axis turns
  logarithmic when a panel's values span more than a factor 30 (day and month counts together).
* :func:`scores_png` — every cutoff: relative WIS against persistence and against the unfitted
  prior (log scales: a ratio), and the coverage of the 90 % and 50 % bands, one line per horizon
  (pooled ``all`` rows of ``scores.csv``), with the goal lines (relative WIS 0.7; 90 % coverage
  0.8–0.98).
"""
from __future__ import annotations

import datetime as dt
import io

import numpy as np
import pandas as pd

from sim.outputs.figures import COLOURS, _date_axis, _new_figure, _people_axis

LOG_SPAN = 30.0
RELATIVE_WIS_GOAL = 0.7
COVERAGE_90_GOAL = (0.8, 0.98)


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def _when(days) -> pd.Series:
    return pd.to_datetime(pd.Series(list(days), dtype=str))


def padded_date_span(times) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The dates drawn, padded by 4 % of their span and at least 3 days: one figure alone would
    otherwise get matplotlib's default span of years."""
    first, last = min(times), max(times)
    pad = max(pd.Timedelta(days=3), (last - first) * 0.04)
    return first - pad, last + pad


def cutoff_png(figures: pd.DataFrame, known: pd.DataFrame, cutoff: dt.date) -> bytes:
    """``figures``: the cutoff's ``figures.csv`` rows; ``known``: the figures up to the cutoff
    (series, kind, start, date, value: :func:`sim.studies.observation.observations_table`), drawn
    for context."""
    names = list(dict.fromkeys(figures["series"]))
    figure = _new_figure(7.5, 2.9 * max(1, len(names)))
    cutoff_time = pd.Timestamp(cutoff) + pd.Timedelta(hours=23, minutes=59)
    for index, name in enumerate(names):
        axes = figure.add_subplot(max(1, len(names)), 1, index + 1)
        rows = figures[figures["series"] == name]
        when = _when(rows["date"])
        axes.vlines(when, rows["prior_p05"], rows["prior_p95"], color="#bbbbbb", linewidth=7, label="prior 90%")
        axes.vlines(when, rows["p05"], rows["p95"], color=COLOURS[0], linewidth=1.5, label="forecast 90%")
        axes.vlines(when, rows["p25"], rows["p75"], color=COLOURS[0], linewidth=4, label="forecast 50%")
        axes.plot(when, rows["persistence"], linestyle="none", marker="x", color=COLOURS[1], label="persistence")
        bound = rows["lower_bound"].astype(bool).to_numpy()
        period = (rows["kind"] == "period").to_numpy()
        axes.hlines(rows["value"][period], _when(rows["first_day"][period]), when[period], color="black",
                    linewidth=1.0)
        axes.plot(when[~bound], rows["value"][~bound], linestyle="none", marker="s", color="black",
                  markersize=4, label="figure")
        if bound.any():
            axes.plot(when[bound], rows["value"][bound], linestyle="none", marker="^", color="black",
                      markersize=5, label="lower bound")
        before = known[known["series"] == name]
        if len(before):
            known_period = (before["kind"] == "period").to_numpy()
            axes.hlines(before["value"][known_period], _when(before["start"][known_period]),
                        _when(before["date"][known_period]), color="black", linewidth=0.8)
            axes.plot(_when(before["date"]), before["value"], linestyle="none", marker="o", markerfacecolor="white",
                      color="black", markersize=4, label="known at the cutoff")
        axes.axvline(cutoff_time, color="#555555", linestyle=":", linewidth=1.2, label=f"cutoff {cutoff}")
        drawn = [cutoff_time, *when, *_when(rows["first_day"][period]), *_when(before["date"]),
                 *_when(before["start"][before["kind"] == "period"])]
        axes.set_xlim(*padded_date_span(drawn))
        values = np.concatenate([rows[["value", "p05", "p95", "prior_p05", "prior_p95"]].to_numpy(float).ravel(),
                                 before["value"].to_numpy(float)])
        positive = values[np.isfinite(values) & (values > 0)]
        if positive.size and positive.max() > LOG_SPAN * positive.min():
            axes.set_yscale("log")
        axes.set_title(f"{name}: forecast from {cutoff}", fontsize=10)
        _date_axis(axes)
        _people_axis(axes, "people (as reported)")
        axes.legend(fontsize=6, loc="best", ncol=2)
    return _png(figure)


def scores_png(scores: pd.DataFrame) -> bytes:
    """``scores``: the rows of ``scores.csv`` (the pooled ``all`` rows are drawn)."""
    from matplotlib import ticker

    pooled = scores[scores["series"] == "all"]
    figure = _new_figure(7.5, 8.4)
    panels = [("relative_wis_persistence", "relative WIS against persistence"),
              ("relative_wis_prior", "relative WIS against the unfitted prior"),
              ("coverage_90", "coverage of the 90% (solid) and 50% (dashed) bands")]
    horizons = list(dict.fromkeys(pooled["horizon_days"]))
    for index, (column, title) in enumerate(panels):
        axes = figure.add_subplot(len(panels), 1, index + 1)
        for number, horizon in enumerate(horizons):
            rows = pooled[pooled["horizon_days"] == horizon]
            colour = COLOURS[number % len(COLOURS)]
            axes.plot(_when(rows["cutoff"]), rows[column], marker="o", color=colour, label=f"within {horizon} days")
            if column == "coverage_90":
                axes.plot(_when(rows["cutoff"]), rows["coverage_50"], marker="o", linestyle="--", color=colour)
        if column == "coverage_90":
            axes.axhspan(*COVERAGE_90_GOAL, color="#dddddd", alpha=0.6, linewidth=0, label="goal for 90% coverage")
            axes.axhline(0.5, color="#777777", linestyle=":", linewidth=1)
            axes.set_ylim(-0.03, 1.03)
        else:
            # a ratio: 2 and 0.5 are as far from 1, and one bad cutoff (×13) would flatten the rest
            axes.set_yscale("log")
            axes.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
            axes.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
            axes.yaxis.set_minor_formatter(ticker.NullFormatter())
            axes.axhline(1.0, color="#777777", linestyle=":", linewidth=1)
            if column == "relative_wis_persistence":
                axes.axhline(RELATIVE_WIS_GOAL, color="#777777", linestyle="--", linewidth=1, label="goal 0.7")
        axes.set_title(title, fontsize=10)
        axes.set_xlabel("cutoff")
        _date_axis(axes)
        axes.legend(fontsize=7, loc="best")
    return _png(figure)


__all__ = ["cutoff_png", "scores_png"]
