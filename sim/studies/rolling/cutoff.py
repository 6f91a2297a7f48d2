"""One cutoff of a rolling-origin evaluation: refit, forecast twice, score against what followed.

:class:`CutoffForecast` is called with a cutoff date and returns a :class:`CutoffResult`; it is
picklable, so an executor runs one cutoff per worker (the fit and forecasts then run serially
there), and a cutoff's result depends only on the plan and the cutoff: serial and parallel runs
agree. At the cutoff:

1. **refit**: :func:`sim.studies.posterior.fit_posterior` on the figures dated up to the cutoff,
   with the fit options ``calibrate`` takes, the same seed at every cutoff;
2. **forecast** to ``min(cutoff + longest horizon, last figure)``: ``replications`` replications
   drawing posterior rows, and as many drawing rows of the priors of the same fitted values (the
   unfitted forecast), each figure as reported (:mod:`sim.studies.forecast_draws`);
3. **persistence** from the figures up to the cutoff (:mod:`~sim.studies.rolling.persistence`);
4. **score** every figure after the cutoff (:mod:`~sim.studies.rolling.scored`).
"""
from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.studies.forecast_draws import ParameterRows, figure_draws, forecast_outcomes
from sim.studies.observation import ObservedSeries
from sim.studies.priors import Prior
from sim.studies.rolling.persistence import persistence_forecast
from sim.studies.rolling.scored import FIGURE_COLUMNS, figure_rows

PRIOR_ROWS = 1000
"""Rows drawn from the priors for the unfitted forecast (each replication picks one)."""


class RollingError(ValueError):
    """Bad rolling-origin input, or a folder that cannot be resumed (one line; the CLI exits 2)."""


@dataclass
class CutoffResult:
    """What one cutoff hands back to be written into its folder."""

    cutoff: dt.date
    forecast_until: dt.date
    figures: pd.DataFrame  # figures.csv
    samples: pd.DataFrame  # posterior.csv
    summary: pd.DataFrame
    diagnostics: pd.DataFrame
    error_scales: pd.DataFrame
    converged: bool
    fitted_figures: int
    wall_seconds: float


def forecast_end(series: Sequence[ObservedSeries], cutoff: dt.date, horizon_days: int) -> dt.date | None:
    """The last day forecast from ``cutoff``: the last figure dated within ``horizon_days`` after it
    (None if there is none: nothing to score)."""
    last = cutoff + dt.timedelta(days=horizon_days)
    dates = [day for s in series for day in s.dates if cutoff < day <= last]
    return max(dates) if dates else None


def error_priors_at(error_priors: Mapping[str, Prior], series: Sequence[ObservedSeries], period_start: dt.date,
                    independent: bool) -> dict[str, Prior]:
    """The error-term priors a fit on ``series`` (cut at a cutoff) has: those of series without a
    figure yet, or of a correlation with fewer than 3 running totals yet, are not unknowns there."""
    from sim.studies.inference.likelihood import ErrorTerms, Figures

    names = ErrorTerms.default(Figures.of(series, period_start), None, independent).names
    return {name: prior for name, prior in error_priors.items() if name in names}


def sigma_priors_of(series: Sequence[ObservedSeries], error_priors: Mapping[str, Prior], period_start: dt.date,
                    independent: bool) -> dict[str, Prior]:
    """Per series name, the prior of its error scale (given, or the fit's default)."""
    from sim.studies.inference.likelihood import ErrorTerms, Figures

    terms = ErrorTerms.default(Figures.of(series, period_start), error_priors, independent)
    return {s.name: prior for s, prior in zip(series, terms.sigma_priors)}


@dataclass
class CutoffForecast:
    """``cutoff`` ↦ :class:`CutoffResult` (module docstring)."""

    scenario: Any
    priors: list[Prior]
    series: list[ObservedSeries]
    error_priors: dict[str, Prior]
    fit_options: dict[str, Any]
    horizons_days: list[int]
    replications: int
    seed: int
    fit: Callable | None = None  # default sim.studies.posterior.fit_posterior (tests may wrap it)

    def __call__(self, cutoff: dt.date) -> CutoffResult:
        from sim.runs.executors import SerialExecutor
        from sim.scenario.errors import ScenarioError

        clock = time.perf_counter()
        start = self.scenario.period.start
        until = forecast_end(self.series, cutoff, max(self.horizons_days))
        if until is None:
            raise RollingError(f"cutoff {cutoff}: no figure within {max(self.horizons_days)} days after it")
        independent = bool(self.fit_options.get("independent_errors", False))
        known = [s.until(cutoff) for s in self.series]
        known = [s for s in known if s is not None]
        posterior = self._fit(cutoff, error_priors_at(self.error_priors, known, start, independent))
        sigma_priors = sigma_priors_of(self.series, self.error_priors, start, independent)
        rows = {"fitted": ParameterRows.from_posterior(posterior, sigma_priors),
                "prior": ParameterRows.from_priors(self.priors, sigma_priors, self.seed, PRIOR_ROWS)}
        runs = {}
        try:
            with SerialExecutor() as executor:
                for name, parameter_rows in rows.items():
                    runs[name] = forecast_outcomes(self.scenario, parameter_rows, until, self.replications, self.seed,
                                                   executor)
        except ScenarioError as error:
            raise RollingError(f"cutoff {cutoff}: the scenario rejects values drawn for the forecast: "
                               f"{str(error).splitlines()[0]}") from None
        tables = []
        for s in self.series:
            scored = s.within(cutoff, until)
            if scored is None:
                continue
            # the fitted forecast carries a reporter's missing count learned before the cutoff; the
            # unfitted one (the baseline of what fitting adds) learns nothing from the figures
            draws = {name: figure_draws(runs[name][1], runs[name][0], self.seed, scored, rows[name],
                                        s.until(cutoff) if name == "fitted" else None) for name in rows}
            tables.append(figure_rows(cutoff, scored, draws["fitted"], draws["prior"],
                                      persistence_forecast(s, cutoff, scored, start), start))
        return CutoffResult(cutoff, until, pd.concat(tables, ignore_index=True)[FIGURE_COLUMNS], posterior.samples,
                            posterior.summary, posterior.diagnostics, posterior.error_scales,
                            bool(posterior.converged), sum(len(s.dates) for s in known), time.perf_counter() - clock)

    def _fit(self, cutoff: dt.date, error_priors: dict[str, Prior]):
        from sim.studies.posterior import PosteriorError

        fit = self.fit
        if fit is None:
            from sim.studies.posterior import fit_posterior as fit
        try:
            return fit(self.scenario, self.series, self.priors, self.seed, jobs=1, cutoff=cutoff,
                       error_priors=error_priors, **self.fit_options)
        except PosteriorError as error:
            raise RollingError(f"cutoff {cutoff}: {error}") from None


__all__ = ["PRIOR_ROWS", "CutoffForecast", "CutoffResult", "RollingError", "error_priors_at", "forecast_end",
           "sigma_priors_of"]
