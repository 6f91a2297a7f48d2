"""Figures of a posterior calibration (PNG bytes, matplotlib's Agg backend: no display needed).

* **marginals** — each parameter's posterior histogram with its prior density over the prior's range:
  how much the observations narrowed what was believed before.
* **pairs** — every pair of parameters as a scatter of the samples: correlations (a higher hazard
  fitting only with more stayers) that independent ranges would lose.
* **fit** — per observed series, the model's 90 % band (parameter uncertainty) and the wider
  posterior-predictive 90 % band (with the observation error) against the observed figures.
"""
from __future__ import annotations

import io

import numpy as np
import pandas as pd

MAX_PAIR_POINTS = 2000


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt, plt.figure(figsize=(width, height), dpi=100)


def _png(plt, figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)
    return buffer.getvalue()


def _short(key: str) -> str:
    parts = key.split(".")
    return ".".join(parts[-3:]) if len(parts) > 3 else key


def marginals_png(samples: pd.DataFrame, priors) -> bytes:
    """Histogram of each fitted parameter's samples over its prior density."""
    count = len(priors)
    columns = min(3, count)
    rows = -(-count // columns)
    plt, figure = _figure(4.2 * columns, 3.0 * rows)
    for index, prior in enumerate(priors):
        axis = figure.add_subplot(rows, columns, index + 1)
        values = samples[prior.key].to_numpy()
        low, high = prior.range()
        axis.hist(values, bins=40, density=True, color="#4c72b0", alpha=0.75, label="posterior")
        grid = np.linspace(low, high, 200)
        axis.plot(grid, np.exp([prior.logpdf(x) for x in grid]), color="#dd8452", label=f"prior {prior.describe()}")
        axis.set_title(_short(prior.key), fontsize=9)
        axis.tick_params(labelsize=7)
        axis.legend(fontsize=6)
    figure.tight_layout()
    return _png(plt, figure)


def pairs_png(samples: pd.DataFrame, keys: list[str]) -> bytes:
    """Lower-triangle scatter of every pair of parameters (at most MAX_PAIR_POINTS samples, evenly)."""
    count = len(keys)
    step = max(1, len(samples) // MAX_PAIR_POINTS)
    shown = samples.iloc[::step]
    plt, figure = _figure(2.2 * max(count, 2), 2.2 * max(count, 2))
    for row in range(count):
        for column in range(count):
            if column > row:
                continue
            axis = figure.add_subplot(count, count, row * count + column + 1)
            if row == column:
                axis.hist(shown[keys[row]], bins=30, color="#4c72b0")
            else:
                axis.scatter(shown[keys[column]], shown[keys[row]], s=2, alpha=0.3, color="#4c72b0")
            axis.tick_params(labelsize=5)
            if row == count - 1:
                axis.set_xlabel(_short(keys[column]), fontsize=6)
            if column == 0:
                axis.set_ylabel(_short(keys[row]), fontsize=6)
    figure.tight_layout()
    return _png(plt, figure)


def fit_png(fit: pd.DataFrame) -> bytes:
    """Per series: observed figures, the model's 90 % band and the posterior-predictive 90 % band."""
    names = list(dict.fromkeys(fit["series"]))
    plt, figure = _figure(6.0, 3.2 * len(names))
    for index, name in enumerate(names):
        rows = fit[fit["series"] == name]
        dates = pd.to_datetime(rows["date"])
        axis = figure.add_subplot(len(names), 1, index + 1)
        axis.fill_between(dates, rows["predictive_p05"], rows["predictive_p95"], color="#4c72b0", alpha=0.15,
                          label="predictive 90% (with observation error)")
        axis.fill_between(dates, rows["model_p05"], rows["model_p95"], color="#4c72b0", alpha=0.45,
                          label="model 90% (parameters)")
        axis.plot(dates, rows["model_p50"], color="#4c72b0", linewidth=1)
        axis.scatter(dates, rows["observed"], color="black", s=14, zorder=3, label="observed")
        first = rows.iloc[0]
        axis.set_title(f"{name}: {first['kind']} at {first['node']}"
                       + (f" since {first['count_from']}" if first["count_from"] else ""), fontsize=9)
        axis.tick_params(labelsize=7)
        axis.legend(fontsize=6)
    figure.autofmt_xdate()
    figure.tight_layout()
    return _png(plt, figure)


__all__ = ["fit_png", "marginals_png", "pairs_png"]
