"""The observation model and the priors of ``calibrate --method posterior``: exact, hand-checked cases."""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from sim.studies.observation import (
    ObservationError,
    ObservedSeries,
    bundled_series,
    series_from_table,
)
from sim.studies.priors import Prior, PriorError

START = dt.date(2024, 1, 1)


def series(kind="cumulative", node="all", count_from=None, days=(3, 5), values=(10.0, 20.0)):
    return ObservedSeries("s", kind, node, count_from, tuple(dt.date(2024, 1, d) for d in days),
                          np.array(values, float))


def test_model_values_count_from_the_series_own_start_date() -> None:
    daily = {"all": np.array([1, 2, 3, 4, 5, 6], float), "east": np.array([0, 1, 1, 1, 1, 1], float)}
    # cumulative from the period start: 1+2+3 by 3 Jan, 15 by 5 Jan
    assert list(series().model_values(daily, START)) == [6.0, 15.0]
    # counted from 2 Jan: the day before (1 Jan, 1 person) is subtracted
    assert list(series(count_from=dt.date(2024, 1, 2)).model_values(daily, START)) == [5.0, 14.0]
    # a daily tally is one day's count at one crossing
    assert list(series(kind="daily", node="east").model_values(daily, START)) == [1.0, 1.0]


def test_table_with_several_series_and_bad_rows() -> None:
    table = pd.DataFrame({"date": ["2024-01-05", "2024-01-03", "2024-01-04"], "value": ["20", "10", "7"],
                          "series": ["a", "a", "b"], "kind": ["cumulative", "cumulative", "daily"],
                          "node": ["all", "all", "east"]})
    a, b = series_from_table(table, "obs.csv")
    assert (a.name, a.dates[0], list(a.values)) == ("a", dt.date(2024, 1, 3), [10.0, 20.0])
    assert (b.kind, b.node) == ("daily", "east")
    bad = table.assign(value=["20", "x", "7"])
    with pytest.raises(ObservationError, match=r"obs.csv:3: value 'x' is not a number"):
        series_from_table(bad, "obs.csv")
    with pytest.raises(ObservationError, match="kind 'weekly'"):
        series_from_table(table.assign(kind="weekly"), "obs.csv")
    with pytest.raises(ObservationError, match="lies outside the period"):
        series(days=(3, 9)).check_against(START, dt.date(2024, 1, 5), ["east"])
    with pytest.raises(ObservationError, match="neither 'all' nor a crossing"):
        series(node="west").check_against(START, dt.date(2024, 1, 5), ["east"])


def test_bundled_series_keep_their_start_dates() -> None:
    un, kp = bundled_series("un"), bundled_series("pak_kp")
    assert (un.node, un.count_from) == ("all", dt.date(2023, 9, 15))
    assert (kp.node, kp.count_from, kp.values[0]) == ("torkham", dt.date(2023, 9, 17), 82_500.0)


def test_prior_parsing() -> None:
    prior = Prior.parse("groups.g.never_leave=beta(2, 2)")
    assert (prior.key, prior.family, prior.args) == ("groups.g.never_leave", "beta", (2.0, 2.0))
    assert prior.logpdf(0.5) == pytest.approx(math.log(1.5))
    assert Prior.parse("x=lognormal(0.01, 0.005)").dist.mean() == pytest.approx(0.01)
    assert Prior.parse("x=gamma(2, 1)").dist.std() == pytest.approx(1.0)
    for text, message in (("x", "write key.path=DIST"), ("x=cauchy(1, 2)", "not a distribution"),
                          ("x=uniform(1)", "takes 2 numbers"), ("x=uniform(2, 1)", "low < high"),
                          ("x=normal(a, 1)", "must be numbers")):
        with pytest.raises(PriorError, match=message):
            Prior.parse(text)
