"""``fit_posterior`` and ``bordersim calibrate --method posterior``: recovery of known parameters,
reproducibility (same seed, serial or parallel: identical samples), and the command end to end."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from posterior_synthetic import KEYS, PRIOR_HIGH, PRIOR_LOW, synthetic_series, tiny_scenario
from typer.testing import CliRunner

from sim.cli import app
from sim.runs.executors import ProcessExecutor
from sim.scenario import load_scenario
from sim.studies.calibrate import FitParameter
from sim.studies.posterior import fit_posterior, log_posterior_rise, rhat_halves, still_climbing
from sim.studies.posterior_output import posterior_csv_text

TRUTH = {KEYS[0]: 0.05, KEYS[1]: 0.15}
FIT = [FitParameter(key, PRIOR_LOW, PRIOR_HIGH) for key in KEYS]


def fit(observations, seed=5, steps=80, burn=30, **options):
    return fit_posterior(tiny_scenario(), observations, FIT, seed=seed, walkers=6, steps=steps, burn=burn, **options)


def test_credible_intervals_contain_the_truth_and_are_narrower_than_the_prior() -> None:
    result = fit([synthetic_series(TRUTH, 0.05, noise_seed=1)], steps=100, burn=15)
    for key, truth in TRUTH.items():
        low, high = np.quantile(result.samples[key], [0.05, 0.95])
        assert low <= truth <= high, result.lines()
        assert high - low < 0.5 * (PRIOR_HIGH - PRIOR_LOW), result.lines()
    assert list(result.samples.columns) == [*KEYS, "weight"]
    assert len(result.samples) == 6 * (100 - 15)
    summary = result.summary.set_index("parameter")
    assert summary.loc[KEYS[0], "p05"] <= summary.loc[KEYS[0], "p50"] <= summary.loc[KEYS[0], "p95"]
    assert summary.loc["error_scale.synthetic", "prior"] == "halfnormal(0.2)"
    # the fitted band follows the data: the model's median within 20% of every observed figure
    assert np.all(np.abs(result.fit["model_p50"] / result.fit["observed"] - 1) < 0.2), result.fit
    assert 0.1 < result.diagnostic("acceptance_fraction") < 0.9
    rise, rise_se = result.diagnostic("log_posterior_rise_after_burn_in"), result.diagnostic("log_posterior_rise_se")
    assert np.isfinite(rise) and rise_se > 0
    # This short chain (6 walkers, 15 steps of burn-in) is still climbing, and says so.
    assert still_climbing(rise, rise_se) and any("still rose" in line for line in result.lines()), result.lines()


def test_same_seed_same_samples_serial_or_parallel() -> None:
    observations = [synthetic_series(TRUTH, 0.05, noise_seed=2)]
    serial = fit(observations, seed=9, steps=12, burn=4)
    again = fit(observations, seed=9, steps=12, burn=4)
    with ProcessExecutor(2) as executor:
        parallel = fit(observations, seed=9, steps=12, burn=4, executor=executor)
        # One pool for the whole calibration (the pilot and 13 × 2 half-steps), not one per half-step.
        assert executor.pools_started == 1
    text = posterior_csv_text(serial.samples)
    assert posterior_csv_text(again.samples) == text
    assert posterior_csv_text(parallel.samples) == text
    assert posterior_csv_text(fit(observations, seed=10, steps=12, burn=4).samples) != text


def test_a_dask_cluster_gives_the_same_samples() -> None:
    from dask.distributed import Client, LocalCluster

    from sim.runs.executors import DaskExecutor

    observations = [synthetic_series(TRUTH, 0.05, noise_seed=2)]
    serial = fit(observations, seed=9, steps=6, burn=2)
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        on_dask = fit(observations, seed=9, steps=6, burn=2, executor=DaskExecutor(client=client))
    assert posterior_csv_text(on_dask.samples) == posterior_csv_text(serial.samples)


def test_rhat_of_two_identical_halves_and_of_two_separated_halves() -> None:
    rng = np.random.default_rng(0)
    same = rng.normal(size=(400, 8, 1))
    assert rhat_halves(same)[0] == pytest.approx(1.0, abs=0.01)
    apart = same.copy()
    apart[:, 4:] += 3.0  # the second half of the walkers sits elsewhere: not converged
    assert rhat_halves(apart)[0] > 1.5


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
    arguments = ["calibrate", str(scenario_file), "--observed", str(observed), "--steps", "8", "--walkers", "6",
                 "--fit", f"{KEYS[0]}={PRIOR_LOW}:{PRIOR_HIGH}", "--prior", f"{KEYS[1]}=uniform(0.01, 0.3)",
                 "--allow-unconverged", "-j", "1", *options]  # 8 steps: a quick look, not converged
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
    assert list(posterior.columns) == [*KEYS, "weight"] and len(posterior) == 6 * 4
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
])
def test_cli_bad_input_exits_2_with_one_line(tmp_path, options, message) -> None:
    scenario_file, observed = _files(tmp_path)
    result = _calibrate(scenario_file, observed, "--out", str(tmp_path / "out"), *options)
    assert result.exit_code == 2, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.output
    assert not (tmp_path / "out").exists()


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


def test_a_chain_still_climbing_after_burn_in_is_told_apart_from_a_settled_one() -> None:
    """What R-hat across walker halves cannot see: all walkers drifting up together."""
    rng = np.random.default_rng(3)
    noise = rng.normal(0.0, 2.0, size=(200, 16))  # a settled chain's log posterior wanders by ~2
    climbing = noise + np.linspace(0.0, 4.0, 200)[:, None]  # + 4 over the kept steps, shared by all
    rise, se = log_posterior_rise(climbing)
    assert 2.0 < rise < 4.0 and still_climbing(rise, se)
    rise, se = log_posterior_rise(noise)
    assert abs(rise) < 1.0 and not still_climbing(rise, se)
    chain = np.stack([climbing, climbing + rng.normal(0.0, 0.1, size=climbing.shape)], axis=2)
    assert np.all(rhat_halves(chain) < 1.1)  # the drift passes R-hat unseen
