"""A forecast of observed figures: replications that draw parameter rows, and each figure as reported.

Both ``bordersim backtest`` forms forecast the same way. The **parameter rows** are a joint sample
of the fitted key paths — the posterior at a cutoff, or draws from the priors (the unfitted
forecast of the rolling-origin evaluation) — with each series' reporter error scale row for row
(:class:`ParameterRows`). The **forecast scenario** is the scenario cut at the last scored date
whose replications each draw one row (``uncertain: {sample: FILE}``, :func:`forecast_scenario`).
Each replication's **figure** is the model quantity the figure measures
(:meth:`~sim.studies.observation.ObservedSeries.model_values`: a day, a period, a running total
from its start) with its reporter's error, ``log(1 + y) = log(1 + m) + σ ε + D / (1 + m)``: σ the
error scale of the row it drew, ``ε`` standard normal per figure, and ``D`` the count of people
missing from every figure counted from an uncertain start (variance ``v``, people²:
:meth:`~sim.studies.observation.ObservedSeries.extra_variance`; zero where the start is known), as
in the likelihood that fitted it — learned from the figures before the cutoff where they are given.
Coverage and WIS score each figure's marginal.
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

    Figures counted from one uncertain start miss one and the same count ``D`` of people (as in the
    likelihood): one draw of it per replication and start. ``known`` — the same series' figures up
    to the cutoff — say what that count was: ``D`` is drawn given how far they lay from this
    replication's path (a Gaussian update, below), so a reporter's offset learned before the
    cutoff carries on after it, as a planner reading the tally would carry it."""
    from sim.model.streams import stream
    from sim.runs import uncertain
    from sim.runs.evaluate import crossed_by_node

    crossings = list(scenario.crossings)
    start = scenario.period.start
    draws = np.empty((len(outcomes), len(series.dates)))
    for index, outcome in enumerate(outcomes):
        daily = crossed_by_node(outcome, crossings)
        model = np.maximum(series.model_values(daily, start), 0.0)
        rng = stream(seed, outcome.replication, OBSERVATION_STREAM + series.name)
        sigma = rows.error_scale(series.name, uncertain.drawn_row(scenario, seed, outcome.replication), rng)
        log_values = np.log1p(model) + sigma * rng.standard_normal(len(model))
        for window, members, variance in _uncertain_starts(series, daily, start):
            mean, sd = _missing_count(window, variance, known, daily, start, sigma)
            log_values[members] += (mean + sd * rng.standard_normal()) / (1.0 + model[members])
        draws[index] = np.expm1(log_values)
    return draws


def _uncertain_starts(series: ObservedSeries, daily, start: dt.date):
    """(window, indices of its figures, variance of the count missing from them, people²) per
    uncertain start of ``series`` (grouped as the likelihood groups them)."""
    from sim.studies.inference.likelihood import start_groups

    variance = series.extra_variance(daily, start)
    groups = start_groups([series])
    for group in np.unique(groups[groups >= 0]):
        members = np.flatnonzero(groups == group)
        yield series.windows[members[0]], members, float(variance[members[0]])


def _missing_count(window, variance: float, known: ObservedSeries | None, daily, start: dt.date,
                   sigma: float) -> tuple[float, float]:
    """Mean and sd of the count ``D`` missing from every figure counted from ``window``, given the
    known exact figures counted from it: each is ``log(1 + y) = log(1 + m) + D / (1 + m) + σ ε``
    (the likelihood's model, linearized in ``D``), ``D ~ N(0, variance)`` before them."""
    if variance <= 0:
        return 0.0, 0.0
    precision, weighted = 1.0 / variance, 0.0
    if known is not None and sigma > 0:
        same = np.array([w == window for w in known.windows]) & ~known.lower_bound
        if same.any():
            model = np.maximum(known.model_values(daily, start), 0.0)[same]
            slope = 1.0 / (1.0 + model)
            residual = np.log1p(np.asarray(known.values, float)[same]) - np.log1p(model)
            precision += float((slope ** 2).sum()) / sigma ** 2
            weighted = float((slope * residual).sum()) / sigma ** 2
    return weighted / precision, 1.0 / np.sqrt(precision)


__all__ = ["OBSERVATION_STREAM", "ParameterRows", "figure_draws", "forecast_data", "forecast_outcomes",
           "forecast_scenario"]
