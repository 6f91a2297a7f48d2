"""An ensemble MCMC sampler that runs until its chain has converged, saving the chain as it goes.

:func:`sample_until_converged` runs emcee's ensemble sampler in blocks of ``block_steps`` steps.
After each block it discards the first half of the chain as burn-in (adaptive: the burn-in grows
with the chain, so walkers that started far from the posterior's bulk leave no trace in what is
kept once the chain is twice as long as their climb) and asks arviz, for every parameter, for the
rank-normalized split R-hat and the bulk effective sample size (Vehtari et al. 2021) of the kept
half. It stops when every parameter has R-hat ≤ ``rhat_max`` and bulk ESS ≥ ``ess_min`` (the
defaults, 1.01 and 400, are that paper's recommendations), or when the next step would exceed
``max_evaluations`` evaluations of the log posterior; :attr:`SamplerRun.converged` says which.

**Walkers as chains.** R-hat and ESS are defined for independent Markov chains; an ensemble's
walkers are not independent (each move uses the positions of the others). arviz is given each
walker as a chain all the same, which is what the emcee and arviz documentation do: each walker
is a Markov chain in its own right (its proposals depend on the others, but its stationary
distribution is the posterior), and the bulk ESS uses every walker's autocorrelation, close to
emcee's own integrated-time estimate. The limitation: walkers that drift *together* (the whole
ensemble still climbing out of the prior, or all stuck on one side of a bimodal posterior) look
alike, so R-hat across walkers cannot see it. The adaptive burn-in covers the first case once the
chain is long enough; the posterior's ``log_posterior_rise_after_burn_in`` diagnostic flags it
when it is not; the second case needs several independent ensembles, which this does not run.

**Moves.** emcee's default stretch move (Goodman & Weare 2010) is affine-invariant, so a straight
correlated ridge costs it nothing, but a curved one does. Differential-evolution moves (ter Braak
2006; the snooker variant, ter Braak & Vrugt 2008) propose along differences between walkers and
follow a curved ridge better; see :data:`MOVES` and docs/DESIGN-NOTES.md for the measurement
behind :data:`DEFAULT_MOVES`.

**Checkpoint and resume.** With ``checkpoint`` (a folder), every block ends by saving the whole
chain, log posteriors and blobs (``sampler-chain.npz``) and then the step count, acceptance counts
and the sampler's random state (``sampler-state.json``), each written to a temporary file and
renamed. The JSON file is the commit record: a crash between the two renames leaves a chain one
block longer than the state, and resuming cuts it back. ``resume=True`` continues from the saved
state (or starts afresh when nothing was saved yet) and gives byte-identical samples to a run
never interrupted, because the next block starts from exactly the same positions, log posteriors
and random state.
"""
from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.studies.inference.defaults import DEFAULT_ESS_MIN, DEFAULT_MAX_EVALUATIONS, DEFAULT_RHAT_MAX

LogProb = Callable[[np.ndarray], tuple[np.ndarray, "np.ndarray | None"]]
"""Positions (walkers × parameters) ↦ (log posterior per walker, blobs (walkers × K) or None)."""

DEFAULT_BLOCK_STEPS = 100
MIN_WALKERS = 4
"""A differential-evolution move takes the difference of two walkers of the other half."""
MIN_KEPT_STEPS = 4
"""Split R-hat halves each walker's kept draws; fewer than this leaves nothing to compare."""

CHAIN_FILE = "sampler-chain.npz"
STATE_FILE = "sampler-state.json"
CHECKPOINT_FORMAT = 1


def _stretch():
    import emcee

    return [emcee.moves.StretchMove()]


def _differential_evolution():
    import emcee

    return [(emcee.moves.DEMove(), 0.8), (emcee.moves.DESnookerMove(), 0.2)]


MOVES: dict[str, Callable[[], list]] = {"stretch": _stretch, "de-snooker": _differential_evolution}
"""emcee move mixtures by name: ``stretch`` (emcee's default) and ``de-snooker`` (80 %
differential evolution, 20 % snooker, as emcee's documentation suggests)."""
DEFAULT_MOVES = "de-snooker"


class SamplerError(ValueError):
    """Settings the sampler cannot run with, or a checkpoint that belongs to another run."""


@dataclass(frozen=True)
class SamplerStatus:
    """Where a run stands after a block: what the progress callback receives."""

    steps: int
    evaluations: int
    max_evaluations: int
    max_rhat: float
    min_ess: float
    rhat_max: float
    ess_min: float
    # set while the blocked (Metropolis-within-Gibbs) answering chains warm up: the model steps'
    # acceptance in their last block
    adapting_acceptance: float | None = None

    @property
    def converged(self) -> bool:
        return self.max_rhat <= self.rhat_max and self.min_ess >= self.ess_min

    def line(self) -> str:
        """One line for a progress display."""
        if self.adapting_acceptance is not None:
            return (f"{self.steps} steps, {self.evaluations:,} of at most {self.max_evaluations:,} evaluations; "
                    f"adapting the proposal ({self.adapting_acceptance:.0%} of its last block accepted)")
        return (f"{self.steps} steps, {self.evaluations:,} of at most {self.max_evaluations:,} evaluations; "
                f"largest R-hat {self.max_rhat:.3f} (≤ {self.rhat_max:g}), smallest bulk ESS "
                f"{self.min_ess:.0f} (≥ {self.ess_min:g})")


@dataclass
class SamplerRun:
    """The whole chain (burn-in too) and how it ended."""

    chain: np.ndarray  # steps × walkers × parameters
    log_prob: np.ndarray  # steps × walkers
    blobs: np.ndarray | None  # steps × walkers × K
    accepted: np.ndarray  # accepted proposals per walker
    burn: int  # the first `burn` steps are burn-in; the rest are the samples
    rhat: np.ndarray  # per parameter, on the kept steps
    ess_bulk: np.ndarray
    converged: bool
    evaluations: int
    moves: str
    status: SamplerStatus
    pilot: bool = False  # stopped before converging on purpose (the answering chains' ``keep_going``)

    @property
    def steps(self) -> int:
        return self.chain.shape[0]

    @property
    def kept(self) -> np.ndarray:
        return self.chain[self.burn:]

    @property
    def acceptance_fraction(self) -> np.ndarray:
        return self.accepted / max(self.steps, 1)


def burn_in(steps: int) -> int:
    """The adaptive burn-in: the first half of the chain."""
    return steps // 2


def convergence(kept: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rank-normalized split R-hat, bulk ESS) per parameter of ``kept`` (steps × walkers ×
    parameters), every walker taken as a chain; (inf, 0) while too short to tell."""
    steps, _, dimension = kept.shape
    if steps < MIN_KEPT_STEPS:
        return np.full(dimension, math.inf), np.zeros(dimension)
    arviz = _arviz()
    rhat, ess = np.empty(dimension), np.empty(dimension)
    for index in range(dimension):
        draws = np.ascontiguousarray(kept[:, :, index].T)  # chain × draw, as arviz reads a 2-D array
        rhat[index] = float(np.asarray(arviz.rhat(draws, method="rank")))
        ess[index] = float(np.asarray(arviz.ess(draws, method="bulk")))
    # a parameter that never moved (every walker stuck) has an undefined R-hat: not converged
    return np.where(np.isfinite(rhat), rhat, math.inf), np.nan_to_num(ess, nan=0.0)


def _arviz():
    with warnings.catch_warnings():  # arviz 0.2x announces its refactor on import
        warnings.simplefilter("ignore", FutureWarning)
        import arviz
    return arviz


class _EmceeFunction:
    """Our vectorized (log posteriors, blobs) in emcee's ``vectorize=True`` convention: a list of
    (log posterior, blob) pairs when there are blobs, else the array of log posteriors."""

    def __init__(self, log_prob: LogProb) -> None:
        self.log_prob = log_prob

    def __call__(self, positions: np.ndarray):
        log_probs, blobs = self.log_prob(np.asarray(positions))
        log_probs = np.asarray(log_probs, float)
        if blobs is None:
            return log_probs
        return [(value, np.asarray(blob, float)) for value, blob in zip(log_probs, blobs)]


@dataclass
class _History:
    """The chain so far, as the checkpoint holds it."""

    chain: np.ndarray
    log_prob: np.ndarray
    blobs: np.ndarray | None
    accepted: np.ndarray
    random_state: tuple | None

    @property
    def steps(self) -> int:
        return self.chain.shape[0]

    def extend(self, sampler) -> None:
        chain, log_prob = sampler.get_chain(), sampler.get_log_prob()
        self.chain = np.concatenate([self.chain, chain])
        self.log_prob = np.concatenate([self.log_prob, log_prob])
        blobs = sampler.get_blobs()
        if blobs is not None:
            blobs = np.asarray(blobs, float).reshape(chain.shape[0], chain.shape[1], -1)
            self.blobs = blobs if self.blobs is None else np.concatenate([self.blobs, blobs])
        self.accepted = self.accepted + sampler.backend.accepted.astype(int)
        self.random_state = sampler.random_state

    def state(self):
        """emcee's State after the last step (blobs in emcee's shape: one value per walker when K is 1)."""
        import emcee

        blobs = None
        if self.blobs is not None:
            last = self.blobs[-1]
            blobs = last[:, 0] if last.shape[1] == 1 else last
        return emcee.State(self.chain[-1], log_prob=self.log_prob[-1], blobs=blobs, random_state=self.random_state)


def sample_until_converged(
    log_prob: LogProb,
    initial: np.ndarray,
    seed: int,
    *,
    rhat_max: float = DEFAULT_RHAT_MAX,
    ess_min: float = DEFAULT_ESS_MIN,
    max_evaluations: int = DEFAULT_MAX_EVALUATIONS,
    block_steps: int = DEFAULT_BLOCK_STEPS,
    checkpoint: Path | None = None,
    resume: bool = False,
    progress: Callable[[SamplerStatus], None] | None = None,
    moves: str = DEFAULT_MOVES,
    steps: int | None = None,
) -> SamplerRun:
    """Sample ``log_prob`` from the walkers' ``initial`` positions (walkers × parameters) until
    every parameter has R-hat ≤ ``rhat_max`` and bulk ESS ≥ ``ess_min``, or until
    ``max_evaluations`` evaluations (one per walker and step, plus the initial positions).

    ``seed`` fixes the sampler's random numbers: the same seed, log posterior and initial positions
    give the same chain. ``progress`` is called with a :class:`SamplerStatus` after every block
    (after its checkpoint is saved). ``steps`` asks for a chain of exactly that many steps instead
    (a fixed cost, for quick looks and tests), still judged by the same bounds at its end. Raises
    :class:`SamplerError` on settings it cannot run with.
    """
    import emcee

    initial = np.array(initial, dtype=float)
    walkers, dimension = _checked(initial, rhat_max, ess_min, max_evaluations, block_steps, moves)
    if steps is not None and steps < 1:
        raise SamplerError(f"steps {steps}: must be at least 1")
    function = _EmceeFunction(log_prob)
    sampler = emcee.EnsembleSampler(walkers, dimension, function, vectorize=True, moves=MOVES[moves]())
    # emcee wraps the function in a helper that prints the positions and a traceback to stdout on any
    # exception (a Ctrl-C too) before re-raising it; a command's stdout is its answer, so call ours directly.
    sampler.log_prob_fn = function
    sampler.random_state = np.random.RandomState(np.random.SeedSequence(seed).generate_state(8)).get_state()
    history = _load(checkpoint, initial, seed, moves) if resume and checkpoint is not None else None
    history = history or _History(np.empty((0, walkers, dimension)), np.empty((0, walkers)), None,
                                  np.zeros(walkers, int), None)
    last_step = max_evaluations // walkers - 1  # the initial positions cost one evaluation per walker
    if steps is not None:
        last_step, max_evaluations = steps, _evaluations(steps, walkers)
    status = _status(history, walkers, max_evaluations, rhat_max, ess_min) if history.steps else None
    while status is None or not ((status.converged and steps is None) or history.steps >= last_step):
        block = min(block_steps, last_step - history.steps)
        start = history.state() if history.steps else initial
        sampler.reset()
        sampler.run_mcmc(start, block, skip_initial_state_check=history.steps > 0)
        history.extend(sampler)
        status = _status(history, walkers, max_evaluations, rhat_max, ess_min)
        if checkpoint is not None:
            _save(checkpoint, history, initial, seed, moves)
        if progress is not None:
            progress(status)
    rhat, ess = convergence(history.chain[burn_in(history.steps):])
    return SamplerRun(chain=history.chain, log_prob=history.log_prob, blobs=history.blobs, accepted=history.accepted,
                      burn=burn_in(history.steps), rhat=rhat, ess_bulk=ess, converged=status.converged,
                      evaluations=_evaluations(history.steps, walkers), moves=moves, status=status)


def _checked(initial, rhat_max, ess_min, max_evaluations, block_steps, moves) -> tuple[int, int]:
    if initial.ndim != 2:
        raise SamplerError(f"initial positions must be walkers × parameters, got shape {initial.shape}")
    walkers, dimension = initial.shape
    if walkers < max(2 * dimension, MIN_WALKERS) or walkers % 2:
        raise SamplerError(f"{walkers} walkers: need an even number, at least {MIN_WALKERS} and at least twice the "
                           f"{dimension} parameters")
    if moves not in MOVES:
        raise SamplerError(f"moves {moves!r}: choose one of {', '.join(MOVES)}")
    if rhat_max <= 1.0 or ess_min <= 0 or block_steps < 1:
        raise SamplerError(f"R-hat bound {rhat_max} must exceed 1, ESS bound {ess_min} must be positive and "
                           f"block steps {block_steps} at least 1")
    if max_evaluations < walkers * (1 + MIN_KEPT_STEPS * 2):
        raise SamplerError(f"max evaluations {max_evaluations}: too few for {walkers} walkers (at least "
                           f"{walkers * (1 + MIN_KEPT_STEPS * 2)})")
    return walkers, dimension


def _evaluations(steps: int, walkers: int) -> int:
    return walkers * (steps + 1) if steps else 0


def _status(history: _History, walkers, max_evaluations, rhat_max, ess_min) -> SamplerStatus:
    rhat, ess = convergence(history.chain[burn_in(history.steps):])
    return SamplerStatus(steps=history.steps, evaluations=_evaluations(history.steps, walkers),
                         max_evaluations=max_evaluations, max_rhat=float(rhat.max()), min_ess=float(ess.min()),
                         rhat_max=rhat_max, ess_min=ess_min)


# --------------------------------------------------------------------------------------------
# The checkpoint


def _write_atomically(path: Path, write: Callable) -> None:
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        write(handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


def _save(folder: Path, history: _History, initial: np.ndarray, seed: int, moves: str) -> None:
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {"initial": initial, "chain": history.chain, "log_prob": history.log_prob}
    if history.blobs is not None:
        arrays["blobs"] = history.blobs
    _write_atomically(folder / CHAIN_FILE, lambda handle: np.savez(handle, **arrays))
    name, keys, position, has_gauss, cached_gaussian = history.random_state
    record = {"format": CHECKPOINT_FORMAT, "seed": seed, "moves": moves, "steps": history.steps,
              "accepted": history.accepted.tolist(),
              "random_state": {"name": name, "keys": np.asarray(keys).tolist(), "position": int(position),
                               "has_gauss": int(has_gauss), "cached_gaussian": float(cached_gaussian)}}
    _write_atomically(folder / STATE_FILE, lambda handle: handle.write(json.dumps(record).encode("utf-8")))


def _load(folder: Path, initial: np.ndarray, seed: int, moves: str) -> _History | None:
    """The saved history, cut to the steps the state file records; None if nothing was saved."""
    folder = Path(folder)
    if not (folder / STATE_FILE).exists():
        return None
    try:
        record = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
        with np.load(folder / CHAIN_FILE) as saved:
            arrays = {name: saved[name] for name in saved.files}
    except (OSError, ValueError) as error:
        raise SamplerError(f"{folder}: cannot read the sampler checkpoint ({error})") from None
    if record.get("format") != CHECKPOINT_FORMAT:
        raise SamplerError(f"{folder / STATE_FILE}: checkpoint format {record.get('format')!r}, expected "
                           f"{CHECKPOINT_FORMAT}")
    if record["seed"] != seed or record["moves"] != moves or not np.array_equal(arrays["initial"], initial):
        raise SamplerError(f"{folder}: the checkpoint belongs to another run (different seed, moves or starting "
                           "positions); start afresh in another folder")
    steps = int(record["steps"])
    random = record["random_state"]
    random_state = (random["name"], np.array(random["keys"], dtype=np.uint32), random["position"],
                    random["has_gauss"], random["cached_gaussian"])
    blobs = arrays.get("blobs")
    return _History(chain=arrays["chain"][:steps], log_prob=arrays["log_prob"][:steps],
                    blobs=None if blobs is None else blobs[:steps], accepted=np.array(record["accepted"], int),
                    random_state=random_state)


__all__ = [
    "DEFAULT_ESS_MIN",
    "DEFAULT_MAX_EVALUATIONS",
    "DEFAULT_MOVES",
    "DEFAULT_RHAT_MAX",
    "MIN_WALKERS",
    "MOVES",
    "SamplerError",
    "SamplerRun",
    "SamplerStatus",
    "burn_in",
    "convergence",
    "sample_until_converged",
]
