"""The figure of a simulation-based calibration (``bordersim sbc``): rank histograms (PNG bytes).

One panel per fitted parameter, as in Talts et al. (2018, figure 3): how many data sets put their
truth in each bin of rank (0..L among L posterior draws), against the grey band in which a correct
posterior leaves 99 % of bins (quantiles of Binomial(data sets, 1 / bins)) and the expected count.
Flat inside the band: calibrated. A ∪ (truths at the ends): intervals too narrow. A ∩: too wide.
A slope: the posterior sits to one side of the truth.
"""
from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.outputs.posterior_figures import _figure, _png, _short


def rank_histograms_png(ranks: pd.DataFrame, draws: int, bins: Mapping[str, int]) -> bytes:
    """``ranks``: the rows of ``ranks.csv``; ``bins``: the number of bins per parameter."""
    from scipy.stats import binom

    parameters = list(dict.fromkeys(ranks["parameter"]))
    columns = min(3, max(1, len(parameters)))
    rows = -(-max(1, len(parameters)) // columns)
    plt, figure = _figure(4.2 * columns, 3.0 * rows)
    for index, parameter in enumerate(parameters):
        axis = figure.add_subplot(rows, columns, index + 1)
        values = ranks.loc[ranks["parameter"] == parameter, "rank"].to_numpy(int)
        count = bins[parameter]
        edges = np.arange(count + 1) * (draws + 1) / count - 0.5
        datasets = len(values)
        low, high = binom.ppf([0.005, 0.995], datasets, 1 / count)
        axis.axhspan(low, high, color="#bbbbbb", alpha=0.5, lw=0, label="99% band (correct posterior)")
        axis.axhline(datasets / count, color="#555555", lw=0.8)
        axis.hist(values, bins=edges, color="#4c72b0", edgecolor="white", label=f"{datasets} data sets")
        axis.set_xlim(edges[0], edges[-1])
        axis.set_xlabel(f"rank of the truth among {draws} posterior draws", fontsize=8)
        axis.set_ylabel("data sets", fontsize=8)
        axis.set_title(_short(parameter), fontsize=9)
        axis.tick_params(labelsize=7)
        axis.legend(fontsize=6)
    figure.tight_layout()
    return _png(plt, figure)


__all__ = ["rank_histograms_png"]
