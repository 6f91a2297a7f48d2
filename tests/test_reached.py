"""When the target is reached: reached-date quantiles and month-end shares on hand-computed cases,
including replications that never reach the target (they stay in every denominator)."""
from __future__ import annotations

import math
from datetime import date, timedelta

import pytest
from test_analysis import make_outcome

from sim.model.outcome import VERDICT_REACHED
from sim.outputs import analysis
from sim.outputs.reached import month_end_days, reached_by_month_table, reached_date_quantiles
from sim.outputs.statistics import wilson_interval

START = date(2025, 1, 15)
N_DAYS = 55  # 15 Jan .. 10 Mar 2025


def test_month_ends_of_a_period_and_its_partial_last_month():
    """31 Jan is day 16, 28 Feb day 44; the period ends on 10 Mar (day 54), not a month end."""
    assert month_end_days(START, N_DAYS) == [16, 44, 54]
    assert month_end_days(date(2023, 9, 15), 139) == [15, 46, 76, 107, 138]  # 30 Sep .. 31 Jan 2024
    assert month_end_days(START, 0) == []


def test_shares_by_month_end_keep_the_replications_that_never_reach():
    """Reached on days 16, 17 and 44, one never: 1 of 4 by 31 Jan, 3 of 4 by 28 Feb and still
    3 of 4 at the period end, with Wilson intervals on n = 4."""
    table = reached_by_month_table([16, 17, 44, math.inf], START, N_DAYS)
    assert [d.date() for d in table["month_end"]] == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 10)]
    assert table["reached"].tolist() == [1, 3, 3]
    assert table["replications"].tolist() == [4, 4, 4]
    assert table["share_reached"].tolist() == [0.25, 0.75, 0.75]
    assert (table["ci95_low"][0], table["ci95_high"][0]) == wilson_interval(1, 4)


def test_reached_date_quantiles_by_hand():
    """Ten replications reach at noon of days 0..9 (hours 12, 36, ..., 228). Linear quantiles:
    p05 at position 0.45 → 12 + 0.45·24 = 22.8 h (day 0); p50 at 4.5 → 120 h (day 5); p95 at
    8.55 → 204 + 0.55·24 = 217.2 h (day 9)."""
    hours = [24.0 * day + 12 for day in range(10)]
    assert reached_date_quantiles(hours, START) == (START, START + timedelta(days=5), START + timedelta(days=9))


def test_reached_date_quantiles_with_replications_that_never_reach():
    """Seven reach (days 0..6), three never: p50 at position 4.5 is between 108 h and 132 h: day 5;
    p95 at 8.55 lies between two 'never's: not within the period. With six never of ten, the median
    (between the 4th finite value and a 'never') is not within the period either."""
    three_never = [24.0 * day + 12 for day in range(7)] + [math.inf] * 3
    assert reached_date_quantiles(three_never, START) == (START, START + timedelta(days=5), None)
    six_never = [24.0 * day + 12 for day in range(4)] + [math.inf] * 6
    assert reached_date_quantiles(six_never, START)[1:] == (None, None)


def test_summary_rows_and_headline_give_the_month_end_shares():
    """Period 1..20 Nov 2023 (test_analysis): its only month end is the last day, 20 Nov. Reached
    on days 2 and 12 of four replications: 50 % by 20 Nov; median between day 12 and 'never'."""
    outcomes = [make_outcome(0, reach_hours=2 * 24 + 1, verdict=VERDICT_REACHED),
                make_outcome(1, reach_hours=12 * 24 + 1, verdict=VERDICT_REACHED),
                make_outcome(2), make_outcome(3)]
    start = date(2023, 11, 1)
    target_by = date(2023, 11, 20)
    summary = analysis.summary_table(outcomes, start, target_by)
    row = summary[summary["metric"] == "p_reached_by_2023-11-20"].iloc[0]
    assert row["mean"] == 0.5
    assert (row["ci95_low"], row["ci95_high"]) == pytest.approx(wilson_interval(2, 4))
    head = analysis.headline(outcomes, start, target_by, 1_000_000)
    assert head.reached_by_month == ((date(2023, 11, 20), 0.5),)
    assert head.lines()[2] == "1,000,000 reached: median not within the period; by 2023-11-20 in 50 % of replications"


def test_when_line_names_the_month_end_of_the_median_and_lists_the_months():
    """Four replications over Sep 2023 - Jan 2024 reach on 10 Oct, 5 Nov, 20 Nov and never. Reach
    hours sorted are [601, 1225, 1585, inf]: the median (position 1.5) is 1405 h, day 58 = 12 Nov
    2023; p05 (position 0.15) is 601 + 0.15·624 = 694.6 h, day 28 = 13 Oct; p95 (position 2.85)
    interpolates towards 'never': not within the period.
    By 30 Nov 3 of 4 had reached it (75 %)."""
    start = date(2023, 9, 15)
    reach_days = [25, 51, 66]  # 10 Oct, 5 Nov, 20 Nov 2023
    outcomes = [make_outcome(i, reach_hours=day * 24 + 1, verdict=VERDICT_REACHED, n_days=139)
                for i, day in enumerate(reach_days)] + [make_outcome(3, n_days=139)]
    head = analysis.headline(outcomes, start, date(2024, 1, 31), 1_000_000)
    lines = head.lines()
    assert lines[2] == ("1,000,000 reached: median 2023-11-12, 90 % between 2023-10-13 and not within the period; "
                        "by 2023-11-30 in 75 % of replications")
    assert lines[3] == "Reached by month end: 2023-10 25 %, 2023-11 75 %, 2023-12 75 %, 2024-01 75 %"


def test_monthly_projection_rows_fall_on_month_ends():
    """--every month: the first day and every month end (30 Sep .. 31 Jan), not every 7th day."""
    start = date(2023, 9, 15)
    outcomes = [make_outcome(i, n_days=139) for i in range(2)]
    table = analysis.projection_table(outcomes, start, date(2024, 1, 31), every="month")
    assert sorted({d.date() for d in table["date"]}) == [
        start, date(2023, 9, 30), date(2023, 10, 31), date(2023, 11, 30), date(2023, 12, 31), date(2024, 1, 31)]
    weekly = analysis.projection_table(outcomes, start, date(2024, 1, 31))
    assert len({d.date() for d in weekly["date"]}) == 21  # days 0, 7, ..., 133 and the last day 138
