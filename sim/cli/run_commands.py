"""The ``run`` and ``report`` commands: replications of one scenario, and the report of a results folder."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.common import (
    BadInput,
    Debug,
    Jobs,
    MaxHours,
    MaxMemory,
    Out,
    Quiet,
    Replications,
    Scheduler,
    Seed,
    Sets,
    check_out,
    check_size,
    echo_result,
    executor_for,
    guarded,
    load,
    progress,
    read_observed,
    report_observations,
)


def run(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    replications: Replications = None,
    seed: Seed = None,
    set_values: Sets = None,
    jobs: Jobs = None,
    out: Out = None,
    table_format: Annotated[str, typer.Option("--format", help="Format of the daily table: parquet or csv.")] = "parquet",
    observed: Annotated[list[str] | None, typer.Option(
        "--observed", help="Observed figures to set beside the projection: a CSV (date,value[,series,kind,node,"
                           "count_from,...]) or bundled:NAME (bordersim observed lists them); repeatable. "
                           "Default: the scenario's observed: list.")] = None,
    trace: Annotated[bool, typer.Option("--trace", help="Also write per-household timestamps (trace.parquet).")] = False,
    report: Annotated[bool, typer.Option("--report", help="Also write figures and report.html into the folder.")] = False,
    every: Annotated[str, typer.Option("--every", help="Projection and needs rows every week (default), at "
                                                       "month ends (needs: per month) or every day: week, "
                                                       "month or day.")] = "week",
    fluid: Annotated[bool, typer.Option("--fluid", help="The deterministic fluid path instead of replications: "
                                                        "expected values in well under a second, no P(target).")] = False,
    scheduler: Scheduler = None,
    max_memory: MaxMemory = None,
    max_hours: MaxHours = 1.0,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Run replications of a scenario and write its results folder and summary."""
    def work():
        if table_format not in ("parquet", "csv"):
            raise BadInput(f"--format must be parquet or csv, got {table_format!r}")
        if every not in ("week", "month", "day"):
            raise BadInput(f"--every must be week, month or day, got {every!r}")
        check_out(out)
        if fluid:
            _check_fluid_options(replications, jobs, seed, trace, scheduler, report)
        _check_observed_option(observed)
        scenario = load(file, set_values or [])
        observed_table = read_observed(Path(observed[0]), scenario) if _one_csv(observed) else None
        series = report_observations(observed or scenario.observed or [], scenario)
        if fluid:  # the answer first (numpy only), then the folder (pandas)
            from sim.analytic.fluid.result import fluid_headline_lines, fluid_result, fluid_run

            outcome, started, seconds = fluid_run(scenario)
            if not quiet:
                typer.echo("\n".join(fluid_headline_lines(outcome, scenario)))
            result = fluid_result(scenario, outcome, started, seconds, observed_table, sys.argv, every)
            _add_observed_fit(result, scenario, series)
            return [], result.save(out, format=table_format)
        check_size([scenario], replications, jobs, max_memory, max_hours, "run", trace=trace)
        from sim.runs.study import run as run_study  # pandas: imported only once the input is known good

        with executor_for(jobs, scheduler) as executor, progress(quiet, "replications") as advance:
            result = run_study(scenario, replications=replications, seed=seed, jobs=jobs, progress=advance,
                               trace=trace, observed=observed_table, command_line=sys.argv, executor=executor,
                               every=every)
        _add_observed_fit(result, scenario, series)
        folder = result.save(out, format=table_format)
        return result.headline.lines(), folder

    lines, folder = guarded(work, debug)
    echo_result(lines, folder, quiet)
    if report:
        from sim.outputs.report import write_report

        typer.echo(f"report: {guarded(lambda: write_report(folder), debug)}")


def _check_observed_option(observed: list[str] | None) -> None:
    """An unknown ``--observed bundled:NAME`` is refused before anything runs, with what is allowed."""
    from sim.scenario.observed_sources import bundled_problem

    problem = next(filter(None, map(bundled_problem, observed or [])), None)
    if problem:
        raise BadInput(f"--observed: {problem}")


def _one_csv(observed: list[str] | None) -> bool:
    """``--observed`` given once, with a CSV file: as before, its running totals also go beside
    ``projection.csv`` (column ``observed``) and into the summary's ARD."""
    from sim.scenario.observed_sources import BUNDLED_PREFIX

    return bool(observed) and len(observed) == 1 and not observed[0].startswith(BUNDLED_PREFIX)


def _add_observed_fit(result, scenario, series) -> None:
    """``observed_fit.csv``: each observed figure beside the run's band of the same quantity."""
    if series:
        from sim.studies.observed_fit import fit_table

        result.extra_tables["observed_fit"] = fit_table(result.outcomes, scenario, series)


def _check_fluid_options(replications, jobs, seed, trace, scheduler, report) -> None:
    """``--fluid`` runs one deterministic path: options about replications mean nothing there (and
    the report reads probabilities over replications)."""
    given = [name for name, value in (("-n/--replications", replications), ("--jobs", jobs), ("--seed", seed),
                                      ("--trace", trace or None), ("--scheduler", scheduler),
                                      ("--report", report or None)) if value is not None]
    if given:
        raise BadInput(f"--fluid computes one deterministic path: drop {', '.join(given)}")


def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A results folder (written by bordersim run).")],
    debug: Debug = False,
) -> None:
    """Draw the figures of a results folder and write its self-contained report.html."""
    def work():
        from sim.outputs.report import NotARunFolder, write_report
        from sim.outputs.results import MANIFEST_NAME, changed_files

        try:
            return write_report(run_dir)
        except NotARunFolder as error:
            raise BadInput(str(error)) from None
        except Exception as error:
            # A folder is the user's input too: if its files are no longer those written, say which;
            # if they are, the failure is ours (exit 1).
            changed = changed_files(run_dir)
            if changed == [MANIFEST_NAME]:
                raise BadInput(f"{run_dir}: cannot read it ({type(error).__name__}: {str(error)[:80]}) and its "
                               f"{MANIFEST_NAME} lists no checksums to tell what changed; was it written by "
                               "bordersim?") from None
            if changed:
                raise BadInput(f"{run_dir}: {', '.join(changed)} changed since the folder was written (SHA-256 "
                               f"differs from {MANIFEST_NAME}); restore them or run again") from None
            raise

    typer.echo(f"report: {guarded(work, debug)}")


def register(app: typer.Typer) -> None:
    app.command()(run)
    app.command("report")(report_command)
