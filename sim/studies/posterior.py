"""Bayesian calibration: the posterior of a scenario's parameters given observed series.

``bordersim calibrate --method posterior`` (the default) and :func:`fit_posterior`. The point
calibration (:mod:`sim.studies.calibrate`) finds one parameter set; a forecast made from it carries only the
randomness of households (about ±0.5 % on the bundled scenario) while the data it was fitted to
disagree by tens of percent. Here the answer is a *sample* of parameter sets, each as plausible as
the priors and the observations allow, so projections made from it carry what the data leave open.

**Likelihood.** :mod:`sim.studies.observation`: each series measures a model quantity with a
multiplicative lognormal error of fitted scale (integrated out), optionally a shared reporter bias,
plus the simulator's own noise measured at the start.

**Model evaluations** (:mod:`sim.runs.evaluate`): one replication, cut at the last observed date,
with the same seed and replication index for every parameter set (common random numbers), so the
log posterior is a deterministic function of the parameters and an MCMC sampler can use it as it
would an analytic density. The household noise this ignores (~0.5 % on the bundled calibration,
measured on ``pilot_replications`` replications at the starting point) is added to the variance.

**Sampler**: :func:`sim.studies.inference.sampler.sample_until_converged` — emcee's ensemble,
run in blocks until every parameter has rank-normalized split R-hat ≤ ``rhat_max`` and bulk ESS ≥
``ess_min`` (arviz) or ``max_evaluations`` is spent (``converged`` says which), saving its chain to
``checkpoint`` as it goes so that ``resume`` continues it. Its walkers move in
two halves; each half's model evaluations are one call of an executor (:mod:`sim.runs.executors`:
serial, processes or Dask) with the same function for the whole calibration (a process pool starts
once), tagging each walker and putting the results back in order — so the chain is identical
whatever the executor. emcee's own random state is seeded from
``seed``: the same seed gives the same ``posterior.csv``, byte for byte. Walkers start in a small
ball (2 % of each prior's width) around the scenario's own values; the first half of the chain is
discarded as burn-in and every ``thin``-th step kept. ``steps`` asks for a chain of that fixed
length instead (and ``burn`` for another burn-in), still judged by the same bounds.

**Result** (:class:`PosteriorResult`): ``samples`` (a column per key path and ``weight``, what
``posterior.csv`` holds and what a scenario's ``uncertain: {sample: FILE}`` reads), the drawn
``error_scales``, ``summary`` (``posterior-summary.csv``), ``diagnostics`` (acceptance fraction,
integrated autocorrelation time, effective sample size, R-hat across walker halves, arviz's
``rhat`` and ``ess_bulk`` per parameter and whether they met the bounds), ``converged``, ``fit`` (the
model band on every observed date against the observed value) and the whole ``chain``.
"""
from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim.model.streams import stable_hash, stream
from sim.runs.evaluate import CrossedEvaluator
from sim.scenario.keypath import KeyPathError, get_path, parse_key_path
from sim.studies.inference.sampler import (
    DEFAULT_ESS_MIN,
    DEFAULT_MAX_EVALUATIONS,
    DEFAULT_RHAT_MAX,
    MIN_WALKERS,
    SamplerError,
    SamplerRun,
    SamplerStatus,
    convergence,
    sample_until_converged,
)
from sim.studies.observation import (
    ObservationError,
    ObservedSeries,
    SeriesError,
    as_series,
    error_models,
    observations_table,
)
from sim.studies.priors import Prior, PriorError, as_prior

ProgressCallback = Callable[[int, int], None]
"""Called with (model evaluations done, evaluations planned)."""

WEIGHT = "weight"
ERROR_SCALE_PREFIX = "error_scale."
INITIAL_BALL = 0.02
"""Walkers start within this fraction of each prior's width around the scenario's values."""


class PosteriorError(ValueError):
    """Bad posterior-calibration input (one line); the CLI turns it into exit code 2."""


@dataclass
class PosteriorResult:
    """Posterior samples of the fitted key paths and everything needed to judge them."""

    scenario: object
    priors: list[Prior]
    series: list[ObservedSeries]
    samples: pd.DataFrame  # a column per key path, then weight (equal weights: MCMC draws)
    error_scales: pd.DataFrame  # a column per series: its sigma in each sample
    summary: pd.DataFrame
    diagnostics: pd.DataFrame
    fit: pd.DataFrame
    chain: pd.DataFrame  # step, walker, log_posterior, a column per key path (every step, burn-in too)
    seed: int
    walkers: int
    steps: int
    burn: int
    thin: int
    bias_sd: float
    sim_sigma: dict[str, float]
    evaluations: int
    wall_seconds: float
    initial_values: dict[str, float] = field(default_factory=dict)
    converged: bool = False  # every parameter's R-hat and bulk ESS within the bounds (diagnostics rows)

    @property
    def keys(self) -> list[str]:
        return [prior.key for prior in self.priors]

    def diagnostic(self, quantity: str, parameter: str = "") -> float:
        table = self.diagnostics
        rows = table[(table["quantity"] == quantity) & (table["parameter"] == parameter)]
        return float(rows["value"].iloc[0])

    def lines(self) -> list[str]:
        """What the command prints: settings, the summary, and the diagnostics that need a look."""
        lines = [(f"Posterior from {sum(len(s.dates) for s in self.series)} observed figures in "
                 f"{len(self.series)} series ({', '.join(s.name for s in self.series)}); emcee, "
                 f"{self.walkers} walkers × {self.steps} steps (burn-in {self.burn}, thin {self.thin}): "
                 f"{len(self.samples)} samples, {self.evaluations} model evaluations, {self.wall_seconds:.0f} s")]
        for _, row in self.summary.iterrows():
            lines.append(f"  {row['parameter']}: {_g(row['mean'])} ± {_g(row['sd'])}  90% [{_g(row['p05'])}, "
                         f"{_g(row['p95'])}]  (prior {row['prior']})")
        acceptance = self.diagnostic("acceptance_fraction")
        lines.append(f"acceptance {acceptance:.2f}; {self.convergence_line()}")
        if not self.converged:
            lines.append("warning: NOT CONVERGED: these samples do not yet represent the posterior; "
                         "run longer (--max-evaluations) before relying on them")
        rise = self.diagnostic("log_posterior_rise_after_burn_in")
        if still_climbing(rise, self.diagnostic("log_posterior_rise_se")):
            lines.append(f"warning: the log posterior still rose by {rise:.1f} over the kept steps (first to last "
                         "quarter): the walkers were still climbing out of the prior, which R-hat cannot see; "
                         "run longer (--max-evaluations; with --steps, raise --burn past the climb, see chain.csv "
                         "by step)")
        return lines

    def convergence_line(self) -> str:
        rhat = max(self.diagnostic("rhat", key) for key in self.keys)
        ess = min(self.diagnostic("ess_bulk", key) for key in self.keys)
        verdict = "converged" if self.converged else "not converged"
        return (f"{verdict}: largest R-hat {rhat:.3f} (bound {self.diagnostic('rhat_max'):g}), smallest bulk ESS "
                f"{ess:.0f} (bound {self.diagnostic('ess_min'):g})")


def _g(value: float) -> str:
    return f"{value:.4g}"


# --------------------------------------------------------------------------------------------
# The log posterior: a picklable function of the parameter vector


class LogPosterior:
    """θ ↦ (log prior + log likelihood, model values on every observed date).

    Deterministic: every evaluation is replication 0 of the same seed (common random numbers).
    Values the scenario rejects (a share above 1) have log posterior −∞.
    """

    def __init__(self, evaluator: CrossedEvaluator, priors: Sequence[Prior], series: Sequence[ObservedSeries],
                 errors: dict[str, SeriesError]) -> None:
        self.evaluator = evaluator
        self.priors = list(priors)
        self.series = list(series)
        self.errors = errors
        self.points = sum(len(s.dates) for s in self.series)

    def values(self, theta: np.ndarray) -> dict[str, float]:
        return {prior.key: float(value) for prior, value in zip(self.priors, theta)}

    def model_vector(self, theta: np.ndarray, replication: int = 0) -> np.ndarray:
        """The model value on every observed date, series after series."""
        daily = self.evaluator(self.values(theta), replication)
        return np.concatenate([s.model_values(daily, self.evaluator.period_start) for s in self.series])

    def split(self, vector: np.ndarray) -> list[np.ndarray]:
        edges = np.cumsum([len(s.dates) for s in self.series])[:-1]
        return np.split(np.asarray(vector, float), edges)

    def log_likelihood(self, vector: np.ndarray) -> float:
        return sum(self.errors[s.name].log_marginal(s.values, model)
                   for s, model in zip(self.series, self.split(vector)))

    def log_prior(self, theta: np.ndarray) -> float:
        return sum(prior.logpdf(value) for prior, value in zip(self.priors, theta))

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        from sim.scenario.errors import ScenarioError

        missing = np.full(self.points, np.nan)
        log_prior = self.log_prior(theta)
        if not math.isfinite(log_prior):
            return -math.inf, missing
        try:
            vector = self.model_vector(theta)
        except ScenarioError:
            return -math.inf, missing
        return log_prior + self.log_likelihood(vector), vector


class _ModelVectors:
    """``(index, (θ, replication))`` ↦ ``(index, model vector)``, or ``(index, message)`` where the
    scenario rejects the values: the one function the workers run for a whole calibration (the
    pilot replications and every walker), so that a process pool is started once and what the
    evaluator caches in a worker (the world, the draws) serves every later evaluation there."""

    def __init__(self, log_posterior: LogPosterior) -> None:
        self.log_posterior = log_posterior

    def __call__(self, indexed):
        from sim.scenario.errors import ScenarioError

        index, (theta, replication) = indexed
        try:
            return index, self.log_posterior.model_vector(theta, replication)
        except ScenarioError as error:
            return index, str(error).splitlines()[0]


class WalkerEvaluations:
    """The model evaluations of a calibration, run on an executor and put back in the order given.

    emcee calls it (``vectorize=True``) with the positions of half the walkers and gets each one's
    (log posterior, model vector). Only the model vectors are computed on the executor; the prior
    and the likelihood are computed here, so the workers' copy of the function never needs the
    simulator-noise variances measured by the pilot (a pool's workers keep the copy they started
    with). A walker outside its prior's support is not simulated (log posterior −∞) but counted,
    as emcee counts it."""

    def __init__(self, executor, log_posterior: LogPosterior, progress: Callable[[int], None] | None = None) -> None:
        self.executor = executor
        self.log_posterior = log_posterior
        self.progress = progress
        self.evaluations = 0
        self._model_vectors = _ModelVectors(log_posterior)

    def model_vectors(self, tasks: Sequence[tuple[np.ndarray, int]]) -> list:
        """The model vector at each (θ, replication), or the scenario's message where it rejects θ."""
        results: list = [None] * len(tasks)
        for index, result in self.executor.map_unordered(self._model_vectors, enumerate(tasks)):
            results[index] = result
            self._count(1)
        return results

    def _count(self, evaluations: int) -> None:
        for _ in range(evaluations):
            self.evaluations += 1
            if self.progress is not None:
                self.progress(self.evaluations)

    def __call__(self, positions: np.ndarray) -> list[tuple[float, np.ndarray]]:
        log_posterior = self.log_posterior
        log_priors = [log_posterior.log_prior(theta) for theta in positions]
        inside = [walker for walker, log_prior in enumerate(log_priors) if math.isfinite(log_prior)]
        vectors = dict(zip(inside, self.model_vectors([(positions[walker], 0) for walker in inside])))
        self._count(len(positions) - len(inside))
        missing = np.full(log_posterior.points, np.nan)
        results = []
        for walker, log_prior in enumerate(log_priors):
            vector = vectors.get(walker)
            if vector is None or isinstance(vector, str):
                results.append((-math.inf, missing))
            else:
                results.append((log_prior + log_posterior.log_likelihood(vector), vector))
        return results

    def vectorized(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(log posteriors, model vectors as rows): the form :func:`sample_until_converged` takes."""
        results = self(positions)
        return np.array([value for value, _ in results]), np.array([vector for _, vector in results])


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
    for s in series:  # the people check is the caller's: figures simulated with noise may exceed them
        s.check_against(scenario.period.start, scenario.period.end, list(scenario.crossings))
    return series


def _initial_point(scenario, priors: Sequence[Prior]) -> np.ndarray:
    """The scenario's own values, or the prior median where the prior excludes them."""
    data = scenario.to_yaml_dict()
    point = []
    for prior in priors:
        value = float(get_path(data, parse_key_path(prior.key)))
        low, high = prior.range()
        inside = low + 0.01 * (high - low) <= value <= high - 0.01 * (high - low)
        point.append(value if inside and math.isfinite(prior.logpdf(value)) else float(prior.ppf(0.5)))
    return np.array(point)


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


def checked_settings(dimension: int, walkers: int | None = None, steps: int | None = None,
                     burn: int | None = None, thin: int = 1, bias_sd: float = 0.0) -> tuple[int, int | None]:
    """The walkers and burn-in of a fit of ``dimension`` parameters (defaults filled in; the burn-in
    is None, half the final chain, when ``steps`` is None: run until converged); raises
    :class:`PosteriorError` for settings the sampler cannot run with."""
    walkers = walkers or 2 * dimension + 2
    if walkers < max(2 * dimension, MIN_WALKERS) or walkers % 2:
        raise PosteriorError(f"--walkers {walkers}: need an even number, at least {MIN_WALKERS} and at least twice "
                             f"the {dimension} fitted parameters ({2 * dimension})")
    if steps is None and burn is not None:
        raise PosteriorError(f"--burn {burn} needs --steps: a chain run until converged discards its first half")
    burn = steps // 2 if burn is None and steps is not None else burn
    if (steps is not None and not 0 <= burn < steps) or thin < 1:
        raise PosteriorError(f"--burn {burn} must lie in [0, steps={steps}) and --thin {thin} must be >= 1")
    if bias_sd < 0:
        raise PosteriorError(f"--reporter-bias {bias_sd}: must be >= 0")
    return walkers, burn


# --------------------------------------------------------------------------------------------
# The fit


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
    steps: int | None = None,
    burn: int | None = None,
    thin: int = 1,
    error_priors: dict[str, Prior] | None = None,
    bias_sd: float = 0.0,
    pilot_replications: int = 4,
    rhat_max: float | None = None,
    ess_min: float | None = None,
    max_evaluations: int | None = None,
    checkpoint=None,
    resume: bool = False,
    status: Callable[[SamplerStatus], None] | None = None,
) -> PosteriorResult:
    """Sample the posterior of ``fit`` (key paths with priors) given ``observations``.

    ``observations``: a list of :class:`~sim.studies.observation.ObservedSeries` or a table
    ``date,value[,series,kind,node,count_from]``; only figures up to ``cutoff`` are used (all if
    None). ``fit``: :class:`~sim.studies.calibrate.FitParameter` (uniform over low:high) or
    :class:`~sim.studies.priors.Prior`. ``seed`` (default the scenario's) fixes both the model's
    random numbers and the sampler's: the same seed gives identical samples, on any executor.
    ``executor`` (:mod:`sim.runs.executors`) runs the walkers' model evaluations; default: this process
    for ``jobs`` 1, else ``jobs`` local processes. ``walkers`` defaults to 2 × parameters + 2.
    The chain runs until every parameter has R-hat ≤ ``rhat_max`` and bulk ESS ≥ ``ess_min``, or
    until ``max_evaluations`` walker evaluations (None: 1.01, 400 and 200,000), when ``converged``
    is False and the caller decides; ``steps`` fixes its length instead, ``burn`` (with ``steps``)
    its burn-in. ``checkpoint`` (a folder) keeps the chain as it goes, ``resume`` continues from it
    (identical samples); ``status`` receives a
    :class:`~sim.studies.inference.sampler.SamplerStatus` after every block.
    ``error_priors`` maps a series name to the prior of its error
    scale (default half-normal(0.2)); ``bias_sd`` is the sd of a reporter bias shared by a series'
    figures (0: none). Raises :class:`PosteriorError` (or ObservationError) on bad input.
    """
    from sim.runs import executors

    clock = time.perf_counter()
    seed = scenario.run.seed if seed is None else seed
    rhat_max = DEFAULT_RHAT_MAX if rhat_max is None else rhat_max
    ess_min = DEFAULT_ESS_MIN if ess_min is None else ess_min
    max_evaluations = DEFAULT_MAX_EVALUATIONS if max_evaluations is None else max_evaluations
    priors = _checked_priors(scenario, fit)
    series = _checked_series(scenario, observations, cutoff)
    dimension = len(priors)
    walkers, burn = checked_settings(dimension, walkers, steps, burn, thin, bias_sd)
    errors = error_models(series, error_priors, bias_sd)
    until = max(day for s in series for day in s.dates)
    log_posterior = LogPosterior(CrossedEvaluator(scenario, seed, until), priors, series, errors)
    center = _initial_point(scenario, priors)
    planned = pilot_replications + (walkers * (steps + 1) if steps is not None else max_evaluations)

    owned = executor is None
    if owned:
        executor = executors.SerialExecutor() if jobs <= 1 else executors.ProcessExecutor(jobs)
    try:
        pool = WalkerEvaluations(executor, log_posterior, (lambda done: progress(done, planned)) if progress else None)
        sim_sigma = _simulator_noise(log_posterior, center, pilot_replications, pool)
        for s in series:
            errors[s.name].sim_variance = sim_sigma[s.name] ** 2
        run = sample_until_converged(pool.vectorized, _initial_walkers(center, priors, walkers, seed),
                                     stable_hash(f"posterior/emcee/{seed}"), rhat_max=rhat_max, ess_min=ess_min,
                                     max_evaluations=max_evaluations, checkpoint=checkpoint, resume=resume,
                                     progress=status, steps=steps)
    except SamplerError as error:
        raise PosteriorError(str(error)) from None
    finally:
        if owned:
            executor.close()
    return _result(scenario, priors, series, errors, log_posterior, run, seed, walkers,
                   run.burn if burn is None else burn, thin, bias_sd, sim_sigma, pool.evaluations,
                   time.perf_counter() - clock, center, (rhat_max, ess_min))


def _simulator_noise(log_posterior: LogPosterior, center: np.ndarray, replications: int, pool: WalkerEvaluations
                     ) -> dict[str, float]:
    """Per series: the sd of log(1 + model value) across replications at the starting point (RMS
    over its dates) — the household randomness a single-replication evaluation leaves out."""
    vectors = pool.model_vectors([(center, replication) for replication in range(replications)])
    rejected = [vector for vector in vectors if isinstance(vector, str)]
    if rejected:
        raise PosteriorError(f"the scenario rejects its own values with these changes: {rejected[0]}")
    if replications < 2:
        return {s.name: 0.0 for s in log_posterior.series}
    sd = np.log1p(np.maximum(np.array(vectors), 0.0)).std(axis=0, ddof=1)
    return {s.name: float(np.sqrt(np.mean(part ** 2))) for s, part in zip(log_posterior.series, log_posterior.split(sd))}


# --------------------------------------------------------------------------------------------
# From the chain to the tables


def _result(scenario, priors, series, errors, log_posterior, run: SamplerRun, seed, walkers, burn, thin, bias_sd,
            sim_sigma, evaluations, wall_seconds, center, bounds) -> PosteriorResult:
    keys = [prior.key for prior in priors]
    chain, log_prob, blobs, steps = run.chain, run.log_prob, run.blobs, run.steps  # steps × walkers × ...
    kept = slice(burn, None, thin)
    flat = chain[kept].reshape(-1, len(keys))
    flat_model = blobs[kept].reshape(-1, blobs.shape[-1])
    samples = pd.DataFrame(flat, columns=keys)
    samples[WEIGHT] = 1.0
    sigmas, predictive = _error_draws(series, errors, log_posterior, flat_model, bias_sd, seed)
    error_scales = pd.DataFrame(sigmas)
    steps_index, walker_index = np.meshgrid(np.arange(steps), np.arange(walkers), indexing="ij")
    chain_table = pd.DataFrame({"step": steps_index.ravel(), "walker": walker_index.ravel(),
                                "log_posterior": log_prob.ravel()})
    for index, key in enumerate(keys):
        chain_table[key] = chain[:, :, index].ravel()
    diagnostics = _diagnostics(run, burn, keys, evaluations, wall_seconds, sim_sigma, bounds)
    converged = bool(diagnostics.loc[diagnostics["quantity"] == "converged", "value"].iloc[0])
    return PosteriorResult(
        scenario=scenario, priors=list(priors), series=list(series), samples=samples, error_scales=error_scales,
        summary=_summary(priors, samples, error_scales, errors), diagnostics=diagnostics, converged=converged,
        fit=_fit_table(series, flat_model, predictive, log_posterior), chain=chain_table, seed=seed,
        walkers=walkers, steps=steps, burn=burn, thin=thin, bias_sd=bias_sd, sim_sigma=sim_sigma,
        evaluations=evaluations, wall_seconds=wall_seconds,
        initial_values={key: float(value) for key, value in zip(keys, center)},
    )


def _error_draws(series, errors, log_posterior, flat_model, bias_sd, seed):
    """Each sample's error scale per series (from its conditional posterior) and a posterior
    predictive draw of every observed figure (model value × observation error)."""
    rng = stream(seed, 0, "posterior/error-scales")
    sigmas = {s.name: np.empty(len(flat_model)) for s in series}
    predictive = np.empty_like(flat_model)
    edges = np.concatenate([[0], np.cumsum([len(s.dates) for s in series])])
    for row, vector in enumerate(flat_model):
        for index, s in enumerate(series):
            model = vector[edges[index]:edges[index + 1]]
            sigma = errors[s.name].draw_sigma(s.values, model, rng)
            sigmas[s.name][row] = sigma
            noise = rng.normal(0.0, math.sqrt(sigma ** 2 + errors[s.name].sim_variance), model.size)
            predictive[row, edges[index]:edges[index + 1]] = np.expm1(
                np.log1p(np.maximum(model, 0.0)) + bias_sd * rng.standard_normal() + noise)
    return {ERROR_SCALE_PREFIX + name: values for name, values in sigmas.items()}, predictive


def _summary(priors, samples, error_scales, errors) -> pd.DataFrame:
    rows = []
    described = [(p.key, p, samples[p.key].to_numpy()) for p in priors]
    described += [(name, errors[name.removeprefix(ERROR_SCALE_PREFIX)].prior, error_scales[name].to_numpy())
                  for name in error_scales.columns]
    for name, prior, values in described:
        low, high = prior.range()
        p05, p50, p95 = np.quantile(values, [0.05, 0.5, 0.95])
        rows.append({"parameter": name, "prior": prior.describe(), "prior_low": low, "prior_high": high,
                     "mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                     "p05": p05, "p50": p50, "p95": p95})
    return pd.DataFrame(rows)


def rhat_halves(chain: np.ndarray) -> np.ndarray:
    """Gelman–Rubin R-hat per parameter, the two halves of the walkers taken as two chains.

    ``chain`` is steps × walkers × parameters (after burn-in). Near 1 when both halves sample the
    same distribution; above ~1.1 when the chain is too short to tell.
    """
    half = chain.shape[1] // 2
    parts = [chain[:, :half].reshape(-1, chain.shape[2]), chain[:, half:2 * half].reshape(-1, chain.shape[2])]
    n = parts[0].shape[0]
    within = np.mean([part.var(axis=0, ddof=1) for part in parts], axis=0)
    means = np.array([part.mean(axis=0) for part in parts])
    between_over_n = means.var(axis=0, ddof=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.sqrt(((n - 1) / n * within + between_over_n) / within)


def log_posterior_rise(log_prob: np.ndarray) -> tuple[float, float]:
    """How much the log posterior rose over the kept steps, and its standard error: the mean over
    walkers of (mean of the last quarter of the steps − mean of the first quarter).

    ``log_prob`` is steps × walkers, after burn-in. emcee's walkers start spread over the prior and
    climb to the posterior's bulk together; a burn-in that ends inside the climb leaves a trend in
    what is kept. R-hat across walker halves compares two groups that drift alike, so it stays near
    1; this rise does not (the bundled forecast's first re-fit kept 80–100 climbing steps of 200).
    The standard error treats walkers as independent (they nearly are, apart from emcee's moves)."""
    steps, walkers = log_prob.shape
    quarter = steps // 4
    if quarter < 1 or walkers < 2:
        return 0.0, math.inf
    per_walker = log_prob[-quarter:].mean(axis=0) - log_prob[:quarter].mean(axis=0)
    return float(per_walker.mean()), float(per_walker.std(ddof=1) / math.sqrt(walkers))


def still_climbing(rise: float, standard_error: float) -> bool:
    """A rise of more than one unit of log posterior (a likelihood ratio of e) that is also well
    beyond the walkers' spread (3 standard errors): a trend, not the chain's own wandering."""
    return rise > max(1.0, 3.0 * standard_error)


def _diagnostics(run: SamplerRun, burn, keys, evaluations, wall_seconds, sim_sigma, bounds) -> pd.DataFrame:
    """One row per (quantity, parameter): emcee's view (autocorrelation time, ESS, R-hat across
    walker halves) and arviz's rank-normalized split R-hat and bulk ESS, which decide ``converged``."""
    import emcee

    chain, log_prob = run.chain, run.log_prob
    after = chain[burn:]
    with np.errstate(invalid="ignore", divide="ignore"):  # a walker that never moved: tau is nan, not a warning
        tau = emcee.autocorr.integrated_time(after, tol=0, quiet=True) if len(after) > 1 else np.ones(len(keys))
    ess = after.shape[0] * after.shape[1] / np.maximum(tau, 1.0)
    rhat = rhat_halves(after) if len(after) > 1 else np.full(len(keys), np.nan)
    rank_rhat, ess_bulk = convergence(after)
    rhat_max, ess_min = bounds
    converged = bool(np.all(rank_rhat <= rhat_max) and np.all(ess_bulk >= ess_min))
    acceptance = run.acceptance_fraction
    rows = [("acceptance_fraction", "", float(acceptance.mean())),
            ("acceptance_fraction_min", "", float(acceptance.min())),
            ("acceptance_fraction_max", "", float(acceptance.max()))]
    for index, key in enumerate(keys):
        rows += [("autocorrelation_time_steps", key, float(tau[index])),
                 ("effective_sample_size", key, float(ess[index])),
                 ("rhat_walker_halves", key, float(rhat[index])),
                 ("rhat", key, float(rank_rhat[index])), ("ess_bulk", key, float(ess_bulk[index]))]
    rows += [("rhat_max", "", float(rhat_max)), ("ess_min", "", float(ess_min)),
             ("converged", "", float(converged)), ("steps", "", float(run.steps))]
    rise, rise_se = log_posterior_rise(log_prob[burn:])
    rows += [("log_posterior_rise_after_burn_in", "", rise), ("log_posterior_rise_se", "", rise_se)]
    rows += [("simulator_noise_log_sd", name, value) for name, value in sim_sigma.items()]
    rows += [("model_evaluations", "", float(evaluations)), ("wall_seconds", "", float(wall_seconds)),
             ("evaluations_per_second", "", evaluations / wall_seconds if wall_seconds > 0 else math.nan)]
    return pd.DataFrame(rows, columns=["quantity", "parameter", "value"])


def _fit_table(series, flat_model, predictive, log_posterior) -> pd.DataFrame:
    rows = []
    column = 0
    for s in series:
        for day, observed, kind in zip(s.dates, s.values, s.kinds):
            model, drawn = flat_model[:, column], predictive[:, column]
            p05, p50, p95 = np.quantile(model, [0.05, 0.5, 0.95])
            q05, q95 = np.quantile(drawn, [0.05, 0.95])
            rows.append({"series": s.name, "kind": kind, "node": s.node,
                         "count_from": s.count_from.isoformat() if s.count_from else "",
                         "date": day.isoformat(), "observed": float(observed), "model_mean": float(model.mean()),
                         "model_p05": p05, "model_p50": p50, "model_p95": p95,
                         "predictive_p05": q05, "predictive_p95": q95})
            column += 1
    return pd.DataFrame(rows)


__all__ = [
    "ERROR_SCALE_PREFIX",
    "LogPosterior",
    "ObservationError",
    "PosteriorError",
    "PosteriorResult",
    "PriorError",
    "WalkerEvaluations",
    "checked_settings",
    "fit_posterior",
    "log_posterior_rise",
    "observations_table",
    "rhat_halves",
    "still_climbing",
]
