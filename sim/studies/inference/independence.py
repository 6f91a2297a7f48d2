"""Independence Metropolis–Hastings: several independent chains with a proposal fitted to the posterior.

The answering chain's posterior differs from the screening chain's only by the simulation's noise
and offset: the screen already says where it is and roughly how wide. A random-walk or ensemble
sampler ignores that and pays ~100 autocorrelation times per chain to reach R-hat ≤ 1.01
(10⁴–10⁵ evaluations). An *independence* sampler (Tierney 1994) proposes every step from one fixed
distribution *q* fitted to the screen and accepts with probability min(1, w'/w), w = π/q: when q is
close to π nearly every step is a fresh draw, the chains mix in a few steps, and the proposals of
a whole block are drawn before any is evaluated, so they are evaluated in one batch.

**Proposal.** A multivariate Student-t (ν = :data:`DEGREES_OF_FREEDOM`: heavier tails than the
target, which is what keeps w bounded) in unconstrained coordinates (:class:`Unconstrained`: logit
of a bounded value, log of a half-bounded one), so a posterior piled near a bound is still close to
elliptical. Fitted twice: to the screening draws, widened by :data:`PILOT_WIDENING` (the answer is
wider: it adds the simulation's randomness), for a short pilot; then, by importance weights, to
every pilot evaluation, for the chains that are kept. The pilot's steps are the burn-in; every step
after them is a sample.

**When it must not be trusted.** If q misses part of π (lighter tails, a missed mode), every
chain misses it alike and R-hat cannot see it. The importance weights can: their Pareto-k̂
(PSIS; Vehtari et al. 2024) above :data:`PARETO_K_MAX` says the proposal's tails are too light and
:attr:`IndependenceRun.trusted` is false; the caller then samples with the ensemble sampler.

**Checkpoint and resume.** Each block's random numbers come from its own seed (``seed``, block),
so a chain is a function of the proposals' evaluations alone: the checkpoint keeps every block's
proposals, log posteriors and blobs, and a resumed run replays them and continues with identical
samples.
"""
from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path

import numpy as np

from sim.studies.inference.defaults import DEFAULT_ESS_MIN, DEFAULT_MAX_EVALUATIONS, DEFAULT_RHAT_MAX
from sim.studies.inference.sampler import LogProb, SamplerError, SamplerRun, SamplerStatus, convergence
from sim.studies.priors import Prior

DEGREES_OF_FREEDOM = 5.0
PILOT_WIDENING = 1.5
"""The pilot proposal's scale over the screening draws' spread."""
FINAL_WIDENING = 1.25
ADAPT_STEPS = 50
MIN_ADAPT_BLOCKS = 6
MAX_ADAPT_BLOCKS = 30
TARGET_ACCEPTANCE = 0.3
"""Adaptation stops once a block accepts this share of its proposals (or after MAX_ADAPT_BLOCKS)."""
BLOCK_STEPS = 50
MAX_COMPONENTS = 6
DRAWS_PER_COMPONENT = 10
DEFAULT_CHAINS = 4
PARETO_K_MAX = 0.7
"""Above this the importance weights' tail is too heavy for their mean to be estimated reliably
(Vehtari et al. 2024, *Pareto smoothed importance sampling*, JMLR 25): the proposal misses π."""
STATE_FILE = "independence.npz"


@dataclass(frozen=True)
class Unconstrained:
    """Each unknown's support mapped onto the real line: logit of a bounded value (of its log for a
    log-uniform prior: hazards spread over decades), log of a half-bounded one, identity else."""

    low: np.ndarray
    high: np.ndarray
    logarithmic: np.ndarray  # bool: bounded in log units

    @classmethod
    def of(cls, priors: Sequence[Prior]) -> Unconstrained:
        supports = np.array([prior.dist.support() for prior in priors], float)
        logarithmic = np.array([prior.family == "loguniform" for prior in priors])
        supports[logarithmic] = np.log(supports[logarithmic])
        return cls(supports[:, 0], supports[:, 1], logarithmic)

    def forward(self, x: np.ndarray) -> np.ndarray:
        z = np.array(x, float)
        both, low_only = self._kinds()
        with np.errstate(divide="ignore", invalid="ignore"):
            z[..., self.logarithmic] = np.log(z[..., self.logarithmic])
            share = (z[..., both] - self.low[both]) / (self.high[both] - self.low[both])
            z[..., both] = np.log(share) - np.log1p(-share)
            z[..., low_only] = np.log(z[..., low_only] - self.low[low_only])
        return np.where(np.isnan(z), -np.inf, z)

    def inverse(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(x, log |dx/dz| summed over unknowns) at every row of z."""
        z = np.asarray(z, float)
        x = z.copy()
        both, low_only = self._kinds()
        share = 0.5 * (1.0 + np.tanh(0.5 * z[..., both]))  # the logistic function, without overflow
        width = self.high[both] - self.low[both]
        x[..., both] = self.low[both] + width * share
        log_jacobian = (np.log(width) - np.logaddexp(0.0, z[..., both]) - np.logaddexp(0.0, -z[..., both])).sum(-1)
        x[..., low_only] = self.low[low_only] + np.exp(z[..., low_only])
        log_jacobian = log_jacobian + z[..., low_only].sum(-1)
        log_jacobian = log_jacobian + x[..., self.logarithmic].sum(-1)  # d exp(y)/dy = exp(y)
        x[..., self.logarithmic] = np.exp(x[..., self.logarithmic])
        return x, log_jacobian

    def _kinds(self) -> tuple[np.ndarray, np.ndarray]:
        finite_low, finite_high = np.isfinite(self.low), np.isfinite(self.high)
        return finite_low & finite_high, finite_low & ~finite_high


@dataclass(frozen=True)
class MixtureProposal:
    """A mixture of multivariate Student-t's in unconstrained coordinates, seen as a density over
    the unknowns: one component for an elliptical posterior, several along a curved ridge."""

    transform: Unconstrained
    weights: np.ndarray  # components
    locations: np.ndarray  # components × unknowns
    scales: np.ndarray  # components × unknowns × unknowns (each t's covariance is ν/(ν − 2) times this)

    @classmethod
    def fitted(cls, transform: Unconstrained, draws: np.ndarray, weights: np.ndarray | None, widening: float,
               rng: np.random.Generator) -> MixtureProposal:
        """Fitted by weighted EM to ``draws`` (unknowns; ``weights`` their importance weights),
        each component ``widening`` times wider; as many components as the draws' effective number
        supports (:data:`DRAWS_PER_COMPONENT` per dimension each, at most :data:`MAX_COMPONENTS`)."""
        z = transform.forward(draws)
        keep = np.all(np.isfinite(z), axis=1)
        z = z[keep]
        weights = np.ones(len(z)) if weights is None else np.asarray(weights, float)[keep]
        weights = weights / weights.sum()
        effective = 1.0 / np.sum(weights ** 2)
        dimension = z.shape[1]
        components = int(max(1, min(MAX_COMPONENTS, effective // (DRAWS_PER_COMPONENT * (dimension + 1)))))
        mixture, locations, scales = _weighted_em(z, weights, components, rng)
        return cls(transform, mixture, locations, scales * widening ** 2)

    @cached_property
    def _components(self) -> list:
        from scipy.stats import multivariate_t

        return [multivariate_t(location, scale, df=DEGREES_OF_FREEDOM)
                for location, scale in zip(self.locations, self.scales)]

    def covariance(self) -> np.ndarray:
        """The mixture's covariance in unconstrained coordinates."""
        mean = self.weights @ self.locations
        inflation = DEGREES_OF_FREEDOM / (DEGREES_OF_FREEDOM - 2.0)
        second = sum(w * (inflation * scale + np.outer(loc, loc))
                     for w, loc, scale in zip(self.weights, self.locations, self.scales))
        return second - np.outer(mean, mean)

    def draw(self, rng: np.random.Generator, count: int) -> np.ndarray:
        component = rng.choice(len(self.weights), size=count, p=self.weights)
        dimension = self.locations.shape[1]
        normal = rng.standard_normal((count, dimension))
        mixing = np.sqrt(rng.chisquare(DEGREES_OF_FREEDOM, count) / DEGREES_OF_FREEDOM)
        factors = np.linalg.cholesky(self.scales)
        z = self.locations[component] + np.einsum("nij,nj->ni", factors[component], normal) / mixing[:, None]
        return self.transform.inverse(z)[0]

    def log_density(self, x: np.ndarray) -> np.ndarray:
        """log q(x): the mixture's density at z(x) times |dz/dx|."""
        from scipy.special import logsumexp

        x = np.atleast_2d(np.asarray(x, float))
        z = self.transform.forward(x)
        inside = np.all(np.isfinite(z), axis=-1)
        result = np.full(len(z), -np.inf)
        if inside.any():
            parts = [math.log(weight) + np.atleast_1d(component.logpdf(z[inside]))
                     for weight, component in zip(self.weights, self._components)]
            result[inside] = logsumexp(parts, axis=0) - self.transform.inverse(z[inside])[1]
        return result


def _weighted_em(z: np.ndarray, weights: np.ndarray, components: int, rng: np.random.Generator,
                 iterations: int = 50) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A Gaussian mixture fitted to weighted points by EM: (mixture weights, means, covariances).
    Started from points picked far apart (k-means++), each covariance kept a little above a
    hundredth of the overall one so that no component collapses onto a few points."""
    from scipy.special import logsumexp
    from scipy.stats import multivariate_normal

    overall_mean = weights @ z
    overall = ((z - overall_mean) * weights[:, None]).T @ (z - overall_mean)
    floor = 1e-2 * overall + 1e-9 * np.eye(z.shape[1])
    if components == 1:
        return np.ones(1), overall_mean[None, :], (overall + 1e-9 * np.eye(z.shape[1]))[None]
    centres = [z[rng.choice(len(z), p=weights)]]
    for _ in range(components - 1):
        distance = np.min([np.sum((z - c) @ np.linalg.inv(overall) * (z - c), axis=1) for c in centres], axis=0)
        chance = weights * distance
        centres.append(z[rng.choice(len(z), p=chance / chance.sum())])
    means = np.array(centres)
    covariances = np.array([overall / components ** 2 + floor] * components)
    mixture = np.full(components, 1.0 / components)
    for _ in range(iterations):
        log_r = np.column_stack([math.log(mixture[k]) + multivariate_normal(means[k], covariances[k],
                                                                           allow_singular=True).logpdf(z)
                                 for k in range(components)])
        responsibility = np.exp(log_r - logsumexp(log_r, axis=1, keepdims=True)) * weights[:, None]
        mass = responsibility.sum(axis=0) + 1e-300
        mixture = mass / mass.sum()
        means = (responsibility.T @ z) / mass[:, None]
        for k in range(components):
            centred = z - means[k]
            covariances[k] = (centred * responsibility[:, k:k + 1]).T @ centred / mass[k] + floor
    return mixture, means, covariances


@dataclass
class IndependenceRun(SamplerRun):
    """A :class:`SamplerRun` whose walkers are independent chains, with the proposal's Pareto-k̂."""

    pareto_k: float = math.inf
    adaptation_blocks: int = 0

    @property
    def trusted(self) -> bool:
        return self.pareto_k <= PARETO_K_MAX


@dataclass
class _Evaluated:
    """Every block's independence proposals (chains × steps × unknowns), their log posteriors and
    blobs, and the same for its random-walk proposals."""

    positions: list
    log_prob: list
    blobs: list
    walk_positions: list
    walk_log_prob: list
    walk_blobs: list

    @classmethod
    def empty(cls) -> _Evaluated:
        return cls([], [], [], [], [], [])

    @property
    def evaluations(self) -> int:
        return 2 * sum(p.shape[0] * p.shape[1] for p in self.positions)


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
    evaluated = evaluated or _Evaluated.empty()
    proposals = [MixtureProposal.fitted(transform, screen_draws, None, PILOT_WIDENING, _rng(seed, 0, "mixture"))]
    adapting, block, adaptation_blocks = True, 0, 0
    walked = _Chains(transform)
    while True:
        if block >= len(evaluated.positions):
            steps = ADAPT_STEPS if adapting else BLOCK_STEPS
            if evaluated.evaluations + 2 * chains * steps > max_evaluations:
                break  # whole blocks only: a resumed run continues exactly where this one stops
            positions = proposals[block].draw(_rng(seed, block, "proposals"), chains * steps).reshape(chains, steps, -1)
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


def _rng(seed: int, block: int, purpose: str) -> np.random.Generator:
    words = [int(seed) & 0xFFFFFFFF, block, sum(purpose.encode())]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


def _refitted(transform: Unconstrained, evaluated: _Evaluated, proposals: list, seed: int,
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
    return MixtureProposal.fitted(transform, positions[finite], weights, FINAL_WIDENING, _rng(seed, block, "mixture"))


class _Chains:
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

    def extend(self, evaluated: _Evaluated, proposals: list, seed: int, log_prob: LogProb | None = None) -> None:
        for block in range(len(self.steps), min(len(evaluated.positions), len(proposals))):
            self._block(evaluated, block, proposals[block], seed, log_prob)

    def _block(self, evaluated: _Evaluated, block: int, q: MixtureProposal, seed: int, log_prob) -> None:
        positions, values = evaluated.positions[block], evaluated.log_prob[block]
        if self.state is None:
            self.state = _ChainState(positions[:, 0], values[:, 0],
                                     None if evaluated.blobs[0] is None else evaluated.blobs[0][:, 0], self.transform)
        state = self.state
        with np.errstate(invalid="ignore"):  # −∞ − (−∞): a proposal on a bound of its support
            log_q = q.log_density(positions.reshape(-1, positions.shape[2])).reshape(values.shape)
            log_w = np.where(np.isfinite(values) & np.isfinite(log_q), values - log_q, -np.inf)
        current_w = np.where(np.isfinite(state.log_prob), state.log_prob - q.log_density(state.x), -np.inf)
        uniforms = np.log(_rng(seed, block, "acceptance").uniform(size=values.shape))
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
    def of(cls, evaluated: _Evaluated, block: int, q: MixtureProposal, seed: int, steps: int, log_prob) -> _Walk:
        chains, _, dimension = evaluated.positions[block].shape
        rng = _rng(seed, block, "walk")
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

    def record(self, evaluated: _Evaluated, block: int) -> None:
        if self.saved is not None:
            return
        evaluated.walk_positions.append(np.stack(self.positions, axis=1))
        evaluated.walk_log_prob.append(np.stack(self.values, axis=1))
        evaluated.walk_blobs.append(None if self.blobs[0] is None else np.stack(self.blobs, axis=1))


def _status(run: IndependenceRun, max_evaluations: int, rhat_max: float, ess_min: float) -> SamplerStatus:
    return SamplerStatus(steps=run.steps, evaluations=run.evaluations, max_evaluations=max_evaluations,
                         max_rhat=float(run.rhat.max()), min_ess=float(run.ess_bulk.min()),
                         rhat_max=rhat_max, ess_min=ess_min)


def _pareto_k(evaluated: _Evaluated, proposal: MixtureProposal, burn_blocks: int) -> float:
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


def _save(folder: Path, evaluated: _Evaluated, screen_draws: np.ndarray, seed: int, chains: int) -> None:
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


def _load(folder: Path, screen_draws: np.ndarray, seed: int, chains: int) -> _Evaluated | None:
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
    return _Evaluated(*[[arrays.get(f"{name}_{i}") for i in range(blocks)] for name in _ARRAYS])


__all__ = ["IndependenceRun", "MixtureProposal", "Unconstrained", "minimum_evaluations", "sample_independence"]
