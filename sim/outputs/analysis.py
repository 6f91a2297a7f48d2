"""From replications to the tables a planner reads: daily series, projections, summary, headline.

Every function here is pure: it takes the list of :class:`~sim.model.outcome.ReplicationOutcome` the
runner collected plus plain values describing the period and the target (``period_start``, the
target date and people), and returns a pandas DataFrame or a small dataclass. Nothing is printed
or written; :mod:`sim.outputs.results` writes the tables and the CLI prints the :class:`Headline`.

Dates. Day index ``i`` of a daily series is the PKT calendar day ``period_start + i days``. The
target is reached on the PKT day ``period_start + floor(target_reached_hours / 24)``; "reached by
the end of day d" means that day is on or before d.

Replications that never reach the target within the period have ``target_reached_hours = inf``.
They stay in every quantile as ``+inf`` (see :mod:`sim.outputs.statistics`), so a median date of "not
within the period" means at least half of the replications never got there.

pandas and scipy are imported here, never by the model: this module runs once in the parent
process after the replications are back.
"""
from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from sim.model.outcome import (
    VERDICT_CAPACITY_BINDS,
    VERDICT_DEPARTURES_BIND,
    VERDICT_REACHED,
    DailyKey,
    ReplicationOutcome,
)
from sim.outputs.reached import (
    SHARE_BY_DAY_PREFIX,
    month_end_days,
    reached_by_month_table,
    reached_date_quantiles,
    shares_reached_by,
)
from sim.outputs.statistics import finite_mean, quantiles_with_infinity, t_interval, wilson_interval

PROJECTION_LEVEL_METRICS: tuple[str, ...] = (
    "queue_people",
    "occupancy_people",
    "waiting_outside_people",
    "in_pipeline_people",
    "remaining_stock_people",
    "unserved_people",
)
"""End-of-day levels projected alongside every ``*_cumulative`` metric.

Daily flows (``crossed_people`` on one day) are left out of the projection: their weekly
snapshots say little, while the cumulative series and the levels (how many are queued, in camps,
still to leave) are what a planner compares with a target or with reception space.
"""

CUMULATIVE_SUFFIX = "_cumulative"

REPLICATION_METRICS: tuple[str, ...] = (
    "crossed_by_target_date",
    "departed_by_target_date",
    "peak_queue_people",
    "peak_waiting_outside_people",
    "wait_hours_p95",
    "unserved_people",
)
"""Per-replication totals summarised with a mean, t interval and quantiles (in this order)."""

KNOWN_VERDICTS: tuple[str, ...] = (VERDICT_REACHED, VERDICT_DEPARTURES_BIND, VERDICT_CAPACITY_BINDS)
"""Verdicts always listed in the summary (with share 0 when no replication had them)."""

HOURS_PER_DAY = 24.0

DAILY_COLUMNS = ["replication", "date", "node", "node_type", "metric", "value"]
REPLICATIONS_COLUMNS = [
    "replication",
    "crossed_by_target_date",
    "target_reached",
    "target_date",
    "departed_by_target_date",
    "peak_queue_people",
    "peak_waiting_outside_people",
    "wait_hours_p95",
    "verdict",
    "binding_where",
]
SUMMARY_COLUMNS = ["metric", "mean", "ci95_low", "ci95_high", "p05", "p50", "p95"]


def is_projection_metric(metric: str) -> bool:
    """True for the metrics the projection reports: cumulative series and end-of-day levels."""
    return metric.endswith(CUMULATIVE_SUFFIX) or metric in PROJECTION_LEVEL_METRICS


def verdict_share_metric(verdict: str) -> str:
    """Summary row name of a verdict's share: ``crossing capacity binds`` → ``share_crossing_capacity_binds``."""
    return "share_" + verdict.replace(" ", "_")


def _sorted_outcomes(outcomes: Sequence[ReplicationOutcome]) -> list[ReplicationOutcome]:
    # Replications may come back from a pool in any order; tables must not depend on it.
    if not outcomes:
        raise ValueError("no replications: the analysis needs at least one ReplicationOutcome")
    return sorted(outcomes, key=lambda outcome: outcome.replication)


def _n_days(outcomes: Sequence[ReplicationOutcome]) -> int:
    """Days in the period, from the length of the daily series."""
    return max((len(series) for series in outcomes[0].daily.values()), default=0)


def _series_order(key: DailyKey) -> tuple[str, str, str]:
    node, node_type, metric = key
    return (node_type, node, metric)


def _day_dates(period_start: date, n_days: int) -> np.ndarray:
    return np.datetime64(period_start, "D") + np.arange(n_days)


def _total(outcome: ReplicationOutcome, name: str, default: float = math.nan) -> float:
    return float(outcome.totals.get(name, default))


def _reach_hours(outcome: ReplicationOutcome) -> float:
    """Hours from period start when the target was reached; ``inf`` if never (or no target)."""
    hours = _total(outcome, "target_reached_hours", math.inf)
    return math.inf if math.isnan(hours) else hours


def _reach_day_index(hours: float) -> float:
    """Day index of the PKT day on which the target was reached (``inf`` when never)."""
    return math.inf if math.isinf(hours) else float(math.floor(hours / HOURS_PER_DAY))


def _target_day_index(period_start: date, target_by: date | None) -> int | None:
    return (target_by - period_start).days if target_by is not None else None


def _reached_by(outcome: ReplicationOutcome, target_day_index: int | None) -> bool:
    """Whether the target was reached by the end of day ``target_day_index``.

    Without a target day (no target given) fall back to the engine's own ``target_reached``.
    """
    if target_day_index is None:
        flag = _total(outcome, "target_reached", 0.0)
        return bool(flag) and not math.isnan(flag)
    return _reach_day_index(_reach_hours(outcome)) <= target_day_index


def reach_date(period_start: date, hours: float) -> date | None:
    """The PKT calendar day containing ``hours`` after period start; None for ``inf`` (never)."""
    if math.isinf(hours) or math.isnan(hours):
        return None
    return period_start + timedelta(days=math.floor(hours / HOURS_PER_DAY))


# --------------------------------------------------------------------------------------------
# daily.parquet


def daily_table(outcomes: Sequence[ReplicationOutcome], period_start: date) -> pd.DataFrame:
    """The tidy long table of every daily counter of every replication.

    Columns ``replication, date, node, node_type, metric, value``; one row per replication, series
    and PKT day, sorted by replication, node_type, node, metric, date so that identical outcomes
    give an identical table whatever order the replications finished in.
    """
    replication_parts: list[np.ndarray] = []
    date_parts: list[np.ndarray] = []
    label_parts: list[np.ndarray] = []
    value_parts: list[np.ndarray] = []
    labels: list[DailyKey] = []
    label_index: dict[DailyKey, int] = {}
    for outcome in _sorted_outcomes(outcomes):
        for key in sorted(outcome.daily, key=_series_order):
            values = np.asarray(outcome.daily[key], dtype=float)
            if key not in label_index:
                label_index[key] = len(labels)
                labels.append(key)
            replication_parts.append(np.full(values.size, outcome.replication, dtype=np.int64))
            date_parts.append(_day_dates(period_start, values.size))
            label_parts.append(np.full(values.size, label_index[key], dtype=np.int64))
            value_parts.append(values)
    if not value_parts:
        return pd.DataFrame({column: [] for column in DAILY_COLUMNS})
    # Strings are built once per distinct series and spread by integer index: a 100-replication
    # run has millions of rows but only a few dozen series.
    label_codes = np.concatenate(label_parts)
    label_array = np.array(labels, dtype=object).reshape(-1, 3)
    return pd.DataFrame(
        {
            "replication": np.concatenate(replication_parts),
            "date": pd.to_datetime(np.concatenate(date_parts)),
            "node": pd.array(label_array[label_codes, 0], dtype="str"),
            "node_type": pd.array(label_array[label_codes, 1], dtype="str"),
            "metric": pd.array(label_array[label_codes, 2], dtype="str"),
            "value": np.concatenate(value_parts),
        },
        columns=DAILY_COLUMNS,
    )


# --------------------------------------------------------------------------------------------
# replications.csv


def replications_table(
    outcomes: Sequence[ReplicationOutcome], period_start: date, target_by: date | None = None
) -> pd.DataFrame:
    """One row per replication with its totals, whether and when the target was reached, and verdict.

    ``target_date`` is the ISO PKT day the target was reached within the period
    (``period_start + floor(target_reached_hours / 24)``), empty when never — it may lie after
    ``target_by`` (reached, but late). ``target_reached`` says whether it was reached by the end
    of ``target_by``; without ``target_by`` it is the engine's ``target_reached`` total.
    """
    target_day_index = _target_day_index(period_start, target_by)
    rows = []
    for outcome in _sorted_outcomes(outcomes):
        hours = _reach_hours(outcome)
        day = reach_date(period_start, hours)
        rows.append(
            {
                "replication": outcome.replication,
                "crossed_by_target_date": _total(outcome, "crossed_by_target_date"),
                # Derived from the reach time, as everywhere in this module, so that the flag, the
                # projection and P(target) can never disagree.
                "target_reached": _reached_by(outcome, target_day_index),
                "target_date": day.isoformat() if day is not None else "",
                "departed_by_target_date": _total(outcome, "departed_by_target_date"),
                "peak_queue_people": _total(outcome, "peak_queue_people"),
                "peak_waiting_outside_people": _total(outcome, "peak_waiting_outside_people"),
                "wait_hours_p95": _total(outcome, "wait_hours_p95"),
                "verdict": outcome.verdict,
                "binding_where": outcome.binding_where,
            }
        )
    table = pd.DataFrame(rows, columns=REPLICATIONS_COLUMNS)
    # A scenario's uncertain: values drawn in each replication, one column per key path.
    drawn = sorted({key for outcome in outcomes for key in outcome.totals if key.startswith("uncertain:")})
    for key in drawn:
        table[key] = [_total(outcome, key) for outcome in _sorted_outcomes(outcomes)]
    return table.astype({"target_reached": bool, "target_date": "str", "verdict": "str", "binding_where": "str"})


# --------------------------------------------------------------------------------------------
# projection.csv


PROJECTION_EVERY = ("week", "month", "day")
"""How often the projection has a row: every 7 days from the start, at each month end, or every day."""


def projection_day_indices(n_days: int, target_day_index: int | None = None, every: str = "week",
                           period_start: date | None = None) -> list[int]:
    """Day indices of the projection rows: every 7 days from the start (``every="week"``), the
    first day and every month end (``every="month"``, needs ``period_start``) or every day
    (``every="day"``), plus the last day and the target day.

    The target day is only added when it lies inside the period.
    """
    if every not in PROJECTION_EVERY:
        raise ValueError(f"every must be one of {', '.join(PROJECTION_EVERY)}; got {every!r}")
    if n_days <= 0:
        return []
    if every == "month":
        if period_start is None:
            raise ValueError("monthly projection rows need the period start")
        days = {0, *month_end_days(period_start, n_days)}
    elif every == "day":
        days = set(range(n_days))
    else:
        days = set(range(0, n_days, 7))
    days.add(n_days - 1)
    if target_day_index is not None and 0 <= target_day_index < n_days:
        days.add(target_day_index)
    return sorted(days)


def _stacked_series(outcomes: list[ReplicationOutcome]) -> dict[DailyKey, np.ndarray]:
    """Projection metrics as (replications × days) arrays; every replication must have each series."""
    keys = sorted((key for key in outcomes[0].daily if is_projection_metric(key[2])), key=_series_order)
    stacked: dict[DailyKey, np.ndarray] = {}
    for key in keys:
        try:
            stacked[key] = np.vstack([np.asarray(outcome.daily[key], dtype=float) for outcome in outcomes])
        except KeyError:
            missing = [outcome.replication for outcome in outcomes if key not in outcome.daily]
            raise ValueError(f"daily series {key} missing from replications {missing[:5]}") from None
    return stacked


def _daily_bands(array: np.ndarray, days: list[int]) -> dict[int, np.ndarray]:
    """(p05, p50, p95) across replications of a (replications × days) series, on each of ``days``
    that the series covers: one quantile call for all of them (column by column, the same values
    as one call per day)."""
    covered = [day for day in days if day < array.shape[1]]
    quantiles = np.quantile(array[:, covered], [0.05, 0.5, 0.95], axis=0, method="linear")
    return dict(zip(covered, quantiles.T))


def projection_table(
    outcomes: Sequence[ReplicationOutcome],
    period_start: date,
    target_by: date | None,
    observed: pd.DataFrame | None = None,
    every: str = "week",
) -> pd.DataFrame:
    """Weekly (or monthly) projection bands of the cumulative and level series, with P(target
    reached) by date.

    Rows: every 7th day from ``period_start`` (``every="month"``: the first day and every month
    end), the last day of the period and ``target_by``; for
    each, every node and metric that :func:`is_projection_metric` selects. Columns
    ``date, node, node_type, metric, mean, p05, p50, p95, p_target_reached`` (``node_type`` keeps a
    camp and a group of the same name apart). Quantiles are across replications (numpy linear).
    ``p_target_reached`` is the share of replications whose target was reached by the end of that
    date — the same on every row of a date — and NaN when the scenario has no target.

    ``observed`` (columns ``date, value``: an observed cumulative crossings series) adds an
    ``observed`` column on the rows of node ``all``, metric ``crossed_people_cumulative`` whose
    date it matches; NaN elsewhere.
    """
    ordered = _sorted_outcomes(outcomes)
    stacked = _stacked_series(ordered)
    n_days = max((array.shape[1] for array in stacked.values()), default=0)
    target_day_index = _target_day_index(period_start, target_by)
    days = projection_day_indices(n_days, target_day_index, every, period_start)
    reach_days = np.array([_reach_day_index(_reach_hours(outcome)) for outcome in ordered])

    bands = {key: _daily_bands(array, days) for key, array in stacked.items()}
    rows = []
    for day in days:
        p_reached = float(np.mean(reach_days <= day)) if target_by is not None else math.nan
        day_date = period_start + timedelta(days=day)
        for key, array in stacked.items():
            if day >= array.shape[1]:
                continue
            node, node_type, metric = key
            p05, p50, p95 = bands[key][day]
            rows.append((day_date, node, node_type, metric, float(array[:, day].mean()), p05, p50, p95, p_reached))
    columns = ["date", "node", "node_type", "metric", "mean", "p05", "p50", "p95", "p_target_reached"]
    table = pd.DataFrame(rows, columns=columns)
    table["date"] = pd.to_datetime(table["date"])
    for name in ("node", "node_type", "metric"):
        table[name] = table[name].astype("str")
    for name in ("mean", "p05", "p50", "p95", "p_target_reached"):
        table[name] = table[name].astype(float)
    if observed is not None:
        table["observed"] = _observed_column(table, observed)
    return table


def reached_by_month(outcomes: Sequence[ReplicationOutcome], period_start: date) -> pd.DataFrame:
    """``reached_by_month.csv``: the share of replications that reached the target by each month
    end of the period (and its last day), with Wilson intervals (see :mod:`sim.reached`)."""
    ordered = _sorted_outcomes(outcomes)
    reach_day_indices = [_reach_day_index(_reach_hours(outcome)) for outcome in ordered]
    return reached_by_month_table(reach_day_indices, period_start, _n_days(ordered))


def _observed_column(table: pd.DataFrame, observed: pd.DataFrame) -> np.ndarray:
    missing = {"date", "value"} - set(observed.columns)
    if missing:
        raise ValueError(f"observed series needs columns date and value; missing {sorted(missing)}")
    by_date = (
        pd.Series(observed["value"].astype(float).to_numpy(), index=pd.to_datetime(observed["date"]).dt.normalize())
        .groupby(level=0)
        .last()
    )
    column = np.full(len(table), math.nan)
    is_total_crossed = (table["node"] == "all") & (table["metric"] == "crossed_people_cumulative")
    matched = table.loc[is_total_crossed, "date"].map(by_date)
    column[is_total_crossed.to_numpy()] = matched.to_numpy(dtype=float)
    return column


# --------------------------------------------------------------------------------------------
# summary.csv


def _summary_row(metric: str, values: np.ndarray) -> dict[str, float | str]:
    # A missing per-replication value (e.g. no one served, so no wait quantile) is left out; an
    # infinite one ("never") is kept: it has no finite mean but it does have quantiles.
    values = values[~np.isnan(values)]
    low, high = t_interval(values)
    p05, p50, p95 = quantiles_with_infinity(values)
    return {"metric": metric, "mean": finite_mean(values), "ci95_low": low, "ci95_high": high,
            "p05": p05, "p50": p50, "p95": p95}


def _share_row(metric: str, successes: int, n: int) -> dict[str, float | str]:
    low, high = wilson_interval(successes, n)
    return {"metric": metric, "mean": successes / n, "ci95_low": low, "ci95_high": high,
            "p05": math.nan, "p50": math.nan, "p95": math.nan}


def _verdicts_in_order(outcomes: Sequence[ReplicationOutcome]) -> list[str]:
    others = sorted({o.verdict for o in outcomes if o.verdict and o.verdict not in KNOWN_VERDICTS})
    return list(KNOWN_VERDICTS) + others


def summary_table(
    outcomes: Sequence[ReplicationOutcome],
    period_start: date | None = None,
    target_by: date | None = None,
    observed: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Across-replication summary: ``metric, mean, ci95_low, ci95_high, p05, p50, p95``.

    Rows, in this order: each of :data:`REPLICATION_METRICS` (mean with a Student-t 95% interval,
    NaN with a single replication; quantiles across replications); ``target_reached_day`` (days
    from period start, fractional; a replication that never reaches the target counts as +inf, so
    its mean and interval are NaN while its quantiles stay meaningful); ``p_target_reached`` (share
    reaching it by the end of ``target_by``, with a Wilson 95% interval); one
    ``p_reached_by_<YYYY-MM-DD>`` row per month end of the period (and its last day): the share
    reaching it by the end of that day, with a Wilson interval (:mod:`sim.reached`); and one
    ``share_<verdict>`` row per verdict with a Wilson interval. Share rows have no quantiles.
    Without a target (``target_by`` None) the target and verdict rows are left out: there is
    nothing to reach and no target date to judge at. With ``observed`` (``date, value``: observed
    cumulative crossings), a last row ``ard_observed``: the averaged relative difference
    ``mean(|simulated − observed| / observed)`` over the observed dates inside the period, one value
    per replication (see :func:`observed_ard`).
    """
    ordered = _sorted_outcomes(outcomes)
    n = len(ordered)
    rows = [
        _summary_row(metric, np.array([_total(outcome, metric) for outcome in ordered]))
        for metric in REPLICATION_METRICS
    ]
    if target_by is not None:
        if period_start is None:
            raise ValueError("summary_table needs period_start to judge a target date")
        target_day_index = _target_day_index(period_start, target_by)
        reach_days = np.array([_reach_hours(outcome) / HOURS_PER_DAY for outcome in ordered])
        rows.append(_summary_row("target_reached_day", reach_days))
        reached = sum(_reached_by(outcome, target_day_index) for outcome in ordered)
        rows.append(_share_row("p_target_reached", reached, n))
        reach_day_indices = [_reach_day_index(_reach_hours(outcome)) for outcome in ordered]
        month_ends = month_end_days(period_start, _n_days(ordered))
        for day, (reached_by_day, total) in zip(month_ends, shares_reached_by(reach_day_indices, month_ends)):
            day_date = period_start + timedelta(days=day)
            rows.append(_share_row(f"{SHARE_BY_DAY_PREFIX}{day_date.isoformat()}", reached_by_day, total))
        verdict_counts = Counter(outcome.verdict for outcome in ordered)
        for verdict in _verdicts_in_order(ordered):
            rows.append(_share_row(verdict_share_metric(verdict), verdict_counts.get(verdict, 0), n))
    if observed is not None and period_start is not None:
        per_replication, dates = observed_ard(ordered, period_start, observed)
        if dates:
            rows.append(_summary_row("ard_observed", per_replication))
    table = pd.DataFrame(rows, columns=SUMMARY_COLUMNS)
    table["metric"] = table["metric"].astype("str")
    return table


def observed_ard(outcomes: Sequence[ReplicationOutcome], period_start: date,
                 observed: pd.DataFrame) -> tuple[np.ndarray, int]:
    """Backtest: ARD of each replication's ``all`` ``crossed_people_cumulative`` against ``observed``.

    ARD (averaged relative difference, as the Flee refugee model reports it) is
    ``mean over observed dates of |simulated − observed| / observed``; dates outside the period and
    non-positive observed values are left out. Returns (one ARD per replication, dates compared).
    """
    days = (pd.to_datetime(observed["date"]).dt.normalize() - pd.Timestamp(period_start)).dt.days.to_numpy()
    values = observed["value"].astype(float).to_numpy()
    series = [np.asarray(o.daily[("all", "all", "crossed_people_cumulative")], dtype=float) for o in outcomes]
    n_days = min(len(s) for s in series)
    keep = (days >= 0) & (days < n_days) & (values > 0)
    days, values = days[keep], values[keep]
    if not len(days):
        return np.full(len(series), math.nan), 0
    return np.array([float(np.mean(np.abs(s[days] - values) / values)) for s in series]), len(days)


# --------------------------------------------------------------------------------------------
# The terminal headline


@dataclass(frozen=True)
class Band:
    """Median and p05–p95 across replications of one figure."""

    p05: float
    p50: float
    p95: float

    @classmethod
    def of(cls, values: Sequence[float] | np.ndarray) -> Band:
        array = np.asarray(values, dtype=float)
        array = array[~np.isnan(array)]
        return cls(*quantiles_with_infinity(array))


@dataclass(frozen=True)
class DateBand:
    """Median and p05–p95 of the day the target is reached; None = not within the period."""

    p05: date | None
    p50: date | None
    p95: date | None


@dataclass(frozen=True)
class VerdictShare:
    """A verdict's share of replications, and where capacity bound most often (if it did)."""

    verdict: str
    share: float
    mostly_where: str = ""


@dataclass(frozen=True)
class Headline:
    """What the terminal shows after a run, as data. :meth:`lines` renders it as plain text.

    ``p_target`` is the share of replications reaching the target (with its Wilson interval);
    ``target_date`` the date it is reached (quantiles of reach times, a replication that never
    reaches counting as +inf); ``crossed_by_target_date`` people crossed by the target date (the
    period end when there is no target).
    """

    replications: int
    target_people: float | None
    target_by: date | None
    p_target: float
    p_target_low: float
    p_target_high: float
    target_date: DateBand
    crossed_by_target_date: Band
    peak_queue_people: Band
    wait_hours_p95: Band
    peak_waiting_outside_people: Band
    verdicts: list[VerdictShare] = field(default_factory=list)
    observed_ard: Band | None = None  # backtest: ARD against an observed series, across replications
    observed_dates: int = 0
    reached_by_month: tuple[tuple[date, float], ...] = ()  # (month end, share of replications reached by then)

    @property
    def has_target(self) -> bool:
        return self.target_by is not None

    def lines(self) -> list[str]:
        """The plain-text summary, one finding per line."""
        lines: list[str] = []
        if self.has_target:
            assert self.target_by is not None
            by = self.target_by.isoformat()
            if self.target_people is not None:
                lines.append(f"Target: {_people(self.target_people)} people crossed by {by}"
                             f" ({self.replications} replications)")
            lines.append(f"P(target by {by}) = {self.p_target:.2f}"
                         f" [{self.p_target_low:.2f}, {self.p_target_high:.2f}]")
            lines += self.when_lines()
            lines.append(f"Crossed by target date: median {_people(self.crossed_by_target_date.p50)}"
                         f" (p05 {_people(self.crossed_by_target_date.p05)},"
                         f" p95 {_people(self.crossed_by_target_date.p95)})")
        else:
            lines.append(f"No target in this scenario ({self.replications} replications)")
            lines.append(f"Crossed by period end: median {_people(self.crossed_by_target_date.p50)}"
                         f" (p05 {_people(self.crossed_by_target_date.p05)},"
                         f" p95 {_people(self.crossed_by_target_date.p95)})")
        lines.append(f"Peak queue (all crossings together): median {_people(self.peak_queue_people.p50)} people"
                     f" (p95 {_people(self.peak_queue_people.p95)})")
        lines.append(f"Wait (p95 per person): median {_hours(self.wait_hours_p95.p50)}"
                     f" (p95 {_hours(self.wait_hours_p95.p95)})")
        lines.append(f"Peak waiting outside camps: median {_people(self.peak_waiting_outside_people.p50)}"
                     f" people (p95 {_people(self.peak_waiting_outside_people.p95)})")
        if self.has_target and self.verdicts:
            parts = []
            for share in self.verdicts:
                text = f"{share.verdict} {share.share:.0%}"
                if share.mostly_where:
                    text += f" (mostly: {share.mostly_where})"
                parts.append(text)
            lines.append("Verdict: " + ", ".join(parts))
        if self.observed_ard is not None:
            lines.append(f"Observed: ARD {self.observed_ard.p50:.1%} over {self.observed_dates} dates"
                         f" (p05 {self.observed_ard.p05:.1%}, p95 {self.observed_ard.p95:.1%})")
        return lines


    def when_lines(self) -> list[str]:
        """When the target is reached: median and 90 % range of the date, and the share of
        replications that had reached it by each month end (those strictly between 0 and 100 %,
        and the first at 100 %)."""
        band = self.target_date
        what = f"{_people(self.target_people)} reached" if self.target_people is not None else "Target reached"
        by_month = list(self.reached_by_month)
        if band.p50 is None:
            reached_ever = by_month[-1][1] if by_month else 0.0
            if reached_ever == 0:
                return [f"{what}: not within the period in any replication"]
            line = (f"{what}: median not within the period; by {by_month[-1][0].isoformat()} in "
                    f"{_percent(reached_ever)} of replications")
        else:
            line = (f"{what}: median {band.p50.isoformat()}, 90 % between {_date_or_never(band.p05)}"
                    f" and {_date_or_never(band.p95)}")
            at_median = next(((day, share) for day, share in by_month if day >= band.p50), None)
            if at_median is not None:
                line += f"; by {at_median[0].isoformat()} in {_percent(at_median[1])} of replications"
        lines = [line]
        months = []
        for day, share in by_month:
            if share > 0:
                months.append(f"{day.isoformat()[:7]} {_percent(share)}")
            if share >= 1:
                break
        if len(months) > 1 or (months and band.p50 is None):
            lines.append("Reached by month end: " + ", ".join(months))
        return lines


def _percent(share: float) -> str:
    return f"{share * 100:.0f} %"


def _people(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if math.isinf(value):
        return "∞"
    return f"{value:,.0f}"


def _hours(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    return f"{value:.1f} h"


def _date_or_never(value: date | None) -> str:
    return value.isoformat() if value is not None else "not within the period"


def headline(
    outcomes: Sequence[ReplicationOutcome],
    period_start: date,
    target_by: date | None = None,
    target_people: float | None = None,
    observed: pd.DataFrame | None = None,
) -> Headline:
    """Reduce a run to the figures shown after it: P(target), when, how many, where it binds."""
    ordered = _sorted_outcomes(outcomes)
    n = len(ordered)
    reach_hours = np.array([_reach_hours(outcome) for outcome in ordered])
    target_day_index = _target_day_index(period_start, target_by)
    reached = sum(_reached_by(outcome, target_day_index) for outcome in ordered) if target_by is not None else 0
    low, high = wilson_interval(reached, n) if target_by is not None else (math.nan, math.nan)
    by_month: tuple[tuple[date, float], ...] = ()
    if target_by is not None:
        date_band = DateBand(*reached_date_quantiles(reach_hours, period_start))
        month_ends = month_end_days(period_start, _n_days(ordered))
        reach_day_indices = [_reach_day_index(hours) for hours in reach_hours]
        by_month = tuple((period_start + timedelta(days=day), reached / total) for day, (reached, total)
                         in zip(month_ends, shares_reached_by(reach_day_indices, month_ends)))
    else:
        date_band = DateBand(None, None, None)

    verdict_counts = Counter(outcome.verdict for outcome in ordered)
    verdicts = []
    for verdict in _verdicts_in_order(ordered):
        where_counts = Counter(o.binding_where for o in ordered if o.verdict == verdict and o.binding_where)
        # Most frequent place; ties broken alphabetically so the line never flickers between runs.
        mostly = min(where_counts, key=lambda where: (-where_counts[where], where)) if where_counts else ""
        verdicts.append(VerdictShare(verdict, verdict_counts.get(verdict, 0) / n, mostly))

    def band(name: str) -> Band:
        return Band.of([_total(outcome, name) for outcome in ordered])

    return Headline(
        replications=n,
        target_people=target_people,
        target_by=target_by,
        p_target=reached / n if target_by is not None else math.nan,
        p_target_low=low,
        p_target_high=high,
        target_date=date_band,
        crossed_by_target_date=band("crossed_by_target_date"),
        peak_queue_people=band("peak_queue_people"),
        wait_hours_p95=band("wait_hours_p95"),
        peak_waiting_outside_people=band("peak_waiting_outside_people"),
        verdicts=verdicts,
        reached_by_month=by_month,
        **_observed_fields(ordered, period_start, observed),
    )


def _observed_fields(outcomes, period_start: date, observed: pd.DataFrame | None) -> dict:
    if observed is None:
        return {}
    per_replication, dates = observed_ard(outcomes, period_start, observed)
    return {"observed_ard": Band.of(per_replication), "observed_dates": dates} if dates else {}
