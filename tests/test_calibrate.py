"""``sim.studies.calibrate`` and ``bordersim calibrate``: recovering known parameters from the model's own output.

A small scenario (two departure phases, ample crossing capacity) is run at known hazards; its mean
cumulative crossings on a few dates become the "observed" series. Calibrating from values far off
(×2.5 and ×0.4) must recover the known hazards within 10% each — the stated tolerance: with
common random numbers the objective is deterministic, and the residual error comes from the
optimiser's tolerance and the household-level steps of the series.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from builders import build
from sim.cli import app
from sim.runs.runner import run_replications
from sim.studies.calibrate import (
    CalibrationError,
    FitParameter,
    ard,
    calibrate,
    simulated_cumulative,
    substitute_values,
)

KNOWN = {"groups.everyone.departures.hazard.0.rate": 0.04, "groups.everyone.departures.hazard.1.rate": 0.12}
OBSERVED_DATES = [dt.date(2024, 1, day) for day in (4, 8, 11, 14, 18)]
TOLERANCE = 0.10


def scenario_at(values=None):
    scenario = build({"groups": {"everyone": {"departures": {"hazard": [
        {"from": "2024-01-01", "rate": 0.1}, {"from": "2024-01-10", "rate": 0.1}]}}},
        "run": {"replications": 4, "seed": 11}},
        people=6000, household_size=3, lanes=4, service_hours=0.2, days=20)
    return scenario.with_values(values) if values else scenario


def observed_series() -> pd.DataFrame:
    truth = scenario_at(KNOWN)
    outcomes = run_replications(truth, range(4), 99, jobs=1)  # other seeds than the fit's: not a copy of it
    simulated = simulated_cumulative(outcomes, truth.period.start, OBSERVED_DATES)
    return pd.DataFrame({"date": OBSERVED_DATES, "value": simulated.mean(axis=0)})


def test_calibration_recovers_known_hazards() -> None:
    start = {"groups.everyone.departures.hazard.0.rate": 0.1, "groups.everyone.departures.hazard.1.rate": 0.05}
    parameters = [FitParameter(key, 0.005, 0.3) for key in KNOWN]
    result = calibrate(scenario_at(start), observed_series(), parameters, replications=4, max_evaluations=80)
    for key, known in KNOWN.items():
        assert result.values[key] == pytest.approx(known, rel=TOLERANCE), result.lines()
    assert result.ard < 0.02 < result.initial_ard
    table = result.fit_table()
    assert list(table.loc[table.kind == "parameter", "name"]) == list(KNOWN)
    assert len(table[table.kind == "observation"]) == len(OBSERVED_DATES)


def test_ard_is_the_mean_relative_difference() -> None:
    assert ard(np.array([110.0, 90.0, 200.0]), np.array([100.0, 100.0, 200.0])) == pytest.approx(0.2 / 3)


def test_fit_parameter_parsing_and_errors() -> None:
    assert FitParameter.parse("crossings.border.lanes=1:8") == FitParameter("crossings.border.lanes", 1.0, 8.0)
    for text in ("crossings.border.lanes", "x=1", "x=a:b", "x=3:1"):
        with pytest.raises(CalibrationError):
            FitParameter.parse(text)
    with pytest.raises(CalibrationError, match="no such value"):
        calibrate(scenario_at(), observed_series(), [FitParameter("crossings.nowhere.lanes", 1, 4)])
    late = pd.DataFrame({"date": [dt.date(2025, 1, 1)], "value": [5.0]})
    with pytest.raises(CalibrationError, match="outside the period"):
        calibrate(scenario_at(), late, [FitParameter("crossings.border.lanes", 1, 4)])


def test_substitution_keeps_comments(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("# header\nname: s  # a name\ncrossings:\n  border: {lanes: 4, service: 1}  # four lanes\n"
                    "groups:\n  g:\n    departures:\n      hazard:\n        - {from: 2024-01-01, rate: 0.1}  # c\n")
    text = substitute_values(path, {"crossings.border.lanes": 7, "groups.g.departures.hazard.0.rate": 0.0423})
    assert "border: {lanes: 7, service: 1}  # four lanes" in text
    assert "- {from: 2024-01-01, rate: 0.0423}  # c" in text and text.startswith("# header\n")


def test_cli_calibrate_writes_fit_table_and_calibrated_scenario(tmp_path) -> None:
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text("# my scenario\n" + scenario_at().to_yaml())
    observed_file = tmp_path / "obs.csv"
    observed_series().assign(series="model", kind="cumulative").to_csv(observed_file, index=False)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, [
        "calibrate", str(scenario_file), "--method", "point", "--observed", str(observed_file),
        "--max-evaluations", "12",
        "--fit", "groups.everyone.departures.hazard.0.rate=0.005:0.3", "--out", str(out), "-n", "2"])
    assert result.exit_code == 0, result.output
    assert "ARD" in result.output
    fit = pd.read_csv(out / "fit.csv")
    assert {"parameter", "observation", "figure"} <= set(fit["kind"])
    calibrated = (out / "calibrated.yaml").read_text()
    assert calibrated.startswith("# Calibrated by:") and "# my scenario" in calibrated


def test_cli_calibrate_bad_fit_exits_2(tmp_path) -> None:
    scenario_file = tmp_path / "s.yaml"
    scenario_file.write_text(scenario_at().to_yaml())
    observed_file = tmp_path / "obs.csv"
    observed_file.write_text("date,value\n2024-01-05,100\n")
    for method in ("point", "posterior"):
        result = CliRunner().invoke(app, ["calibrate", str(scenario_file), "--method", method,
                                          "--observed", str(observed_file), "--fit", "crossings.border.lanes=9:1"])
        assert result.exit_code == 2
        assert "low must be below high" in result.output
