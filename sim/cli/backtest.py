"""The ``backtest`` command (registered on :data:`sim.cli.app`): calibrate up to a cutoff, forecast
past it, score against what followed. Thin: parse, call :mod:`sim.studies.backtest`, print."""
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
    check_out,
    check_size,
    executor_for,
    guarded,
    load,
    progress,
)
from sim.cli.fit_options import with_fit_options


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
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    observed: Annotated[list[str], typer.Option("--observed", help="Observed series: a CSV "
                        "(date,value[,series,kind,node,count_from]) or bundled:NAME (bordersim observed lists them; repeatable).")],
    cutoff: Annotated[str, typer.Option("--cutoff", help="Last date known to the forecaster (ISO): figures up to it "
                                        "calibrate, figures after it are scored.")],
    fit: Annotated[list[str] | None, typer.Option("--fit", help="key.path=low:high: uniform prior (repeatable).")] = None,
    prior: Annotated[list[str] | None, typer.Option("--prior", help="key.path=DIST, e.g. beta(5,5) (repeatable).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Last scored date (default: the last figure).")] = None,
    replications: Annotated[int, typer.Option("-n", "--replications", min=2,
                                              help="Forecast replications (each draws a posterior row).")] = 100,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed (default: the scenario's).")] = None,
    set_values: Sets = None,
    jobs: Annotated[int | None, typer.Option("-j", "--jobs", min=1, help="Worker processes (default: all cores).")] = None,
    scheduler: Scheduler = None,
    out: Out = None,
    quiet: Quiet = False,
    debug: Debug = False,
    fit_options: dict | None = None,
) -> None:
    """Calibrate on the figures up to --cutoff, forecast past it, score against the figures after it."""
    def work():
        from datetime import datetime

        from sim.studies.backtest import BacktestError, save_backtest
        from sim.studies.backtest import backtest as run_backtest
        from sim.studies.observation import ObservationError, check_series, combine, read_observations

        started = datetime.now().astimezone()
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


def register(app: typer.Typer) -> None:
    app.command()(backtest)
