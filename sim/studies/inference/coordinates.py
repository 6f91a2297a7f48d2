"""Unconstrained coordinates of a calibration's unknowns, for the answering chains' random walks.

The answering chains (:mod:`sim.studies.inference.blocked`) propose each step as a Gaussian random
walk. A walk in the unknowns' own units steps out of their supports (a share above 1, a negative
hazard or error scale) and cannot follow a posterior piled near a bound; in these coordinates
every point of the real line is a value inside the support, and such a posterior is nearly
elliptical. :class:`Unconstrained` maps each unknown by its prior's support:

* bounded (uniform, triangular, beta): the logit of its share of the interval;
* bounded, log-uniform prior: the logit of the share of its log (hazards spread over decades);
* bounded below only (lognormal, halfnormal, gamma): the log of its distance from the bound;
* unbounded (normal): itself.

:meth:`Unconstrained.inverse` also returns log |dx/dz|, the Jacobian a Metropolis–Hastings step in
these coordinates adds to the log posterior.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.studies.priors import Prior


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


__all__ = ["Unconstrained"]
