"""Several scenario variants under common random numbers, reduced as replications arrive.

The shared core of ``compare``, ``sweep`` and ``sensitivity``. A *variant* is a validated
scenario (a file, a sweep point, a low or high value of one parameter). Every variant runs the same
replication indices with the same seed, so each replication of one variant sees the same
households, departures and service draws as that replication of every other variant (common
random numbers): differences between variants are then measured replication by replication
(paired), which removes most of the noise the variants share.

Tasks are ``(variant, replication)`` pairs on any :mod:`sim.runs.executors` executor. A worker reduces
its replication to a handful of numbers (:data:`METRICS`) before sending it back, so memory stays
flat however many replications and points run; the daily arrays travel only with ``--daily``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

from sim.outputs import analysis
from sim.outputs.statistics import finite_mean, quantiles_with_infinity, t_interval, wilson_interval
from sim.runs.runner import ReplicationJob

METRICS: tuple[str, ...] = (
    "p_target",
    "target_reached_day",
    "crossed_by_target_date",
    "peak_queue_people",
    "wait_hours_p95",
    "peak_waiting_outside_people",
)
"""Per replication: reached the target by its date (0/1), day reached (days from the period start,
``inf`` if never), people crossed by the target date (period end without a target), the peak
queue at all crossings together, the 95th percentile of waits, the peak waiting outside camps."""

LABELS: dict[str, str] = {
    "p_target": "P(target)",
    "target_reached_day": "Target reached (median)",
    "crossed_by_target_date": "Crossed by target date",
    "peak_queue_people": "Peak queue (people)",
    "wait_hours_p95": "Wait p95 (hours)",
    "peak_waiting_outside_people": "Peak waiting outside camps",
}


def reduce_outcome(outcome, period_start: date, target_by: date | None) -> dict[str, float]:
    """The :data:`METRICS` of one replication."""
    target_day = analysis._target_day_index(period_start, target_by)
    reach_hours = analysis._reach_hours(outcome)
    return {
        "p_target": float(analysis._reached_by(outcome, target_day)) if target_by is not None else math.nan,
        "target_reached_day": reach_hours / analysis.HOURS_PER_DAY if target_by is not None else math.nan,
        "crossed_by_target_date": analysis._total(outcome, "crossed_by_target_date"),
        "peak_queue_people": analysis._total(outcome, "peak_queue_people"),
        "wait_hours_p95": analysis._total(outcome, "wait_hours_p95"),
        "peak_waiting_outside_people": analysis._total(outcome, "peak_waiting_outside_people"),
    }


def peak_needs(outcome, needs: Mapping[str, Any]) -> dict[str, float]:
    """The peak daily need of each item at each node in one replication (``needs``: the scenario's
    ``needs:`` block), keyed as :func:`sim.outputs.needs.peak_needs` names them."""
    if not needs:
        return {}
    from sim.outputs import needs as needs_output

    return {label: float(values[0])
            for label, values in needs_output.peak_needs(needs_output.need_series([outcome], needs)).items()}


class VariantJob:
    """The task function: ``(variant, replication)`` → ``(variant, replication, metrics, outcome|None)``.

    With ``with_needs`` the metrics also hold each need item's peak daily need (:func:`peak_needs`)."""

    def __init__(self, scenarios: Sequence[Any], seed: int, keep_daily: bool = False,
                 with_needs: bool = False) -> None:
        self.jobs = [ReplicationJob(scenario, seed) for scenario in scenarios]
        self.keep_daily = keep_daily
        self.with_needs = with_needs

    def __call__(self, task: tuple[int, int]):
        variant, replication = task
        job = self.jobs[variant]
        outcome = job(replication)
        target = job.scenario.target
        metrics = reduce_outcome(outcome, job.scenario.period.start, target.by if target else None)
        if self.with_needs:
            metrics.update(peak_needs(outcome, job.scenario.needs))
        return variant, replication, metrics, (outcome if self.keep_daily else None)


@dataclass
class VariantResult:
    """The per-replication metrics of one variant, in replication order."""

    index: int
    values: dict[str, np.ndarray]
    daily: Any = None  # a DataFrame with --daily

    @property
    def replications(self) -> int:
        return len(next(iter(self.values.values())))


@dataclass(kw_only=True)
class StudyRun:
    """What every study of variants records besides its own inputs: how it was run and its results."""

    seed: int
    replications: int
    variants: dict[int, VariantResult]
    executor_description: str
    started_at: datetime
    ended_at: datetime
    wall_seconds: float
    command_line: list[str] | None = None


@dataclass
class _Collector:
    replications: int
    rows: dict[int, dict[int, dict[str, float]]] = field(default_factory=dict)
    daily: dict[int, list] = field(default_factory=dict)


def run_variants(
    scenarios: Sequence[Any],
    replications: int,
    seed: int,
    executor,
    *,
    variants: Iterable[int] | None = None,
    keep_daily: bool = False,
    with_needs: bool = False,
    progress: Callable[[int, int], None] | None = None,
    on_variant: Callable[[VariantResult], None] | None = None,
) -> dict[int, VariantResult]:
    """Run replications ``0..replications-1`` of each variant (all, or the indices ``variants``).
    ``with_needs``: the values also hold the peak need of each item at each node (:func:`peak_needs`).

    ``on_variant`` is called as soon as all replications of a variant are back (a sweep writes the
    point to its partial file then). Returns the results by variant index.
    """
    chosen = list(range(len(scenarios))) if variants is None else list(variants)
    total = len(chosen) * replications
    job = VariantJob(scenarios, seed, keep_daily, with_needs)
    collector = _Collector(replications)
    results: dict[int, VariantResult] = {}
    tasks = ((variant, replication) for variant in chosen for replication in range(replications))
    for done, (variant, replication, metrics, outcome) in enumerate(executor.map_unordered(job, tasks), start=1):
        collector.rows.setdefault(variant, {})[replication] = metrics
        if outcome is not None:
            collector.daily.setdefault(variant, []).append(
                analysis.daily_table([outcome], scenarios[variant].period.start))
            del outcome
        if progress:
            progress(done, total)
        rows = collector.rows[variant]
        if len(rows) == replications:
            values = {metric: np.array([rows[r][metric] for r in range(replications)], dtype=float)
                      for metric in rows[0]}
            daily = None
            if keep_daily:
                import pandas as pd

                daily = pd.concat(collector.daily.pop(variant, []), ignore_index=True)
                daily = daily.sort_values(["replication"], kind="stable").reset_index(drop=True)
            result = VariantResult(variant, values, daily)
            del collector.rows[variant]
            results[variant] = result
            if on_variant:
                on_variant(result)
    return results


# --------------------------------------------------------------------------------------------
# Statistics of one variant and of paired differences


def summarise(metric: str, values: np.ndarray) -> dict[str, float]:
    """Mean with its 95% interval (Wilson for P(target), Student t otherwise) and quantiles."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if values.size == 0:
        return {"mean": math.nan, "ci95_low": math.nan, "ci95_high": math.nan,
                "p05": math.nan, "p50": math.nan, "p95": math.nan}
    if metric == "p_target":
        low, high = wilson_interval(float(values.sum()), int(values.size))
        return {"mean": float(values.mean()), "ci95_low": low, "ci95_high": high,
                "p05": math.nan, "p50": math.nan, "p95": math.nan}
    low, high = t_interval(values)
    p05, p50, p95 = quantiles_with_infinity(values)
    return {"mean": finite_mean(values), "ci95_low": low, "ci95_high": high, "p05": p05, "p50": p50, "p95": p95}


def paired_difference(first: np.ndarray, second: np.ndarray) -> dict[str, float]:
    """Mean of ``second - first`` replication by replication, with a t interval on the differences.

    For P(target) this is the paired difference of the 0/1 indicators. NaN when a difference is
    undefined (a replication never reaching the target has no finite reach day).
    """
    first = np.asarray(first, dtype=float)
    second = np.asarray(second, dtype=float)
    if first.shape != second.shape or first.size == 0:
        raise ValueError("paired differences need the same replications in both variants")
    if not (np.all(np.isfinite(first)) and np.all(np.isfinite(second))):
        return {"diff": math.nan, "diff_ci95_low": math.nan, "diff_ci95_high": math.nan}
    differences = second - first
    low, high = t_interval(differences)
    if differences.size >= 2 and np.all(differences == differences[0]):
        low = high = float(differences[0])  # identical differences: no spread (t gives 0/0 noise)
    return {"diff": float(differences.mean()), "diff_ci95_low": low, "diff_ci95_high": high}


def unpaired_difference(first: np.ndarray, second: np.ndarray, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean difference of two *independent* samples with a Welch t interval: (diff, low, high).

    What the difference would look like without common random numbers (for comparison only).
    """
    from scipy.stats import t as student_t

    first = np.asarray(first, dtype=float)
    second = np.asarray(second, dtype=float)
    v1, v2 = first.var(ddof=1) / first.size, second.var(ddof=1) / second.size
    se = math.sqrt(v1 + v2)
    df = (v1 + v2) ** 2 / (v1 ** 2 / (first.size - 1) + v2 ** 2 / (second.size - 1)) if se > 0 else 1.0
    half = float(student_t.ppf(0.5 + confidence / 2, df)) * se
    diff = float(second.mean() - first.mean())
    return diff, diff - half, diff + half


# --------------------------------------------------------------------------------------------
# Formatting for the terminal


def format_value(metric: str, value: float, period_start: date | None = None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if metric == "p_target":
        return f"{value:.2f}"
    if metric == "target_reached_day":
        if math.isinf(value):
            return "never"
        if period_start is not None:
            return analysis.reach_date(period_start, value * analysis.HOURS_PER_DAY).isoformat()
        return f"day {value:.1f}"
    if metric == "wait_hours_p95":
        return f"{value:.1f} h"
    if math.isinf(value):
        return "∞"
    return f"{value:,.0f}"


def format_signed(metric: str, value: float) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    if metric == "p_target":
        return f"{value:+.2f}"
    if metric == "target_reached_day":
        return f"{value:+.1f} d"
    if metric == "wait_hours_p95":
        return f"{value:+.1f} h"
    return f"{value:+,.0f}"


def format_interval(metric: str, low: float, high: float, signed: bool = False) -> str:
    fmt = format_signed if signed else format_value
    if math.isnan(low) or math.isnan(high):
        return ""
    return f"[{fmt(metric, low)}, {fmt(metric, high)}]"


def value_with_interval(metric: str, value: float, low: float, high: float, signed: bool = False) -> str:
    """``530,112 [527,899, 532,870]``; signed (``+1,234 [+1,000, +1,500]``) for differences."""
    fmt = format_signed if signed else format_value
    return f"{fmt(metric, value)} {format_interval(metric, low, high, signed)}".strip()


def render_table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell; the first column left-aligned, the others right."""
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [row[0].ljust(widths[0])] + [cell.rjust(width) for cell, width in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells).rstrip())
    return lines


def run_manifest(command: str, command_line: Sequence[str] | None, seed: int, replications: int,
                 executor, started_at, ended_at, wall_seconds: float, extra: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest of a compare / sweep / sensitivity folder (files are added when written)."""
    import sys

    from sim.outputs.results import _iso, environment_versions, git_state

    git = git_state()
    return {
        **environment_versions(),
        "git_commit": git["commit"],
        "git_dirty": git["dirty"],
        "command": command,
        "command_line": list(command_line if command_line is not None else sys.argv),
        "seed": seed,
        "replications": replications,
        "executor": executor.describe(),
        "started_at": _iso(started_at),
        "ended_at": _iso(ended_at),
        "wall_seconds": wall_seconds,
        **extra,
    }
