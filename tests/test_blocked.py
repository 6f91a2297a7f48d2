"""The Metropolis-within-Gibbs answering chains on targets whose answer is known: a correlated
Gaussian over the model's parameters with a fixed error scale, a posterior whose error scale is
unknown (checked against quadrature), a resumed run, and the real likelihood's batched density."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.studies.inference.blocked import minimum_evaluations, sample_blocked
from sim.studies.inference.sampler import SamplerError
from sim.studies.priors import Prior

MEAN = np.array([1.0, -2.0, 0.5])
COVARIANCE = np.array([[1.0, 0.9, 0.2], [0.9, 1.0, 0.1], [0.2, 0.1, 0.5]])


class GaussianTheta:
    """θ ~ N(MEAN, COVARIANCE): the path is θ itself and the likelihood that Gaussian, so the one
    error term has no say and keeps its prior."""

    parameters = 3
    error_blocks = (np.array([0]),)

    def __init__(self) -> None:
        self.unknown_priors = [Prior.from_text(f"x{i}", "normal(0, 1000)") for i in range(3)] + \
            [Prior.from_text("error_scale.s", "halfnormal(0.2)")]
        self.paths_asked = 0

    def paths(self, theta):
        self.paths_asked += len(theta)
        return np.asarray(theta, float), np.zeros_like(theta)

    def log_likelihoods(self, log_means, extra, error_values):
        return stats.multivariate_normal(MEAN, COVARIANCE).logpdf(log_means).reshape(-1)


class UnknownScale:
    """Twelve figures y_i ~ N(μ, σ²) with μ ~ N(0, 10²), σ ~ half-normal(1): a scale coupled to
    the location, the answer by quadrature."""

    parameters = 1
    error_blocks = (np.array([0]),)
    observed = np.random.default_rng(11).normal(2.0, 0.5, 12)

    def __init__(self) -> None:
        self.unknown_priors = [Prior.from_text("mu", "normal(0, 10)"), Prior.from_text("error_scale.s", "halfnormal(1)")]

    def paths(self, theta):
        theta = np.asarray(theta, float)
        return np.repeat(theta, len(self.observed), axis=1), np.zeros((len(theta), len(self.observed)))

    def log_likelihoods(self, log_means, extra, error_values):
        return stats.norm(log_means, error_values[:, :1]).logpdf(self.observed).sum(axis=1)


def starts(posterior, rng, chains: int = 4, spread: float = 1.0) -> np.ndarray:
    return np.array([[*(MEAN[:posterior.parameters] + spread * rng.standard_normal(posterior.parameters)), 0.2]
                     for _ in range(chains)])


def test_a_correlated_gaussian_is_recovered_and_error_sweeps_cost_no_path() -> None:
    posterior = GaussianTheta()
    rng = np.random.default_rng(1)
    run = sample_blocked(posterior, starts(posterior, rng), starts(posterior, rng, 50), seed=4)
    assert run.converged, (run.rhat, run.ess_bulk)
    kept = run.kept.reshape(-1, 4)[:, :3]
    standard_errors = np.sqrt(np.diag(COVARIANCE) / run.ess_bulk[:3])
    assert np.all(np.abs(kept.mean(axis=0) - MEAN) < 4 * standard_errors)
    assert np.allclose(np.cov(kept.T), COVARIANCE, atol=0.2)
    assert posterior.paths_asked == run.evaluations  # one path per chain and θ step (and the starts)
    # the error term has no say: its draws are its prior's
    scale = run.kept[:, :, 3].ravel()
    assert abs(np.median(scale) - stats.halfnorm(scale=0.2).median()) < 0.03


def test_an_unknown_error_scale_matches_quadrature() -> None:
    posterior = UnknownScale()
    mu_grid, sigma_grid = np.linspace(0.5, 3.5, 601), np.linspace(0.05, 2.0, 781)
    mu, sigma = np.meshgrid(mu_grid, sigma_grid, indexing="ij")
    log_density = (stats.norm(0, 10).logpdf(mu) + stats.halfnorm(scale=1).logpdf(sigma)
                   + stats.norm(mu[..., None], sigma[..., None]).logpdf(posterior.observed).sum(-1))
    weights = np.exp(log_density - log_density.max())
    sigma_marginal = weights.sum(axis=0) / weights.sum()
    exact = np.interp([0.05, 0.5, 0.95], np.cumsum(sigma_marginal), sigma_grid)
    rng = np.random.default_rng(2)
    initial = np.column_stack([rng.normal(2, 0.3, 4), rng.uniform(0.3, 1.0, 4)])
    screen = np.column_stack([rng.normal(2, 0.2, 100), rng.uniform(0.3, 0.8, 100)])
    run = sample_blocked(posterior, initial, screen, seed=7)
    assert run.converged
    drawn = np.quantile(run.kept[:, :, 1].ravel(), [0.05, 0.5, 0.95])
    assert np.allclose(drawn, exact, rtol=0.08), (drawn, exact)


def test_a_resumed_run_gives_the_samples_of_an_uninterrupted_one(tmp_path) -> None:
    posterior = GaussianTheta()
    rng = np.random.default_rng(3)
    initial, screen = starts(posterior, rng, spread=2.0), starts(posterior, rng, 50)
    stopped = sample_blocked(posterior, initial, screen, seed=5, max_evaluations=minimum_evaluations() + 400,
                             checkpoint=tmp_path / "chain")
    assert not stopped.converged
    resumed = sample_blocked(posterior, initial, screen, seed=5, checkpoint=tmp_path / "chain", resume=True)
    fresh = sample_blocked(posterior, initial, screen, seed=5)
    assert resumed.converged
    assert np.array_equal(resumed.chain, fresh.chain) and np.array_equal(resumed.log_prob, fresh.log_prob)
    with pytest.raises(SamplerError, match="another calibration"):
        sample_blocked(posterior, initial, screen, seed=6, checkpoint=tmp_path / "chain", resume=True)


def test_chains_asked_once_whether_to_go_on_stop_as_a_pilot_and_resume_to_the_same_answer(tmp_path) -> None:
    posterior = GaussianTheta()
    rng = np.random.default_rng(3)
    initial, screen = starts(posterior, rng, spread=2.0), starts(posterior, rng, 50)
    asked = []

    def stop(draws):
        asked.append(draws)
        return False

    pilot = sample_blocked(posterior, initial, screen, seed=5, keep_going=stop, checkpoint=tmp_path / "chain")
    full = sample_blocked(posterior, initial, screen, seed=5)
    assert pilot.pilot and not pilot.converged and not full.pilot and full.converged
    # asked when the draws after warm-up reach a quarter of the ESS asked for (400), with those draws
    assert len(asked) == 1 and np.array_equal(asked[0], pilot.kept.reshape(-1, 4))
    assert 100 <= pilot.ess_bulk.min() < 400 and pilot.evaluations < full.evaluations
    assert pilot.thinning == full.thinning == 1 and np.array_equal(pilot.chain, full.chain[:len(pilot.chain)])
    resumed = sample_blocked(posterior, initial, screen, seed=5, keep_going=stop, checkpoint=tmp_path / "chain",
                             resume=True)
    assert resumed.pilot and np.array_equal(resumed.chain, pilot.chain) and len(asked) == 2

    def go_on(draws):
        asked.append(draws)
        return True

    stopped = sample_blocked(posterior, initial, screen, seed=5, keep_going=go_on, checkpoint=tmp_path / "go",
                             max_evaluations=pilot.evaluations + 800)
    assert not stopped.converged and len(asked) == 3
    # told to go on before the interruption: the resumed run does not ask again
    going = sample_blocked(posterior, initial, screen, seed=5, keep_going=stop, checkpoint=tmp_path / "go",
                           resume=True)
    assert not going.pilot and np.array_equal(going.chain, full.chain) and len(asked) == 3


def test_too_small_a_budget_is_refused() -> None:
    posterior = GaussianTheta()
    rng = np.random.default_rng(4)
    with pytest.raises(SamplerError, match="at least"):
        sample_blocked(posterior, starts(posterior, rng), starts(posterior, rng, 50), seed=1,
                       max_evaluations=minimum_evaluations() - 1)


class MinorMode:
    """θ from 0.999 N(0, 1) + 0.001 N(12, 1): a chain started in the minor mode would stay there for
    ages under a random walk (the valley between is ~70 log units deep)."""

    parameters = 1
    error_blocks = (np.array([0]),)

    def __init__(self) -> None:
        self.unknown_priors = [Prior.from_text("x", "normal(0, 100)"), Prior.from_text("error_scale.s", "halfnormal(0.2)")]

    def paths(self, theta):
        return np.asarray(theta, float), np.zeros_like(theta)

    def log_likelihoods(self, log_means, extra, error_values):
        x = log_means[:, 0]
        return np.logaddexp(np.log(0.999) + stats.norm(0, 1).logpdf(x), np.log(0.001) + stats.norm(12, 1).logpdf(x))


def test_a_chain_stuck_in_a_minor_mode_is_moved_during_warm_up() -> None:
    posterior = MinorMode()
    initial = np.array([[0.1, 0.2], [-0.3, 0.2], [0.4, 0.2], [12.0, 0.2]])
    screen = np.column_stack([np.random.default_rng(5).normal(0, 1, 100), np.full(100, 0.2)])
    run = sample_blocked(posterior, initial, screen, seed=3)
    assert run.restarts >= 1 and run.converged
    kept = run.kept[:, :, 0]
    assert (kept > 6).mean() < 0.01  # the minor mode's mass, 0.001, not one chain's quarter
    assert abs(kept.mean()) < 0.2


class Ring(GaussianTheta):
    """A thin ring x² + y² = 1 ± 0.01 (the path is θ itself, as above): no Student-t fitted to it
    proposes onto it."""

    parameters = 2

    def __init__(self) -> None:
        super().__init__()
        self.unknown_priors = self.unknown_priors[:2] + self.unknown_priors[3:]

    def log_likelihoods(self, log_means, extra, error_values):
        return stats.norm(1.0, 0.01).logpdf(np.hypot(log_means[:, 0], log_means[:, 1]))


def test_an_independence_proposal_that_never_lands_is_dropped_during_warm_up() -> None:
    posterior = Ring()
    angles = np.random.default_rng(3).uniform(0, 2 * np.pi, 100)
    screen = np.column_stack([np.cos(angles), np.sin(angles), np.full(100, 0.2)])
    run = sample_blocked(posterior, screen[:4], screen, seed=2, rhat_max=1.0, max_evaluations=minimum_evaluations() * 3)
    assert np.isnan(run.t_acceptance)
    # the starts, block 1 without the t, blocks 2 and 3 with it (two paths a step), then one path a step
    assert run.evaluations == posterior.paths_asked == 4 + 4 * 100 * (len(run.chain) // 100 + 2)
