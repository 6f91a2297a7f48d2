"""A polynomial emulator of the fluid path's figures near the posterior, checked before it is trusted.

A converged chain (R-hat ≤ 1.01 and ESS ≥ 400 with walkers as chains) takes 10⁴–10⁵ evaluations;
even the fluid path (2–20 ms) then costs minutes per fit, and simulation-based calibration needs a
hundred fits. Near the posterior, log(1 + figure) is a smooth function of a few parameters, so a
quadratic in θ fitted to a few hundred fluid paths reproduces it to a small fraction of the figures'
noise, in microseconds (a cubic where the parameters are few). It is used only where it is shown
to be that good:

* fitted on fluid paths at points spread ``SPREAD`` times wider than the screening posterior (the
  answer is wider than the screen: it adds the simulation's randomness);
* checked on as many held-out points spread ``CHECK_SPREAD`` times: the largest error on any figure must stay below
  ``TOLERANCE`` of that figure's noise sd (the simulation's spread and the reporter's error);
* checked again on draws of the answer itself, by the caller; where either check fails, the chain
  runs on the fluid path directly.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from sim.studies.priors import Prior

SPREAD = 2.5
"""How much wider than the screening posterior the fitting points spread."""
CHECK_SPREAD = 1.5
"""How much wider the held-out points spread: where the answer lives, with a margin."""
TOLERANCE = 0.2
"""The largest emulator error allowed, as a share of a figure's noise sd (a shift of a fifth of
one sd on the worst figure moves a posterior far less than its own width)."""
POINTS_PER_COEFFICIENT = 3
MIN_POINTS = 60
CUBIC_COEFFICIENTS = 60
MAX_PARAMETERS = 12
"""Above this a full quadratic needs too many fluid paths to fit (91 coefficients already)."""


def _monomials(parameters: int, degree: int) -> list[tuple[int, ...]]:
    """Every product of at most ``degree`` standardized parameters, as index tuples (i ≤ j ≤ k)."""
    from itertools import combinations_with_replacement

    return [combo for order in range(degree + 1) for combo in combinations_with_replacement(range(parameters), order)]


def _features(theta: np.ndarray, degree: int) -> np.ndarray:
    """The monomials of :func:`_monomials` at every row of standardized θ."""
    columns = [np.prod(theta[:, list(combo)], axis=1) if combo else np.ones(len(theta))
               for combo in _monomials(theta.shape[1], degree)]
    return np.column_stack(columns)


def degree_for(parameters: int) -> int:
    """Cubic while it has few coefficients (a fluid path's log counts bend more than a quadratic
    follows over a wide posterior), quadratic beyond."""
    return 3 if len(_monomials(parameters, 3)) <= CUBIC_COEFFICIENTS else 2


def coefficients(parameters: int) -> int:
    return len(_monomials(parameters, degree_for(parameters)))


@dataclass
class PolynomialEmulator:
    """log(1 + figures) ≈ a polynomial (cubic or quadratic) in standardized θ, least squares."""

    center: np.ndarray
    scale: np.ndarray
    weights: np.ndarray  # coefficients × figures
    degree: int

    @classmethod
    def fit(cls, theta: np.ndarray, log_values: np.ndarray) -> PolynomialEmulator:
        center = theta.mean(axis=0)
        scale = theta.std(axis=0)
        scale[scale == 0] = 1.0
        degree = degree_for(theta.shape[1])
        features = _features((theta - center) / scale, degree)
        weights, *_ = np.linalg.lstsq(features, log_values, rcond=None)
        return cls(center, scale, weights, degree)

    def __call__(self, theta: np.ndarray) -> np.ndarray:
        """log(1 + figures) at one θ (a vector) or at every row of a matrix."""
        single = np.ndim(theta) == 1
        rows = np.atleast_2d(theta)
        values = _features((rows - self.center) / self.scale, self.degree) @ self.weights
        return values[0] if single else values

    def worst_error(self, theta: np.ndarray, log_values: np.ndarray, noise_sd: np.ndarray) -> float:
        """The largest |emulator − fluid| over these points and figures, in units of each figure's noise sd."""
        return float(np.max(np.abs(self(theta) - log_values) / noise_sd))


def design_points(samples: np.ndarray, count: int, rng: np.random.Generator, priors: Sequence[Prior],
                  spread: float = SPREAD) -> np.ndarray:
    """``count`` points around a posterior sample: its mean plus ``spread`` times its spread along
    random draws of it (so the emulator covers where a wider answer may go), inside the priors."""
    return spread_within_priors(samples.mean(axis=0), samples[rng.integers(0, len(samples), count)], spread, priors)


def spread_within_priors(center: np.ndarray, chosen: np.ndarray, spread: float, priors: Sequence[Prior]) -> np.ndarray:
    """``chosen`` points pushed ``spread`` times further from ``center``, kept inside the priors' ranges."""
    ranges = np.array([prior.range() for prior in priors])
    margin = 1e-6 * (ranges[:, 1] - ranges[:, 0])
    return np.clip(center + spread * (chosen - center), ranges[:, 0] + margin, ranges[:, 1] - margin)


def build_emulator(fluid_log: Callable[[np.ndarray], np.ndarray], samples: np.ndarray, priors: Sequence[Prior],
                   noise_sd: np.ndarray, rng: np.random.Generator) -> tuple[PolynomialEmulator | None, float, int]:
    """(emulator or None, its worst held-out error in noise sds, fluid paths spent). ``fluid_log(θ)``
    gives log(1 + figures) on the fluid path."""
    parameters = samples.shape[1]
    if parameters > MAX_PARAMETERS:
        return None, float("inf"), 0
    count = max(MIN_POINTS, POINTS_PER_COEFFICIENT * coefficients(parameters))
    train = design_points(samples, count, rng, priors)
    held_out = design_points(samples, count, rng, priors, CHECK_SPREAD)
    train_values = np.array([fluid_log(point) for point in train])
    held_values = np.array([fluid_log(point) for point in held_out])
    emulator = PolynomialEmulator.fit(train, train_values)
    error = emulator.worst_error(held_out, held_values, noise_sd)
    return (emulator if error <= TOLERANCE else None), error, 2 * count


__all__ = [
    "MAX_PARAMETERS",
    "SPREAD",
    "TOLERANCE",
    "PolynomialEmulator",
    "build_emulator",
    "coefficients",
    "design_points",
    "spread_within_priors",
]
