"""Independence Metropolis–Hastings: the answering chains of a calibration, run until converged.

The answering chain's posterior differs from the screening chain's only by the simulation's noise
and offset: the screen already says where it is and roughly how wide. A random-walk or ensemble
sampler ignores that and pays ~100 autocorrelation times per chain to reach R-hat ≤ 1.01
(10⁴–10⁵ evaluations). An *independence* sampler (Tierney 1994) proposes every step from one
distribution *q* fitted to the screen and accepts with probability min(1, w′/w), w = π/q: when *q*
is close to π nearly every step is a fresh draw, and a block's proposals are drawn before any is
evaluated, so they are evaluated in one batch.

**Adaptation, then fixed.** *q* (:mod:`sim.studies.inference.proposal`) is fitted to the screening
draws, :data:`PILOT_WIDENING` times wider (the answer adds the simulation's randomness), and
refitted after every block of the adaptation — at least :data:`MIN_ADAPT_BLOCKS`, until a block
accepts :data:`TARGET_ACCEPTANCE` of its proposals, at most :data:`MAX_ADAPT_BLOCKS` — to every
evaluation so far, weighted by π over the proposal that drew it. Adaptation is burn-in; then *q* is
fixed and the chains (:mod:`sim.studies.inference.chains`: independence and random-walk steps) are
ordinary Metropolis–Hastings chains, judged by arviz's rank R-hat and bulk ESS over
:data:`DEFAULT_CHAINS` independent chains.

**When it must not be trusted.** If *q* misses part of π, every chain misses it alike and R-hat
cannot see it. The importance weights of *q*'s own draws can: their Pareto-k̂ (PSIS) above
:data:`~sim.studies.inference.chains.PARETO_K_MAX` makes :attr:`IndependenceRun.trusted` false; the
caller then samples with the ensemble.

**Checkpoint and resume.** The checkpoint keeps every block's evaluations (independence and
random-walk proposals, log posteriors, blobs); a resumed run replays them and continues with
identical samples.
"""
from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from sim.studies.inference.chains import Chains, Evaluated, IndependenceRun, block_rng
from sim.studies.inference.defaults import DEFAULT_ESS_MIN, DEFAULT_MAX_EVALUATIONS, DEFAULT_RHAT_MAX
from sim.studies.inference.proposal import MixtureProposal, Unconstrained
from sim.studies.inference.sampler import LogProb, SamplerError, SamplerStatus
from sim.studies.priors import Prior

PILOT_WIDENING = 1.5
"""The first proposal's scale over the screening draws' spread."""
FINAL_WIDENING = 1.25
"""Each refitted proposal's scale over its weighted draws' spread."""
ADAPT_STEPS = 50
MIN_ADAPT_BLOCKS = 6
MAX_ADAPT_BLOCKS = 30
TARGET_ACCEPTANCE = 0.3
"""Adaptation stops once a block accepts this share of its proposals (or after MAX_ADAPT_BLOCKS)."""
BLOCK_STEPS = 50
DEFAULT_CHAINS = 4
STATE_FILE = "independence.npz"


def sample_independence(
    log_prob: LogProb,
    screen_draws: np.ndarray,
    priors: Sequence[Prior],
    seed: int,
    *,
    chains: int = DEFAULT_CHAINS,
    rhat_max: float = DEFAULT_RHAT_MAX,
    ess_min: float = DEFAULT_ESS_MIN,
    max_evaluations: int = DEFAULT_MAX_EVALUATIONS,
    checkpoint: Path | None = None,
    resume: bool = False,
    progress: Callable[[SamplerStatus], None] | None = None,
) -> IndependenceRun:
    """Sample ``log_prob`` with ``chains`` independence chains whose proposal is fitted to
    ``screen_draws`` (rows of unknowns, in the order of ``priors``) and refitted to the chains'
    evaluations while they adapt; then, with the proposal fixed, until every unknown has
    R-hat ≤ ``rhat_max`` and bulk ESS ≥ ``ess_min`` over the chains after adaptation, or until
    ``max_evaluations``. The same arguments give the same chain; ``resume`` continues a
    checkpoint to the same samples."""
    screen_draws = np.asarray(screen_draws, float)
    if chains < 2 or max_evaluations < minimum_evaluations(chains):
        raise SamplerError(f"{chains} chains and {max_evaluations} evaluations: need 2 chains or more and at least "
                           f"{minimum_evaluations(chains)} evaluations")
    transform = Unconstrained.of(priors)
    evaluated = _load(checkpoint, screen_draws, seed, chains) if resume and checkpoint else None
    evaluated = evaluated or Evaluated.empty()
    proposals = [MixtureProposal.fitted(transform, screen_draws, None, PILOT_WIDENING, block_rng(seed, 0, "mixture"))]
    adapting, block, adaptation_blocks = True, 0, 0
    walked = Chains(transform)
    while True:
        if block >= len(evaluated.positions):
            steps = ADAPT_STEPS if adapting else BLOCK_STEPS
            if evaluated.evaluations + 2 * chains * steps > max_evaluations:
                break  # whole blocks only: a resumed run continues exactly where this one stops
            positions = proposals[block].draw(block_rng(seed, block, "proposals"), chains * steps).reshape(chains, steps, -1)
            values, blobs = log_prob(positions.reshape(chains * steps, -1))
            evaluated.positions.append(positions)
            evaluated.log_prob.append(np.asarray(values, float).reshape(chains, steps))
            evaluated.blobs.append(None if blobs is None else np.asarray(blobs, float).reshape(chains, steps, -1))
            walked.extend(evaluated, proposals, seed, log_prob)  # takes the new block's random-walk steps
            if checkpoint is not None:
                _save(checkpoint, evaluated, screen_draws, seed, chains)
        walked.extend(evaluated, proposals, seed)  # a block read back from the checkpoint
        block += 1
        if adapting:
            acceptance = walked.accepted[-1].sum() / evaluated.log_prob[block - 1].size
            adapting = block < MIN_ADAPT_BLOCKS or (acceptance < TARGET_ACCEPTANCE and block < MAX_ADAPT_BLOCKS)
            proposals.append(_refitted(transform, evaluated, proposals, seed, block) if adapting else proposals[-1])
            adaptation_blocks = block
            if adapting:
                if progress is not None:
                    progress(replace(_status(walked.run(block), max_evaluations, rhat_max, ess_min),
                                     adapting_acceptance=float(acceptance)))
                continue
        else:
            proposals.append(proposals[-1])
        run = walked.run(adaptation_blocks)
        status = _status(run, max_evaluations, rhat_max, ess_min)
        if progress is not None:
            progress(status)
        if status.converged:
            break
    run = walked.run(adaptation_blocks)
    status = _status(run, max_evaluations, rhat_max, ess_min)
    run.status, run.converged = status, status.converged and run.steps > run.burn
    run.pareto_k = _pareto_k(evaluated, proposals[-1], adaptation_blocks)
    run.adaptation_blocks = adaptation_blocks
    return run


def minimum_evaluations(chains: int = DEFAULT_CHAINS) -> int:
    """The fewest evaluations that adapt the proposal and then take one block of samples."""
    return 2 * chains * (MIN_ADAPT_BLOCKS * ADAPT_STEPS + BLOCK_STEPS)



def _refitted(transform: Unconstrained, evaluated: Evaluated, proposals: list, seed: int,
              block: int) -> MixtureProposal:
    """The next proposal: every evaluation so far, importance-weighted by π over the proposal
    that drew it (truncated at √N times their mean, Ionides 2008), fitted by a mixture
    :data:`FINAL_WIDENING` times wider."""
    dimension = proposals[0].locations.shape[1]
    blocks = list(zip(evaluated.positions[:block], evaluated.log_prob[:block], proposals))
    positions = np.concatenate([p.reshape(-1, dimension) for p, _, _ in blocks])
    with np.errstate(invalid="ignore"):
        log_weights = np.concatenate([values.ravel() - q.log_density(p.reshape(-1, dimension))
                                      for p, values, q in blocks])
    finite = np.isfinite(log_weights)
    if finite.sum() <= dimension + 1:
        return proposals[-1]
    weights = np.exp(log_weights[finite] - log_weights[finite].max())
    weights = np.minimum(weights, weights.mean() * math.sqrt(finite.sum()))
    return MixtureProposal.fitted(transform, positions[finite], weights, FINAL_WIDENING, block_rng(seed, block, "mixture"))


def _status(run: IndependenceRun, max_evaluations: int, rhat_max: float, ess_min: float) -> SamplerStatus:
    return SamplerStatus(steps=run.steps, evaluations=run.evaluations, max_evaluations=max_evaluations,
                         max_rhat=float(run.rhat.max()), min_ess=float(run.ess_bulk.min()),
                         rhat_max=rhat_max, ess_min=ess_min)


def _pareto_k(evaluated: Evaluated, proposal: MixtureProposal, burn_blocks: int) -> float:
    """Pareto-k̂ of the importance weights π/q of the final proposal's own draws (the
    independence proposals of the kept blocks): above 0.7 their tail is too heavy, q misses π."""
    from sim.studies.inference.sampler import _arviz

    kept = list(zip(evaluated.positions[burn_blocks:], evaluated.log_prob[burn_blocks:]))
    if not kept:
        return math.inf
    dimension = kept[0][0].shape[2]
    positions = np.concatenate([p.reshape(-1, dimension) for p, _ in kept])
    with np.errstate(invalid="ignore"):
        log_weights = np.concatenate([v.ravel() for _, v in kept]) - proposal.log_density(positions)
    log_weights = np.where(np.isfinite(log_weights), log_weights, -np.inf)
    if np.isfinite(log_weights).sum() < 20:
        return math.inf
    log_weights = np.maximum(log_weights - log_weights.max(), -700.0)  # arviz wants finite values
    with np.errstate(over="ignore"), warnings.catch_warnings():  # arviz's tail fit of a very heavy tail
        warnings.simplefilter("ignore", RuntimeWarning)
        _, k = _arviz().psislw(log_weights)
    return float(k)


# --------------------------------------------------------------------------------------------
# The checkpoint


_ARRAYS = ("positions", "log_prob", "blobs", "walk_positions", "walk_log_prob", "walk_blobs")


def _save(folder: Path, evaluated: Evaluated, screen_draws: np.ndarray, seed: int, chains: int) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"screen_draws": screen_draws, "seed": np.array(seed), "chains": np.array(chains),
              "blocks": np.array(len(evaluated.positions))}
    for name in _ARRAYS:
        for index, array in enumerate(getattr(evaluated, name)):
            if array is not None:
                arrays[f"{name}_{index}"] = array
    temporary = folder / (STATE_FILE + ".tmp")
    with open(temporary, "wb") as handle:
        np.savez(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, folder / STATE_FILE)


def _load(folder: Path, screen_draws: np.ndarray, seed: int, chains: int) -> Evaluated | None:
    path = Path(folder) / STATE_FILE
    if not path.exists():
        return None
    try:
        with np.load(path) as saved:
            arrays = {name: saved[name] for name in saved.files}
    except (OSError, ValueError) as error:
        raise SamplerError(f"{folder}: cannot read the sampler checkpoint ({error})") from None
    if (int(arrays["seed"]) != seed or int(arrays["chains"]) != chains
            or not np.array_equal(arrays["screen_draws"], screen_draws)):
        raise SamplerError(f"{folder}: the checkpoint belongs to another run (different seed, chains or screening "
                           "draws); start afresh in another folder")
    blocks = int(arrays["blocks"])
    return Evaluated(*[[arrays.get(f"{name}_{i}") for i in range(blocks)] for name in _ARRAYS])


__all__ = ["IndependenceRun", "minimum_evaluations", "sample_independence"]
