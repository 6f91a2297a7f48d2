"""``bordersim compare``: scenarios side by side under common random numbers, with paired differences.

Every scenario runs replications ``0..n-1`` with the same seed, so replication *r* of each sees the
same households, departures, routes and service draws. The key metrics (:data:`sim.studies.experiments.METRICS`)
are reported for each scenario (mean with a 95% interval; Wilson for P(target)), and each scenario
after the first is compared with the first replication by replication: the mean of the paired
differences with a Student-t interval on them (for P(target), the paired difference of the 0/1
indicators). Because the noise the scenarios share cancels in the differences, the paired interval
is much narrower than the one two independent runs would give.

Scenarios with a ``needs:`` block add one metric per item and node: its peak daily need in each
replication (``peak need: water at omari (litres)``, :mod:`sim.outputs.needs`), summarised and
paired like the others (a difference only where both scenarios have the item at that node).

``compare.csv`` (long): ``scenario, file, metric, mean, ci95_low, ci95_high, p05, p50, p95,
diff_vs_first, diff_ci95_low, diff_ci95_high``; ``replications.csv``: one row per scenario and
replication with the metrics; ``daily.parquet`` (with a ``scenario`` column) only with ``--daily``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from sim.outputs.results import (
    DEFAULT_RESULTS_ROOT,
    default_run_folder,
    run_hash,
    unique_folder,
    write_results_folder,
)
from sim.runs.executors import Executor, SerialExecutor
from sim.studies import experiments
from sim.studies.experiments import LABELS, METRICS

COMPARE_COLUMNS = ["scenario", "file", "metric", "mean", "ci95_low", "ci95_high", "p05", "p50", "p95",
                   "diff_vs_first", "diff_ci95_low", "diff_ci95_high"]


def _labels(scenarios) -> list[str]:
    labels: list[str] = []
    for scenario in scenarios:
        label = scenario.name
        if label in labels:
            label = f"{label}#{len(labels) + 1}"
        labels.append(label)
    return labels


@dataclass(kw_only=True)
class CompareResult(experiments.StudyRun):
    scenarios: list[Any]
    labels: list[str]

    @property
    def need_metrics(self) -> list[str]:
        """The peak-need metrics of any scenario, in order of first appearance."""
        return list(dict.fromkeys(metric for index in range(len(self.scenarios))
                                  for metric in self.variants[index].values if metric not in METRICS))

    @property
    def table(self) -> pd.DataFrame:
        rows = []
        first = self.variants[0]
        for index, (scenario, label) in enumerate(zip(self.scenarios, self.labels)):
            values = self.variants[index].values
            for metric in [*METRICS, *self.need_metrics]:
                if metric not in values:
                    continue
                row: dict[str, Any] = {"scenario": label, "file": scenario.source or "", "metric": metric,
                                       **experiments.summarise(metric, values[metric])}
                if index == 0 or metric not in first.values:
                    row.update(diff_vs_first=float("nan"), diff_ci95_low=float("nan"), diff_ci95_high=float("nan"))
                else:
                    paired = experiments.paired_difference(first.values[metric], values[metric])
                    row.update(diff_vs_first=paired["diff"], diff_ci95_low=paired["diff_ci95_low"],
                               diff_ci95_high=paired["diff_ci95_high"])
                rows.append(row)
        return pd.DataFrame(rows, columns=COMPARE_COLUMNS)

    @property
    def replications_table(self) -> pd.DataFrame:
        frames = []
        for index, label in enumerate(self.labels):
            values = self.variants[index].values
            frame = pd.DataFrame({"scenario": label, "replication": range(self.replications),
                                  **{metric: values[metric] for metric in [*METRICS, *self.need_metrics]
                                     if metric in values}})
            frames.append(frame)
        return pd.concat(frames, ignore_index=True)

    @property
    def daily(self) -> pd.DataFrame | None:
        frames = []
        for index, label in enumerate(self.labels):
            daily = self.variants[index].daily
            if daily is None:
                return None
            frames.append(daily.assign(scenario=label)[["scenario", *daily.columns]])
        return pd.concat(frames, ignore_index=True)

    def lines(self) -> list[str]:
        """Side-by-side metrics, then the paired differences against the first scenario."""
        table = self.table
        start = self.scenarios[0].period.start
        header = [(f"Compare: {len(self.scenarios)} scenarios x {self.replications} replications, seed {self.seed} "
                   "(common random numbers); mean [95% interval]")]
        rows = [["", *self.labels]]
        for metric in METRICS:
            row = [LABELS[metric]]
            for label in self.labels:
                record = table[(table.scenario == label) & (table.metric == metric)].iloc[0]
                if metric == "target_reached_day":
                    row.append(experiments.format_value(metric, record.p50, start))
                else:
                    interval = experiments.format_interval(metric, record.ci95_low, record.ci95_high)
                    row.append(f"{experiments.format_value(metric, record['mean'])} {interval}".strip())
            rows.append(row)
        lines = header + experiments.render_table(rows)
        if len(self.scenarios) > 1:
            lines.append("")
            lines.append(f"Paired difference vs {self.labels[0]} (mean [95% interval]):")
            rows = [["", *self.labels[1:]]]
            for metric in METRICS:
                row = [LABELS[metric].replace(" (median)", " (days)")]
                for label in self.labels[1:]:
                    record = table[(table.scenario == label) & (table.metric == metric)].iloc[0]
                    interval = experiments.format_interval(metric, record.diff_ci95_low, record.diff_ci95_high,
                                                           signed=True)
                    row.append(f"{experiments.format_signed(metric, record.diff_vs_first)} {interval}".strip())
                rows.append(row)
            lines += experiments.render_table(rows)
        return lines + self.need_lines(table)

    def need_lines(self, table: pd.DataFrame) -> list[str]:
        """Peak daily needs side by side (median [p05, p95] over replications), then their paired
        differences against the first scenario; nothing when no scenario has a ``needs:`` block."""
        if not self.need_metrics:
            return []
        lines = ["", "Peak-day needs: median [p05, p95] over replications"]
        rows = [["", *self.labels]]
        for metric in self.need_metrics:
            row = [metric.removeprefix("peak need: ")]
            for label in self.labels:
                found = table[(table.scenario == label) & (table.metric == metric)]
                row.append("-" if found.empty else
                           f"{experiments.format_value(metric, found.iloc[0].p50)} "
                           f"{experiments.format_interval(metric, found.iloc[0].p05, found.iloc[0].p95)}")
            rows.append(row)
        lines += experiments.render_table(rows)
        if len(self.scenarios) > 1:
            lines += ["", f"Peak-day needs, paired difference vs {self.labels[0]} (mean [95% interval]):"]
            rows = [["", *self.labels[1:]]]
            for metric in self.need_metrics:
                row = [metric.removeprefix("peak need: ")]
                for label in self.labels[1:]:
                    found = table[(table.scenario == label) & (table.metric == metric)]
                    record = None if found.empty else found.iloc[0]
                    row.append("-" if record is None or pd.isna(record.diff_vs_first) else
                               experiments.value_with_interval(metric, record.diff_vs_first, record.diff_ci95_low,
                                                               record.diff_ci95_high, signed=True))
                rows.append(row)
            lines += experiments.render_table(rows)
        return lines

    def _identity(self) -> str:
        return "\0".join(scenario.to_yaml() for scenario in self.scenarios)

    def default_folder(self, results_root=DEFAULT_RESULTS_ROOT) -> Path:
        hash8 = run_hash(self._identity(), self.seed, self.replications, "compare")
        return unique_folder(default_run_folder(self.scenarios[0].name, "compare", self.started_at, hash8,
                                                results_root))

    def save(self, path=None, format: str = "parquet", results_root=DEFAULT_RESULTS_ROOT) -> Path:
        destination = Path(path) if path is not None else self.default_folder(results_root)
        tables: dict[str, pd.DataFrame] = {"compare.csv": self.table, "replications.csv": self.replications_table}
        daily = self.daily
        if daily is not None:
            tables[f"daily.{format}"] = daily
        first = self.scenarios[0]
        manifest = experiments.run_manifest(
            "compare", self.command_line, self.seed, self.replications, _Described(self.executor_description),
            self.started_at, self.ended_at, self.wall_seconds,
            {"scenario_name": first.name,
             "run_hash": run_hash(self._identity(), self.seed, self.replications, "compare"),
             "scenarios": [{"label": label, "name": scenario.name, "files": scenario.source_files,
                            "resolved_yaml": scenario.to_yaml()}
                           for label, scenario in zip(self.labels, self.scenarios)]})
        return write_results_folder(destination, tables=tables, manifest=manifest,
                                    scenario_sources=_sources(first), resolved_text=first.to_yaml())


@dataclass
class _Described:
    text: str

    def describe(self) -> str:
        return self.text


def _sources(scenario) -> list[str]:
    files = getattr(scenario, "source_files", None)
    return list(files) if files else []


def compare(
    scenarios: list[Any],
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress=None,
    daily: bool = False,
    command_line: list[str] | None = None,
) -> CompareResult:
    """Run every scenario with the same seed and replication indices; see :class:`CompareResult`.

    Defaults (replications, seed) come from the first scenario's ``run:`` block; ``executor``
    defaults to this process.
    """
    if not scenarios:
        raise ValueError("compare needs at least one scenario")
    first = scenarios[0]
    replications = first.run.replications if replications is None else replications
    seed = first.run.seed if seed is None else seed
    executor = executor or SerialExecutor()
    started = datetime.now().astimezone()
    clock = time.perf_counter()
    variants = experiments.run_variants(scenarios, replications, seed, executor, keep_daily=daily,
                                        with_needs=any(scenario.needs for scenario in scenarios), progress=progress)
    return CompareResult(scenarios=list(scenarios), labels=_labels(scenarios), seed=seed, replications=replications,
                         variants=variants, executor_description=executor.describe(), started_at=started,
                         ended_at=datetime.now().astimezone(), wall_seconds=time.perf_counter() - clock,
                         command_line=command_line)
