"""Behaviour of the analysis layer on small synthetic runs whose answers can be worked by hand."""
from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from sim.model.outcome import (
    VERDICT_CAPACITY_BINDS,
    VERDICT_DEPARTURES_BIND,
    VERDICT_REACHED,
    ReplicationOutcome,
)
from sim.outputs import analysis
from sim.outputs.statistics import quantiles_with_infinity, t_interval, wilson_interval

PERIOD_START = date(2023, 11, 1)
N_DAYS = 20
Z_95 = 1.959963984540054  # two-sided 95% normal quantile
T_95_DF3 = 3.182446305284263  # Student t, 97.5% quantile, 3 degrees of freedom


def make_outcome(
    replication: int,
    reach_hours: float = math.inf,
    verdict: str = VERDICT_DEPARTURES_BIND,
    binding_where: str = "",
    per_day: float = 100.0,
    n_days: int = N_DAYS,
    crossed_by_target_date: float | None = None,
    wait_hours_p95: float = 5.0,
) -> ReplicationOutcome:
    """A replication in which ``per_day`` people cross every day and the queue grows by 10 a day."""
    days = np.arange(n_days, dtype=float)
    crossed = np.full(n_days, per_day)
    daily = {
        ("all", "all", "crossed_people_cumulative"): np.cumsum(crossed),
        ("all", "all", "in_pipeline_people"): 50.0 + days,
        ("torkham", "crossing", "crossed_people"): crossed,
        ("torkham", "crossing", "queue_people"): 10.0 * days,
        ("torkham", "crossing", "wait_hours_mean"): np.full(n_days, 2.0),
        ("landi_kotal", "camp", "occupancy_people"): np.full(n_days, 300.0),
        ("undocumented", "group", "remaining_stock_people"): 10_000.0 - per_day * days,
    }
    totals = {
        "crossed_by_target_date": per_day * n_days if crossed_by_target_date is None else crossed_by_target_date,
        "departed_by_target_date": 2 * per_day * n_days,
        "target_reached": float(math.isfinite(reach_hours)),
        "target_reached_hours": reach_hours,
        "peak_queue_people": 10.0 * (n_days - 1),
        "peak_waiting_outside_people": 0.0,
        "wait_hours_p95": wait_hours_p95,
    }
    return ReplicationOutcome(replication, daily, totals, verdict, binding_where)


# --- statistics ------------------------------------------------------------------------------


def test_wilson_interval_matches_the_hand_formula():
    successes, n = 12, 100
    p = successes / n
    denominator = 1 + Z_95**2 / n
    centre = (p + Z_95**2 / (2 * n)) / denominator
    half = Z_95 / denominator * math.sqrt(p * (1 - p) / n + Z_95**2 / (4 * n * n))
    low, high = wilson_interval(successes, n)
    assert low == pytest.approx(centre - half, abs=1e-12)
    assert high == pytest.approx(centre + half, abs=1e-12)
    assert (round(low, 4), round(high, 4)) == (0.0700, 0.1981)


def test_wilson_interval_with_no_success_is_not_a_point():
    # With 0 of n the upper end is z²/(n + z²): rare, but not shown impossible.
    low, high = wilson_interval(0, 20)
    assert low == 0.0
    assert high == pytest.approx(Z_95**2 / (20 + Z_95**2), abs=1e-12)
    assert wilson_interval(20, 20)[1] == 1.0
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_t_interval_matches_the_hand_computation():
    values = [1.0, 2.0, 3.0, 4.0]
    standard_error = math.sqrt(5.0 / 3.0) / 2.0  # s = sqrt(5/3), n = 4
    low, high = t_interval(values)
    assert low == pytest.approx(2.5 - T_95_DF3 * standard_error, abs=1e-12)
    assert high == pytest.approx(2.5 + T_95_DF3 * standard_error, abs=1e-12)


def test_t_interval_needs_two_finite_values():
    assert all(math.isnan(x) for x in t_interval([3.0]))
    assert all(math.isnan(x) for x in t_interval([1.0, math.inf]))


def test_finite_quantiles_are_numpy_linear_quantiles():
    values = np.random.default_rng(7).gamma(2.0, 3.0, size=37)
    assert quantiles_with_infinity(values) == list(np.quantile(values, [0.05, 0.5, 0.95]))


def test_quantiles_keep_never_as_infinity():
    # 5 replications, 2 never reach the target: p05 interpolates between finite values, the median
    # is the third (finite) value exactly, p95 leans towards +inf.
    assert quantiles_with_infinity([3.0, 1.0, math.inf, 2.0, math.inf]) == [1.2, 3.0, math.inf]
    # 4 replications, 2 never: the median interpolates towards +inf, so "not within the period".
    assert quantiles_with_infinity([1.0, 2.0, math.inf, math.inf], [0.5]) == [math.inf]
    assert quantiles_with_infinity([math.inf] * 3) == [math.inf] * 3
    with pytest.raises(ValueError):
        quantiles_with_infinity([1.0, math.nan])


# --- daily -----------------------------------------------------------------------------------


def test_daily_table_is_tidy_and_sorted_whatever_the_order_replications_finished():
    outcomes = [make_outcome(1, per_day=200.0), make_outcome(0)]
    table = analysis.daily_table(outcomes, PERIOD_START)
    assert list(table.columns) == ["replication", "date", "node", "node_type", "metric", "value"]
    assert len(table) == 2 * 7 * N_DAYS
    expected_order = table.sort_values(["replication", "node_type", "node", "metric", "date"], kind="stable")
    pd.testing.assert_frame_equal(table, expected_order.reset_index(drop=True))
    assert table["date"].iloc[0] == pd.Timestamp(PERIOD_START)
    assert table["date"].iloc[N_DAYS - 1] == pd.Timestamp(PERIOD_START + timedelta(days=N_DAYS - 1))
    crossed = table[(table.replication == 1) & (table.metric == "crossed_people_cumulative")]
    assert crossed["value"].iloc[-1] == 200.0 * N_DAYS
    pd.testing.assert_frame_equal(table, analysis.daily_table(list(reversed(outcomes)), PERIOD_START))


# --- replications ----------------------------------------------------------------------------


def test_replications_table_dates_the_target_by_the_pkt_day_it_was_reached():
    target_by = PERIOD_START + timedelta(days=5)
    outcomes = [
        make_outcome(0, reach_hours=47.9, verdict=VERDICT_REACHED),  # day 1, late evening
        make_outcome(1, reach_hours=48.0, verdict=VERDICT_REACHED),  # midnight starts day 2
        make_outcome(2, reach_hours=24 * 8 + 1, verdict=VERDICT_CAPACITY_BINDS, binding_where="queued at torkham"),
        make_outcome(3),
    ]
    table = analysis.replications_table(outcomes, PERIOD_START, target_by)
    assert list(table.columns) == analysis.REPLICATIONS_COLUMNS
    assert list(table["target_date"]) == ["2023-11-02", "2023-11-03", "2023-11-09", ""]
    # Replication 2 reached it, but three days after the target date.
    assert list(table["target_reached"]) == [True, True, False, False]
    assert table["binding_where"].iloc[2] == "queued at torkham"


# --- projection ------------------------------------------------------------------------------


def test_projection_dates_are_weekly_plus_last_day_plus_target_date():
    target_by = PERIOD_START + timedelta(days=10)
    table = analysis.projection_table([make_outcome(0), make_outcome(1)], PERIOD_START, target_by)
    days = sorted({(d.date() - PERIOD_START).days for d in table["date"]})
    assert days == [0, 7, 10, 14, N_DAYS - 1]


def test_projection_keeps_cumulative_and_level_metrics_only():
    table = analysis.projection_table([make_outcome(0)], PERIOD_START, None)
    assert set(table["metric"]) == {
        "crossed_people_cumulative", "in_pipeline_people", "queue_people",
        "occupancy_people", "remaining_stock_people",
    }
    assert table["p_target_reached"].isna().all()


def test_projection_bands_are_quantiles_across_replications():
    outcomes = [make_outcome(r, per_day=per_day) for r, per_day in enumerate([100.0, 200.0, 400.0])]
    table = analysis.projection_table(outcomes, PERIOD_START, None)
    row = table[(table.node == "all") & (table.metric == "crossed_people_cumulative")
                & (table.date == pd.Timestamp(PERIOD_START + timedelta(days=7)))].iloc[0]
    values = np.array([100.0, 200.0, 400.0]) * 8
    assert row["mean"] == pytest.approx(values.mean())
    assert [row.p05, row.p50, row.p95] == list(np.quantile(values, [0.05, 0.5, 0.95]))


def test_projection_probability_of_target_rises_by_date():
    target_by = PERIOD_START + timedelta(days=N_DAYS - 1)
    reach_hours = [24 * 3 + 5, 24 * 9, 24 * 15 + 23.5, math.inf]  # days 3, 9, 15 and never
    outcomes = [make_outcome(r, reach_hours=h) for r, h in enumerate(reach_hours)]
    table = analysis.projection_table(outcomes, PERIOD_START, target_by)
    by_date = table.groupby("date")["p_target_reached"]
    assert (by_date.nunique() == 1).all()  # the same on every row of a date
    p_by_day = {(d.date() - PERIOD_START).days: p for d, p in by_date.first().items()}
    assert p_by_day == {0: 0.0, 7: 0.25, 14: 0.5, N_DAYS - 1: 0.75}


def test_projection_observed_column_sits_on_total_crossings_only():
    observed = pd.DataFrame({"date": ["2023-11-08", "2023-11-09"], "value": [750.0, 900.0]})
    table = analysis.projection_table([make_outcome(0)], PERIOD_START, None, observed=observed)
    on_total = (table.node == "all") & (table.metric == "crossed_people_cumulative")
    matched = table[on_total & (table.date == pd.Timestamp("2023-11-08"))]
    assert list(matched["observed"]) == [750.0]
    assert table.loc[~on_total, "observed"].isna().all()
    assert table["observed"].notna().sum() == 1


# --- summary ---------------------------------------------------------------------------------


def test_summary_means_have_t_intervals_and_never_counts_as_infinity():
    target_by = PERIOD_START + timedelta(days=N_DAYS - 1)
    crossed = [1.0, 2.0, 3.0, 4.0]
    reach_hours = [24.0, 48.0, 72.0, math.inf]
    verdicts = [VERDICT_REACHED] * 3 + [VERDICT_DEPARTURES_BIND]
    outcomes = [
        make_outcome(r, reach_hours=h, verdict=v, crossed_by_target_date=c)
        for r, (h, v, c) in enumerate(zip(reach_hours, verdicts, crossed))
    ]
    summary = analysis.summary_table(outcomes, PERIOD_START, target_by).set_index("metric")
    assert list(summary.columns) == ["mean", "ci95_low", "ci95_high", "p05", "p50", "p95"]

    row = summary.loc["crossed_by_target_date"]
    low, high = t_interval(crossed)
    assert (row["mean"], row.ci95_low, row.ci95_high) == (2.5, low, high)

    reach = summary.loc["target_reached_day"]
    assert math.isnan(reach["mean"]) and math.isnan(reach.ci95_low)
    assert reach.p05 == pytest.approx(1.15)  # days 1, 2, 3, inf: 0.15 of the way from 1 to 2
    assert reach.p50 == 2.5 and reach.p95 == math.inf

    p = summary.loc["p_target_reached"]
    assert p["mean"] == 0.75
    assert (p.ci95_low, p.ci95_high) == wilson_interval(3, 4)
    assert summary.loc["share_reached", "mean"] == 0.75
    assert summary.loc["share_departures_bind", "mean"] == 0.25
    assert summary.loc["share_crossing_capacity_binds", "mean"] == 0.0
    assert math.isnan(summary.loc["share_reached", "p50"])


def test_summary_with_one_replication_has_no_interval():
    summary = analysis.summary_table([make_outcome(0)], PERIOD_START, None).set_index("metric")
    assert math.isnan(summary.loc["crossed_by_target_date", "ci95_low"])
    assert summary.loc["crossed_by_target_date", "p50"] == 100.0 * N_DAYS
    # No target: nothing to reach, no verdict rows.
    assert "p_target_reached" not in summary.index
    assert not any(name.startswith("share_") for name in summary.index)


# --- headline --------------------------------------------------------------------------------


def test_headline_reports_probability_dates_and_where_capacity_binds():
    target_by = PERIOD_START + timedelta(days=N_DAYS - 1)
    outcomes = [make_outcome(r, reach_hours=24.0 * (5 + r), verdict=VERDICT_REACHED) for r in range(6)]
    outcomes += [
        make_outcome(6, verdict=VERDICT_CAPACITY_BINDS, binding_where="queued at torkham"),
        make_outcome(7, verdict=VERDICT_CAPACITY_BINDS, binding_where="queued at torkham"),
        make_outcome(8, verdict=VERDICT_CAPACITY_BINDS, binding_where="in camp landi_kotal"),
        make_outcome(9, verdict=VERDICT_DEPARTURES_BIND),
    ]
    result = analysis.headline(outcomes, PERIOD_START, target_by, 1_000_000)
    assert result.p_target == 0.6
    assert (result.p_target_low, result.p_target_high) == wilson_interval(6, 10)
    # Reach days 5..10 then four never: median between day 9 and day 10 (index 4.5) → day 9.
    assert result.target_date.p50 == PERIOD_START + timedelta(days=9)
    assert result.target_date.p05 == PERIOD_START + timedelta(days=5)
    assert result.target_date.p95 is None
    capacity = next(v for v in result.verdicts if v.verdict == VERDICT_CAPACITY_BINDS)
    assert capacity.share == pytest.approx(0.3) and capacity.mostly_where == "queued at torkham"

    text = "\n".join(result.lines())
    assert "P(target by 2023-11-20) = 0.60 [" in text
    assert ("reached: median 2023-11-10, 90 % between 2023-11-06 and not within the period; "
            "by 2023-11-20 in 60 % of replications") in text
    assert "Verdict: reached 60%, departures bind 10%, crossing capacity binds 30% (mostly: queued at torkham)" in text


def test_headline_says_not_within_the_period_when_most_replications_never_reach():
    target_by = PERIOD_START + timedelta(days=N_DAYS - 1)
    outcomes = [make_outcome(0, reach_hours=30.0, verdict=VERDICT_REACHED), make_outcome(1), make_outcome(2)]
    result = analysis.headline(outcomes, PERIOD_START, target_by, 1_000_000)
    assert result.target_date.p50 is None
    assert "1,000,000 reached: median not within the period; by 2023-11-20 in 33 % of replications" in result.lines()


def test_headline_without_target():
    result = analysis.headline([make_outcome(0), make_outcome(1)], PERIOD_START)
    assert math.isnan(result.p_target)
    lines = result.lines()
    assert lines[0].startswith("No target")
    assert not any(line.startswith("Verdict") for line in lines)
