"""The answering chains' proposal: a mixture of Student-t's in unconstrained coordinates.

An independence sampler (:mod:`sim.studies.inference.independence`) proposes every step from one
density *q*; it mixes well when *q* is close to the posterior π and has heavier tails. So *q* is a
mixture of multivariate Student-t's (ν = :data:`DEGREES_OF_FREEDOM`) fitted by weighted EM to draws
of (an approximation of) π, in coordinates where a posterior piled near a bound is still nearly
elliptical (:class:`Unconstrained`): one component for an elliptical posterior, several along a
curved ridge (hazard against ``never_leave``).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from sim.studies.priors import Prior

DEGREES_OF_FREEDOM = 5.0
MAX_COMPONENTS = 6
DRAWS_PER_COMPONENT = 10
"""Effective draws per dimension (plus one) that each mixture component needs."""


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


__all__ = ["DEGREES_OF_FREEDOM", "MixtureProposal", "Unconstrained"]
