"""The ``bordersim`` command: parse arguments, call the library, print. Nothing else lives here.

Exit codes: 0 success, 2 bad input (scenario, arguments, files), 1 internal error. Errors are one
line per problem on stderr; ``--debug`` adds the traceback.
"""
from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Discrete-event simulation of departures through transit camps and the Torkham and Chaman "
         "crossings: can N people cross by date D, and what limits it?",
)

BAD_INPUT = 2
INTERNAL_ERROR = 1


class BadInput(Exception):
    """A problem with what the user gave us (exit 2); each line of the message is one problem."""


def _fail(message: str, code: int, debug: bool = False) -> None:
    """Print one line per problem and exit with ``code`` (the same code with --debug, which adds
    the traceback of the exception being handled)."""
    if debug:
        traceback.print_exc()
    for line in message.splitlines() or [message]:
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(code)


def _guarded(function, debug: bool):
    """Run ``function`` mapping bad input to exit 2 and anything else to exit 1 (trace with --debug)."""
    from sim.scenario import ScenarioError

    try:
        return function()
    except (ScenarioError, BadInput, FileExistsError) as error:
        _fail(str(error), BAD_INPUT, debug)
    except KeyboardInterrupt:
        _fail("interrupted: nothing was written", 130, debug)
    except Exception as error:  # noqa: BLE001 - the last line of defence of a command-line tool
        _fail(f"internal error: {type(error).__name__}: {error} (run again with --debug for the traceback)",
              INTERNAL_ERROR, debug)


def _load(path: Path, overrides: list[str]):
    from sim.scenario import load_scenario

    if not path.is_file():
        raise BadInput(f"{path}: no such scenario file")
    scenario = load_scenario(path, overrides)
    for warning in scenario.warnings:
        typer.echo(f"warning: {warning}", err=True)
    return scenario


def _print_version(requested: bool) -> None:
    if requested:
        from sim import __version__

        typer.echo(f"bordersim {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main_options(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version and exit.")] = False,
) -> None:
    """Discrete-event simulation of departures through transit camps and the Torkham and Chaman
    crossings: can N people cross by date D, and what limits it?"""


Debug = Annotated[bool, typer.Option("--debug", help="Show tracebacks.")]
Quiet = Annotated[bool, typer.Option("-q", "--quiet", help="No progress bar or summary.")]
Sets = Annotated[list[str] | None, typer.Option("--set", help="Override a value: key.path=value (repeatable).")]


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Scenario files to check.")],
    show: Annotated[bool, typer.Option("--show", help="Print the resolved scenario (after extends).")] = False,
    set_values: Sets = None,
    debug: Debug = False,
) -> None:
    """Check scenario files: every problem of a file at once, located by file, line and key path."""
    from sim.scenario import ScenarioError

    failed = False
    for path in files:
        try:
            scenario = _load(path, set_values or [])
        except (ScenarioError, BadInput) as error:
            if debug:
                raise
            failed = True
            for line in str(error).splitlines():
                typer.echo(line, err=True)
            continue
        if show:
            typer.echo(scenario.to_yaml())
        else:
            typer.echo(f"{path}: ok ({scenario.name})")
    if failed:
        raise typer.Exit(BAD_INPUT)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the scenario format (for editors)."""
    from sim.scenario import Scenario

    typer.echo(json.dumps(Scenario.model_json_schema(by_alias=True), indent=2))


@app.command()
def run(
    file: Annotated[Path, typer.Argument(help="Scenario file.")],
    replications: Annotated[int | None, typer.Option("-n", "--replications", min=1,
                                                        help="Replications (default: the scenario's run.replications).")] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Seed (default: the scenario's run.seed).")] = None,
    set_values: Sets = None,
    jobs: Annotated[int | None, typer.Option("-j", "--jobs", min=1, help="Worker processes (default: all cores).")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Results folder (must not exist, or be empty).")] = None,
    table_format: Annotated[str, typer.Option("--format", help="Format of the daily table: parquet or csv.")] = "parquet",
    observed: Annotated[Path | None, typer.Option("--observed", help="Observed series CSV: date,value[,series,kind].")] = None,
    trace: Annotated[bool, typer.Option("--trace", help="Also write per-household timestamps (trace.parquet).")] = False,
    report: Annotated[bool, typer.Option("--report", help="Also write figures and report.html into the folder.")] = False,
    scheduler: Annotated[str | None, typer.Option(
        "--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (default: $DASK_SCHEDULER_ADDRESS; "
                            "none: local processes).")] = None,
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Run replications of a scenario and write its results folder and summary."""
    def work():
        if table_format not in ("parquet", "csv"):
            raise BadInput(f"--format must be parquet or csv, got {table_format!r}")
        if out is not None and out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise BadInput(f"--out {out}: exists and is not empty; results are never overwritten")
        scenario = _load(file, set_values or [])
        observed_table = _read_observed(observed) if observed else None
        from sim.executors import ExecutorError, make_executor
        from sim.study import run as run_study  # pandas: imported only once the input is known good

        try:
            executor = make_executor(jobs, scheduler)
        except ExecutorError as error:
            raise BadInput(str(error)) from None
        with executor, _progress(quiet, "replications") as advance:
            result = run_study(scenario, replications=replications, seed=seed, jobs=jobs, progress=advance,
                               trace=trace, observed=observed_table, command_line=sys.argv, executor=executor)
        folder = result.save(out, format=table_format)
        return result, folder

    result, folder = _guarded(work, debug)
    if not quiet:
        for line in result.headline.lines():
            typer.echo(line)
    typer.echo(f"results: {folder}")
    if report:
        from sim.report import write_report

        typer.echo(f"report: {_guarded(lambda: write_report(folder), debug)}")


def _read_observed(path: Path):
    from sim.observed import read_observed

    try:
        return read_observed(path)
    except (OSError, ValueError) as error:
        raise BadInput(f"{path}: {error}") from None


class _progress:
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


@app.command("report")
def report_command(
    run_dir: Annotated[Path, typer.Argument(help="A results folder (written by bordersim run).")],
    debug: Debug = False,
) -> None:
    """Draw the figures of a results folder and write its self-contained report.html."""
    def work():
        from sim.report import NotARunFolder, write_report

        try:
            return write_report(run_dir)
        except NotARunFolder as error:
            raise BadInput(str(error)) from None

    typer.echo(f"report: {_guarded(work, debug)}")


# compare, sweep, sensitivity (sim/cli_experiments.py); imported last: it uses the helpers above.
from sim.cli_experiments import register as _register_experiments

_register_experiments(app)

# bound, observed, calibrate (sim/cli_credibility.py); imported last for the same reason.
from sim.cli_credibility import register as _register_credibility

_register_credibility(app)


def _click_exceptions():
    """Click's exception classes as typer uses them (recent typer vendors click as typer._click)."""
    try:
        from typer._click import exceptions
    except ImportError:  # pragma: no cover - older typer on the real click
        from click import exceptions
    return exceptions


def main() -> None:
    """Entry point. Usage errors (a bad option value, a missing argument) become one line and exit 2,
    like every other bad input, instead of click's boxed usage text."""
    exceptions = _click_exceptions()
    try:
        # Without standalone mode click returns a command's exit code instead of exiting.
        code = app(standalone_mode=False)
    except exceptions.UsageError as error:
        if type(error).__name__ == "NoArgsIsHelpError" and error.ctx is not None:
            typer.echo(error.ctx.get_help())
            sys.exit(0)
        context = f"{error.ctx.command_path}: " if error.ctx is not None else ""
        typer.echo(f"error: {context}{error.format_message()} (see --help)", err=True)
        sys.exit(BAD_INPUT)
    except typer.Abort:
        typer.echo("error: interrupted: nothing was written", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)
