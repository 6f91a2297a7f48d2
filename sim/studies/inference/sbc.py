"""``bordersim sbc``: simulation-based calibration of the posterior calibration.

Is ``bordersim calibrate --method posterior`` right about its own uncertainty? Simulation-based
calibration (Talts et al. 2018; statistics in :mod:`sim.studies.inference.ranks`) answers by
making data sets whose truth is known and checking where each truth falls in its posterior.
For each data set ``i`` of ``N``:

1. **a truth from the prior**: every fitted parameter drawn from its prior (``--fit key=low:high``
   uniform, ``--prior key=DIST``), from a random stream of ``(seed, i)``;
2. **one replication** of the scenario at that truth, with its own seed (:func:`dataset_seed`,
   never the fit's): the fit sees other households than the data came from, as with real data;
3. **figures through the observation model** (:func:`simulate_figures`) on the dates and series of
   ``--observed`` (its values are ignored): each series' error scale (and, on running totals, error
   correlation) drawn from its prior, then the reporters' errors through the fit's own likelihood;
4. **the fit**: :func:`sim.studies.posterior.fit_posterior` with exactly the options ``calibrate``
   passes (the same seed as ``calibrate`` would use: ``--seed`` or the scenario's), serially inside
   one worker;
5. **where the truth fell**: its rank among ``L`` posterior draws spread evenly over the sample
   (:func:`~sim.studies.inference.ranks.thinned`), whether it lies inside the central 50 % and
   90 % intervals, the posterior mean and 5–95 % quantiles.

Data sets run in parallel (``-j``, ``--scheduler``: :mod:`sim.runs.executors`); each depends only
on ``(seed, i)``, so serial and parallel runs write identical tables. Like ``sweep``, the run keeps
a sibling ``<folder>.partial/`` (the plan in ``spec.json``, every finished data set appended to
``datasets.jsonl``); ``bordersim sbc --resume <folder>.partial`` fits only the missing data sets.
The results folder is written whole at the end: ``ranks.csv``, ``coverage.csv``,
``uniformity.csv``, ``rank-histograms.png`` and ``sbc.md``.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.studies import resumable
from sim.studies.inference import ranks as rank_stats
from sim.studies.observation import ObservedSeries, observations_table, series_from_table
from sim.studies.priors import Prior

SPEC_NAME = "spec.json"
DATASETS_NAME = "datasets.jsonl"
RESOLVED_NAME = "scenario.resolved.yaml"
MAX_DATASETS = 100_000
RANK_COLUMNS = ["dataset", "parameter", "truth", "rank", "draws", "inside_50", "inside_90", "posterior_mean",
                "p05", "p95", "seed", "converged", "rhat_max", "ess_bulk_min", "evaluations"]
"""The last four describe the data set's fit (the same on each of its rows): whether it met the
convergence criteria, its largest rank R-hat and smallest bulk ESS over every unknown, and the
model evaluations it took. SBC judges the calibration *as it runs by default*: a fit that stopped
unconverged still counts, and says so here."""


class SbcError(ValueError):
    """Bad ``sbc`` input or a folder that cannot be resumed (one line; the CLI exits 2)."""


# --------------------------------------------------------------------------------------------
# One data set


def dataset_seed(seed: int, dataset: int) -> int:
    """The seed of data set ``dataset``'s replication: a hash of (seed, dataset), never ``seed``
    itself (the fit's), so the fit never sees the households the data came from."""
    from sim.model.streams import stable_hash

    value = stable_hash(f"sbc/data/{seed}/{dataset}")
    return value if value != seed else value + 1


def draw_truth(priors: Sequence[Prior], seed: int, dataset: int) -> dict[str, float]:
    """Every fitted parameter drawn from its prior (inverse CDF of one uniform each)."""
    from sim.model.streams import new_stream

    rng = new_stream(seed, dataset, "sbc/truth")
    return {prior.key: float(prior.ppf(rng.uniform())) for prior in priors}


def simulate_figures(series: Sequence[ObservedSeries], daily: Mapping[str, np.ndarray], period_start,
                     error_priors: Mapping[str, Prior], independent: bool, rng: np.random.Generator
                     ) -> list[ObservedSeries]:
    """The series with their values replaced by figures drawn through the fit's own observation
    model (:class:`~sim.studies.inference.likelihood.Likelihood`) from one replication's path
    ``daily``: every error term drawn from its prior, then the reporters' errors, jointly."""
    from sim.studies.inference.likelihood import ErrorTerms, Figures, Likelihood, SimulatorNoise
    from sim.studies.inference.surrogate import FigureMap

    figures = Figures.of(series, period_start)
    errors = ErrorTerms.default(figures, error_priors, independent)
    error_values = np.array([prior.ppf(rng.uniform()) for prior in errors.priors])
    figure_map = FigureMap(tuple(series), period_start)
    likelihood = Likelihood(figures, errors, SimulatorNoise.none(len(figures), 0))
    drawn = likelihood.simulate(figure_map.values(daily), np.zeros(0), error_values, rng,
                                figure_map.extra_variance(daily))
    edges = np.cumsum([len(s.dates) for s in series])[:-1]
    return [s.with_values(np.maximum(values, 0.0)) for s, values in zip(series, np.split(drawn, edges))]


@dataclass
class DatasetFit:
    """``dataset index`` ↦ ``(index, rows of ranks.csv)``: the whole of one data set, picklable so
    that an executor can run it in a worker (the fit itself runs serially there)."""

    scenario: Any
    priors: list[Prior]
    series: list[ObservedSeries]
    error_priors: dict[str, Prior]
    fit_options: dict[str, Any]
    seed: int
    draws: int = rank_stats.DEFAULT_DRAWS
    fit: Callable | None = None  # default sim.studies.posterior.fit_posterior (tests may wrap it)

    def observed(self, dataset: int) -> tuple[dict[str, float], list[ObservedSeries], int]:
        """The truth, the simulated figures and the replication's seed of data set ``dataset``."""
        from sim.model.streams import new_stream
        from sim.runs.evaluate import daily_crossed

        truth = draw_truth(self.priors, self.seed, dataset)
        replication_seed = dataset_seed(self.seed, dataset)
        until = max(day for s in self.series for day in s.dates)
        daily = daily_crossed(self.scenario, seed=replication_seed, until=until, values=truth)
        figures = simulate_figures(self.series, daily, self.scenario.period.start, self.error_priors,
                                   bool(self.fit_options.get("independent_errors", False)),
                                   new_stream(self.seed, dataset, "sbc/observation"))
        return truth, figures, replication_seed

    def __call__(self, dataset: int) -> tuple[int, list[dict[str, Any]]]:
        from sim.scenario.errors import ScenarioError

        fit = self.fit
        if fit is None:
            from sim.studies.posterior import fit_posterior as fit
        try:
            truth, figures, replication_seed = self.observed(dataset)
        except ScenarioError as error:
            raise SbcError(f"data set {dataset}: the scenario rejects the values drawn from the priors: "
                           f"{str(error).splitlines()[0]}") from None
        result = fit(self.scenario, figures, self.priors, self.seed, jobs=1, error_priors=self.error_priors,
                     **self.fit_options)
        rows = self.rows(dataset, truth, result.samples, replication_seed)
        return dataset, [{**row, **fit_facts(result)} for row in rows]

    def rows(self, dataset: int, truth: dict[str, float], samples: pd.DataFrame, replication_seed: int
             ) -> list[dict[str, Any]]:
        """The rows of ``ranks.csv`` for one data set: where each truth fell in its posterior
        ``samples`` (weighted by their ``weight`` column where the weights differ)."""
        from sim.model.streams import new_stream

        ties = new_stream(self.seed, dataset, "sbc/ties")
        weights = samples["weight"].to_numpy(float) if "weight" in samples.columns else None
        rows = []
        for prior in self.priors:
            values = samples[prior.key].to_numpy(float)
            value = truth[prior.key]
            try:
                draws = rank_stats.thinned(values, self.draws, weights)
            except ValueError as error:
                raise SbcError(f"data set {dataset}: {error}") from None
            p05, p95 = rank_stats.quantiles(values, [0.05, 0.95], weights)
            rows.append({"dataset": dataset, "parameter": prior.key, "truth": value,
                         "rank": rank_stats.rank(value, draws, ties), "draws": self.draws,
                         "inside_50": rank_stats.inside(value, values, 0.5, weights),
                         "inside_90": rank_stats.inside(value, values, 0.9, weights),
                         "posterior_mean": float(np.average(values, weights=weights)), "p05": float(p05),
                         "p95": float(p95), "seed": replication_seed})
        return rows


def fit_facts(result) -> dict[str, Any]:
    """A fit's convergence in the columns of ``ranks.csv``: converged, largest R-hat, smallest bulk
    ESS (over every unknown, error terms included) and the surrogate evaluations it took."""
    table = result.diagnostics
    rhat = table.loc[table["quantity"] == "rhat_rank", "value"]
    ess = table.loc[table["quantity"] == "ess_bulk", "value"]
    evaluations = table.loc[table["quantity"] == "surrogate_evaluations", "value"]
    return {"converged": bool(result.converged), "rhat_max": float(rhat.max()), "ess_bulk_min": float(ess.min()),
            "evaluations": int(evaluations.iloc[0])}


# --------------------------------------------------------------------------------------------
# The plan on disk


@dataclass
class SbcPlan:
    """Everything an SBC run needs, kept in its ``.partial`` folder so that it can be resumed."""

    partial: Path
    destination: Path
    priors: list[Prior]
    error_priors: dict[str, Prior]
    series: list[ObservedSeries]
    fit_options: dict[str, Any]
    datasets: int
    seed: int
    draws: int
    bins: int | None
    command_line: list[str]
    source_files: list[str]
    source_sha256: list[str]
    started_at: str
    done: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    def scenario(self):
        from sim.scenario import load_scenario

        return load_scenario(self.partial / RESOLVED_NAME)

    def remaining(self) -> list[int]:
        return [index for index in range(self.datasets) if index not in self.done]

    def task(self, scenario, fit: Callable | None = None) -> DatasetFit:
        return DatasetFit(scenario, self.priors, self.series, self.error_priors, self.fit_options, self.seed,
                          self.draws, fit)


def check_fit(scenario, priors: Sequence[Prior], series: Sequence[ObservedSeries],
              error_priors: Mapping[str, Prior], fit_options: Mapping[str, Any], draws: int) -> None:
    """What ``calibrate`` would refuse, refused before anything is written (raises PosteriorError /
    ObservationError): the key paths, the series against the scenario, the walkers."""
    from sim.studies.inference.likelihood import ErrorTerms, Figures
    from sim.studies.posterior import _checked_priors, _checked_series, checked_walkers

    _checked_priors(scenario, priors)
    _checked_series(scenario, series, None)
    figures = Figures.of(list(series), scenario.period.start)
    try:
        errors = ErrorTerms.default(figures, error_priors, bool(fit_options.get("independent_errors", False)))
    except ValueError as error:
        raise SbcError(str(error)) from None
    checked_walkers(len(priors) + len(errors), fit_options.get("walkers"))


def plan_sbc(scenario, priors: Sequence[Prior], series: Sequence[ObservedSeries], *, datasets: int, seed: int,
             draws: int = rank_stats.DEFAULT_DRAWS, bins: int | None = None,
             error_priors: Mapping[str, Prior] | None = None, fit_options: Mapping[str, Any] | None = None,
             out: str | os.PathLike[str] | None = None, results_root: str | os.PathLike[str] = "results",
             command_line: Sequence[str] | None = None) -> SbcPlan:
    """Check the input and create the ``.partial`` folder of a new SBC run; return its plan."""
    import sys

    from sim.outputs.results import default_run_folder, run_hash, unique_folder

    error_priors = dict(error_priors or {})
    fit_options = dict(fit_options or {})
    if not 1 <= datasets <= MAX_DATASETS:
        raise SbcError(f"--datasets {datasets}: give between 1 and {MAX_DATASETS:,}")
    if draws < 1:
        raise SbcError(f"--rank-draws {draws}: must be at least 1")
    if bins is not None and (bins < 1 or (draws + 1) % bins):
        raise SbcError(f"--bins {bins}: must divide the {draws + 1} possible ranks 0..{draws} into equal bins")
    check_fit(scenario, priors, series, error_priors, fit_options, draws)
    try:
        options_text = json.dumps(fit_options, sort_keys=True)
    except TypeError as error:
        raise SbcError(f"fit options must be plain numbers, text or flags: {error}") from None
    observed = observations_table(series)
    resolved = scenario.to_yaml()
    identity = "\0".join([resolved, json.dumps([p.as_record() for p in priors]), options_text,
                          observed.to_csv(index=False), str(draws)])
    started = datetime.now().astimezone()
    destination = Path(out) if out is not None else unique_folder(default_run_folder(
        scenario.name, "sbc", started, run_hash(identity, seed, datasets, "sbc"), results_root))
    partial = resumable.new_partial(destination, SbcError)
    sources = list(getattr(scenario, "source_files", []) or [])
    plan = SbcPlan(partial=partial, destination=destination, priors=list(priors), error_priors=error_priors,
                   series=list(series), fit_options=fit_options, datasets=datasets, seed=seed, draws=draws, bins=bins,
                   command_line=list(command_line if command_line is not None else sys.argv), source_files=sources,
                   source_sha256=[resumable.sha256(path) for path in sources], started_at=started.isoformat(timespec="seconds"))
    partial.mkdir(parents=True)
    (partial / RESOLVED_NAME).write_bytes(resolved.encode("utf-8"))
    spec = {"destination": str(destination), "priors": [p.as_record() for p in priors],
            "error_priors": {name: p.as_record() for name, p in error_priors.items()},
            "observed": observed.to_dict(orient="records"), "fit_options": fit_options, "datasets": datasets,
            "seed": seed, "draws": draws, "bins": bins, "command_line": plan.command_line, "source_files": sources,
            "source_sha256": plan.source_sha256, "started_at": plan.started_at}
    resumable.fsync_write(partial / SPEC_NAME, json.dumps(spec, indent=2) + "\n")
    resumable.fsync_write(partial / DATASETS_NAME, "")
    return plan


_SPEC_TYPES = {"destination": str, "priors": list, "error_priors": dict, "observed": list, "fit_options": dict,
               "datasets": int, "seed": int, "draws": int, "command_line": list, "started_at": str}


def _plan_from_spec(folder: Path, spec: Any) -> SbcPlan:
    """The plan in a ``spec.json`` read back from disk; ValueError saying what is wrong."""
    if not isinstance(spec, dict):
        raise ValueError("not an sbc plan (a JSON object was expected)")  # noqa: TRY004 - reported as ValueError
    for key, kind in _SPEC_TYPES.items():
        if not isinstance(spec.get(key), kind) or isinstance(spec.get(key), bool):
            raise ValueError(f"'{key}' is missing or not a {kind.__name__}")  # noqa: TRY004 - reported as ValueError
    if spec["datasets"] < 1 or spec["draws"] < 1 or spec["seed"] < 0:
        raise ValueError("datasets and draws must be at least 1 and seed not negative")
    bins = spec.get("bins")
    if bins is not None and (not isinstance(bins, int) or bins < 1):
        raise ValueError("'bins' must be a whole number or null")
    datetime.fromisoformat(spec["started_at"])
    series = series_from_table(pd.DataFrame(spec["observed"]).astype({"date": str}))
    return SbcPlan(partial=folder, destination=Path(spec["destination"]),
                   priors=[Prior.from_record(record) for record in spec["priors"]],
                   error_priors={str(name): Prior.from_record(record) for name, record in spec["error_priors"].items()},
                   series=series, fit_options=spec["fit_options"], datasets=spec["datasets"], seed=spec["seed"],
                   draws=spec["draws"], bins=bins, command_line=spec["command_line"],
                   source_files=spec.get("source_files", []), source_sha256=spec.get("source_sha256", []),
                   started_at=spec["started_at"])


def load_plan(folder: str | os.PathLike[str]) -> SbcPlan:
    """The plan and finished data sets of an interrupted run (``FOLDER`` or ``FOLDER.partial``)."""
    plan = resumable.read_plan(folder, SPEC_NAME, RESOLVED_NAME, _plan_from_spec, SbcError, "sbc")
    records = resumable.read_records(plan.partial / DATASETS_NAME, lambda record: _dataset_record(record, plan), SbcError,
                                     "data set")
    plan.done.update(records)
    return plan


def _dataset_record(record: Any, plan: SbcPlan) -> tuple[int, list[dict[str, Any]]]:
    if not isinstance(record, dict) or not isinstance(record.get("rows"), list):
        raise ValueError("not a finished data set (an object with dataset and rows was expected)")  # noqa: TRY004
    index = record.get("dataset")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < plan.datasets:
        raise ValueError(f"data set {index!r} is not one of 0..{plan.datasets - 1}")
    keys = [prior.key for prior in plan.priors]
    rows = record["rows"]
    if [row.get("parameter") if isinstance(row, dict) else None for row in rows] != keys:
        raise ValueError(f"data set {index}: needs one row per fitted parameter ({', '.join(keys)})")
    if any(set(row) != set(RANK_COLUMNS) for row in rows):
        raise ValueError(f"data set {index}: rows must have the columns {', '.join(RANK_COLUMNS)}")
    return index, rows


# --------------------------------------------------------------------------------------------
# Running and the results folder


@dataclass
class SbcResult:
    folder: Path
    ranks: pd.DataFrame
    coverage: pd.DataFrame
    uniformity: pd.DataFrame
    resumed: int
    wall_seconds: float

    def lines(self) -> list[str]:
        return summary_lines(self.coverage, self.uniformity, self.resumed, self.ranks)


def ranks_table(plan: SbcPlan) -> pd.DataFrame:
    rows = [row for index in sorted(plan.done) for row in plan.done[index]]
    return pd.DataFrame(rows, columns=RANK_COLUMNS)


def run_sbc(plan: SbcPlan, executor, progress: Callable[[int, int], None] | None = None,
            fit: Callable | None = None) -> SbcResult:
    """Fit the missing data sets of ``plan``, then write the results folder and remove the partial one."""
    clock = time.perf_counter()
    scenario = plan.scenario()
    resumed = len(plan.done)
    records = plan.partial / DATASETS_NAME
    if progress is not None:
        progress(resumed, plan.datasets)
    for index, rows in executor.map_unordered(plan.task(scenario, fit), plan.remaining()):
        resumable.fsync_write(records, json.dumps({"dataset": index, "rows": rows}) + "\n", mode="a")
        plan.done[index] = rows
        if progress is not None:
            progress(len(plan.done), plan.datasets)
    ranks = ranks_table(plan)
    coverage = rank_stats.coverage_table(ranks)
    uniformity = rank_stats.uniformity_table(ranks, plan.draws, plan.bins)
    folder = _write(plan, scenario, executor, ranks, coverage, uniformity, resumed)
    shutil.rmtree(plan.partial, ignore_errors=True)
    return SbcResult(folder, ranks, coverage, uniformity, resumed, time.perf_counter() - clock)


def _write(plan: SbcPlan, scenario, executor, ranks, coverage, uniformity, resumed: int) -> Path:
    from sim.outputs.results import run_hash, write_results_folder
    from sim.outputs.sbc_figures import rank_histograms_png
    from sim.studies import experiments

    sources = resumable.unchanged_sources(plan.source_files, plan.source_sha256)
    resolved = (plan.partial / RESOLVED_NAME).read_bytes().decode("utf-8")
    ended = datetime.now().astimezone()
    started = datetime.fromisoformat(plan.started_at)
    manifest = experiments.run_manifest(
        "sbc", plan.command_line, plan.seed, 1, executor, started, ended, (ended - started).total_seconds(),
        {"scenario_name": scenario.name, "datasets": plan.datasets, "rank_draws": plan.draws,
         "fitted": [p.key for p in plan.priors], "priors": {p.key: p.describe() for p in plan.priors},
         "error_priors": {name: p.describe() for name, p in plan.error_priors.items()},
         "fit_options": plan.fit_options, "datasets_resumed": resumed,
         "run_hash": run_hash(resolved, plan.seed, plan.datasets, "sbc")})
    bins = {row["parameter"]: int(row["bins"]) for _, row in uniformity.iterrows() if row["parameter"] != "combined"}
    figure = rank_histograms_png(ranks, plan.draws, bins)
    report = report_markdown(plan, scenario.name, coverage, uniformity, ranks)
    return write_results_folder(plan.destination, tables={"ranks.csv": ranks, "coverage.csv": coverage,
                                                          "uniformity.csv": uniformity},
                                manifest=manifest, scenario_sources=sources, resolved_text=resolved,
                                files={"rank-histograms.png": figure, "sbc.md": report.encode("utf-8")})


# --------------------------------------------------------------------------------------------
# Verdicts and summaries


def verdict(coverage: pd.DataFrame, uniformity: pd.DataFrame) -> tuple[bool, bool]:
    """(ranks uniform: the combined p-value above 0.01, coverage in range: each parameter's 50 % and
    90 % nominal levels inside the binomial 95 % intervals of its coverage)."""
    combined = uniformity[uniformity["parameter"] == "combined"]["uniform"]
    uniform = bool(combined.iloc[0]) if len(combined) else False
    in_range = bool(coverage["coverage_50_nominal_inside"].all() and coverage["coverage_90_nominal_inside"].all())
    return uniform, in_range


def verdict_lines(coverage: pd.DataFrame, uniformity: pd.DataFrame) -> list[str]:
    """The verdict, and what to look at when it fails."""
    uniform, in_range = verdict(coverage, uniformity)
    combined = float(uniformity.set_index("parameter").loc["combined", "p_value"])
    lines = [(f"verdict: ranks {'uniform' if uniform else 'NOT uniform'} (combined p = {combined:.3g}, threshold "
              f"{rank_stats.UNIFORM_P_THRESHOLD}); coverage {'in range' if in_range else 'OUT OF RANGE'} (nominal "
              "0.5 and 0.9 inside the binomial 95% intervals)")]
    if not (uniform and in_range):
        lines.append("the posterior is miscalibrated on this case: read rank-histograms.png (a U shape: too "
                     "narrow; a hump: too wide; a slope: biased)")
    return lines


def summary_lines(coverage: pd.DataFrame, uniformity: pd.DataFrame, resumed: int = 0,
                  ranks: pd.DataFrame | None = None) -> list[str]:
    """What the command prints: per parameter coverage and uniformity, then the verdict."""
    lines = [f"Resumed: {resumed} data sets were already done"] if resumed else []
    lines.append(f"Simulation-based calibration over {int(coverage['datasets'].max())} data sets:")
    if ranks is not None and len(ranks):
        lines.append("  " + convergence_line(ranks))
    tests = uniformity.set_index("parameter")
    for _, row in coverage.iterrows():
        test = tests.loc[row["parameter"]]
        lines.append(f"  {row['parameter']}: 50% coverage {row['coverage_50']:.2f} [{row['coverage_50_ci95_low']:.2f}, "
                     f"{row['coverage_50_ci95_high']:.2f}], 90% coverage {row['coverage_90']:.2f} "
                     f"[{row['coverage_90_ci95_low']:.2f}, {row['coverage_90_ci95_high']:.2f}]; ranks chi-square "
                     f"p = {test['p_value']:.3g} ({int(test['bins'])} bins), {int(test['at_ends'])} beyond every "
                     f"draw (expected {test['at_ends_expected']:.1f}, p = {test['at_ends_p_value']:.3g})")
    return lines + verdict_lines(coverage, uniformity)


def convergence_line(ranks: pd.DataFrame) -> str:
    """How the fits ended: how many converged, the worst R-hat and ESS, the evaluations they took."""
    fits = ranks.drop_duplicates("dataset")
    return (f"fits converged: {int(fits['converged'].sum())} of {len(fits)} (largest R-hat "
            f"{fits['rhat_max'].max():.3f}, smallest bulk ESS {fits['ess_bulk_min'].min():.0f}; median "
            f"{fits['evaluations'].median():,.0f} evaluations a fit)")


def report_markdown(plan: SbcPlan, scenario_name: str, coverage: pd.DataFrame, uniformity: pd.DataFrame,
                    ranks: pd.DataFrame) -> str:
    """``sbc.md``: what was run and what it shows, for a reader of the folder."""
    options = ", ".join(f"{key}={value}" for key, value in sorted(plan.fit_options.items())) or "defaults"
    parts = [f"# Simulation-based calibration: {scenario_name}", "",
             (f"{plan.datasets} data sets, seed {plan.seed}; each truth ranked among {plan.draws} posterior draws "
              f"(ranks 0..{plan.draws}). Fit options: {options}."), "",
             ("| parameter | prior | coverage 50 % [95 % CI] | coverage 90 % [95 % CI] | chi-square p | beyond every "
             "draw (expected, p) |"),
             "|---|---|---|---|---|---|"]
    tests = uniformity.set_index("parameter")
    priors = {p.key: p.describe() for p in plan.priors}
    for _, row in coverage.iterrows():
        parts.append(f"| `{row['parameter']}` | {priors.get(row['parameter'], '')} | {row['coverage_50']:.2f} "
                     f"[{row['coverage_50_ci95_low']:.2f}, {row['coverage_50_ci95_high']:.2f}] | "
                     f"{row['coverage_90']:.2f} [{row['coverage_90_ci95_low']:.2f}, "
                     f"{row['coverage_90_ci95_high']:.2f}] | {tests.loc[row['parameter'], 'p_value']:.3g} | "
                     f"{int(tests.loc[row['parameter'], 'at_ends'])} ({tests.loc[row['parameter'], 'at_ends_expected']:.1f}, "
                     f"{tests.loc[row['parameter'], 'at_ends_p_value']:.3g}) |")
    parts += ["", f"- {convergence_line(ranks)}", *(f"- {line}" for line in verdict_lines(coverage, uniformity)), "",
              ("Files: `ranks.csv` (one row per data set and parameter), `coverage.csv`, `uniformity.csv` "
               "(per parameter a chi-square of the binned ranks and a test of the truths beyond every draw; "
               "`combined`: the smallest p-value times the number of tests), "
               "`rank-histograms.png` (grey: the band a correct posterior leaves 99 % of bins in)."), "",
              "Command: `" + " ".join(plan.command_line) + "`", ""]
    return "\n".join(parts)


__all__ = ["DatasetFit", "SbcError", "SbcPlan", "SbcResult", "dataset_seed", "draw_truth", "load_plan", "plan_sbc",
           "ranks_table", "run_sbc", "simulate_figures", "summary_lines", "verdict"]
