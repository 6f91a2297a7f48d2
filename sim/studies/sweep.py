"""``bordersim sweep``: a scenario over a grid or a Latin hypercube of parameter values.

Points are given as key paths (the grammar of ``--set``):

* ``--vary key=a:b:step`` — ``a, a+step, …`` up to ``b`` included; ``--vary key=v1,v2,…`` — listed
  values; several ``--vary`` make the full grid (every combination);
* ``--lhs N --range key=low:high …`` — N points of a Latin hypercube (``scipy.stats.qmc``, seeded by
  the sweep's seed) scaled to the ranges.

A value that is an integer in the scenario (lanes, people) is rounded to an integer. Every point
is validated like a ``--set`` before anything runs. All points run the same replication indices
and seed (common random numbers), so neighbouring points differ by the parameters, not by noise.

Interruption and ``--resume``. The sweep's folder ``results/<name>/sweep-<stamp>-<hash8>`` is
written whole at the end, like every results folder. Meanwhile its sibling ``<folder>.partial/``
holds the plan (``spec.json``, ``scenario.resolved.yaml``) and every finished point, appended to
``points.jsonl`` as soon as its last replication is back (with ``--daily``, also
``daily-point-NNNN.parquet``). If the sweep is interrupted or fails, that folder stays, and
``bordersim sweep --resume <folder>.partial`` runs only the missing points and then writes the same
``sweep.csv`` an uninterrupted sweep would have.

``sweep.csv``: one row per point: ``point``, the varied key paths, ``replications``, then
``p_target`` with ``p_target_ci95_low/high`` (Wilson), ``target_reached_day_p50`` (days from the
period start; ``inf`` = not within the period) and, for ``crossed_by_target_date``,
``peak_queue_people``, ``wait_hours_p95`` and ``peak_waiting_outside_people``, ``<metric>_mean``
with ``<metric>_ci95_low/high`` (Student t).
"""
from __future__ import annotations

import itertools
import json
import math
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sim.outputs.results import (
    DEFAULT_RESULTS_ROOT,
    default_run_folder,
    run_hash,
    unique_folder,
    write_results_folder,
)
from sim.scenario.keypath import KeyPathError, get_path, parse_key_path, parse_value
from sim.studies import experiments, resumable

PARTIAL_SUFFIX = resumable.PARTIAL_SUFFIX
SPEC_NAME = "spec.json"
POINTS_NAME = "points.jsonl"
RESOLVED_NAME = "scenario.resolved.yaml"
MAX_POINTS = 10_000
"""Points a sweep may have: each is a validated scenario held in memory before anything runs."""
SUMMARY_METRICS = ("crossed_by_target_date", "peak_queue_people", "wait_hours_p95", "peak_waiting_outside_people")


class SweepError(ValueError):
    """Bad sweep input: malformed --vary/--range, unknown key path, or a folder that cannot be resumed."""


# --------------------------------------------------------------------------------------------
# Parsing --vary and --range


def _split_assignment(text: str, option: str) -> tuple[str, str]:
    key, separator, value = text.partition("=")
    if not separator or not key.strip() or not value.strip():
        raise SweepError(f"{option} '{text}': write key.path=values, e.g. crossings.torkham.lanes=40:70:10")
    try:
        parse_key_path(key.strip())
    except KeyPathError as error:
        raise SweepError(f"{option} '{text}': {error}") from None
    return key.strip(), value.strip()


def _number(text: str, option: str, whole: str) -> float | int:
    value = parse_value(text)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SweepError(f"{option} '{whole}': '{text}' is not a number")
    return value


def parse_vary(text: str) -> tuple[str, list[Any]]:
    """``key=a:b:step`` (b included) or ``key=v1,v2,…`` → (key, values)."""
    key, spec = _split_assignment(text, "--vary")
    if ":" in spec and "," not in spec and not spec.startswith(("{", "[")):
        parts = spec.split(":")
        if len(parts) != 3:
            raise SweepError(f"--vary '{text}': a range is start:stop:step, e.g. 40:70:10")
        start, stop, step = (_number(part, "--vary", text) for part in parts)
        if step <= 0:
            raise SweepError(f"--vary '{text}': the step must be positive")
        if stop < start:
            raise SweepError(f"--vary '{text}': stop {stop} is below start {start}")
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_POINTS:
            raise SweepError(f"--vary '{text}': {count:,} values; at most {MAX_POINTS:,} points in a sweep")
        integral = all(isinstance(value, int) for value in (start, stop, step))
        values = [start + index * step for index in range(count)]
        return key, [int(value) for value in values] if integral else [round(value, 12) for value in values]
    values = [parse_value(part) for part in spec.split(",") if part.strip()]
    if not values:
        raise SweepError(f"--vary '{text}': no values")
    return key, values


def parse_range(text: str) -> tuple[str, float, float]:
    """``key=low:high`` → (key, low, high)."""
    key, spec = _split_assignment(text, "--range")
    parts = spec.split(":")
    if len(parts) != 2:
        raise SweepError(f"--range '{text}': write key.path=low:high, e.g. groups.undocumented.never_leave=0.3:0.6")
    low, high = (_number(part, "--range", text) for part in parts)
    if high < low:
        raise SweepError(f"--range '{text}': high {high} is below low {low}")
    return key, low, high


def check_keys(scenario, keys: Sequence[str], option: str) -> None:
    """Every key path must exist in the scenario (a typo must never sweep nothing)."""
    data = scenario.to_yaml_dict()
    for key in keys:
        try:
            get_path(data, key)
        except KeyPathError as error:
            raise SweepError(f"{option} {key}: unknown key path: {error}") from None


def _is_integer_value(scenario_data, key: str) -> bool:
    value = get_path(scenario_data, key)
    return isinstance(value, int) and not isinstance(value, bool)


def grid_points(scenario, varies: Sequence[str]) -> list[dict[str, Any]]:
    """The full grid of ``--vary`` values, the first key varying slowest."""
    parsed = [parse_vary(text) for text in varies]
    keys = [key for key, _ in parsed]
    if len(set(keys)) != len(keys):
        raise SweepError("--vary: each key path may be varied once")
    check_keys(scenario, keys, "--vary")
    count = math.prod(len(values) for _, values in parsed)
    if count > MAX_POINTS:
        raise SweepError(f"--vary: the grid has {count:,} points (the product of the values of each --vary); "
                         f"at most {MAX_POINTS:,}: vary fewer keys or fewer values, or use --lhs N")
    return [dict(zip(keys, combination)) for combination in itertools.product(*(values for _, values in parsed))]


def parse_ranges(scenario, ranges: Sequence[str], command: str) -> list[tuple[str, Any, Any]]:
    """The ``--range key=low:high`` options of ``command``: at least one, each key once, each a
    numeric key path of ``scenario``."""
    parsed = [parse_range(text) for text in ranges]
    if not parsed:
        raise SweepError(f"{command} needs at least one --range key=low:high")
    keys = [key for key, _, _ in parsed]
    if len(set(keys)) != len(keys):
        raise SweepError("--range: each key path may be given once")
    check_keys(scenario, keys, "--range")
    return parsed


def lhs_points(scenario, ranges: Sequence[str], n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` Latin-hypercube points over the ``--range`` boxes (integers where the scenario has one)."""
    from scipy.stats import qmc

    if n < 1:
        raise SweepError("--lhs: the number of points must be at least 1")
    if n > MAX_POINTS:
        raise SweepError(f"--lhs {n:,}: at most {MAX_POINTS:,} points")
    parsed = parse_ranges(scenario, ranges, "--lhs")
    data = scenario.to_yaml_dict()
    unit = qmc.LatinHypercube(d=len(parsed), seed=seed).random(n)
    points = []
    for row in unit:
        point = {}
        for (key, low, high), u in zip(parsed, row):
            value = float(low + u * (high - low))
            point[key] = round(value) if _is_integer_value(data, key) else value
        points.append(point)
    return points


def build_variants(scenario, points: Sequence[dict[str, Any]]) -> list[Any]:
    """Each point as a validated scenario (raises ScenarioError for a point the scenario rejects)."""
    from sim.scenario.errors import ScenarioError

    variants = []
    for index, point in enumerate(points):
        try:
            variants.append(scenario.with_values(point) if point else scenario)
        except ScenarioError as error:
            values = ", ".join(f"{key}={value}" for key, value in point.items())
            raise SweepError(f"point {index} ({values}) is not a valid scenario: {str(error).splitlines()[0]}") from None
    return variants


# --------------------------------------------------------------------------------------------
# The plan on disk


@dataclass
class SweepPlan:
    """Everything a sweep needs, kept in its ``.partial`` folder so that it can be resumed."""

    partial: Path
    destination: Path
    points: list[dict[str, Any]]
    seed: int
    replications: int
    design: str
    daily: bool
    command_line: list[str]
    source_files: list[str]
    source_sha256: list[str]
    started_at: str
    done: dict[int, dict[str, list[float]]] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        keys: list[str] = []
        for point in self.points:
            keys += [key for key in point if key not in keys]
        return keys

    def scenario(self):
        from sim.scenario import load_scenario

        scenario = load_scenario(self.partial / RESOLVED_NAME)
        return scenario

    def remaining(self) -> list[int]:
        return [index for index in range(len(self.points)) if index not in self.done]


def plan_sweep(scenario, points: list[dict[str, Any]], *, seed: int, replications: int, design: str,
               daily: bool = False, out: str | os.PathLike[str] | None = None,
               results_root=DEFAULT_RESULTS_ROOT, command_line: list[str] | None = None) -> SweepPlan:
    """Create the ``.partial`` folder of a new sweep and return its plan."""
    import sys

    resolved = scenario.to_yaml()
    identity = resolved + "\0" + json.dumps(points, sort_keys=True, default=str)
    started = datetime.now().astimezone()
    if out is not None:
        destination = Path(out)
    else:
        destination = unique_folder(default_run_folder(scenario.name, "sweep", started,
                                                       run_hash(identity, seed, replications, "sweep"), results_root))
    partial = resumable.new_partial(destination, SweepError)
    sources = list(getattr(scenario, "source_files", []) or [])
    plan = SweepPlan(partial=partial, destination=destination, points=points, seed=seed, replications=replications,
                     design=design, daily=daily, command_line=list(command_line if command_line is not None else sys.argv),
                     source_files=sources, source_sha256=[resumable.sha256(path) for path in sources],
                     started_at=started.isoformat(timespec="seconds"))
    partial.mkdir(parents=True)
    (partial / RESOLVED_NAME).write_bytes(resolved.encode("utf-8"))
    spec = {"destination": str(destination), "points": points, "seed": seed, "replications": replications,
            "design": design, "daily": daily, "command_line": plan.command_line, "source_files": sources,
            "source_sha256": plan.source_sha256, "started_at": plan.started_at}
    resumable.fsync_write(partial / SPEC_NAME, json.dumps(spec, indent=2, default=str) + "\n")
    resumable.fsync_write(partial / POINTS_NAME, "")
    return plan


def load_plan(folder: str | os.PathLike[str]) -> SweepPlan:
    """The plan and finished points of an interrupted sweep (``FOLDER`` or ``FOLDER.partial``)."""
    folder = resumable.partial_folder(folder, SPEC_NAME)
    if not (folder / SPEC_NAME).is_file():
        raise SweepError(f"--resume {folder}: not an interrupted sweep (no {SPEC_NAME}); "
                         "give the <folder>.partial printed when the sweep stopped")
    try:
        spec = json.loads((folder / SPEC_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise SweepError(f"--resume {folder}: unreadable {SPEC_NAME}: {str(error)[:200]}") from None
    problem = _spec_problem(spec) or (None if (folder / RESOLVED_NAME).is_file() else f"{RESOLVED_NAME} is missing")
    if problem:
        raise SweepError(f"--resume {folder / SPEC_NAME}: {problem}; the folder is left as it is. It was "
                         "changed by hand or by another program: restore it, or start the sweep again")
    plan = SweepPlan(partial=folder, destination=Path(spec["destination"]), points=spec["points"],
                     seed=spec["seed"], replications=spec["replications"], design=spec["design"],
                     daily=spec.get("daily", False), command_line=spec["command_line"],
                     source_files=spec.get("source_files", []), source_sha256=spec.get("source_sha256", []),
                     started_at=spec["started_at"])
    records = resumable.read_records(folder / POINTS_NAME, lambda record: _point_record(record, plan), SweepError,
                                     "point")
    for index, values in records:
        if plan.daily and not (folder / _daily_name(index)).is_file():
            continue
        plan.done[index] = values
    return plan


_SPEC_TYPES = {"destination": str, "points": list, "seed": int, "replications": int, "design": str,
               "command_line": list, "started_at": str}


def _spec_problem(spec: Any) -> str | None:
    """What is wrong with a ``spec.json`` read back from disk, or None."""
    if not isinstance(spec, dict):
        return "not a sweep plan (a JSON object was expected)"
    for key, kind in _SPEC_TYPES.items():
        if not isinstance(spec.get(key), kind) or isinstance(spec.get(key), bool):
            return f"'{key}' is missing or not a {kind.__name__}"
    if spec["replications"] < 1 or spec["seed"] < 0:
        return "replications must be at least 1 and seed not negative"
    if not spec["points"] or not all(isinstance(point, dict) for point in spec["points"]):
        return "'points' must be a non-empty list of {key path: value} objects"
    try:
        datetime.fromisoformat(spec["started_at"])
    except ValueError:
        return "'started_at' is not an ISO date and time"
    return None


def _point_record(record: Any, plan: SweepPlan) -> tuple[int, dict[str, list[float]]]:
    """The point index and metric values of one ``points.jsonl`` record; ValueError when malformed."""
    if not isinstance(record, dict) or not isinstance(record.get("values"), dict):
        raise ValueError("not a finished point (a JSON object with point and values was expected)")  # noqa: TRY004 - caught as ValueError with the JSON errors
    index = record.get("point")
    if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(plan.points):
        raise ValueError(f"point {index!r} is not one of the sweep's points 0..{len(plan.points) - 1}")
    missing = set(experiments.METRICS) - set(record["values"])
    if missing:
        raise ValueError(f"point {index}: missing metrics {sorted(missing)}")
    values = {}
    for metric, numbers in record["values"].items():
        if not isinstance(numbers, list) or len(numbers) != plan.replications:
            raise ValueError(f"point {index}: {metric} must list {plan.replications} values (one per replication)")
        try:
            values[metric] = [float(value) for value in numbers]
        except (TypeError, ValueError):
            raise ValueError(f"point {index}: {metric} holds a value that is not a number") from None
    return index, values


def _daily_name(index: int) -> str:
    return f"daily-point-{index:04d}.parquet"


# --------------------------------------------------------------------------------------------
# Running


@dataclass
class SweepResult:
    folder: Path
    table: Any  # pandas DataFrame
    resumed_points: int
    wall_seconds: float


def sweep_table(plan: SweepPlan):
    """``sweep.csv`` from the finished points of a plan."""
    import numpy as np
    import pandas as pd

    rows = []
    keys = plan.keys
    for index, point in enumerate(plan.points):
        values = {metric: np.array(plan.done[index][metric], dtype=float) for metric in experiments.METRICS}
        row: dict[str, Any] = {"point": index, **{key: point.get(key) for key in keys},
                               "replications": plan.replications}
        p_target = experiments.summarise("p_target", values["p_target"])
        row.update(p_target=p_target["mean"], p_target_ci95_low=p_target["ci95_low"],
                   p_target_ci95_high=p_target["ci95_high"])
        row["target_reached_day_p50"] = experiments.summarise("target_reached_day", values["target_reached_day"])["p50"]
        for metric in SUMMARY_METRICS:
            summary = experiments.summarise(metric, values[metric])
            row.update({f"{metric}_mean": summary["mean"], f"{metric}_ci95_low": summary["ci95_low"],
                        f"{metric}_ci95_high": summary["ci95_high"]})
        rows.append(row)
    return pd.DataFrame(rows)


def run_sweep(plan: SweepPlan, executor, progress=None) -> SweepResult:
    """Run the missing points of ``plan``, then write the results folder and remove the partial one."""
    clock = time.perf_counter()
    scenario = plan.scenario()
    variants = build_variants(scenario, plan.points)
    resumed = len(plan.done)
    points_file = plan.partial / POINTS_NAME

    def keep(result: experiments.VariantResult) -> None:
        values = {metric: [float(value) for value in array] for metric, array in result.values.items()}
        if result.daily is not None:
            from sim.outputs.results import write_parquet

            write_parquet(result.daily, plan.partial / _daily_name(result.index))
        resumable.fsync_write(points_file, json.dumps({"point": result.index, "values": values}) + "\n", mode="a")
        plan.done[result.index] = values

    experiments.run_variants(variants, plan.replications, plan.seed, executor, variants=plan.remaining(),
                             keep_daily=plan.daily, progress=progress, on_variant=keep)
    table = sweep_table(plan)
    tables: dict[str, Any] = {"sweep.csv": table}
    if plan.daily:
        import pandas as pd

        for index in range(len(plan.points)):
            try:
                tables[_daily_name(index)] = pd.read_parquet(plan.partial / _daily_name(index))
            except (OSError, ValueError) as error:  # pyarrow's errors are both
                raise SweepError(f"{plan.partial / _daily_name(index)}: unreadable ({str(error)[:120]}); the "
                                 "folder is left as it is: delete that file and its line in points.jsonl, "
                                 "then resume again") from None
    sources = resumable.unchanged_sources(plan.source_files, plan.source_sha256)
    resolved = (plan.partial / RESOLVED_NAME).read_bytes().decode("utf-8")
    ended = datetime.now().astimezone()
    started = datetime.fromisoformat(plan.started_at)
    manifest = experiments.run_manifest(
        "sweep", plan.command_line, plan.seed, plan.replications, executor, started, ended,
        (ended - started).total_seconds(),
        {"scenario_name": scenario.name, "design": plan.design, "points": len(plan.points),
         "keys": plan.keys, "points_resumed": resumed,
         "run_hash": run_hash(resolved + "\0" + json.dumps(plan.points, sort_keys=True, default=str),
                              plan.seed, plan.replications, "sweep")})
    folder = write_results_folder(plan.destination, tables=tables, manifest=manifest, scenario_sources=sources,
                                  resolved_text=resolved)
    shutil.rmtree(plan.partial, ignore_errors=True)
    return SweepResult(folder, table, resumed, time.perf_counter() - clock)


def summary_lines(table, keys: Sequence[str], limit: int = 30) -> list[str]:
    """The sweep table for the terminal: parameters, P(target) and people crossed by the target date."""
    header = ["point", *keys, "P(target)", "crossed by target date", "peak queue", "wait p95"]
    rows = [header]
    for _, row in table.head(limit).iterrows():
        rows.append([
            str(int(row["point"])),
            *(_plain(row[key]) for key in keys),
            experiments.value_with_interval("p_target", row["p_target"], row["p_target_ci95_low"],
                                            row["p_target_ci95_high"]),
            experiments.value_with_interval("crossed_by_target_date", row["crossed_by_target_date_mean"],
                                            row["crossed_by_target_date_ci95_low"],
                                            row["crossed_by_target_date_ci95_high"]),
            experiments.format_value("peak_queue_people", row["peak_queue_people_mean"]),
            experiments.format_value("wait_hours_p95", row["wait_hours_p95_mean"]),
        ])
    lines = experiments.render_table(rows)
    if len(table) > limit:
        lines.append(f"... {len(table) - limit} more points in sweep.csv")
    return lines


def _plain(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
