"""Small statistics over replications: quantiles that keep +inf, t and Wilson intervals.

A run is a sample of independent replications, so every figure a planner reads is an estimate:
a mean comes with a Student-t interval, a probability (P(target reached), the share of a verdict)
with a Wilson score interval, and a spread with quantiles across replications.

A replication that never reaches the target within the period has a reach time of ``+inf``. It is
never dropped: dropping it would make the target look reachable sooner than it is. Quantiles are
computed with the values sorted and ``+inf`` at the top, so a median is ``inf`` ("not within the
period") exactly when at least half of the replications never reach the target.

scipy is imported inside the functions that need it: workers import this package at start-up and
``scipy.stats`` costs a few tenths of a second.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

DEFAULT_PROBABILITIES: tuple[float, ...] = (0.05, 0.5, 0.95)
"""The p05, p50 and p95 bands every table reports."""


def _two_sided_z(confidence: float) -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + confidence / 2.0))


def wilson_interval(successes: float, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion ``successes / n``.

    Unlike the normal ("Wald") interval it stays inside [0, 1] and does not collapse to a point
    when no replication (or every replication) reaches the target: with 0 of 20 reaching it the
    interval is [0, 0.16], an honest "rare, but not shown impossible".

    Returns ``(nan, nan)`` when ``n`` is 0.
    """
    if n <= 0:
        return (math.nan, math.nan)
    if not 0 <= successes <= n:
        raise ValueError(f"successes must lie in [0, n]; got {successes} of {n}")
    z = _two_sided_z(confidence)
    p = successes / n
    z2_over_n = z * z / n
    centre = (p + z2_over_n / 2.0) / (1.0 + z2_over_n)
    half_width = z / (1.0 + z2_over_n) * math.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n))
    # Clip the rounding noise at the ends (p = 0 or 1 gives exactly 0 / 1 in exact arithmetic).
    return (max(0.0, centre - half_width), min(1.0, centre + half_width))


def t_interval(values: Iterable[float], confidence: float = 0.95) -> tuple[float, float]:
    """Student-t confidence interval for the mean of independent replication values.

    ``mean ± t(1 - α/2, n - 1) · s / √n`` with ``s`` the sample standard deviation. With fewer than
    two replications there is no estimate of spread, and with an infinite value there is no finite
    mean: both give ``(nan, nan)`` rather than a misleadingly narrow interval.
    """
    array = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    n = array.size
    if n < 2 or not np.all(np.isfinite(array)):
        return (math.nan, math.nan)
    from scipy.stats import t as student_t

    mean = float(array.mean())
    standard_error = float(array.std(ddof=1)) / math.sqrt(n)
    critical = float(student_t.ppf(0.5 + confidence / 2.0, n - 1))
    return (mean - critical * standard_error, mean + critical * standard_error)


def finite_mean(values: Iterable[float]) -> float:
    """The mean, or ``nan`` when empty or when any value is infinite (no finite mean exists)."""
    array = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float)
    if array.size == 0 or not np.all(np.isfinite(array)):
        return math.nan
    return float(array.mean())


def quantiles_with_infinity(
    values: Iterable[float], probabilities: Sequence[float] = DEFAULT_PROBABILITIES
) -> list[float]:
    """Quantiles with numpy's ``linear`` method, keeping ``+inf`` values in the sample.

    For finite samples the result equals ``numpy.quantile(values, p)``. With infinite values
    numpy's interpolation can return ``nan`` (``inf · 0``); here a quantile that falls exactly on a
    finite order statistic is that value, and one that interpolates towards ``+inf`` is ``+inf``.
    So with 10 replications of which 3 never reach the target, p50 is finite and p95 is ``inf``.
    NaN values are an error: a missing value is not "never".
    """
    ordered = np.sort(np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float))
    if np.isnan(ordered).any():
        raise ValueError("quantiles_with_infinity: values contain NaN")
    n = ordered.size
    if n == 0:
        return [math.nan for _ in probabilities]
    if np.isfinite(ordered).all():
        return [float(value) for value in np.quantile(ordered, list(probabilities), method="linear")]
    result: list[float] = []
    for probability in probabilities:
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must lie in [0, 1]; got {probability}")
        position = probability * (n - 1)
        lower_index = math.floor(position)
        upper_index = min(lower_index + 1, n - 1)
        fraction = position - lower_index
        lower, upper = float(ordered[lower_index]), float(ordered[upper_index])
        if fraction == 0.0 or lower == upper:
            result.append(lower)
        elif math.isinf(upper) or math.isinf(lower):
            # Any positive weight on +inf (or a -inf lower end) makes the interpolation infinite.
            result.append(upper if math.isinf(upper) else lower)
        else:
            # Same arithmetic as numpy's linear method so finite results match it bit for bit.
            result.append(float(np.quantile(ordered[lower_index : upper_index + 1], fraction)))
    return result
