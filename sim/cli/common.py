"""What every ``bordersim`` command shares: exit codes, one-line errors, loading a scenario,
the common options, the progress bar.

Exit codes: 0 success, 2 bad input (scenario, arguments, files), 1 internal error, 3 a posterior
calibration that did not converge (nothing written), 130 interrupted.
Errors are one line per problem on stderr; ``--debug`` adds the traceback.
"""
from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

BAD_INPUT = 2
INTERNAL_ERROR = 1
UNCONVERGED = 3


class BadInput(Exception):
    """A problem with what the user gave us (exit 2); each line of the message is one problem."""


def fail(message: str, code: int, debug: bool = False) -> None:
    """Print one line per problem and exit with ``code`` (the same code with --debug, which adds
    the traceback of the exception being handled)."""
    if debug:
        traceback.print_exc()
    for line in message.splitlines() or [message]:
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(code)


def guarded(function, debug: bool):
    """Run ``function`` mapping bad input to exit 2 and anything else to exit 1 (trace with --debug)."""
    try:
        return function()
    except KeyboardInterrupt:
        fail("interrupted: nothing was written", 130, debug)
    except Exception as error:  # noqa: BLE001 - the last line of defence of a command-line tool
        if is_bad_input(error):
            fail(str(error), BAD_INPUT, debug)
        fail(f"internal error: {type(error).__name__}: {error} (run again with --debug for the traceback)",
             INTERNAL_ERROR, debug)


def bad_input_from(function, *errors: type[Exception]):
    """``function()`` with ``errors`` (a study's input errors, one line each) turned into bad input."""
    try:
        return function()
    except errors as error:
        raise BadInput(str(error)) from None


def is_bad_input(error: BaseException) -> bool:
    """Whether ``error`` is the user's to fix (exit 2): bad input, an existing destination, or a
    results folder that could not be written (a full disk, a read-only folder).

    The classes are looked up only in modules already imported (an error cannot come from a module
    that was never loaded), so that this costs no import: a Ctrl-C must never land in one here."""
    kinds: list[type] = [BadInput, FileExistsError]
    for module, name in (("sim.scenario.errors", "ScenarioError"), ("sim.outputs.results", "ResultsWriteError")):
        loaded = sys.modules.get(module)
        if loaded is not None:
            kinds.append(getattr(loaded, name))
    return isinstance(error, tuple(kinds))


def load(path: Path, overrides: list[str]):
    from sim.scenario import load_scenario

    if not path.is_file():
        raise BadInput(f"{path}: no such scenario file")
    scenario = load_scenario(path, overrides)
    for warning in scenario.warnings:
        typer.echo(f"warning: {warning}", err=True)
    return scenario


Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar or summary.")]
Sets = Annotated[list[str] | None, typer.Option("--set", help="Override a value: key.path=value (repeatable).")]


Replications = Annotated[int | None, typer.Option("-n", "--replications", min=1,
                                                     help="Replications (default: the scenario's run.replications).")]
Seed = Annotated[int | None, typer.Option("--seed", min=0, help="Seed (default: the scenario's run.seed).")]
Jobs = Annotated[int | None, typer.Option("-j", "--jobs", min=1, help="Worker processes (default: all cores).")]
Scheduler = Annotated[str | None, typer.Option(
    "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: $DASK_SCHEDULER_ADDRESS; "
                        "none: local processes).")]
Out = Annotated[Path | None, typer.Option("--out", help="Results folder (must not exist, or be empty).")]
MaxMemory = Annotated[str | None, typer.Option(
    "--max-memory", help="Refuse a run estimated to need more memory, e.g. 8G or 512M "
                         "(default: the memory available when it starts).")]
MaxHours = Annotated[float, typer.Option(
    "--max-hours", min=0, help="Refuse a run estimated to take longer than this many hours (inf: no limit).")]


def check_size(scenarios, replications: int | None, jobs: int | None, max_memory: str | None, max_hours: float,
               command: str, keep_daily: bool = True, trace: bool = False) -> None:
    """Refuse (exit 2, with the estimate and what to do) runs too big for this machine or too long
    (:mod:`sim.runs.size_guard`), before any replication starts."""
    from sim.runs import size_guard
    from sim.runs.executors import default_jobs

    try:
        limit = size_guard.parse_bytes(max_memory) if max_memory is not None else None
    except ValueError as error:
        raise BadInput(str(error)) from None
    workers = default_jobs() if jobs is None else jobs
    estimates = [size_guard.estimate(scenario, scenario.run.replications if replications is None else replications,
                                     workers, trace=trace, keep_daily=keep_daily) for scenario in scenarios]
    try:
        size_guard.check(size_guard.combine(estimates), limit, max_hours if max_hours != float("inf") else None,
                         command)
    except size_guard.RunTooLarge as error:
        raise BadInput(str(error)) from None


def check_out(out: Path | None) -> None:
    """Results are never overwritten: ``--out`` must not exist, or be an empty folder."""
    if out is not None and out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInput(f"--out {out}: exists and is not empty; results are never overwritten")
    check_writable(out if out is not None else Path("results"), "--out" if out is not None else "results")


def check_writable(folder: Path, what: str) -> None:
    """Fail before any work when ``folder`` could not be created or written (its nearest existing
    ancestor is not a writable directory), rather than after an hour of simulation."""
    probe = folder.absolute()
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        raise BadInput(f"{what} {folder}: {probe} is not a folder; results cannot be written there")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise BadInput(f"{what} {folder}: cannot write into {probe} (permission denied or read-only); "
                       "choose another --out")


def executor_for(jobs: int | None, scheduler: str | None):
    """The executor of ``-j``/``--scheduler`` (:func:`sim.runs.executors.make_executor`); bad addresses are bad input."""
    from sim.runs.executors import ExecutorError, make_executor

    try:
        return make_executor(jobs, scheduler)
    except ExecutorError as error:
        raise BadInput(str(error)) from None


def run_resumable(run, jobs: int | None, scheduler: str | None, quiet: bool, what: str, debug: bool, stopped):
    """``run(executor, advance)`` on the executor of ``-j``/``--scheduler`` with a progress bar over
    ``what``, for a study that keeps its finished work in a ``.partial`` folder: on Ctrl-C (or
    SIGTERM) it exits 130 with ``stopped()``, the line saying what was kept and how to resume."""
    def work():
        with executor_for(jobs, scheduler) as executor, progress(quiet, what) as advance:
            try:
                return run(executor, advance)
            except KeyboardInterrupt:
                return None

    result = guarded(work, debug)
    if result is None:
        fail(stopped(), 130)
    return result


def read_observed(path: Path, scenario=None):
    """The ``--observed`` CSV of ``run``; with ``scenario``, a figure above all its people is refused."""
    from sim.outputs.observed import read_observed

    most_people = None
    if scenario is not None:
        from sim.studies.observation import scenario_people

        most_people = scenario_people(scenario)
    try:
        return read_observed(path, most_people)
    except (OSError, ValueError) as error:
        raise BadInput(f"{path}: {error}") from None


def report_observations(sources: list[str], scenario) -> list:
    """The observed series a run's report sets beside the projection (``--observed`` sources, or the
    scenario's ``observed:`` list): those dated within the period, checked against the scenario."""
    if not sources:
        return []
    from sim.studies.observation import ObservationError  # pandas: only when there are figures to read
    from sim.studies.observed_fit import report_series

    try:
        series, left_out = report_series(sources, scenario)
    except ObservationError as error:
        raise BadInput(str(error)) from None
    if left_out:
        typer.echo(f"warning: {left_out} observed figure{'s' if left_out > 1 else ''} left out of observed_fit.csv: "
                   f"they count days outside the period {scenario.period.start}..{scenario.period.end}", err=True)
    return series


class progress:
    """A rich progress bar over tasks, off when quiet or when stderr is not a terminal."""

    def __init__(self, quiet: bool, what: str) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.what = what
        self.bar = None
        self.task = None

    def __enter__(self):
        if not self.enabled:
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(TextColumn(f"[bold]{self.what}"), BarColumn(), MofNCompleteColumn(),
                            TimeRemainingColumn(), console=Console(stderr=True), transient=True)
        self.bar.__enter__()
        self.task = None

        def advance(done: int, total: int | None = None) -> None:
            if self.task is None:
                self.task = self.bar.add_task(self.what, total=total)
            self.bar.update(self.task, completed=done, total=total)

        return advance

    def __exit__(self, *exc_info) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc_info)
            self.bar = None

    def note(self, text: str) -> None:
        """A line on stderr, above the bar while it shows."""
        if self.bar is not None:
            self.bar.console.print(text, highlight=False, markup=False)
        else:
            typer.echo(text, err=True)


def echo_result(lines: list[str], folder: Path, quiet: bool, *notes: str) -> None:
    """A command's answer on stdout: its summary lines (unless quiet), any notes, then the folder."""
    if not quiet:
        for line in lines:
            typer.echo(line)
    for note in notes:
        typer.echo(note)
    typer.echo(f"results: {folder}")
