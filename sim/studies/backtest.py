"""Backtest: calibrate on what was known at a cutoff date, forecast past it, score against what followed.

``bordersim backtest FILE --observed CSV... --fit KEY=lo:hi... --cutoff DATE`` answers *how good
would a bordersim forecast made on that date have been?* In four steps:

1. **Calibrate** on the observed figures up to the cutoff (included) only: the posterior of the
   ``--fit`` key paths (:func:`sim.studies.posterior.fit_posterior`, emcee over the observation
   model of :mod:`sim.studies.observation`).
2. **Forecast** every day from the cutoff to the last scored date: ``-n`` replications of the
   scenario whose ``uncertain: {sample: posterior.csv}`` draws one posterior row per replication
   (joint draws, :mod:`sim.uncertain_sample`), so the band carries what the data left open about
   the parameters as well as household randomness. What is forecast is the *reported figure*,
   not the model quantity: each replication's value on each date gets the series' observation
   error, ``log(1 + y) = log(1 + m) + e``, ``e ~ Normal(0, σ²)`` with the error scale σ of the
   posterior row it drew (each figure's marginal error: what coverage and WIS of single figures
   score, whatever the correlation between a reporter's figures), from the replication's own stream ``backtest/observation/<series>``.
3. **Baseline**: the naive forecast of each series from its own figures up to the cutoff
   (:func:`sim.studies.scoring.naive_baseline`: the last 7 days' mean rate carried forward).
4. **Score** the forecast and the baseline on every figure after the cutoff up to ``until``
   (default: the last one): coverage of the 50 % and 90 % bands, WIS, relative WIS, ARD of the
   median (:mod:`sim.studies.scoring`).

The period is cut at the last scored date: nothing later can change a day before it.
"""
from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.studies.forecast_draws import ParameterRows, figure_draws, forecast_outcomes
from sim.studies.observation import ObservedSeries
from sim.studies.scoring import (
    HUB_ALPHAS,
    QuantileForecast,
    Scores,
    inside,
    naive_baseline,
    relative_differences,
    score,
    weighted_interval_scores,
)

ProgressCallback = Callable[[int, int], None]
BAND_LEVELS = {"p05": 0.05, "p25": 0.25, "p75": 0.75, "p95": 0.95}
DEFAULT_REPLICATIONS = 100


class BacktestError(ValueError):
    """Bad backtest input (one line): a cutoff outside the data, nothing to score, …"""


@dataclass
class SeriesForecast:
    """One series: its observed figures, and the forecast and baseline on every day after the cutoff."""

    series: ObservedSeries
    days: list[dt.date]  # every day from the day after the cutoff to ``until``
    forecast: QuantileForecast  # on ``days``
    baseline: QuantileForecast  # on ``days``

    def scored(self, cutoff: dt.date, until: dt.date) -> list[int]:
        """Indices into the series' figures that are scored (after the cutoff, up to ``until``)."""
        return [i for i, day in enumerate(self.series.dates) if cutoff < day <= until]


@dataclass
class BacktestResult:
    scenario: object
    forecast_scenario: object
    cutoff: dt.date
    until: dt.date
    seed: int
    replications: int
    posterior: object  # PosteriorResult
    forecasts: list[SeriesForecast]
    scores: dict[str, Scores]  # per series name, and "all"
    wall_seconds: float
    alphas: tuple[float, ...] = HUB_ALPHAS
    table: pd.DataFrame = field(default=None)

    def lines(self) -> list[str]:
        """What the command prints: the data split, the posterior, and the scores against the baseline."""
        scored = self.scores["all"].points
        lines = [(f"Backtest: calibrated on figures up to {self.cutoff}, forecast to {self.until} "
                  f"({self.replications} replications drawing from {len(self.posterior.samples)} posterior samples); "
                  f"{scored} figures scored")]
        for _, row in self.posterior.summary.iterrows():
            lines.append(f"  posterior {row['parameter']}: p50 {row['p50']:.4g}, 90% [{row['p05']:.4g}, {row['p95']:.4g}]"
                         f" (prior {row['prior']})")
        for name, scores in self.scores.items():
            lines.append(f"  {name}: coverage 50% {scores.coverage50:.2f}, 90% {scores.coverage90:.2f}; "
                         f"WIS {scores.wis:,.0f} vs baseline {scores.wis_baseline:,.0f} "
                         f"(relative {scores.relative_wis:.2f}); ARD {scores.ard:.1%} (baseline {scores.ard_baseline:.1%})"
                         f" [{scores.points} figures]")
        return lines


# --------------------------------------------------------------------------------------------
# Checking the input


def split_checked(series: Sequence[ObservedSeries], cutoff: dt.date, until: dt.date | None,
                  period: tuple[dt.date, dt.date]) -> dt.date:
    """Check the cutoff against the data and the period; return the last scored date."""
    if not series:
        raise BacktestError("no observed series: give --observed CSV (or bundled:un, bundled:pak_kp)")
    for item in series:  # its forecast is one value a day, counted as the series counts
        if item.kind not in ("cumulative", "daily") or (item.count_from is None and any(item.windows)):
            raise BacktestError(f"{item.where}: backtest forecasts running totals from a known start or daily "
                                "figures only; this series has period counts or uncertain starts")
    first = min(s.dates[0] for s in series)
    last = max(s.dates[-1] for s in series)
    start, end = period
    if not start <= cutoff <= end:
        raise BacktestError(f"--cutoff {cutoff}: outside the scenario's period {start}..{end}")
    if cutoff < first:
        raise BacktestError(f"--cutoff {cutoff}: before the first observed figure ({first}): nothing to calibrate on")
    if until is None:
        if last <= cutoff:
            raise BacktestError(f"--cutoff {cutoff}: no observed figure after it: nothing to score "
                                f"(the figures run {first}..{last})")
        until = last
    if until <= cutoff:
        raise BacktestError(f"--until {until}: must come after the cutoff {cutoff}")
    if until > end:
        raise BacktestError(f"--until {until}: after the scenario's period end {end}")
    if not any(cutoff < day <= until for s in series for day in s.dates):
        raise BacktestError(f"--cutoff {cutoff}: no observed figure after it (up to {until}): nothing to score "
                            f"(the figures run {first}..{last})")
    return until


# --------------------------------------------------------------------------------------------
# The forecast (sim.studies.forecast_draws)


def predictive_draws(outcomes, scenario, seed: int, series: ObservedSeries, days: list[dt.date],
                     posterior) -> np.ndarray:
    """(replications × days): each replication's model value of ``series`` on every day of ``days``
    (its running total, or the day's count), with observation error given its figures before the
    first of ``days`` (:func:`~sim.studies.forecast_draws.figure_draws`)."""
    on_days = ObservedSeries(series.name, series.kind, series.node, series.count_from, tuple(days),
                             np.zeros(len(days)))
    known = series.until(days[0] - dt.timedelta(days=1))
    return figure_draws(outcomes, scenario, seed, on_days, ParameterRows.from_posterior(posterior), known)


def baseline_for(series: ObservedSeries, cutoff: dt.date, days: list[dt.date], period_start: dt.date,
                 alphas: Sequence[float]) -> QuantileForecast:
    """The naive baseline of a series on ``days`` (daily series: its recent mean level, flat)."""
    if series.kind == "daily":
        return daily_baseline(series, cutoff, days, alphas)
    count_from = series.count_from or period_start
    try:
        return naive_baseline(series.dates, series.values, count_from, cutoff, days, alphas)
    except ValueError as error:
        raise BacktestError(f"series {series.name}: {error}") from None


def daily_baseline(series: ObservedSeries, cutoff: dt.date, days: list[dt.date],
                   alphas: Sequence[float]) -> QuantileForecast:
    """A daily series is its own rate: the mean of its figures of the last 7 days up to the cutoff
    (the last figure if none), flat; bands from its figures of the last 28 days, as for cumulative
    series (:func:`sim.studies.scoring.naive_baseline`)."""
    from sim.studies.scoring import RATE_WINDOW_DAYS, SPREAD_WINDOW_DAYS

    known = [(day, value) for day, value in zip(series.dates, series.values) if day <= cutoff]
    if not known:
        raise BacktestError(f"series {series.name}: no figure up to the cutoff {cutoff} for the baseline")
    recent = [value for day, value in known if (cutoff - day).days < RATE_WINDOW_DAYS] or [known[-1][1]]
    spread = np.array([value for day, value in known if (cutoff - day).days < SPREAD_WINDOW_DAYS] or [known[-1][1]])
    level = float(np.mean(recent))

    def at(quantile: float) -> np.ndarray:
        return np.full(len(days), max(0.0, level + float(np.quantile(spread, quantile) - np.quantile(spread, 0.5))))

    alphas = tuple(float(alpha) for alpha in alphas)
    return QuantileForecast(at(0.5), np.column_stack([at(a / 2) for a in alphas]),
                            np.column_stack([at(1 - a / 2) for a in alphas]), alphas)


# --------------------------------------------------------------------------------------------
# The backtest


def backtest(
    scenario,
    series: Sequence[ObservedSeries],
    fit: Sequence,
    cutoff: dt.date,
    until: dt.date | None = None,
    replications: int = DEFAULT_REPLICATIONS,
    seed: int | None = None,
    jobs: int = 1,
    executor=None,
    progress: ProgressCallback | None = None,
    sample_folder: str | None = None,
    alphas: Sequence[float] = HUB_ALPHAS,
    **posterior_options,
) -> BacktestResult:
    """Calibrate on the figures up to ``cutoff``, forecast to ``until``, score (module docstring).

    ``series``: observed series (:func:`sim.studies.observation.read_observations`); ``fit``: key
    paths with bounds or priors, as for :func:`~sim.studies.posterior.fit_posterior`, which also
    gets ``posterior_options`` (``walkers``, ``simulation_replications`` …). ``sample_folder`` is where
    the posterior sample the forecast draws from is written (``posterior.csv``; default a temporary
    folder). ``progress`` is called with (tasks done, tasks planned) over both stages.
    """
    from sim.runs import executors

    clock = time.perf_counter()
    seed = scenario.run.seed if seed is None else seed
    until = split_checked(series, cutoff, until, (scenario.period.start, scenario.period.end))
    days = [cutoff + dt.timedelta(days=offset) for offset in range(1, (until - cutoff).days + 1)]
    baselines = [baseline_for(s, cutoff, days, scenario.period.start, alphas) for s in series]
    owned = executor is None
    if owned:
        executor = executors.SerialExecutor() if jobs <= 1 else executors.ProcessExecutor(jobs)
    progress_of = _TwoStages(progress, replications)
    try:
        posterior = _calibrate(scenario, series, fit, cutoff, seed, executor, progress_of.first, posterior_options)
        future, outcomes = forecast_outcomes(scenario, ParameterRows.from_posterior(posterior), until, replications,
                                             seed, executor, progress_of.second, sample_folder)
    finally:
        if owned:
            executor.close()
    forecasts = []
    for s, baseline in zip(series, baselines):
        draws = predictive_draws(outcomes, future, seed, s, days, posterior)
        forecasts.append(SeriesForecast(s, days, QuantileForecast.from_samples(draws, alphas), baseline))
    result = BacktestResult(scenario, future, cutoff, until, seed, replications, posterior, forecasts,
                            _scores(forecasts, cutoff, until), time.perf_counter() - clock, tuple(alphas))
    result.table = backtest_table(result)
    return result


class _TwoStages:
    """One progress count over both stages: the calibration's model runs, then the forecast's."""

    def __init__(self, progress: ProgressCallback | None, replications: int) -> None:
        self.progress = progress
        self.replications = replications
        self.calibration_total = 0

    def first(self, done: int, total: int) -> None:
        self.calibration_total = total
        if self.progress is not None:
            self.progress(done, total + self.replications)

    def second(self, done: int) -> None:
        if self.progress is not None:
            self.progress(self.calibration_total + done, self.calibration_total + self.replications)


def _calibrate(scenario, series, fit, cutoff: dt.date, seed: int, executor, progress, options: dict):
    """The posterior of ``fit`` given the figures up to the cutoff (``fit_posterior``)."""
    from sim.studies.posterior import PosteriorError, fit_posterior

    try:
        return fit_posterior(scenario, list(series), fit, seed=seed, executor=executor, progress=progress,
                             cutoff=cutoff, **options)
    except PosteriorError as error:
        raise BacktestError(str(error)) from None


def _scored_arrays(item: SeriesForecast, cutoff: dt.date, until: dt.date):
    """Observed values, forecast and baseline restricted to the scored figures of one series."""
    indices = item.scored(cutoff, until)
    positions = [item.days.index(item.series.dates[i]) for i in indices]
    observed = item.series.values[indices]

    def take(forecast: QuantileForecast) -> QuantileForecast:
        return QuantileForecast(forecast.median[positions], forecast.lower[positions], forecast.upper[positions],
                                forecast.alphas)

    return indices, observed, take(item.forecast), take(item.baseline)


def _scores(forecasts: list[SeriesForecast], cutoff: dt.date, until: dt.date) -> dict[str, Scores]:
    scores: dict[str, Scores] = {}
    pooled: list[tuple[np.ndarray, QuantileForecast, QuantileForecast]] = []
    for item in forecasts:
        _, observed, forecast, baseline = _scored_arrays(item, cutoff, until)
        if len(observed):
            scores[item.series.name] = score(observed, forecast, baseline)
            pooled.append((observed, forecast, baseline))

    def joined(part: int) -> QuantileForecast:
        return QuantileForecast(np.concatenate([p[part].median for p in pooled]),
                                np.vstack([p[part].lower for p in pooled]),
                                np.vstack([p[part].upper for p in pooled]), pooled[0][part].alphas)

    scores["all"] = score(np.concatenate([p[0] for p in pooled]), joined(1), joined(2))
    return scores


def _band_columns(forecast: QuantileForecast, prefix: str) -> dict[str, np.ndarray]:
    columns = {f"{prefix}median": forecast.median}
    for name, level in BAND_LEVELS.items():
        alpha = 2 * min(level, 1 - level)
        lower, upper = forecast.band(alpha)
        columns[f"{prefix}{name}"] = lower if level < 0.5 else upper
    return columns


def backtest_table(result: BacktestResult) -> pd.DataFrame:
    """``backtest.csv``: one row per scored figure, then summary rows (``date`` = ``all``).

    A figure's row: observed, the forecast's median and p05/p25/p75/p95, the baseline's, whether
    the observation lies in the 50 % and 90 % bands (``coverage50``/``coverage90`` = 1 or 0), its
    WIS and the baseline's, their ratio, and the relative difference of each median. A summary
    row (per series and ``all``) holds the same columns averaged over its figures: coverage is then
    the share inside, ``relative_wis`` the ratio of the mean WIS.
    """
    rows = []
    for item in result.forecasts:
        indices, observed, forecast, baseline = _scored_arrays(item, result.cutoff, result.until)
        if not indices:
            continue
        wis = weighted_interval_scores(observed, forecast)
        wis_baseline = weighted_interval_scores(observed, baseline)
        columns = {**_band_columns(forecast, ""), **_band_columns(baseline, "baseline_")}
        for position, index in enumerate(indices):
            day = item.series.dates[index]
            row = {"series": item.series.name, "date": day.isoformat(), "horizon_days": (day - result.cutoff).days,
                   "observed": float(observed[position])}
            row.update({name: float(values[position]) for name, values in columns.items()})
            row.update({
                "coverage50": float(inside(observed, *forecast.band(0.5))[position]),
                "coverage90": float(inside(observed, *forecast.band(0.1))[position]),
                "wis": float(wis[position]), "wis_baseline": float(wis_baseline[position]),
                "relative_wis": float(wis[position] / wis_baseline[position]) if wis_baseline[position] > 0 else math.inf,
                "ard": float(relative_differences(forecast.median, observed)[position]),
                "ard_baseline": float(relative_differences(baseline.median, observed)[position]),
                "points": 1,
            })
            rows.append(row)
    for name, scores in result.scores.items():
        rows.append({"series": name, "date": "all", **scores.as_row()})
    columns = ["series", "date", "horizon_days", "observed", "median", "p05", "p25", "p75", "p95",
               "baseline_median", "baseline_p05", "baseline_p25", "baseline_p75", "baseline_p95",
               "coverage50", "coverage90", "wis", "wis_baseline", "relative_wis", "ard", "ard_baseline", "points"]
    return pd.DataFrame(rows, columns=columns)


def bands_table(result: BacktestResult) -> pd.DataFrame:
    """``forecast.csv``: every day after the cutoff, per series: forecast and baseline bands."""
    frames = []
    for item in result.forecasts:
        frame = pd.DataFrame({"series": item.series.name, "date": [day.isoformat() for day in item.days],
                              **_band_columns(item.forecast, ""), **_band_columns(item.baseline, "baseline_")})
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


# --------------------------------------------------------------------------------------------
# The results folder


def observed_table(result: BacktestResult) -> pd.DataFrame:
    """``observed.csv``: every figure, with what it was used for (calibration, scored, not used)."""
    from sim.studies.observation import observations_table

    table = observations_table([item.series for item in result.forecasts])
    dates = pd.to_datetime(table["date"]).dt.date
    table["used_for"] = np.where(dates <= result.cutoff, "calibration",
                                 np.where(dates <= result.until, "scored", "not used"))
    return table


def save_backtest(result: BacktestResult, destination=None, command_line: Sequence[str] | None = None,
                  started_at=None) -> Path:
    """Write the results folder atomically (an interrupt leaves nothing) and return its path.

    ``backtest.csv`` (scores per figure and summary rows), ``forecast.csv`` (daily bands),
    ``observed.csv``, the posterior the forecast drew from (``posterior.csv``,
    ``posterior-summary.csv``, ``posterior-diagnostics.csv``, ``posterior-fit.csv``,
    ``posterior-error-scales.csv``), ``forecast.yaml`` (the forecast scenario, drawing from
    ``posterior.csv`` beside it), the scenario files, ``figures/backtest.png``/``.svg`` and
    ``manifest.json``.
    """
    import hashlib
    import json
    import shutil
    from datetime import datetime

    from sim.outputs.backtest_figures import backtest_chart
    from sim.outputs.figures import save_figure
    from sim.outputs.results import (
        atomic_folder,
        default_run_folder,
        environment_versions,
        git_state,
        run_hash,
        sha256_file,
        write_csv,
    )
    from sim.scenario.uncertain_sample import SAMPLE_KEY
    from sim.studies.posterior_output import posterior_csv_text

    started_at = started_at or datetime.now().astimezone()
    resolved = result.scenario.to_yaml()
    identity = f"{resolved}\0cutoff={result.cutoff}\0until={result.until}\0" + "\0".join(result.posterior.keys)
    hash8 = run_hash(identity, result.seed, result.replications, "backtest")
    destination = Path(destination) if destination else default_run_folder(result.scenario.name, "backtest",
                                                                            started_at, hash8)
    posterior = result.posterior
    tables = {
        "backtest.csv": result.table, "forecast.csv": bands_table(result), "observed.csv": observed_table(result),
        "posterior-summary.csv": posterior.summary,
        "posterior-diagnostics.csv": posterior.diagnostics, "posterior-fit.csv": posterior.fit,
        "posterior-error-scales.csv": posterior.error_scales,
    }
    forecast_data = result.forecast_scenario.to_yaml_dict()
    forecast_data["uncertain"][SAMPLE_KEY] = "posterior.csv"
    with atomic_folder(destination) as folder:
        # The very bytes the forecast drew from (forecast.yaml beside it draws the same rows).
        (folder / "posterior.csv").write_bytes(posterior_csv_text(posterior.samples).encode("utf-8"))
        for name, table in tables.items():
            write_csv(table, folder / name)
        (folder / "forecast.yaml").write_bytes(_yaml_text(result.forecast_scenario, forecast_data).encode("utf-8"))
        (folder / "scenario.resolved.yaml").write_bytes(resolved.encode("utf-8"))
        copies = []
        for index, source in enumerate(result.scenario.source_files or []):
            copied_as = "scenario.yaml" if index == 0 else f"base-{index}-{Path(source).name}"
            shutil.copyfile(source, folder / copied_as)
            copies.append({"path": str(source), "sha256": sha256_file(source), "copied_as": copied_as})
        (folder / "figures").mkdir()
        figure = backtest_chart(tables["forecast.csv"], tables["observed.csv"], result.cutoff)
        if figure is not None:
            save_figure(figure, folder / "figures" / "backtest")
        git = git_state()
        manifest = {
            **environment_versions(), "git_commit": git["commit"], "git_dirty": git["dirty"],
            "command": "backtest", "command_line": list(command_line or []),
            "scenario_name": result.scenario.name, "scenario_files": copies,
            "scenario_resolved_sha256": hashlib.sha256(resolved.encode("utf-8")).hexdigest(),
            "seed": result.seed, "replications": result.replications, "run_hash": hash8,
            "cutoff": result.cutoff.isoformat(), "until": result.until.isoformat(),
            "fitted": posterior.keys, "posterior_samples": len(posterior.samples),
            "posterior_walkers": posterior.walkers, "posterior_steps": posterior.steps,
            "posterior_burn": posterior.burn, "posterior_converged": posterior.converged,
            "posterior_simulation_replications": posterior.replications,
            "started_at": started_at.isoformat(timespec="seconds"), "wall_seconds": result.wall_seconds,
            "files": {path.name: sha256_file(path) for path in sorted(folder.iterdir()) if path.is_file()},
        }
        text = json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n"
        (folder / "manifest.json").write_bytes(text.encode("utf-8"))
    return destination


def _yaml_text(scenario, data: dict) -> str:
    """``data`` (a scenario's plain data) as YAML the way :meth:`Scenario.to_yaml` writes it."""
    import yaml

    class _PlainDumper(yaml.SafeDumper):
        def ignore_aliases(self, data):  # equal dates must not become anchors
            return True

    from sim.scenario.yaml_lines import TIME_OF_DAY_TEXT

    def quote_times(dumper, text):
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"' if TIME_OF_DAY_TEXT.match(text) else None)

    _PlainDumper.add_representer(str, quote_times)
    header = (f"# Forecast scenario of a backtest: {scenario.name} cut at the last scored date; each replication\n"
              "# draws one row of posterior.csv (beside this file). Run it: bordersim run forecast.yaml\n")
    return header + yaml.dump(data, Dumper=_PlainDumper, sort_keys=False, allow_unicode=True, width=100)
