"""When the target is reached: the reached date as a distribution over replications.

"Can 1,000,000 cross by 31 January 2024?" was answered no; the question that followed was *when*.
Each replication reaches the target on one PKT day (or never within the period). Across
replications that gives a distribution: its p05/p50/p95 dates, and the share of replications that
had reached the target by the end of each month — the answer a planner quotes ("by 30 June 2025 in
63 % of replications").

A replication that never reaches the target counts as +inf: it is in the denominator of every
share and pushes the upper quantiles to "not within the period"; it is never dropped.
Everything here is pure (numpy and pandas in, tables out).
"""
from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sim.outputs.statistics import quantiles_with_infinity, wilson_interval

REACHED_BY_MONTH_COLUMNS = ["month_end", "replications", "reached", "share_reached", "ci95_low", "ci95_high"]
SHARE_BY_DAY_PREFIX = "p_reached_by_"
"""Summary rows ``p_reached_by_2025-06-30``: share of replications reached by the end of that day."""


def month_end_days(period_start: date, n_days: int) -> list[int]:
    """Day indices of every month's last day within the period, and of the period's last day
    (when the period does not end on a month end, its last, partial month is judged there)."""
    if n_days <= 0:
        return []
    period_end = period_start + timedelta(days=n_days - 1)
    days: list[int] = []
    year, month = period_start.year, period_start.month
    while (year, month) <= (period_end.year, period_end.month):
        last = date(year, month, calendar.monthrange(year, month)[1])
        days.append((min(last, period_end) - period_start).days)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


def shares_reached_by(reach_day_indices: Sequence[float], days: Sequence[int]) -> list[tuple[int, int]]:
    """For each day index, (replications that reached the target by the end of that day, all)."""
    reached = np.asarray(reach_day_indices, dtype=float)
    return [(int(np.sum(reached <= day)), len(reached)) for day in days]


def reached_by_month_table(reach_day_indices: Sequence[float], period_start: date, n_days: int) -> pd.DataFrame:
    """``reached_by_month.csv``: one row per month end in the period (and the period's last day).

    Columns ``month_end, replications, reached, share_reached, ci95_low, ci95_high``: how many of
    the replications had reached the target by the end of that day, their share and its Wilson 95%
    interval. ``reach_day_indices`` are the PKT day indices on which each replication reached the
    target (``inf`` when it never did).
    """
    days = month_end_days(period_start, n_days)
    rows = []
    for day, (reached, total) in zip(days, shares_reached_by(reach_day_indices, days)):
        low, high = wilson_interval(reached, total)
        rows.append((period_start + timedelta(days=day), total, reached, reached / total, low, high))
    table = pd.DataFrame(rows, columns=REACHED_BY_MONTH_COLUMNS)
    table["month_end"] = pd.to_datetime(table["month_end"])
    return table


def reached_date_quantiles(reach_hours: Sequence[float], period_start: date) -> tuple[date | None, ...]:
    """p05, p50 and p95 of the reached date (None: not within the period).

    Quantiles (numpy ``linear``, +inf kept: :func:`sim.statistics.quantiles_with_infinity`) of the
    hours at which each replication reached the target, each then read as the PKT day it falls in,
    as the terminal's "Target reached" line does. A quantile that interpolates towards a
    replication that never reached the target is itself "not within the period".
    """
    quantiles = quantiles_with_infinity(np.asarray(reach_hours, dtype=float))
    return tuple(None if math.isinf(q) or math.isnan(q) else period_start + timedelta(days=math.floor(q / 24.0))
                 for q in quantiles)
