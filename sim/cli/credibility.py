"""The ``bound``, ``observed`` and ``calibrate`` commands (registered on :data:`sim.cli.app`).

Thin like the rest of the CLI: parse, call :mod:`sim.analytic.bound`, :mod:`sim.outputs.observed` or
:mod:`sim.studies.calibrate`, print.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import (
    UNCONVERGED,
    BadInput,
    Debug,
    Out,
    Quiet,
    Scheduler,
    Sets,
    check_out,
    check_size,
    echo_result,
    executor_for,
    fail,
    guarded,
    load,
    progress,
    read_observed,
)
from sim.cli.fit_options import posterior_inputs, with_fit_options


def bound(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    set_values: Sets = None,
    out: Out = None,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Analytic capacity ceiling by date (lanes × open hours × factors ÷ service time); writes bound.csv."""
    def work():
        check_out(out)
        scenario = load(file, set_values or [])
        from sim.analytic.bound import capacity_bound, save_bound

        result = capacity_bound(scenario)
        return result, save_bound(result, scenario, out, sys.argv)

    result, folder = guarded(work, debug)
    echo_result(result.lines(), folder, quiet)




def observed(
    series: Annotated[str | None, typer.Option("--series", help="Export this bundled series (default: list them "
                                               "all, and the figures not used with the reason).")] = None,
    until: Annotated[str | None, typer.Option("--until", help="Last date kept (ISO), e.g. 2023-11-22.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="CSV file to write (default: print).")] = None,
    debug: Debug = False,
) -> None:
    """List the bundled observed series to 31 Mar 2025 and the figures left out (with the reason), or
    export one series (--series) in the --observed CSV format."""
    def work():
        import datetime as dt

        from sim.outputs.observed import listing, select_series

        try:
            last = dt.date.fromisoformat(until) if until else None
        except ValueError:
            raise BadInput(f"--until {until!r}: not an ISO date (YYYY-MM-DD)") from None
        if series is None:
            if out is not None:
                raise BadInput("--out needs --series NAME: the listing is printed")
            return "\n".join(listing(last)) + "\n"
        try:
            table = select_series(series, last)
        except ValueError as error:
            raise BadInput(f"--series: {error}") from None
        text = table.to_csv(index=False, lineterminator="\n")
        if out is None:
            return text
        if out.exists():
            raise BadInput(f"--out {out}: exists; choose another file (files are never overwritten)")
        out.write_text(text, encoding="utf-8")
        return f"observed: {out} ({len(table)} dates of series {series})\n"

    typer.echo(guarded(work, debug), nl=False)


Jobs = Annotated[int | None, typer.Option("-j", "--jobs", min=1, help="Worker processes for model evaluations "
                                          "(default: all cores for posterior, 1 for point).")]

POINT_EVALUATIONS = 120
"""The point calibration's default --max-evaluations (Nelder-Mead evaluations)."""


@with_fit_options
def calibrate(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    observed_files: Annotated[list[str], typer.Option(
        "--observed", help="Observed series: a CSV date,value[,series,kind,node,count_from] (several series by "
                           "a series column) or bundled:NAME (bordersim observed lists them; repeatable).")],
    fit: Annotated[list[str] | None, typer.Option("--fit", help="key.path=low:high: fit with a uniform prior "
                                                  "(repeatable).")] = None,
    prior: Annotated[list[str] | None, typer.Option(
        "--prior", help="key.path=DIST: fit with this prior, e.g. groups.g.never_leave=beta(2,2); "
                        "error_scale.SERIES=DIST sets a series' error-scale prior (default halfnormal(0.2)); "
                        "repeatable.")] = None,
    method: Annotated[str, typer.Option("--method", help="posterior (emcee sample of the parameters) or point "
                                        "(one best fit, Nelder-Mead).")] = "posterior",
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed (default: the scenario's).")] = None,
    set_values: Sets = None,
    jobs: Jobs = None,
    scheduler: Scheduler = None,
    until: Annotated[str | None, typer.Option("--until", help="Use observed figures up to this date (ISO) "
                                              "only.")] = None,
    replications: Annotated[int, typer.Option("-n", "--replications", min=1,
                                              help="point: replications per evaluation.")] = 4,
    node: Annotated[str | None, typer.Option("--node", help="point: compare with all (crossings) or a crossing "
                                             "(default: the CSV's node column, else all).")] = None,
    count_from: Annotated[str | None, typer.Option("--count-from", help="point: first day the observed figures "
                                                   "count (default: the CSV's count_from, else period start).")] = None,
    allow_unconverged: Annotated[bool, typer.Option(
        "--allow-unconverged", help="posterior: write the results even if the chain has not converged (marked "
                                    "converged: false, with a warning).")] = False,
    resume: Annotated[Path | None, typer.Option(
        "--resume", help="posterior: continue the chain kept in this .partial folder (the same command, with "
                         "--resume added).")] = None,
    write: Annotated[Path | None, typer.Option("--write", help="Also write a scenario here: posterior: one that "
                                               "extends FILE and draws from FILE-posterior.csv written beside it; "
                                               "point: the calibrated scenario.")] = None,
    out: Out = None,
    quiet: Quiet = False,
    debug: Debug = False,
    fit_options: dict | None = None,
) -> None:
    """Fit parameters to observed series: a posterior sample (default) or one best point.

    The posterior's chain runs until every parameter has R-hat <= --rhat-max and bulk ESS >=
    --ess-min. If --max-evaluations runs out first, nothing is written and the exit code is 3 (the
    chain is kept in the .partial folder for --resume), unless --allow-unconverged.
    """
    options = dict(fit_options or {})
    if method not in ("posterior", "point"):
        guarded(lambda: _reject(f"--method {method!r}: choose posterior or point"), debug)
    if method == "point":
        if resume is not None or allow_unconverged:
            guarded(lambda: _reject("--resume and --allow-unconverged need --method posterior"), debug)
        _calibrate_point(file, observed_files, fit or [], prior or [], replications, seed, set_values, jobs or 1,
                         node, count_from, options.get("max_evaluations") or POINT_EVALUATIONS, write, out, quiet,
                         debug)
        return
    _calibrate_posterior(file, observed_files, fit or [], prior or [], seed, set_values, jobs, scheduler, until,
                         options, write, out, quiet, debug, allow_unconverged, resume)


def _reject(message: str):
    raise BadInput(message)


def _date_option(option: str, text: str | None):
    import datetime as dt

    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise BadInput(f"{option} {text!r}: not an ISO date (YYYY-MM-DD)") from None


def _calibrate_posterior(file, observed_files, fit, prior, seed, set_values, jobs, scheduler, until, options,
                         write, out, quiet, debug, allow_unconverged=False, resume=None) -> None:
    display = progress(quiet, "model evaluations")

    def work():
        from sim.studies.observation import ObservationError, check_series
        from sim.studies.posterior import PosteriorError, fit_posterior

        check_out(out)
        _check_write(write, set_values)
        cutoff = _date_option("--until", until)
        priors, error_priors, series = posterior_inputs(fit, prior, observed_files)
        scenario = load(file, set_values or [])
        try:  # reported figures: none may exceed all the people of the scenario
            check_series([s for s in (item.until(cutoff) for item in series) if s is not None], scenario)
        except ObservationError as error:
            raise BadInput(str(error)) from None
        check_size([scenario], 1, jobs, None, float("inf"), "calibrate", keep_daily=False)  # memory per worker
        partial = _partial(scenario, priors, series, error_priors, seed, cutoff, options, resume, out)
        executor = executor_for(jobs, scheduler)

        def status(line: str) -> None:
            partial.record()
            if not quiet:
                display.note(f"calibrate: {line}")

        try:
            with executor, display as advance:
                result = fit_posterior(scenario, series, priors, seed, executor=executor, progress=advance,
                                       cutoff=cutoff, error_priors=error_priors, checkpoint=partial.folder,
                                       resume=resume is not None, status=status, **options)
        except (PosteriorError, ObservationError) as error:
            raise BadInput(str(error)) from None
        except KeyboardInterrupt:
            return None, partial, None, None
        if not result.converged and not allow_unconverged:
            return result, partial, None, None
        return result, partial, *_save_posterior(result, file, write, partial, executor)

    result, partial, folder, written = guarded(work, debug)
    again = f"the same command with --resume {partial.folder}"
    if result is None:
        kept = (f"the chain so far is kept in {partial.folder}; continue it with {again}"
                if partial.folder.exists() else "nothing was written")
        fail(f"interrupted: {kept}", 130)
    if not result.converged and not allow_unconverged:
        fail(f"NOT CONVERGED ({result.evaluations:,} evaluations; {result.convergence_line()}); nothing "
             f"was written. The chain is kept in {partial.folder}: continue it with {again} and a larger "
             "--max-evaluations, or add --allow-unconverged to write it as it is", UNCONVERGED)
    if not quiet:
        for line in result.lines():
            typer.echo(line)
    if not result.converged:
        typer.echo(f"warning: NOT CONVERGED, written anyway (--allow-unconverged; converged: false in "
                   f"{folder / 'manifest.json'}): do not rely on these samples", err=True)
    if written:
        typer.echo(f"forecast scenario: {written[0]} (draws from {written[1]})")
    typer.echo(f"results: {folder}")


def _check_write(write: Path | None, set_values) -> None:
    from sim.studies.posterior_output import sample_file_for

    if write is None:
        return
    if set_values:
        raise BadInput("--write with --set: the written scenario extends FILE and would lose the --set "
                       "values; put them in a scenario file that extends FILE and calibrate that")
    for path in (write, sample_file_for(write)):
        if path.exists():
            raise BadInput(f"--write: {path} exists; choose another file (files are never overwritten)")


def _partial(scenario, priors, series, error_priors, seed, cutoff, options, resume, out):
    """The .partial folder that keeps the chain: a new one beside the results folder to be, or the
    one --resume names (which must come from the same calibration)."""
    import datetime as dt

    from sim.outputs.results import default_run_folder, unique_folder
    from sim.studies import posterior_partial as partials

    chain = partials.fingerprint(scenario, priors, series, error_priors, seed, cutoff, options)
    try:
        if resume is not None:
            found = partials.resume_partial(resume, chain)
            if out is not None and out != found.destination:
                raise BadInput(f"--out {out}: --resume {resume} writes {found.destination}; drop --out")
            return found
        destination = out or unique_folder(default_run_folder(scenario.name, "calibrate", dt.datetime.now(),
                                                              chain[:8]))
        return partials.new_partial(destination, chain)
    except partials.PartialError as error:
        raise BadInput(str(error)) from None


def _save_posterior(result, file, write, partial, executor):
    from sim.studies.posterior_output import save_posterior, write_forecast_scenario

    sources = list(getattr(result.scenario, "source_files", None) or [str(file)])
    folder = save_posterior(result, sources, partial.destination, sys.argv,
                            extra_manifest={"executor": executor.describe()})
    written = write_forecast_scenario(result, file, write, sys.argv) if write is not None else None
    partial.remove()
    return folder, written


def _calibrate_point(file, observed_files, fit, prior, replications, seed, set_values, jobs, node, count_from,
                     max_evaluations, write, out, quiet, debug) -> None:
    def work():
        from sim.studies.calibrate import CalibrationError, FitParameter, save_calibration
        from sim.studies.calibrate import calibrate as run_calibration

        check_out(out)
        if prior:
            raise BadInput("--prior needs --method posterior; a point calibration takes --fit key=low:high")
        if len(observed_files) != 1 or observed_files[0].startswith("bundled:"):
            raise BadInput("--method point fits one observed CSV file (export bundled series with bordersim "
                           "observed --series NAME --out FILE)")
        if write is not None and write.exists():
            raise BadInput(f"--write {write}: exists; choose another file (files are never overwritten)")
        try:
            parameters = [FitParameter.parse(text) for text in fit]
        except CalibrationError as error:
            raise BadInput(str(error)) from None
        start = _date_option("--count-from", count_from)
        scenario = load(file, set_values or [])
        check_size([scenario], replications, jobs, None, float("inf"), "calibrate", keep_daily=False)
        observed_file = Path(observed_files[0])
        table = _read_observed_with_extras(observed_file, scenario)
        try:
            with progress(quiet, "evaluations") as advance:
                result = run_calibration(scenario, table, parameters, replications, seed, jobs, node, start,
                                         max_evaluations, advance)
        except CalibrationError as error:
            raise BadInput(f"{observed_file}: {error}") from None
        folder, calibrated = save_calibration(result, file, out, sys.argv)
        if write is not None:
            write.write_text(calibrated.read_text(encoding="utf-8"), encoding="utf-8")
        return result, folder, calibrated

    result, folder, calibrated = guarded(work, debug)
    echo_result(result.lines(), folder, quiet, f"calibrated scenario: {write or calibrated}")


def _read_observed_with_extras(path: Path, scenario):
    """The observed series (``read_observed``) with its ``node`` and ``count_from`` columns if present."""
    import pandas as pd

    table = read_observed(path, scenario)
    raw = pd.read_csv(path)
    for column in ("node", "count_from"):
        if column in raw.columns and raw[column].notna().any():
            values = raw[column].dropna().unique()
            if len(values) > 1:
                raise BadInput(f"{path}: column {column} must hold one value, got {sorted(map(str, values))}")
            table[column] = values[0]
    return table


def register(app: typer.Typer) -> None:
    app.command()(bound)
    app.command()(observed)
    app.command()(calibrate)
