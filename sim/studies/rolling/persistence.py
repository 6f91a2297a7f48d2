"""The persistence baseline: the last 30 days' rate of a series, carried on.

What would someone say who had the figures of a series up to the cutoff and no model? *Returns
go on at the pace of the last month.* Each figure known by the cutoff says how many people crossed
over a stretch of days:

* a **daily** count: that day;
* a **period** count (a week, a month, a quarter): its days, from ``start`` to its date;
* a **running total**: the days since the previous running total *with the same start* (the
  increase between the two), or, for the first one, the days since its start (its ``count_from``,
  or the middle of the window of an uncertain start, as :meth:`ObservedSeries.first_day` says).

The **rate** (people a day) spreads each stretch's people evenly over its days and averages over
the last 30 days up to the last day any figure counted (fewer if the figures cover fewer): the
people in those days ÷ the days covered. So a series of running totals gets the slope of its
straight-line interpolation over the last 30 days, and a series of monthly counts the rate of its
last month. A rate below zero (running totals that fell: revised figures) counts as zero.

The **forecast** of a figure after the cutoff, with ``r`` that rate:

* a daily count: ``r``; a period count: ``r`` × the period's days (a period that began before the
  cutoff too: the forecaster knows the rate, not the part of the period already past);
* a running total: the last known running total with the same start + ``r`` × the days since it.

**Too few figures.** Lower bounds ("more than …") say nothing exact and are left out. A series
with no exact figure up to the cutoff has no rate, and a running total whose start matches no
known running total has no last value: those figures get no persistence forecast (None), and the
relative WIS against persistence is taken over the figures that have one.

Persistence is a point forecast: its weighted interval score is its absolute error (every interval
collapses on the point; Bracher et al. 2021), so a model beats it only by a median closer to the
figures or by bands narrow enough to pay for their width.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sim.studies.observation import ObservedSeries

WINDOW_DAYS = 30
"""The rate is the mean over the last 30 days the figures cover."""


@dataclass(frozen=True)
class Stretch:
    """People that a figure says crossed from ``first`` to ``last`` (both days included)."""

    first: dt.date
    last: dt.date
    people: float

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1


def known_stretches(series: ObservedSeries, cutoff: dt.date, period_start: dt.date) -> list[Stretch]:
    """The stretches of days the exact figures up to ``cutoff`` count (module docstring)."""
    stretches = []
    last_total: dict[dt.date, tuple[dt.date, float]] = {}  # a running total's start -> (date, value)
    for index in _exact_known(series, cutoff):
        day, value, first = series.dates[index], float(series.values[index]), series.first_day(index, period_start)
        if series.kinds[index] == "cumulative":
            previous = last_total.get(first)
            last_total[first] = (day, value)
            if previous is not None:
                if previous[0] < day:
                    stretches.append(Stretch(previous[0] + dt.timedelta(days=1), day, value - previous[1]))
                continue
        if first <= day:
            stretches.append(Stretch(first, day, value))
    return stretches


def _exact_known(series: ObservedSeries, cutoff: dt.date) -> list[int]:
    """Indices of the figures known by ``cutoff`` that are not lower bounds, in date order."""
    return [index for index, day in enumerate(series.dates) if day <= cutoff and not series.lower_bound[index]]


def recent_rate(stretches: list[Stretch], window_days: int = WINDOW_DAYS) -> float | None:
    """People a day over the last ``window_days`` days the stretches cover (None: no stretch)."""
    if not stretches:
        return None
    end = max(stretch.last for stretch in stretches)
    window_first = end - dt.timedelta(days=window_days - 1)
    people = days = 0.0
    for stretch in stretches:
        overlap = (min(stretch.last, end) - max(stretch.first, window_first)).days + 1
        if overlap > 0:
            people += stretch.people * overlap / stretch.days
            days += overlap
    return max(0.0, people / days) if days else None


def persistence_forecast(series: ObservedSeries, cutoff: dt.date, scored: ObservedSeries,
                         period_start: dt.date) -> list[float | None]:
    """The persistence forecast of every figure of ``scored`` (figures of ``series`` after the
    cutoff), from the figures of ``series`` up to ``cutoff``; None where there is none."""
    rate = recent_rate(known_stretches(series, cutoff, period_start))
    if rate is None:
        return [None] * len(scored.dates)
    last_total: dict[dt.date, tuple[dt.date, float]] = {}
    for index in _exact_known(series, cutoff):
        if series.kinds[index] == "cumulative":
            last_total[series.first_day(index, period_start)] = (series.dates[index], float(series.values[index]))
    forecasts: list[float | None] = []
    for index, day in enumerate(scored.dates):
        first = scored.first_day(index, period_start)
        if scored.kinds[index] != "cumulative":
            forecasts.append(rate * ((day - first).days + 1))
        elif first in last_total:
            known_day, known_value = last_total[first]
            forecasts.append(known_value + rate * (day - known_day).days)
        else:
            forecasts.append(None)
    return forecasts


__all__ = ["WINDOW_DAYS", "Stretch", "known_stretches", "persistence_forecast", "recent_rate"]
