"""``needs.csv``: each item's need per node and week (or day, or month), and its peak day.

A week's need of a consumed item (per person-day, per arrival) is the sum of its days; that of an
item needed at one time (per person present: space, latrines) is its largest day. Weeks run from
the period start in steps of 7 days (the last one may be shorter); months are calendar months
(the first starts on the period start). The mean and the 5 %, 50 % and 95 % quantiles are over
replications (numpy's linear quantiles, as in ``projection.csv``): each replication is summed (or
maximised) first, then the replications are compared.

The ``peak_day`` row of an item at a node gives, over replications, the largest daily need of each
replication (so p95 is a peak that 95 % of the replications stay at or below), dated with the
median day (the lower one of an even count) on which the replications reached their peak.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sim.outputs.needs.series import NeedSeries

NEEDS_COLUMNS = ["date", "node", "item", "unit", "mean", "p05", "p50", "p95", "span", "at", "per", "amount",
                 "source"]
SPANS = ("week", "month", "day")
PEAK_SPAN = "peak_day"


def span_starts(period_start: date, n_days: int, span: str) -> list[int]:
    """Day indices at which each week, month or day of the period begins."""
    if span == "day":
        return list(range(n_days))
    if span == "week":
        return list(range(0, n_days, 7))
    if span == "month":
        return [0] + [day for day in range(1, n_days) if (period_start + timedelta(days=day)).day == 1]
    raise ValueError(f"span must be one of {', '.join(SPANS)}; got {span!r}")


def per_span(series: NeedSeries, starts: list[int]) -> np.ndarray:
    """(replications × spans): each span's need in each replication (largest day of a level item,
    sum of the days of a consumed one)."""
    reduce = np.maximum.reduceat if series.is_level else np.add.reduceat
    return reduce(series.values, starts, axis=1)


def _band(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean, p05, p50, p95 over replications (axis 0) of each column."""
    p05, p50, p95 = np.quantile(values, [0.05, 0.5, 0.95], axis=0, method="linear")
    return values.mean(axis=0), p05, p50, p95


def peak_days(series: NeedSeries) -> tuple[np.ndarray, int]:
    """Each replication's largest daily need, and the median day (index) of those peaks."""
    peaks = series.values.max(axis=1)
    day = int(np.quantile(series.values.argmax(axis=1), 0.5, method="lower"))
    return peaks, day


def needs_table(series: Sequence[NeedSeries], period_start: date, span: str = "week") -> pd.DataFrame:
    """The rows of ``needs.csv`` (columns :data:`NEEDS_COLUMNS`): per item, place and node, one row
    per ``span`` (``week``, ``month`` or ``day``; dated with its first day), then its peak day."""
    rows = []
    for one in series:
        n_days = one.values.shape[1]
        if n_days == 0:
            continue
        starts = span_starts(period_start, n_days, span)
        described = (one.at, one.per, one.amount, one.source)
        for start, mean, p05, p50, p95 in zip(starts, *_band(per_span(one, starts))):
            rows.append((period_start + timedelta(days=start), one.node, one.item, one.unit,
                         mean, p05, p50, p95, span, *described))
        peaks, day = peak_days(one)
        mean, p05, p50, p95 = _band(peaks[:, None])
        rows.append((period_start + timedelta(days=day), one.node, one.item, one.unit,
                     mean[0], p05[0], p50[0], p95[0], PEAK_SPAN, *described))
    table = pd.DataFrame(rows, columns=NEEDS_COLUMNS)
    table["date"] = pd.to_datetime(table["date"])
    for name in ("mean", "p05", "p50", "p95", "amount"):
        table[name] = table[name].astype(float)
    return table


def peak_needs(series: Sequence[NeedSeries]) -> dict[str, np.ndarray]:
    """Each item's peak daily need at each node, one value per replication, keyed
    ``peak need: <item> at <node> (<unit>)`` (what ``bordersim compare`` pairs)."""
    return {peak_label(one): one.values.max(axis=1) for one in series if one.values.shape[1]}


def peak_label(series: NeedSeries) -> str:
    return f"peak need: {series.item} at {series.node} ({series.unit})"


def peak_summary(table: pd.DataFrame) -> pd.DataFrame:
    """One row per item, place and node of a ``needs.csv`` table: the week (month, day) with the
    largest mean need and its 90 % band, the peak day, the figure used and its source (what the
    report shows a planner first). Nodes where no replication needed anything are left out."""
    rows = []
    for (item, at, node), group in table.groupby(["item", "at", "node"], sort=False):
        peak = group[group["span"] == PEAK_SPAN].iloc[0]
        if peak["p95"] <= 0:
            continue  # never needed in any replication (nobody waited outside this camp)
        spans = group[group["span"] != PEAK_SPAN]
        busiest = spans.loc[spans["mean"].idxmax()]
        rows.append({"item": item, "at": at, "node": node, "unit": peak["unit"],
                     "per": f"{peak['amount']:g} {peak['unit']} per {str(peak['per']).replace('_', '-')}",
                     f"peak {busiest['span']}": str(busiest["date"])[:10], "mean": busiest["mean"],
                     "p05": busiest["p05"], "p95": busiest["p95"],
                     "peak day": str(peak["date"])[:10], "peak day p50": peak["p50"],
                     "peak day p05": peak["p05"], "peak day p95": peak["p95"], "source": peak["source"]})
    return pd.DataFrame(rows)
