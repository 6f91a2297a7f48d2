"""The likelihood of the posterior (sim.studies.inference.likelihood) against densities written out
by hand, and the measurement of the simulation's offset and spread (discrepancy) on constructed data."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from scipy import stats

from sim.studies.inference.discrepancy import measure_noise
from sim.studies.inference.likelihood import CORRELATION_DAYS, ErrorTerms, Figures, Likelihood, SimulatorNoise
from sim.studies.observation import ObservedSeries

START = dt.date(2024, 1, 1)


def _series(name: str, kind: str, days: list[int], values: list[float]) -> ObservedSeries:
    dates = tuple(START + dt.timedelta(days=d) for d in days)
    return ObservedSeries(name, kind, "all", None, dates, np.array(values, float))


def _likelihood(series, correlated=True, noise=None):
    figures = Figures.of(series, START)
    errors = ErrorTerms.default(figures, independent=not correlated)
    return Likelihood(figures, errors, noise or SimulatorNoise.none(len(figures), 1))


def test_independent_errors_are_a_product_of_lognormal_densities():
    series = [_series("a", "cumulative", [5, 10, 15], [1000, 2100, 2900]), _series("b", "daily", [3, 4], [50, 70])]
    likelihood = _likelihood(series, correlated=False)
    model = np.array([1100.0, 2000.0, 3000.0, 60.0, 60.0])
    sigmas = np.array([0.1, 0.3])
    expected = (stats.norm(np.log1p(model[:3]), 0.1).logpdf(np.log1p([1000, 2100, 2900])).sum()
                + stats.norm(np.log1p(model[3:]), 0.3).logpdf(np.log1p([50, 70])).sum())
    assert likelihood.log_likelihood(model, np.zeros(1), sigmas) == pytest.approx(expected, rel=1e-10)


def test_running_totals_have_correlated_errors_and_the_simulator_covariance_adds():
    series = [_series("a", "cumulative", [7, 14, 28], [1000, 2100, 2900])]
    rng = np.random.default_rng(1)
    root = rng.normal(0, 0.02, (3, 3))
    noise = SimulatorNoise(np.array([0.01, 0.0, -0.01]), np.zeros((3, 1)), np.zeros(1), root @ root.T)
    likelihood = _likelihood(series, noise=noise)
    assert likelihood.errors.rho_series == [0]
    model = np.array([1100.0, 2000.0, 3000.0])
    sigma, rho = 0.1, 0.6
    days = np.array([7, 14, 28])
    reporter = sigma ** 2 * rho ** (np.abs(days[:, None] - days[None, :]) / CORRELATION_DAYS)
    expected = stats.multivariate_normal(np.log1p(model) + noise.intercept, reporter + noise.covariance).logpdf(
        np.log1p([1000, 2100, 2900]))
    assert likelihood.log_likelihood(model, np.zeros(1), np.array([sigma, rho])) == pytest.approx(expected, rel=1e-10)


def test_figures_counted_from_one_uncertain_start_share_one_missing_count():
    """A series whose start of counting is uncertain misses the same unknown count D (people) in every
    figure: V[i, j] = v / ((1 + m_i)(1 + m_j)) between its figures (correlation 1), none across series
    or with a figure of another window; batched and single evaluations agree."""
    window, other = (START, START + dt.timedelta(days=9)), (START + dt.timedelta(days=3), START + dt.timedelta(days=4))
    tally = _series("tally", "cumulative", [20, 40, 60], [5000, 9000, 14000])
    object.__setattr__(tally, "windows", (window, window, other))
    series = [tally, _series("b", "daily", [30], [300])]
    likelihood = _likelihood(series, correlated=False)
    assert list(likelihood.figures.start_group) == [0, 0, 1, -1]
    model = np.array([5500.0, 9500.0, 13000.0, 280.0])
    extra_people = np.array([4.0e5, 4.0e5, 1.0e4, 0.0])
    sigmas = np.array([0.05, 0.2])
    u = np.sqrt(extra_people) / (1.0 + model)
    v = np.zeros((4, 4))
    v[:2, :2] = np.outer(u[:2], u[:2])
    v[2, 2] = u[2] ** 2
    reporter = np.diag(np.array([0.05, 0.05, 0.05, 0.2]) ** 2)
    observed = np.log1p([5000, 9000, 14000, 300])
    expected = stats.multivariate_normal(np.log1p(model), reporter + v).logpdf(observed)
    single = likelihood.log_likelihood(model, np.zeros(1), sigmas, extra_people)
    batched = likelihood.log_likelihood_batch(np.log1p(model)[None], sigmas[None],
                                              likelihood.extra_diagonal(model, extra_people)[None])
    assert single == pytest.approx(expected, rel=1e-10) and batched[0] == pytest.approx(expected, rel=1e-10)
    # the same figures with independent extra errors would be another likelihood (the old diagonal)
    diagonal = stats.multivariate_normal(np.log1p(model), reporter + np.diag(u ** 2)).logpdf(observed)
    assert abs(single - diagonal) > 0.1


def test_a_lower_bound_contributes_the_probability_of_exceeding_it():
    series = [_series("a", "cumulative", [5], [1000])]
    object.__setattr__(series[0], "lower_bound", np.array([True]))  # how the observation layer marks "more than"
    likelihood = _likelihood(series)
    for model, more_likely in ((2000.0, True), (500.0, False)):
        value = likelihood.log_likelihood(np.array([model]), np.zeros(1), np.array([0.1]))
        expected = stats.norm.logsf(np.log1p(1000), np.log1p(model), 0.1)
        assert value == pytest.approx(expected, rel=1e-10)
        assert bool(value > np.log(0.5)) is more_likely


def test_simulated_figures_have_the_likelihoods_mean_and_covariance():
    series = [_series("a", "cumulative", [7, 14, 21, 28], [1, 1, 1, 1])]
    likelihood = _likelihood(series)
    model = np.array([1000.0, 2000.0, 3000.0, 4000.0])
    error_values = np.array([0.05, 0.7])
    rng = np.random.default_rng(3)
    draws = np.log1p(np.array([likelihood.simulate(model, np.zeros(1), error_values, rng) for _ in range(20_000)]))
    assert np.abs(draws.mean(axis=0) - np.log1p(model)).max() < 0.002
    assert np.allclose(np.cov(draws, rowvar=False), likelihood.covariance(error_values), atol=2e-4)


def test_measure_noise_recovers_a_linear_offset_and_the_replications_covariance():
    rng = np.random.default_rng(7)
    replications, figures = 400, 5
    theta = rng.uniform(0, 1, (replications, 2))
    intercept = np.array([0.01, 0.02, 0.0, -0.01, 0.03])
    slope = rng.normal(0, 0.05, (figures, 2))
    root = rng.normal(0, 0.01, (figures, figures))
    covariance = root @ root.T + 1e-4 * np.eye(figures)
    surrogate = rng.uniform(5, 10, (replications, figures))
    epsilon = rng.multivariate_normal(np.zeros(figures), covariance, replications)
    simulated = surrogate + intercept + (theta - theta.mean(axis=0)) @ slope.T + epsilon
    noise = measure_noise(theta, simulated, surrogate)
    assert np.allclose(noise.intercept, intercept, atol=0.003)
    assert np.allclose(noise.slope, slope, atol=0.02)  # ~4 standard errors
    # sampling error of a covariance from 400 replications: ~5 % of its size (Frobenius norm)
    assert np.linalg.norm(noise.covariance - covariance) / np.linalg.norm(covariance) < 0.15


def test_the_emulator_is_used_only_where_it_reproduces_the_fluid_path():
    from sim.studies.inference.emulator import build_emulator
    from sim.studies.priors import Prior

    priors = [Prior.uniform("a", 0.0, 1.0), Prior.uniform("b", 0.0, 1.0)]
    samples = np.random.default_rng(1).normal([0.5, 0.5], 0.02, (400, 2))
    noise_sd = np.full(3, 0.03)  # a reporter error of 3 %

    def smooth(theta):  # log counts that bend gently with the parameters
        return np.array([np.log1p(1000 * theta[0] * theta[1]), 2 * theta[0] ** 2, np.exp(0.3 * theta[1])])

    def rough(theta):
        return np.array([np.sin(80 * theta[0]), theta[1], 0.0])

    emulator, error, spent = build_emulator(smooth, samples, priors, noise_sd, np.random.default_rng(2))
    assert emulator is not None and error < 0.2 and spent > 0
    point = np.array([0.52, 0.47])
    assert np.allclose(emulator(point), smooth(point), atol=0.006)
    refused, error, _ = build_emulator(rough, samples, priors, noise_sd, np.random.default_rng(2))
    assert refused is None and error > 0.2
