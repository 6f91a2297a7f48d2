"""A run's report sets the observed figures beside the projection (issue 22, item 5).

``bordersim run --observed`` takes a CSV or ``bundled:NAME``, repeatedly; without it, the scenario's
``observed:`` list (bundled names or CSV paths relative to the file, inherited through ``extends``).
Each figure goes into ``observed_fit.csv`` beside the replications' p05–p50–p95 of the quantity it
measures, and the report draws and tabulates it. Real runs of a small two-crossing scenario (few
replications, a month around the 1 Nov 2023 deadline), and the band verdict on a hand-made case.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import MINIMAL_SCENARIO, scenario_problems, write_scenario
from hostile import assert_clean, bordersim

from sim.outputs.figures import observed_running_totals
from sim.outputs.report import observed_rows
from sim.studies.observation import series_from_table
from sim.studies.observed_fit import FIT_COLUMNS, fit_table

TWO_CROSSINGS = """\
name: two-crossings
period: {start: 2023-10-25, end: 2023-11-25}
run: {replications: 2, seed: 3}
groups:
  undocumented:
    people: 40000
    household_size: {dist: fixed, value: 6}
    origins: {kp: 0.7, quetta: 0.3}
    departures:
      hazard:
        - {from: 2023-10-25, rate: 0.03}
origins:
  kp:
    routes:
      - {crossing: torkham, travel: {dist: fixed, value: 6h}, voluntary: 1.0}
  quetta:
    routes:
      - {crossing: chaman, travel: {dist: fixed, value: 6h}, voluntary: 1.0}
crossings:
  torkham:
    lanes: 20
    service: {dist: fixed, value: 10min}
  chaman:
    lanes: 10
    service: {dist: fixed, value: 10min}
"""
"""Torkham and Chaman from 25 Oct to 25 Nov 2023: the KP/Torkham day counts of 30 Oct – 24 Nov and
the federal daily tallies (12 and 22 Nov) fall within it; the UN's running totals (from 15 Sep) and
KP's October counts do not."""

TORKHAM_TOTALS = "date,value,series,node,count_from\n2023-11-05,9000,torkham_totals,torkham,2023-10-25\n" \
                 "2023-11-15,15000,torkham_totals,torkham,2023-10-25\n"
"""A user's running totals at Torkham, counted from the period start."""


def run_folder(tmp_path: Path, scenario: Path, *options: str) -> tuple[Path, str]:
    """Run ``scenario`` with ``options`` into ``tmp_path/out``; the folder and stderr."""
    out = tmp_path / "out"
    outcome = bordersim("run", scenario, "-j", "1", "--out", out, *options, timeout_s=240)
    assert outcome.code == 0, outcome.describe()
    return out, outcome.stderr


def test_bundled_and_repeated_observed_figures_are_set_beside_the_run_and_drawn(tmp_path: Path) -> None:
    scenario = write_scenario(tmp_path, TWO_CROSSINGS)
    totals = tmp_path / "totals.csv"
    totals.write_text(TORKHAM_TOTALS, encoding="utf-8")
    out, stderr = run_folder(tmp_path, scenario, "--observed", "bundled:kp_torkham_counts", "--observed",
                             "bundled:pak_federal_daily", "--observed", totals, "--observed", "bundled:un",
                             "--report")
    fit = pd.read_csv(out / "observed_fit.csv")
    assert list(fit.columns) == FIT_COLUMNS
    assert list(dict.fromkeys(fit["series"])) == ["kp_torkham_counts", "pak_federal_daily", "torkham_totals"]
    assert set(fit.loc[fit["series"] == "kp_torkham_counts", "date"]) == {"2023-10-30", "2023-11-01", "2023-11-05",
                                                                          "2023-11-24"}
    assert list(fit.loc[fit["series"] == "pak_federal_daily", "observed"]) == [3043, 2668]
    # Not simulated, left out: the UN's 3 totals (from 15 Sep), 5 of KP's 9 counts (8 Oct; from 1 and 19 Oct;
    # after 25 Nov).
    assert "warning: 8 observed figures left out of observed_fit.csv" in stderr
    assert (fit["model_p05"] <= fit["model_p50"]).all() and (fit["model_p50"] <= fit["model_p95"]).all()
    assert "observed" not in pd.read_csv(out / "projection.csv").columns  # the one-CSV column stays one-CSV
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "Observed figures against the model" in report and f"of {len(fit)} observed figures" in report
    assert (out / "figures" / "observed-crossings.png").is_file()  # the Torkham running totals


def test_the_scenario_names_its_figures_its_children_inherit_them_and_the_option_replaces_them(
        tmp_path: Path) -> None:
    base = write_scenario(tmp_path / "base", TWO_CROSSINGS + "observed: [bundled:pak_federal_daily, totals.csv]\n")
    (base.parent / "totals.csv").write_text(TORKHAM_TOTALS, encoding="utf-8")
    child = write_scenario(tmp_path, f"extends: {base.relative_to(tmp_path)}\nname: child\n", "child.yaml")
    out, _ = run_folder(tmp_path / "inherited", child, "-q")
    assert list(dict.fromkeys(pd.read_csv(out / "observed_fit.csv")["series"])) == ["pak_federal_daily",
                                                                                   "torkham_totals"]
    out, _ = run_folder(tmp_path / "replaced", child, "-q", "--observed", "bundled:kp_torkham_counts")
    assert set(pd.read_csv(out / "observed_fit.csv")["series"]) == {"kp_torkham_counts"}
    out, _ = run_folder(tmp_path / "none", write_scenario(tmp_path, TWO_CROSSINGS, "plain.yaml"), "-q")
    assert not (out / "observed_fit.csv").exists()


def test_a_bad_observed_entry_is_refused_with_its_line_and_what_is_allowed(tmp_path: Path) -> None:
    text = MINIMAL_SCENARIO + "observed: [bundled:un, bundled:nope, missing.csv]\n"
    problems = scenario_problems(write_scenario(tmp_path, text))
    allowed = "allowed: bundled:NAME (NAME one of un_cumulative, "
    assert [problem.split(allowed)[0] for problem in problems] == [
        "F:20: observed.1: unknown bundled series 'bundled:nope'; ",
        "F:20: observed.2: no such file 'missing.csv' (relative to the scenario file); "]
    assert all(allowed in problem and problem.endswith("or the path of a CSV file") for problem in problems)
    scenario = write_scenario(tmp_path, MINIMAL_SCENARIO + "observed: [bundled:nope]\n", "bad.yaml")
    for arguments in (["validate", scenario], ["run", scenario, "-n", "1", "--out", tmp_path / "out"],
                      ["run", write_scenario(tmp_path, MINIMAL_SCENARIO, "good.yaml"), "-n", "1", "--observed",
                       "bundled:nope", "--out", tmp_path / "out"]):
        outcome = bordersim(*arguments)
        assert_clean(outcome, names=("bad.yaml", "bundled:nope"))
        assert outcome.code == 2 and len(outcome.stderr.strip().splitlines()) == 1, outcome.describe()
        assert "bundled:nope" in outcome.stderr
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------
# The band verdict, by hand

def hand_made_fit() -> pd.DataFrame:
    """20 replications crossing k = 1 … 20 people a day at Torkham from 1 Nov 2023 (Chaman: none), and
    figures whose bands are known: the running total to 10 Nov is 10k, so p05 = 10 × 1.95 = 19.5,
    p50 = 10 × 10.5 = 105, p95 = 10 × 19.05 = 190.5."""
    outcomes = [SimpleNamespace(daily={("torkham", "crossing", "crossed_people"): np.full(30, float(k)),
                                       ("chaman", "crossing", "crossed_people"): np.zeros(30)})
                for k in range(1, 21)]
    scenario = SimpleNamespace(crossings={"torkham": None, "chaman": None},
                               period=SimpleNamespace(start=dt.date(2023, 11, 1), end=dt.date(2023, 11, 30)))
    table = pd.DataFrame({
        "series": ["point"] * 3 + ["bound"] * 3 + ["later"],
        "node": ["torkham"] * 6 + ["all"],
        "count_from": [""] * 6 + ["2023-11-06"],
        "date": ["2023-11-10", "2023-11-11", "2023-11-12"] * 2 + ["2023-11-10"],
        "value": [100, 300, 10, 100, 300, 10, 50],
        "bound": ["", "", "", "lower", "lower", "lower", ""],
    })
    return fit_table(outcomes, scenario, series_from_table(table))


def test_inside_the_band_point_figures_and_lower_bounds() -> None:
    fit = hand_made_fit()
    assert fit["model_p05"].iloc[0] == pytest.approx(19.5) and fit["model_p95"].iloc[0] == pytest.approx(190.5)
    # 100 in [19.5, 190.5]; 300 above [21.45, 209.55]; 10 below [23.4, 228.6].
    assert list(fit["position"]) == ["inside", "above", "below", "inside", "above", "below", "inside"]
    # A lower bound ("more than") agrees when the band reaches it: inside, or the band all above it.
    assert list(fit["inside"]) == [True, False, False, True, False, True, True]
    later = fit.iloc[-1]  # counted from 6 Nov: 5 days of k, [9.75, 52.5, 95.25]; before it, 5 × 10.5
    assert (later["first_day"], later["model_p50"], later["model_before_p50"]) == ("2023-11-06", 52.5, 52.5)
    shown = observed_rows(fit)
    assert list(shown["in band"]) == ["yes", "no: above the band", "no: below the band", "yes",
                                      "no: above the band", "yes", "yes"]
    assert list(shown["observed"][2:5]) == ["10", "≥ 100", "≥ 300"]
    assert shown["counts"].iloc[-1] == "running total from 2023-11-06 to 2023-11-10"


def test_running_totals_from_a_later_day_are_raised_by_the_model_before_it() -> None:
    fit = hand_made_fit()
    fit = fit.assign(kind="cumulative", node="torkham")
    points = observed_running_totals(fit, "torkham", pd.Timestamp("2023-11-01"))
    assert list(points["style"]) == ["point", "point", "point", "lower", "lower", "lower", "shifted"]
    assert points["value"].iloc[-1] == pytest.approx(50 + 52.5)
