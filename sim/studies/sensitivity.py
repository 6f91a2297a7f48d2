"""``bordersim sensitivity``: one parameter at a time, low and high, under common random numbers.

For each ``--range key=low:high`` the scenario runs with the key at ``low`` and at ``high`` (all else
as in the file), plus once as it is; all runs use the same seed and replication indices, so the
effect of a parameter (high minus low) is measured replication by replication. The tornado table
lists, per key, P(target) and people crossed by the target date at low and high, and the effect on
each with a paired 95% interval; rows are sorted by the size of the effect on P(target), then on
people crossed (largest first).

``sensitivity.csv``: ``key, base_value, low, high, p_target_base, p_target_at_low, p_target_at_high,
p_target_effect, p_target_effect_ci95_low, p_target_effect_ci95_high, crossed_base, crossed_at_low,
crossed_at_high, crossed_effect, crossed_effect_ci95_low, crossed_effect_ci95_high``.
"""
from __future__ import annotations

import math
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
from sim.outputs.statistics import finite_mean
from sim.runs.executors import Executor, SerialExecutor
from sim.scenario.keypath import get_path
from sim.studies import experiments
from sim.studies.sweep import build_variants, parse_ranges


@dataclass(kw_only=True)
class SensitivityResult(experiments.StudyRun):
    scenario: Any
    ranges: list[tuple[str, Any, Any]]
    base_values: list[Any]

    @property
    def table(self) -> pd.DataFrame:
        base = self.variants[0].values
        rows = []
        for index, ((key, low, high), base_value) in enumerate(zip(self.ranges, self.base_values)):
            at_low = self.variants[1 + 2 * index].values
            at_high = self.variants[2 + 2 * index].values
            row: dict[str, Any] = {"key": key, "base_value": base_value, "low": low, "high": high}
            for metric, name in (("p_target", "p_target"), ("crossed_by_target_date", "crossed")):
                effect = experiments.paired_difference(at_low[metric], at_high[metric])
                row.update({f"{name}_base": _mean(base[metric]), f"{name}_at_low": _mean(at_low[metric]),
                            f"{name}_at_high": _mean(at_high[metric]), f"{name}_effect": effect["diff"],
                            f"{name}_effect_ci95_low": effect["diff_ci95_low"],
                            f"{name}_effect_ci95_high": effect["diff_ci95_high"]})
            rows.append(row)
        table = pd.DataFrame(rows)
        order = sorted(range(len(rows)), key=lambda i: (-_size(rows[i]["p_target_effect"]),
                                                        -_size(rows[i]["crossed_effect"]), i))
        return table.iloc[order].reset_index(drop=True)

    def lines(self) -> list[str]:
        table = self.table
        base = self.variants[0].values
        crossed = experiments.format_value("crossed_by_target_date", _mean(base["crossed_by_target_date"]))
        lines = [(f"Sensitivity: {len(self.ranges)} parameters, low/high x {self.replications} replications, "
                  f"seed {self.seed} (common random numbers)"),
                 (f"Base: P(target) {experiments.format_value('p_target', _mean(base['p_target']))}, "
                  f"crossed by target date {crossed}"),
                 "Effect of high vs low (mean [95% paired interval]), largest first:"]
        largest = max((abs(v) for v in table["crossed_effect"] if not math.isnan(v)), default=0.0)
        rows = [["key", "low", "high", "P(target) effect", "crossed effect", ""]]
        for _, row in table.iterrows():
            effect = row["crossed_effect"]
            width = 0 if largest == 0 or math.isnan(effect) else round(20 * abs(effect) / largest)
            bar = ("-" if effect < 0 else "+") * width
            rows.append([
                row["key"], _plain(row["low"]), _plain(row["high"]),
                experiments.value_with_interval("p_target", row["p_target_effect"], row["p_target_effect_ci95_low"],
                                                row["p_target_effect_ci95_high"], signed=True),
                experiments.value_with_interval("crossed_by_target_date", effect, row["crossed_effect_ci95_low"],
                                                row["crossed_effect_ci95_high"], signed=True),
                bar.ljust(20),
            ])
        return lines + experiments.render_table(rows)

    def _identity(self) -> str:
        return self.scenario.to_yaml() + "\0" + repr(self.ranges)

    def save(self, path=None, results_root=DEFAULT_RESULTS_ROOT) -> Path:
        hash8 = run_hash(self._identity(), self.seed, self.replications, "sensitivity")
        destination = Path(path) if path is not None else unique_folder(
            default_run_folder(self.scenario.name, "sensitivity", self.started_at, hash8, results_root))
        tables: dict[str, pd.DataFrame] = {"sensitivity.csv": self.table}
        dailies = [self.variants[index].daily for index in sorted(self.variants)]
        if all(daily is not None for daily in dailies):
            labels = ["base"] + [f"{key}={value}" for key, low, high in self.ranges for value in (low, high)]
            tables["daily.parquet"] = pd.concat(
                [daily.assign(variant=label)[["variant", *daily.columns]] for label, daily in zip(labels, dailies)],
                ignore_index=True)
        manifest = experiments.run_manifest(
            "sensitivity", self.command_line, self.seed, self.replications, _Described(self.executor_description),
            self.started_at, self.ended_at, self.wall_seconds,
            {"scenario_name": self.scenario.name, "run_hash": hash8,
             "ranges": [{"key": key, "low": low, "high": high} for key, low, high in self.ranges]})
        files = list(getattr(self.scenario, "source_files", []) or [])
        return write_results_folder(destination, tables=tables, manifest=manifest, scenario_sources=files,
                                    resolved_text=self.scenario.to_yaml())


@dataclass
class _Described:
    text: str

    def describe(self) -> str:
        return self.text


def _mean(values) -> float:
    return finite_mean(values)


def _size(value: float) -> float:
    return 0.0 if value is None or math.isnan(value) else abs(value)


def _plain(value) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def sensitivity(
    scenario,
    ranges: list[str],
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress=None,
    daily: bool = False,
    command_line: list[str] | None = None,
) -> SensitivityResult:
    """One-at-a-time low/high runs of ``scenario`` for each ``key=low:high`` in ``ranges``."""
    parsed = parse_ranges(scenario, ranges, "sensitivity")
    keys = [key for key, _, _ in parsed]
    data = scenario.to_yaml_dict()
    base_values = [get_path(data, key) for key in keys]
    normalised = []
    for (key, low, high), base_value in zip(parsed, base_values):
        if isinstance(base_value, int) and not isinstance(base_value, bool):
            low, high = round(low), round(high)
        normalised.append((key, low, high))
    points: list[dict[str, Any]] = [{}]
    for key, low, high in normalised:
        points += [{key: low}, {key: high}]
    variants = build_variants(scenario, points)
    replications = scenario.run.replications if replications is None else replications
    seed = scenario.run.seed if seed is None else seed
    executor = executor or SerialExecutor()
    started = datetime.now().astimezone()
    clock = time.perf_counter()
    results = experiments.run_variants(variants, replications, seed, executor, keep_daily=daily, progress=progress)
    return SensitivityResult(scenario=scenario, ranges=normalised, base_values=base_values, seed=seed,
                             replications=replications, variants=results, executor_description=executor.describe(),
                             started_at=started, ended_at=datetime.now().astimezone(),
                             wall_seconds=time.perf_counter() - clock, command_line=command_line)
