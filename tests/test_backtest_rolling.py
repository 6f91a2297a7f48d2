"""bordersim backtest --cutoffs: refit at every cutoff, forecast, score against what followed and
against two baselines (persistence, the unfitted prior); resumable, parallel over cutoffs.

The runs use the tiny scenario of the experiment tests (4,000 people over 20 days) with synthetic
figures of every kind the bundled data have — running totals from a known start, daily counts,
period counts, a lower bound, running totals whose start is uncertain — and a fit cut short
(``max_evaluations``) so that a cutoff costs seconds.
"""
from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from experiment_scenarios import bordersim, stop_after, write_tiny
from typer.testing import CliRunner

from sim.cli import app
from sim.runs.evaluate import daily_crossed
from sim.runs.executors import SerialExecutor
from sim.scenario import load_scenario
from sim.studies.forecast_draws import ParameterRows, forecast_outcomes
from sim.studies.observation import ObservedSeries, read_observations
from sim.studies.priors import Prior
from sim.studies.rolling import plan as rolling
from sim.studies.rolling.persistence import persistence_forecast
from sim.studies.rolling.scores import SCORE_COLUMNS, bounds_table, scores_table, summary_table

D = dt.date
KEY = "groups.undocumented.never_leave"
PRIORS = [Prior.uniform(KEY, 0.0, 0.5)]
CHEAP = {"rhat_max": 1.2, "ess_min": 20, "simulation_replications": 6, "max_evaluations": 400}
CUTOFFS = [D(2023, 11, 7), D(2023, 11, 10)]
HORIZONS = [3, 7]
OPTIONS = ["--fit", f"{KEY}=0:0.5", "--rhat-max", "1.2", "--ess-min", "20", "--sim-replications", "6",
           "--max-evaluations", "400", "-n", "6", "--seed", "3"]


def _write_observed(folder, scenario):
    """Figures made from one replication of the model (seed 99), of every kind."""
    daily = daily_crossed(scenario, seed=99)
    total = np.cumsum(daily["all"])

    def day(number: int) -> str:
        return D(2023, 11, number).isoformat()

    rows = [{"series": "total", "kind": "cumulative", "count_from": day(1), "date": day(d), "value": round(1.1 * total[d - 1])}
            for d in (3, 5, 8, 11, 14, 17)]
    rows += [{"series": "counts", "kind": "daily", "date": day(d), "value": round(daily["all"][d - 1])} for d in (4, 9, 16)]
    rows += [{"series": "counts", "kind": "period", "start": day(a), "date": day(b),
              "value": round(daily["all"][a - 1:b].sum())} for a, b in ((1, 6), (8, 14))]
    rows += [{"series": "counts", "kind": "period", "start": day(9), "date": day(10), "bound": "lower",
              "value": round(0.8 * daily["all"][8:10].sum())}]
    rows += [{"series": "tally", "kind": "cumulative", "date": day(d), "value": round(0.9 * total[d - 1]),
              "count_from_earliest": day(1), "count_from_latest": day(3)} for d in (6, 13)]
    path = folder / "observed.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    """The scenario, the figures, and a serial run of the two cutoffs (the reference)."""
    folder = tmp_path_factory.mktemp("rolling")
    scenario_path = write_tiny(folder)[0]
    observed = _write_observed(folder, load_scenario(scenario_path))
    serial = rolling.run_rolling(_plan(folder / "serial", scenario_path, observed), SerialExecutor())
    return folder, scenario_path, observed, serial


def _plan(out, scenario_path, observed, cutoffs=CUTOFFS):
    scenario = load_scenario(scenario_path)
    return rolling.plan_rolling(scenario, PRIORS, read_observations(observed), cutoffs=cutoffs, horizons_days=HORIZONS,
                                replications=6, seed=3, fit_options=CHEAP, out=out, command_line=["test"])


# --------------------------------------------------------------------------------------------
# The baselines and the tables, by hand


def test_persistence_carries_the_last_30_days_rate_on_by_hand() -> None:
    start = D(2024, 1, 1)
    totals = ObservedSeries("totals", "cumulative", "all", start, (D(2024, 1, 10), D(2024, 1, 20), D(2024, 1, 31),
                                                                   D(2024, 2, 3)),
                            np.array([100.0, 300, 520, 900]), lower_bound=np.array([False, False, False, True]))
    later = ObservedSeries("totals", "cumulative", "all", start, (D(2024, 2, 10),), np.array([0.0]))
    # The bound of 3 Feb says nothing exact. Up to 31 Jan: 100 in 1-10 Jan, 200 in 11-20, 220 in 21-31;
    # the last 30 days (2-31 Jan) hold 90 + 200 + 220 = 510 people: 17 a day, on top of 520 for 10 days.
    assert persistence_forecast(totals, D(2024, 2, 5), later, start) == [pytest.approx(520 + 17 * 10)]
    days = ObservedSeries("days", "daily", "all", None, (D(2024, 1, 25), D(2024, 1, 28), D(2024, 2, 1)),
                          np.array([10.0, 20, 30]))
    assert persistence_forecast(days, D(2024, 2, 5), days.with_values([0, 0, 0]).within(D(2024, 1, 31), D(2024, 2, 1)),
                                start) == [pytest.approx(20)]
    months = ObservedSeries("months", "period", "all", None, (D(2023, 12, 31), D(2024, 1, 31), D(2024, 2, 29)),
                            np.array([3100.0, 6200, 0]), kinds=("period",) * 3,
                            starts=(D(2023, 12, 1), D(2024, 1, 1), D(2024, 2, 1)))
    # 2-31 Jan: 30 of January's 31 days, 6,000 people: 200 a day, for February's 29 days.
    assert persistence_forecast(months, D(2024, 2, 5), months.within(D(2024, 2, 5), D(2024, 3, 1)),
                                D(2023, 9, 15)) == [pytest.approx(200 * 29)]
    # Too few figures: a series with only a lower bound up to the cutoff, a running total of another start.
    bound_only = ObservedSeries("b", "cumulative", "all", start, (D(2024, 1, 10),), np.array([50.0]),
                                lower_bound=np.array([True]))
    assert persistence_forecast(bound_only, D(2024, 2, 5), later, start) == [None]
    other_start = ObservedSeries("totals", "cumulative", "all", D(2024, 1, 15), (D(2024, 2, 10),), np.array([0.0]))
    assert persistence_forecast(totals, D(2024, 2, 5), other_start, start) == [None]


def _figure(cutoff, series, horizon, wis, wis_persistence=None, wis_prior=10.0, inside_50=1.0, inside_90=1.0,
            bound=False, value=100.0, median=100.0, probability_above=0.5):
    return {"cutoff": cutoff, "series": series, "horizon_days": horizon, "lower_bound": bound, "value": value,
            "median": median, "inside_50": np.nan if bound else inside_50, "inside_90": np.nan if bound else inside_90,
            "wis": np.nan if bound else wis, "wis_prior": np.nan if bound else wis_prior,
            "wis_persistence": np.nan if bound or wis_persistence is None else wis_persistence,
            "probability_above": probability_above}


def test_scores_nest_the_horizons_pool_the_series_and_leave_the_bounds_to_bounds_csv() -> None:
    figures = pd.DataFrame([
        _figure("2024-01-31", "a", 10, wis=2.0, wis_persistence=4.0, inside_50=1.0),
        _figure("2024-01-31", "a", 40, wis=6.0, wis_persistence=4.0, inside_50=0.0, inside_90=0.0),
        _figure("2024-01-31", "b", 20, wis=3.0, wis_persistence=None, wis_prior=1.0),
        _figure("2024-01-31", "b", 25, wis=np.nan, bound=True, value=500.0, median=600.0, probability_above=0.8),
    ])
    scores = scores_table(figures, [30, 90])
    assert list(scores.columns) == SCORE_COLUMNS
    assert scores[["horizon_days", "series", "figures"]].values.tolist() == [
        [30, "a", 1], [30, "b", 1], [30, "all", 2], [90, "a", 2], [90, "b", 1], [90, "all", 3]]
    row = scores.set_index(["horizon_days", "series"])
    assert row.loc[(30, "a"), "relative_wis_persistence"] == pytest.approx(0.5)
    assert row.loc[(90, "a"), "relative_wis_persistence"] == pytest.approx(1.0)  # (2 + 6) / (4 + 4)
    assert row.loc[(90, "a"), "coverage_50"] == pytest.approx(0.5) and row.loc[(90, "a"), "coverage_90"] == 0.5
    assert math.isnan(row.loc[(30, "b"), "relative_wis_persistence"])  # persistence had no forecast for b
    # Pooled: over the figures persistence forecast (a's), and over every figure for the prior.
    assert row.loc[(90, "all"), "relative_wis_persistence"] == pytest.approx(1.0)
    assert row.loc[(90, "all"), "relative_wis_prior"] == pytest.approx((11 / 3) / (21 / 3))
    assert row.loc[(90, "all"), "wis"] == pytest.approx(11 / 3)
    bounds = bounds_table(figures, [30, 90])
    assert bounds[["horizon_days", "series", "bounds", "median_at_or_above", "probability_above"]].values.tolist() == [
        [30, "b", 1, 1.0, 0.8], [30, "all", 1, 1.0, 0.8], [90, "b", 1, 1.0, 0.8], [90, "all", 1, 1.0, 0.8]]
    summary = summary_table(pd.concat([figures, figures.assign(cutoff="2024-03-31")]), [90])
    assert summary.set_index("series").loc["all", ["cutoffs", "figures"]].tolist() == [2, 6]


def test_the_unfitted_forecast_draws_every_row_from_the_priors() -> None:
    sigma = {"un": Prior.from_text("error_scale.un", "halfnormal(0.2)")}
    rows = ParameterRows.from_priors(PRIORS + [Prior.from_text("x.y", "lognormal(0.01, 0.005)")], sigma, seed=3,
                                     rows=4000)
    values = rows.samples[KEY]
    assert values.between(0, 0.5).all() and values.std() == pytest.approx(0.5 / math.sqrt(12), rel=0.05)
    assert rows.samples["x.y"].mean() == pytest.approx(0.01, rel=0.05)
    assert rows.error_scales["error_scale.un"].mean() == pytest.approx(0.2 * math.sqrt(2 / math.pi), rel=0.05)
    again = ParameterRows.from_priors(PRIORS, sigma, seed=3, rows=4000)
    assert again.samples[KEY].tolist() == values.tolist()  # the same seed, the same rows


def test_a_forecast_cut_before_later_hazard_steps_leaves_their_uncertain_values_out(tmp_path) -> None:
    """The arc names priors of steps years after an early cutoff: the cut removes those steps, and
    their values (the scenario's own and the fitted ones) can change nothing before it."""
    tiny, _ = write_tiny(tmp_path)
    later = tiny.read_text(encoding="utf-8").replace(
        "        - {from: 2023-11-01, rate: 0.08}\n",
        "        - {from: 2023-11-01, rate: 0.08}\n        - {from: 2023-11-15, rate: 0.02}\n"
        "        - {from: 2023-11-18, rate: 0.01}\n")
    later += "uncertain:\n  groups.undocumented.departures.hazard.2.rate: {dist: uniform, low: 0.005, high: 0.02}\n"
    tiny.write_text(later, encoding="utf-8")
    scenario = load_scenario(tiny)
    fitted = [KEY, "groups.undocumented.departures.hazard.1.rate"]
    rows = ParameterRows(fitted, pd.DataFrame({KEY: [0.1, 0.2], fitted[1]: [0.02, 0.03], "weight": [1.0, 1.0]}),
                         pd.DataFrame(index=range(2)))
    with SerialExecutor() as executor:
        future, outcomes = forecast_outcomes(scenario, rows, D(2023, 11, 10), 2, 5, executor)
    assert len(future.groups["undocumented"].departures.hazard) == 1
    assert len(outcomes) == 2
    with SerialExecutor() as executor:
        future, _ = forecast_outcomes(scenario, rows, D(2023, 11, 16), 2, 5, executor)
    assert len(future.groups["undocumented"].departures.hazard) == 2  # step 1 kept, step 2 (and its value) cut


# --------------------------------------------------------------------------------------------
# Real runs


def test_scores_csv_has_a_row_per_cutoff_horizon_and_series(case) -> None:
    folder, _, _, serial = case
    out = folder / "serial"
    scores = pd.read_csv(out / "scores.csv")
    assert list(scores.columns) == SCORE_COLUMNS
    figures = pd.read_csv(out / "figures.csv")
    exact = figures[~figures["lower_bound"]]
    expected = []
    for cutoff in ["2023-11-07", "2023-11-10"]:
        for horizon in HORIZONS:
            mine = exact[(exact["cutoff"] == cutoff) & (exact["horizon_days"] <= horizon)]
            names = [name for name in ["total", "counts", "tally"] if name in set(mine["series"])]
            expected += [[cutoff, horizon, name, int((mine["series"] == name).sum())] for name in names]
            expected.append([cutoff, horizon, "all", len(mine)])
    assert scores[["cutoff", "horizon_days", "series", "figures"]].values.tolist() == expected
    # Every figure after each cutoff, of every kind, is forecast; only the exact ones are scored.
    assert set(figures["kind"]) == {"cumulative", "daily", "period"} and figures["lower_bound"].sum() == 1
    assert figures.loc[figures["lower_bound"], "wis"].isna().all()
    assert figures["horizon_days"].between(1, max(HORIZONS)).all()
    assert set(figures.loc[figures["series"] == "tally", "first_day"]) == {"2023-11-02"}  # the window's middle
    assert (exact["p05"] <= exact["p25"]).all() and (exact["p25"] <= exact["median"]).all()
    assert (exact["median"] <= exact["p75"]).all() and (exact["p75"] <= exact["p95"]).all()
    # The unfitted prior is another forecast: never_leave anywhere in 0-0.5 makes it wider.
    assert (exact["prior_p95"] - exact["prior_p05"]).mean() > (exact["p95"] - exact["p05"]).mean()
    assert not np.allclose(exact["wis"], exact["wis_prior"])
    assert {"scores.png", "summary.csv", "bounds.csv", "cutoffs.csv", "manifest.json"} <= {p.name for p in out.iterdir()}
    for cutoff in ["2023-11-07", "2023-11-10"]:
        assert (out / "cutoffs" / cutoff / "forecast.png").read_bytes()[:4] == b"\x89PNG"
        assert len(pd.read_csv(out / "cutoffs" / cutoff / "posterior.csv")) > 0
    assert any(line.startswith("  within 7 days: ") for line in serial.lines())


def test_a_resumed_run_skips_finished_cutoffs_and_writes_the_same_scores(case) -> None:
    folder, scenario_path, observed, _ = case
    plan = _plan(folder / "resumed", scenario_path, observed)
    with pytest.raises(KeyboardInterrupt):
        rolling.run_rolling(plan, stop_after(1))
    assert not (folder / "resumed").exists()
    again = rolling.load_plan(plan.partial)
    assert again.done == CUTOFFS[:1] and again.remaining() == CUTOFFS[1:]
    fitted = []

    def counting_fit(*arguments, **options):
        from sim.studies.posterior import fit_posterior

        fitted.append(options["cutoff"])
        return fit_posterior(*arguments, **options)

    resumed = rolling.run_rolling(again, SerialExecutor(), fit=counting_fit)
    assert fitted == CUTOFFS[1:] and resumed.resumed == 1 and not plan.partial.exists()
    for name in ("scores.csv", "summary.csv", "bounds.csv", "cutoffs.csv", "figures.csv"):
        assert (folder / "serial" / name).read_bytes() == (folder / "resumed" / name).read_bytes(), name


def test_the_command_on_two_processes_writes_what_a_serial_run_writes(case) -> None:
    folder, scenario_path, observed, _ = case
    completed = bordersim("backtest", str(scenario_path), "--observed", str(observed), "--cutoffs",
                          "2023-11-10,2023-11-07", "--horizons", "7,3", *OPTIONS, "-j", "2", "--out", "parallel",
                          cwd=folder, timeout=300)
    assert completed.returncode == 0, completed.stderr
    assert "within 3 days:" in completed.stdout and completed.stdout.strip().endswith("results: parallel")
    for name in ("scores.csv", "summary.csv", "figures.csv"):
        assert (folder / "serial" / name).read_bytes() == (folder / "parallel" / name).read_bytes(), name


def test_a_cutoff_on_a_dask_cluster_is_the_cutoff_of_the_serial_run(case) -> None:
    from dask.distributed import LocalCluster

    from sim.runs.executors import DaskExecutor

    folder, scenario_path, observed, _ = case
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            DaskExecutor(cluster.scheduler_address) as executor:
        rolling.run_rolling(_plan(folder / "dask", scenario_path, observed, CUTOFFS[1:]), executor)
    one = "cutoffs/2023-11-10/figures.csv"
    assert (folder / "serial" / one).read_bytes() == (folder / "dask" / one).read_bytes()


# --------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("arguments, message", [
    (["--cutoffs", "2023-11-07,7 Nov"], "--cutoffs '2023-11-07,7 Nov': give ISO dates (YYYY-MM-DD), each once"),
    (["--cutoffs", "2023-11-07,2023-11-07"], "give ISO dates (YYYY-MM-DD), each once, separated by commas"),
    (["--cutoffs", "2023-11-07", "--horizons", "30,-5"], "--horizons '30,-5': give whole numbers of days, at least 1"),
    (["--cutoffs", "2023-11-07", "--horizons", "30,,90"], "--horizons '30,,90': give whole numbers of days"),
    (["--cutoffs", "2023-11-02"], "--cutoffs 2023-11-02: before the first observed figure (2023-11-03)"),
    (["--cutoffs", "2023-11-18", "--horizons", "1"], "--cutoffs 2023-11-18: no observed figure within 1 day after it"),
    (["--cutoffs", "2023-12-25"], "--cutoffs 2023-12-25: outside the scenario's period 2023-11-01..2023-11-20"),
    (["--cutoffs", "2023-11-07", "--cutoff", "2023-11-07"], "--cutoff and --until are the single-cutoff backtest"),
    (["--cutoffs", "2023-11-07", "--prior", "error_scale.nobody=halfnormal(0.1)"], "error_scale.nobody: no such error"),
])
def test_bad_cutoffs_and_horizons_exit_2_with_one_line_and_write_nothing(case, tmp_path, arguments, message) -> None:
    _, scenario_path, observed, _ = case
    result = CliRunner().invoke(app, ["backtest", str(scenario_path), "--observed", str(observed), *arguments, *OPTIONS,
                                      "--out", str(tmp_path / "out")])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert list(tmp_path.iterdir()) == []  # no folder, no .partial


def test_resume_takes_an_interrupted_run_only(tmp_path) -> None:
    result = CliRunner().invoke(app, ["backtest", "--resume", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "not an interrupted backtest run" in result.stderr
    result = CliRunner().invoke(app, ["backtest", "--resume", str(tmp_path), "--fit", f"{KEY}=0:1"])
    assert result.exit_code == 2 and "--resume takes the run's .partial folder only" in result.stderr
    (tmp_path / "spec.json").write_text('{"destination": "out"}', encoding="utf-8")
    result = CliRunner().invoke(app, ["backtest", "--resume", str(tmp_path)])
    assert result.exit_code == 2 and result.stderr.strip() == (
        f"error: --resume {tmp_path / 'spec.json'}: 'priors' is missing or not a list; the folder is left as it is: "
        "restore it, or start again")


def test_a_cutoff_panel_with_one_figure_spans_days_not_years() -> None:
    from sim.outputs.rolling_figures import padded_date_span

    cutoff = pd.Timestamp("2023-11-22 23:59")
    first, last = padded_date_span([cutoff, pd.Timestamp("2023-11-24")])
    assert first == cutoff - pd.Timedelta(days=3) and last == pd.Timestamp("2023-11-27")
    first, last = padded_date_span([cutoff, pd.Timestamp("2024-05-20")])
    assert pd.Timedelta(days=7) < cutoff - first < pd.Timedelta(days=8)  # 4 % of 180 days


def test_a_reporters_missing_count_is_learned_from_the_figures_before_the_cutoff() -> None:
    """A tally whose start of counting is uncertain (a 21-day window) misses one count D from every
    figure. Before the cutoff its figures ran 300 people below the path: the forecast of a later
    figure is then about 300 below it with a small spread, where without them it has the window's
    own spread (sd ~600 people); lower bounds and, with independent errors, figures from a known
    start say nothing about it."""
    from sim.studies.forecast_draws import reporter_errors

    start = dt.date(2024, 1, 1)
    daily = {"all": np.full(200, 100.0)}
    window = (start, start + dt.timedelta(days=20))
    dates = tuple(start + dt.timedelta(days=d) for d in (40, 50, 60, 70, 80))
    tally = ObservedSeries("tally", "cumulative", "all", None, dates, np.ones(5), windows=(window,) * 4 + (None,))
    model = tally.model_values(daily, start)
    values = model - 300.0
    values[3], values[4] = 1e6, 1e6  # a lower bound far above the path, and a figure counted from a known start
    known = ObservedSeries("tally", "cumulative", "all", None, dates, values, windows=tally.windows,
                           lower_bound=np.array([False, False, False, True, False]))
    later = ObservedSeries("tally", "cumulative", "all", None, (start + dt.timedelta(days=120),), np.ones(1),
                           windows=(window,))
    people = 1.0 + later.model_values(daily, start)[0]
    sd_window = 100 * math.sqrt(2 * sum(k * k for k in range(11)) / 21)
    assert math.sqrt(later.extra_variance(daily, start)[0]) == pytest.approx(sd_window)
    mean, cov = reporter_errors(later, None, daily, start, 0.001, 0.0)
    assert mean[0] == 0.0 and math.sqrt(cov[0, 0]) * people == pytest.approx(math.hypot(sd_window, 0.001 * people))
    mean, cov = reporter_errors(later, known.exact(), daily, start, 0.001, 0.0)
    assert mean[0] * people == pytest.approx(-300, rel=0.1) and math.sqrt(cov[0, 0]) * people < 0.1 * sd_window
    other = ObservedSeries("tally", "cumulative", "all", None, (start + dt.timedelta(days=120),), np.ones(1),
                           windows=((start, start),))
    mean, cov = reporter_errors(other, known.exact(), daily, start, 0.001, 0.0)
    assert mean[0] == pytest.approx(0.0, abs=1e-12)


def test_a_reporters_correlated_error_carries_on_as_far_as_its_correlation_says() -> None:
    """Running totals from a known start, errors correlated ρ = 0.9 a week apart: a figure 5 % above
    the path two weeks before a forecast figure leaves it ρ² × 0.05 above, with variance σ²(1 − ρ⁴);
    with ρ = 0, nothing carries."""
    from sim.studies.forecast_draws import reporter_errors

    start = dt.date(2024, 1, 1)
    daily = {"all": np.full(100, 100.0)}
    first, second = start + dt.timedelta(days=30), start + dt.timedelta(days=44)
    path = 3100.0  # people crossed to the end of day 30
    known = ObservedSeries("tally", "cumulative", "all", None, (first,), np.array([(1 + path) * math.exp(0.05) - 1]))
    later = ObservedSeries("tally", "cumulative", "all", None, (second,), np.ones(1))
    mean, cov = reporter_errors(later, known, daily, start, 0.1, 0.9)
    assert mean[0] == pytest.approx(0.81 * 0.05) and cov[0, 0] == pytest.approx(0.01 * (1 - 0.9 ** 4))
    mean, cov = reporter_errors(later, known, daily, start, 0.1, 0.0)
    assert mean[0] == pytest.approx(0.0) and cov[0, 0] == pytest.approx(0.01)
