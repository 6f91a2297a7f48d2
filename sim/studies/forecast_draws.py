"""A forecast of observed figures: replications that draw parameter rows, and each figure as reported.

Both ``bordersim backtest`` forms forecast the same way. The **parameter rows** are a joint sample
of the fitted key paths — the posterior at a cutoff, or draws from the priors (the unfitted
forecast of the rolling-origin evaluation) — with each series' reporter error scale row for row
(:class:`ParameterRows`). The **forecast scenario** is the scenario cut at the last scored date
whose replications each draw one row (``uncertain: {sample: FILE}``, :func:`forecast_scenario`).
Each replication's **figure** is the model quantity the figure measures
(:meth:`~sim.studies.observation.ObservedSeries.model_values`: a day, a period, a running total
from its start) with its reporter's error, ``log(1 + y) = log(1 + m) + e``, drawn as the likelihood
that fitted it has ``e``: scale σ and correlation ρ (between running totals) of the row it drew,
plus ``D / (1 + m)`` for the count ``D`` of people missing from every figure counted from an
uncertain start (variance ``v``, people²:
:meth:`~sim.studies.observation.ObservedSeries.extra_variance`; zero where the start is known) —
conditional on the same reporter's figures before the cutoff where they are given
(:func:`reporter_errors`). Coverage and WIS score each figure's marginal.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.studies.observation import ObservedSeries
from sim.studies.priors import Prior

OBSERVATION_STREAM = "backtest/observation/"
PRIOR_STREAM = "backtest/prior-rows"


@dataclass(frozen=True)
class ParameterRows:
    """Rows a forecast draws from: ``samples`` (a column per fitted key path, and ``weight``) and,
    row for row, ``error_scales`` (a column ``error_scale.SERIES`` per series it knows).
    ``sigma_priors`` (series name ↦ prior of its error scale) give the scale of a series the rows
    lack — one with no figure before the cutoff — drawn anew per replication; default
    ``halfnormal(0.2)``, the fit's own default."""

    keys: list[str]
    samples: pd.DataFrame
    error_scales: pd.DataFrame
    sigma_priors: Mapping[str, Prior] = field(default_factory=dict)

    @classmethod
    def from_posterior(cls, posterior, sigma_priors: Mapping[str, Prior] | None = None) -> ParameterRows:
        return cls(list(posterior.keys), posterior.samples, posterior.error_scales, dict(sigma_priors or {}))

    @classmethod
    def from_priors(cls, priors: Sequence[Prior], sigma_priors: Mapping[str, Prior], seed: int,
                    rows: int) -> ParameterRows:
        """``rows`` independent draws of every fitted value and every series' error scale from
        their priors (inverse CDF of uniforms from the stream ``backtest/prior-rows``): the forecast
        a modeller would make with the same model and no fitting."""
        from sim.model.streams import stream
        from sim.studies.inference.likelihood import SCALE

        rng = stream(seed, 0, PRIOR_STREAM)
        samples = pd.DataFrame({prior.key: prior.ppf(rng.uniform(size=rows)) for prior in priors})
        samples["weight"] = 1.0
        scales = pd.DataFrame({SCALE + name: prior.ppf(rng.uniform(size=rows))
                               for name, prior in sigma_priors.items()})
        return cls([prior.key for prior in priors], samples, scales, dict(sigma_priors))

    def error_correlation(self, name: str, row: int | None) -> float:
        """Series ``name``'s error correlation (a week apart, running totals) in row ``row``; 0
        (independent errors) where the rows have none."""
        from sim.studies.inference.likelihood import CORRELATION

        column = CORRELATION + name
        if row is not None and column in self.error_scales.columns:
            return float(self.error_scales[column].iloc[row])
        return 0.0

    def error_scale(self, name: str, row: int | None, rng: np.random.Generator) -> float:
        """Series ``name``'s error scale in row ``row``, or a draw from its prior (``rng``)."""
        from sim.studies.inference.likelihood import DEFAULT_SIGMA_PRIOR, SCALE

        column = SCALE + name
        if row is not None and column in self.error_scales.columns:
            return float(self.error_scales[column].iloc[row])
        prior = self.sigma_priors.get(name) or Prior.from_text(f"sigma.{name}", DEFAULT_SIGMA_PRIOR)
        return float(prior.ppf(rng.uniform()))


def forecast_data(scenario, fitted: Sequence[str], until: dt.date) -> dict:
    """The scenario's data cut at ``until``, as a forecast of the fitted values ``fitted`` starts.

    The scenario's own per-key uncertain values stay, except those now fitted (a sample replaces
    them) and those of steps the cut removed (a hazard step that starts after ``until`` cannot
    change a day before it); its target is dropped (a backtest forecasts the observed series).
    """
    from sim.scenario.cut import cut_data
    from sim.scenario.uncertain_sample import SAMPLE_KEY

    data = scenario.to_yaml_dict()
    own = {key: value for key, value in (data.get("uncertain") or {}).items()
           if key != SAMPLE_KEY and key not in fitted}
    data = cut_data(data, until)
    data["uncertain"] = {key: value for key, value in own.items() if exists_in(data, key)}
    return data


def forecast_scenario(scenario, data: dict, sample_path: str):
    """The forecast scenario of ``data`` (:func:`forecast_data`) whose replications each draw a row
    of the sample at ``sample_path``."""
    from sim.scenario.loading import scenario_from_dict
    from sim.scenario.uncertain_sample import SAMPLE_KEY

    return scenario_from_dict({**data, "uncertain": {**data["uncertain"], SAMPLE_KEY: sample_path}},
                              source=scenario.source or "<backtest>")


def exists_in(data: dict, key: str) -> bool:
    """Whether scenario data (``to_yaml_dict``) has the value at key path ``key``."""
    from sim.scenario.keypath import KeyPathError, get_path

    try:
        get_path(data, key)
    except KeyPathError:
        return False
    return True


def forecast_outcomes(scenario, rows: ParameterRows, until: dt.date, replications: int, seed: int, executor,
                      progress: Callable[[int], None] | None = None, sample_folder: str | None = None):
    """The forecast scenario (drawing ``rows``) and its replications' outcomes.

    The rows are written where the scenario can name them (``sample_folder``, else a temporary
    folder removed afterwards: once loaded, the sample lives in memory and travels with the jobs),
    without the columns of steps the cut at ``until`` removed.
    """
    import shutil
    import tempfile

    from sim.runs.runner import run_replications
    from sim.studies.posterior_output import posterior_csv_text

    data = forecast_data(scenario, rows.keys, until)
    removed = [key for key in rows.keys if not exists_in(data, key)]
    folder = sample_folder or tempfile.mkdtemp(prefix="bordersim-backtest-")
    try:
        sample_path = str(Path(folder) / "posterior.csv")
        Path(sample_path).write_text(posterior_csv_text(rows.samples.drop(columns=removed)), encoding="utf-8")
        future = forecast_scenario(scenario, data, sample_path)
        outcomes = run_replications(future, range(replications), seed, executor=executor, progress=progress)
    finally:
        if sample_folder is None:
            shutil.rmtree(folder, ignore_errors=True)
    return future, outcomes


def figure_draws(outcomes, scenario, seed: int, series: ObservedSeries, rows: ParameterRows,
                 known: ObservedSeries | None = None) -> np.ndarray:
    """(replications × figures of ``series``): each replication's value of every figure as its
    reporter would give it (module docstring), with noise from the replication's own stream
    ``backtest/observation/<series>``.

    The reporter's errors are drawn jointly, as the likelihood has them: correlated between running
    totals (the row's ``error_correlation``), and one missing count ``D`` shared by the figures of an
    uncertain start. ``known`` — the same series' figures up to the cutoff — say what those errors
    were: the draw is conditional on how far they lay from this replication's path (a Gaussian
    update), so a reporter's offset learned before the cutoff carries on after it, as far as the
    fitted correlation says it does."""
    from sim.model.streams import stream
    from sim.runs import uncertain
    from sim.runs.evaluate import crossed_by_node

    crossings = list(scenario.crossings)
    start = scenario.period.start
    given = known.exact() if known is not None else None
    draws = np.empty((len(outcomes), len(series.dates)))
    for index, outcome in enumerate(outcomes):
        daily = crossed_by_node(outcome, crossings)
        rng = stream(seed, outcome.replication, OBSERVATION_STREAM + series.name)
        row = uncertain.drawn_row(scenario, seed, outcome.replication)
        sigma = rows.error_scale(series.name, row, rng)
        mean, cov = reporter_errors(series, given, daily, start, sigma, rows.error_correlation(series.name, row))
        model = np.maximum(series.model_values(daily, start), 0.0)
        draws[index] = np.expm1(np.log1p(model) + rng.multivariate_normal(mean, cov, method="eigh"))
    return draws


def reporter_errors(series: ObservedSeries, given: ObservedSeries | None, daily, start: dt.date, sigma: float,
                    rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of ``log(1 + y) − log(1 + m)`` over the figures of ``series`` (``m``: the
    path ``daily``), given the exact figures ``given`` of the same reporter on that path.

    The covariance is the likelihood's for one series (:class:`~sim.studies.inference.likelihood.
    Likelihood`: ``σ² R`` with ``R = ρ^(lag / 7 days)`` between running totals, plus ``V`` of the
    uncertain starts) over the given figures followed by those of ``series``; the result is the
    Gaussian conditional of the second part given the first's residuals."""
    from sim.studies.inference import likelihood as lik

    joint = given.followed_by(series) if given is not None else series
    figures = lik.Figures.of([joint], start)
    correlated = rho > 0  # (the priors only name the terms: the covariance takes their values)
    errors = lik.ErrorTerms([Prior.from_text(lik.SCALE + series.name, "halfnormal(1)")],
                            [Prior.from_text(lik.CORRELATION + series.name, "uniform(0, 1)")] * correlated,
                            [0] * correlated)
    model = np.maximum(joint.model_values(daily, start), 0.0)
    terms = np.array([sigma] + [rho] * correlated)
    cov = lik.Likelihood(figures, errors, lik.SimulatorNoise.none(len(figures), 0)).covariance(
        terms, joint.extra_variance(daily, start), model)
    k = len(joint.dates) - len(series.dates)
    if k == 0:
        return np.zeros(len(series.dates)), cov
    residual = figures.log_observed[:k] - np.log1p(model[:k])
    gain = cov[k:, :k] @ np.linalg.pinv(cov[:k, :k])
    return gain @ residual, cov[k:, k:] - gain @ cov[:k, k:]


__all__ = ["OBSERVATION_STREAM", "ParameterRows", "figure_draws", "forecast_data", "forecast_outcomes",
           "forecast_scenario", "reporter_errors"]
