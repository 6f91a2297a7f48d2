"""The statistics of simulation-based calibration on constructed ranks (sim.studies.inference.ranks)
and the observation model run forwards (sbc.simulate_figures)."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest

from sim.studies.inference import ranks
from sim.studies.observation import ObservedSeries
from sim.studies.priors import Prior

DRAWS = 99


def _table(values_by_parameter: dict[str, list[int]], inside_90: dict[str, list[bool]] | None = None) -> pd.DataFrame:
    rows = []
    for parameter, values in values_by_parameter.items():
        for dataset, value in enumerate(values):
            covered = inside_90[parameter][dataset] if inside_90 else True
            rows.append({"dataset": dataset, "parameter": parameter, "rank": value, "draws": DRAWS,
                         "inside_50": dataset % 2 == 0, "inside_90": covered})
    return pd.DataFrame(rows)


def test_exactly_uniform_ranks_pass_and_all_zero_ranks_fail() -> None:
    uniform = list(range(DRAWS + 1))  # every rank once: 100 data sets
    table = ranks.uniformity_table(_table({"a": uniform, "b": uniform[::-1], "zero": [0] * 100}), DRAWS)
    rows = table.set_index("parameter")
    assert rows.loc["a", "bins"] == 20 and rows.loc["a", "chi_square"] == 0 and rows.loc["a", "p_value"] == 1
    assert rows.loc["a", "uniform"] and rows.loc["b", "uniform"]
    assert rows.loc["zero", "chi_square"] == pytest.approx(19 * 100)  # all 100 in one of 20 bins of expected 5
    assert rows.loc["zero", "p_value"] < 1e-100 and not rows.loc["zero", "uniform"]
    assert rows.loc["a", "at_ends"] == 2 and rows.loc["a", "at_ends_p_value"] > 0.5
    assert rows.loc["zero", "at_ends"] == 100 and rows.loc["zero", "at_ends_p_value"] < 1e-100
    # combined: the smallest p-value times the number of tests, two per parameter (Bonferroni)
    smallest = min(rows.loc["zero", "p_value"], rows.loc["zero", "at_ends_p_value"])
    assert rows.loc["combined", "p_value"] == pytest.approx(min(1.0, 6 * smallest))
    assert not rows.loc["combined", "uniform"]
    assert ranks.uniformity_table(_table({"a": uniform, "b": uniform}), DRAWS).iloc[-1]["uniform"]


def test_a_u_shaped_histogram_fails_and_bins_follow_the_data_sets() -> None:
    ends = [0, DRAWS] * 20 + list(range(30, 70, 2))  # 40 of 60 truths at the ends: too-narrow posteriors
    row = ranks.uniformity_table(_table({"a": ends}), DRAWS).iloc[0]
    assert row["bins"] == 10 and row["p_value"] < 1e-6 and not row["uniform"]
    assert ranks.default_bins(100, DRAWS) == 20 and ranks.default_bins(12, DRAWS) == 2
    assert ranks.default_bins(30, 19) == 5  # 20 rank values: 5 bins of 4 values, 6 data sets each
    assert list(ranks.bin_counts([0, 4, 5, 99], DRAWS, 20)) == [2, 1] + [0] * 17 + [1]


def test_truths_beyond_every_draw_flag_narrow_posteriors_from_a_few_data_sets() -> None:
    """Ten data sets, four truths at rank 0 or 99 (issue 20's small-population case had 9 of 16):
    two wide bins hide it, the test of the ends does not."""
    ranks_seen = [0, 99, 0, 99, 20, 40, 60, 80, 30, 70]
    count, expected, p_value = ranks.at_ends(ranks_seen, DRAWS)
    assert (count, expected) == (4, pytest.approx(0.2)) and p_value < 1e-4
    row = ranks.uniformity_table(_table({"a": ranks_seen}), DRAWS).iloc[0]
    assert row["bins"] == 2 and row["p_value"] > 0.5 and not row["uniform"]
    assert ranks.at_ends(list(range(1, 99)), DRAWS)[2] == 1.0  # none at the ends: nothing to flag


def test_coverage_and_its_binomial_interval() -> None:
    covered = {"good": [index % 10 != 0 for index in range(100)],  # 90 of 100
               "narrow": [index % 10 < 3 for index in range(100)]}  # 30 of 100
    table = ranks.coverage_table(_table({"good": [0] * 100, "narrow": [0] * 100}, covered)).set_index("parameter")
    assert table.loc["good", "coverage_90"] == 0.9 and table.loc["narrow", "coverage_90"] == 0.3
    assert table.loc["good", "coverage_90_nominal_inside"] and not table.loc["narrow", "coverage_90_nominal_inside"]
    assert table.loc["good", "coverage_50"] == 0.5 and table.loc["good", "coverage_50_nominal_inside"]
    exact = binomtest(90, 100).proportion_ci(0.95, method="exact")
    assert table.loc["good", "coverage_90_ci95_low"] == pytest.approx(exact.low)
    assert table.loc["good", "coverage_90_ci95_high"] == pytest.approx(exact.high)
    assert ranks.binomial_interval(0, 10)[0] == 0 and ranks.binomial_interval(10, 10)[1] == 1


def test_rank_thinning_and_intervals() -> None:
    rng = np.random.default_rng(1)
    assert ranks.rank(0.5, np.array([0.1, 0.2, 0.7]), rng) == 2
    assert ranks.rank(-1.0, np.array([0.1, 0.2]), rng) == 0 and ranks.rank(9.0, np.array([0.1, 0.2]), rng) == 2
    tied = {ranks.rank(1.0, np.array([0.0, 1.0, 1.0, 2.0]), rng) for _ in range(200)}
    assert tied == {1, 2, 3}  # ties split at random: an integer parameter still has uniform ranks
    values = np.arange(1000.0)
    assert list(ranks.thinned(values, 4)) == [0, 250, 500, 750]  # spread over the whole chain
    with pytest.raises(ValueError, match="fewer than the 5 draws"):
        ranks.thinned(values[:4], 5)
    samples = np.linspace(0, 1, 1001)
    assert ranks.inside(0.5, samples, 0.5) and not ranks.inside(0.2, samples, 0.5) and ranks.inside(0.2, samples, 0.9)
    low, high = ranks.band(100, 20)
    assert (low, high) == (0.0, 11.0)  # P(Binomial(100, 0.05) = 0) = 0.0059 > 0.005


def test_ranks_of_truths_drawn_from_a_correct_posterior_are_uniform() -> None:
    """The property SBC rests on, on a conjugate normal model: truth ~ N(0, 1), y ~ N(truth, 1),
    posterior N(y/2, 1/2): the ranks pass; a posterior half as wide fails."""
    rng = np.random.default_rng(7)
    correct, narrow = [], []
    for _ in range(400):
        truth = rng.normal()
        y = rng.normal(truth, 1.0)
        draws = rng.normal(y / 2, np.sqrt(0.5), DRAWS)
        correct.append(ranks.rank(truth, draws, rng))
        narrow.append(ranks.rank(truth, y / 2 + (draws - y / 2) / 2, rng))
    table = ranks.uniformity_table(_table({"correct": correct, "narrow": narrow}), DRAWS).set_index("parameter")
    assert table.loc["correct", "p_value"] > 0.01 and table.loc["narrow", "p_value"] < 1e-6


def test_the_observation_model_run_forwards_draws_what_the_likelihood_assumes() -> None:
    from sim.studies.inference.sbc import simulate_figures

    start = dt.date(2024, 1, 1)
    dates = tuple(start + dt.timedelta(days=d) for d in range(0, 400, 20))
    series = [ObservedSeries("x", "cumulative", "all", None, dates, np.zeros(len(dates)))]
    daily = {"all": np.full(401, 50.0)}
    model = np.log1p(series[0].model_values(daily, start))
    rng = np.random.default_rng(3)
    fixed = {"error_scale.x": Prior.from_text("error_scale.x", "uniform(0.1, 0.1000001)"),
             "error_correlation.x": Prior.from_text("error_correlation.x", "uniform(0.0, 0.0000001)")}
    residuals = np.array([np.log1p(simulate_figures(series, daily, start, fixed, False, rng)[0].values) - model
                          for _ in range(2000)])
    assert residuals.std() == pytest.approx(0.1, rel=0.03) and abs(residuals.mean()) < 0.003
    assert abs(np.corrcoef(residuals[:, 0], residuals[:, 1])[0, 1]) < 0.1  # correlation 0: independent
    correlated = dict(fixed, **{"error_correlation.x": Prior.from_text("error_correlation.x", "uniform(0.8, 0.8000001)")})
    residuals = np.array([np.log1p(simulate_figures(series, daily, start, correlated, False, rng)[0].values) - model
                          for _ in range(2000)])
    # figures 20 days apart: correlation 0.8 ** (20 / 7)
    assert np.corrcoef(residuals[:, 0], residuals[:, 1])[0, 1] == pytest.approx(0.8 ** (20 / 7), abs=0.06)
    scales = [np.std(np.log1p(simulate_figures(series, daily, start, {}, True, rng)[0].values) - model)
              for _ in range(300)]
    assert np.mean(scales) == pytest.approx(0.2 * np.sqrt(2 / np.pi), rel=0.1)  # sigma drawn from its prior


def test_a_weighted_sample_is_ranked_and_summarised_by_its_weights() -> None:
    """Nested or importance sampling gives unequal weights: the draws and intervals follow them
    (equal weights change nothing)."""
    values = np.arange(10.0)
    weights = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 3], float)  # all the mass on 8 and 9
    assert set(ranks.thinned(values, 8, weights)) == {8.0, 9.0}
    assert list(ranks.thinned(values, 8, weights)).count(9.0) == 6  # three quarters of the mass
    assert list(ranks.quantiles(values, [0.1, 0.9], weights)) == [8.0, 9.0]
    assert not ranks.inside(5.0, values, 0.9, weights) and ranks.inside(5.0, values, 0.9)
    assert list(ranks.thinned(values, 5, np.ones(10))) == list(ranks.thinned(values, 5))
    with pytest.raises(ValueError, match="weights"):
        ranks.thinned(values, 5, -np.ones(10))
