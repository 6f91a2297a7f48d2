"""Metropolis-within-Gibbs answering chains: a random walk over the model's parameters, then cheap
sweeps over the reporters' error terms.

A calibration's unknowns are of two kinds with very different costs. Moving a model parameter θ
(a hazard, a stock) needs a new path of the fluid model (milliseconds for phase 1, ~10 ms for the
long arc); moving an error term (a series' scale σ or correlation ρ) only changes the covariance of
the likelihood, whose path is already known (a Cholesky factorization, tens of microseconds). The
long arc has 20 model parameters and 20 error terms: the cheap ones can be swept many more times
than the model is evaluated.

So every step of every chain is, in turn (Gibbs blocks, each a Metropolis–Hastings step that keeps
the posterior invariant):

1. **everything, locally**: a Gaussian random walk over all unknowns at once, in unconstrained
   coordinates (:class:`~sim.studies.inference.coordinates.Unconstrained`, Jacobian included) with
   the covariance of the posterior measured so far, scaled 2.38/√d (Roberts & Rosenthal 2001); one
   model path per chain. All at once, because an error scale and the values it lets drift are
   correlated (a small σ pins θ): updating θ with the error terms held crosses that coupling only in
   tiny zig-zags (measured on the arc: bulk ESS 7 after 6,300 steps).
2. **θ, from afar**: an independence proposal (Tierney 1994), a multivariate Student-t (ν = 5)
   fitted to the warm-up, 1.2 times wider; accepted, it is a fresh draw, where the random walk
   needs ~p steps to cross the posterior. Left out for good once a warm-up block (from the
   :data:`MIN_WARMUP_BLOCKS`-th) accepts fewer than :data:`MIN_T_ACCEPTANCE` of its proposals (far
   from Gaussian, or in many dimensions, it would double every step's cost for few moves).
3. **error terms, series by series** (σ_s, and ρ_s where it has one): a random walk per series
   with its own covariance and scale, the path held: no model evaluation.

**Warm-up, then fixed.** During warm-up (blocks of :data:`BLOCK_STEPS` steps, at least
:data:`MIN_WARMUP_BLOCKS`, at most :data:`MAX_WARMUP_BLOCKS`) the proposal covariance is re-estimated
after each block from the second half of the warm-up draws (pooled over chains, shrunk towards
the covariance of the starting draws) and each block's scale moves towards its target acceptance
(0.234 for θ, 0.44 for a series' terms); a chain far behind the others in log posterior
(stuck in a minor mode, or still climbing) is moved to another chain's position
(:data:`RESTART_GAP`). Warm-up ends when the θ acceptance is within :data:`ACCEPTANCE_BAND` and the
chains agree over the second half of the warm-up (split R-hat below :data:`WARMUP_RHAT`). Then the
kernel is fixed: the chains are ordinary Metropolis–Hastings chains, and only their draws after warm-up are kept and judged by arviz's rank R-hat and bulk ESS over
:data:`DEFAULT_CHAINS` independent chains, which start from different draws of the screen.

**Checkpoint and resume.** After every block the whole state (draws, every chain's position,
log-likelihood parts and path, the kernel) is saved; each block's random numbers come from
(seed, block) alone, so a resumed run gives the same samples as one never interrupted.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sim.studies.inference.coordinates import Unconstrained
from sim.studies.inference.defaults import DEFAULT_ESS_MIN, DEFAULT_MAX_EVALUATIONS, DEFAULT_RHAT_MAX
from sim.studies.inference.sampler import SamplerError, SamplerRun, SamplerStatus, convergence
from sim.studies.priors import Prior

DEFAULT_CHAINS = 4
BLOCK_STEPS = 100
MIN_WARMUP_BLOCKS = 3
MAX_WARMUP_BLOCKS = 40
RESTART_GAP = 3.0
"""During warm-up, a chain whose log posterior over the second half of a block averages more than
RESTART_GAP × √(unknowns / 2) below the best chain's (√(unknowns / 2) is the sd of a Gaussian
posterior's log density) is moved to where another chain is: stuck in a minor mode, or still
climbing. Three sd, because a random walk's half-block mean is little more than one draw: with one
sd (tried on the arc), chains in the same mode were moved after nearly every block."""
ACCEPTANCE_BAND = (0.12, 0.5)
WARMUP_RHAT = 1.1
THETA_ACCEPTANCE, ERROR_ACCEPTANCE = 0.234, 0.44
T_DEGREES_OF_FREEDOM = 5.0
T_WIDENING = 1.2
"""θ's independence proposal: a Student-t with ν = 5, its spread 1.2 × the warm-up draws'."""
MIN_T_ACCEPTANCE = 0.05
SCREEN_PSEUDO_DRAWS = 10
"""Weight of the starting draws' covariance, in draws per unknown, in every re-estimate."""
PILOT_ESS_SHARE = 0.25
"""A pilot (``keep_going``) is judged at a quarter of the ESS asked for: its mean is then within ~0.1
posterior sd, and its draws are mixed enough to start and shape the next chains (judged when warm-up
ended instead, phase 1's second round started from the warm-up's draws and needed over 90,000 paths
where it had needed 29,000)."""
KEPT_STEPS_MAX = 1000
"""Draws per chain returned (evenly thinned): R-hat and ESS are those of every draw after warm-up."""
STATE_FILE = "blocked.npz"
CHECKPOINT_FORMAT = 4


def block_rng(seed: int, block: int, purpose: str) -> np.random.Generator:
    words = [int(seed) & 0xFFFFFFFF, block, sum(purpose.encode())]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(words)))


class BlockedPosterior:
    """What the blocked sampler needs of a posterior (:class:`~sim.studies.inference.surrogate.SurrogatePosterior`
    provides it): ``parameters`` (θ's length), ``error_blocks`` (index arrays into the error terms,
    one block per series), ``priors`` of every unknown, ``paths(theta)`` → per row a path (log means
    and extra diagonal variance, or None where θ is refused), and
    ``log_likelihoods(log_means, extra_diagonal, error_values)`` → per row."""

    parameters: int
    error_blocks: list[np.ndarray]
    unknown_priors: list[Prior]

    def paths(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        raise NotImplementedError

    def log_likelihoods(self, log_means: np.ndarray, extra_diagonal: np.ndarray,
                        error_values: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


@dataclass
class _State:
    """Every chain's position (in the unknowns' own units), its parts of the log posterior and its path."""

    x: np.ndarray  # chains × unknowns
    log_prior: np.ndarray  # chains × unknowns (each unknown's own log density)
    log_likelihood: np.ndarray  # chains
    log_means: np.ndarray  # chains × figures
    extra: np.ndarray  # chains × figures

    @property
    def log_prob(self) -> np.ndarray:
        return self.log_prior.sum(axis=1) + self.log_likelihood

    def take(self, accept: np.ndarray, other: _State) -> None:
        for name in ("x", "log_prior", "log_likelihood", "log_means", "extra"):
            mine, theirs = getattr(self, name), getattr(other, name)
            mask = accept.reshape((-1,) + (1,) * (mine.ndim - 1))
            setattr(self, name, np.where(mask, theirs, mine))


@dataclass
class _Kernel:
    """The proposals: one covariance of all unknowns (unconstrained), a scale factor per random-walk
    block, and θ's independence proposal (a Student-t's location and Cholesky factor) if it is used."""

    covariance: np.ndarray
    log_factors: np.ndarray  # [θ, error block 1, ...]
    t_location: np.ndarray | None = None
    t_factor: np.ndarray | None = None

    @property
    def paths_per_step(self) -> int:
        return 1 if self.t_location is None else 2


@dataclass
class BlockedRun(SamplerRun):
    """A :class:`SamplerRun` of independent Metropolis-within-Gibbs chains (thinned after warm-up)."""

    warmup_blocks: int = 0
    thinning: int = 1
    t_acceptance: float = math.nan  # θ's independence steps after warm-up (NaN: not used)
    restarts: int = 0
    error_acceptance: float = math.nan


def sample_blocked(
    posterior: BlockedPosterior,
    starts: np.ndarray,
    screen_draws: np.ndarray,
    seed: int,
    *,
    rhat_max: float = DEFAULT_RHAT_MAX,
    ess_min: float = DEFAULT_ESS_MIN,
    max_evaluations: int = DEFAULT_MAX_EVALUATIONS,
    checkpoint: Path | None = None,
    resume: bool = False,
    progress: Callable[[SamplerStatus], None] | None = None,
    keep_going: Callable[[np.ndarray], bool] | None = None,
) -> BlockedRun:
    """Run one chain from each row of ``starts`` (chains × unknowns) until every unknown has
    R-hat ≤ ``rhat_max`` and bulk ESS ≥ ``ess_min`` over the draws after warm-up, or until the next
    block would pass ``max_evaluations`` model paths. ``screen_draws`` (rows of unknowns) give the
    first proposal covariance. The same arguments give the same chains; ``resume`` continues a
    checkpoint to the same samples.

    ``keep_going``, if given, is asked once, when the draws after warm-up first reach a bulk ESS of
    :data:`PILOT_ESS_SHARE` × ``ess_min`` for every unknown, with those draws (rows of unknowns): if
    it answers False the chains stop there, a *pilot* (``run.pilot``, not converged). A calibration
    asks whether the answer is still where the simulation was measured, and measures again rather
    than converge on a likelihood it will replace."""
    starts = np.asarray(starts, float)
    chains = len(starts)
    if chains < 2 or max_evaluations < minimum_evaluations(chains):
        raise SamplerError(f"{chains} chains and {max_evaluations} evaluations: need 2 chains or more and at least "
                           f"{minimum_evaluations(chains)} evaluations")
    transform = Unconstrained.of(posterior.unknown_priors)
    progress = progress or (lambda status: None)
    saved = _load(checkpoint, starts, seed) if resume and checkpoint else None
    if saved is None:
        kernel = _Kernel(_screen_covariance(transform, screen_draws), np.zeros(1 + len(posterior.error_blocks)))
        saved = _Blocks([], [], [], None, _evaluate_start(posterior, starts), kernel, chains)
    blocks = saved
    while True:
        if blocks.warmup is not None:
            run = _finished(blocks, max_evaluations, rhat_max, ess_min)
            progress(run.status)
            if run.status.converged:
                break
            if keep_going is not None and not blocks.asked and run.status.min_ess >= PILOT_ESS_SHARE * ess_min:
                if not keep_going(run.kept.reshape(-1, run.chain.shape[2])):
                    return replace(run, pilot=True)  # a resumed run asks again, of the same draws
                blocks.asked = True
        if blocks.evaluations + chains * BLOCK_STEPS * blocks.kernel.paths_per_step > max_evaluations:
            break  # whole blocks only: a resumed run continues exactly where this one stops
        _block(posterior, transform, blocks, block_rng(seed, len(blocks.draws), "blocked"))
        if blocks.warmup is None:
            blocks.kernel = _adapted(blocks, transform, screen_draws, posterior.parameters)
            if _restarted(blocks, block_rng(seed, len(blocks.draws), "restart")):
                progress(_adapting(blocks, max_evaluations, rhat_max, ess_min))
            elif _warm(blocks):
                blocks.warmup = len(blocks.draws)
            else:
                progress(_adapting(blocks, max_evaluations, rhat_max, ess_min))
        if checkpoint is not None:
            _save(checkpoint, blocks, starts, seed)
    return _finished(blocks, max_evaluations, rhat_max, ess_min)


def minimum_evaluations(chains: int = DEFAULT_CHAINS) -> int:
    """The fewest model paths that warm up and then take one block of samples."""
    return chains * BLOCK_STEPS * (MIN_WARMUP_BLOCKS + 1)


@dataclass
class _Blocks:
    """The chains block by block: draws (steps × chains × unknowns), log posteriors, each Gibbs
    block's acceptance, the warm-up's length in blocks once it ended, the chains' state, the kernel."""

    draws: list
    log_prob: list
    acceptance: list  # per block: [θ walk, θ independence (NaN when not used), each series' error terms]
    warmup: int | None
    state: _State
    kernel: _Kernel
    evaluations: int  # model paths so far (the starting points' included)
    restarts: int = 0  # chains moved to another's position during warm-up
    asked: bool = False  # ``keep_going`` asked, and it said go on


def _evaluate_start(posterior: BlockedPosterior, starts: np.ndarray) -> _State:
    parameters = posterior.parameters
    log_means, extra = posterior.paths(starts[:, :parameters])
    state = _State(starts.copy(), _log_priors(posterior.unknown_priors, starts), np.zeros(len(starts)), log_means, extra)
    state.log_likelihood = _likelihoods(posterior, state.log_means, state.extra, starts[:, parameters:])
    if not np.isfinite(state.log_prob).all():
        raise SamplerError("a chain's starting point has no posterior density (outside a prior, or refused by the "
                           "scenario)")
    return state


def _likelihoods(posterior: BlockedPosterior, log_means, extra, error_values) -> np.ndarray:
    values = np.full(len(log_means), -math.inf)
    valid = np.isfinite(log_means).all(axis=1) & np.isfinite(error_values).all(axis=1)
    if valid.any():
        values[valid] = posterior.log_likelihoods(log_means[valid], extra[valid], error_values[valid])
    return values


def _log_priors(priors: Sequence[Prior], x: np.ndarray) -> np.ndarray:
    return np.column_stack([prior.log_density(x[:, index]) for index, prior in enumerate(priors)])


def _screen_covariance(transform: Unconstrained, screen_draws: np.ndarray) -> np.ndarray:
    z = transform.forward(np.asarray(screen_draws, float))
    z = z[np.isfinite(z).all(axis=1)]
    covariance = np.atleast_2d(np.cov(z, rowvar=False))
    return covariance + np.diag(np.maximum(np.diag(covariance) * 1e-3, 1e-10))


def _block(posterior: BlockedPosterior, transform: Unconstrained, blocks: _Blocks, rng: np.random.Generator) -> None:
    """One block of :data:`BLOCK_STEPS` steps for every chain, appended to ``blocks``."""
    state, kernel = blocks.state, blocks.kernel
    chains, unknowns = state.x.shape
    theta, everything = np.arange(posterior.parameters), np.arange(unknowns)
    # the model's step moves every unknown at once: an error scale and the values it lets drift are
    # correlated (a small σ pins θ), which one-block-at-a-time updates cross only in tiny zig-zags
    groups = [everything] + [posterior.parameters + np.asarray(b) for b in posterior.error_blocks]
    walks = [_RandomWalk(np.linalg.cholesky(kernel.covariance[np.ix_(g, g)]) * (2.38 / math.sqrt(len(g)) * math.exp(f)))
             for g, f in zip(groups, kernel.log_factors)]
    steps = [(everything, walks[0])]
    if kernel.t_location is not None:
        steps.append((theta, _StudentT(kernel.t_location, kernel.t_factor)))
    steps += list(zip(groups[1:], walks[1:]))
    draws = np.empty((BLOCK_STEPS, chains, unknowns))
    log_prob = np.empty((BLOCK_STEPS, chains))
    accepted = np.zeros(len(steps))
    for step in range(BLOCK_STEPS):
        for index, (group, proposal) in enumerate(steps):
            accepted[index] += _gibbs_step(posterior, transform, state, group, proposal, rng,
                                           group is theta or group is everything).mean()
        draws[step], log_prob[step] = state.x, state.log_prob
    blocks.draws.append(draws)
    blocks.log_prob.append(log_prob)
    acceptance = accepted / BLOCK_STEPS
    if kernel.t_location is None:
        acceptance = np.insert(acceptance, 1, math.nan)
    blocks.acceptance.append(acceptance)
    blocks.evaluations += chains * BLOCK_STEPS * kernel.paths_per_step


class _RandomWalk:
    """A Gaussian random walk from where the chain is (symmetric: no proposal ratio)."""

    def __init__(self, factor: np.ndarray) -> None:
        self.factor = factor

    def __call__(self, z: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return z + rng.standard_normal(z.shape) @ self.factor.T, np.zeros(len(z))


class _StudentT:
    """An independence proposal: a multivariate Student-t (ν = :data:`T_DEGREES_OF_FREEDOM`) fitted
    to the warm-up, drawn whatever the chain's position; the ratio log q(z) − log q(z′) corrects for it."""

    def __init__(self, location: np.ndarray, factor: np.ndarray) -> None:
        self.location, self.factor = location, factor

    def log_density(self, z: np.ndarray) -> np.ndarray:
        whitened = np.linalg.solve(self.factor, (z - self.location).T).T
        return -0.5 * (T_DEGREES_OF_FREEDOM + len(self.location)) * np.log1p((whitened ** 2).sum(axis=1)
                                                                             / T_DEGREES_OF_FREEDOM)

    def __call__(self, z: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        normal = rng.standard_normal(z.shape)
        scale = np.sqrt(T_DEGREES_OF_FREEDOM / rng.chisquare(T_DEGREES_OF_FREEDOM, len(z)))
        proposed = self.location + (normal @ self.factor.T) * scale[:, None]
        return proposed, self.log_density(z) - self.log_density(proposed)


def _gibbs_step(posterior: BlockedPosterior, transform: Unconstrained, state: _State, group: np.ndarray,
                propose: Callable, rng: np.random.Generator, model_moves: bool) -> np.ndarray:
    """One Metropolis–Hastings step of ``group``'s unknowns for every chain (the others held)."""
    chains = len(state.x)
    z = transform.forward(state.x)
    proposed_z = z.copy()
    proposed_z[:, group], log_proposal_ratio = propose(z[:, group], rng)
    x, log_jacobian = transform.inverse(proposed_z)
    log_uniform = np.log(rng.uniform(size=chains))
    proposal = _State(x, state.log_prior.copy(), state.log_likelihood, state.log_means, state.extra)
    proposal.log_prior[:, group] = _log_priors([posterior.unknown_priors[i] for i in group], x[:, group])
    inside = np.isfinite(proposal.log_prior[:, group]).all(axis=1)
    parameters = posterior.parameters
    if model_moves:
        log_means = np.full_like(state.log_means, np.nan)
        extra = np.zeros_like(state.extra)
        if inside.any():
            log_means[inside], extra[inside] = posterior.paths(x[inside, :parameters])
        proposal.log_means, proposal.extra = log_means, extra
    proposal.log_likelihood = np.full(chains, -math.inf)
    if inside.any():
        proposal.log_likelihood[inside] = _likelihoods(posterior, proposal.log_means[inside], proposal.extra[inside],
                                                       x[inside, parameters:])
    current_jacobian = transform.inverse(z)[1]
    with np.errstate(invalid="ignore"):
        ratio = proposal.log_prob + log_jacobian - state.log_prob - current_jacobian + log_proposal_ratio
    accept = np.isfinite(proposal.log_prob) & (log_uniform < ratio)
    state.take(accept, proposal)
    return accept


def _adapted(blocks: _Blocks, transform: Unconstrained, screen_draws: np.ndarray, parameters: int) -> _Kernel:
    """The warm-up's next kernel: the covariance of the second half of the draws so far (shrunk
    towards the screen's), every random walk's scale moved towards its target acceptance, and θ's
    Student-t fitted to the same draws, :data:`T_WIDENING` times wider."""
    recent = np.concatenate(blocks.draws[len(blocks.draws) // 2:])
    z = transform.forward(recent.reshape(-1, recent.shape[2]))
    z = z[np.isfinite(z).all(axis=1)]
    prior_weight = SCREEN_PSEUDO_DRAWS * z.shape[1]
    screen = _screen_covariance(transform, screen_draws)
    covariance = (np.cov(z, rowvar=False) * len(z) + screen * prior_weight) / (len(z) + prior_weight)
    acceptance = np.delete(blocks.acceptance[-1], 1)
    targets = np.array([THETA_ACCEPTANCE] + [ERROR_ACCEPTANCE] * (len(acceptance) - 1))
    # the t's shape: ν/(ν − 2) times it is its covariance, so this makes the t's spread T_WIDENING × the draws'
    log_factors = blocks.kernel.log_factors + 2.0 * (acceptance - targets)
    if _independence_dropped(blocks):
        return _Kernel(covariance, log_factors)
    shape = covariance[:parameters, :parameters] * (T_WIDENING ** 2 * (T_DEGREES_OF_FREEDOM - 2) / T_DEGREES_OF_FREEDOM)
    return _Kernel(covariance, log_factors, z[:, :parameters].mean(axis=0), np.linalg.cholesky(shape))


def _independence_dropped(blocks: _Blocks) -> bool:
    """Whether θ's Student-t is (from now on) left out: from the :data:`MIN_WARMUP_BLOCKS`-th block,
    once a block accepted fewer than :data:`MIN_T_ACCEPTANCE` of its proposals. On the long arc it
    accepts ~1 % (19 values, far from Gaussian): kept, it would double the warm-up's cost for nothing."""
    done = len(blocks.draws)
    already = done > MIN_WARMUP_BLOCKS and blocks.kernel.t_location is None
    return already or (done >= MIN_WARMUP_BLOCKS and blocks.acceptance[-1][1] < MIN_T_ACCEPTANCE)


def _restarted(blocks: _Blocks, rng: np.random.Generator) -> bool:
    """Move every chain that lags far behind the best one (see :data:`RESTART_GAP`) to the position
    of a chain that does not, drawn at random; whether any moved. Warm-up only: its draws are
    discarded, and the chains then run on, and are judged, independently."""
    means = blocks.log_prob[-1][BLOCK_STEPS // 2:].mean(axis=0)
    behind = means < means.max() - RESTART_GAP * math.sqrt(blocks.state.x.shape[1] / 2)
    if not behind.any():
        return False
    donors = np.arange(len(means))
    ahead = np.flatnonzero(~behind)
    donors[behind] = ahead[rng.integers(0, len(ahead), int(behind.sum()))]
    state = blocks.state
    blocks.state = _State(state.x[donors], state.log_prior[donors], state.log_likelihood[donors],
                          state.log_means[donors], state.extra[donors])
    blocks.restarts += int(behind.sum())
    return True


def _warm(blocks: _Blocks) -> bool:
    """Whether warm-up may end: enough blocks, θ's acceptance in the band, the chains agreeing over
    the second half of the warm-up (the draws the kernel was last estimated from)."""
    done = len(blocks.draws)
    if done >= MAX_WARMUP_BLOCKS:
        return True
    if done < MIN_WARMUP_BLOCKS or not ACCEPTANCE_BAND[0] <= blocks.acceptance[-1][0] <= ACCEPTANCE_BAND[1]:
        return False
    rhat, _ = convergence(np.concatenate(blocks.draws[done // 2:]))
    return bool((rhat < WARMUP_RHAT).all())


def _adapting(blocks: _Blocks, max_evaluations: int, rhat_max: float, ess_min: float) -> SamplerStatus:
    return SamplerStatus(len(blocks.draws) * BLOCK_STEPS, blocks.evaluations, max_evaluations, math.inf, 0.0,
                         rhat_max, ess_min,
                         adapting_acceptance=float(blocks.acceptance[-1][0]))


def _finished(blocks: _Blocks, max_evaluations: int, rhat_max: float, ess_min: float) -> BlockedRun:
    """The run so far: every draw after warm-up judged, the draws returned thinned to at most
    :data:`KEPT_STEPS_MAX` a chain after warm-up (the same thinning before it)."""
    chain, log_prob = np.concatenate(blocks.draws), np.concatenate(blocks.log_prob)
    warmup = len(blocks.draws) if blocks.warmup is None else blocks.warmup
    burn = warmup * BLOCK_STEPS
    rhat, ess = convergence(chain[burn:])
    chains = chain.shape[1]
    status = SamplerStatus(len(chain), blocks.evaluations, max_evaluations, float(rhat.max()), float(ess.min()),
                           rhat_max, ess_min)
    thinning = max(1, math.ceil((len(chain) - burn) / KEPT_STEPS_MAX))
    rows = np.concatenate([np.arange(0, burn, thinning), np.arange(burn, len(chain), thinning)])
    after = np.array(blocks.acceptance[warmup:]) if len(blocks.acceptance) > warmup else np.full((1, 2), math.nan)
    returned_burn = int(np.count_nonzero(rows < burn))
    return BlockedRun(chain=chain[rows], log_prob=log_prob[rows], blobs=None,
                      accepted=np.full(chains, after[:, 0].mean() * len(rows)), burn=returned_burn,
                      rhat=rhat, ess_bulk=ess, converged=status.converged and len(chain) > burn,
                      evaluations=blocks.evaluations, moves="metropolis-within-gibbs", status=status,
                      warmup_blocks=warmup, thinning=thinning, t_acceptance=float(np.mean(after[:, 1])),
                      restarts=blocks.restarts,
                      error_acceptance=float(np.mean(after[:, 2:])) if after.shape[1] > 2 else math.nan)


def _save(folder: Path, blocks: _Blocks, starts: np.ndarray, seed: int) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    state = blocks.state
    temporary = folder / (STATE_FILE + ".partial.npz")
    np.savez(temporary, format=CHECKPOINT_FORMAT, seed=seed, starts=starts, draws=np.array(blocks.draws),
             log_prob=np.array(blocks.log_prob), acceptance=np.array(blocks.acceptance),
             warmup=-1 if blocks.warmup is None else blocks.warmup, x=state.x, log_prior=state.log_prior,
             log_likelihood=state.log_likelihood, log_means=state.log_means, extra=state.extra,
             evaluations=blocks.evaluations, restarts=blocks.restarts, asked=blocks.asked,
             covariance=blocks.kernel.covariance, log_factors=blocks.kernel.log_factors,
             **({} if blocks.kernel.t_location is None else
                {"t_location": blocks.kernel.t_location, "t_factor": blocks.kernel.t_factor}))
    os.replace(temporary, folder / STATE_FILE)


def _load(folder: Path, starts: np.ndarray, seed: int) -> _Blocks | None:
    path = Path(folder) / STATE_FILE
    if not path.exists():
        return None
    with np.load(path) as saved:
        if int(saved["format"]) != CHECKPOINT_FORMAT or int(saved["seed"]) != int(seed) \
                or not np.array_equal(saved["starts"], starts):
            raise SamplerError(f"{path}: the checkpoint belongs to another calibration (other seed or starting "
                               "points); remove it or run without --resume")
        warmup = int(saved["warmup"])
        state = _State(saved["x"], saved["log_prior"], saved["log_likelihood"], saved["log_means"], saved["extra"])
        kernel = _Kernel(saved["covariance"], saved["log_factors"],
                         *((saved["t_location"], saved["t_factor"]) if "t_location" in saved else ()))
        return _Blocks(list(saved["draws"]), list(saved["log_prob"]), list(saved["acceptance"]),
                       None if warmup < 0 else warmup, state, kernel, int(saved["evaluations"]), int(saved["restarts"]),
                       bool(saved["asked"]))


__all__ = ["BlockedPosterior", "BlockedRun", "minimum_evaluations", "sample_blocked"]
