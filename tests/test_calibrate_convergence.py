"""``bordersim calibrate`` converged by default: a chain that runs out of --max-evaluations exits 3
and writes nothing but its .partial folder; --resume continues it to the same samples as an
uninterrupted run; --allow-unconverged writes it with ``converged: false``."""
from __future__ import annotations

import json

from posterior_synthetic import KEYS, PRIOR_HIGH, PRIOR_LOW, synthetic_series, tiny_scenario
from test_posterior import TRUTH
from typer.testing import CliRunner

from sim.cli import app
from sim.studies.inference.sampler import CHAIN_FILE


def _files(tmp_path):
    scenario_file = tmp_path / "tiny.yaml"
    scenario_file.write_text(tiny_scenario().to_yaml())
    series = synthetic_series(TRUTH, 0.05, noise_seed=3)
    observed = tmp_path / "observed.csv"
    observed.write_text("date,value\n" + "".join(f"{d.isoformat()},{v}\n" for d, v in zip(series.dates, series.values)))
    return scenario_file, observed


def calibrate(scenario_file, observed, *options):
    arguments = ["calibrate", str(scenario_file), "--observed", str(observed), "--seed", "2", "--sim-replications", "6",
                 "--fit", f"{KEYS[0]}={PRIOR_LOW}:{PRIOR_HIGH}", "--fit", f"{KEYS[1]}={PRIOR_LOW}:{PRIOR_HIGH}",
                 "-j", "1", *options]
    return CliRunner().invoke(app, arguments)


def test_unconverged_exits_3_then_resumes_to_the_samples_of_an_uninterrupted_run(tmp_path) -> None:
    scenario_file, observed = _files(tmp_path)
    out, partial = tmp_path / "resumed", tmp_path / "resumed.partial"
    stopped = calibrate(scenario_file, observed, "--max-evaluations", "400", "--out", str(out))
    assert stopped.exit_code == 3, stopped.output
    assert "NOT CONVERGED (1,440 evaluations; " in stopped.output and "after 39 steps of 10 walkers" in stopped.output and f"--resume {partial}" in stopped.output
    assert "calibrate: screening chain (fluid path): 39 steps, 400 of at most 400 evaluations" in stopped.output
    assert "calibrate: answering chain, round 1 (the simulation's likelihood): 39 steps" in stopped.output
    assert not out.exists() and any(partial.glob(f"chain-screen/{CHAIN_FILE}"))

    resumed = calibrate(scenario_file, observed, "--max-evaluations", "800", "--allow-unconverged",
                        "--resume", str(partial))
    assert resumed.exit_code == 0, resumed.output
    assert "NOT CONVERGED, written anyway" in resumed.output and not partial.exists()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["converged"] is False and manifest["steps"] == 79

    fresh = calibrate(scenario_file, observed, "--max-evaluations", "800", "--allow-unconverged",
                      "--out", str(tmp_path / "fresh"))
    assert fresh.exit_code == 0, fresh.output
    for name in ("posterior.csv", "chain.csv"):
        assert (out / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name


def test_resume_refuses_another_calibrations_chain_and_retired_options_fail(tmp_path) -> None:
    scenario_file, observed = _files(tmp_path)
    partial = tmp_path / "a.partial"
    assert calibrate(scenario_file, observed, "--max-evaluations", "400", "--out", str(tmp_path / "a")).exit_code == 3
    other = calibrate(scenario_file, observed, "--resume", str(partial), "--walkers", "12")
    assert other.exit_code == 2 and "made by another calibration" in other.output, other.output
    again = calibrate(scenario_file, observed, "--max-evaluations", "400", "--out", str(tmp_path / "a"))
    assert again.exit_code == 2 and f"continue it with --resume {partial}" in again.output, again.output
    retired = calibrate(scenario_file, observed, "--steps", "10", "--out", str(tmp_path / "b"))
    assert retired.exit_code == 2 and "--steps" in retired.output, retired.output
    assert not (tmp_path / "b.partial").exists()


def test_the_help_states_the_sampler_defaults() -> None:
    from sim.studies.inference.defaults import DEFAULT_ESS_MIN, DEFAULT_MAX_EVALUATIONS, DEFAULT_RHAT_MAX

    text = " ".join(CliRunner().invoke(app, ["calibrate", "--help"], terminal_width=400).output.split())
    for stated in (f"(default {DEFAULT_RHAT_MAX:g})", f"(default {DEFAULT_ESS_MIN:g})",
                   f"default {DEFAULT_MAX_EVALUATIONS:,}"):
        assert stated in text, stated


def test_the_figures_a_report_draws_do_not_define_the_chain() -> None:
    """A scenario that gains an ``observed:`` list (what its report draws) resumes the same chain."""
    from sim.studies.posterior_partial import fingerprint

    scenario = tiny_scenario()
    series = [synthetic_series(TRUTH, 0.05, noise_seed=3)]
    same = {"priors": [], "series": series, "error_priors": {}, "seed": 2, "cutoff": None, "fit_options": {}}
    named = scenario.model_copy(update={"observed": ["bundled:un"]})
    assert fingerprint(named, **same) == fingerprint(scenario, **same)
    assert fingerprint(scenario, **{**same, "seed": 3}) != fingerprint(scenario, **same)
