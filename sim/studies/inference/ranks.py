"""The statistics of simulation-based calibration (Talts, Betancourt, Simpson, Vehtari & Gelman
2018, *Validating Bayesian inference algorithms with simulation-based calibration*).

If a truth θ is drawn from the prior, data are simulated at θ, and the posterior given those data
is computed correctly, then θ is just one more draw from that posterior. Its **rank** among L
independent posterior draws (how many draws lie below it) is then uniform on 0..L, and every
central credible interval contains it at its nominal rate. Over N data sets:

* a **rank histogram** that is flat (within the binomial band of each bin) says the posterior is
  right; a ∪ shape (truths piling up at the ends) says it is too narrow — overconfident; a ∩
  shape says too wide; a slope says biased;
* the **coverage** of the 50 % and 90 % intervals (share of data sets whose truth fell inside)
  should be 0.5 and 0.9, within its binomial 95 % interval;
* a **chi-square test** of the binned ranks against equal counts gives a p-value for uniformity.

The L draws must be close to independent: MCMC draws next to each other are correlated, and the
rank of a truth among correlated draws piles up at the ends even for a correct posterior. Hence
:func:`thinned` spreads the L draws evenly over the whole sample (all walkers, all kept steps).
"""
from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd

DEFAULT_DRAWS = 99
"""L: ranks run 0..99, 100 possible values (divisible into 20, 10, 5, 4 or 2 equal bins)."""
LEVELS = (0.5, 0.9)
UNIFORM_P_THRESHOLD = 0.01
BAND = 0.99
"""The rank histogram's band: 99 % of bins of a correct posterior fall inside it."""


def thinned(values: np.ndarray, draws: int, weights: np.ndarray | None = None) -> np.ndarray:
    """``draws`` values spread evenly over ``values`` (every ``len/draws``-th): far-apart MCMC
    draws, close to independent. Raises ValueError when there are fewer values than draws.

    With unequal ``weights`` (a weighted sample, e.g. from nested sampling or importance
    sampling), systematic resampling in sample order: the draw at each of ``draws`` evenly spaced
    points of the cumulative weight."""
    values = np.asarray(values, float)
    if len(values) < draws:
        raise ValueError(f"the posterior has {len(values)} samples, fewer than the {draws} draws to rank "
                         "among: run more steps or rank among fewer draws")
    if not _weighted(weights, len(values)):
        return values[(np.arange(draws) * len(values)) // draws]
    cumulative = np.cumsum(weights) / np.sum(weights)
    points = (np.arange(draws) + 0.5) / draws
    return values[np.minimum(np.searchsorted(cumulative, points), len(values) - 1)]


def _weighted(weights: np.ndarray | None, count: int) -> bool:
    """Whether ``weights`` make a difference (None or all equal: they do not)."""
    if weights is None:
        return False
    weights = np.asarray(weights, float)
    if weights.shape != (count,) or not np.all(np.isfinite(weights)) or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError("sample weights must be one finite number >= 0 per sample, not all 0")
    return bool(np.ptp(weights) > 0)


def quantiles(samples: np.ndarray, levels: Sequence[float], weights: np.ndarray | None = None) -> np.ndarray:
    """Quantiles of a sample, weighted if ``weights`` differ (the inverse of the weighted empirical
    distribution function at each level)."""
    samples = np.asarray(samples, float)
    if not _weighted(weights, len(samples)):
        return np.quantile(samples, levels)
    order = np.argsort(samples, kind="stable")
    cumulative = np.cumsum(np.asarray(weights, float)[order]) / np.sum(weights)
    index = np.minimum(np.searchsorted(cumulative, np.asarray(levels, float)), len(samples) - 1)
    return samples[order][index]


def rank(truth: float, draws: np.ndarray, rng: np.random.Generator) -> int:
    """How many ``draws`` lie below ``truth`` (0..len(draws)); ties split at random so that a
    parameter with repeated values (an integer) still has uniform ranks."""
    draws = np.asarray(draws, float)
    below = int(np.sum(draws < truth))
    ties = int(np.sum(draws == truth))
    return below + (int(rng.integers(0, ties + 1)) if ties else 0)


def inside(truth: float, samples: np.ndarray, level: float, weights: np.ndarray | None = None) -> bool:
    """Whether ``truth`` lies in the central ``level`` interval of ``samples``."""
    low, high = quantiles(samples, [(1 - level) / 2, (1 + level) / 2], weights)
    return bool(low <= truth <= high)


def binomial_interval(successes: int, trials: int, confidence: float = 0.95) -> tuple[float, float]:
    """Clopper–Pearson (exact) interval for a proportion: never narrower than it should be."""
    from scipy.stats import beta

    if trials == 0:
        return math.nan, math.nan
    tail = (1 - confidence) / 2
    low = 0.0 if successes == 0 else float(beta.ppf(tail, successes, trials - successes + 1))
    high = 1.0 if successes == trials else float(beta.ppf(1 - tail, successes + 1, trials - successes))
    return low, high


def coverage_table(ranks: pd.DataFrame) -> pd.DataFrame:
    """Per parameter (from ``ranks.csv`` rows): data sets, coverage of the 50 % and 90 % intervals
    with their binomial 95 % intervals, and whether the nominal level lies inside that interval."""
    rows = []
    for parameter, group in ranks.groupby("parameter", sort=False):
        row: dict = {"parameter": parameter, "datasets": len(group)}
        for level in LEVELS:
            name = f"coverage_{round(level * 100)}"
            hits = int(group[f"inside_{round(level * 100)}"].astype(bool).sum())
            low, high = binomial_interval(hits, len(group))
            row.update({name: hits / len(group), f"{name}_ci95_low": low, f"{name}_ci95_high": high,
                        f"{name}_nominal_inside": bool(low <= level <= high)})
        rows.append(row)
    return pd.DataFrame(rows)


def default_bins(datasets: int, draws: int, most: int = 20, per_bin: int = 5) -> int:
    """The most bins (at most ``most``) that split the ``draws + 1`` rank values equally and expect
    at least ``per_bin`` data sets each (the chi-square approximation's rule of thumb); at least 2."""
    divisors = [b for b in range(2, most + 1) if (draws + 1) % b == 0]
    fitting = [b for b in divisors if datasets / b >= per_bin]
    return max(fitting) if fitting else (min(divisors) if divisors else 1)


def bin_counts(ranks: Sequence[int], draws: int, bins: int) -> np.ndarray:
    """Data sets per bin of equal width over the rank values 0..draws."""
    ranks = np.asarray(ranks, int)
    return np.bincount((ranks * bins) // (draws + 1), minlength=bins)


def chi_square(counts: np.ndarray) -> tuple[float, float]:
    """Pearson's statistic against equal expected counts and its p-value (df = bins − 1)."""
    from scipy.stats import chi2

    counts = np.asarray(counts, float)
    expected = counts.sum() / len(counts)
    if len(counts) < 2 or expected == 0:
        return math.nan, math.nan
    statistic = float(((counts - expected) ** 2 / expected).sum())
    return statistic, float(chi2.sf(statistic, len(counts) - 1))


def at_ends(ranks: Sequence[int], draws: int) -> tuple[int, float, float]:
    """Truths beyond every posterior draw (rank 0 or ``draws``): how many, how many a correct
    posterior leaves (2 / (draws + 1) of the data sets), and the p-value of so many or more
    (binomial upper tail). The mark of intervals that are too narrow, seen with a few data sets
    already, where the chi-square over a handful of wide bins cannot see a ∪."""
    from scipy.stats import binom

    ranks = np.asarray(ranks, int)
    count = int(np.sum((ranks == 0) | (ranks == draws)))
    share = 2 / (draws + 1)
    return count, len(ranks) * share, float(binom.sf(count - 1, len(ranks), share))


def uniformity_table(ranks: pd.DataFrame, draws: int, bins: int | None = None) -> pd.DataFrame:
    """Per parameter: the chi-square test of its binned ranks (``p_value``) and the test of its
    truths beyond every draw (``at_ends_p_value``, :func:`at_ends`); ``uniform`` when both pass
    (the smaller p-value times 2 above 0.01). Then a ``combined`` row whose p-value is the smallest
    of all times their number (Bonferroni: valid however the parameters' ranks depend on each other,
    as they do within one data set)."""
    rows = []
    for parameter, group in ranks.groupby("parameter", sort=False):
        count = bins or default_bins(len(group), draws)
        statistic, p_value = chi_square(bin_counts(group["rank"], draws, count))
        ends, expected, ends_p_value = at_ends(group["rank"], draws)
        rows.append({"parameter": parameter, "datasets": len(group), "bins": count, "chi_square": statistic,
                     "df": count - 1, "p_value": p_value, "at_ends": ends, "at_ends_expected": expected,
                     "at_ends_p_value": ends_p_value,
                     "uniform": bool(_bonferroni([p_value, ends_p_value]) > UNIFORM_P_THRESHOLD)})
    combined = _bonferroni([row[key] for row in rows for key in ("p_value", "at_ends_p_value")])
    rows.append({"parameter": "combined", "datasets": int(ranks["dataset"].nunique()), "bins": math.nan,
                 "chi_square": math.nan, "df": math.nan, "p_value": combined, "at_ends": math.nan,
                 "at_ends_expected": math.nan, "at_ends_p_value": math.nan,
                 "uniform": bool(combined > UNIFORM_P_THRESHOLD)})
    return pd.DataFrame(rows)


def _bonferroni(p_values: Sequence[float]) -> float:
    """The smallest p-value times their number (at most 1); NaN ones (too few data) left out."""
    finite = [p for p in p_values if math.isfinite(p)]
    return min(1.0, min(finite) * len(finite)) if finite else math.nan


def band(datasets: int, bins: int, level: float = BAND) -> tuple[float, float]:
    """The range of a bin's count that a correct posterior leaves with probability ``level``:
    quantiles of Binomial(datasets, 1 / bins)."""
    from scipy.stats import binom

    tail = (1 - level) / 2
    return float(binom.ppf(tail, datasets, 1 / bins)), float(binom.ppf(1 - tail, datasets, 1 / bins))


__all__ = ["BAND", "DEFAULT_DRAWS", "LEVELS", "UNIFORM_P_THRESHOLD", "at_ends", "band", "bin_counts", "binomial_interval",
           "chi_square", "coverage_table", "default_bins", "inside", "quantiles", "rank", "thinned", "uniformity_table"]
