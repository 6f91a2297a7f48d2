"""The answering chains themselves: what the independence sampler's evaluations make of them.

Every step of every chain is an independence step (a proposal drawn in advance from the block's
mixture, accepted with min(1, w′/w), w = π/q) and then a random-walk step from where the chain is
(in unconstrained coordinates, scaled to the proposal's spread, with the Jacobian): a chain on a
point the proposal under-weights moves on locally instead of waiting for a rare acceptance.

:class:`Chains` is the one code path for running and for resuming: it walks block after block of
:class:`Evaluated`; a block whose random-walk steps were not yet taken takes them (with the log
posterior) and records them, a block read back from a checkpoint replays them. Each block's random
numbers come from (seed, block, purpose) alone (:func:`block_rng`), so the chains are a function of
the saved evaluations.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.studies.inference.proposal import MixtureProposal, Unconstrained
from sim.studies.inference.sampler import LogProb, SamplerRun, convergence

PARETO_K_MAX = 0.7
"""Above this the importance weights' tail is too heavy for their mean to be estimated reliably
(Vehtari et al. 2024, *Pareto smoothed importance sampling*, JMLR 25): the proposal misses π."""


@dataclass
class IndependenceRun(SamplerRun):
    """A :class:`SamplerRun` whose walkers are independent chains, with the proposal's Pareto-k̂."""

    pareto_k: float = math.inf
    adaptation_blocks: int = 0

    @property
    def trusted(self) -> bool:
        return self.pareto_k <= PARETO_K_MAX


@dataclass
class Evaluated:
    """Every block's independence proposals (chains × steps × unknowns), their log posteriors and
    blobs, and the same for its random-walk proposals."""

    positions: list
    log_prob: list
    blobs: list
    walk_positions: list
    walk_log_prob: list
    walk_blobs: list

    @classmethod
    def empty(cls) -> Evaluated:
        return cls([], [], [], [], [], [])

    @property
    def evaluations(self) -> int:
        return 2 * sum(p.shape[0] * p.shape[1] for p in self.positions)


def block_rng(seed: int, block: int, purpose: str) -> np.random.Generator:
    words = [int(seed) & 0xFFFFFFFF, block, sum(purpose.encode())]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


class Chains:
    """The chains that the evaluations make, block after block, each block with the proposal
    that drew it. Every step is an independence step and then a random-walk step (in
    unconstrained coordinates, scaled to the proposal's spread: a chain on a point the proposal
    under-weights moves away locally instead of waiting for a rare acceptance). A block whose
    random-walk steps were not yet taken takes them with ``log_prob`` and records them in
    ``evaluated``; a block read back from a checkpoint replays them."""

    def __init__(self, transform: Unconstrained) -> None:
        self.transform = transform
        self.state: _ChainState | None = None
        self.chain, self.log_prob, self.blobs, self.accepted, self.steps = [], [], [], [], []

    def extend(self, evaluated: Evaluated, proposals: list, seed: int, log_prob: LogProb | None = None) -> None:
        for block in range(len(self.steps), min(len(evaluated.positions), len(proposals))):
            self._block(evaluated, block, proposals[block], seed, log_prob)

    def _block(self, evaluated: Evaluated, block: int, q: MixtureProposal, seed: int, log_prob) -> None:
        positions, values = evaluated.positions[block], evaluated.log_prob[block]
        if self.state is None:
            self.state = _ChainState(positions[:, 0], values[:, 0],
                                     None if evaluated.blobs[0] is None else evaluated.blobs[0][:, 0], self.transform)
        state = self.state
        with np.errstate(invalid="ignore"):  # −∞ − (−∞): a proposal on a bound of its support
            log_q = q.log_density(positions.reshape(-1, positions.shape[2])).reshape(values.shape)
            log_w = np.where(np.isfinite(values) & np.isfinite(log_q), values - log_q, -np.inf)
        current_w = np.where(np.isfinite(state.log_prob), state.log_prob - q.log_density(state.x), -np.inf)
        uniforms = np.log(block_rng(seed, block, "acceptance").uniform(size=values.shape))
        walk = _Walk.of(evaluated, block, q, seed, values.shape[1], log_prob)
        accepted = np.zeros(len(values), int)
        for step in range(values.shape[1]):
            accept = (((uniforms[:, step] < log_w[:, step] - current_w) | ~np.isfinite(current_w))
                      & np.isfinite(log_w[:, step]))
            blob = None if evaluated.blobs[block] is None else evaluated.blobs[block][:, step]
            state.move(accept, positions[:, step], values[:, step], blob)
            current_w = np.where(accept, log_w[:, step], current_w)
            moved = walk.step(state, step)
            if moved.any():
                current_w = np.where(moved, state.log_prob - q.log_density(state.x), current_w)
            accepted += accept  # the independence steps' acceptance: how well q fits
            self.chain.append(state.x)
            self.log_prob.append(state.log_prob)
            if state.blob is not None:
                self.blobs.append(state.blob)
        walk.record(evaluated, block)
        self.accepted.append(accepted)
        self.steps.append(values.shape[1])

    def run(self, burn_blocks: int) -> IndependenceRun:
        """The chains so far, the first ``burn_blocks`` blocks (adaptation) as burn-in."""
        chain, log_prob = np.array(self.chain), np.array(self.log_prob)
        burn = sum(self.steps[:burn_blocks])
        rhat, ess = convergence(chain[burn:])
        accepted = np.sum(self.accepted[burn_blocks:], axis=0) if len(self.accepted) > burn_blocks else \
            np.zeros(chain.shape[1], int)
        return IndependenceRun(chain=chain, log_prob=log_prob, blobs=np.array(self.blobs) if self.blobs else None,
                               accepted=accepted, burn=burn, rhat=rhat, ess_bulk=ess, converged=False,
                               evaluations=2 * chain.shape[0] * chain.shape[1], moves="independence", status=None)


class _ChainState:
    """Where every chain is: position, log posterior, blob, and the log Jacobian of its coordinates."""

    def __init__(self, x, log_prob, blob, transform: Unconstrained) -> None:
        self.x, self.log_prob, self.blob, self.transform = x, log_prob, blob, transform

    def move(self, accept: np.ndarray, x, log_prob, blob) -> None:
        self.x = np.where(accept[:, None], x, self.x)
        self.log_prob = np.where(accept, log_prob, self.log_prob)
        if self.blob is not None:
            self.blob = np.where(accept[:, None], blob, self.blob)

    def log_jacobian(self, x: np.ndarray) -> np.ndarray:
        return self.transform.inverse(self.transform.forward(x))[1]


class _Walk:
    """One block's random-walk steps: drawn from the chains' states as they go (evaluated with
    ``log_prob``) or read back from ``evaluated`` when replaying."""

    def __init__(self, scale: np.ndarray, noise, uniforms, saved, log_prob) -> None:
        self.scale, self.noise, self.uniforms, self.saved, self.log_prob = scale, noise, uniforms, saved, log_prob
        self.positions, self.values, self.blobs = [], [], []

    @classmethod
    def of(cls, evaluated: Evaluated, block: int, q: MixtureProposal, seed: int, steps: int, log_prob) -> _Walk:
        chains, _, dimension = evaluated.positions[block].shape
        rng = block_rng(seed, block, "walk")
        noise = rng.standard_normal((steps, chains, dimension))
        uniforms = np.log(rng.uniform(size=(steps, chains)))
        saved = None
        if block < len(evaluated.walk_positions):
            saved = (evaluated.walk_positions[block], evaluated.walk_log_prob[block], evaluated.walk_blobs[block])
        scale = np.linalg.cholesky(q.covariance()) * (2.38 / math.sqrt(dimension))
        return cls(scale, noise, uniforms, saved, log_prob)

    def step(self, state: _ChainState, step: int) -> np.ndarray:
        """Propose from every chain's state, accept by Metropolis with the Jacobian; the chains moved."""
        z = state.transform.forward(state.x)
        proposed, log_jacobian = state.transform.inverse(z + self.noise[step] @ self.scale.T)
        if self.saved is not None:
            positions, values, blobs = self.saved
            proposed, value = positions[:, step], values[:, step]
            blob = None if blobs is None else blobs[:, step]
        else:
            value, blob = self.log_prob(proposed)
            value = np.asarray(value, float)
            blob = None if blob is None else np.asarray(blob, float)
        self.positions.append(proposed)
        self.values.append(value)
        self.blobs.append(blob)
        with np.errstate(invalid="ignore"):
            ratio = value + log_jacobian - state.log_prob - state.log_jacobian(state.x)
        moved = np.isfinite(value) & ((self.uniforms[step] < ratio) | ~np.isfinite(state.log_prob))
        state.move(moved, proposed, value, blob)
        return moved

    def record(self, evaluated: Evaluated, block: int) -> None:
        if self.saved is not None:
            return
        evaluated.walk_positions.append(np.stack(self.positions, axis=1))
        evaluated.walk_log_prob.append(np.stack(self.values, axis=1))
        evaluated.walk_blobs.append(None if self.blobs[0] is None else np.stack(self.blobs, axis=1))


__all__ = ["PARETO_K_MAX", "Chains", "Evaluated", "IndependenceRun", "block_rng"]
