"""Delays on the fluid path's hourly grid: a duration distribution as a kernel, and convolution.

The fluid path moves people in hourly bins. Mass in a bin is taken as spread evenly over the hour
(departures under a hazard or schedule that is constant within the hour are), so a delay ``D``
moves it from bin ``k`` to bin ``k + j`` with probability ``P(j <= U + D < j + 1)``, ``U`` uniform
on [0, 1). That is the kernel: its mean is ``E[D]`` exactly to the half hour, whatever the
distribution. It is estimated once from a large fixed sample of the scenario's own distribution
(the same ``sample`` the simulation draws from), so every distribution the format allows works,
and the result is deterministic.
"""
from __future__ import annotations

import functools

import numpy as np

KERNEL_SAMPLES = 100_000
"""Draws behind one kernel: each bin's probability to ~0.3 % of the largest, cumulative sums closer."""
_KERNEL_SEED = 20231003


@functools.lru_cache(maxsize=256)
def delay_kernel(distribution, scale: float = 1.0, at_hour_fraction: float | None = None) -> np.ndarray:
    """``kernel[j]`` = share of a bin's mass that the delay ``distribution / scale`` (hours) moves
    ``j`` bins later. ``None`` is no delay. ``at_hour_fraction``: the mass sits at that point of its
    bin (a camp's dispatch at 06:30 is 0.5) instead of being spread over it."""
    hours = np.zeros(KERNEL_SAMPLES)
    if distribution is not None:
        hours = np.asarray(distribution.sample(np.random.default_rng(_KERNEL_SEED), KERNEL_SAMPLES), float) / scale
    if at_hour_fraction is None:
        offsets = (np.arange(KERNEL_SAMPLES) + 0.5) / KERNEL_SAMPLES  # stratified over the bin
    else:
        offsets = np.full(KERNEL_SAMPLES, at_hour_fraction)
    kernel = kernel_of_samples(hours + offsets)
    kernel.flags.writeable = False  # cached: shared by every network that uses this distribution
    return kernel


def kernel_of_samples(hours: np.ndarray) -> np.ndarray:
    """The kernel of a sample of times after the start of the source bin, in hours."""
    shifted = np.floor(np.maximum(hours, 0.0)).astype(np.int64)
    kernel = np.bincount(shifted).astype(float)
    return kernel / kernel.sum()


def fft_size_for(n_bins: int, kernels: list[np.ndarray]) -> int:
    """A fast FFT length for flows of ``n_bins`` moved by any of ``kernels`` without wrap-around."""
    return _fft_size(n_bins + max((len(k) for k in kernels), default=1) - 1)


def spectra(kernels: list[np.ndarray], size: int) -> np.ndarray:
    """The kernels' spectra at FFT length ``size`` (rows in order; computed once per network)."""
    matrix = np.zeros((len(kernels), size))
    for row, kernel in enumerate(kernels):
        matrix[row, :len(kernel)] = kernel
    return np.fft.rfft(matrix, axis=-1)


def _fft_size(length: int) -> int:
    """A fast FFT length at least ``length`` (a product of 2, 3 and 5)."""
    best = 1
    while best < length:
        best *= 2
    for odd in (3, 5, 9, 15, 25, 45, 75, 225):
        candidate = odd
        while candidate < length:
            candidate *= 2
        best = min(best, candidate)
    return best
