"""The answering chains (independence proposals fitted to a screen, with random-walk steps) on
targets whose answer is known: a correlated Gaussian, a posterior piled against a bound, a
resumed run, and a proposal that misses half of a bimodal target."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sim.studies.inference.independence import sample_independence
from sim.studies.inference.proposal import Unconstrained
from sim.studies.priors import Prior

MEAN = np.array([1.0, -2.0, 0.5])
COVARIANCE = np.array([[1.0, 0.9, 0.2], [0.9, 1.0, 0.1], [0.2, 0.1, 0.5]])


def gaussian(positions: np.ndarray):
    return stats.multivariate_normal(MEAN, COVARIANCE).logpdf(positions), None


def normal_priors(count: int) -> list[Prior]:
    return [Prior.from_text(f"x{i}", "normal(0, 100)") for i in range(count)]


def screen(rng: np.random.Generator, draws: int = 400, widen: float = 1.0) -> np.ndarray:
    """A rough screen: draws of the target, narrower or wider than it."""
    return MEAN + widen * rng.multivariate_normal(np.zeros(3), COVARIANCE, draws)


def test_a_correlated_gaussian_is_recovered_with_converged_chains() -> None:
    run = sample_independence(gaussian, screen(np.random.default_rng(1), widen=0.6), normal_priors(3), seed=4)
    assert run.converged and run.trusted, (run.rhat, run.ess_bulk, run.pareto_k)
    kept = run.kept.reshape(-1, 3)
    standard_errors = np.sqrt(np.diag(COVARIANCE) / run.ess_bulk)
    assert np.all(np.abs(kept.mean(axis=0) - MEAN) < 4 * standard_errors)
    assert np.allclose(np.cov(kept.T), COVARIANCE, atol=0.15)
    assert run.evaluations < 20_000  # an ensemble sampler needs ~10⁵ for R-hat ≤ 1.01 here


def test_a_posterior_against_a_bound_keeps_its_exact_quantiles() -> None:
    """A Beta(2, 30) posterior of a value in (0, 1): piled against 0, skewed."""
    target = stats.beta(2, 30)

    def log_prob(positions):
        return target.logpdf(positions[:, 0]), None

    draws = target.rvs(size=(300, 1), random_state=np.random.default_rng(2))
    run = sample_independence(log_prob, draws, [Prior.uniform("share", 0.0, 1.0)], seed=9)
    assert run.converged and run.trusted
    kept = run.kept[:, :, 0].ravel()
    assert np.allclose(np.quantile(kept, [0.05, 0.5, 0.95]), target.ppf([0.05, 0.5, 0.95]), rtol=0.08)


def test_a_resumed_run_gives_the_samples_of_an_uninterrupted_one(tmp_path) -> None:
    draws = screen(np.random.default_rng(3), widen=1.3)
    stopped = sample_independence(gaussian, draws, normal_priors(3), seed=5, max_evaluations=4_000,
                                  checkpoint=tmp_path / "chain")
    assert not stopped.converged and stopped.evaluations <= 4_000
    resumed = sample_independence(gaussian, draws, normal_priors(3), seed=5, checkpoint=tmp_path / "chain",
                                  resume=True)
    fresh = sample_independence(gaussian, draws, normal_priors(3), seed=5)
    assert resumed.converged
    assert np.array_equal(resumed.chain, fresh.chain) and np.array_equal(resumed.log_prob, fresh.log_prob)


def test_a_proposal_that_misses_a_mode_is_not_trusted_or_finds_it() -> None:
    """Two modes at ±5, the screen in one: either the weights flag the proposal or the chains
    share their time between the modes as the target does."""
    def log_prob(positions):
        x = positions[:, 0]
        return np.logaddexp(stats.norm(-5, 1).logpdf(x), stats.norm(5, 1).logpdf(x)) - np.log(2), None

    draws = np.random.default_rng(4).normal(5, 1, (300, 1))
    run = sample_independence(log_prob, draws, normal_priors(1), seed=6, max_evaluations=20_000)
    left = (run.kept[:, :, 0] < 0).astype(float)
    share_left = float(left.mean())
    from sim.studies.inference.sampler import convergence

    _, ess = convergence(left[:, :, None])  # the indicator's own effective sample size
    assert (not run.trusted) or abs(share_left - 0.5) < 4 * np.sqrt(0.25 / ess[0]), (run.pareto_k, share_left, ess)


@pytest.mark.parametrize("prior", ["loguniform(0.001, 0.1)", "uniform(0.1, 0.9)", "halfnormal(0.2)", "normal(0, 1)"])
def test_the_unconstrained_coordinates_invert_with_the_right_jacobian(prior) -> None:
    transform = Unconstrained.of([Prior.from_text("x", prior)])
    z = np.linspace(-4, 4, 9)[:, None]
    x, log_jacobian = transform.inverse(z)
    assert np.allclose(transform.forward(x), z)
    step = 1e-6
    numeric = np.log(np.abs((transform.inverse(z + step)[0] - x) / step))[:, 0]
    assert np.allclose(numeric, log_jacobian, atol=1e-4)
