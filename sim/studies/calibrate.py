"""Fitting scenario parameters to an observed series (``bordersim calibrate``).

A calibration chooses values for a few key paths (``--fit key.path=low:high``), e.g. the departure
hazard of a phase, so that the model's mean cumulative crossings match an observed cumulative
series on its dates. The method:

* **Common random numbers.** Every evaluation runs the same replications (0 … R−1) with the same
  seed, so two parameter values are compared on identical draws: the objective is a deterministic
  function of the parameters and differences between evaluations are the parameters' effect, not
  noise. (It is still piecewise constant at the scale of one household: a derivative-free
  optimiser is used.)
* **Bounded search.** Each parameter is mapped to [0, 1] by its bounds and scipy's Nelder–Mead
  searches that unit box (``bounds=``), starting from the scenario's own values (clipped into the
  bounds) with an initial simplex of a fifth of each range.
* **Objective**: the sum over observed dates of the squared relative difference
  ``((simulated − observed) / observed)²`` — relative, so that early small counts weigh as much as
  later large ones.
* **Figures reported**: ARD, the averaged relative difference ``mean(|simulated − observed| /
  observed)`` over the observed dates (as the Flee refugee model reports its validation), and the
  RMSE in people.
* **Like with like.** The simulated series is the cumulative crossings of ``node`` (``all`` or one
  crossing) counted from ``count_from`` (people who crossed before it are not counted), as the
  observed series says it counts (:mod:`sim.outputs.observed` adds ``node`` and ``count_from`` columns).
* **Only what is needed is simulated.** The period is cut at the last observed date (windows
  wholly after it are dropped, the target is ignored), which changes nothing before that date.

Outputs: the calibrated scenario file — the original text with the fitted values substituted in
place, comments kept (when a value is written in an ``extends`` base, the resolved scenario is
written instead, with a header) — and ``fit.csv``: one row per parameter (value, bounds) and one per
observed date (observed, simulated mean, p05, p95, relative difference).
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.runs.runner import run_replications
from sim.scenario.keypath import get_path, parse_key_path

ProgressCallback = Callable[[int, int], None]
"""Called with (evaluations done, evaluation budget)."""


class CalibrationError(ValueError):
    """Bad calibration input: a malformed ``--fit``, bounds, or an observed series outside the period."""


@dataclass(frozen=True)
class FitParameter:
    """A key path to fit and its bounds (inclusive)."""

    key: str
    low: float
    high: float

    @classmethod
    def parse(cls, text: str) -> FitParameter:
        """``"groups.g.departures.hazard.2.rate=0.001:0.02"`` → FitParameter."""
        key, sep, bounds = text.partition("=")
        low_text, colon, high_text = bounds.partition(":")
        if not sep or not colon or not key.strip():
            raise CalibrationError(f"--fit {text!r}: write key.path=low:high, e.g. crossings.torkham.lanes=20:80")
        try:
            low, high = float(low_text), float(high_text)
        except ValueError:
            raise CalibrationError(f"--fit {text!r}: bounds must be numbers, got {low_text!r}:{high_text!r}") from None
        if not low < high:
            raise CalibrationError(f"--fit {text!r}: low must be below high")
        return cls(key.strip(), low, high)


def ard(simulated: np.ndarray, observed: np.ndarray) -> float:
    """Averaged relative difference: ``mean(|simulated − observed| / observed)``."""
    simulated, observed = np.asarray(simulated, float), np.asarray(observed, float)
    return float(np.mean(np.abs(simulated - observed) / observed))


def rmse(simulated: np.ndarray, observed: np.ndarray) -> float:
    """Root mean squared difference, in people."""
    simulated, observed = np.asarray(simulated, float), np.asarray(observed, float)
    return float(np.sqrt(np.mean((simulated - observed) ** 2)))


def simulated_cumulative(outcomes, period_start: dt.date, dates: Sequence[dt.date], node: str = "all",
                         count_from: dt.date | None = None) -> np.ndarray:
    """(replications × dates) cumulative crossings of ``node`` by the end of each date, from ``count_from``."""
    rows = []
    for outcome in outcomes:
        if node == "all":
            cumulative = np.asarray(outcome.daily[("all", "all", "crossed_people_cumulative")], float)
        else:
            key = (node, "crossing", "crossed_people")
            if key not in outcome.daily:
                raise CalibrationError(f"observed node {node!r} is not a crossing of the scenario")
            cumulative = np.cumsum(np.asarray(outcome.daily[key], float))
        offset = 0.0
        if count_from is not None and count_from > period_start:
            offset = cumulative[(count_from - period_start).days - 1]
        rows.append([cumulative[(day - period_start).days] - offset for day in dates])
    return np.array(rows)


def _shortened(scenario, last_date: dt.date):
    """The scenario cut at ``last_date`` (no target; windows wholly after it dropped)."""
    if last_date >= scenario.period.end:
        return scenario
    from sim.scenario import scenario_from_dict

    data = scenario.to_yaml_dict()
    data["period"]["end"] = last_date
    data.pop("target", None)
    data["slowdowns"] = [s for s in data.get("slowdowns", []) if s["from"] <= last_date]
    for group in data["groups"].values():
        for kind in ("hazard", "schedule"):
            steps = group["departures"].get(kind)
            if steps:
                kept = [step for step in steps if step["from"] <= last_date]
                group["departures"][kind] = kept or steps[:1]
    return scenario_from_dict(data, source=scenario.source or "<calibration>")


def _value_for(scenario, parameter: FitParameter, value: float):
    original = get_path(scenario.to_yaml_dict(), parse_key_path(parameter.key))
    if isinstance(original, bool) or not isinstance(original, (int, float)):
        raise CalibrationError(f"--fit {parameter.key}: the value there is {original!r}, not a number")
    return round(value) if isinstance(original, int) else float(value)


@dataclass
class Calibration:
    """The result of a calibration: fitted values, the fit on every observed date, and how it went."""

    scenario: object  # the calibrated scenario (full period)
    parameters: list[FitParameter]
    values: dict[str, float]
    initial_values: dict[str, float]
    observed: pd.DataFrame  # date, value
    simulated: np.ndarray  # replications × observed dates, at the fitted values
    initial_simulated: np.ndarray
    node: str
    count_from: dt.date | None
    replications: int
    seed: int
    evaluations: int
    wall_seconds: float
    converged: bool
    message: str
    history: list[tuple[dict[str, float], float]] = field(default_factory=list)

    @property
    def ard(self) -> float:
        return ard(self.simulated.mean(axis=0), self.observed["value"].to_numpy())

    @property
    def rmse(self) -> float:
        return rmse(self.simulated.mean(axis=0), self.observed["value"].to_numpy())

    @property
    def initial_ard(self) -> float:
        return ard(self.initial_simulated.mean(axis=0), self.observed["value"].to_numpy())

    @property
    def initial_rmse(self) -> float:
        return rmse(self.initial_simulated.mean(axis=0), self.observed["value"].to_numpy())

    def fit_table(self) -> pd.DataFrame:
        """``fit.csv``: parameter rows (value, bounds, initial) then one row per observed date."""
        rows = []
        for parameter in self.parameters:
            rows.append({"kind": "parameter", "name": parameter.key, "value": self.values[parameter.key],
                         "low": parameter.low, "high": parameter.high,
                         "initial": self.initial_values[parameter.key]})
        mean = self.simulated.mean(axis=0)
        p05, p95 = np.quantile(self.simulated, [0.05, 0.95], axis=0)
        for index, (day, observed) in enumerate(zip(self.observed["date"], self.observed["value"])):
            rows.append({"kind": "observation", "name": f"{self.node} crossed cumulative",
                         "date": day.isoformat(), "observed": float(observed), "simulated": float(mean[index]),
                         "simulated_p05": float(p05[index]), "simulated_p95": float(p95[index]),
                         "relative_difference": float((mean[index] - observed) / observed),
                         "initial_simulated": float(self.initial_simulated[:, index].mean())})
        for name, value in (("ard", self.ard), ("rmse_people", self.rmse), ("initial_ard", self.initial_ard),
                            ("initial_rmse_people", self.initial_rmse), ("evaluations", self.evaluations)):
            rows.append({"kind": "figure", "name": name, "value": value})
        columns = ["kind", "name", "value", "low", "high", "initial", "date", "observed", "simulated",
                   "simulated_p05", "simulated_p95", "relative_difference", "initial_simulated"]
        return pd.DataFrame(rows, columns=columns)

    def lines(self) -> list[str]:
        lines = [f"Calibrated to {len(self.observed)} observed dates ({self.node} crossings, cumulative"
                 + (f" from {self.count_from.isoformat()}" if self.count_from else "") + f"), "
                 f"{self.replications} replications (common random numbers, seed {self.seed}), "
                 f"{self.evaluations} evaluations, {self.wall_seconds:.0f} s"]
        for parameter in self.parameters:
            lines.append(f"  {parameter.key} = {_format(self.values[parameter.key])}"
                         f"  (was {_format(self.initial_values[parameter.key])}; bounds {parameter.low:g}:{parameter.high:g})")
        lines.append(f"ARD {self.ard:.1%} (was {self.initial_ard:.1%}); RMSE {self.rmse:,.0f} people"
                     f" (was {self.initial_rmse:,.0f})")
        mean = self.simulated.mean(axis=0)
        for index, (day, observed) in enumerate(zip(self.observed["date"], self.observed["value"])):
            lines.append(f"  {day.isoformat()}  observed {observed:>12,.0f}  simulated {mean[index]:>12,.0f}"
                         f"  ({(mean[index] - observed) / observed:+.1%})")
        if not self.converged:
            lines.append(f"warning: the optimiser stopped before converging: {self.message}")
        return lines


def _format(value: float) -> str:
    return f"{value:.6g}"


def _checked_observations(scenario, observed: pd.DataFrame, node: str | None,
                          count_from: dt.date | None) -> tuple[pd.DataFrame, str, dt.date | None]:
    """The observed series sorted by date, the node it measures and the day it counts from,
    checked against the scenario (dates inside the period, positive values, a known node)."""
    observed = observed.copy()
    observed["date"] = pd.to_datetime(observed["date"]).dt.date
    observed = observed.sort_values("date").reset_index(drop=True)
    if node is None:
        node = str(observed["node"].iloc[0]) if "node" in observed.columns else "all"
    if count_from is None and "count_from" in observed.columns and pd.notna(observed["count_from"].iloc[0]):
        count_from = pd.to_datetime(observed["count_from"].iloc[0]).date()
    start, end = scenario.period.start, scenario.period.end
    outside = observed[(observed["date"] < start) | (observed["date"] > end)]
    if len(outside):
        raise CalibrationError(f"observed dates {', '.join(d.isoformat() for d in outside['date'][:3])} lie "
                               f"outside the period {start}..{end}")
    if count_from is not None and not start <= count_from <= observed["date"].iloc[0]:
        raise CalibrationError(f"count_from {count_from} must lie between the period start and the first "
                               "observed date")
    if (observed["value"] <= 0).any():
        raise CalibrationError("observed values must be positive (relative differences divide by them)")
    if node != "all" and node not in scenario.crossings:
        raise CalibrationError(f"observed node {node!r} is neither 'all' nor a crossing "
                               f"({', '.join(scenario.crossings)})")
    return observed, node, count_from


def _initial_values(scenario, parameters: Sequence[FitParameter]) -> dict[str, float]:
    """The scenario's own value of every fitted key path (the search starts there)."""
    data = scenario.to_yaml_dict()
    for parameter in parameters:
        try:
            _value_for(scenario, parameter, parameter.low)
        except (KeyError, IndexError, TypeError, ValueError) as error:
            if isinstance(error, CalibrationError):
                raise
            raise CalibrationError(f"--fit {parameter.key}: no such value in the scenario") from None
    return {p.key: float(get_path(data, parse_key_path(p.key))) for p in parameters}


class _Objective:
    """Sum of squared relative differences between the mean simulated and the observed cumulative
    series, over the unit cube of the fitted parameters. Every evaluation uses the same replication
    seeds (common random numbers), so the objective is a deterministic function of the parameters;
    results are cached by parameter values, and each new one is kept in ``history``."""

    def __init__(self, scenario, observed: pd.DataFrame, parameters: Sequence[FitParameter], replications: int,
                 seed: int, jobs: int, node: str, count_from: dt.date | None) -> None:
        self.scenario, self.parameters = scenario, list(parameters)
        self.replications, self.seed, self.jobs = replications, seed, jobs
        self.node, self.count_from = node, count_from
        self.short = _shortened(scenario, observed["date"].iloc[-1])  # nothing after the last observation
        self.dates = list(observed["date"])
        self.target = observed["value"].to_numpy(float)
        self.lows = np.array([p.low for p in parameters])
        self.spans = np.array([p.high - p.low for p in parameters])
        self.history: list[tuple[dict[str, float], float]] = []
        self.cache: dict[tuple[float, ...], tuple[float, np.ndarray]] = {}

    def values_of(self, unit: np.ndarray) -> dict[str, float]:
        clipped = np.clip(unit, 0.0, 1.0)
        return {p.key: _value_for(self.scenario, p, low + span * u)
                for p, low, span, u in zip(self.parameters, self.lows, self.spans, clipped)}

    def unit_of(self, values: dict[str, float]) -> np.ndarray:
        return np.clip((np.array([values[p.key] for p in self.parameters]) - self.lows) / self.spans, 0.0, 1.0)

    def simulate(self, values: dict[str, float]) -> np.ndarray:
        outcomes = run_replications(self.short.with_values(values), range(self.replications), self.seed, self.jobs)
        return simulated_cumulative(outcomes, self.scenario.period.start, self.dates, self.node, self.count_from)

    def __call__(self, unit: np.ndarray) -> float:
        values = self.values_of(unit)
        key = tuple(values.values())
        if key not in self.cache:
            simulated = self.simulate(values)
            mean = simulated.mean(axis=0)
            self.cache[key] = (float(np.sum(((mean - self.target) / self.target) ** 2)), simulated)
            self.history.append((values, self.cache[key][0]))
        return self.cache[key][0]


def _initial_simplex(initial_unit: np.ndarray) -> np.ndarray:
    """Nelder–Mead's first simplex: the start and one step of 0.2 (a fifth of the range) per parameter."""
    simplex = [initial_unit]
    for index in range(len(initial_unit)):
        vertex = initial_unit.copy()
        vertex[index] += 0.2 if vertex[index] <= 0.8 else -0.2
        simplex.append(vertex)
    return np.array(simplex)


def calibrate(
    scenario,
    observed: pd.DataFrame,
    parameters: Sequence[FitParameter],
    replications: int = 4,
    seed: int | None = None,
    jobs: int = 1,
    node: str | None = None,
    count_from: dt.date | None = None,
    max_evaluations: int = 120,
    progress: ProgressCallback | None = None,
) -> Calibration:
    """Fit ``parameters`` of ``scenario`` to the cumulative series ``observed`` (see the module doc).

    ``observed`` has columns ``date, value`` and optionally ``node`` and ``count_from`` (used unless
    ``node`` / ``count_from`` are given here). Returns a :class:`Calibration`.
    """
    import time

    from scipy.optimize import minimize

    clock = time.perf_counter()
    seed = scenario.run.seed if seed is None else seed
    if not parameters:
        raise CalibrationError("give at least one --fit key.path=low:high")
    observed, node, count_from = _checked_observations(scenario, observed, node, count_from)
    initial_values = _initial_values(scenario, parameters)
    objective = _Objective(scenario, observed, parameters, replications, seed, jobs, node, count_from)

    def objective_with_progress(unit: np.ndarray) -> float:
        value = objective(unit)
        if progress is not None:
            progress(min(len(objective.history), max_evaluations), max_evaluations)
        return value

    initial_unit = objective.unit_of(initial_values)
    initial_simulated = objective.simulate(objective.values_of(initial_unit))
    result = minimize(objective_with_progress, initial_unit, method="Nelder-Mead",
                      bounds=[(0.0, 1.0)] * len(parameters),
                      options={"initial_simplex": _initial_simplex(initial_unit), "maxfev": max_evaluations,
                               "xatol": 1e-3, "fatol": 1e-6})
    best_values = objective.values_of(result.x)
    objective(result.x)
    best_simulated = objective.cache[tuple(best_values.values())][1]
    return Calibration(
        scenario=scenario.with_values(best_values), parameters=list(parameters), values=best_values,
        initial_values=initial_values, observed=observed[["date", "value"]], simulated=best_simulated,
        initial_simulated=initial_simulated, node=node, count_from=count_from, replications=replications,
        seed=seed, evaluations=len(objective.history), wall_seconds=time.perf_counter() - clock,
        converged=bool(result.success), message=str(result.message), history=objective.history,
    )


# --------------------------------------------------------------------------------------------
# Writing the calibrated scenario file


def _number_text(value: float) -> str:
    if isinstance(value, int):
        return f"{value:_}" if abs(value) >= 10_000 else str(value)
    return f"{value:.4g}" if abs(value) >= 1e-3 else f"{value:.3e}"


def substitute_values(path: Path, values: dict[str, float]) -> str | None:
    """The text of scenario file ``path`` with each key path's value replaced where it is written.

    Comments and layout are kept. Returns None when a value is not written in this file (it comes
    from an ``extends`` base) or cannot be found on its line.
    """
    from sim.scenario.yaml_lines import locate, read_yaml_file

    text = path.read_text(encoding="utf-8")
    locations, _ = locate(read_yaml_file(path), str(path))
    lines = text.splitlines(keepends=True)
    for key, value in values.items():
        key_path = parse_key_path(key)
        location = locations.get(key_path)
        if location is None or location.line is None or isinstance(key_path[-1], int):
            return None
        index = location.line - 1
        name, replacement = str(key_path[-1]), _number_text(value)
        pattern = re.compile(rf"(^|[\s{{,]){re.escape(name)}(\s*:\s*)([^\s,}}#]+)")
        line, count = pattern.subn(lambda m, name=name, replacement=replacement:
                                   f"{m.group(1)}{name}{m.group(2)}{replacement}", lines[index], count=1)
        if count != 1:
            return None
        lines[index] = line
    return "".join(lines)


def calibrated_text(calibration: Calibration, source: Path, command_line: Sequence[str]) -> str:
    """The calibrated scenario file's text: the original with the values substituted, and a header."""
    header = [
        f"# Calibrated by: {' '.join(command_line)}",
        (f"# on {dt.date.today().isoformat()}: {len(calibration.observed)} observed dates, "
         f"{calibration.replications} replications (seed {calibration.seed}), ARD {calibration.ard:.1%} "
         f"(was {calibration.initial_ard:.1%}), RMSE {calibration.rmse:,.0f} people "
         f"(was {calibration.initial_rmse:,.0f})."),
    ] + [f"#   {p.key}: {_format(calibration.values[p.key])} (was {_format(calibration.initial_values[p.key])})"
         for p in calibration.parameters]
    substituted = substitute_values(source, calibration.values)
    if substituted is not None:
        return "\n".join(header) + "\n" + substituted
    header.append("# (resolved scenario: a fitted value is written in an extends base)")
    return "\n".join(header) + "\n" + calibration.scenario.to_yaml()


def save_calibration(calibration: Calibration, source: Path, destination: Path | None = None,
                     command_line: Sequence[str] | None = None, results_root="results") -> tuple[Path, Path]:
    """Write ``fit.csv`` (results folder) and the calibrated scenario (``calibrated.yaml`` in it).

    Returns (folder, calibrated scenario file).
    """
    import sys

    from sim.outputs.results import (
        default_run_folder,
        environment_versions,
        git_state,
        run_hash,
        unique_folder,
        write_results_folder,
    )

    command_line = list(command_line if command_line is not None else sys.argv)
    resolved = calibration.scenario.to_yaml()
    hash8 = run_hash(resolved, calibration.seed, calibration.replications, "calibrate")
    if destination is None:
        destination = unique_folder(default_run_folder(calibration.scenario.name, "calibrate",
                                                       dt.datetime.now(), hash8, results_root))
    git = git_state()
    manifest = {
        **environment_versions(), "git_commit": git["commit"], "git_dirty": git["dirty"],
        "command": "calibrate", "command_line": command_line, "scenario_name": calibration.scenario.name,
        "run_hash": hash8, "seed": calibration.seed, "replications": calibration.replications,
        "node": calibration.node, "count_from": calibration.count_from, "ard": calibration.ard,
        "rmse_people": calibration.rmse, "evaluations": calibration.evaluations,
        "wall_seconds": calibration.wall_seconds, "converged": calibration.converged,
        "fitted": calibration.values, "calibrated_scenario": "calibrated.yaml (written beside this manifest)",
    }
    text = calibrated_text(calibration, source, command_line)
    folder = write_results_folder(destination, tables={"fit.csv": calibration.fit_table()}, manifest=manifest,
                                  scenario_sources=[source], resolved_text=resolved)
    calibrated = Path(folder) / "calibrated.yaml"
    calibrated.write_text(text, encoding="utf-8")
    return Path(folder), calibrated


__all__ = ["Calibration", "CalibrationError", "FitParameter", "ard", "calibrate", "calibrated_text", "rmse",
           "save_calibration", "simulated_cumulative", "substitute_values"]
