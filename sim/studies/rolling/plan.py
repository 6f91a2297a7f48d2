"""The plan of a rolling-origin evaluation on disk: checked, resumable, written whole at the end.

Like ``sweep`` and ``sbc`` (:mod:`sim.studies.resumable`), a run keeps a sibling
``<folder>.partial/``: the plan (``spec.json``: priors, fit options, the observed figures,
cutoffs, horizons, replications, seed; the resolved scenario) and a sub-folder
``cutoffs/<cutoff>/`` per finished cutoff, each written whole (renamed into place when complete,
so it exists only when finished). ``bordersim backtest --resume <folder>.partial`` runs only the
cutoffs without a sub-folder. The tables of the results folder are always computed from the
sub-folders' ``figures.csv`` as written on disk, so a resumed run writes the same bytes as one
that was never interrupted, and the cutoffs may finish in any order (``-j``, Dask).

The results folder: ``scores.csv``, ``summary.csv``, ``bounds.csv``
(:mod:`~sim.studies.rolling.scores`), ``cutoffs.csv`` (per cutoff: the last day forecast, the
figures fitted and scored, whether the fit converged), ``figures.csv`` (every scored figure of every
cutoff), ``scores.png``, ``cutoffs/<cutoff>/`` (``figures.csv``, ``forecast.png``, the posterior:
``posterior.csv``, ``posterior-summary.csv``, ``posterior-diagnostics.csv``,
``posterior-error-scales.csv``, and ``cutoff.json``), the scenario files and ``manifest.json``.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.studies import resumable
from sim.studies.observation import ObservedSeries, observations_table, series_from_table
from sim.studies.priors import Prior
from sim.studies.rolling.cutoff import (
    CutoffForecast,
    CutoffResult,
    RollingError,
    error_priors_at,
    forecast_end,
    sigma_priors_of,
)
from sim.studies.rolling.scores import bounds_table, counted, scores_table, summary_lines, summary_table

SPEC_NAME = "spec.json"
RESOLVED_NAME = "scenario.resolved.yaml"
CUTOFFS_FOLDER = "cutoffs"
FIGURES_NAME = "figures.csv"
CUTOFF_NAME = "cutoff.json"
MAX_CUTOFFS = 1000
CUTOFF_COLUMNS = ["cutoff", "forecast_until", "fitted_figures", "scored_figures", "scored_lower_bounds", "converged",
                  "posterior_samples"]


@dataclass
class RollingPlan:
    """Everything a rolling-origin run needs, kept in its ``.partial`` folder so that it can be resumed."""

    partial: Path
    destination: Path
    priors: list[Prior]
    error_priors: dict[str, Prior]
    series: list[ObservedSeries]
    fit_options: dict[str, Any]
    cutoffs: list[dt.date]
    horizons_days: list[int]
    replications: int
    seed: int
    command_line: list[str]
    source_files: list[str]
    source_sha256: list[str]
    started_at: str
    done: list[dt.date] = field(default_factory=list)

    def scenario(self):
        from sim.scenario import load_scenario

        return load_scenario(self.partial / RESOLVED_NAME)

    def folder_of(self, cutoff: dt.date) -> Path:
        return self.partial / CUTOFFS_FOLDER / cutoff.isoformat()

    def remaining(self) -> list[dt.date]:
        return [cutoff for cutoff in self.cutoffs if cutoff not in self.done]

    def task(self, scenario, fit: Callable | None = None) -> CutoffForecast:
        return CutoffForecast(scenario, self.priors, self.series, self.error_priors, self.fit_options,
                              self.horizons_days, self.replications, self.seed, fit)


# --------------------------------------------------------------------------------------------
# Checking and planning


def check_plan(scenario, priors: Sequence[Prior], series: Sequence[ObservedSeries], error_priors: Mapping[str, Prior],
               fit_options: Mapping[str, Any], cutoffs: Sequence[dt.date], horizons_days: Sequence[int]) -> None:
    """Refuse, before anything is written, what would fail at some cutoff: a cutoff outside the
    period, with no figure up to it or none within the longest horizon after it, and whatever the
    fit at that cutoff would refuse (key paths, error-term priors, walkers)."""
    from sim.studies.inference.sbc import check_fit

    if not cutoffs or len(cutoffs) > MAX_CUTOFFS:
        raise RollingError(f"--cutoffs: give between 1 and {MAX_CUTOFFS} dates")
    if not horizons_days:
        raise RollingError("--horizons: give at least one horizon in days")
    if not series:
        raise RollingError("no observed series: give --observed CSV (or bundled:NAME)")
    start, end = scenario.period.start, scenario.period.end
    independent = bool(fit_options.get("independent_errors", False))
    try:
        sigma_priors_of(series, error_priors, start, independent)
    except ValueError as error:
        raise RollingError(str(error)) from None
    first = min(s.dates[0] for s in series)
    last = max(s.dates[-1] for s in series)
    for cutoff in cutoffs:
        if not start <= cutoff <= end:
            raise RollingError(f"--cutoffs {cutoff}: outside the scenario's period {start}..{end}")
        known = [s for s in (item.until(cutoff) for item in series) if s is not None]
        if not known:
            raise RollingError(f"--cutoffs {cutoff}: before the first observed figure ({first}): nothing to fit on")
        if forecast_end(series, cutoff, max(horizons_days)) is None:
            raise RollingError(f"--cutoffs {cutoff}: no observed figure within {counted(max(horizons_days), 'day')} "
                               f"after it: nothing to score (the figures run {first}..{last})")
        check_fit(scenario, priors, known, error_priors_at(error_priors, known, start, independent), fit_options, 1)


def plan_rolling(scenario, priors: Sequence[Prior], series: Sequence[ObservedSeries], *, cutoffs: Sequence[dt.date],
                 horizons_days: Sequence[int], replications: int, seed: int,
                 error_priors: Mapping[str, Prior] | None = None, fit_options: Mapping[str, Any] | None = None,
                 out: str | os.PathLike[str] | None = None, results_root: str | os.PathLike[str] = "results",
                 command_line: Sequence[str] | None = None) -> RollingPlan:
    """Check the input and create the ``.partial`` folder of a new run; return its plan.
    Raises :class:`RollingError` (or the fit's own input errors) before writing anything."""
    import sys

    from sim.outputs.results import default_run_folder, run_hash, unique_folder

    error_priors = dict(error_priors or {})
    fit_options = dict(fit_options or {})
    cutoffs = sorted(cutoffs)
    horizons_days = sorted(horizons_days)
    check_plan(scenario, priors, series, error_priors, fit_options, cutoffs, horizons_days)
    observed = observations_table(series)
    resolved = scenario.to_yaml()
    try:
        options_text = json.dumps(fit_options, sort_keys=True)
    except TypeError as error:
        raise RollingError(f"fit options must be plain numbers, text or flags: {error}") from None
    identity = "\0".join([resolved, json.dumps([p.as_record() for p in priors]), options_text,
                          observed.to_csv(index=False), ",".join(map(str, cutoffs)), ",".join(map(str, horizons_days))])
    started = datetime.now().astimezone()
    destination = Path(out) if out is not None else unique_folder(default_run_folder(
        scenario.name, "backtest", started, run_hash(identity, seed, replications, "backtest"), results_root))
    partial = resumable.new_partial(destination, RollingError)
    sources = list(getattr(scenario, "source_files", []) or [])
    plan = RollingPlan(partial=partial, destination=destination, priors=list(priors), error_priors=error_priors,
                       series=list(series), fit_options=fit_options, cutoffs=list(cutoffs),
                       horizons_days=list(horizons_days), replications=replications, seed=seed,
                       command_line=list(command_line if command_line is not None else sys.argv), source_files=sources,
                       source_sha256=[resumable.sha256(path) for path in sources],
                       started_at=started.isoformat(timespec="seconds"))
    (partial / CUTOFFS_FOLDER).mkdir(parents=True)
    (partial / RESOLVED_NAME).write_bytes(resolved.encode("utf-8"))
    spec = {"destination": str(destination), "priors": [p.as_record() for p in priors],
            "error_priors": {name: p.as_record() for name, p in error_priors.items()},
            "observed": observed.to_dict(orient="records"), "fit_options": fit_options,
            "cutoffs": [cutoff.isoformat() for cutoff in cutoffs], "horizons_days": list(horizons_days),
            "replications": replications, "seed": seed, "command_line": plan.command_line, "source_files": sources,
            "source_sha256": plan.source_sha256, "started_at": plan.started_at}
    resumable.fsync_write(partial / SPEC_NAME, json.dumps(spec, indent=2) + "\n")
    return plan


_SPEC_TYPES = {"destination": str, "priors": list, "error_priors": dict, "observed": list, "fit_options": dict,
               "cutoffs": list, "horizons_days": list, "replications": int, "seed": int, "command_line": list,
               "started_at": str}


def _plan_from_spec(folder: Path, spec: Any) -> RollingPlan:
    """The plan in a ``spec.json`` read back from disk; ValueError saying what is wrong."""
    resumable.check_spec(spec, _SPEC_TYPES, "backtest")
    horizons = spec["horizons_days"]
    if not horizons or any(not isinstance(h, int) or isinstance(h, bool) or h < 1 for h in horizons):
        raise ValueError("'horizons_days' must be whole numbers of days, at least 1")
    if spec["replications"] < 2 or spec["seed"] < 0:
        raise ValueError("replications must be at least 2 and seed not negative")
    datetime.fromisoformat(spec["started_at"])
    return RollingPlan(partial=folder, destination=Path(spec["destination"]),
                       priors=[Prior.from_record(record) for record in spec["priors"]],
                       error_priors={str(name): Prior.from_record(record)
                                     for name, record in spec["error_priors"].items()},
                       series=series_from_table(pd.DataFrame(spec["observed"]).astype({"date": str})),
                       fit_options=spec["fit_options"],
                       cutoffs=[dt.date.fromisoformat(str(text)) for text in spec["cutoffs"]],
                       horizons_days=horizons, replications=spec["replications"], seed=spec["seed"],
                       command_line=spec["command_line"], source_files=spec.get("source_files", []),
                       source_sha256=spec.get("source_sha256", []), started_at=spec["started_at"])


def load_plan(folder: str | os.PathLike[str]) -> RollingPlan:
    """The plan and finished cutoffs of an interrupted run (``FOLDER`` or ``FOLDER.partial``)."""
    plan = resumable.read_plan(folder, SPEC_NAME, RESOLVED_NAME, _plan_from_spec, RollingError, "backtest")
    plan.done = [cutoff for cutoff in plan.cutoffs if (plan.folder_of(cutoff) / FIGURES_NAME).is_file()]
    return plan


# --------------------------------------------------------------------------------------------
# Running and the results folder


@dataclass
class RollingResult:
    folder: Path
    scores: pd.DataFrame
    summary: pd.DataFrame
    bounds: pd.DataFrame
    cutoffs: pd.DataFrame
    resumed: int
    wall_seconds: float

    def lines(self) -> list[str]:
        """What the command prints: the cutoffs, unconverged fits, the scores per horizon."""
        lines = [f"Resumed: {counted(self.resumed, 'cutoff')} already done"] if self.resumed else []
        lines.append(f"Rolling-origin backtest over {counted(len(self.cutoffs), 'cutoff')} "
                     f"({', '.join(self.cutoffs['cutoff'])}); scores per horizon over every series and cutoff:")
        lines += summary_lines(self.summary)
        unconverged = self.cutoffs[~self.cutoffs["converged"].astype(bool)]["cutoff"].tolist()
        if unconverged:
            lines.append(f"warning: the fit did not converge at {', '.join(unconverged)} (cutoffs.csv; "
                         "posterior-diagnostics.csv in each cutoff's folder)")
        return lines


def run_rolling(plan: RollingPlan, executor, progress: Callable[[int, int], None] | None = None,
                fit: Callable | None = None) -> RollingResult:
    """Run the missing cutoffs of ``plan``, then write the results folder and remove the partial one."""
    clock = time.perf_counter()
    scenario = plan.scenario()
    resumed = len(plan.done)
    if progress is not None:
        progress(resumed, len(plan.cutoffs))
    for result in executor.map_unordered(plan.task(scenario, fit), plan.remaining()):
        write_cutoff(plan, result)
        plan.done.append(result.cutoff)
        if progress is not None:
            progress(len(plan.done), len(plan.cutoffs))
    figures = pd.concat([read_figures(plan.folder_of(cutoff)) for cutoff in plan.cutoffs], ignore_index=True)
    tables = {"scores.csv": scores_table(figures, plan.horizons_days),
              "summary.csv": summary_table(figures, plan.horizons_days),
              "bounds.csv": bounds_table(figures, plan.horizons_days),
              "cutoffs.csv": cutoffs_table(plan), "figures.csv": figures}
    folder = _write(plan, executor, tables, resumed)
    shutil.rmtree(plan.partial, ignore_errors=True)
    return RollingResult(folder, tables["scores.csv"], tables["summary.csv"], tables["bounds.csv"],
                         tables["cutoffs.csv"], resumed, time.perf_counter() - clock)


def read_figures(folder: Path) -> pd.DataFrame:
    """A cutoff's ``figures.csv`` as written (dates as text)."""
    text = {"cutoff": str, "series": str, "kind": str, "first_day": str, "date": str}
    return pd.read_csv(folder / FIGURES_NAME, dtype=text, keep_default_na=False, na_values=[""])


def write_cutoff(plan: RollingPlan, result: CutoffResult) -> Path:
    """The sub-folder of one finished cutoff, written whole (it exists only when complete)."""
    from sim.outputs.results import atomic_folder, write_csv
    from sim.outputs.rolling_figures import cutoff_png
    from sim.studies.posterior_output import posterior_csv_text

    destination = plan.folder_of(result.cutoff)
    known = observations_table([s for s in (item.until(result.cutoff) for item in plan.series) if s is not None])
    with atomic_folder(destination) as folder:
        (folder / "posterior.csv").write_bytes(posterior_csv_text(result.samples).encode("utf-8"))
        for name, table in {"posterior-summary.csv": result.summary, "posterior-diagnostics.csv": result.diagnostics,
                            "posterior-error-scales.csv": result.error_scales, FIGURES_NAME: result.figures}.items():
            write_csv(table, folder / name)
        (folder / "forecast.png").write_bytes(cutoff_png(result.figures, known, result.cutoff))
        record = {"cutoff": result.cutoff.isoformat(), "forecast_until": result.forecast_until.isoformat(),
                  "fitted_figures": result.fitted_figures, "converged": result.converged,
                  "posterior_samples": len(result.samples), "wall_seconds": result.wall_seconds}
        (folder / CUTOFF_NAME).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return destination


def cutoffs_table(plan: RollingPlan) -> pd.DataFrame:
    """``cutoffs.csv``: per cutoff, from its ``cutoff.json`` and ``figures.csv``."""
    rows = []
    for cutoff in plan.cutoffs:
        folder = plan.folder_of(cutoff)
        record = json.loads((folder / CUTOFF_NAME).read_text(encoding="utf-8"))
        figures = read_figures(folder)
        bounds = figures["lower_bound"].astype(bool)
        rows.append({"cutoff": record["cutoff"], "forecast_until": record["forecast_until"],
                     "fitted_figures": record["fitted_figures"], "scored_figures": int((~bounds).sum()),
                     "scored_lower_bounds": int(bounds.sum()), "converged": bool(record["converged"]),
                     "posterior_samples": record["posterior_samples"]})
    return pd.DataFrame(rows, columns=CUTOFF_COLUMNS)


def _write(plan: RollingPlan, executor, tables: dict[str, pd.DataFrame], resumed: int) -> Path:
    from sim.outputs.results import run_hash, write_results_folder
    from sim.outputs.rolling_figures import scores_png
    from sim.studies import experiments

    sources = resumable.unchanged_sources(plan.source_files, plan.source_sha256)
    resolved = (plan.partial / RESOLVED_NAME).read_bytes().decode("utf-8")
    ended = datetime.now().astimezone()
    started = datetime.fromisoformat(plan.started_at)
    manifest = experiments.run_manifest(
        "backtest", plan.command_line, plan.seed, plan.replications, executor, started, ended,
        (ended - started).total_seconds(),
        {"cutoffs": [cutoff.isoformat() for cutoff in plan.cutoffs], "horizons_days": plan.horizons_days,
         "fitted": [p.key for p in plan.priors], "priors": {p.key: p.describe() for p in plan.priors},
         "error_priors": {name: p.describe() for name, p in plan.error_priors.items()},
         "fit_options": plan.fit_options, "cutoffs_resumed": resumed,
         "run_hash": run_hash(resolved, plan.seed, plan.replications, "backtest")})
    return write_results_folder(plan.destination, tables=tables, manifest=manifest, scenario_sources=sources,
                                resolved_text=resolved, files={"scores.png": scores_png(tables["scores.csv"])},
                                folders={CUTOFFS_FOLDER: plan.partial / CUTOFFS_FOLDER})


__all__ = ["CUTOFF_COLUMNS", "RollingPlan", "RollingResult", "check_plan", "cutoffs_table", "load_plan",
           "plan_rolling", "read_figures", "run_rolling", "write_cutoff"]
