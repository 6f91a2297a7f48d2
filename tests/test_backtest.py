"""bordersim backtest: calibrate up to the cutoff, forecast past it, score what followed."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from experiment_scenarios import bordersim, write_tiny

from sim.runs.evaluate import daily_crossed
from sim.scenario import load_scenario
from sim.studies.backtest import BacktestError, backtest, split_checked
from sim.studies.calibrate import FitParameter
from sim.studies.observation import ObservedSeries
from sim.studies.scoring import naive_baseline

D = dt.date
DATES = [D(2023, 11, day) for day in (3, 5, 8, 11, 14)]
FIT = ["--fit", "groups.undocumented.never_leave=0.0:0.5"]
CHEAP = {"rhat_max": 1.2, "ess_min": 20, "simulation_replications": 6}
SMALL = ["--rhat-max", "1.2", "--ess-min", "20", "--sim-replications", "6", "-n", "6", "-j", "1", "-q"]


def _observed(folder, scenario) -> tuple[str, np.ndarray]:
    """Synthetic figures: the model's own cumulative crossings (all crossings) +10 %, written as a CSV."""
    daily = daily_crossed(scenario, seed=99)["all"]
    cumulative = np.cumsum(daily)
    values = np.round(1.1 * np.array([cumulative[(day - scenario.period.start).days] for day in DATES]))
    path = folder / "observed.csv"
    pd.DataFrame({"date": [d.isoformat() for d in DATES], "value": values, "series": "synthetic",
                  "kind": "cumulative", "node": "all", "count_from": "2023-11-01"}).to_csv(path, index=False)
    return str(path), values


@pytest.fixture()
def tiny(tmp_path):
    path = write_tiny(tmp_path)[0]
    observed, values = _observed(tmp_path, load_scenario(path))
    return tmp_path, path, observed, values


def test_the_command_writes_scores_that_follow_from_its_own_rows(tiny) -> None:
    folder, scenario, observed, values = tiny
    completed = bordersim("backtest", scenario.name, "--observed", observed, "--cutoff", "2023-11-08", *FIT, *SMALL,
                          "--out", "out", cwd=folder, timeout=300)
    assert completed.returncode == 0, completed.stderr
    out = folder / "out"
    for name in ("backtest.csv", "forecast.csv", "observed.csv", "posterior.csv", "posterior-summary.csv",
                 "forecast.yaml", "manifest.json", "scenario.yaml", "figures/backtest.png", "figures/backtest.svg"):
        assert (out / name).is_file(), name
    table = pd.read_csv(out / "backtest.csv")
    rows = table[table["date"] != "all"]
    assert rows["date"].tolist() == ["2023-11-11", "2023-11-14"]  # only figures after the cutoff are scored
    assert rows["observed"].tolist() == list(values[3:])
    assert set(rows["coverage50"]) <= {0.0, 1.0} and set(rows["coverage90"]) <= {0.0, 1.0}
    assert (rows["p05"] <= rows["p25"]).all() and (rows["p25"] <= rows["median"]).all()
    assert (rows["median"] <= rows["p75"]).all() and (rows["p75"] <= rows["p95"]).all()
    summary = table[(table["date"] == "all") & (table["series"] == "all")].iloc[0]
    assert summary["coverage90"] == pytest.approx(rows["coverage90"].mean())
    assert summary["wis"] == pytest.approx(rows["wis"].mean())
    assert summary["relative_wis"] == pytest.approx(rows["wis"].mean() / rows["wis_baseline"].mean())
    assert summary["ard"] == pytest.approx((abs(rows["median"] - rows["observed"]) / rows["observed"]).mean())
    # The baseline columns are the naive baseline of the figures up to the cutoff.
    baseline = naive_baseline(DATES, values, D(2023, 11, 1), D(2023, 11, 8), [D(2023, 11, 11), D(2023, 11, 14)])
    assert rows["baseline_median"].tolist() == pytest.approx(baseline.median.tolist())
    # The forecast scenario in the folder draws from the posterior beside it.
    forecast = load_scenario(out / "forecast.yaml")
    assert forecast.uncertain["sample"] == str((out / "posterior.csv").resolve())
    assert completed.stdout.strip() == "results: out"  # -q: no summary


def test_same_seed_same_backtest(tiny) -> None:
    _, scenario, observed, _ = tiny
    series = [ObservedSeries("s", "cumulative", "all", D(2023, 11, 1), tuple(DATES),
                             pd.read_csv(observed)["value"].to_numpy(float))]
    runs = [backtest(load_scenario(scenario), series, [FitParameter("groups.undocumented.never_leave", 0.0, 0.5)],
                     D(2023, 11, 8), replications=5, seed=3, **CHEAP).table for _ in range(2)]
    pd.testing.assert_frame_equal(runs[0], runs[1])
    parallel = backtest(load_scenario(scenario), series, [FitParameter("groups.undocumented.never_leave", 0.0, 0.5)],
                        D(2023, 11, 8), replications=5, seed=3, jobs=2, **CHEAP).table
    pd.testing.assert_frame_equal(runs[0], parallel)


@pytest.mark.parametrize("cutoff, until, message", [
    (D(2023, 11, 2), None, "before the first observed figure (2023-11-03): nothing to calibrate on"),
    (D(2023, 11, 14), None, "no observed figure after it: nothing to score (the figures run 2023-11-03..2023-11-14)"),
    (D(2023, 11, 8), D(2023, 11, 8), "--until 2023-11-08: must come after the cutoff"),
    (D(2023, 11, 12), D(2023, 11, 13), "no observed figure after it (up to 2023-11-13): nothing to score"),
    (D(2023, 12, 1), None, "outside the scenario's period 2023-11-01..2023-11-20"),
    (D(2023, 11, 8), D(2023, 11, 25), "after the scenario's period end"),
])
def test_bad_cutoffs(cutoff, until, message) -> None:
    series = [ObservedSeries("s", "cumulative", "all", None, tuple(DATES), np.arange(5.0))]
    with pytest.raises(BacktestError, match=message.replace("(", r"\(").replace(")", r"\)")):
        split_checked(series, cutoff, until, (D(2023, 11, 1), D(2023, 11, 20)))


@pytest.mark.parametrize("arguments, message", [
    (["--cutoff", "2023-11-30"], "--cutoff 2023-11-30: outside the scenario's period"),
    (["--cutoff", "2023-11-14"], "no observed figure after it"),
    (["--cutoff", "3 Nov"], "--cutoff '3 Nov': not an ISO date"),
    (["--cutoff", "2023-11-08", "--observed", "missing.csv"], "missing.csv: no such observed file"),
    (["--cutoff", "2023-11-08", "--fit", "groups.nobody.never_leave=0:1"], "no such value in the scenario"),
])
def test_bad_input_exits_2_with_one_line_and_no_folder(tiny, arguments, message) -> None:
    folder, scenario, observed, _ = tiny
    if "--observed" not in arguments:
        arguments = ["--observed", observed, *arguments]
    fit = [] if "--fit" in arguments else FIT
    completed = bordersim("backtest", scenario.name, *arguments, *fit, *SMALL, "--out", "out", cwd=folder)
    assert completed.returncode == 2
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], completed.stderr
    assert not (folder / "out").exists()


def test_daily_series_baseline_by_hand() -> None:
    from sim.studies.backtest import daily_baseline

    series = ObservedSeries("tallies", "daily", "all", None, (D(2023, 10, 20), D(2023, 11, 1), D(2023, 11, 3),
                                                               D(2023, 11, 5), D(2023, 11, 9)),
                            np.array([9000.0, 100, 200, 300, 5000]))
    baseline = daily_baseline(series, D(2023, 11, 5), [D(2023, 11, 6), D(2023, 11, 9)], (0.1, 0.5))
    # Last 7 days up to 5 Nov: 100, 200, 300 -> 200 a day, flat. The spread over the last 28 days
    # (20 Oct included): 9000, 100, 200, 300 -> median 250; numpy quantiles 0.05: 115, 0.95: 7695 (linear between 300 and 9000).
    assert baseline.median.tolist() == [200, 200]
    assert baseline.band(0.1)[0].tolist() == pytest.approx([200 + 115 - 250] * 2)
    assert baseline.band(0.1)[1].tolist() == pytest.approx([200 + 7695 - 250] * 2)
