"""The ``compare``, ``sweep`` and ``sensitivity`` commands (registered on :data:`sim.cli.app`).

Thin like the rest of the CLI: parse, call :mod:`sim.studies.compare`, :mod:`sim.studies.sweep` or
:mod:`sim.studies.sensitivity` on an executor from :func:`sim.runs.executors.make_executor`, print.
"""
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
    run_resumable,
)

Daily = Annotated[bool, typer.Option("--daily", help="Also write the daily tables (memory grows with replications).")]
Ranges = Annotated[list[str] | None, typer.Option("--range", help="key.path=low:high (repeatable).")]


def _bad_sweep_input(function):
    from sim.studies.sweep import SweepError

    try:
        return function()
    except SweepError as error:
        raise BadInput(str(error)) from None


def compare(
    files: Annotated[list[Path], typer.Argument(help="Scenario files; each is compared with the first.")],
    replications: Replications = None,
    seed: Seed = None,
    set_values: Sets = None,
    jobs: Jobs = None,
    scheduler: Scheduler = None,
    out: Out = None,
    daily: Daily = False,
    max_memory: MaxMemory = None,
    max_hours: MaxHours = 1.0,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Run scenarios with common random numbers; key metrics side by side and paired differences (compare.csv)."""
    def work():
        if len(files) < 2:
            raise BadInput("compare needs at least two scenario files")
        check_out(out)
        scenarios = [load(path, set_values or []) for path in files]
        check_size(scenarios, replications, jobs, max_memory, max_hours, "compare", keep_daily=daily)
        from sim.studies.compare import compare as run_compare

        with executor_for(jobs, scheduler) as executor, progress(quiet, "tasks") as advance:
            result = run_compare(scenarios, replications, seed, executor, advance, daily, sys.argv)
        return result, result.save(out)

    result, folder = guarded(work, debug)
    echo_result(result.lines(), folder, quiet)


def sweep(
    file: Annotated[Path | None, typer.Argument(help="Scenario file (not with --resume).")] = None,
    vary: Annotated[list[str] | None, typer.Option(
        "--vary", help="key.path=start:stop:step or key.path=v1,v2,... (repeatable; full grid).")] = None,
    lhs: Annotated[int | None, typer.Option("--lhs", min=1, help="Latin hypercube of N points over the --range boxes.")] = None,
    ranges: Ranges = None,
    resume: Annotated[Path | None, typer.Option(
        "--resume", help="Finish an interrupted sweep: its <folder>.partial.")] = None,
    replications: Replications = None,
    seed: Seed = None,
    set_values: Sets = None,
    jobs: Jobs = None,
    scheduler: Scheduler = None,
    out: Out = None,
    daily: Daily = False,
    max_memory: MaxMemory = None,
    max_hours: MaxHours = 1.0,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Run a scenario over a grid (--vary) or a Latin hypercube (--lhs N --range); one row per point (sweep.csv)."""
    from sim.studies import sweep as sweeps

    if resume is not None:
        if file is not None or vary or lhs or ranges or set_values or out or replications or seed is not None or daily:
            guarded(lambda: _reject("--resume takes the sweep's .partial folder only (and -j/--scheduler/-q)"), debug)
        sweep_plan = guarded(lambda: _bad_sweep_input(lambda: sweeps.load_plan(resume)), debug)
    else:
        sweep_plan = guarded(lambda: _bad_sweep_input(lambda: _new_sweep_plan(
            file, vary, lhs, ranges, replications, seed, set_values, out, daily, (jobs, max_memory, max_hours))),
            debug)

    result = run_resumable(
        lambda executor, advance: _bad_sweep_input(lambda: sweeps.run_sweep(sweep_plan, executor, advance)),
        jobs, scheduler, quiet, "tasks", debug,
        lambda: (f"interrupted: {len(sweep_plan.done)} of {len(sweep_plan.points)} points kept in "
                 f"{sweep_plan.partial}; finish with: bordersim sweep --resume {sweep_plan.partial}"))
    resumed = ([f"Resumed: {result.resumed_points} of {len(result.table)} points were already done"]
               if result.resumed_points else [])
    echo_result(resumed + sweeps.summary_lines(result.table, sweep_plan.keys), result.folder, quiet)


def _reject(message: str):
    raise BadInput(message)


def _new_sweep_plan(file, vary, lhs, ranges, replications, seed, set_values, out, daily, limits):
    """The plan of a new sweep: its points (a grid or a Latin hypercube), every one checked valid
    before anything is written."""
    from sim.studies import sweep as sweeps

    if file is None:
        raise BadInput("give a scenario file, or --resume FOLDER")
    if vary and (lhs or ranges):
        raise BadInput("use either --vary (a grid) or --lhs N with --range (a Latin hypercube), not both")
    if not vary and lhs is None:
        raise BadInput("nothing to sweep: give --vary key=a:b:step, or --lhs N --range key=low:high")
    if ranges and lhs is None:
        raise BadInput("--range needs --lhs N (or use --vary for a grid)")
    check_out(out)
    scenario = load(file, set_values or [])
    chosen_seed = scenario.run.seed if seed is None else seed
    if vary:
        points, design = sweeps.grid_points(scenario, vary), "grid"
    else:
        points, design = sweeps.lhs_points(scenario, ranges or [], lhs, chosen_seed), f"lhs {lhs}"
    variants = sweeps.build_variants(scenario, points)
    jobs, max_memory, max_hours = limits
    check_size(variants, replications, jobs, max_memory, max_hours, "sweep", keep_daily=daily)
    return sweeps.plan_sweep(scenario, points, seed=chosen_seed,
                             replications=scenario.run.replications if replications is None else replications,
                             design=design, daily=daily, out=out, command_line=sys.argv)


def sensitivity(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    ranges: Ranges = None,
    replications: Replications = None,
    seed: Seed = None,
    set_values: Sets = None,
    jobs: Jobs = None,
    scheduler: Scheduler = None,
    out: Out = None,
    daily: Daily = False,
    max_memory: MaxMemory = None,
    max_hours: MaxHours = 1.0,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """One-at-a-time low/high runs with common random numbers: a tornado table (sensitivity.csv)."""
    def work():
        if not ranges:
            raise BadInput("give at least one --range key.path=low:high")
        check_out(out)
        scenario = load(file, set_values or [])
        # The scenario as it is, then each range at its low and its high value.
        check_size([scenario] * (1 + 2 * len(ranges)), replications, jobs, max_memory, max_hours, "sensitivity",
                   keep_daily=daily)
        from sim.studies.sensitivity import sensitivity as run_sensitivity

        with executor_for(jobs, scheduler) as executor, progress(quiet, "tasks") as advance:
            result = _bad_sweep_input(lambda: run_sensitivity(scenario, ranges, replications, seed, executor,
                                                              advance, daily, sys.argv))
        return result, result.save(out)

    result, folder = guarded(work, debug)
    echo_result(result.lines(), folder, quiet)


def register(app: typer.Typer) -> None:
    app.command()(compare)
    app.command()(sweep)
    app.command()(sensitivity)
