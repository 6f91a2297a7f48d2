"""How the simulation departs from its surrogate, measured from replications near the posterior.

The fluid path is the simulation without household randomness; the simulation's *mean* still
differs from it a little (queues that bind in some replications and not others, whole households,
days cut at midnight), and each replication scatters around that mean along a correlated path.
Both are measured here from K replications of the simulation, each at its own parameter values
θ_k (draws of a first, surrogate-only posterior) and with its own households (replication k):

    r_k = log(1 + sim_k) − log(1 + fluid(θ_k)) = a + B (θ_k − θ̄) + ε_k

* ``a + B (θ − θ̄)``: the mean departure, least squares over the K replications (θ standardized,
  a small ridge so that K of the order of the figures still gives a stable fit);
* ``Σ_sim``: the covariance of the residuals ε_k (degrees of freedom K − p − 1), shrunk toward its
  diagonal by n / (n + K) (n figures) so that it stays well conditioned when K is not ≫ n, and
  inflated by (1 + (p + 1) / K) for the uncertainty of the fitted mean itself.

With K replications this costs K simulation runs, whatever the length of the MCMC that follows:
the expensive model is run where the posterior is, not at every step.
"""
from __future__ import annotations

import numpy as np

from sim.studies.inference.likelihood import SimulatorNoise

RIDGE = 1e-3


def measure_noise(theta: np.ndarray, simulated_log: np.ndarray, surrogate_log: np.ndarray) -> SimulatorNoise:
    """:class:`SimulatorNoise` from K rows of θ (K × p), log(1 + simulated figures) and
    log(1 + surrogate figures) (both K × n)."""
    theta = np.atleast_2d(np.asarray(theta, float))
    residual = np.asarray(simulated_log, float) - np.asarray(surrogate_log, float)
    replications, figures = residual.shape
    parameters = theta.shape[1]
    center = theta.mean(axis=0)
    scale = theta.std(axis=0)
    scale[scale == 0] = 1.0
    design = np.column_stack([np.ones(replications), (theta - center) / scale])
    penalty = RIDGE * replications * np.diag([0.0] + [1.0] * parameters)
    coefficients = np.linalg.solve(design.T @ design + penalty, design.T @ residual)  # (p+1) × n
    errors = residual - design @ coefficients
    dof = max(replications - parameters - 1, 1)
    sample = errors.T @ errors / dof
    shrink = figures / (figures + replications)
    covariance = (1 - shrink) * sample + shrink * np.diag(np.diag(sample))
    covariance *= 1.0 + (parameters + 1) / replications
    return SimulatorNoise(intercept=coefficients[0], slope=(coefficients[1:] / scale[:, None]).T, center=center,
                          covariance=covariance)


__all__ = ["measure_noise"]
