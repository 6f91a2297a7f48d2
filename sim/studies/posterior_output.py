"""Writing a posterior: its results folder, ``posterior.csv``, and a scenario that forecasts with it.

Results folder (atomic: written under a temporary name, renamed when complete):

| file | content |
|---|---|
| ``posterior.csv`` | one row per sample: a column per fitted key path, and ``weight`` |
| ``posterior-summary.csv`` | per parameter (and error scale): prior, prior range, mean, sd, p05, p50, p95 |
| ``diagnostics.csv`` | converged, acceptance fraction, rank R-hat and bulk ESS per unknown, the simulation's spread and offset from the fluid path per series, evaluations |
| ``fit.csv`` | per observed figure: the model's band and the posterior-predictive band |
| ``error-scales.csv`` | the error terms (scale, and correlation on running totals) of every series in every sample (rows as posterior.csv) |
| ``chain.csv`` | every step of every walker (burn-in included) with its log posterior |
| ``observed.csv`` | the observed figures used |
| ``posterior-marginals.png``, ``posterior-pairs.png``, ``posterior-fit.png`` | figures |
| ``manifest.json``, ``scenario.yaml``, ``scenario.resolved.yaml`` | as for every command |

``posterior.csv`` is exactly what ``uncertain: {sample: FILE}`` reads (:mod:`sim.uncertain_sample`):
:func:`write_forecast_scenario` writes a scenario that ``extends`` the calibrated one and draws one
sample row per replication, with the CSV beside it.
"""
from __future__ import annotations

import datetime as dt
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim.studies.observation import observations_table
from sim.studies.posterior import PosteriorResult

POSTERIOR_FILE = "posterior.csv"


def posterior_csv_text(samples: pd.DataFrame) -> str:
    """The bytes of ``posterior.csv`` as text: fixed float format (12 significant digits), ``\\n`` ends."""
    from sim.outputs.results import CSV_FLOAT_FORMAT

    return samples.to_csv(index=False, float_format=CSV_FLOAT_FORMAT, lineterminator="\n")


def write_posterior_csv(samples: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write a joint-draw file (a column per key path, and ``weight``) atomically; never overwrites."""
    path = Path(path)
    if "weight" not in samples.columns:
        raise ValueError("a posterior sample needs a weight column")
    _write_new(path, posterior_csv_text(samples))
    return path


def _write_new(path: Path, text: str) -> None:
    if path.exists():
        raise FileExistsError(f"{path}: exists; choose another file (files are never overwritten)")
    temporary = path.with_name(f".{path.name}.partial-{os.getpid()}")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.link(temporary, path)  # fails if someone created the file meanwhile: never overwrite
    finally:
        temporary.unlink(missing_ok=True)


def save_posterior(result: PosteriorResult, scenario_sources: Sequence[str], destination: Path | None = None,
                   command_line: Sequence[str] | None = None, results_root: str = "results",
                   extra_manifest: dict | None = None) -> Path:
    """Write the results folder of a posterior calibration (see the module doc); return its path."""
    from sim.outputs.posterior_figures import fit_png, marginals_png, pairs_png
    from sim.outputs.results import (
        default_run_folder,
        environment_versions,
        git_state,
        run_hash,
        unique_folder,
    )

    scenario = result.scenario
    resolved = scenario.to_yaml()
    hash8 = run_hash(resolved + repr(result.keys), result.seed, result.walkers * result.steps, "calibrate")
    if destination is None:
        destination = unique_folder(default_run_folder(scenario.name, "calibrate", dt.datetime.now(), hash8,
                                                       results_root))
    git = git_state()
    manifest = {
        **environment_versions(), "git_commit": git["commit"], "git_dirty": git["dirty"],
        "command": "calibrate", "method": "posterior",
        "command_line": list(command_line if command_line is not None else sys.argv),
        "scenario_name": scenario.name, "run_hash": hash8, "seed": result.seed, "sampler": result.sampler,
        "walkers": result.walkers, "steps": result.steps, "burn": result.burn, "converged": result.converged,
        "rhat_max": result.rhat_max, "ess_min": result.ess_min,
        "samples": len(result.samples), "simulation_replications": result.replications,
        "correction_rounds": result.rounds,
        "priors": {prior.key: prior.describe() for prior in result.priors},
        "series": [s.describe() for s in result.series], "simulator_noise_log_sd": result.sim_sigma,
        "surrogate_evaluations": result.evaluations, "wall_seconds": result.wall_seconds,
        "initial_values": result.initial_values, **(extra_manifest or {}),
    }
    from sim.outputs.results import write_results_folder

    tables = {"posterior-summary.csv": result.summary, "diagnostics.csv": result.diagnostics,
              "fit.csv": result.fit, "error-scales.csv": result.error_scales, "chain.csv": result.chain,
              "observed.csv": observations_table(result.series)}
    files = {POSTERIOR_FILE: posterior_csv_text(result.samples).encode("utf-8"),
             "posterior-marginals.png": marginals_png(result.samples, result.priors),
             "posterior-pairs.png": pairs_png(result.samples, result.keys),
             "posterior-fit.png": fit_png(result.fit)}
    return write_results_folder(destination, tables=tables, manifest=manifest,
                                scenario_sources=[s for s in scenario_sources if s],
                                resolved_text=resolved, files=files)


def forecast_scenario_text(result: PosteriorResult, base: Path, written: Path, sample_file: str,
                           command_line: Sequence[str]) -> str:
    """A scenario that ``extends`` ``base`` and draws its fitted values from ``sample_file``.

    Paths are relative to the written file's folder. Fitted keys that the base makes uncertain on
    their own are deleted there (``null``): a key is either in the sample or has a distribution.
    """
    import yaml

    relative_base = Path(os.path.relpath(base.resolve(), written.resolve().parent)).as_posix()
    base_uncertain = getattr(result.scenario, "uncertain", None) or {}
    uncertain = {"sample": sample_file}
    uncertain.update({key: None for key in result.keys if key in base_uncertain})
    data = {
        "name": written.stem,
        "description": (f"{result.scenario.name} with its {', '.join(_short(k) for k in result.keys)} drawn "
                        f"jointly from a posterior fitted to {', '.join(s.name for s in result.series)} "
                        f"(up to {max(d for s in result.series for d in s.dates).isoformat()}): projections "
                        "carry parameter uncertainty."),
        "extends": relative_base,
        "uncertain": uncertain,
    }
    shown = ["bordersim", *command_line[1:]] if command_line else ["bordersim"]
    header = [f"# Written by: {shlex.join(shown)}",  # quoted: the line can be pasted back into a shell
              (f"# Posterior: {len(result.samples)} samples ({result.sampler}, {result.walkers} {result.chain_word} x "
              f"{result.steps} steps, burn-in {result.burn}, seed {result.seed}; {result.replications} simulation replications); "
              f"{'converged' if result.converged else 'NOT CONVERGED'}: {result.convergence_line()}."),
              "# Observed: " + "; ".join(s.describe() for s in result.series) + "."]
    for _, row in result.summary.iterrows():
        header.append(f"#   {row['parameter']}: mean {row['mean']:.4g}, 90% [{row['p05']:.4g}, {row['p95']:.4g}]"
                      f" (prior {row['prior']})")
    body = yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
    return "\n".join(header) + "\n" + body


def _short(key: str) -> str:
    return ".".join(key.split(".")[-3:])


def sample_file_for(written: Path) -> Path:
    """``scenarios/x.yaml`` → ``scenarios/x-posterior.csv``."""
    return written.with_name(f"{written.stem}-posterior.csv")


def write_forecast_scenario(result: PosteriorResult, base: Path, written: Path,
                            command_line: Sequence[str]) -> tuple[Path, Path]:
    """Write ``written`` (extends ``base``, ``uncertain: {sample: ...}``) and its posterior CSV beside it."""
    sample = sample_file_for(written)
    for path in (written, sample):
        if path.exists():
            raise FileExistsError(f"{path}: exists; choose another file (files are never overwritten)")
    write_posterior_csv(result.samples, sample)
    try:
        _write_new(written, forecast_scenario_text(result, base, written, sample.name, command_line))
    except BaseException:
        sample.unlink(missing_ok=True)
        raise
    return written, sample


__all__ = ["POSTERIOR_FILE", "forecast_scenario_text", "posterior_csv_text", "sample_file_for", "save_posterior",
           "write_forecast_scenario", "write_posterior_csv"]
