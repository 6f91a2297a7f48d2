"""The ``sbc`` command (registered on :data:`sim.cli.app`): simulation-based calibration of the
posterior calibration. Thin: parse, call :mod:`sim.studies.inference.sbc`, print."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import (
    BadInput,
    Debug,
    Jobs,
    Out,
    Quiet,
    Scheduler,
    Seed,
    Sets,
    check_out,
    echo_result,
    guarded,
    load,
    run_resumable,
)
from sim.cli.fit_options import default_fit_options, posterior_inputs, with_fit_options


@with_fit_options
def sbc(
    file: Annotated[Path | None, typer.Argument(help="Scenario file (not with --resume).")] = None,
    fit: Annotated[list[str] | None, typer.Option("--fit", help="key.path=low:high: fit with a uniform prior, "
                                                  "truths drawn from it (repeatable).")] = None,
    prior: Annotated[list[str] | None, typer.Option(
        "--prior", help="key.path=DIST: fit with this prior, truths drawn from it; error_scale.SERIES=DIST: that "
                        "series' error-scale prior (repeatable).")] = None,
    observed_files: Annotated[list[str] | None, typer.Option(
        "--observed", help="The dates and series to simulate figures on, as calibrate reads them (the values are "
                           "ignored; repeatable).")] = None,
    datasets: Annotated[int | None, typer.Option("--datasets", min=1, help="Simulated data sets, each fitted "
                                                 "once (100 for a verdict, a few to try).")] = None,
    rank_draws: Annotated[int, typer.Option("--rank-draws", min=1, help="L: rank each truth among L posterior "
                                            "draws spread over the sample (ranks 0..L).")] = 99,
    bins: Annotated[int | None, typer.Option("--bins", min=1, help="Rank histogram bins (must divide L + 1; "
                                             "default: up to 20, >= 5 data sets each).")] = None,
    resume: Annotated[Path | None, typer.Option(
        "--resume", help="Finish an interrupted run: its <folder>.partial.")] = None,
    seed: Seed = None,
    set_values: Sets = None,
    jobs: Jobs = None,
    scheduler: Scheduler = None,
    out: Out = None,
    quiet: Quiet = False,
    debug: Debug = False,
    fit_options: dict | None = None,
) -> None:
    """Simulation-based calibration: fit data sets simulated from the prior as calibrate would; ranks, coverage."""
    from sim.studies.inference import sbc as study

    if resume is not None:
        if (file is not None or fit or prior or observed_files or datasets is not None or seed is not None
                or set_values or out is not None or bins is not None or fit_options != default_fit_options()):
            guarded(lambda: _reject("--resume takes the run's .partial folder only (and -j/--scheduler/-q)"), debug)
        plan = guarded(lambda: _bad_input(lambda: study.load_plan(resume)), debug)
    else:
        plan = guarded(lambda: _new_plan(file, fit or [], prior or [], observed_files or [], datasets, rank_draws,
                                         bins, seed, set_values or [], out, fit_options or {}), debug)

    result = run_resumable(
        lambda executor, advance: _bad_input(lambda: study.run_sbc(plan, executor, advance)),
        jobs, scheduler, quiet, "data sets", debug,
        lambda: (f"interrupted: {len(plan.done)} of {plan.datasets} data sets kept in {plan.partial}; "
                 f"finish with: bordersim sbc --resume {plan.partial}"))
    echo_result(result.lines(), result.folder, quiet)


def _reject(message: str):
    raise BadInput(message)


def _bad_input(function):
    """``function()`` with the study's input errors turned into bad input (exit 2)."""
    from sim.studies.inference.sbc import SbcError
    from sim.studies.observation import ObservationError
    from sim.studies.posterior import PosteriorError
    from sim.studies.priors import PriorError

    try:
        return function()
    except (SbcError, PosteriorError, ObservationError, PriorError) as error:
        raise BadInput(str(error)) from None


def _new_plan(file, fit, prior, observed_files, datasets, rank_draws, bins, seed, set_values, out, fit_options):
    from sim.studies.inference import sbc as study

    if file is None:
        raise BadInput("give a scenario file, or --resume FOLDER")
    if datasets is None:
        raise BadInput("give --datasets N: how many data sets to simulate and fit")
    if not observed_files:
        raise BadInput("give --observed FILE: the dates and series to simulate figures on")
    check_out(out)
    priors, error_priors, series = posterior_inputs(fit, prior, observed_files)
    scenario = load(file, set_values)
    return _bad_input(lambda: study.plan_sbc(
        scenario, priors, series, datasets=datasets, seed=scenario.run.seed if seed is None else seed,
        draws=rank_draws, bins=bins, error_priors=error_priors, fit_options=fit_options, out=out,
        command_line=sys.argv))


def register(app: typer.Typer) -> None:
    app.command()(sbc)
