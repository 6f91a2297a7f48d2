"""Calibration that screens with the fluid surrogate and answers with the simulation.

An MCMC chain needs tens of thousands of evaluations of the log posterior; one replication of the
phase-1 scenario costs ~0.3 CPU-s, the fluid path (:mod:`sim.analytic.fluid`) a few milliseconds.
So the chain runs on the fluid path, and the simulation is run only where the posterior is:

1. **Screen**: sample the posterior with the fluid path as the model mean and no simulator noise.
2. **Measure**: run K replications of the simulation at K draws of that posterior, each with its own
   households, and measure how the simulation departs from the fluid path there — its mean offset
   (linear in θ) and the covariance of its replications across every figure
   (:mod:`sim.studies.inference.discrepancy`).
3. **Answer**: sample again with the likelihood of the *simulation* (:mod:`...likelihood`): the
   fluid path corrected by the measured offset, and the simulation's own randomness in the
   covariance. Steps 2–3 repeat while the answer moves out of the region measured.

The posterior is that of the simulation under a Gaussian synthetic likelihood (Wood 2010; Price
et al. 2018) whose mean and covariance are fitted to the simulation's replications near the
posterior; the fluid path only interpolates between them.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from sim.studies.inference.emulator import spread_within_priors
from sim.studies.inference.likelihood import Likelihood
from sim.studies.priors import Prior


@dataclass(frozen=True)
class FigureMap:
    """From a path (people crossed per day per node) to every figure's model value and extra variance."""

    series: tuple
    period_start: object

    def values(self, daily: Mapping[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([s.model_values(daily, self.period_start) for s in self.series])

    @property
    def declares_extra_variance(self) -> bool:
        """Whether a figure has an uncertain start of counting (its extra variance moves with the path)."""
        return any(window is not None for s in self.series for window in getattr(s, "windows", None) or ())

    def extra_variance(self, daily: Mapping[str, np.ndarray]) -> np.ndarray | None:
        """Per figure, the variance (people²) it adds of its own (an uncertain start of counting), or
        None when no figure does."""
        if not self.declares_extra_variance:
            return None
        return np.concatenate([s.extra_variance(daily, self.period_start) for s in self.series])


class SimulatedFigures:
    """``(index, (values, replication))`` ↦ ``(index, figures)`` from one replication of the
    simulation, or ``(index, message)`` where the scenario rejects the values: the function the
    executor's workers run (picklable; a pool starts once per calibration)."""

    def __init__(self, evaluator, figure_map: FigureMap) -> None:
        self.evaluator = evaluator
        self.figure_map = figure_map

    def __call__(self, indexed):
        from sim.scenario.errors import ScenarioError

        index, (values, replication) = indexed
        try:
            return index, self.figure_map.values(self.evaluator(values, replication))
        except ScenarioError as error:
            return index, str(error).splitlines()[0]


class FluidFigures:
    """``[(index, θ values), ...]`` ↦ ``[(index, (figures, declared extra variance)), ...]`` on the
    fluid path, ``(index, None)`` where the scenario refuses θ: the function local worker processes
    run to give the answering chains their paths side by side (several chains a task: a task's
    round trip costs about as much as a path)."""

    def __init__(self, surrogate: Callable[[Mapping[str, float]], Mapping[str, np.ndarray]], figure_map: FigureMap) -> None:
        self.surrogate = surrogate
        self.figure_map = figure_map

    def __call__(self, chunk):
        return [self.one(index, values) for index, values in chunk]

    def one(self, index: int, values):
        from sim.scenario.errors import ScenarioError

        try:
            daily = self.surrogate(values)
        except ScenarioError:
            return index, None
        return index, (self.figure_map.values(daily), self.figure_map.extra_variance(daily))


class SurrogatePosterior:
    """Vectorized log posterior on the fluid path: positions (walkers × unknowns) ↦ (log posterior,
    figures' model values). Unknowns: the fitted key paths, then the error terms."""

    def __init__(self, surrogate: Callable[[Mapping[str, float]], Mapping[str, np.ndarray]], priors: Sequence[Prior],
                 figure_map: FigureMap, likelihood: Likelihood) -> None:
        self.surrogate = surrogate
        self.priors = list(priors)
        self.figure_map = figure_map
        self.likelihood = likelihood
        self.emulator = None  # a checked PolynomialEmulator of the fluid path, when one is trusted
        self.path_executor = None  # local worker processes that compute several chains' paths at once
        self._fluid_figures = FluidFigures(surrogate, figure_map)  # one object: the workers' pool lives while it is used

    @property
    def dimension(self) -> int:
        return len(self.priors) + len(self.likelihood.errors)

    def values(self, theta: np.ndarray) -> dict[str, float]:
        return {prior.key: float(value) for prior, value in zip(self.priors, theta)}

    def fluid(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Every figure's value on the fluid path at θ, and the extra variance figures declare."""
        daily = self.surrogate(self.values(theta))
        return self.figure_map.values(daily), self.figure_map.extra_variance(daily)

    def fluid_log(self, theta: np.ndarray) -> np.ndarray:
        return np.log1p(np.maximum(self.fluid(theta)[0], 0.0))

    def model(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """What the chain uses: the emulator where one is trusted, else the fluid path."""
        if self.emulator is not None:
            return np.expm1(self.emulator(theta)), None
        return self.fluid(theta)

    # What the blocked sampler (sim.studies.inference.blocked) asks of a posterior

    @property
    def parameters(self) -> int:
        return len(self.priors)

    @property
    def unknown_priors(self) -> list[Prior]:
        return self.priors + self.likelihood.errors.priors

    @property
    def error_blocks(self) -> list[np.ndarray]:
        """Per series, the indices of its error terms (its scale, and its correlation if any)."""
        errors = self.likelihood.errors
        scales = len(errors.sigma_priors)
        return [np.array([index] + [scales + k for k, owner in enumerate(errors.rho_series) if owner == index])
                for index in range(scales)]

    def paths(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per row of θ: the expected log(1 + figure) of the simulation (NaN where the scenario refuses
        θ) and the extra variance figures declare, in log units²."""
        theta = np.atleast_2d(theta)
        likelihood = self.likelihood
        if self.emulator is not None:
            return self.emulator(theta) + likelihood.noise.offset_batch(theta), np.zeros((len(theta), len(likelihood.figures)))
        log_means = np.full((len(theta), len(likelihood.figures)), np.nan)
        extra = np.zeros_like(log_means)
        for row, path in self._fluid_paths(theta):
            if path is not None:
                model, declared = path
                log_means[row] = likelihood.mean(model, theta[row])
                extra[row] = likelihood.extra_diagonal(model, declared)
        return log_means, extra

    def _fluid_paths(self, theta: np.ndarray):
        """(row, (figures, declared extra variance) or None) for every row of θ: on the path
        executor's workers when there is one and more than one row, else here. The likelihood's
        parts (its offset changes between rounds) are applied by the caller, here."""
        tasks = [(row, self.values(point)) for row, point in enumerate(theta)]
        workers = 1 if self.path_executor is None else min(len(tasks), self.path_executor.workers)
        if workers < 2:
            return self._fluid_figures(tasks)
        chunks = [tasks[start::workers] for start in range(workers)]
        return [path for done in self.path_executor.map_unordered(self._fluid_figures, chunks) for path in done]

    def log_likelihoods(self, log_means: np.ndarray, extra_diagonal: np.ndarray, error_values: np.ndarray) -> np.ndarray:
        return self.likelihood.log_likelihood_batch(log_means, error_values, extra_diagonal)

    def log_prior(self, positions: np.ndarray) -> np.ndarray:
        """The log prior of every position, one vectorized call per unknown (scipy's frozen
        distributions cost tens of microseconds a call)."""
        unknowns = self.priors + self.likelihood.errors.priors
        return np.sum([prior.log_density(positions[:, index]) for index, prior in enumerate(unknowns)], axis=0)

    def one(self, position: np.ndarray, log_prior: float) -> tuple[float, np.ndarray]:
        from sim.scenario.errors import ScenarioError

        parameters = len(self.priors)
        theta, error_values = position[:parameters], position[parameters:]
        missing = np.full(len(self.likelihood.figures), np.nan)
        if not math.isfinite(log_prior):
            return -math.inf, missing
        try:
            model, extra = self.model(theta)
        except ScenarioError:
            return -math.inf, missing
        log_likelihood = self.likelihood.log_likelihood(model, theta, error_values, extra)
        return log_prior + log_likelihood, model

    def __call__(self, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        positions = np.atleast_2d(positions)
        log_priors = self.log_prior(positions)
        if self.emulator is not None:
            return self._emulated(positions, log_priors)
        results = [self.one(position, log_prior) for position, log_prior in zip(positions, log_priors)]
        return np.array([r[0] for r in results]), np.array([r[1] for r in results])

    def _emulated(self, positions: np.ndarray, log_priors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every walker at once on the emulator: its quadratic, the offset and one batched likelihood."""
        parameters = len(self.priors)
        theta = positions[:, :parameters]
        offsets = self.likelihood.noise.offset_batch(theta)
        log_means = self.emulator(theta) + offsets
        log_posterior = np.full(len(positions), -np.inf)
        inside = np.isfinite(log_priors)
        if inside.any():
            log_posterior[inside] = log_priors[inside] + self.likelihood.log_likelihood_batch(
                log_means[inside], positions[inside, parameters:])
        return log_posterior, np.expm1(log_means - offsets)


def correction_points(samples: np.ndarray, count: int, rng: np.random.Generator, priors: Sequence[Prior],
                      inflate: float = 2.0) -> np.ndarray:
    """``count`` parameter sets where the simulation is run: rows of the screening posterior spread
    evenly over it (after a seeded shuffle), pushed ``inflate`` times further from its mean and
    kept inside the priors' ranges — the simulation's posterior is wider than the screen's (it
    adds the simulation's own randomness), so the region measured must be wider too."""
    order = rng.permutation(len(samples))
    chosen = samples[order[np.linspace(0, len(samples) - 1, count).round().astype(int)]]
    return spread_within_priors(samples.mean(axis=0), chosen, inflate, priors)


def moved(points: np.ndarray, samples: np.ndarray, shift_sds: float = 0.5, widening: float = 1.5) -> bool:
    """Whether the answer left the region where the simulation was measured: some parameter's
    posterior mean moved by more than ``shift_sds`` of the points' spread, or its sd grew by more
    than ``widening`` times (the offset, linear in θ, would then be extrapolated)."""
    spread = points.std(axis=0)
    spread[spread == 0] = np.inf
    shift = np.abs(samples.mean(axis=0) - points.mean(axis=0)) / spread
    return bool((shift > shift_sds).any() or (samples.std(axis=0) / spread > widening).any())


__all__ = ["FigureMap", "SimulatedFigures", "SurrogatePosterior", "correction_points", "moved"]
