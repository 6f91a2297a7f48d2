"""The ``backtest`` command (registered on :data:`sim.cli.app`): calibrate up to a cutoff, forecast
past it, score against what followed. ``--cutoff``: one cutoff (:mod:`sim.studies.backtest`);
``--cutoffs``/``--horizons``: the rolling-origin evaluation (:mod:`sim.studies.rolling`), resumable
with ``--resume``. Thin: parse, call the study, print."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import (
    BadInput,
    Debug,
    Out,
    Quiet,
    Scheduler,
    Sets,
    bad_input_from,
    check_out,
    check_size,
    echo_result,
    executor_for,
    guarded,
    load,
    progress,
    run_resumable,
)
from sim.cli.fit_options import default_fit_options, posterior_inputs, with_fit_options

DEFAULT_REPLICATIONS = 100


def _date(text: str | None, option: str):
    import datetime as dt

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise BadInput(f"{option} {text!r}: not an ISO date (YYYY-MM-DD)") from None


def _parameters(fit: list[str], priors: list[str]):
    from sim.studies.calibrate import CalibrationError, FitParameter
    from sim.studies.priors import Prior, PriorError

    parameters = []
    try:
        parameters += [FitParameter.parse(text) for text in fit]
        for text in priors:
            key, sep, dist = text.partition("=")
            if not sep or not key.strip():
                raise BadInput(f"--prior {text!r}: write key.path=DIST, e.g. groups.g.never_leave=beta(5,5)")
            parameters.append(Prior.from_text(key.strip(), dist.strip()))
    except (CalibrationError, PriorError) as error:
        raise BadInput(str(error)) from None
    return parameters


@with_fit_options
def backtest(
    file: Annotated[Path | None, typer.Argument(help="Scenario file (not with --resume).")] = None,
    observed: Annotated[list[str] | None, typer.Option("--observed", help="Observed series: a CSV "
                        "(date,value[,series,kind,node,count_from,...]) or bundled:NAME (bordersim observed lists "
                        "them; repeatable).")] = None,
    cutoff: Annotated[str | None, typer.Option("--cutoff", help="One cutoff: the last date known to the forecaster "
                                               "(ISO); figures up to it calibrate, figures after it are scored.")] = None,
    cutoffs: Annotated[str | None, typer.Option(
        "--cutoffs", help="Rolling origin: cutoffs D1,D2,... (ISO dates); at each, refit on the figures up to it, "
                          "forecast, and score the figures within each horizon after it (scores.csv).")] = None,
    horizons: Annotated[str | None, typer.Option(
        "--horizons", help="With --cutoffs: horizons in days, e.g. 30,90,180 (nested: within h days of the "
                           "cutoff; default 30,90,180).")] = None,
    fit: Annotated[list[str] | None, typer.Option("--fit", help="key.path=low:high: uniform prior (repeatable).")] = None,
    prior: Annotated[list[str] | None, typer.Option(
        "--prior", help="key.path=DIST, e.g. beta(5,5) (repeatable); with --cutoffs also error_scale.SERIES=DIST.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="With --cutoff: last scored date (default: the last "
                                              "figure).")] = None,
    replications: Annotated[int, typer.Option("-n", "--replications", min=2,
                                              help="Forecast replications (each draws a posterior row).")]
    = DEFAULT_REPLICATIONS,
    resume: Annotated[Path | None, typer.Option(
        "--resume", help="With --cutoffs: finish an interrupted run, its <folder>.partial (finished cutoffs are "
                         "kept).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed (default: the scenario's).")] = None,
    set_values: Sets = None,
    jobs: Annotated[int | None, typer.Option("-j", "--jobs", min=1, help="Worker processes (default: all cores).")] = None,
    scheduler: Scheduler = None,
    out: Out = None,
    quiet: Quiet = False,
    debug: Debug = False,
    fit_options: dict | None = None,
) -> None:
    """Calibrate on the figures up to --cutoff, forecast past it, score against the figures after it;
    with --cutoffs, at every cutoff (rolling origin) against persistence and the unfitted prior."""
    if cutoffs is not None or horizons is not None or resume is not None:
        if cutoff is not None or until is not None:
            guarded(lambda: _reject("--cutoff and --until are the single-cutoff backtest; with --cutoffs the "
                                    "horizons say what is scored"), debug)
        rolling = {"file": file, "observed": observed or [], "cutoffs": cutoffs, "horizons": horizons,
                   "fit": fit or [], "prior": prior or [], "replications": replications, "seed": seed,
                   "set_values": set_values or [], "out": out, "fit_options": fit_options or {}}
        _rolling(rolling, resume, jobs, scheduler, quiet, debug)
        return

    def work():
        from datetime import datetime

        from sim.studies.backtest import BacktestError, save_backtest
        from sim.studies.backtest import backtest as run_backtest
        from sim.studies.observation import ObservationError, check_series, combine, read_observations

        started = datetime.now().astimezone()
        if file is None or cutoff is None or not observed:
            raise BadInput("give a scenario file, --observed and --cutoff DATE (or --cutoffs D1,D2,...)")
        check_out(out)
        cutoff_date, until_date = _date(cutoff, "--cutoff"), _date(until, "--until")
        parameters = _parameters(fit or [], prior or [])
        if not parameters:
            raise BadInput("give at least one --fit key.path=low:high (or --prior key.path=DIST)")
        scenario = load(file, set_values or [])
        check_size([scenario], replications, jobs, None, float("inf"), "backtest", keep_daily=False)  # per worker
        try:
            series = combine([read_observations(source) for source in observed])
            check_series(series, scenario)
        except ObservationError as error:
            raise BadInput(str(error)) from None
        options = dict(fit_options or {})
        executor = executor_for(jobs, scheduler)
        try:
            with executor, progress(quiet, "backtest (model runs)") as advance:
                result = run_backtest(scenario, series, parameters, cutoff_date, until_date, replications, seed,
                                      executor=executor, progress=advance, **options)
        except (BacktestError, ObservationError) as error:
            raise BadInput(str(error)) from None
        return result, save_backtest(result, out, sys.argv, started)

    result, folder = guarded(work, debug)
    if not quiet:
        for line in result.lines():
            typer.echo(line)
    typer.echo(f"results: {folder}")


# --------------------------------------------------------------------------------------------
# Rolling origin: --cutoffs, --horizons, --resume


def _reject(message: str):
    raise BadInput(message)


def _list(text: str, option: str, example: str, parse) -> list:
    """The comma-separated items of ``text``, each through ``parse``, each once, in order."""
    items = [item.strip() for item in text.split(",")]
    try:
        values = [parse(item) for item in items]
    except ValueError:
        values = []
    if not values or len(set(values)) != len(values):
        raise BadInput(f"{option} {text!r}: give {example}, each once, separated by commas")
    return sorted(values)


def _days(text: str) -> int:
    days = int(text)
    if days < 1:
        raise ValueError(text)
    return days


def _rolling_bad_input(function):
    """``function()`` with the study's input errors turned into bad input (exit 2)."""
    from sim.studies.inference.sbc import SbcError
    from sim.studies.observation import ObservationError
    from sim.studies.posterior import PosteriorError
    from sim.studies.priors import PriorError
    from sim.studies.rolling.cutoff import RollingError

    return bad_input_from(function, RollingError, SbcError, PosteriorError, ObservationError, PriorError)


def _new_rolling_plan(file, observed, cutoffs, horizons, fit, prior, replications, seed, set_values, out, fit_options):
    import datetime as dt
    import sys

    from sim.studies.observation import ObservationError, check_series
    from sim.studies.rolling import plan as study

    if file is None:
        raise BadInput("give a scenario file, or --resume FOLDER")
    if cutoffs is None:
        raise BadInput("give --cutoffs D1,D2,...: the dates to forecast from")
    if not observed:
        raise BadInput("give --observed FILE (or bundled:NAME): the figures to fit and score")
    cutoff_dates = _list(cutoffs, "--cutoffs", "ISO dates (YYYY-MM-DD)", dt.date.fromisoformat)
    horizon_days = _list(horizons or "30,90,180", "--horizons", "whole numbers of days, at least 1", _days)
    check_out(out)
    priors, error_priors, series = posterior_inputs(fit, prior, observed)
    scenario = load(file, set_values)
    check_size([scenario], replications, 1, None, float("inf"), "backtest", keep_daily=False)  # per worker
    try:
        check_series(series, scenario)
    except ObservationError as error:
        raise BadInput(str(error)) from None
    return _rolling_bad_input(lambda: study.plan_rolling(
        scenario, priors, series, cutoffs=cutoff_dates, horizons_days=horizon_days, replications=replications,
        seed=scenario.run.seed if seed is None else seed, error_priors=error_priors, fit_options=fit_options,
        out=out, command_line=sys.argv))


def _rolling(options: dict, resume: Path | None, jobs, scheduler, quiet: bool, debug: bool) -> None:
    from sim.studies.rolling import plan as study

    if resume is not None:
        given = [key for key, value in options.items()
                 if value not in (None, [], {}) and key not in ("replications", "fit_options")]
        if given or options["replications"] != DEFAULT_REPLICATIONS or options["fit_options"] != default_fit_options():
            guarded(lambda: _reject("--resume takes the run's .partial folder only (and -j/--scheduler/-q)"), debug)
        plan = guarded(lambda: _rolling_bad_input(lambda: study.load_plan(resume)), debug)
    else:
        plan = guarded(lambda: _new_rolling_plan(**options), debug)
    result = run_resumable(
        lambda executor, advance: _rolling_bad_input(lambda: study.run_rolling(plan, executor, advance)),
        jobs, scheduler, quiet, "backtest (cutoffs)", debug,
        lambda: (f"interrupted: {len(plan.done)} of {len(plan.cutoffs)} cutoffs kept in {plan.partial}; "
                 f"finish with: bordersim backtest --resume {plan.partial}"))
    echo_result(result.lines(), result.folder, quiet)


def register(app: typer.Typer) -> None:
    app.command()(backtest)
