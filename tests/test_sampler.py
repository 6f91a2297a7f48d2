"""``sample_until_converged``: a known Gaussian recovered and declared converged, a tiny budget
declared unconverged, the same seed giving the same chain, and an interrupted run resumed from its
checkpoint giving byte-identical samples to one never interrupted."""
from __future__ import annotations

import json

import numpy as np
import pytest

from sim.studies.inference.sampler import (
    CHAIN_FILE,
    STATE_FILE,
    SamplerError,
    SamplerStatus,
    burn_in,
    sample_until_converged,
)

MEAN = np.array([1.0, -2.0])
SD = np.array([0.5, 2.0])
CORRELATION = 0.8
COVARIANCE = np.array([[SD[0] ** 2, CORRELATION * SD[0] * SD[1]], [CORRELATION * SD[0] * SD[1], SD[1] ** 2]])
PRECISION = np.linalg.inv(COVARIANCE)


def gaussian(positions: np.ndarray):
    """A correlated 2-D Gaussian; the blob is each position's sum (a stand-in for model values)."""
    offset = positions - MEAN
    return -0.5 * np.einsum("wi,ij,wj->w", offset, PRECISION, offset), positions.sum(axis=1, keepdims=True)


def initial(walkers: int = 8, seed: int = 0) -> np.ndarray:
    return MEAN + 0.1 * np.random.default_rng(seed).standard_normal((walkers, 2))


def test_a_known_gaussian_is_recovered_and_declared_converged() -> None:
    statuses: list[SamplerStatus] = []
    run = sample_until_converged(gaussian, initial(), seed=1, ess_min=200, rhat_max=1.02, progress=statuses.append)
    assert run.converged and statuses[-1].converged
    assert np.all(run.rhat <= 1.02) and np.all(run.ess_bulk >= 200)
    assert not statuses[0].converged  # one block of 100 steps is not enough: it had to go on
    assert [s.steps for s in statuses] == list(range(100, run.steps + 1, 100))
    assert run.burn == burn_in(run.steps) == run.steps // 2
    samples = run.kept.reshape(-1, 2)
    # ESS >= 200 per parameter: the mean is within ~4 standard errors (sd / sqrt(200))
    assert np.all(np.abs(samples.mean(axis=0) - MEAN) < 4 * SD / np.sqrt(200)), samples.mean(axis=0)
    assert np.allclose(samples.std(axis=0), SD, rtol=0.2), samples.std(axis=0)
    assert run.evaluations == 8 * (run.steps + 1) == statuses[-1].evaluations
    assert run.blobs.shape == (run.steps, 8, 1)
    assert np.allclose(run.blobs[..., 0], run.chain.sum(axis=2))  # the blob of the position kept
    assert 0.1 < run.acceptance_fraction.mean() < 0.9


def test_a_tiny_budget_stops_unconverged() -> None:
    run = sample_until_converged(gaussian, initial(), seed=1, max_evaluations=8 * 61, block_steps=25)
    assert not run.converged
    assert run.steps == 60 and run.evaluations == 8 * 61  # the last block cut to the budget
    assert run.status.max_rhat > 1.01 or run.status.min_ess < 400


def test_the_same_seed_gives_the_same_chain_and_another_seed_another() -> None:
    options = {"max_evaluations": 8 * 121, "block_steps": 40}
    first = sample_until_converged(gaussian, initial(), seed=3, **options)
    again = sample_until_converged(gaussian, initial(), seed=3, **options)
    other = sample_until_converged(gaussian, initial(), seed=4, **options)
    assert first.chain.tobytes() == again.chain.tobytes()
    assert first.log_prob.tobytes() == again.log_prob.tobytes()
    assert first.chain.tobytes() != other.chain.tobytes()


class Interrupted(Exception):
    pass


def test_an_interrupted_run_resumes_to_byte_identical_samples(tmp_path) -> None:
    options = {"max_evaluations": 8 * 151, "block_steps": 30, "seed": 6}
    uninterrupted = sample_until_converged(gaussian, initial(), **options)

    def stop_after_block_two(status: SamplerStatus) -> None:
        if status.steps == 60:
            raise Interrupted

    folder = tmp_path / "partial"
    with pytest.raises(Interrupted):
        sample_until_converged(gaussian, initial(), checkpoint=folder, progress=stop_after_block_two, **options)
    assert json.loads((folder / STATE_FILE).read_text())["steps"] == 60
    resumed_statuses: list[SamplerStatus] = []
    resumed = sample_until_converged(gaussian, initial(), checkpoint=folder, resume=True,
                                     progress=resumed_statuses.append, **options)
    assert [s.steps for s in resumed_statuses] == [90, 120, 150]  # blocks 1 and 2 were not run again
    for name in ("chain", "log_prob", "blobs", "accepted"):
        assert getattr(resumed, name).tobytes() == getattr(uninterrupted, name).tobytes(), name
    assert not list(folder.glob("*.tmp"))


def test_a_chain_saved_ahead_of_its_state_is_cut_back_to_the_state(tmp_path) -> None:
    """A crash between the two renames leaves the chain a block ahead: resuming uses the state's steps."""
    options = {"max_evaluations": 8 * 91, "block_steps": 30, "seed": 2}
    uninterrupted = sample_until_converged(gaussian, initial(), **options)
    folder = tmp_path / "partial"
    states: list[str] = []

    def stop_after_block_two(status: SamplerStatus) -> None:
        states.append((folder / STATE_FILE).read_text())
        if status.steps == 60:
            raise Interrupted

    with pytest.raises(Interrupted):
        sample_until_converged(gaussian, initial(), checkpoint=folder, progress=stop_after_block_two, **options)
    (folder / STATE_FILE).write_text(states[0])  # the state of block 1 beside the chain of block 2
    assert json.loads(states[0])["steps"] == 30 and np.load(folder / CHAIN_FILE)["chain"].shape[0] == 60
    resumed = sample_until_converged(gaussian, initial(), checkpoint=folder, resume=True, **options)
    assert resumed.chain.tobytes() == uninterrupted.chain.tobytes()


def test_a_checkpoint_of_another_run_is_refused(tmp_path) -> None:
    options = {"max_evaluations": 8 * 31, "block_steps": 30}
    sample_until_converged(gaussian, initial(), seed=1, checkpoint=tmp_path, **options)
    with pytest.raises(SamplerError, match="another run"):
        sample_until_converged(gaussian, initial(), seed=2, checkpoint=tmp_path, resume=True, **options)


def test_settings_it_cannot_run_with_are_refused() -> None:
    with pytest.raises(SamplerError, match="even number"):
        sample_until_converged(gaussian, initial(walkers=3), seed=1)
    with pytest.raises(SamplerError, match="too few"):
        sample_until_converged(gaussian, initial(), seed=1, max_evaluations=20)
    with pytest.raises(SamplerError, match="moves"):
        sample_until_converged(gaussian, initial(), seed=1, moves="gibbs")


def test_a_fixed_number_of_steps_runs_that_many_and_is_still_judged() -> None:
    run = sample_until_converged(gaussian, initial(), seed=1, steps=70, block_steps=30)
    assert run.steps == 70 and run.evaluations == 8 * 71
    assert not run.converged  # 35 kept steps of 8 walkers cannot reach a bulk ESS of 400


def test_an_error_in_the_log_posterior_reaches_the_caller_without_emcee_printing(capsys) -> None:
    def failing(positions: np.ndarray):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        sample_until_converged(failing, initial(), seed=1)
    assert capsys.readouterr().out == ""
