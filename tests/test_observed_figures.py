"""The figures as they are (issue 22): period counts, lower bounds, approximate figures, uncertain
starts, the rows that are not returns, and the bundled series through 31 Mar 2025."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from conftest import MINIMAL_SCENARIO
from hostile import assert_clean, bordersim

from sim.outputs.observed import BUNDLED, DATA_FILES, figure_uses, listing
from sim.studies.observation import (
    ObservationError,
    bundled_series,
    observations_table,
    read_observations,
    series_from_table,
)

START = dt.date(2024, 1, 1)
DAILY = {"all": np.arange(1.0, 11.0), "east": np.ones(10)}  # 1 Jan: 1 person, 2 Jan: 2, ... 10 Jan: 10


def table(**columns) -> pd.DataFrame:
    return pd.DataFrame({key: [str(value) for value in values] for key, values in columns.items()})


# --------------------------------------------------------------------------------------------
# Reading each kind of figure, and the model quantity it measures


def test_each_kind_of_figure_measures_its_own_model_quantity() -> None:
    (series,) = series_from_table(table(
        date=["2024-01-03", "2024-01-05", "2024-01-06", "2024-01-09", "2024-01-10"],
        value=[6, 5, 20, 30, 40],
        kind=["cumulative", "daily", "period", "cumulative", ""],
        start=["", "", "2024-01-04", "", "2024-01-08"],
        bound=["", "lower", "", "", ""],
        approximate=["", "", "~", "true", "false"],
        count_from_earliest=["", "", "", "2024-01-02", ""],
        count_from_latest=["", "", "", "2024-01-06", ""]), "obs.csv")
    assert series.kind == "mixed" and series.kinds == ("cumulative", "daily", "period", "cumulative", "period")
    # cumulative from the period start: 1+2+3; one day: 5; 4-6 Jan: 4+5+6; from the window's middle
    # (4 Jan) to 9 Jan: 4+...+9; 8-10 Jan: 8+9+10 (a start given without a kind makes a period count)
    assert list(series.model_values(DAILY, START)) == [6.0, 5.0, 15.0, 39.0, 27.0]
    assert list(series.lower_bound) == [False, True, False, False, False]
    assert list(series.approximate) == [False, False, True, True, False]
    assert list(series.cumulative) == [True, False, False, True, False]
    # the start runs over 2-6 Jan: the count before it is 1, 3, 6, 10, 15 against 6 at the middle
    expected = np.mean((np.array([1, 3, 6, 10, 15]) - 6.0) ** 2)
    assert list(series.extra_variance(DAILY, START)) == [0.0, 0.0, 0.0, expected, 0.0]
    assert series.origins[1] == "obs.csv:3"


def test_a_period_count_is_usable_up_to_a_cutoff_only_once_it_has_ended() -> None:
    (series,) = series_from_table(table(
        date=["2024-01-03", "2024-01-07", "2024-01-08"], value=[5, 12, 9],
        start=["", "2024-01-01", ""], end=["", "2024-01-07", ""],
        kind=["daily", "period", "daily"], bound=["", "lower", ""], approximate=["", "", "yes"]))
    cut = series.until(dt.date(2024, 1, 6))
    assert cut.dates == (dt.date(2024, 1, 3),) and cut.kinds == ("daily",)
    cut = series.until(dt.date(2024, 1, 7))
    assert list(cut.values) == [5.0, 12.0] and list(cut.lower_bound) == [False, True]
    assert list(cut.model_values(DAILY, START)) == [3.0, 28.0]
    assert list(series.until(dt.date(2024, 1, 8)).approximate) == [False, False, True]
    assert series.until(dt.date(2023, 12, 31)) is None


def test_an_exported_table_reads_back_as_the_same_series() -> None:
    original = bundled_series("balochistan_chaman")
    (again,) = series_from_table(observations_table([original]), "observed.csv", "x")
    assert again.dates == original.dates and list(again.values) == list(original.values)
    assert again.kinds == original.kinds and again.starts == original.starts and again.windows == original.windows
    assert list(again.lower_bound) == list(original.lower_bound)
    assert list(again.approximate) == list(original.approximate)


def test_the_old_kind_and_count_from_columns_still_work() -> None:
    (series,) = series_from_table(table(date=["2024-01-02", "2024-01-04"], value=[1, 2], kind=["daily", "daily"],
                                        node=["east", "east"]))
    assert series.kind == "daily" and list(series.model_values(DAILY, START)) == [1.0, 1.0]
    (series,) = series_from_table(table(date=["2024-01-04"], value=[9], count_from=["2024-01-02"]))
    assert list(series.model_values(DAILY, START)) == [9.0] and list(series.extra_variance(DAILY, START)) == [0.0]


BAD_ROWS = {
    "bound upper": ({"bound": ["upper"]}, "bound 'upper' is not 'lower'"),
    "approximate maybe": ({"approximate": ["maybe"]}, "approximate 'maybe' is not true or false"),
    "period without start": ({"kind": ["period"]}, "kind period needs a start"),
    "start after end": ({"start": ["2024-01-09"]}, "start 2024-01-09 is after the period's last day"),
    "start on a cumulative figure": ({"kind": ["cumulative"], "start": ["2024-01-02"]}, "write kind period"),
    "end differs from date": ({"end": ["2024-01-06"]}, "end '2024-01-06' differs from date"),
    "start not a date": ({"start": ["soon"]}, "start: 'soon' is not an ISO date"),
    "half a window": ({"count_from_earliest": ["2024-01-02"]}, "give both count_from_earliest and count_from_latest"),
    "window reversed": ({"count_from_earliest": ["2024-01-04"], "count_from_latest": ["2024-01-02"]},
                        "count_from_earliest 2024-01-04 is after count_from_latest"),
    "window after the date": ({"count_from_earliest": ["2024-01-02"], "count_from_latest": ["2024-01-07"]},
                              "count_from_latest 2024-01-07 is after the figure's date"),
    "window on a day": ({"kind": ["daily"], "count_from_earliest": ["2024-01-02"], "count_from_latest": ["2024-01-03"]},
                        "apply to cumulative figures, not daily"),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_bad_figure_is_refused_in_one_line_naming_its_row(case: str) -> None:
    columns, message = BAD_ROWS[case]
    with pytest.raises(ObservationError, match=r"^obs\.csv:2: ") as error:
        series_from_table(table(date=["2024-01-05"], value=[7], **columns), "obs.csv")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_the_same_period_twice_is_refused_but_two_periods_ending_together_are_not() -> None:
    rows = {"date": ["2024-01-05", "2024-01-05"], "value": [7, 8], "start": ["2024-01-01", "2024-01-01"]}
    with pytest.raises(ObservationError, match=r"obs.csv:3: period 2024-01-01..2024-01-05 appears twice "
                                               r"\(first on obs.csv:2\)"):
        series_from_table(table(**rows), "obs.csv")
    (series,) = series_from_table(table(**{**rows, "start": ["2024-01-01", "2024-01-04"]}), "obs.csv")
    assert list(series.model_values(DAILY, START)) == [15.0, 9.0]
    (series,) = series_from_table(table(date=["2024-01-05", "2024-01-05"], value=[5, 15], kind=["daily", "cumulative"]))
    assert list(series.model_values(DAILY, START)) == [5.0, 15.0]


def test_figures_that_cannot_fit_the_scenario_are_refused_with_their_line() -> None:
    (series,) = series_from_table(table(date=["2024-01-05", "2024-01-06"], value=[7, 1e300]), "obs.csv")
    with pytest.raises(ObservationError, match=r"^obs.csv:3: value 1e\+300 people is more than all the people "
                                               r"of the scenario's groups together \(6,000\)$"):
        series.check_against(START, dt.date(2024, 1, 10), ["east"], total_people=6000)
    series.check_against(START, dt.date(2024, 1, 10), ["east"])  # no scenario people given: not checked
    (early,) = series_from_table(table(date=["2024-01-05"], value=[7], start=["2023-12-30"]), "obs.csv")
    with pytest.raises(ObservationError, match=r"obs.csv:2: start 2023-12-30 is before the period start"):
        early.check_against(START, dt.date(2024, 1, 10), ["east"])


# --------------------------------------------------------------------------------------------
# The bundled figures through 31 Mar 2025


def test_every_bundled_figure_is_either_in_a_series_or_left_out_with_a_reason() -> None:
    uses = figure_uses()
    assert set(uses["file"]) == set(DATA_FILES) and uses["source"].notna().all()
    assert max(uses["date"]) == dt.date(2025, 3, 31)
    used = uses["use_series"] != ""
    assert (uses.loc[~used, "reason"].str.len() > 10).all()
    assert set(uses.loc[used, "use_series"]) == set(BUNDLED)
    assert set(uses.loc[used, "kind"]) == {"cumulative", "daily", "period"}
    assert uses.loc[used & (uses["kind"] == "period"), "start"].ne("").all()
    # the unit says what a figure is: every "lower bound" is one, every "(approx.)" is marked
    assert (uses.loc[used, "bound"] == "lower").eq(uses.loc[used, "unit"].str.contains("lower bound")).all()
    assert (uses.loc[used, "approximate"] == "true").eq(uses.loc[used, "unit"].str.contains("approx")).all()


def test_rows_that_are_not_returns_are_left_out_with_the_reason_facts_gives() -> None:
    uses = figure_uses()
    not_returns = uses[uses["metric"].str.endswith(("inflow_all_movements", "cumulative_assisted"))
                       | uses["value"].isin([844_499, 595_200, 410_000, 800_000])]
    assert len(not_returns) == 9
    assert (not_returns["use_series"] == "").all()
    assert not_returns["reason"].str.contains("FACTS 'Not returns'").all()
    outlier = not_returns[not_returns["value"] == 595_200]["reason"].iloc[0]
    assert "outlier" in outlier and "525,000" in outlier


def test_the_bundled_series_measure_what_facts_says() -> None:
    un = bundled_series("un_cumulative")
    assert (un.node, un.count_from, un.dates[-1]) == ("all", dt.date(2023, 9, 15), dt.date(2025, 1, 31))
    assert un.values[-1] == 824_568 and un.lower_bound[-1] and un.lower_bound.sum() == 10
    tally = bundled_series("federal_tally")
    assert tally.values[-1] == 886_242 and tally.dates[-1] == dt.date(2025, 3, 31)
    assert tally.windows[-1] == (dt.date(2023, 10, 1), dt.date(2023, 11, 1))  # "probably Oct or 1 Nov 2023"
    assert tally.origins[-1] == "sim/data/observed_returns_2023-11-23_to_2025-03-31.csv:94"
    iom = bundled_series("iom_periods")
    assert (iom.kinds[1], iom.starts[1], iom.dates[1], iom.values[1]) == (
        "period", dt.date(2024, 1, 1), dt.date(2024, 3, 31), 54_227)  # Q1 2024
    unhcr = bundled_series("unhcr_periods")
    assert (unhcr.starts[-1], unhcr.values[-1], unhcr.approximate[-1]) == (dt.date(2024, 9, 1), 46_000, False)
    assert bundled_series("kp_torkham", until=dt.date(2023, 11, 22)).values.tolist() == \
        bundled_series("pak_kp").values.tolist()  # the phase-1 KP selection, carried on to 2025


def test_every_bundled_series_fits_the_2023_2025_arc() -> None:
    from sim.scenario import load_scenario
    from sim.studies.observation import check_series

    scenario = load_scenario("scenarios/arc-2023-2025.yaml", [])
    check_series([bundled_series(name) for name in BUNDLED], scenario)


def test_listing_shows_every_series_to_31_march_2025_and_every_reason() -> None:
    lines = listing()
    text = "\n".join(lines)
    assert "figures to 2025-03-31" in lines[0]
    for name in BUNDLED:
        assert any(line.startswith(f"  {name} ") for line in lines), name
    assert "federal_tally             13 figures 2023-11-29..2025-03-31" in text
    assert "federal_drive_count        3 figures 2023-10-22..2023-11-01" in text
    assert "2024-04-05 un cumulative_returns 595,200: an outlier" in text
    assert "[observed_returns_2023-11-23_to_2025-03-31.csv:53]" in text
    assert "figures to 2023-11-22" in listing(dt.date(2023, 11, 22))[0]
    assert listing(dt.date(2010, 1, 1)) == ["No bundled figure up to 2010-01-01: the first is dated 2018-05-24."]


# --------------------------------------------------------------------------------------------
# From the command line


def test_cli_lists_and_exports_every_kind(tmp_path) -> None:
    listed = bordersim("observed")
    assert listed.code == 0 and "figures to 2025-03-31" in listed.stdout and "Not used (77 figures)" in listed.stdout
    out = tmp_path / "tally.csv"
    assert bordersim("observed", "--series", "federal_tally", "--out", out).code == 0
    assert read_observations(out)[0].windows == bundled_series("federal_tally").windows
    periods = bordersim("observed", "--series", "iom_periods", "--until", "2024-06-30")
    assert periods.code == 0
    assert "2024-03-31,54227.0,iom_periods,period,all,,2024-01-01,2024-03-31,,false" in periods.stdout
    refused = bordersim("observed", "--out", tmp_path / "x.csv")
    assert refused.code == 2 and "--out needs --series" in refused.stderr


@pytest.mark.parametrize("command", ["run", "calibrate"])
def test_a_figure_above_all_the_people_is_refused_with_its_line(command: str, tmp_path) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(MINIMAL_SCENARIO, encoding="utf-8")
    observed = tmp_path / "observed.csv"
    observed.write_text("date,value\n2023-11-05,100\n2023-11-10,1e300\n", encoding="utf-8")
    arguments = {"run": ["-n", "1", "-j", "1"],
                 "calibrate": ["--fit", "groups.undocumented.never_leave=0:0.5", "--max-evaluations", "2"]}
    outcome = bordersim(command, scenario, "--observed", observed, *arguments[command], "-q", "--out", tmp_path / "out")
    assert_clean(outcome, names=("observed.csv",))
    assert outcome.code == 2 and "more than all the people of the scenario's groups together (6,000)" in outcome.stderr
    assert ("observed.csv:3:" if command == "calibrate" else "row 3:") in outcome.stderr
    assert not (tmp_path / "out").exists()


def test_backtest_refuses_period_counts_and_uncertain_starts_in_one_line() -> None:
    from sim.studies.backtest import BacktestError, split_checked

    period = (dt.date(2023, 9, 15), dt.date(2025, 12, 31))
    for name in ("iom_periods", "federal_tally"):
        with pytest.raises(BacktestError, match=f"bundled:{name}: series {name}: backtest forecasts running totals"):
            split_checked([bundled_series(name)], dt.date(2024, 4, 1), None, period)
    assert split_checked([bundled_series("un_cumulative")], dt.date(2024, 4, 1), None, period) == dt.date(2025, 1, 31)
