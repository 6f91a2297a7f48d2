"""``bordersim sbc`` (sim.studies.inference.sbc): a small simulation-based calibration that fails
when the posterior's coverage collapses, and the command's plumbing (parallel = serial, resume,
bad input).

The coverage check: 12 data sets of the bundled tiny synthetic case (``sbc-synthetic-tiny.yaml``),
the late hazard drawn from its uniform prior, each fitted by ``fit_posterior`` exactly as
``calibrate`` fits (with looser convergence targets and fewer simulation replications). A calibrated posterior's 90 % intervals contain the truth in
Binomial(12, 0.9) of them: 7 or fewer with probability 0.4 %. The same fits made overconfident
(every posterior draw pulled 5 times closer to the posterior mean: intervals a fifth as wide, as
a likelihood that ignores the simulator's randomness makes them) cover each truth with probability
about 0.26: Binomial(12, 0.26) reaches 8 with probability < 0.1 %. So the test tells the two apart
almost surely, and a likelihood whose intervals collapse fails it.
"""
from __future__ import annotations

import types
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from experiment_scenarios import SCENARIOS, bordersim, stop_after

from sim.runs.executors import ProcessExecutor, SerialExecutor
from sim.scenario import load_scenario
from sim.studies.inference import sbc
from sim.studies.observation import read_observations
from sim.studies.posterior import fit_posterior
from sim.studies.priors import Prior

TINY = SCENARIOS / "sbc-synthetic-tiny.yaml"
DATES = SCENARIOS / "sbc-synthetic-tiny-dates.csv"
HAZARD = "groups.everyone.departures.hazard.1.rate"
PRIORS = [Prior.uniform(HAZARD, 0.004, 0.06)]
DATASETS = 12
SHRINK = 5.0


class Remembered:
    """``fit_posterior``, each data set fitted once for both runs; ``shrink`` > 1 pulls every draw
    towards the posterior mean by that factor (an overconfident posterior)."""

    fits: ClassVar[dict[bytes, object]] = {}

    def __init__(self, shrink: float = 1.0) -> None:
        self.shrink = shrink

    def __call__(self, scenario, observations, fit, seed, **options):
        key = b"".join(s.values.tobytes() for s in observations)
        if key not in self.fits:
            self.fits[key] = fit_posterior(scenario, observations, fit, seed, **options)
        samples = self.fits[key].samples.copy()
        for prior in fit:
            mean = samples[prior.key].mean()
            samples[prior.key] = mean + (samples[prior.key] - mean) / self.shrink
        fitted = self.fits[key]
        return types.SimpleNamespace(samples=samples, diagnostics=fitted.diagnostics, converged=fitted.converged)


CHEAP = {"rhat_max": 1.1, "ess_min": 40, "simulation_replications": 8}
"""Looser than calibrate's defaults so that CI stays quick; the defaults are what docs record."""


def _plan(folder: Path, datasets: int, draws: int = 19):
    scenario = load_scenario(TINY)
    return sbc.plan_sbc(scenario, PRIORS, read_observations(DATES), datasets=datasets, seed=scenario.run.seed,
                        draws=draws, fit_options=CHEAP, out=folder, command_line=["test"])


def test_a_small_sbc_passes_the_real_fit_and_flags_an_overconfident_one(tmp_path) -> None:
    real = sbc.run_sbc(_plan(tmp_path / "real", DATASETS), SerialExecutor(), fit=Remembered())
    overconfident = sbc.run_sbc(_plan(tmp_path / "narrow", DATASETS), SerialExecutor(),
                                fit=Remembered(SHRINK))
    assert len(Remembered.fits) == DATASETS  # the second run fitted nothing: the same data sets
    assert list(real.ranks["truth"]) == list(overconfident.ranks["truth"])
    covered = int(real.ranks["inside_90"].sum())
    assert covered >= 8, f"the 90% intervals covered {covered} of {DATASETS} truths: coverage collapsed"
    narrow = int(overconfident.ranks["inside_90"].sum())
    print(f"90% intervals covered {covered} (real) and {narrow} (overconfident) of {DATASETS} truths")
    assert narrow <= 7, narrow
    assert sbc.verdict(overconfident.coverage, overconfident.uniformity) == (False, False)  # both flagged
    assert any("OUT OF RANGE" in line for line in overconfident.lines())
    # how every fit ended is on record, beside its ranks
    fits = real.ranks.drop_duplicates("dataset")
    assert len(fits) == DATASETS and (fits["evaluations"] > 0).all() and (fits["rhat_max"] >= 0.99).all()
    assert f"fits converged: {int(fits['converged'].sum())} of {DATASETS}" in "\n".join(real.lines())
    assert "fits converged:" in (tmp_path / "real" / "sbc.md").read_text()
    # The truths come from the prior, each data set from its own replication seed, never the fit's.
    truths = real.ranks["truth"]
    assert truths.between(0.004, 0.06).all() and truths.nunique() == DATASETS
    assert real.ranks["seed"].nunique() == DATASETS and 20240101 not in set(real.ranks["seed"])
    assert (tmp_path / "real" / "rank-histograms.png").read_bytes()[:4] == b"\x89PNG"


def test_parallel_and_resumed_runs_write_what_a_serial_run_writes(tmp_path) -> None:
    serial = sbc.run_sbc(_plan(tmp_path / "serial", 3), SerialExecutor())
    with ProcessExecutor(2) as executor:
        parallel = sbc.run_sbc(_plan(tmp_path / "parallel", 3), executor)
    pd.testing.assert_frame_equal(serial.ranks, parallel.ranks)
    plan = _plan(tmp_path / "resumed", 3)
    with pytest.raises(KeyboardInterrupt):
        sbc.run_sbc(plan, stop_after(1))
    assert not (tmp_path / "resumed").exists() and len(sbc.load_plan(plan.partial).done) == 1
    resumed = sbc.run_sbc(sbc.load_plan(plan.partial), SerialExecutor())
    assert resumed.resumed == 1 and not plan.partial.exists()
    pd.testing.assert_frame_equal(serial.ranks, resumed.ranks)
    for name in ("ranks.csv", "coverage.csv", "uniformity.csv"):
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "resumed" / name).read_bytes()
    table = pd.read_csv(tmp_path / "serial" / "ranks.csv")
    assert list(table.columns) == sbc.RANK_COLUMNS and len(table) == 3
    assert table["rank"].between(0, 19).all() and (table["draws"] == 19).all()
    assert table["converged"].dtype == bool and (table["ess_bulk_min"] > 0).all()
    assert (table["p05"] <= table["posterior_mean"]).all() and (table["posterior_mean"] <= table["p95"]).all()


def test_simulated_figures_follow_the_observed_dates_and_not_its_values(tmp_path) -> None:
    scenario = load_scenario(TINY)
    series = read_observations(DATES)
    task = sbc.DatasetFit(scenario, PRIORS, series, {}, {}, seed=5)
    truth, figures, seed = task.observed(0)
    again = task.observed(0)
    assert truth == again[0] and np.array_equal(figures[0].values, again[1][0].values) and seed == again[2]
    assert figures[0].dates == series[0].dates and figures[0].values[-1] > 100  # not the file's zeros
    assert np.all(np.diff(figures[0].values[2:]) != 0) and task.observed(1)[0] != truth


def test_sbc_command(tmp_path) -> None:
    completed = bordersim("sbc", str(TINY), "--fit", f"{HAZARD}=0.004:0.06", "--observed", str(DATES),
                          "--datasets", "2", "--rank-draws", "9", "--rhat-max", "1.2", "--ess-min", "20",
                          "--sim-replications", "6",
                          "-j", "1", "--out", "out", cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "verdict: ranks" in completed.stdout and HAZARD in completed.stdout
    written = {path.name for path in (tmp_path / "out").iterdir()}
    assert {"ranks.csv", "coverage.csv", "uniformity.csv", "rank-histograms.png", "sbc.md"} <= written
    assert "simulation_replications=6" in (tmp_path / "out" / "sbc.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("arguments, message", [
    (["--datasets", "2"], "--observed"),
    (["--observed", str(DATES)], "--datasets"),
    (["--observed", str(DATES), "--datasets", "2", "--fit", "groups.nobody.never_leave=0:1"], "no such value"),
    (["--observed", str(DATES), "--datasets", "2", "--fit", f"{HAZARD}=0.004:0.06", "--bins", "3"], "--bins 3"),
    (["--observed", str(DATES), "--datasets", "2", "--fit", f"{HAZARD}=0.004:0.06", "--walkers", "3"], "--walkers"),
])
def test_bad_sbc_input_exits_2_and_writes_nothing(tmp_path, arguments, message) -> None:
    completed = bordersim("sbc", str(TINY), *arguments, "--out", "out", cwd=tmp_path)
    assert completed.returncode == 2, completed.stderr
    assert message in completed.stderr and len(completed.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_resume_needs_an_interrupted_run(tmp_path) -> None:
    completed = bordersim("sbc", "--resume", "nowhere", cwd=tmp_path)
    assert completed.returncode == 2 and "not an interrupted sbc run" in completed.stderr
    (tmp_path / "run.partial").mkdir()
    (tmp_path / "run.partial" / "spec.json").write_text('{"datasets": "many"}', encoding="utf-8")
    completed = bordersim("sbc", "--resume", "run.partial", cwd=tmp_path)
    assert completed.returncode == 2 and "spec.json" in completed.stderr, completed.stderr
