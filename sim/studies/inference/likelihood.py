"""The likelihood of observed figures given a model path: right about the simulator's randomness.

A figure *y* (people: a running total, a day's count, a period's count) measures a model quantity
*m(θ)* of one replication. Two kinds of randomness separate them, and both are correlated:

* **the simulation's own** (which households leave, when, and where they queue): a replication's
  path deviates from the mean path μ(θ) by an amount that *accumulates* along it, so its errors on
  successive cumulative figures are strongly correlated (and those of two series that count the
  same crossings too). In log units, ``log(1 + m) = log(1 + μ(θ)) + d(θ) + ε``, ``ε ~ N(0, Σ_sim)``:
  ``μ`` is the cheap surrogate's path (the fluid path), ``d`` the simulation's mean departure from
  it and ``Σ_sim`` the covariance of replications around their mean, both measured by
  :mod:`sim.studies.inference.discrepancy` from replications of the simulation itself.
* **the reporter's**: ``log(1 + y) = log(1 + m) + e``, ``e ~ N(0, σ_s² R_s)`` per series *s*, with a
  fitted scale σ_s and, for running totals, a fitted correlation between the errors of successive
  figures: ``R_s[i, j] = ρ_s ^ (|t_i − t_j| / 7 days)`` (one reporter who undercounts a week
  undercounts the totals after it too). Independent errors on running totals overstate what they
  show (King et al. 2015, *Avoidable errors in the modelling of outbreaks of emerging pathogens*).

So ``log(1 + y) ~ N(log(1 + μ) + d, Σ_sim + V + blockdiag(σ_s² R_s))`` jointly over every
figure. ``V`` is what an **uncertain start of counting** adds: the people crossed between the
possible starts, one unknown count ``D`` (variance ``v``, people²) missing from *every* figure of a
series that shares the start, so ``V[i, j] = v / ((1 + m_i)(1 + m_j))`` within such a group (fully
correlated: a reporter's bias in people, learned from all its figures at once) and 0 across. A
figure that is only a **lower bound** ("more than 632,000") contributes P(Y ≥ y) under its marginal.

The unknowns the sampler sees: the model parameters θ, then σ_s for every series, then ρ_s for
every series with running totals (``ErrorTerms`` says which), each with its prior.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.special import log_ndtr

from sim.studies.priors import Prior

DEFAULT_SIGMA_PRIOR = "halfnormal(0.2)"
DEFAULT_RHO_PRIOR = "beta(1, 4)"
"""Correlation of one reporter's errors a week apart on running totals: mostly small (mean 0.2),
up to ~0.7 plausible; the figures decide. 0 is independent errors."""
CORRELATION_DAYS = 7.0
SCALE, CORRELATION = "error_scale.", "error_correlation."
_LOG_2PI = math.log(2 * math.pi)


@dataclass(frozen=True)
class Figures:
    """Every observed figure of a fit, flattened series after series, with what the likelihood needs."""

    series_names: tuple[str, ...]
    series_index: np.ndarray  # figure → index of its series
    log_observed: np.ndarray  # log(1 + y)
    day_number: np.ndarray  # figure date as days since the period start
    running_total: np.ndarray  # bool: a cumulative figure (reporter errors correlated over dates)
    lower_bound: np.ndarray  # bool: a censored figure ("more than y")
    start_group: np.ndarray  # figures counted from the same uncertain start share an id (−1: a known start)

    @classmethod
    def of(cls, series: Sequence, period_start) -> Figures:
        def flag(s, name: str, default: bool) -> np.ndarray:
            value = getattr(s, name, None)
            if value is None or callable(value):
                return np.full(len(s.dates), default)
            return np.asarray(value, bool)

        return cls(
            series_names=tuple(s.name for s in series),
            series_index=np.concatenate([np.full(len(s.dates), i) for i, s in enumerate(series)]),
            log_observed=np.log1p(np.concatenate([np.asarray(s.values, float) for s in series])),
            day_number=np.concatenate([[(day - period_start).days for day in s.dates] for s in series]).astype(float),
            running_total=np.concatenate([flag(s, "cumulative", s.kind == "cumulative") for s in series]),
            lower_bound=np.concatenate([flag(s, "lower_bound", False) for s in series]),
            start_group=start_groups(series),
        )

    def start_members(self) -> list[np.ndarray]:
        """Per uncertain start: the indices of the figures counted from it."""
        return [np.flatnonzero(self.start_group == group) for group in np.unique(self.start_group[self.start_group >= 0])]

    def __len__(self) -> int:
        return self.log_observed.size


def start_groups(series: Sequence) -> np.ndarray:
    """Per figure (series after series): an id shared by the figures of one series counted from the
    same uncertain start (the same window), −1 where the start is known."""
    ids: dict = {}
    groups = []
    for index, s in enumerate(series):
        for window in getattr(s, "windows", None) or (None,) * len(s.dates):
            groups.append(-1 if window is None else ids.setdefault((index, window), len(ids)))
    return np.array(groups, int)


@dataclass
class ErrorTerms:
    """The reporter-error unknowns: a scale σ per series and a correlation ρ per series of running totals."""

    sigma_priors: list[Prior]
    rho_priors: list[Prior]
    rho_series: list[int]  # index of the series each ρ belongs to

    @classmethod
    def default(cls, figures: Figures, priors: Mapping[str, Prior] | None = None,
                independent: bool = False) -> ErrorTerms:
        """The error terms of these figures, with ``priors`` by name (``error_scale.SERIES``,
        ``error_correlation.SERIES``) or the defaults. Raises ValueError for a prior of an error
        term these figures do not have."""
        priors = dict(priors or {})
        sigmas, rhos, rho_series = [], [], []
        for index, name in enumerate(figures.series_names):
            sigmas.append(priors.pop(SCALE + name, None) or Prior.from_text(SCALE + name, DEFAULT_SIGMA_PRIOR))
            mine = figures.series_index == index
            if not independent and np.count_nonzero(mine & figures.running_total) >= 3:
                rhos.append(priors.pop(CORRELATION + name, None) or Prior.from_text(CORRELATION + name,
                                                                                    DEFAULT_RHO_PRIOR))
                rho_series.append(index)
        if priors:
            raise ValueError(f"--prior {next(iter(priors))}: no such error term (error_scale.SERIES for every series; "
                             "error_correlation.SERIES for a series with 3 or more running totals)")
        for prior in sigmas + rhos:
            low, high = prior.range()
            if low < 0 or (prior in rhos and high > 1):
                raise ValueError(f"--prior {prior.key}={prior.describe()}: an error "
                                 f"{'correlation lies in [0, 1]' if prior in rhos else 'scale cannot be negative'}")
        return cls(sigmas, rhos, rho_series)

    @property
    def names(self) -> list[str]:
        return [prior.key for prior in self.priors]

    @property
    def priors(self) -> list[Prior]:
        return self.sigma_priors + self.rho_priors

    def __len__(self) -> int:
        return len(self.sigma_priors) + len(self.rho_priors)


@dataclass
class SimulatorNoise:
    """What replications of the simulation say about it near the posterior: the mean departure
    ``offset`` of the simulation from the surrogate (a linear function of θ, log units per figure)
    and the covariance of replications around their mean, ``covariance`` (log units²)."""

    intercept: np.ndarray  # figures
    slope: np.ndarray  # figures × parameters
    center: np.ndarray  # parameters: the slope applies to θ − center
    covariance: np.ndarray  # figures × figures

    @classmethod
    def none(cls, figures: int, parameters: int) -> SimulatorNoise:
        return cls(np.zeros(figures), np.zeros((figures, parameters)), np.zeros(parameters),
                   np.zeros((figures, figures)))

    def offset(self, theta: np.ndarray) -> np.ndarray:
        return self.intercept + self.slope @ (np.asarray(theta, float) - self.center)

    def offset_batch(self, theta: np.ndarray) -> np.ndarray:
        """:meth:`offset` at every row of θ (walkers × parameters)."""
        return self.intercept + (np.asarray(theta, float) - self.center) @ self.slope.T


@dataclass
class Likelihood:
    """log p(figures | surrogate path, θ, error terms): see the module doc."""

    figures: Figures
    errors: ErrorTerms
    noise: SimulatorNoise
    _blocks: list = field(init=False, repr=False)  # per ρ: (flat indices of its block, lags in weeks)
    _identity: np.ndarray = field(init=False, repr=False)
    _starts: list = field(init=False, repr=False)  # per uncertain start: its figures

    def __post_init__(self) -> None:
        figures = self.figures
        n = len(figures)
        self._starts = figures.start_members()
        lag = np.abs(figures.day_number[:, None] - figures.day_number[None, :]) / CORRELATION_DAYS
        self._blocks = []
        for index in self.errors.rho_series:
            mine = np.flatnonzero((figures.series_index == index) & figures.running_total)
            flat = (mine[:, None] * n + mine[None, :]).ravel()
            self._blocks.append((flat, lag.ravel()[flat]))
        self._identity = np.eye(n)
        self._exact = np.flatnonzero(~figures.lower_bound)
        self._bounds = np.flatnonzero(figures.lower_bound)

    def mean(self, model: np.ndarray, theta: np.ndarray) -> np.ndarray:
        """Expected log(1 + figure) of the simulation at θ, from the surrogate's model values."""
        return np.log1p(np.maximum(np.asarray(model, float), 0.0)) + self.noise.offset(theta)

    def covariance(self, error_values: np.ndarray, extra_variance: np.ndarray | None = None,
                   model: np.ndarray | None = None) -> np.ndarray:
        """Σ_sim + V (the uncertain starts') + the reporters' blocks, for one set of error-term values."""
        sigma = np.asarray(error_values[:len(self.errors.sigma_priors)], float)[self.figures.series_index]
        correlation = self._identity.copy()
        flat_view = correlation.ravel()
        for rho, (flat, lags) in zip(error_values[len(self.errors.sigma_priors):], self._blocks):
            flat_view[flat] = np.power(max(float(rho), 0.0), lags)
        total = self.noise.covariance + correlation * np.outer(sigma, sigma)
        if extra_variance is not None and model is not None:
            self._add_starts(total[None], self.extra_diagonal(model, extra_variance)[None])
        return total

    def log_likelihood(self, model: np.ndarray, theta: np.ndarray, error_values: np.ndarray,
                       extra_variance: np.ndarray | None = None) -> float:
        return self._from_mean(self.mean(model, theta), self.covariance(error_values, extra_variance, model))

    def log_likelihood_batch(self, log_means: np.ndarray, error_values: np.ndarray,
                             extra_diagonal: np.ndarray | None = None) -> np.ndarray:
        """:meth:`log_likelihood` of many walkers at once: expected log(1 + figures) per walker
        (walkers × figures, the offset included), their error terms (walkers × terms) and the extra
        variance figures declare, in log units² (walkers × figures; none if None). One batched
        Cholesky instead of a Python loop: the answering chain's cost."""
        walkers, n = log_means.shape
        scales = len(self.errors.sigma_priors)
        sigma = error_values[:, :scales][:, self.figures.series_index]  # walkers × figures
        correlation = np.broadcast_to(self._identity, (walkers, n, n)).copy()
        flat_view = correlation.reshape(walkers, n * n)
        for column, (flat, lags) in enumerate(self._blocks):
            rho = np.maximum(error_values[:, scales + column], 0.0)
            flat_view[:, flat] = np.power(rho[:, None], lags[None, :])
        cov = self.noise.covariance + correlation * sigma[:, :, None] * sigma[:, None, :]
        if extra_diagonal is not None:
            self._add_starts(cov, extra_diagonal)
        return self._density(log_means, cov)

    def _add_starts(self, cov: np.ndarray, extra_diagonal: np.ndarray) -> None:
        """Add V to every walker's covariance (walkers × figures × figures), in place: per uncertain
        start, the outer product of its figures' ``sqrt(extra)`` — one count missing from them all."""
        root = np.sqrt(np.maximum(extra_diagonal, 0.0))
        for members in self._starts:
            part = root[:, members]
            cov[:, members[:, None], members[None, :]] += part[:, :, None] * part[:, None, :]

    def extra_diagonal(self, model: np.ndarray, extra_variance: np.ndarray | None) -> np.ndarray:
        """The extra variance figures declare (people²), in log units² at the model's values."""
        if extra_variance is None:
            return np.zeros(len(self.figures))
        return np.asarray(extra_variance, float) / (1.0 + np.maximum(model, 0.0)) ** 2

    def _from_mean(self, mean: np.ndarray, cov: np.ndarray) -> float:
        return float(self._density(mean[None, :], cov[None, :, :])[0])

    def _density(self, log_means: np.ndarray, cov: np.ndarray) -> np.ndarray:
        """The log density of the figures for every walker, given their expected log values
        (walkers × figures) and covariances (walkers × figures × figures): the exact figures jointly,
        each lower bound by its marginal; −∞ for a walker whose covariance is not positive definite."""
        exact, bounds = self._exact, self._bounds
        total = np.zeros(len(log_means))
        if exact.size:
            residual = self.figures.log_observed[exact] - log_means[:, exact]
            part = cov[:, exact[:, None], exact[None, :]] if bounds.size else cov
            try:
                lower = np.linalg.cholesky(part)
            except np.linalg.LinAlgError:  # some walker's covariance is not positive definite
                if len(log_means) == 1:
                    return np.array([-math.inf])
                return np.concatenate([self._density(log_means[w:w + 1], cov[w:w + 1]) for w in range(len(log_means))])
            whitened = np.linalg.solve(lower, residual[:, :, None])[:, :, 0]
            log_det = 2.0 * np.log(np.diagonal(lower, axis1=1, axis2=2)).sum(axis=1)
            total += -0.5 * (exact.size * _LOG_2PI + log_det + (whitened ** 2).sum(axis=1))
        if bounds.size:  # P(Y >= y) under each bound's marginal
            sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2)[:, bounds])
            total += log_ndtr((log_means[:, bounds] - self.figures.log_observed[bounds]) / sd).sum(axis=1)
        return total

    def simulate(self, model: np.ndarray, theta: np.ndarray, error_values: np.ndarray,
                 rng: np.random.Generator, extra_variance: np.ndarray | None = None) -> np.ndarray:
        """A draw of every figure (people) given the surrogate's path: the posterior-predictive and
        SBC's forward model. Lower bounds are drawn as the value they bound."""
        cov = self.covariance(error_values, extra_variance, model)
        draw = rng.multivariate_normal(self.mean(model, theta), cov, method="cholesky")
        return np.expm1(draw)


__all__ = [
    "CORRELATION",
    "CORRELATION_DAYS",
    "DEFAULT_RHO_PRIOR",
    "DEFAULT_SIGMA_PRIOR",
    "SCALE",
    "ErrorTerms",
    "Figures",
    "Likelihood",
    "SimulatorNoise",
]
