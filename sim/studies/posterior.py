"""Bayesian calibration: the posterior of a scenario's parameters given observed series.

``bordersim calibrate --method posterior`` (the default) and :func:`fit_posterior`. The point
calibration (:mod:`sim.studies.calibrate`) finds one parameter set; a forecast made from it carries only the
randomness of households while the data it was fitted to disagree by tens of percent. Here the
answer is a *sample* of parameter sets, each as plausible as the priors and the observations allow.

**Likelihood** (:mod:`sim.studies.inference.likelihood`): every figure jointly, in log(1 + ·) units,
with the simulation's own randomness as a covariance across figures (its errors accumulate along a
path) and each reporter's error with a fitted scale and, on running totals, a fitted correlation.

**Model evaluations** (:mod:`sim.studies.inference.surrogate`): the chain runs on the fluid path
(:mod:`sim.analytic.fluid`, milliseconds); the simulation is run ``replications`` times, each with
its own households, at draws of the screening posterior, to measure how its mean departs from the
fluid path and how its replications scatter (:mod:`sim.studies.inference.discrepancy`). Those
replications are one call of an executor (serial, processes or Dask), put back in order, so the
result does not depend on the executor.

**Samplers**: the screening chain is emcee's ensemble (:mod:`sim.studies.inference.sampler`: it
finds the posterior from the scenario's values); the answering chains are Metropolis-within-Gibbs
chains (:mod:`sim.studies.inference.blocked`: a random walk over the model's parameters with the
covariance learnt in warm-up, then cheap sweeps over the error terms, which need no new model
path), started from draws of the screen and run until every unknown has rank-normalized split
R-hat ≤ ``rhat_max`` and bulk ESS ≥ ``ess_min`` (arviz), or until ``max_evaluations``;
``converged`` says which. The same
seed gives the same ``posterior.csv``.

**Result** (:class:`PosteriorResult`): ``samples`` (a column per key path and ``weight``, what
``posterior.csv`` holds and what a scenario's ``uncertain: {sample: FILE}`` reads), the error terms
(``error_scales``), ``summary``, ``diagnostics``, ``fit`` (the model band on every observed date
against the observed value) and the whole ``chain``.
"""
from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.streams import stream
from sim.runs.evaluate import CrossedEvaluator
from sim.scenario.keypath import KeyPathError, get_path, parse_key_path
from sim.studies.inference.defaults import DEFAULT_ESS_MIN, DEFAULT_MAX_EVALUATIONS, DEFAULT_RHAT_MAX
from sim.studies.inference.discrepancy import measure_noise
from sim.studies.inference.emulator import TOLERANCE as EMULATOR_TOLERANCE
from sim.studies.inference.emulator import build_emulator
from sim.studies.inference.likelihood import (
    CORRELATION,
    SCALE,
    ErrorTerms,
    Figures,
    Likelihood,
    SimulatorNoise,
)
from sim.studies.inference.sampler import MOVES, sample_until_converged
from sim.studies.inference.surrogate import (
    FigureMap,
    SimulatedFigures,
    SurrogatePosterior,
    correction_points,
    moved,
)
from sim.studies.observation import (
    ObservationError,
    ObservedSeries,
    as_series,
    observations_table,
)
from sim.studies.priors import Prior, PriorError, as_prior

ProgressCallback = Callable[[int, int], None]
"""Called with (work done, work planned): simulation replications and surrogate evaluations."""
StageCallback = Callable[[str], None]
"""Called with one line whenever a stage of the fit ends a block: what it does, R-hat, ESS."""

WEIGHT = "weight"
ERROR_SCALE_PREFIX, ERROR_CORRELATION_PREFIX = SCALE, CORRELATION
MIN_REPLICATIONS = 48


def default_replications(figures: int, parameters: int) -> int:
    """Simulation replications per correction round: twice the figures (a covariance across them,
    shrunk toward its diagonal) plus four per coefficient of the offset (linear in the fitted
    values), at least 48."""
    return max(MIN_REPLICATIONS, 2 * figures + 4 * (parameters + 1))
SCREEN_STEPS = 300
"""The screening chain only has to find where the posterior is and how wide it roughly is."""
MAX_ROUNDS = 2
"""A second correction round when the answer moved out of the region the first one measured."""
PARALLEL_PATH_SECONDS = 0.005
"""A model path costing more than this is computed on the worker processes, the chains split
between them (measured, four chains on two workers: the long arc's ~7 ms paths ×1.78; phase 1's
~2 ms paths ×1.09, not worth the workers' memory and start)."""
INITIAL_BALL = 0.02
FIT_TABLE_DRAWS = 1000
EMULATOR_CHECKS = 100
"""Draws of the answer at which the emulator is compared with the fluid path."""


class PosteriorError(ValueError):
    """Bad posterior-calibration input (one line); the CLI turns it into exit code 2."""


@dataclass
class PosteriorResult:
    """Posterior samples of the fitted key paths and everything needed to judge them."""

    scenario: object
    priors: list[Prior]
    series: list[ObservedSeries]
    samples: pd.DataFrame  # a column per key path, then weight (equal weights: MCMC draws)
    error_scales: pd.DataFrame  # a column per error term (error_scale.S, error_correlation.S)
    summary: pd.DataFrame
    diagnostics: pd.DataFrame
    fit: pd.DataFrame
    chain: pd.DataFrame  # step, walker, log_posterior, a column per unknown (the answering chain)
    seed: int
    walkers: int
    steps: int
    burn: int
    converged: bool
    replications: int  # simulation replications run (all rounds)
    rounds: int
    noise: SimulatorNoise
    likelihood: Likelihood
    evaluations: int  # surrogate evaluations (all chains)
    wall_seconds: float
    rhat_max: float = DEFAULT_RHAT_MAX
    ess_min: float = DEFAULT_ESS_MIN
    initial_values: dict[str, float] = field(default_factory=dict)
    sampler: str = "metropolis-within-gibbs"  # the answering chains' moves, or an ensemble's (walkers)

    @property
    def keys(self) -> list[str]:
        return [prior.key for prior in self.priors]

    @property
    def sim_sigma(self) -> dict[str, float]:
        """Per series: the simulation's own spread in log units (RMS over its figures)."""
        sd = np.sqrt(np.diag(self.noise.covariance))
        index = self.likelihood.figures.series_index
        return {s.name: float(np.sqrt(np.mean(sd[index == i] ** 2))) for i, s in enumerate(self.series)}

    def diagnostic(self, quantity: str, parameter: str = "") -> float:
        table = self.diagnostics
        rows = table[(table["quantity"] == quantity) & (table["parameter"] == parameter)]
        return float(rows["value"].iloc[0])

    def lines(self) -> list[str]:
        """What the command prints: settings, the summary, and whether the chain converged."""
        figures = sum(len(s.dates) for s in self.series)
        lines = [(f"Posterior from {figures} observed figures in {len(self.series)} series "
                  f"({', '.join(s.name for s in self.series)}): {len(self.samples)} samples; "
                  f"{self.replications} simulation replications in {self.rounds} correction round(s), "
                  f"{self.evaluations} fluid-path evaluations, {self.wall_seconds:.0f} s")]
        for _, row in self.summary.iterrows():
            lines.append(f"  {row['parameter']}: {_g(row['mean'])} ± {_g(row['sd'])}  90% [{_g(row['p05'])}, "
                         f"{_g(row['p95'])}]  (prior {row['prior']})")
        state = "converged" if self.converged else "NOT CONVERGED"
        lines.append(f"{state}: {self.convergence_line()}; simulation offset from the fluid path up to "
                     f"{self.largest_offset():.1%}")
        return lines

    def convergence_line(self) -> str:
        rhat = self.diagnostics[self.diagnostics["quantity"] == "rhat_rank"]["value"].max()
        ess = self.diagnostics[self.diagnostics["quantity"] == "ess_bulk"]["value"].min()
        return (f"largest rank R-hat {rhat:.3f}, smallest bulk ESS {ess:.0f} after {self.steps} steps of "
                f"{self.walkers} {self.chain_word}")

    @property
    def chain_word(self) -> str:
        return "walkers" if self.sampler in MOVES else "chains"

    def largest_offset(self) -> float:
        return float(np.abs(np.expm1(self.noise.intercept)).max()) if self.noise.intercept.size else 0.0


def _g(value: float) -> str:
    return f"{value:.4g}"


# --------------------------------------------------------------------------------------------
# Checking the input


def _checked_priors(scenario, fit) -> list[Prior]:
    priors = [as_prior(parameter) for parameter in fit]
    if not priors:
        raise PosteriorError("give at least one --fit key.path=low:high or --prior key.path=DIST")
    keys = [prior.key for prior in priors]
    if len(set(keys)) != len(keys):
        raise PosteriorError(f"a key path is fitted twice: {', '.join(sorted({k for k in keys if keys.count(k) > 1}))}")
    data = scenario.to_yaml_dict()
    for prior in priors:
        try:
            value = get_path(data, parse_key_path(prior.key))
        except (KeyPathError, KeyError, IndexError, TypeError):
            raise PosteriorError(f"--fit {prior.key}: no such value in the scenario") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise PosteriorError(f"--fit {prior.key}: the value there is {value!r}, not a number")
    return priors


def _checked_series(scenario, observations, cutoff: dt.date | None) -> list[ObservedSeries]:
    series = [s.until(cutoff) for s in as_series(observations)]
    series = [s for s in series if s is not None]
    if not series:
        raise PosteriorError("no observed figures" + (f" up to the cutoff {cutoff}" if cutoff else ""))
    for s in series:  # a reported figure above every person is refused where it is read (the commands):
        # a simulated one (sbc) may exceed them by its reporter's error
        s.check_against(scenario.period.start, scenario.period.end, list(scenario.crossings))
    return series


def _initial_point(scenario, priors: Sequence[Prior], error_priors: Sequence[Prior]) -> np.ndarray:
    """The scenario's own values (the prior median where the prior excludes them), then the error
    terms' prior medians."""
    data = scenario.to_yaml_dict()
    point = []
    for prior in priors:
        value = float(get_path(data, parse_key_path(prior.key)))
        low, high = prior.range()
        inside = low + 0.01 * (high - low) <= value <= high - 0.01 * (high - low)
        point.append(value if inside and math.isfinite(prior.logpdf(value)) else float(prior.ppf(0.5)))
    return np.array(point + [float(prior.ppf(0.5)) for prior in error_priors])


def _initial_walkers(center: np.ndarray, priors: Sequence[Prior], walkers: int, seed: int) -> np.ndarray:
    rng = stream(seed, 0, "posterior/initial-walkers")
    widths = np.array([prior.range()[1] - prior.range()[0] for prior in priors])
    positions = np.empty((walkers, len(priors)))
    for walker in range(walkers):
        for _ in range(1000):
            candidate = center + INITIAL_BALL * widths * rng.standard_normal(len(priors))
            if all(math.isfinite(p.logpdf(v)) for p, v in zip(priors, candidate)):
                break
        else:  # pragma: no cover - the centre is inside every prior's support
            candidate = np.array([p.ppf(rng.uniform()) for p in priors])
        positions[walker] = candidate
    return positions


def checked_walkers(unknowns: int, walkers: int | None = None) -> int:
    """The emcee walkers for ``unknowns`` (default 2 × unknowns + 2: with walkers as the chains of
    R-hat, fewer chains reach R-hat ≤ 1.01 and ESS ≥ 400 with fewer evaluations); raises
    :class:`PosteriorError` for a number the sampler cannot run with."""
    walkers = walkers or 2 * unknowns + 2
    if walkers < max(2 * unknowns, 4) or walkers % 2:
        raise PosteriorError(f"--walkers {walkers}: need an even number, at least 4 and at least twice the "
                             f"{unknowns} unknowns ({2 * unknowns}: fitted parameters and error terms)")
    return walkers


def default_surrogate(scenario, until: dt.date):
    """The fluid path of the scenario cut at ``until``: values ↦ people crossed per day per node."""
    from sim.analytic.fluid import FluidEvaluator

    return FluidEvaluator(scenario, until)


# --------------------------------------------------------------------------------------------
# The fit


@dataclass
class _Settings:
    walkers: int
    rhat_max: float
    ess_min: float
    max_evaluations: int
    checkpoint: Path | None
    resume: bool
    max_rounds: int = 2
    path_executor: object = None  # local processes for the answering chains' paths (None: in this process)


def fit_posterior(
    scenario,
    observations,
    fit: Sequence,
    seed: int | None = None,
    jobs: int = 1,
    executor=None,
    progress: ProgressCallback | None = None,
    cutoff: dt.date | None = None,
    *,
    walkers: int | None = None,
    error_priors: dict[str, Prior] | None = None,
    independent_errors: bool = False,
    simulation_replications: int | None = None,
    rhat_max: float | None = None,
    ess_min: float | None = None,
    max_evaluations: int | None = None,
    max_rounds: int | None = None,
    checkpoint: Path | None = None,
    resume: bool = False,
    surrogate: Callable | None = None,
    status: StageCallback | None = None,
) -> PosteriorResult:
    """Sample the posterior of ``fit`` (key paths with priors) given ``observations``.

    ``observations``: a list of :class:`~sim.studies.observation.ObservedSeries` or a table
    ``date,value[,series,kind,node,count_from]``; only figures up to ``cutoff`` are used (all if
    None). ``fit``: :class:`~sim.studies.calibrate.FitParameter` (uniform over low:high) or
    :class:`~sim.studies.priors.Prior`. ``seed`` (default the scenario's) fixes the simulation's
    households and the sampler: the same seed gives identical samples on any executor.
    ``executor`` runs the simulation replications (default: this process for ``jobs`` 1, else
    ``jobs`` local processes). ``error_priors`` maps an error term (``error_scale.SERIES``,
    ``error_correlation.SERIES``) to its prior; ``independent_errors`` makes every reporter's
    errors on running totals independent. ``simulation_replications``: simulation runs per correction round (default:
    :func:`default_replications`); ``max_rounds``: correction rounds at most (default :data:`MAX_ROUNDS`).
    ``checkpoint``: a folder where every stage is saved as it goes; ``resume`` continues from it.
    ``surrogate(scenario, until)`` makes the cheap model (default: the fluid path). ``status`` gets
    a line after every block of every chain (its stage, steps, R-hat and ESS so far).
    Raises :class:`PosteriorError` (or ObservationError) on bad input.
    """
    from sim.runs import executors

    clock = time.perf_counter()
    seed = scenario.run.seed if seed is None else seed
    priors = _checked_priors(scenario, fit)
    series = _checked_series(scenario, observations, cutoff)
    figures = Figures.of(series, scenario.period.start)
    replications = simulation_replications or default_replications(len(figures), len(priors))
    if replications < len(priors) + 3:
        raise PosteriorError(f"simulation replications {replications}: need at least the fitted parameters + 3 "
                             f"({len(priors) + 3}) to measure the simulation's offset and spread")
    try:
        errors = ErrorTerms.default(figures, error_priors, independent_errors)
    except ValueError as error:
        raise PosteriorError(str(error)) from None
    unknowns = priors + errors.priors
    walkers = checked_walkers(len(unknowns), walkers)
    settings = _Settings(walkers, rhat_max or DEFAULT_RHAT_MAX, ess_min or DEFAULT_ESS_MIN,
                         max_evaluations or DEFAULT_MAX_EVALUATIONS, checkpoint, resume, max_rounds or MAX_ROUNDS)
    until = max(day for s in series for day in s.dates)
    figure_map = FigureMap(tuple(series), scenario.period.start)
    likelihood = Likelihood(figures, errors, SimulatorNoise.none(len(figures), len(priors)))
    log_posterior = SurrogatePosterior((surrogate or default_surrogate)(scenario, until), priors, figure_map,
                                       likelihood)
    center = _initial_point(scenario, priors, errors.priors)
    planned = settings.max_evaluations + settings.max_rounds * replications
    tracker = _Progress(progress, planned, status)
    owned = executor is None
    if owned:
        executor = executors.SerialExecutor() if jobs <= 1 else executors.ProcessExecutor(jobs)
    if isinstance(executor, executors.ProcessExecutor) and executor.workers > 1:
        settings.path_executor = executor  # the chains' paths: tasks of milliseconds, too small for a Dask cluster
    simulated = SimulatedFigures(CrossedEvaluator(scenario, seed, until, remember_draws=False), figure_map)
    try:
        if checkpoint is not None:
            Path(checkpoint).mkdir(parents=True, exist_ok=True)
        run = _sample(log_posterior, _initial_walkers(center, unknowns, walkers, seed), seed, settings, "screen",
                      tracker, screening=True)
        run, rounds = _correct_and_answer(log_posterior, simulated, executor, run, replications, seed, settings,
                                          tracker)
    finally:
        if owned:
            executor.close()
    result = _result(scenario, priors, series, likelihood, log_posterior, run, seed, run.chain.shape[1], rounds,
                     rounds * replications, tracker.evaluations, time.perf_counter() - clock, center)
    result.rhat_max, result.ess_min = settings.rhat_max, settings.ess_min
    return result


class _Progress:
    def __init__(self, callback: ProgressCallback | None, planned: int, status: StageCallback | None = None) -> None:
        self.callback = callback
        self.status_line = status
        self.stage = ""
        self.planned = planned
        self.evaluations = 0
        self.replications = 0
        self._chain_evaluations = 0

    def sampler_status(self, status) -> None:
        """A sampler reports its evaluations so far (cumulative within one chain)."""
        self.add(evaluations=status.evaluations - self._chain_evaluations)
        self._chain_evaluations = status.evaluations
        if self.status_line is not None:
            self.status_line(f"{self.stage}: {status.line()}")

    def say(self, line: str) -> None:
        if self.status_line is not None:
            self.status_line(line)

    def new_chain(self, stage: str) -> None:
        self._chain_evaluations = 0
        self.stage = stage

    def add(self, evaluations: int = 0, replications: int = 0) -> None:
        self.evaluations += evaluations
        self.replications += replications
        if self.callback is not None:
            self.callback(min(self.evaluations + self.replications, self.planned), self.planned)


def _correct_and_answer(log_posterior: SurrogatePosterior, simulated: SimulatedFigures, executor, run,
                        replications: int, seed: int, settings: _Settings, tracker: _Progress):
    """Measure the simulation near the screening posterior, then answer with its likelihood;
    again if the answer moved out of the region measured. Returns (answering run, rounds).

    Before the last round, whether the answer moved is judged once the answering chains' draws reach a
    quarter of the ESS asked for (a pilot): if it moved, their likelihood will be measured again and
    replaced, so running them on to convergence would be wasted."""
    priors = log_posterior.priors
    rounds = 0
    for rounds in range(1, settings.max_rounds + 1):
        points = correction_points(_flat(run)[:, :len(priors)], replications,
                                   stream(seed, rounds, "posterior/correction-points"), priors)
        tracker.say(f"measuring the simulation: {replications} replications at draws of the posterior "
                    f"(round {rounds})")
        log_posterior.likelihood.noise = _measure(log_posterior, simulated, executor, points, rounds, replications,
                                                  settings, tracker)
        _emulate(log_posterior, run, seed, rounds, tracker)
        stage = f"answer-{rounds}-{_likelihood_hash(log_posterior)}"  # a resumed chain must have the same likelihood
        stays = None if rounds == settings.max_rounds else _stays_in(points)
        answer = _answer(log_posterior, run, seed + rounds, settings, stage, tracker, stays)
        if not answer.pilot and log_posterior.emulator is not None and \
                not _emulator_holds(log_posterior, answer, seed, rounds, tracker):
            log_posterior.emulator = None
            answer = _answer(log_posterior, run, seed + rounds, settings, stage + "-fluid", tracker, stays)
        run = answer
        if not run.pilot and not moved(points, _flat(run)[:, :len(priors)]):
            break
    log_posterior.emulator = None
    return run, rounds


def _stays_in(points: np.ndarray):
    """Asked of the answering chains' pilot: whether their draws are still where ``points`` measured
    the simulation (only the model's parameters: the error terms come after them)."""
    return lambda draws: not moved(points, draws[:, :points.shape[1]])


def _likelihood_hash(log_posterior: SurrogatePosterior) -> str:
    """Eight hex digits of what the answering chain's likelihood was measured to be."""
    import hashlib

    noise = log_posterior.likelihood.noise
    digest = hashlib.sha256()
    for array in (noise.intercept, noise.slope, noise.center, noise.covariance):
        digest.update(np.ascontiguousarray(array, float).tobytes())
    if log_posterior.emulator is not None:
        digest.update(np.ascontiguousarray(log_posterior.emulator.weights, float).tobytes())
    return digest.hexdigest()[:8]


def _noise_sd(log_posterior: SurrogatePosterior, run) -> np.ndarray:
    """Per figure, the sd of its noise at the run's median error scales: the simulation's spread
    and the reporter's error (what an emulator error is measured against)."""
    likelihood = log_posterior.likelihood
    parameters = len(log_posterior.priors)
    sigmas = np.median(_flat(run)[:, parameters:parameters + len(likelihood.errors.sigma_priors)], axis=0)
    return np.sqrt(np.diag(likelihood.noise.covariance) + sigmas[likelihood.figures.series_index] ** 2)


def _emulate(log_posterior: SurrogatePosterior, run, seed: int, round_number: int, tracker: _Progress) -> None:
    """Trust a quadratic emulator of the fluid path for the answering chain, if it passes its check."""
    log_posterior.emulator = None
    if log_posterior.figure_map.declares_extra_variance:
        return  # a figure's own extra variance moves with the path: not emulated
    emulator, error, spent = build_emulator(log_posterior.fluid_log, _flat(run)[:, :len(log_posterior.priors)],
                                            log_posterior.priors, _noise_sd(log_posterior, run),
                                            stream(seed, round_number, "posterior/emulator"))
    tracker.add(evaluations=spent)
    tracker.say(f"polynomial emulator of the fluid path: worst held-out error {error:.3f} noise sd "
                f"({'used' if emulator is not None else 'not used: the chain runs on the fluid path'})")
    log_posterior.emulator = emulator


def _emulator_holds(log_posterior: SurrogatePosterior, run, seed: int, round_number: int, tracker: _Progress) -> bool:
    """Whether the emulator matched the fluid path on draws of the answer itself."""
    samples = _flat(run)[:, :len(log_posterior.priors)]
    rng = stream(seed, round_number, "posterior/emulator-check")
    chosen = samples[rng.integers(0, len(samples), EMULATOR_CHECKS)]
    fluid = np.array([log_posterior.fluid_log(point) for point in chosen])
    tracker.add(evaluations=len(chosen))
    error = log_posterior.emulator.worst_error(chosen, fluid, _noise_sd(log_posterior, run))
    holds = error <= EMULATOR_TOLERANCE
    tracker.say(f"emulator on {len(chosen)} draws of the answer: worst error {error:.3f} noise sd"
                + ("" if holds else ": too large, the answering chain runs again on the fluid path"))
    return holds


def _flat(run) -> np.ndarray:
    """The kept draws of a sampler run, one row per (step, walker)."""
    return run.kept.reshape(-1, run.chain.shape[2])


def _answer(log_posterior: SurrogatePosterior, screen, seed: int, settings: _Settings, stage: str,
            tracker: _Progress, keep_going: Callable[[np.ndarray], bool] | None = None):
    """The answering chains (:mod:`sim.studies.inference.blocked`): a random walk over the model's
    parameters and cheap sweeps over the error terms, from draws of the screen, until converged
    (the ensemble sampler when the budget is too small to warm them up); ``keep_going`` may stop
    them after warm-up (:func:`~sim.studies.inference.blocked.sample_blocked`)."""
    from sim.studies.inference.blocked import DEFAULT_CHAINS, minimum_evaluations, sample_blocked
    from sim.studies.inference.sampler import SamplerError

    if settings.max_evaluations < minimum_evaluations():
        return _sample(log_posterior, screen.chain[-1], seed, settings, stage, tracker)
    checkpoint = Path(settings.checkpoint) / f"chain-{stage}-blocked" if settings.checkpoint else None
    tracker.new_chain(f"answering chains, round {stage.split('-')[1]} (the simulation's likelihood)")
    draws = _flat(screen)
    starts = draws[stream(seed, 0, "posterior/answer-starts").choice(len(draws), DEFAULT_CHAINS, replace=False)]
    log_posterior.path_executor = settings.path_executor if _path_seconds(log_posterior, starts) > PARALLEL_PATH_SECONDS else None
    try:
        run = sample_blocked(log_posterior, starts, draws, seed, rhat_max=settings.rhat_max, ess_min=settings.ess_min,
                             max_evaluations=settings.max_evaluations, checkpoint=checkpoint, resume=settings.resume,
                             progress=tracker.sampler_status, keep_going=keep_going)
    except SamplerError as error:
        raise PosteriorError(str(error)) from None
    finally:
        log_posterior.path_executor = None
    if run.pilot:
        tracker.say("answering chains stopped at a quarter of the ESS asked for: the answer is outside the region "
                    "the simulation was measured in; measuring it again there")
        return run
    independence = ("not used" if math.isnan(run.t_acceptance) else f"{run.t_acceptance:.2f}")
    tracker.say(f"answering chains: {run.warmup_blocks} warm-up blocks ({run.restarts} chains moved); model steps accepted "
                f"{run.acceptance_fraction.mean():.2f} (random walk), {independence} (Student-t), "
                f"error-term steps {run.error_acceptance:.2f}")
    return run


def _path_seconds(log_posterior: SurrogatePosterior, starts: np.ndarray) -> float:
    """What one model path costs here (the best of three): whether the chains' paths are worth
    sending to worker processes. Only the speed depends on it, never the samples."""
    theta = starts[0, :len(log_posterior.priors)]
    seconds = []
    for _ in range(3):
        clock = time.perf_counter()
        log_posterior.paths(theta)
        seconds.append(time.perf_counter() - clock)
    return min(seconds)


def _sample(log_posterior, initial, seed, settings: _Settings, stage: str, tracker: _Progress, screening=False):
    from sim.studies.inference.sampler import SamplerError

    checkpoint = Path(settings.checkpoint) / f"chain-{stage}" if settings.checkpoint else None
    tracker.new_chain("screening chain (fluid path)" if screening else
                      f"answering chain, round {stage.split('-')[1]} (the simulation's likelihood)")
    try:
        return _run_sampler(log_posterior, initial, seed, settings, checkpoint, tracker, screening)
    except SamplerError as error:
        raise PosteriorError(str(error)) from None


def _run_sampler(log_posterior, initial, seed, settings: _Settings, checkpoint, tracker: _Progress, screening: bool):
    return sample_until_converged(
        log_posterior, initial, seed,
        rhat_max=settings.rhat_max, ess_min=settings.ess_min,
        max_evaluations=min(settings.max_evaluations, SCREEN_STEPS * settings.walkers) if screening
        else settings.max_evaluations, checkpoint=checkpoint, resume=settings.resume,
        progress=tracker.sampler_status)


def _saved_replications(saved: Path | None, points: np.ndarray) -> np.ndarray | None:
    """The figures of replications an interrupted calibration ran at exactly these points, if any
    (a chain continued with another budget may have drawn other points: those are run again)."""
    if saved is None or not saved.exists():
        return None
    with np.load(saved) as stored:
        same = stored["points"].shape == points.shape and np.array_equal(stored["points"], points)
        return stored["figures"] if same else None


def _measure(log_posterior: SurrogatePosterior, simulated: SimulatedFigures, executor, points: np.ndarray,
             round_number: int, replications: int, settings: _Settings, tracker: _Progress) -> SimulatorNoise:
    """Run ``replications`` simulations at ``points`` (each its own households) and measure how the
    simulation departs from the surrogate there."""
    saved = Path(settings.checkpoint) / f"replications-{round_number}.npz" if settings.checkpoint else None
    vectors = _saved_replications(saved, points) if settings.resume else None
    if vectors is not None:
        tracker.add(replications=len(vectors))
    else:
        first = (round_number - 1) * replications
        tasks = [(log_posterior.values(point), first + k) for k, point in enumerate(points)]
        vectors = [None] * len(tasks)
        for index, result in executor.map_unordered(simulated, enumerate(tasks)):
            if isinstance(result, str):
                raise PosteriorError(f"the scenario rejects values drawn from the posterior: {result}")
            vectors[index] = result
            tracker.add(replications=1)
        vectors = np.array(vectors)
        if saved is not None:
            temporary = saved.with_name(saved.stem + ".partial.npz")
            np.savez(temporary, figures=vectors, points=points)
            temporary.replace(saved)
    surrogate = np.array([log_posterior.fluid_log(point) for point in points])
    return measure_noise(points, np.log1p(np.maximum(vectors, 0.0)), surrogate)


# --------------------------------------------------------------------------------------------
# From the chain to the tables


def _result(scenario, priors, series, likelihood, log_posterior, run, seed, walkers, rounds, replications,
            evaluations, wall_seconds, center) -> PosteriorResult:
    keys = [prior.key for prior in priors]
    error_names = likelihood.errors.names
    flat = _flat(run)
    samples = pd.DataFrame(flat[:, :len(keys)], columns=keys)
    samples[WEIGHT] = 1.0
    error_scales = pd.DataFrame(flat[:, len(keys):], columns=error_names)
    chain = run.chain
    steps = chain.shape[0]
    step_index, walker_index = np.meshgrid(np.arange(steps), np.arange(chain.shape[1]), indexing="ij")
    chain_table = pd.DataFrame({"step": step_index.ravel(), "walker": walker_index.ravel(),
                                "log_posterior": run.log_prob.ravel()})
    for index, name in enumerate(keys + error_names):
        chain_table[name] = chain[:, :, index].ravel()
    return PosteriorResult(
        scenario=scenario, priors=list(priors), series=list(series), samples=samples, error_scales=error_scales,
        summary=_summary(priors, samples, error_scales, likelihood),
        diagnostics=_diagnostics(run, keys + error_names, evaluations, replications, rounds, wall_seconds,
                                 likelihood, series),
        fit=_fit_table(series, log_posterior, flat, seed), chain=chain_table, seed=seed, walkers=walkers,
        steps=steps, burn=run.burn, converged=run.converged, replications=replications, rounds=rounds,
        noise=likelihood.noise, likelihood=likelihood, evaluations=evaluations, wall_seconds=wall_seconds,
        initial_values={key: float(value) for key, value in zip(keys, center)}, sampler=run.moves,
    )


def _summary(priors, samples, error_scales, likelihood) -> pd.DataFrame:
    rows = []
    described = [(p.key, p, samples[p.key].to_numpy()) for p in priors]
    described += [(name, prior, error_scales[name].to_numpy())
                  for name, prior in zip(error_scales.columns, likelihood.errors.priors)]
    for name, prior, values in described:
        low, high = prior.range()
        p05, p50, p95 = np.quantile(values, [0.05, 0.5, 0.95])
        rows.append({"parameter": name, "prior": prior.describe(), "prior_low": low, "prior_high": high,
                     "mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                     "p05": p05, "p50": p50, "p95": p95})
    return pd.DataFrame(rows)


def _diagnostics(run, names, evaluations, replications, rounds, wall_seconds, likelihood, series) -> pd.DataFrame:
    rows = [("converged", "", float(run.converged)), ("acceptance_fraction", "", float(run.acceptance_fraction.mean())),
            ("error_term_acceptance", "", float(getattr(run, "error_acceptance", math.nan)))]
    for index, name in enumerate(names):
        rows += [("rhat_rank", name, float(run.rhat[index])), ("ess_bulk", name, float(run.ess_bulk[index]))]
    sd = np.sqrt(np.diag(likelihood.noise.covariance))
    offset = np.expm1(likelihood.noise.intercept)
    for index, s in enumerate(series):
        mine = likelihood.figures.series_index == index
        rows += [("simulator_noise_log_sd", s.name, float(np.sqrt(np.mean(sd[mine] ** 2)))),
                 ("simulation_offset_from_fluid_max", s.name, float(np.abs(offset[mine]).max()))]
    rows += [("surrogate_evaluations", "", float(evaluations)), ("simulation_replications", "", float(replications)),
             ("correction_rounds", "", float(rounds)), ("burn_in_steps", "", float(run.burn)),
             ("wall_seconds", "", float(wall_seconds))]
    return pd.DataFrame(rows, columns=["quantity", "parameter", "value"])


def _fit_table(series, log_posterior: SurrogatePosterior, flat: np.ndarray, seed: int) -> pd.DataFrame:
    """Per observed figure: the simulation's expected value over the posterior (its band) and the
    posterior-predictive band of the figure (simulation spread and reporter error included)."""
    rng = stream(seed, 0, "posterior/predictive")
    chosen = flat[np.linspace(0, len(flat) - 1, min(len(flat), FIT_TABLE_DRAWS)).round().astype(int)]
    parameters = len(log_posterior.priors)
    likelihood = log_posterior.likelihood
    expected, predictive = [], []
    for position in chosen:
        theta, error_values = position[:parameters], position[parameters:]
        model, extra = log_posterior.fluid(theta)
        expected.append(np.expm1(likelihood.mean(model, theta)))
        predictive.append(likelihood.simulate(model, theta, error_values, rng, extra))
    expected, predictive = np.array(expected), np.array(predictive)
    rows = []
    column = 0
    for s in series:
        for day, observed in zip(s.dates, s.values):
            model, drawn = expected[:, column], predictive[:, column]
            p05, p50, p95 = np.quantile(model, [0.05, 0.5, 0.95])
            q05, q95 = np.quantile(drawn, [0.05, 0.95])
            rows.append({"series": s.name, "kind": s.kind, "node": s.node,
                         "count_from": s.count_from.isoformat() if s.count_from else "",
                         "date": day.isoformat(), "observed": float(observed), "model_mean": float(model.mean()),
                         "model_p05": p05, "model_p50": p50, "model_p95": p95,
                         "predictive_p05": q05, "predictive_p95": q95})
            column += 1
    return pd.DataFrame(rows)


__all__ = [
    "ERROR_CORRELATION_PREFIX",
    "ERROR_SCALE_PREFIX",
    "ObservationError",
    "PosteriorError",
    "PosteriorResult",
    "PriorError",
    "checked_walkers",
    "default_replications",
    "default_surrogate",
    "fit_posterior",
    "observations_table",
]
