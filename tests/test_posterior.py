"""``fit_posterior`` and ``bordersim calibrate --method posterior``: recovery of known parameters,
reproducibility (same seed, serial or parallel: identical samples), and the command end to end."""
from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest
from posterior_synthetic import KEYS, PRIOR_HIGH, PRIOR_LOW, synthetic_series, tiny_scenario
from typer.testing import CliRunner

from sim.cli import app
from sim.runs.executors import ProcessExecutor
from sim.scenario import load_scenario
from sim.studies.calibrate import FitParameter
from sim.studies.posterior import fit_posterior
from sim.studies.posterior_output import posterior_csv_text

TRUTH = {KEYS[0]: 0.05, KEYS[1]: 0.15}
FIT = [FitParameter(key, PRIOR_LOW, PRIOR_HIGH) for key in KEYS]
CHEAP = {"rhat_max": 1.03, "ess_min": 100, "simulation_replications": 10, "max_evaluations": 40_000}
"""Looser than the defaults (R-hat 1.01, ESS 400, 96 replications) so the suite stays quick; the
defaults themselves are checked by simulation-based calibration (tests/test_sbc.py)."""


def fit(observations, seed=5, **options):
    return fit_posterior(tiny_scenario(), observations, FIT, seed=seed, **{**CHEAP, **options})


def test_credible_intervals_contain_the_truth_and_are_narrower_than_the_prior() -> None:
    result = fit([synthetic_series(TRUTH, 0.05, noise_seed=1)])
    assert result.converged, result.lines()
    for key, truth in TRUTH.items():
        # one data set's 90 % interval misses its truth one time in ten by design (SBC checks the
        # rate: tests/test_sbc.py); the 98 % interval missing would be a real failure here
        low, high = np.quantile(result.samples[key], [0.01, 0.99])
        assert low <= truth <= high, result.lines()
        assert np.diff(np.quantile(result.samples[key], [0.05, 0.95]))[0] < 0.5 * (PRIOR_HIGH - PRIOR_LOW)
    assert list(result.samples.columns) == [*KEYS, "weight"]
    assert len(result.samples) == result.walkers * (result.steps - result.burn)
    assert list(result.error_scales.columns) == ["error_scale.synthetic", "error_correlation.synthetic"]
    summary = result.summary.set_index("parameter")
    assert summary.loc[KEYS[0], "p05"] <= summary.loc[KEYS[0], "p50"] <= summary.loc[KEYS[0], "p95"]
    assert summary.loc["error_scale.synthetic", "prior"] == "halfnormal(0.2)"
    assert summary.loc["error_correlation.synthetic", "prior"] == "beta(1, 4)"
    # the fitted band follows the data: the model's median within 20% of every observed figure
    assert np.all(np.abs(result.fit["model_p50"] / result.fit["observed"] - 1) < 0.2), result.fit
    # the answering chains' random walks are tuned near their targets (0.234 for θ, 0.44 per series)
    assert 0.1 < result.diagnostic("acceptance_fraction") < 0.6
    assert 0.2 < result.diagnostic("error_term_acceptance") < 0.7
    assert result.diagnostic("simulation_replications") == 10 * result.rounds
    # 600 households: the simulation's own spread is real and measured (a few % in log units)
    assert 0.005 < result.diagnostic("simulator_noise_log_sd", "synthetic") < 0.3
    assert any(line.startswith("converged:") for line in result.lines())


def test_same_seed_same_samples_serial_or_parallel(monkeypatch) -> None:
    observations = [synthetic_series(TRUTH, 0.05, noise_seed=2)]
    serial = fit(observations, seed=9)
    again = fit(observations, seed=9)
    # the tiny scenario's paths are cheap: send them to the workers all the same
    monkeypatch.setattr("sim.studies.posterior.PARALLEL_PATH_SECONDS", 0.0)
    with ProcessExecutor(2) as executor:
        parallel = fit(observations, seed=9, executor=executor)
        # per correction round, one pool for the simulation's replications and one for the answering
        # chains' fluid paths (a chain's path a task): the same samples either way
        assert executor.pools_started == 2 * parallel.rounds
    text = posterior_csv_text(serial.samples)
    assert posterior_csv_text(again.samples) == text
    assert posterior_csv_text(parallel.samples) == text
    assert posterior_csv_text(fit(observations, seed=10).samples) != text


def test_a_dask_cluster_gives_the_same_samples() -> None:
    from dask.distributed import Client, LocalCluster

    from sim.runs.executors import DaskExecutor

    observations = [synthetic_series(TRUTH, 0.05, noise_seed=2)]
    serial = fit(observations, seed=9)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        on_dask = fit(observations, seed=9, executor=DaskExecutor(client=client))
    assert posterior_csv_text(on_dask.samples) == posterior_csv_text(serial.samples)


def test_a_second_round_stops_the_first_rounds_chains_early_and_resumes_to_the_same_samples(tmp_path) -> None:
    observations = [synthetic_series(TRUTH, 0.05, noise_seed=3)]  # its answer leaves the first round's region
    said = []
    full = fit(observations, checkpoint=tmp_path / "fit", status=said.append)
    assert full.rounds == 2 and full.converged
    pilots = [line for line in said if "outside the region the simulation was measured in" in line]
    assert len(pilots) == 1 and said.index(pilots[0]) < min(i for i, line in enumerate(said) if "round 2" in line)
    # round 1's chains stopped at a quarter of the ESS asked for (CHEAP: 100), round 2's went on to it
    last_ess = {round_: float(re.findall(r"smallest bulk ESS (\d+)", [line for line in said if
                                          line.startswith(f"answering chains, round {round_}")][-1])[0])
                for round_ in (1, 2)}
    assert 25 <= last_ess[1] < 100 <= last_ess[2], last_ess
    resumed = fit(observations, checkpoint=tmp_path / "fit", resume=True)
    assert posterior_csv_text(resumed.samples) == posterior_csv_text(full.samples)


def test_a_chain_out_of_budget_is_marked_unconverged() -> None:
    result = fit([synthetic_series(TRUTH, 0.05, noise_seed=1)], max_evaluations=200)
    assert not result.converged and any("NOT CONVERGED" in line for line in result.lines())


# --------------------------------------------------------------------------------------------
# The command


def _files(tmp_path):
    scenario_file = tmp_path / "tiny.yaml"
    scenario_file.write_text("# a tiny scenario\n" + tiny_scenario().to_yaml())
    series = synthetic_series(TRUTH, 0.05, noise_seed=3)
    observed = tmp_path / "observed.csv"
    pd.DataFrame({"date": [d.isoformat() for d in series.dates], "value": series.values,
                  "series": "synthetic", "kind": "cumulative", "node": "all"}).to_csv(observed, index=False)
    return scenario_file, observed


def _calibrate(scenario_file, observed, *options):
    arguments = ["calibrate", str(scenario_file), "--observed", str(observed), "--rhat-max", "1.2", "--ess-min", "20",
                 "--sim-replications", "8",
                 "--fit", f"{KEYS[0]}={PRIOR_LOW}:{PRIOR_HIGH}", "--prior", f"{KEYS[1]}=uniform(0.01, 0.3)",
                 "-j", "1", *options]
    return CliRunner().invoke(app, arguments)


def test_cli_writes_the_results_folder_and_a_forecast_scenario(tmp_path) -> None:
    scenario_file, observed = _files(tmp_path)
    out, written = tmp_path / "out", tmp_path / "forecast.yaml"
    result = _calibrate(scenario_file, observed, "--out", str(out), "--write", str(written), "--seed", "3")
    assert result.exit_code == 0, result.output
    for name in ("posterior.csv", "posterior-summary.csv", "diagnostics.csv", "fit.csv", "chain.csv",
                 "posterior-marginals.png", "posterior-pairs.png", "posterior-fit.png", "manifest.json"):
        assert (out / name).is_file(), name
    assert (out / "posterior-fit.png").read_bytes()[:4] == b"\x89PNG"
    posterior = pd.read_csv(out / "posterior.csv")
    assert list(posterior.columns) == [*KEYS, "weight"] and len(posterior) >= 20
    summary = pd.read_csv(out / "posterior-summary.csv")
    assert list(summary.columns) == ["parameter", "prior", "prior_low", "prior_high", "mean", "sd", "p05", "p50",
                                     "p95"]
    # the written scenario extends the calibrated one and draws its values from the CSV beside it
    assert (tmp_path / "forecast-posterior.csv").read_bytes() == (out / "posterior.csv").read_bytes()
    forecast = load_scenario(written)
    assert forecast.name == "forecast"
    assert "extends: tiny.yaml" in written.read_text() and "sample: forecast-posterior.csv" in written.read_text()
    run = CliRunner().invoke(app, ["run", str(written), "-n", "3", "-j", "1", "--out", str(tmp_path / "run")])
    assert run.exit_code == 0, run.output
    drawn = pd.read_csv(tmp_path / "run" / "replications.csv")
    rows = posterior.itertuples(index=False)
    assert {tuple(row[:2]) for row in rows} >= set(zip(drawn[f"uncertain:{KEYS[0]}"], drawn[f"uncertain:{KEYS[1]}"]))


def test_cli_serial_and_two_processes_write_the_same_posterior(tmp_path) -> None:
    scenario_file, observed = _files(tmp_path)
    for jobs in ("1", "2"):  # the last -j wins
        result = _calibrate(scenario_file, observed, "--out", str(tmp_path / jobs), "--seed", "4", "-j", jobs)
        assert result.exit_code == 0, result.output
    assert "2 local processes" in (tmp_path / "2" / "manifest.json").read_text()
    assert (tmp_path / "1" / "posterior.csv").read_bytes() == (tmp_path / "2" / "posterior.csv").read_bytes()


@pytest.mark.parametrize(("options", "message"), [
    (("--prior", f"{KEYS[0]}=cauchy(1, 2)"), "not a distribution"),
    (("--fit", f"{KEYS[0]}=0.3:0.1"), "low must be below high"),
    (("--fit", "crossings.nowhere.lanes=1:4"), "no such value"),
    (("--observed", "bundled:nowhere"), "unknown bundled series"),
    (("--until", "22 Nov"), "not an ISO date"),
    (("--walkers", "3"), "need an even number"),
    (("--prior", "error_scale.nowhere=halfnormal(0.1)"), "no such error term"),
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, options, message) -> None:
    scenario_file, observed = _files(tmp_path)
    result = _calibrate(scenario_file, observed, "--out", str(tmp_path / "out"), *options)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.output
    assert not (tmp_path / "out").exists()


def test_cli_unconverged_writes_nothing_and_exits_3_unless_allowed(tmp_path) -> None:
    scenario_file, observed = _files(tmp_path)
    result = _calibrate(scenario_file, observed, "--out", str(tmp_path / "out"), "--max-evaluations", "150")
    assert result.exit_code == 3, result.output
    assert "NOT CONVERGED" in result.output and not (tmp_path / "out").exists()
    result = _calibrate(scenario_file, observed, "--out", str(tmp_path / "out"), "--max-evaluations", "150",
                        "--allow-unconverged", "--resume", str(tmp_path / "out.partial"))
    assert result.exit_code == 0, result.output
    assert '"converged": false' in (tmp_path / "out" / "manifest.json").read_text()


def test_cli_retired_sampler_options_fail_clearly(tmp_path) -> None:
    scenario_file, observed = _files(tmp_path)
    result = _calibrate(scenario_file, observed, "--steps", "200")
    assert result.exit_code == 2 and "--steps" in result.output, result.output


def test_cli_bad_observed_rows_exit_2(tmp_path) -> None:
    scenario_file, _ = _files(tmp_path)
    for text, message in (("date,value\n2024-01-05,many\n", "value 'many' is not a number"),
                          ("date,value\n05/01/2024,10\n", "not an ISO date"),
                          ("date,value\n2025-01-05,10\n", "outside the period"),
                          ("day,count\n2024-01-05,10\n", "needs columns date,value")):
        observed = tmp_path / "bad.csv"
        observed.write_text(text)
        result = _calibrate(scenario_file, observed)
        assert result.exit_code == 2 and message in result.output, result.output


def test_until_drops_later_figures() -> None:
    series = synthetic_series(TRUTH, 0.05, noise_seed=4)
    cut = series.until(dt.date(2024, 1, 9))
    assert cut.dates[-1] == dt.date(2024, 1, 9) and len(cut.dates) == 4
